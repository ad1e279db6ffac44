//! Secrets from SSM Parameter Store: the access-token keys, which functions read once at cold
//! start from SecureString parameters named in their environment.
//!
//! The read is one `GetParameter` call, sent here without the SSM SDK client: a JSON body, signed
//! with SigV4 ([`aws_sigv4`]) with the credentials of the shared SDK configuration, over the same
//! HTTPS connector and compiled-in roots the DynamoDB client uses ([`crate::client`]). Every piece
//! is already linked into a function for DynamoDB, so the read adds only its own request and
//! answer handling, where the SDK client added its own endpoint rules and partition table, configuration,
//! serializers and error types for all of SSM (1.2 MiB of `login`'s stripped binary; measured in
//! docs/benchmarks.md). What the SDK client gave beyond the call is kept: bounded timeouts,
//! a few retries of throttling, server and connection failures, and errors that never carry the
//! value.

use std::error::Error as StdError;
use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_http_client::Connector;
use aws_smithy_runtime_api::client::http::{HttpConnector, HttpConnectorSettings};
use aws_smithy_runtime_api::client::identity::Identity;
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;

use crate::client::{connector, environment_config, local_config};

/// A cold start waits for these reads, so they may not hang; SSM answers in tens of milliseconds.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(1000);
/// One attempt's wait for the answer once connected.
const READ_TIMEOUT: Duration = Duration::from_millis(2000);
/// The whole read, retries included.
const OPERATION_TIMEOUT: Duration = Duration::from_millis(5000);
const MAX_ATTEMPTS: u32 = 3;
/// The wait before the second attempt; doubled before each later one.
const INITIAL_BACKOFF: Duration = Duration::from_millis(100);

/// SigV4's name of the service.
const SIGNING_NAME: &str = "ssm";
/// The AWS JSON 1.1 protocol of SSM: the operation goes in `X-Amz-Target`.
const TARGET: &str = "AmazonSSM.GetParameter";
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// A parameter that could not be read. Never carries the parameter's value.
#[derive(Debug, thiserror::Error)]
pub enum SsmError {
    #[error("the SSM parameter {name} does not exist")]
    NotFound { name: String },
    #[error("the SSM parameter {name} is empty")]
    Empty { name: String },
    #[error("reading the SSM parameter {name} failed: {detail}")]
    Request {
        name: String,
        detail: String,
        #[source]
        source: Box<dyn StdError + Send + Sync + 'static>,
    },
}

