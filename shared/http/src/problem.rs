//! Errors as HTTP sees them, and the one place where every failure becomes a status and an
//! RFC 9457 problem body.
//!
//! Bodies say what the caller can act on and nothing else: no store text, no table names, no
//! debug output. Dependency failures are logged here with their whole cause chain; the request
//! span adds the request id, route, method, path, client IP and user agent to that log line.

use bytes::Bytes;
use http::{HeaderValue, Method, Response, StatusCode, header};
use serde::Serialize;

use itinera::error::{DomainError, chain};
use itinera::ratelimit::RateLimited;
use itinera::storage::StoreError;

/// One field that failed validation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Everything a request can fail with; each variant names its status.
#[derive(Debug, PartialEq, Eq)]
pub enum ApiError {
    /// 400: the request is malformed (JSON syntax, a cursor, a body that is not an object).
    BadRequest { detail: String },
    /// 400: named fields or query parameters are invalid.
    Validation {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// 401: no valid credentials; answered with `WWW-Authenticate: Bearer`.
    Unauthorized { detail: String },
    /// 403: authenticated, but the route needs another role.
    Forbidden,
    /// 404: no such resource, or no such route.
    NotFound { detail: String },
    /// 405: the path exists, the method does not.
    MethodNotAllowed { allow: Vec<Method> },
    /// 402: the payment provider declined the payment.
    PaymentRequired { detail: String },
    /// 409: the request contradicts the current state.
    Conflict { detail: String },
    /// 412: `If-Match` names a version that is no longer current.
    PreconditionFailed { detail: String },
    /// 422: the request is well-formed but cannot be processed as sent (an `Idempotency-Key`
    /// reused with another body).
    UnprocessableEntity { detail: String },
    /// 429: a rate limit is exhausted; `Retry-After` says when the window resets.
    TooManyRequests { retry_after_seconds: u64 },
    /// 413: the body is larger than the pipeline accepts.
    PayloadTooLarge { limit_bytes: usize },
    /// 415: the body is not JSON.
    UnsupportedMediaType,
    /// 503: a dependency is overloaded or unreachable; retrying later may succeed.
    Unavailable { retry_after_seconds: u32 },
    /// 500: anything unexpected. The cause was logged where it happened.
    Internal,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } | Self::Validation { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::PaymentRequired { .. } => StatusCode::PAYMENT_REQUIRED,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::UnprocessableEntity { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A validation failure of one field.
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::invalid_fields(vec![FieldError::new(field, message)])
    }

    pub fn invalid_fields(errors: Vec<FieldError>) -> Self {
        Self::Validation {
            detail: "The request has invalid fields; see `errors`.".into(),
            errors,
        }
    }

    /// A route that does not exist.
    pub fn no_route() -> Self {
        Self::NotFound {
            detail: "No resource exists at this path.".into(),
        }
    }

    fn slug_and_title(&self) -> (&'static str, &'static str) {
        match self {
            Self::BadRequest { .. } => ("bad-request", "Bad request"),
            Self::Validation { .. } => ("validation-error", "Invalid request"),
            Self::Unauthorized { .. } => ("unauthorized", "Unauthorized"),
            Self::Forbidden => ("forbidden", "Forbidden"),
            Self::TooManyRequests { .. } => ("too-many-requests", "Too many requests"),
            Self::NotFound { .. } => ("not-found", "Not found"),
            Self::MethodNotAllowed { .. } => ("method-not-allowed", "Method not allowed"),
            Self::PaymentRequired { .. } => ("payment-declined", "Payment declined"),
            Self::Conflict { .. } => ("conflict", "Conflict"),
            Self::UnprocessableEntity { .. } => ("unprocessable", "Unprocessable request"),
            Self::PreconditionFailed { .. } => ("precondition-failed", "Precondition failed"),
            Self::PayloadTooLarge { .. } => ("payload-too-large", "Payload too large"),
            Self::UnsupportedMediaType => ("unsupported-media-type", "Unsupported media type"),
            Self::Unavailable { .. } => ("service-unavailable", "Service unavailable"),
            Self::Internal => ("internal-error", "Internal server error"),
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::BadRequest { detail }
            | Self::Unauthorized { detail }
            | Self::Validation { detail, .. }
            | Self::NotFound { detail }
            | Self::Conflict { detail }
            | Self::PaymentRequired { detail }
            | Self::UnprocessableEntity { detail }
            | Self::PreconditionFailed { detail } => detail.clone(),
            Self::MethodNotAllowed { allow } => format!(
                "This path accepts only: {}.",
                allow
                    .iter()
                    .map(Method::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Self::Forbidden => "Your role does not allow this request.".into(),
            Self::TooManyRequests {
                retry_after_seconds,
            } => {
                format!("Too many requests; retry in {retry_after_seconds} seconds.")
            }
            Self::PayloadTooLarge { limit_bytes } => {
                format!("The request body must not exceed {limit_bytes} bytes.")
            }
            Self::UnsupportedMediaType => {
                "Request bodies must be JSON, sent with `Content-Type: application/json`.".into()
            }
            Self::Unavailable { .. } => {
                "The service is temporarily unable to handle the request; retry later.".into()
            }
            Self::Internal => "The request failed unexpectedly; it has been logged.".into(),
        }
    }

    /// The problem response (`application/problem+json`) for this error.
    pub fn into_response(self, request_id: &str) -> Response<Bytes> {
        let (slug, title) = self.slug_and_title();
        let status = self.status();
        let errors = match &self {
            Self::Validation { errors, .. } => Some(errors.as_slice()),
            _ => None,
        };
        let body = ProblemBody {
            r#type: format!("urn:itinera:problem:{slug}"),
            title,
            status: status.as_u16(),
            detail: self.detail(),
            request_id,
            errors,
        };
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let mut response = Response::new(Bytes::from(bytes));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        // A refusal is about one request at one moment: no cache may replay it.
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(crate::caching::NO_STORE),
        );
        match &self {
            Self::MethodNotAllowed { allow } => {
                if let Ok(value) = HeaderValue::from_str(&allow_header(allow)) {
                    headers.insert(header::ALLOW, value);
                }
            }
            Self::Unavailable {
                retry_after_seconds,
            } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_seconds));
            }
            Self::TooManyRequests {
                retry_after_seconds,
            } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_seconds));
            }
            Self::Unauthorized { .. } => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        response
    }
}

