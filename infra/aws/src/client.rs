//! What every AWS client here starts from, so that it is set up once.
//!
//! - Deployed: [`environment_config`] loads the execution environment's region, credentials and
//!   HTTP client once per process; in the Lambda functions (the `lambda` feature) from the
//!   variables Lambda sets alone, so no other credential provider is linked into them. A function that talks to DynamoDB and SQS builds both clients
//!   from the same configuration, so cold start loads it (and the CA certificates its HTTPS
//!   client reads) once, not once per service. Each service then adds its own timeouts and
//!   retries.
//! - TLS: deployed clients trust the Amazon Trust Services roots compiled into the binary
//!   ([`AWS_ROOTS`]), not the platform's certificate store, which the SDK would read file by file
//!   at every cold start; an explicit `SSL_CERT_FILE` adds the platform's roots back.
//! - Local servers (moto, DynamoDB Local): [`local_config`] signs with fixed dummy credentials in
//!   `us-east-1` and reads nothing from the process environment or profile files, so a local
//!   client can never reach AWS.

use std::error::Error;
use std::fmt::Debug;
use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::config::SharedHttpClient;
use aws_sdk_dynamodb::config::{Credentials, Region, SharedCredentialsProvider};
use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
use aws_smithy_http_client::{Builder, Connector, HttpClientError};
use aws_smithy_runtime_api::client::http::HttpConnectorSettings;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use itinera::storage::BoxError;
use tokio::sync::OnceCell;

/// The region local clients sign for; local servers accept any.
pub(crate) const LOCAL_REGION: &str = "us-east-1";
/// The access key (and secret) local clients sign with.
const LOCAL_ACCESS_KEY: &str = "itinera-local";

/// The execution environment's SDK configuration, loaded on first use and shared by every client
/// the process builds.
pub(crate) async fn environment_config() -> &'static SdkConfig {
    static CONFIG: OnceCell<SdkConfig> = OnceCell::const_new();
    CONFIG.get_or_init(load_environment_config).await
}

/// Without the `lambda` feature (commands, tests): the SDK's default chain, which also reads
/// profile files, SSO, the instance metadata service and web-identity tokens.
#[cfg(not(feature = "lambda"))]
async fn load_environment_config() -> SdkConfig {
    let loader = aws_config::defaults(BehaviorVersion::latest());
    match https_client() {
        Ok(client) => loader.http_client(client),
        Err(error) => {
            tracing::warn!(%error, "could not set up the compiled-in roots; trusting the platform's certificate store");
            loader
        }
    }
    .load()
    .await
}

/// With the `lambda` feature (the functions): the region and credentials Lambda sets in the
/// environment (`AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN`), and no other provider. The default chain's other providers (profiles,
/// the instance metadata service, STS for web identity) can never answer in Lambda, and would
/// only add their code, and their setup at every cold start, to each binary.
#[cfg(feature = "lambda")]
async fn load_environment_config() -> SdkConfig {
    use aws_config::environment::EnvironmentVariableCredentialsProvider;
    let mut config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .credentials_provider(SharedCredentialsProvider::new(
            EnvironmentVariableCredentialsProvider::new(),
        ))
        .region(std::env::var("AWS_REGION").ok().map(Region::new));
    match https_client() {
        Ok(client) => config.set_http_client(Some(client)),
        Err(error) => {
            tracing::warn!(%error, "could not set up the compiled-in roots; trusting the platform's certificate store");
            &mut config
        }
    };
    config.build()
}

/// The root certificates of Amazon Trust Services (Amazon Root CA 1 to 4 and the Starfield
/// Services root that cross-signs them), which issue every AWS endpoint's certificate.
///
/// Compiled in, they cost a cold start nothing to find and five certificates to parse. The
/// platform store the SDK reads by default costs a file read and ~140 certificates parsed (one
/// bundle on Lambda's image), or ~140 files on a Debian host; it also trusts every public CA for
/// traffic that only ever goes to AWS. The cost: a root AWS moves to later needs a rebuild, and
/// an endpoint outside AWS is not trusted unless `SSL_CERT_FILE` adds the platform's roots.
pub const AWS_ROOTS: &[u8] = include_bytes!("../certs/amazon-trust-services.pem");

