//! The Lambda side of Itinera: every binary in `src/bin/` is one function of `template.yaml` and
//! calls [`run`] with its own name.
//!
//! [`run`] has the one shape every entry point shares: read typed config (failing fast with the
//! variable's name), start JSON telemetry, build the DynamoDB client once per execution
//! environment, then serve events. An event becomes an [`ApiRequest`] here and goes through the
//! same pipeline the local API runs; API Gateway has already routed it, so a route function runs
//! its route directly with the path parameters API Gateway captured.

pub mod authorizer;
pub mod background;
pub mod keys;

use std::sync::Arc;

use bytes::Bytes;
use itinera::api::{
    Api, ApiRequest, Credentials, CursorCodec, PREFLIGHT_FUNCTION, PathParams, RequestBody, Route,
    Services, route_of_function,
};
use itinera::config::{ApiConfig, ConfigError};
use itinera::ratelimit::RateLimitConfig;
use itinera_aws::{
    DynamoDbConfig, DynamoDbStore, SqsQueue, SqsQueueConfig, build_client, build_sqs_client,
};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, service_fn};

/// What a function serves.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    /// One route of the table, already routed by API Gateway.
    Route(&'static Route),
    /// The preflight function, which routes by the table itself.
    Router,
}

impl Target {
    /// The target of the HTTP function named `function` (the authorizer is not one: it answers
    /// API Gateway, not clients).
    pub fn of(function: &str) -> Option<Self> {
        if function == PREFLIGHT_FUNCTION {
            return Some(Self::Router);
        }
        route_of_function(function).map(Self::Route)
    }

    fn signs_tokens(self) -> bool {
        matches!(self, Self::Route(route) if route.signs_tokens)
    }

    fn enqueues_jobs(self) -> bool {
        matches!(self, Self::Route(route) if route.enqueues_jobs)
    }
}

/// Starts the function `function`: config, telemetry, clients, then the Lambda runtime loop.
pub async fn run(function: &str) -> Result<(), lambda_http::Error> {
    let target = Target::of(function)
        .ok_or_else(|| format!("{function} is neither a route nor a platform function"))?;
    let config = ApiConfig::from_env();
    itinera::telemetry::init(
        config
            .as_ref()
            .map_or("info", |config| config.log_level.as_str()),
    );
    let api = match build_api(config, target).await {
        Ok(api) => Arc::new(api),
        Err(error) => {
            tracing::error!(%error, "configuration is invalid; the function cannot start");
            return Err(error.into());
        }
    };
    lambda_http::run(service_fn(move |event: Request| {
        let api = Arc::clone(&api);
        async move { Ok::<_, lambda_http::Error>(handle_event(&api, target, event).await) }
    }))
    .await
}

