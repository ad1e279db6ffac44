//! The local API: every route of the table on `127.0.0.1`, over the embedded durable store, with
//! no AWS account and no containers.
//!
//! It is a thin HTTP front end around the same pipeline the Lambda functions run: it turns each
//! hyper request into an `ApiRequest` (a fresh UUID as request id, the socket's peer as client IP,
//! the body read up to the pipeline's limit), and gzips responses over 1 KiB for clients that
//! accept it, which API Gateway does in AWS.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use itinera::api::{Api, ApiRequest, Credentials, MAX_BODY_BYTES, RequestBody};
use itinera::config::{ApiConfig, ConfigError, env};
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::SizeAbove;

/// Responses smaller than this are sent uncompressed (API Gateway's `MinimumCompressionSize`).
const MIN_COMPRESSED_BYTES: u64 = 1024;
/// How long shutdown waits for in-flight requests before closing anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The local API's settings.
#[derive(Clone, Debug)]
pub struct LocalConfig {
    /// `PORT` (default 3000; 0 picks a free port).
    pub port: u16,
    /// `DATA_DIR` (default `.data`): where the embedded store keeps its file.
    pub data_dir: PathBuf,
    pub api: ApiConfig,
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
        Ok(Self {
            port,
            data_dir,
            api: ApiConfig::from_lookup(lookup)?,
        })
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(env)
    }
}

/// Serves `api` on `listener` until `shutdown` completes, then stops accepting and waits (up to a
/// grace period) for in-flight requests to finish.
pub async fn serve(listener: TcpListener, api: Arc<Api>, shutdown: impl Future<Output = ()>) {
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
                let api = Arc::clone(&api);
                let service = ServiceBuilder::new()
                    .layer(CompressionLayer::new().compress_when(SizeAbove::new(MIN_COMPRESSED_BYTES)))
                    .service_fn(move |request| handle(Arc::clone(&api), peer, request));
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

/// One request through the pipeline. A body that cannot be read because the client went away
/// ends the connection instead of reaching a handler.
async fn handle(
    api: Arc<Api>,
    peer: SocketAddr,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Box<dyn std::error::Error + Send + Sync>> {
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
    Ok(api.handle(request).await.map(Full::new))
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
