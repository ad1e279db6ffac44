//! The local API: every route of the table on `127.0.0.1`, over the embedded durable store, with
//! no AWS account and no containers.
//!
//! It is a thin HTTP front end around the same pipeline the Lambda functions run: it turns each
//! hyper request into an `ApiRequest` (a fresh UUID as request id, the socket's peer as client IP,
//! the body read up to the pipeline's limit), and gzips responses over 1 KiB for clients that
//! accept it, which API Gateway does in AWS.
//!
//! It also answers `GET /openapi.json` with the API's OpenAPI 3.1 document
//! ([`itinera_http::openapi`]), `GET /docs` with the reference page over it ([`docs`]) and
//! `GET /metrics` with the process's metrics in Prometheus' text format ([`itinera::metrics`]),
//! which no Lambda function serves (the functions write the same figures as EMF documents).
//!
//! Next to the API it runs the background functions in-process ([`background`]): the worker on
//! the durable embedded queue, and the schedules on timers. Emails go to `.eml` files in
//! `DATA_DIR/outbox/`. Files go to the embedded blob store under `DATA_DIR/blobs/`, and the
//! server answers that store's presigned URLs itself ([`blobs`]), as S3 answers its own. The
//! token key pair and the blob URLs' key are kept in `DATA_DIR` too ([`dev_keys`]), so tokens
//! and URLs outlive a restart; no other entry point keeps keys on disk.

pub mod background;
pub mod blobs;
pub mod demo;
pub mod dev_keys;
pub mod docs;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::blobs::BlobUrls;
use crate::dev_keys::{DevKeyError, blob_signing_key, dev_keys};
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use itinera::accounts::{self, Email, Password};
use itinera::auth::TokenKeys;
use itinera::auth::keys::{PRIVATE_KEY_VARIABLE, PUBLIC_KEY_VARIABLE};
use itinera::blobs::BlobStore;
use itinera::clock::Clock;
use itinera::config::{ConfigError, SigningKey, env};
use itinera::error::DomainError;
use itinera::jobs::JobQueue;
use itinera::metrics;
use itinera::payments::{GatewaySetting, Platform};
use itinera::ratelimit::RateLimitConfig;
use itinera::storage::Store;
use itinera_embedded::EmbeddedBlobs;
use itinera_http::{
    Api, ApiConfig, ApiRequest, CachedAuthenticator, Credentials, CursorCodec, MAX_BODY_BYTES,
    RequestBody, Services,
};
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};

/// The error type of response bodies and of the server's own failures.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// Every response body the server sends: whole (the API's answers) or streamed (downloads).
pub type ResponseBody = BoxBody<Bytes, BoxError>;

/// A body sent whole.
pub(crate) fn full(bytes: Bytes) -> ResponseBody {
    Full::new(bytes).map_err(|never| match never {}).boxed()
}

/// Responses smaller than this are sent uncompressed (API Gateway's `MinimumCompressionSize`).
const MIN_COMPRESSED_BYTES: u64 = 1024;
/// How long shutdown waits for in-flight requests before closing anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The local API's settings.
#[derive(Clone, Debug)]
pub struct LocalConfig {
    /// `PORT` (default 3000; 0 picks a free port).
    pub port: u16,
    /// `DATA_DIR` (default `.data`): where the embedded store keeps its file (and the dev key pair).
    pub data_dir: PathBuf,
    pub api: ApiConfig,
    /// `RATE_*`: the rate-limit tiers (every tier counted here, on the embedded store).
    pub limits: RateLimitConfig,
    /// `BOOTSTRAP_ADMIN_EMAIL` and `BOOTSTRAP_ADMIN_PASSWORD`: the first admin, created at start
    /// when no admin exists.
    pub bootstrap_admin: Option<(Email, Password)>,
    /// `MAIL_FROM` (default `bookings@itinera.localhost`): the sender of the emails written to
    /// the outbox directory.
    pub mail_from: Email,
    /// `PAYMENT_GATEWAY` (default `test-cards`, the only gateway that needs no provider): the
    /// gateway bookings are paid and refunded through.
    pub payments: GatewaySetting,
    /// `FLEET_ALERTS_EMAIL` (default `fleet-alerts@itinera.localhost`): where the staff's
    /// reminders of expiring insurance and registrations are emailed (into the outbox directory).
    pub fleet_alerts: Email,
}