/// Why a function could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Api(#[from] ConfigError),
    #[error(transparent)]
    DynamoDb(#[from] itinera_aws::ConfigError),
    #[error(transparent)]
    Keys(#[from] keys::KeyLoadError),
}

/// The pipeline over DynamoDB, from the process environment.
async fn build_api(
    config: Result<ApiConfig, ConfigError>,
    target: Target,
) -> Result<Api, StartupError> {
    let config = config?;
    let limits = RateLimitConfig::from_env()?;
    let key = config
        .cursor_signing_key
        .ok_or_else(|| ConfigError::new("CURSOR_SIGNING_KEY", "must be set"))?;
    let dynamodb = DynamoDbConfig::from_env()?;
    let client = build_client(&dynamodb).await;
    let store = DynamoDbStore::new(client, dynamodb.table_name);
    let mut services = Services::new(Arc::new(store), CursorCodec::new(key.as_bytes()))
        .with_rate_limits(limits)
        .with_booking_settings(config.bookings);
    if target.enqueues_jobs() {
        let sqs = SqsQueueConfig::from_env()?;
        let queue = SqsQueue::from_config(build_sqs_client(&sqs).await, &sqs);
        services = services.with_job_queue(Arc::new(queue));
    }
    if target.signs_tokens() {
        let issuer = keys::load_token_keys(&[keys::KeyUse::Issue])
            .await?
            .token_issuer()?;
        services = services.with_token_issuer(issuer);
    }
    Ok(Api::new(services, config.cors))
}

/// Runs one API Gateway event through the pipeline.
pub async fn handle_event(api: &Api, target: Target, event: Request) -> http::Response<Body> {
    let (request, params) = to_api_request(event);
    let response = match target {
        Target::Route(route) => api.handle_route(route, params, request).await,
        Target::Router => api.handle(request).await,
    };
    to_lambda_response(response)
}

/// Translates API Gateway's request: its request id and source IP come from the request context,
/// never from client headers; the path is the one API Gateway matched, without the stage.
fn to_api_request(event: Request) -> (ApiRequest, PathParams) {
    let context = event.request_context_ref();
    let (request_id, client_ip) = match context {
        Some(RequestContext::ApiGatewayV1(context)) => (
            context.request_id.clone(),
            context.identity.source_ip.clone(),
        ),
        _ => (None, None),
    };
    let request_id = request_id
        .or_else(|| {
            event
                .lambda_context_ref()
                .map(|context| context.request_id.clone())
        })
        .unwrap_or_default();
    let params = PathParams::new(
        event
            .path_parameters_ref()
            .map(|params| {
                params
                    .iter()
                    .map(|(name, value)| (name.to_owned(), value.to_owned()))
                    .collect()
            })
            .unwrap_or_default(),
    );
    let credentials = match authorizer::principal_from_request(&event) {
        Ok(principal) => Credentials::Verified(Some(principal)),
        Err(authorizer::AuthorizerContextError::Missing) => Credentials::Verified(None),
        Err(error) => {
            tracing::error!(%error, "ignoring an authorizer context that names no principal");
            Credentials::Verified(None)
        }
    };
    let (parts, body) = event.into_parts();
    let body = match body {
        Body::Empty => Bytes::new(),
        Body::Text(text) => Bytes::from(text),
        Body::Binary(bytes) => Bytes::from(bytes),
        _ => Bytes::new(),
    };
    let path = match parts.raw_http_path() {
        "" => parts.uri.path().to_owned(),
        raw => raw.to_owned(),
    };
    let request = ApiRequest {
        method: parts.method,
        path,
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body: RequestBody::Complete(body),
        request_id,
        credentials,
        client_ip,
    };
    (request, params)
}

/// JSON bodies go back as text, anything else as binary (API Gateway base64-encodes it).
fn to_lambda_response(response: http::Response<Bytes>) -> http::Response<Body> {
    let (parts, bytes) = response.into_parts();
    let body = if bytes.is_empty() {
        Body::Empty
    } else {
        match String::from_utf8(bytes.to_vec()) {
            Ok(text) => Body::Text(text),
            Err(error) => Body::Binary(error.into_bytes()),
        }
    };
    http::Response::from_parts(parts, body)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use itinera::api::{AUTHORIZER_FUNCTION, PLATFORM_FUNCTIONS, ROUTES};
    use itinera::background::{BACKGROUND_FUNCTIONS, background_function};

    use super::*;

    #[test]
    fn every_binary_is_a_route_or_platform_function_and_every_route_has_a_binary() {
        let bin = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/bin");
        let binaries: BTreeSet<String> = std::fs::read_dir(bin)
            .unwrap()
            .map(|entry| {
                entry
                    .unwrap()
                    .path()
                    .file_stem()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        let functions: BTreeSet<String> = ROUTES
            .iter()
            .map(|route| route.function)
            .chain(PLATFORM_FUNCTIONS.iter().copied())
            .chain(
                BACKGROUND_FUNCTIONS
                    .iter()
                    .map(|background| background.function),
            )
            .map(str::to_owned)
            .collect();
        assert_eq!(binaries, functions);
        let http_functions = binaries
            .iter()
            .filter(|name| *name != AUTHORIZER_FUNCTION && background_function(name).is_none());
        assert!(
            http_functions
                .into_iter()
                .all(|name| Target::of(name).is_some())
        );
    }
}