/// The `Allow` header value for a set of methods.
pub(crate) fn allow_header(methods: &[Method]) -> String {
    methods
        .iter()
        .map(Method::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProblemBody<'a> {
    r#type: String,
    title: &'static str,
    status: u16,
    detail: String,
    request_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a [FieldError]>,
}

impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        match error {
            DomainError::NotFound { entity } => Self::NotFound {
                detail: format!("No {entity} exists with this id."),
            },
            DomainError::Conflict { detail } => Self::Conflict { detail },
            DomainError::PreconditionFailed { entity } => Self::PreconditionFailed {
                detail: format!(
                    "The {entity} has changed since the version named in If-Match; fetch it again."
                ),
            },
            DomainError::Unauthenticated => Self::Unauthorized {
                detail: "The credentials are not valid.".into(),
            },
            DomainError::Forbidden => Self::Forbidden,
            DomainError::Invalid { field, message } => Self::invalid_field(field, message),
            DomainError::PaymentDeclined { detail } => Self::PaymentRequired { detail },
            DomainError::IdempotencyKeyReused => Self::UnprocessableEntity {
                detail: "This Idempotency-Key was already used with a different request; \
                         use a new key for a new request."
                    .into(),
            },
            DomainError::Store(store) => store.into(),
        }
    }
}

/// A refusal of the rate limiter: an exhausted window is 429, a counter that fails closed is 503;
/// both tell the client when to come back.
impl From<RateLimited> for ApiError {
    fn from(refusal: RateLimited) -> Self {
        match refusal {
            RateLimited::Exhausted {
                retry_after_seconds,
                ..
            } => Self::TooManyRequests {
                retry_after_seconds,
            },
            RateLimited::Unavailable {
                retry_after_seconds,
                ..
            } => Self::Unavailable {
                retry_after_seconds,
            },
        }
    }
}

