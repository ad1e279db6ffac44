//! The API's Lambda authorizer (REQUEST type, REST API): verifies the bearer access token before
//! API Gateway invokes a protected route's function, and hands the principal to that function in
//! the request context.
//!
//! A valid token gets an `Allow` policy for every method and path of the API's stage, not just the
//! method ARN of this request. API Gateway caches the answer per `Authorization` header for the
//! authorizer's TTL and applies it to every route the same token calls next; a policy naming only
//! the first route would make the cached answer deny all the others (403). The authorizer only
//! authenticates: which role a route needs is checked by the route's function against the route
//! table, so allowing the whole stage grants nothing the token's holder could not already ask for.
//!
//! A missing or invalid token makes the handler fail with the message `Unauthorized`, which is how
//! a Lambda authorizer tells API Gateway to answer 401 (any other failure would be a 500).

use std::sync::Arc;

use itinera::auth::{TokenError, TokenVerifier};
use itinera::clock::{Clock, SystemClock};
use itinera::identity::{Principal, Role, UserId};
use itinera_http::AUTHORIZER_FUNCTION;
use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerRequestTypeRequest,
    ApiGatewayCustomAuthorizerResponse, ApiGatewayProxyRequestContext,
};
use lambda_http::aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};
use lambda_http::lambda_runtime::{self, Diagnostic, LambdaEvent, service_fn};
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::keys::{KeyUse, load_token_keys};
use crate::metrics::Publisher;

/// The context keys the authorizer sets and route functions read back.
const USER_ID: &str = "userId";
const ROLE: &str = "role";
const PRINCIPAL_ID: &str = "principalId";

/// What the authorizer passes to the route function (`requestContext.authorizer`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizerContext {
    pub user_id: String,
    pub role: String,
}

/// The authorizer's answer to a valid token.
pub type AuthorizerResponse = ApiGatewayCustomAuthorizerResponse<AuthorizerContext>;

/// The one failure API Gateway turns into 401. It carries no reason: the reason goes to the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Unauthorized")]
pub struct Unauthorized;

impl From<Unauthorized> for Diagnostic {
    fn from(_: Unauthorized) -> Self {
        Diagnostic {
            error_type: "Unauthorized".into(),
            error_message: "Unauthorized".into(),
        }
    }
}

/// Starts the authorizer: telemetry, the public key (from `JWT_PUBLIC_KEY` or the SSM parameter
/// named by `JWT_PUBLIC_KEY_PARAMETER`), loaded once, then the Lambda runtime loop.
pub async fn run_authorizer() -> Result<(), lambda_runtime::Error> {
    itinera::telemetry::init(
        itinera::config::env("LOG_LEVEL")
            .as_deref()
            .unwrap_or("info"),
    );
    let started = async {
        let publisher = Publisher::start(AUTHORIZER_FUNCTION)?;
        Ok::<_, lambda_runtime::Error>((load_verifier().await?, publisher))
    };
    let (verifier, publisher) = match started.await {
        Ok((verifier, publisher)) => (Arc::new(verifier), publisher),
        Err(error) => {
            tracing::error!(error = %error, "configuration is invalid; the authorizer cannot start");
            return Err(error);
        }
    };
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayCustomAuthorizerRequestTypeRequest>| {
            let verifier = Arc::clone(&verifier);
            let decision = authorize(&verifier, &SystemClock, event.payload);
            publisher.publish();
            async move { decision }
        },
    ))
    .await
}

async fn load_verifier() -> Result<TokenVerifier, lambda_runtime::Error> {
    let keys = load_token_keys(&[KeyUse::Verify]).await?;
    Ok(keys.token_verifier()?)
}