impl LocalConfig {
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let port = match lookup("PORT") {
            Some(port) => port
                .parse()
                .map_err(|_| ConfigError::new("PORT", "must be a port number (0-65535)"))?,
            None => 3000,
        };
        let data_dir = lookup("DATA_DIR").map_or_else(|| PathBuf::from(".data"), PathBuf::from);
        let bootstrap_admin = match (lookup(ADMIN_EMAIL), lookup(ADMIN_PASSWORD)) {
            (None, None) => None,
            (Some(email), Some(password)) => Some((
                Email::parse(&email).map_err(|problem| ConfigError::new(ADMIN_EMAIL, problem))?,
                Password::parse(&password)
                    .map_err(|problem| ConfigError::new(ADMIN_PASSWORD, problem))?,
            )),
            (Some(_), None) => {
                return Err(ConfigError::new(
                    ADMIN_PASSWORD,
                    "must be set with BOOTSTRAP_ADMIN_EMAIL",
                ));
            }
            (None, Some(_)) => {
                return Err(ConfigError::new(
                    ADMIN_EMAIL,
                    "must be set with BOOTSTRAP_ADMIN_PASSWORD",
                ));
            }
        };
        let mail_from = match lookup(MAIL_FROM) {
            Some(address) => {
                Email::parse(&address).map_err(|problem| ConfigError::new(MAIL_FROM, problem))?
            }
            None => Email::parse(DEFAULT_MAIL_FROM)
                .map_err(|problem| ConfigError::new(MAIL_FROM, problem))?,
        };
        let fleet_alerts = match lookup(itinera::fleet::FLEET_ALERTS_EMAIL) {
            Some(_) => itinera::fleet::alerts_address(&lookup)?,
            None => Email::parse(DEFAULT_FLEET_ALERTS)
                .map_err(|problem| ConfigError::new(itinera::fleet::FLEET_ALERTS_EMAIL, problem))?,
        };
        Ok(Self {
            port,
            data_dir,
            mail_from,
            fleet_alerts,
            payments: GatewaySetting::from_lookup(&lookup, Platform::Local)?,
            limits: RateLimitConfig::from_lookup(&lookup)?,
            api: ApiConfig::from_lookup(lookup)?,
            bootstrap_admin,
        })
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(env)
    }
}

const ADMIN_EMAIL: &str = "BOOTSTRAP_ADMIN_EMAIL";
const MAIL_FROM: &str = "MAIL_FROM";
const DEFAULT_MAIL_FROM: &str = "bookings@itinera.localhost";
const DEFAULT_FLEET_ALERTS: &str = "fleet-alerts@itinera.localhost";
/// How long a verified token is remembered: the cache time of the authorizer in AWS.
const VERIFIED_TOKEN_TTL: chrono::TimeDelta = chrono::TimeDelta::seconds(60);
const ADMIN_PASSWORD: &str = "BOOTSTRAP_ADMIN_PASSWORD";

/// Why the local API could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("the dev key pair in the data directory is unusable")]
    DevKeys(#[from] DevKeyError),
    #[error("the blob directory in the data directory cannot be opened")]
    Blobs(#[source] std::io::Error),
    #[error("the first admin could not be created")]
    Bootstrap(#[source] DomainError),
}

/// The embedded blob store under the data directory, signing its URLs with the key kept there
/// ([`blob_signing_key`]) for the server at `address`, so a client on this machine can use them.
pub fn open_blobs(
    config: &LocalConfig,
    address: SocketAddr,
    clock: Arc<dyn Clock>,
) -> Result<EmbeddedBlobs, StartError> {
    let key = blob_signing_key(&config.data_dir)?;
    EmbeddedBlobs::open(&config.data_dir, key, &format!("http://{address}"), clock)
        .map_err(StartError::Blobs)
}

/// The pipeline over `store`: it issues and verifies tokens itself (with `JWT_PRIVATE_KEY` /
/// `JWT_PUBLIC_KEY` when set, otherwise with a dev key pair kept in the data directory), counts
/// every rate-limit tier in the store, sends jobs to `jobs` and signs file URLs with `blobs`.
pub fn build_api(
    config: &LocalConfig,
    store: Arc<dyn Store>,
    jobs: Arc<dyn JobQueue>,
    blobs: Arc<dyn BlobStore>,
) -> Result<Api, StartError> {
    let keys = match env(PRIVATE_KEY_VARIABLE) {
        Some(_) => TokenKeys::from_env()?,
        None => {
            let (private, public) = dev_keys(&config.data_dir)?;
            let private = private.expose_secret().to_owned();
            TokenKeys::from_lookup(|name| match name {
                PRIVATE_KEY_VARIABLE => Some(private.clone()),
                PUBLIC_KEY_VARIABLE => Some(public.clone()),
                other => env(other),
            })?
        }
    };
    let cursor_key = config.api.cursor_signing_key.clone().unwrap_or_else(|| {
        tracing::warn!(
            "CURSOR_SIGNING_KEY is not set: using a random key, so cursors end with this process"
        );
        SigningKey::random()
    });
    let services = Services::new(store, CursorCodec::new(cursor_key.as_bytes()))
        .with_authenticator(Arc::new(CachedAuthenticator::new(
            Arc::new(keys.token_verifier()?),
            VERIFIED_TOKEN_TTL,
        )))
        .with_token_issuer(keys.token_issuer()?)
        .with_rate_limits(config.limits)
        .with_booking_settings(config.api.bookings)
        .with_payment_gateway(config.payments.gateway())
        .with_blob_store(blobs)
        .with_job_queue(jobs);
    Ok(Api::new(services, config.api.cors.clone()))
}

/// Creates the first admin from the bootstrap settings when no admin exists yet.
pub async fn bootstrap_admin(config: &LocalConfig, api: &Api) -> Result<(), StartError> {
    let Some((email, password)) = config.bootstrap_admin.clone() else {
        return Ok(());
    };
    let services = api.services();
    let created = accounts::bootstrap_admin(
        &*services.store,
        &*services.clock,
        &*services.ids,
        &services.passwords,
        email,
        password,
    )
    .await
    .map_err(StartError::Bootstrap)?;
    match created {
        Some(admin) => tracing::info!(user_id = %admin.id, "created the first admin"),
        None => tracing::info!("an admin exists; the bootstrap settings were not needed"),
    }
    Ok(())
}

/// Serves `api` (and the presigned URLs of `blobs`, when given) on `listener` until `shutdown`
/// completes, then stops accepting and waits (up to a grace period) for in-flight requests to
/// finish.
pub async fn serve(
    listener: TcpListener,
    api: Arc<Api>,
    blobs: Option<BlobUrls>,
    shutdown: impl Future<Output = ()>,
) {
    let connections = auto::Builder::new(TokioExecutor::new());
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        tracing::warn!(%error, "accepting a connection failed");
                        continue;
                    }
                };
                let (api, blobs) = (Arc::clone(&api), blobs.clone());
                // Files go out as stored, with their length: S3 does not compress them either,
                // and photos and PDFs are compressed already.
                let compressed = SizeAbove::new(MIN_COMPRESSED_BYTES)
                    .and(NotForContentType::IMAGES)
                    .and(NotForContentType::const_new("application/pdf"));
                let service = ServiceBuilder::new()
                    .layer(CompressionLayer::new().compress_when(compressed))
                    .service_fn(move |request| {
                        handle(Arc::clone(&api), blobs.clone(), peer, request)
                    });
                let connection = connections
                    .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
                    .into_owned();
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(error) = connection.await {
                        tracing::debug!(%error, "connection ended with an error");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tracing::info!("shutting down: waiting for in-flight requests");
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("in-flight requests did not finish within the grace period");
    }
}