/// The TLS of every deployed connection: the SDK's default provider (rustls on aws-lc), trusting
/// [`AWS_ROOTS`], plus the platform's roots when `SSL_CERT_FILE` names a bundle.
fn tls_context() -> Result<TlsContext, HttpClientError> {
    let platform_roots = std::env::var_os("SSL_CERT_FILE").is_some();
    TlsContext::builder()
        .with_trust_store(
            TrustStore::empty()
                .with_native_roots(platform_roots)
                .with_pem_certificate(AWS_ROOTS),
        )
        .build()
}

fn tls_provider() -> tls::Provider {
    tls::Provider::rustls(CryptoMode::AwsLc)
}

/// The HTTPS client of deployed SDK clients, over [`tls_context`].
fn https_client() -> Result<SharedHttpClient, HttpClientError> {
    Ok(Builder::new()
        .tls_provider(tls_provider())
        .tls_context(tls_context()?)
        .build_https())
}

/// One connection of the SDK's HTTP stack, for a call sent without an SDK client (the SSM read,
/// [`crate::ssm`]): the same connector type the SDK clients use, so it adds no HTTP or TLS code
/// to a binary, over [`tls_context`] (it also speaks plain HTTP, to local servers).
pub(crate) fn connector(settings: HttpConnectorSettings) -> Result<Connector, HttpClientError> {
    Ok(Connector::builder()
        .connector_settings(settings)
        .tls_provider(tls_provider())
        .tls_context(tls_context()?)
        .build())
}

/// The SDK configuration of a client for a local server at `endpoint`.
pub(crate) fn local_config(endpoint: &str) -> SdkConfig {
    let credentials = Credentials::new(
        LOCAL_ACCESS_KEY,
        LOCAL_ACCESS_KEY,
        None,
        None,
        "itinera-local",
    );
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(LOCAL_REGION))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .endpoint_url(endpoint)
        .build()
}

/// The bounds of an SDK client's calls: connecting, one attempt, and a whole operation with its
/// retries.
pub(crate) fn timeouts(connect: Duration, attempt: Duration, operation: Duration) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(connect)
        .operation_attempt_timeout(attempt)
        .operation_timeout(operation)
        .build()
}

/// One AWS call that failed, naming the service and the operation, with the SDK error as its
/// source: what the adapters' errors carry for the log, never what a caller is shown.
#[derive(Debug, thiserror::Error)]
#[error("{service} {operation} failed")]
pub(crate) struct CallFailed {
    pub(crate) service: &'static str,
    pub(crate) operation: &'static str,
    #[source]
    pub(crate) source: BoxError,
}

/// A failed SDK call of `service`, and whether a later attempt may succeed: after a timeout, a
/// connection that failed, or a service error whose code is one of `transient_codes`.
pub(crate) fn failed_call<E, R>(
    service: &'static str,
    operation: &'static str,
    error: SdkError<E, R>,
    transient_codes: &[&str],
) -> (CallFailed, bool)
where
    E: ProvideErrorMetadata + Error + Send + Sync + 'static,
    R: Debug + Send + Sync + 'static,
{
    let transient = match &error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => true,
        SdkError::ServiceError(_) => error
            .code()
            .is_some_and(|code| transient_codes.contains(&code)),
        _ => false,
    };
    let call = CallFailed {
        service,
        operation,
        source: Box::new(error),
    };
    (call, transient)
}

#[cfg(test)]
mod tests {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;

    use super::*;

    /// The TLS layer parses the roots only when it opens its first connection, and panics on a
    /// certificate it cannot read: prove here that every one of them is a usable trust anchor.
    #[test]
    fn the_compiled_in_roots_are_the_five_amazon_trust_services_anchors() {
        let roots: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(AWS_ROOTS)
            .collect::<Result<_, _>>()
            .expect("the roots file is PEM");
        assert_eq!(roots.len(), 5);
        for root in &roots {
            webpki::anchor_from_trusted_cert(root).expect("a usable trust anchor");
        }
        assert!(https_client().is_ok());
    }
}

#[cfg(test)]
pub(crate) mod test_settings {
    use std::collections::HashMap;

    /// A settings lookup over `pairs` (variable name -> value), for the adapters' config tests.
    pub(crate) fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }
}