/// Decides one request: `Allow` on the stage with the principal in the context, or
/// [`Unauthorized`].
pub fn authorize(
    verifier: &TokenVerifier,
    clock: &dyn Clock,
    event: ApiGatewayCustomAuthorizerRequestTypeRequest,
) -> Result<AuthorizerResponse, Unauthorized> {
    let request_id = event.request_context.request_id.as_deref().unwrap_or("");
    let refuse = |reason: &dyn std::fmt::Display| {
        tracing::info!(request_id, reason = %reason, "refused the request's credentials");
        Unauthorized
    };
    let token = bearer_token(&event).map_err(|reason| refuse(&reason))?;
    let principal = verifier
        .verify(token, clock.now())
        .map_err(|error: TokenError| refuse(&error))?;
    let resource = event
        .method_arn
        .as_deref()
        .and_then(stage_wildcard)
        .ok_or_else(|| refuse(&"the event carries no usable method ARN"))?;

    let mut statement = IamPolicyStatement::default();
    statement.action = vec!["execute-api:Invoke".into()];
    statement.effect = IamPolicyEffect::Allow;
    statement.resource = vec![resource];
    let mut policy = ApiGatewayCustomAuthorizerPolicy::default();
    policy.version = Some("2012-10-17".into());
    policy.statement = vec![statement];
    let mut response = AuthorizerResponse::default();
    response.principal_id = Some(principal.user_id.to_string());
    response.policy_document = policy;
    response.context = AuthorizerContext {
        user_id: principal.user_id.to_string(),
        role: principal.role.as_str().into(),
    };
    tracing::info!(request_id, user_id = %principal.user_id, "allowed");
    Ok(response)
}

/// The token of the request's single `Authorization: Bearer <token>` header.
fn bearer_token(
    event: &ApiGatewayCustomAuthorizerRequestTypeRequest,
) -> Result<&str, &'static str> {
    let mut values = event.headers.get_all(http::header::AUTHORIZATION).iter();
    let value = values.next().ok_or("no Authorization header")?;
    if values.next().is_some() {
        return Err("more than one Authorization header");
    }
    let (scheme, token) = value
        .to_str()
        .ok()
        .and_then(|value| value.trim().split_once(' '))
        .ok_or("the Authorization header is not `Bearer <token>`")?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err("the Authorization header is not `Bearer <token>`");
    }
    Ok(token)
}

/// `arn:aws:execute-api:<region>:<account>:<api>/<stage>/<method>/<path>` ->
/// `arn:aws:execute-api:<region>:<account>:<api>/<stage>/*`: every method and path of the stage.
fn stage_wildcard(method_arn: &str) -> Option<String> {
    let mut parts = method_arn.splitn(3, '/');
    let api = parts.next().filter(|api| api.starts_with("arn:"))?;
    let stage = parts.next().filter(|stage| !stage.is_empty())?;
    Some(format!("{api}/{stage}/*"))
}

/// Why a route function could not read the principal the authorizer passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizerContextError {
    /// No authorizer ran for this request (an anonymous route, or a route left unprotected).
    #[error("the request carries no authorizer context")]
    Missing,
    /// The context is there but does not name a principal; never trust any part of it.
    #[error("the authorizer context is malformed: {0}")]
    Garbled(&'static str),
}

/// The principal the authorizer verified, from `requestContext.authorizer` of a REST (payload
/// v1) event.
pub fn principal_from_authorizer_context(
    context: &ApiGatewayProxyRequestContext,
) -> Result<Principal, AuthorizerContextError> {
    let fields = &context.authorizer.fields;
    if fields.is_empty() {
        return Err(AuthorizerContextError::Missing);
    }
    let text = |name: &str| fields.get(name).and_then(Value::as_str);
    let user_id = text(USER_ID)
        .and_then(UserId::parse)
        .ok_or(AuthorizerContextError::Garbled("userId is not a user id"))?;
    let role = text(ROLE)
        .and_then(|role| Role::parse(role).ok())
        .ok_or(AuthorizerContextError::Garbled("role is not a role"))?;
    if let Some(principal_id) = fields.get(PRINCIPAL_ID)
        && principal_id.as_str() != Some(user_id.as_str())
    {
        return Err(AuthorizerContextError::Garbled(
            "principalId and userId disagree",
        ));
    }
    Ok(Principal { user_id, role })
}

