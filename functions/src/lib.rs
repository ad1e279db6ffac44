//! The Lambda side of Itinera: every binary in `src/bin/` is one function of `template.yaml`.
//!
//! A route's binary calls [`run`] with its route's static (`itinera_http::routes::GET_AIRPLANE`),
//! never a name looked up in the table: the binary then refers to that route alone, so the linker
//! keeps its handler and drops every other one, with the code only they use (time-zone data, the
//! booking and account use cases). [`run`] reads the route's flags where the route is a known
//! static, so the clients a route does not use (the SQS queue, the S3 blob store, the token
//! signing key and the SSM client that reads it) are never referenced there either. The preflight function
//! ([`run_preflight`]) routes by the whole table; the background functions are in
//! [`background`], the authorizer in [`authorizer`]. Every function writes its figures as EMF
//! documents to stdout at the end of each invocation ([`metrics`]).
//!
//! Every entry point has one shape: read typed config (failing fast with the variable's name),
//! start JSON telemetry, build the clients once per execution environment, then serve events. An
//! event becomes an [`ApiRequest`] here and goes through the same pipeline the local API runs;
//! API Gateway has already routed it, so a route function runs its route directly with the path
//! parameters API Gateway captured.

pub mod authorizer;
pub mod background;
pub mod keys;
pub mod metrics;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use itinera::auth::TokenIssuer;
use itinera::blobs::BlobStore;
use itinera::config::{ConfigError, SigningKey, env};
use itinera::jobs::JobQueue;
use itinera::payments::{GatewaySetting, Platform};
use itinera::ratelimit::RateLimitConfig;
use itinera_aws::{
    BlobBucketConfig, DynamoDbConfig, DynamoDbStore, S3Blobs, SqsQueue, SqsQueueConfig,
    build_client, build_s3_client, build_sqs_client,
};
use itinera_http::{
    Api, ApiConfig, ApiRequest, Credentials, CursorCodec, PREFLIGHT_FUNCTION, PathParams, ROUTES,
    RequestBody, Route, Services, route_of_function,
};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, service_fn};
use metrics::Publisher;

/// What a function serves.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    /// One route of the table, already routed by API Gateway.
    Route(&'static Route),
    /// The preflight function, which routes by these routes (the whole table) itself.
    Router(&'static [&'static Route]),
}

impl Target {
    /// The target of the HTTP function named `function` (the authorizer is not one: it answers
    /// API Gateway, not clients). It looks the name up in the whole table, so the binaries do
    /// not call it: tests and tools do.
    pub fn of(function: &str) -> Option<Self> {
        if function == PREFLIGHT_FUNCTION {
            return Some(Self::Router(ROUTES));
        }
        route_of_function(function).map(Self::Route)
    }

    /// The routes the function's pipeline knows.
    fn routes(&self) -> &[&'static Route] {
        match self {
            Self::Route(route) => std::slice::from_ref(route),
            Self::Router(routes) => routes,
        }
    }

    /// The function's name in the tables.
    fn function(self) -> &'static str {
        match self {
            Self::Route(route) => route.function,
            Self::Router(_) => PREFLIGHT_FUNCTION,
        }
    }

    fn moves_money(self) -> bool {
        matches!(self, Self::Route(route) if route.moves_money)
    }

    fn pages(self) -> bool {
        matches!(self, Self::Route(route) if route.pages)
    }
}

/// A client being built at startup.
type Connecting<T> = Pin<Box<dyn Future<Output = Result<T, StartupError>>>>;
/// A startup step that builds one client, as a plain function so that a binary whose route does
/// not need the client never names it.
type Connect<T> = fn() -> Connecting<T>;

/// The clients a function builds beyond the store, each only where its route needs it.
struct Adapters {
    /// The SQS queue, for the routes that enqueue jobs.
    job_queue: Option<Connect<Arc<dyn JobQueue>>>,
    /// The token issuer with the private key, for the routes that sign users in.
    token_issuer: Option<Connect<TokenIssuer>>,
    /// The S3 blob store, for the routes that handle files.
    blob_store: Option<Connect<Arc<dyn BlobStore>>>,
}

impl Adapters {
    const NONE: Self = Self {
        job_queue: None,
        token_issuer: None,
        blob_store: None,
    };
}

/// Starts the function of `route`: config, telemetry, clients, then the Lambda runtime loop.
///
/// Inlined into the binary's `main`, where `route` is a known static: its flags are constants
/// there, so the optimiser keeps only the client constructors the route uses.
#[inline(always)]
pub fn run(route: &'static Route) -> Result<(), lambda_http::Error> {
    let adapters = Adapters {
        job_queue: route
            .enqueues_jobs
            .then_some(connect_job_queue as Connect<Arc<dyn JobQueue>>),
        token_issuer: route
            .signs_tokens
            .then_some(load_token_issuer as Connect<TokenIssuer>),
        blob_store: route
            .files
            .is_some()
            .then_some(connect_blob_store as Connect<Arc<dyn BlobStore>>),
    };
    start(Target::Route(route), adapters)
}