/// Where the local API serves the OpenAPI document of the API. Not a route of the table: no
/// Lambda function serves it (the committed `docs/openapi.json` is the same document).
pub const OPENAPI_PATH: &str = "/openapi.json";

/// `GET /openapi.json`: the document, generated once per process, anonymous.
fn openapi_document() -> Response<ResponseBody> {
    static DOCUMENT: std::sync::OnceLock<Bytes> = std::sync::OnceLock::new();
    let body = DOCUMENT
        .get_or_init(|| Bytes::from(itinera_http::openapi::document_text()))
        .clone();
    let mut response = Response::new(full(body));
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    itinera_http::apply_security_headers(headers);
    response
}

/// Where the local API serves its metrics in Prometheus' text format. Not a route of the table:
/// in AWS the functions publish the same figures as EMF documents in their logs.
pub const METRICS_PATH: &str = "/metrics";

/// `GET /metrics`: the running totals of the process's metrics (requests, latency, bookings,
/// jobs, ...), anonymous like the rest of what only the local API serves.
fn metrics_text() -> Response<ResponseBody> {
    let text = metrics::prometheus::render(&metrics::global().totals());
    let mut response = Response::new(full(Bytes::from(text)));
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(metrics::prometheus::CONTENT_TYPE),
    );
    itinera_http::apply_security_headers(headers);
    response
}

/// One request through the pipeline (`GET /openapi.json`, `GET /metrics`, the `/docs` page and
/// the blob URLs aside). A body that cannot be read because the client went away
/// ends the connection instead of reaching a handler.
async fn handle(
    api: Arc<Api>,
    blobs: Option<BlobUrls>,
    peer: SocketAddr,
    request: Request<Incoming>,
) -> Result<Response<ResponseBody>, BoxError> {
    if let Some(blobs) = blobs
        && BlobUrls::serves(request.uri().path())
    {
        return Ok(blobs.respond(request).await);
    }
    if request.method() == http::Method::GET && request.uri().path() == OPENAPI_PATH {
        return Ok(openapi_document());
    }
    if request.method() == http::Method::GET && request.uri().path() == METRICS_PATH {
        return Ok(metrics_text());
    }
    if let Some(page) = docs::respond(request.method(), request.uri().path()) {
        return Ok(page.map(full));
    }
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => RequestBody::Complete(collected.to_bytes()),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => RequestBody::TooLarge,
        Err(error) => return Err(error),
    };
    let request = ApiRequest {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body,
        request_id: uuid::Uuid::new_v4().to_string(),
        credentials: Credentials::BearerHeader,
        client_ip: Some(peer.ip().to_string()),
    };
    Ok(api.handle(request).await.map(full))
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}