/// [`principal_from_authorizer_context`] for a request as `lambda_http` hands it to a function.
pub fn principal_from_request(request: &Request) -> Result<Principal, AuthorizerContextError> {
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(context)) => principal_from_authorizer_context(context),
        _ => Err(AuthorizerContextError::Missing),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeDelta, Utc};
    use itinera::auth::{PrivateKey, TokenIssuer};
    use serde_json::json;

    use super::*;

    const METHOD_ARN: &str =
        "arn:aws:execute-api:eu-west-1:123456789012:abc123defg/prod/GET/v1/airplanes/42";

    struct FixedClock(DateTime<Utc>);

    impl Clock for FixedClock {
        fn now(&self) -> DateTime<Utc> {
            self.0
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-21T08:00:00Z")
            .unwrap()
            .to_utc()
    }

    fn principal() -> Principal {
        Principal {
            user_id: UserId::parse("0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f").unwrap(),
            role: Role::Staff,
        }
    }

    fn keys() -> (TokenIssuer, TokenVerifier) {
        let key = PrivateKey::generate().unwrap();
        (
            TokenIssuer::new(&key, "itinera", "itinera-api").unwrap(),
            TokenVerifier::new(&key.public_key(), "itinera", "itinera-api"),
        )
    }

    /// The event API Gateway sends a REQUEST authorizer, as JSON, with the given headers.
    fn event(headers: Value) -> ApiGatewayCustomAuthorizerRequestTypeRequest {
        serde_json::from_value(json!({
            "type": "REQUEST",
            "methodArn": METHOD_ARN,
            "resource": "/v1/airplanes/{id}",
            "path": "/v1/airplanes/42",
            "httpMethod": "GET",
            "headers": headers,
            "queryStringParameters": {},
            "pathParameters": {"id": "42"},
            "stageVariables": {},
            "requestContext": {
                "path": "/prod/v1/airplanes/42",
                "accountId": "123456789012",
                "resourceId": "r1",
                "stage": "prod",
                "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
                "resourcePath": "/v1/airplanes/{id}",
                "httpMethod": "GET",
                "apiId": "abc123defg"
            }
        }))
        .unwrap()
    }

    fn bearer(token: &str) -> ApiGatewayCustomAuthorizerRequestTypeRequest {
        event(json!({"Authorization": format!("Bearer {token}")}))
    }

    #[test]
    fn a_valid_token_is_allowed_on_the_whole_stage_with_the_principal_in_the_context() {
        let (issuer, verifier) = keys();
        let token = issuer.issue(&principal(), now()).token;
        let response = authorize(&verifier, &FixedClock(now()), bearer(&token)).unwrap();
        let json = serde_json::to_value(&response).unwrap();
        assert_eq!(json["principalId"], "0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f");
        assert_eq!(
            json["policyDocument"],
            json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Action": ["execute-api:Invoke"],
                    "Effect": "Allow",
                    "Resource": ["arn:aws:execute-api:eu-west-1:123456789012:abc123defg/prod/*"]
                }]
            })
        );
        assert_eq!(
            json["context"],
            json!({"userId": "0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f", "role": "staff"})
        );
    }

    #[test]
    fn the_scheme_is_case_insensitive_and_the_header_name_too() {
        let (issuer, verifier) = keys();
        let token = issuer.issue(&principal(), now()).token;
        let request = event(json!({"authorization": format!("bearer {token}")}));
        assert!(authorize(&verifier, &FixedClock(now()), request).is_ok());
    }

    #[test]
    fn expired_tampered_foreign_or_missing_tokens_are_unauthorized() {
        let (issuer, verifier) = keys();
        let token = issuer.issue(&principal(), now()).token;
        let clock = FixedClock(now());
        let later = FixedClock(now() + TimeDelta::minutes(16));
        assert_eq!(
            authorize(&verifier, &later, bearer(&token)),
            Err(Unauthorized)
        );
        let mut tampered = token.clone();
        tampered.pop();
        tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(
            authorize(&verifier, &clock, bearer(&tampered)),
            Err(Unauthorized)
        );
        let (stranger, _) = keys();
        let foreign = stranger.issue(&principal(), now()).token;
        assert_eq!(
            authorize(&verifier, &clock, bearer(&foreign)),
            Err(Unauthorized)
        );
        for headers in [
            json!({}),
            json!({"Authorization": ""}),
            json!({"Authorization": "Bearer"}),
            json!({"Authorization": "Bearer "}),
            json!({"Authorization": format!("Basic {token}")}),
            json!({"Authorization": token}),
        ] {
            assert_eq!(
                authorize(&verifier, &clock, event(headers.clone())),
                Err(Unauthorized),
                "{headers}"
            );
        }
    }

    #[test]
    fn two_authorization_headers_are_unauthorized() {
        let (issuer, verifier) = keys();
        let token = issuer.issue(&principal(), now()).token;
        let mut request = bearer(&token);
        request.headers.append(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
        );
        assert_eq!(
            authorize(&verifier, &FixedClock(now()), request),
            Err(Unauthorized)
        );
    }

    #[test]
    fn unauthorized_reaches_the_runtime_as_the_message_api_gateway_expects() {
        let diagnostic = Diagnostic::from(Unauthorized);
        assert_eq!(diagnostic.error_message, "Unauthorized");
        assert_eq!(diagnostic.error_type, "Unauthorized");
    }

    #[test]
    fn the_stage_wildcard_keeps_api_and_stage_only() {
        assert_eq!(
            stage_wildcard(METHOD_ARN).as_deref(),
            Some("arn:aws:execute-api:eu-west-1:123456789012:abc123defg/prod/*")
        );
        assert_eq!(stage_wildcard("abc/prod/GET/"), None);
        assert_eq!(stage_wildcard("arn:aws:execute-api:r:a:api"), None);
    }

    /// A route function's event as API Gateway builds it after the authorizer allowed it.
    fn route_request(authorizer: Value) -> Request {
        let mut event = json!({
            "resource": "/v1/airplanes",
            "path": "/v1/airplanes",
            "httpMethod": "GET",
            "headers": {},
            "multiValueHeaders": {},
            "queryStringParameters": null,
            "multiValueQueryStringParameters": null,
            "pathParameters": null,
            "stageVariables": null,
            "requestContext": {
                "resourceId": "r1",
                "resourcePath": "/v1/airplanes",
                "httpMethod": "GET",
                "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
                "path": "/prod/v1/airplanes",
                "accountId": "123456789012",
                "stage": "prod",
                "identity": {"sourceIp": "203.0.113.7"},
                "apiId": "abc123defg"
            },
            "body": null,
            "isBase64Encoded": false
        });
        if !authorizer.is_null() {
            event["requestContext"]["authorizer"] = authorizer;
        }
        lambda_http::request::from_str(&event.to_string()).unwrap()
    }

    #[test]
    fn the_principal_survives_the_round_trip_through_the_request_context() {
        let (issuer, verifier) = keys();
        let token = issuer.issue(&principal(), now()).token;
        let response = authorize(&verifier, &FixedClock(now()), bearer(&token)).unwrap();
        // API Gateway passes the context on as it got it, plus the principal id and latency.
        let mut authorizer = serde_json::to_value(&response.context).unwrap();
        authorizer["principalId"] = json!(response.principal_id);
        authorizer["integrationLatency"] = json!(12);
        let request = route_request(authorizer);
        assert_eq!(principal_from_request(&request), Ok(principal()));
    }

    #[test]
    fn a_missing_or_garbled_context_names_no_principal() {
        assert_eq!(
            principal_from_request(&route_request(Value::Null)),
            Err(AuthorizerContextError::Missing)
        );
        let user = "0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f";
        for authorizer in [
            json!({"principalId": user}),
            json!({"userId": "root", "role": "admin"}),
            json!({"userId": user, "role": "superuser"}),
            json!({"userId": user, "role": 3}),
            json!({"userId": user, "role": "admin", "principalId": "someone-else"}),
        ] {
            assert!(
                matches!(
                    principal_from_request(&route_request(authorizer.clone())),
                    Err(AuthorizerContextError::Garbled(_))
                ),
                "{authorizer}"
            );
        }
    }
}