/// Starts the preflight function, which answers `OPTIONS` for every path of the table.
pub fn run_preflight() -> Result<(), lambda_http::Error> {
    start(Target::Router(ROUTES), Adapters::NONE)
}

/// The runtime every HTTP function runs on: one thread, as a Lambda environment serves one
/// request at a time.
fn start(target: Target, adapters: Adapters) -> Result<(), lambda_http::Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(serve(target, adapters))
}

async fn serve(target: Target, adapters: Adapters) -> Result<(), lambda_http::Error> {
    let config = ApiConfig::from_env();
    itinera::telemetry::init(
        config
            .as_ref()
            .map_or("info", |config| config.log_level.as_str()),
    );
    let started = async {
        let publisher = Publisher::start(target.function())?;
        Ok::<_, StartupError>((build_api(config, target, adapters).await?, publisher))
    };
    let (api, publisher) = match started.await {
        Ok((api, publisher)) => (Arc::new(api), Arc::new(publisher)),
        Err(error) => {
            tracing::error!(%error, "configuration is invalid; the function cannot start");
            return Err(error.into());
        }
    };
    lambda_http::run(service_fn(move |event: Request| {
        let api = Arc::clone(&api);
        let publisher = Arc::clone(&publisher);
        async move {
            let response = handle_event(&api, target, event).await;
            publisher.publish();
            Ok::<_, lambda_http::Error>(response)
        }
    }))
    .await
}