/// Why one `GetParameter` call failed, before it is told apart into an [`SsmError`].
#[derive(Debug, thiserror::Error)]
enum CallError {
    #[error("no region is configured (AWS_REGION)")]
    NoRegion,
    #[error("no credentials provider is configured")]
    NoCredentials,
    #[error("the HTTPS connector could not be set up: {0}")]
    Connector(String),
    #[error("the credentials could not be loaded")]
    Credentials(#[source] aws_credential_types::provider::error::CredentialsError),
    #[error("the request could not be signed")]
    Signing(#[source] Box<dyn StdError + Send + Sync + 'static>),
    #[error("the request could not be sent")]
    Dispatch(#[source] aws_smithy_runtime_api::client::result::ConnectorError),
    #[error("the answer could not be read")]
    Body(#[source] aws_smithy_types::byte_stream::error::Error),
    #[error("SSM answered {status}: {code}{message}")]
    Service {
        status: u16,
        code: String,
        message: String,
    },
    #[error("SSM answered {status} with a body that is not a GetParameter result")]
    Malformed { status: u16 },
    #[error("no answer within {0:?}")]
    TimedOut(Duration),
}

impl CallError {
    /// Whether another attempt may succeed: throttling, a server error, or a connection that
    /// failed or timed out.
    fn is_transient(&self) -> bool {
        match self {
            Self::Dispatch(error) => error.is_io() || error.is_timeout(),
            Self::Service { status, code, .. } => {
                *status >= 500
                    || matches!(
                        code.as_str(),
                        "ThrottlingException" | "Throttling" | "TooManyRequestsException"
                    )
            }
            _ => false,
        }
    }
}

/// Reads SSM parameters. Build it once, at cold start, and only when a parameter has to be read.
#[derive(Debug)]
pub struct SsmClient {
    /// Where requests go: the regional endpoint, or a local server.
    endpoint: Option<String>,
    region: Option<String>,
    credentials: Option<SharedCredentialsProvider>,
    /// The connector, or why it could not be built (the roots did not load), reported by the
    /// first read as the SDK client reported it.
    connector: Result<Connector, String>,
}

impl SsmClient {
    fn from_config(config: &SdkConfig, endpoint: Option<String>) -> Self {
        let region = config.region().map(|region| region.as_ref().to_owned());
        let settings = HttpConnectorSettings::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(READ_TIMEOUT)
            .build();
        Self {
            endpoint: endpoint.or_else(|| region.as_deref().map(regional_endpoint)),
            region,
            credentials: config.credentials_provider(),
            connector: connector(settings).map_err(|error| error.to_string()),
        }
    }

    /// One signed `GetParameter` call for `name`, with decryption; the parameter's value.
    async fn get_parameter(&self, name: &str) -> Result<Option<String>, CallError> {
        let (Some(endpoint), Some(region)) = (&self.endpoint, &self.region) else {
            return Err(CallError::NoRegion);
        };
        let connector = self
            .connector
            .as_ref()
            .map_err(|error| CallError::Connector(error.clone()))?;
        let credentials = self
            .credentials
            .as_ref()
            .ok_or(CallError::NoCredentials)?
            .provide_credentials()
            .await
            .map_err(CallError::Credentials)?;
        let request = signed_request(endpoint, region, name, credentials, SystemTime::now())?;
        let request =
            HttpRequest::try_from(request).map_err(|error| CallError::Signing(Box::new(error)))?;
        let response = connector.call(request).await.map_err(CallError::Dispatch)?;
        let status = response.status().as_u16();
        let header_code = response
            .headers()
            .get("x-amzn-errortype")
            .map(str::to_owned);
        let body = ByteStream::new(response.into_body())
            .collect()
            .await
            .map_err(CallError::Body)?
            .into_bytes();
        parse_answer(status, header_code.as_deref(), &body)
    }

    /// [`Self::get_parameter`] with retries of transient failures, bounded in attempts and time.
    async fn get_parameter_with_retries(&self, name: &str) -> Result<Option<String>, CallError> {
        let attempts = async {
            let mut backoff = INITIAL_BACKOFF;
            let mut attempt = 1;
            loop {
                match self.get_parameter(name).await {
                    Err(error) if error.is_transient() && attempt < MAX_ATTEMPTS => {
                        tracing::warn!(%error, attempt, "retrying the SSM read");
                        tokio::time::sleep(backoff).await;
                        backoff *= 2;
                        attempt += 1;
                    }
                    result => return result,
                }
            }
        };
        tokio::time::timeout(OPERATION_TIMEOUT, attempts)
            .await
            .unwrap_or(Err(CallError::TimedOut(OPERATION_TIMEOUT)))
    }
}

/// SSM's regional endpoint: `amazonaws.com`, or `amazonaws.com.cn` in the China regions.
fn regional_endpoint(region: &str) -> String {
    let suffix = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!("https://ssm.{region}.{suffix}")
}

/// The `GetParameter` request for `name` to `endpoint`, signed for `region` at `time`.
fn signed_request(
    endpoint: &str,
    region: &str,
    name: &str,
    credentials: Credentials,
    time: SystemTime,
) -> Result<http::Request<SdkBody>, CallError> {
    let body = serde_json::json!({ "Name": name, "WithDecryption": true }).to_string();
    let uri = format!("{}/", endpoint.trim_end_matches('/'));
    let headers = [("content-type", CONTENT_TYPE), ("x-amz-target", TARGET)];
    let identity = Identity::from(credentials);
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(SIGNING_NAME)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|error| CallError::Signing(Box::new(error)))?
        .into();
    let signable = SignableRequest::new(
        "POST",
        uri.as_str(),
        headers.iter().copied(),
        SignableBody::Bytes(body.as_bytes()),
    )
    .map_err(|error| CallError::Signing(Box::new(error)))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|error| CallError::Signing(Box::new(error)))?
        .into_parts();
    let mut request = http::Request::post(uri.as_str());
    for (header, value) in headers {
        request = request.header(header, value);
    }
    let mut request = request
        .body(SdkBody::from(body))
        .map_err(|error| CallError::Signing(Box::new(error)))?;
    instructions.apply_to_request_http1x(&mut request);
    Ok(request)
}

/// The parameter's value from an answer of `status` (`None`: the parameter has no value), or the
/// service's error, whose code is the `x-amzn-errortype` header or the body's `__type`.
fn parse_answer(
    status: u16,
    header_code: Option<&str>,
    body: &[u8],
) -> Result<Option<String>, CallError> {
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    if (200..300).contains(&status) {
        let value = json.as_ref().ok_or(CallError::Malformed { status })?;
        let parameter = value
            .get("Parameter")
            .ok_or(CallError::Malformed { status })?;
        return Ok(parameter
            .get("Value")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned));
    }
    let field = |name: &str| {
        json.as_ref()
            .and_then(|json| json.get(name))
            .and_then(serde_json::Value::as_str)
    };
    let code = header_code
        .or_else(|| field("__type"))
        .map_or_else(|| "UnknownError".to_owned(), error_code);
    let message = field("message")
        .or_else(|| field("Message"))
        .map(|message| format!(": {message}"))
        .unwrap_or_default();
    Err(CallError::Service {
        status,
        code,
        message,
    })
}

/// The bare error code of an AWS JSON error type, which may carry a namespace
/// (`com.amazonaws.ssm#ParameterNotFound`) and extra fields after a colon.
fn error_code(raw: &str) -> String {
    let code = raw.split(':').next().unwrap_or(raw);
    code.rsplit('#').next().unwrap_or(code).trim().to_owned()
}

/// The client for the deployed account: region and credentials from the Lambda environment.
/// Build it once, at cold start, and only when a parameter has to be read.
pub async fn build_client() -> SsmClient {
    SsmClient::from_config(environment_config().await, None)
}

/// A client for a local SSM-compatible server (moto) at `endpoint`, with fixed dummy
/// credentials, so that nothing is read from the process environment or profile files.
pub fn build_local_client(endpoint: &str) -> SsmClient {
    SsmClient::from_config(&local_config(endpoint), Some(endpoint.to_owned()))
}

/// The decrypted value of the SecureString (or String) parameter `name`.
#[tracing::instrument(skip(client))]
pub async fn read_secure_parameter(client: &SsmClient, name: &str) -> Result<String, SsmError> {
    let value = client
        .get_parameter_with_retries(name)
        .await
        .map_err(|error| match error {
            CallError::Service { ref code, .. } if code == "ParameterNotFound" => {
                SsmError::NotFound {
                    name: name.to_owned(),
                }
            }
            error => SsmError::Request {
                name: name.to_owned(),
                detail: error_chain(&error),
                source: Box::new(error),
            },
        })?;
    value
        .filter(|value| !value.trim().is_empty())
        .ok_or_else(|| SsmError::Empty {
            name: name.to_owned(),
        })
}

/// `error` and each of its sources, joined, as one line for the log.
fn error_chain(error: &(dyn StdError + 'static)) -> String {
    let mut detail = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    detail
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credentials(session_token: Option<&str>) -> Credentials {
        Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            session_token.map(str::to_owned),
            None,
            "test",
        )
    }

    fn header<'a>(request: &'a http::Request<SdkBody>, name: &str) -> &'a str {
        request
            .headers()
            .get(name)
            .unwrap_or_else(|| panic!("{name} is set"))
            .to_str()
            .unwrap()
    }

    #[test]
    fn the_request_is_a_get_parameter_call_signed_for_ssm_in_the_region() {
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let request = signed_request(
            "https://ssm.eu-west-1.amazonaws.com",
            "eu-west-1",
            "/itinera/jwt/\"private\"",
            credentials(Some("session-token")),
            time,
        )
        .unwrap();
        assert_eq!(request.method(), http::Method::POST);
        assert_eq!(
            request.uri().to_string(),
            "https://ssm.eu-west-1.amazonaws.com/"
        );
        assert_eq!(header(&request, "x-amz-target"), "AmazonSSM.GetParameter");
        assert_eq!(header(&request, "content-type"), CONTENT_TYPE);
        assert_eq!(header(&request, "x-amz-date"), "20231114T221320Z");
        assert_eq!(header(&request, "x-amz-security-token"), "session-token");
        let authorization = header(&request, "authorization");
        assert!(
            authorization.starts_with(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20231114/eu-west-1/ssm/aws4_request, "
            ),
            "{authorization}"
        );
        for signed in ["content-type", "host", "x-amz-date", "x-amz-target"] {
            assert!(authorization.contains(signed), "{authorization}");
        }
        let body: serde_json::Value =
            serde_json::from_slice(request.body().bytes().unwrap()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({ "Name": "/itinera/jwt/\"private\"", "WithDecryption": true })
        );
    }

    #[test]
    fn the_same_request_signed_twice_carries_the_same_signature() {
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let sign = |credentials| {
            let request = signed_request(
                "http://127.0.0.1:5000",
                "us-east-1",
                "/p",
                credentials,
                time,
            )
            .unwrap();
            header(&request, "authorization").to_owned()
        };
        assert_eq!(sign(credentials(None)), sign(credentials(None)));
        let other = Credentials::new("AKIDEXAMPLE", "another secret", None, None, "test");
        assert_ne!(sign(credentials(None)), sign(other));
    }

    #[test]
    fn the_endpoint_follows_the_region_partition() {
        assert_eq!(
            regional_endpoint("eu-central-1"),
            "https://ssm.eu-central-1.amazonaws.com"
        );
        assert_eq!(
            regional_endpoint("us-gov-west-1"),
            "https://ssm.us-gov-west-1.amazonaws.com"
        );
        assert_eq!(
            regional_endpoint("cn-north-1"),
            "https://ssm.cn-north-1.amazonaws.com.cn"
        );
    }

    #[test]
    fn a_successful_answer_yields_the_value() {
        let body =
            br#"{"Parameter":{"Name":"/p","Type":"SecureString","Value":"pem","Version":1}}"#;
        assert_eq!(
            parse_answer(200, None, body).unwrap(),
            Some("pem".to_owned())
        );
        let no_value = br#"{"Parameter":{"Name":"/p","Type":"String"}}"#;
        assert_eq!(parse_answer(200, None, no_value).unwrap(), None);
        assert!(matches!(
            parse_answer(200, None, b"<html>"),
            Err(CallError::Malformed { status: 200 })
        ));
    }

    #[test]
    fn error_answers_are_told_apart_by_their_code() {
        let not_found = parse_answer(
            400,
            None,
            br#"{"__type":"com.amazonaws.ssm#ParameterNotFound","message":"no such"}"#,
        )
        .unwrap_err();
        assert!(
            matches!(&not_found, CallError::Service { code, .. } if code == "ParameterNotFound"),
            "{not_found:?}"
        );
        assert!(!not_found.is_transient());

        let throttled = parse_answer(
            400,
            Some("ThrottlingException:http://internal.amazon.com/"),
            b"{}",
        )
        .unwrap_err();
        assert!(
            matches!(&throttled, CallError::Service { code, .. } if code == "ThrottlingException"),
            "{throttled:?}"
        );
        assert!(throttled.is_transient());

        let denied = parse_answer(
            400,
            None,
            br#"{"__type":"AccessDeniedException","Message":"not allowed"}"#,
        )
        .unwrap_err();
        assert!(!denied.is_transient());
        assert_eq!(
            denied.to_string(),
            "SSM answered 400: AccessDeniedException: not allowed"
        );

        let unavailable = parse_answer(503, None, b"").unwrap_err();
        assert!(unavailable.is_transient());
        assert_eq!(unavailable.to_string(), "SSM answered 503: UnknownError");
    }

    #[tokio::test]
    async fn an_unreachable_endpoint_is_retried_then_reported_within_the_time_bound() {
        // Port 1 on loopback refuses the connection at once: an I/O failure, retried.
        let client = build_local_client("http://127.0.0.1:1");
        let started = std::time::Instant::now();
        let error = read_secure_parameter(&client, "/itinera/jwt/private")
            .await
            .unwrap_err();
        let elapsed = started.elapsed();
        assert!(
            matches!(&error, SsmError::Request { name, .. } if name == "/itinera/jwt/private"),
            "{error:?}"
        );
        // Two backoffs (100 and 200 ms) between three attempts, and no more than the bound.
        assert!(elapsed >= INITIAL_BACKOFF * 3, "{elapsed:?}");
        assert!(elapsed < OPERATION_TIMEOUT, "{elapsed:?}");
    }

    #[tokio::test]
    async fn a_client_without_a_region_fails_without_sending_anything() {
        let config = SdkConfig::builder().build();
        let client = SsmClient::from_config(&config, None);
        let error = read_secure_parameter(&client, "/p").await.unwrap_err();
        assert!(
            matches!(&error, SsmError::Request { detail, .. } if detail.contains("AWS_REGION")),
            "{error:?}"
        );
    }
}