/// Dependency failures, in the categories of the predecessor's database error handler:
/// invalid -> 400, condition (uniqueness, integrity) -> 409, throttling -> 503 with
/// `Retry-After`, unreachable -> 503, anything else -> 500.
impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        let cause = chain(&error);
        match error {
            StoreError::ConditionFailed | StoreError::TransactionConditionFailed { .. } => {
                tracing::info!(error = %cause, "store condition failed");
                Self::Conflict {
                    detail: "The request conflicts with the current state of the resource.".into(),
                }
            }
            StoreError::TransactionConflict => {
                tracing::warn!(error = %cause, "store transaction conflict");
                Self::Conflict {
                    detail: "A concurrent request changed the same data; retry the request.".into(),
                }
            }
            StoreError::Invalid(_) => {
                tracing::warn!(error = %cause, "store rejected the request");
                Self::BadRequest {
                    detail: "The request could not be stored as given.".into(),
                }
            }
            StoreError::Throttled(_) | StoreError::Unavailable(_) => {
                tracing::error!(error = %cause, "store unavailable");
                Self::Unavailable {
                    retry_after_seconds: 1,
                }
            }
            StoreError::Internal(_) => {
                tracing::error!(error = %cause, "store failed");
                Self::Internal
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(response: &Response<Bytes>) -> serde_json::Value {
        serde_json::from_slice(response.body()).unwrap()
    }

    #[test]
    fn no_cache_may_keep_a_problem() {
        for error in [
            ApiError::invalid_field("from", "must be an airport code"),
            ApiError::no_route(),
            ApiError::Internal,
        ] {
            let response = error.into_response("req-1");
            assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        }
    }

    #[test]
    fn a_problem_body_carries_type_title_status_detail_and_request_id() {
        let response = ApiError::invalid_field("capacity", "must be between 1 and 1000")
            .into_response("req-1");
        assert_eq!(response.status(), 400);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let body = body(&response);
        assert_eq!(body["type"], "urn:itinera:problem:validation-error");
        assert_eq!(body["status"], 400);
        assert_eq!(body["requestId"], "req-1");
        assert_eq!(body["errors"][0]["field"], "capacity");
        assert!(body["title"].is_string() && body["detail"].is_string());
    }

    #[test]
    fn store_failures_never_reach_the_body() {
        let secret = "arn:aws:dynamodb:eu-west-1:123:table/itinera-prod ThrottlingException";
        for error in [
            StoreError::Throttled(secret.into()),
            StoreError::Unavailable(secret.into()),
            StoreError::Internal(secret.into()),
            StoreError::Invalid(secret.into()),
        ] {
            let response = ApiError::from(error).into_response("req-2");
            let text = String::from_utf8(response.body().to_vec()).unwrap();
            assert!(
                !text.contains("dynamodb") && !text.contains("Throttling"),
                "{text}"
            );
        }
    }

    #[test]
    fn throttling_is_a_503_with_retry_after() {
        let response = ApiError::from(StoreError::Throttled("slow down".into())).into_response("r");
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
    }

    #[test]
    fn a_401_asks_for_a_bearer_token_and_a_429_says_when_to_retry() {
        let unauthorized = ApiError::Unauthorized {
            detail: "no token".into(),
        }
        .into_response("r");
        assert_eq!(unauthorized.headers()[header::WWW_AUTHENTICATE], "Bearer");
        let limited = ApiError::TooManyRequests {
            retry_after_seconds: 42,
        }
        .into_response("r");
        assert_eq!(limited.headers()[header::RETRY_AFTER], "42");
    }

    #[test]
    fn conditional_failures_are_conflicts() {
        assert_eq!(ApiError::from(StoreError::ConditionFailed).status(), 409);
        assert_eq!(
            ApiError::from(StoreError::TransactionConditionFailed { index: 2 }).status(),
            409
        );
    }

    #[test]
    fn method_not_allowed_lists_the_allowed_methods() {
        let response = ApiError::MethodNotAllowed {
            allow: vec![Method::GET, Method::POST],
        }
        .into_response("r");
        assert_eq!(response.headers()[header::ALLOW], "GET, POST");
    }
}