/// Why a function could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Api(#[from] ConfigError),
    /// A setting of an AWS adapter: the table, the queue or the files bucket.
    #[error(transparent)]
    Aws(#[from] itinera_aws::ConfigError),
    #[error(transparent)]
    Keys(#[from] keys::KeyLoadError),
}

/// The pipeline over DynamoDB, from the process environment.
async fn build_api(
    config: Result<ApiConfig, ConfigError>,
    target: Target,
    adapters: Adapters,
) -> Result<Api, StartupError> {
    let config = config?;
    let limits = RateLimitConfig::from_env()?;
    let cursors = cursor_codec(target, config.cursor_signing_key)?;
    let payments = payment_setting(target, env)?;
    let dynamodb = DynamoDbConfig::from_env()?;
    let client = build_client(&dynamodb).await;
    let store = DynamoDbStore::new(client, dynamodb.table_name);
    let mut services = Services::new(Arc::new(store), cursors)
        .with_rate_limits(limits)
        .with_booking_settings(config.bookings);
    if let Some(setting) = payments {
        tracing::info!(
            gateway = setting.name(),
            "payments go through the configured gateway"
        );
        services = services.with_payment_gateway(setting.gateway());
    }
    if let Some(connect) = adapters.job_queue {
        services = services.with_job_queue(connect().await?);
    }
    if let Some(load) = adapters.token_issuer {
        services = services.with_token_issuer(load().await?);
    }
    if let Some(connect) = adapters.blob_store {
        services = services.with_blob_store(connect().await?);
    }
    Ok(Api::of_routes(services, config.cors, target.routes()))
}

/// The SQS queue jobs go to, as `SqsQueueConfig` reads it from the environment.
fn connect_job_queue() -> Connecting<Arc<dyn JobQueue>> {
    Box::pin(async {
        let sqs = SqsQueueConfig::from_env()?;
        let queue = SqsQueue::from_config(build_sqs_client(&sqs).await, &sqs);
        Ok(Arc::new(queue) as Arc<dyn JobQueue>)
    })
}

/// The files bucket named by `BLOB_BUCKET`; a function whose route handles files does not start
/// without it.
fn connect_blob_store() -> Connecting<Arc<dyn BlobStore>> {
    Box::pin(async {
        let bucket = BlobBucketConfig::from_env()?;
        let blobs = S3Blobs::from_config(build_s3_client().await, &bucket);
        Ok(Arc::new(blobs) as Arc<dyn BlobStore>)
    })
}

/// The issuer of access tokens, with the private key from the environment or SSM.
fn load_token_issuer() -> Connecting<TokenIssuer> {
    Box::pin(async {
        let keys = keys::load_token_keys(&[keys::KeyUse::Issue]).await?;
        Ok(keys.token_issuer()?)
    })
}

/// The cursor codec of `target`. A function that pages needs `CURSOR_SIGNING_KEY`, which every
/// instance shares; the template gives the key to those functions only, and the others sign
/// nothing, so they hold a throwaway key of their own.
fn cursor_codec(target: Target, key: Option<SigningKey>) -> Result<CursorCodec, ConfigError> {
    match (target.pages(), key) {
        (true, Some(key)) => Ok(CursorCodec::new(key.as_bytes())),
        (true, None) => Err(ConfigError::new(
            "CURSOR_SIGNING_KEY",
            "must be set for a function that answers lists in pages",
        )),
        (false, _) => Ok(CursorCodec::new(SigningKey::random().as_bytes())),
    }
}

/// The payment gateway `target` must use, read through `lookup`: `None` for a function that moves
/// no money (it keeps the gateway that refuses everything); for one that does, the valid
/// `PAYMENT_GATEWAY` setting or the error that stops it from starting.
fn payment_setting(
    target: Target,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Option<GatewaySetting>, ConfigError> {
    target
        .moves_money()
        .then(|| GatewaySetting::from_lookup(lookup, Platform::Aws))
        .transpose()
}

/// Runs one API Gateway event through the pipeline.
pub async fn handle_event(api: &Api, target: Target, event: Request) -> http::Response<Body> {
    let (request, params) = to_api_request(event);
    let response = match target {
        Target::Route(route) => api.handle_route(route, params, request).await,
        Target::Router(_) => api.handle(request).await,
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

    use itinera::background::{BACKGROUND_FUNCTIONS, background_function};
    use itinera_http::{AUTHORIZER_FUNCTION, PLATFORM_FUNCTIONS, ROUTES};

    use super::*;

    fn lookup(vars: &[(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        let vars = vars.to_vec();
        move |name| {
            vars.iter()
                .find(|(variable, _)| *variable == name)
                .map(|(_, value)| (*value).to_owned())
        }
    }

    #[test]
    fn a_function_that_moves_money_refuses_to_start_without_a_valid_gateway_setting() {
        let test_stage = [("PAYMENT_GATEWAY", "test-cards"), ("STAGE_KIND", "test")];
        for route in ROUTES {
            let target = Target::Route(route);
            let unset = payment_setting(target, lookup(&[]));
            let on_production = payment_setting(
                target,
                lookup(&[
                    ("PAYMENT_GATEWAY", "test-cards"),
                    ("STAGE_KIND", "production"),
                ]),
            );
            let on_test = payment_setting(target, lookup(&test_stage)).unwrap();
            if route.moves_money {
                for refused in [unset, on_production] {
                    let error = refused.expect_err(route.function);
                    assert_eq!(error.variable, "PAYMENT_GATEWAY", "{}", route.function);
                }
                assert_eq!(on_test, Some(GatewaySetting::TestCards));
            } else {
                assert_eq!(unset.unwrap(), None, "{}", route.function);
                assert_eq!(on_test, None, "{}", route.function);
            }
        }
        let money: Vec<&str> = ROUTES
            .iter()
            .filter(|route| route.moves_money)
            .map(|route| route.function)
            .collect();
        for function in ["pay-booking", "cancel-booking"] {
            assert!(money.contains(&function), "{function} charges or refunds");
        }
    }

    #[tokio::test]
    async fn a_function_that_handles_files_refuses_to_start_without_its_bucket() {
        // The tests never set BLOB_BUCKET, as a function the template gives no bucket.
        assert!(std::env::var_os(itinera_aws::s3::BLOB_BUCKET).is_none());
        let refused = connect_blob_store()
            .await
            .err()
            .expect("no blob store without a bucket");
        assert!(refused.to_string().contains("BLOB_BUCKET"), "{refused}");
    }

    #[test]
    fn only_functions_that_page_need_the_cursor_signing_key() {
        for route in ROUTES {
            let without = cursor_codec(Target::Route(route), None);
            if route.pages {
                let error = without.expect_err(route.function);
                assert_eq!(error.variable, "CURSOR_SIGNING_KEY");
                let key = SigningKey::parse("0123456789abcdef0123456789abcdef").unwrap();
                assert!(cursor_codec(Target::Route(route), Some(key)).is_ok());
            } else {
                assert!(without.is_ok(), "{}", route.function);
            }
        }
        assert!(cursor_codec(Target::Router(ROUTES), None).is_ok());
    }

    /// A binary names its route's static rather than looking a name up, so a wrong static
    /// would serve another route under this function's name: each names the static of its own
    /// file name (and the table's tests prove each static is named after its function).
    #[test]
    fn every_route_binary_runs_the_static_of_its_own_route() {
        let bin = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/bin");
        let source = |function: &str| {
            std::fs::read_to_string(bin.join(format!("{function}.rs")))
                .unwrap_or_else(|error| panic!("{function}: {error}"))
        };
        for route in ROUTES {
            let name = route.function.to_ascii_uppercase().replace('-', "_");
            let call = format!("itinera_functions::run(&itinera_http::routes::{name})");
            let text = source(route.function);
            assert!(text.contains(&call), "{} must call {call}", route.function);
            assert_eq!(
                text.matches("itinera_functions::").count(),
                1,
                "{}",
                route.function
            );
        }
        assert!(source(PREFLIGHT_FUNCTION).contains("itinera_functions::run_preflight()"));
    }

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
