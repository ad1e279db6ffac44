//! The embedded blob store's presigned URLs, served as S3 serves its own: `PUT /blobs/{key...}`
//! stores an upload, `GET /blobs/{key...}` answers a download, and `OPTIONS` answers a browser's
//! preflight for the configured origins. The URL is the authority: no token, no route of the
//! table, nothing the pipeline checks. [`EmbeddedBlobs`] verifies the signature, expiry, type
//! and size.
//!
//! Bodies stream both ways: an upload is handed chunk by chunk to the store's blocking writer
//! (on the runtime's blocking threads, so a slow client holds no worker thread), and a download
//! is read from its file in chunks while the client receives it, with its `Content-Type` and
//! `Content-Length`. Neither is ever held in memory whole.
//!
//! A refusal is a problem response: 403 for a signature that does not match or an expired URL,
//! 404 for a key with nothing under it, 413 and 400 for a body longer or shorter than the
//! signed size, 415 for another content type, 400 for a target that is no presigned URL; a
//! failure of the files is a generic 500 with the cause in the log.

use std::io::{self, Read};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use itinera_embedded::{BLOBS_PATH, BlobDownload, BlobRequestError, EmbeddedBlobs};
use itinera_http::CorsPolicy;
use tokio::sync::mpsc;

use crate::{BoxError, ResponseBody, full};

/// How much of a body moves at once between the socket and the file.
const CHUNK: usize = 64 * 1024;
/// Chunks in flight between the socket and the file: enough to keep both busy, small enough
/// that a refused upload has read little of what the client sends.
const CHUNKS_IN_FLIGHT: usize = 4;
/// The methods a blob URL answers.
const METHODS: [Method; 2] = [Method::GET, Method::PUT];

/// Serves the presigned URLs of one embedded blob store.
#[derive(Clone)]
pub struct BlobUrls {
    store: EmbeddedBlobs,
    cors: CorsPolicy,
}

impl BlobUrls {
    /// Serves `store`'s URLs, to browsers on the origins `cors` allows.
    pub fn new(store: EmbeddedBlobs, cors: CorsPolicy) -> Self {
        Self { store, cors }
    }

    /// Whether `path` is one of the store's URLs rather than the API's.
    pub fn serves(path: &str) -> bool {
        path.starts_with(BLOBS_PATH)
    }

    /// Answers one request to a presigned URL.
    pub async fn respond(&self, request: Request<Incoming>) -> Response<ResponseBody> {
        let request_id = uuid::Uuid::new_v4().to_string();
        let target = request
            .uri()
            .path_and_query()
            .map_or_else(String::new, |target| target.as_str().to_owned());
        let headers = request.headers().clone();
        let method = request.method().clone();
        let answer = match method {
            Method::PUT => self.upload(&target, request).await,
            Method::GET => self.download(&target).await,
            Method::OPTIONS => Ok(self.preflight(&headers)),
            _ => Err(Refusal::MethodNotAllowed),
        };
        let mut response = answer.unwrap_or_else(|refusal| refusal.into_response(&request_id));
        let response_headers = response.headers_mut();
        if method != Method::OPTIONS {
            self.cors.decorate(&headers, response_headers);
        }
        itinera_http::apply_security_headers(response_headers);
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            response_headers.insert("x-request-id", value);
        }
        tracing::info!(
            request_id,
            method = %method,
            status = response.status().as_u16(),
            "blob URL request"
        );
        response
    }

    /// Streams the body into the store's blocking writer, which checks the URL first.
    async fn upload(
        &self,
        target: &str,
        request: Request<Incoming>,
    ) -> Result<Response<ResponseBody>, Refusal> {
        let (parts, mut body) = request.into_parts();
        let content_type = match parts.headers.get(header::CONTENT_TYPE) {
            Some(value) => Some(value.to_str().map_err(|_| Refusal::BadHeader)?.to_owned()),
            None => None,
        };
        let content_length = match parts.headers.get(header::CONTENT_LENGTH) {
            Some(value) => Some(
                value
                    .to_str()
                    .ok()
                    .and_then(|text| text.parse::<u64>().ok())
                    .ok_or(Refusal::BadHeader)?,
            ),
            None => None,
        };
        let (chunks, received) = mpsc::channel(CHUNKS_IN_FLIGHT);
        let (store, target) = (self.store.clone(), target.to_owned());
        let stored = tokio::task::spawn_blocking(move || {
            store.receive_upload(
                &target,
                content_type.as_deref(),
                content_length,
                ChannelReader::new(received),
            )
        });
        // Feed the writer until the body ends or the writer stops reading (a refusal, or the
        // byte past the size); then the channel is closed and the rest is not read.
        while let Some(frame) = body.frame().await {
            let chunk = match frame {
                Ok(frame) => match frame.into_data() {
                    Ok(data) => Ok(data),
                    Err(_) => continue,
                },
                Err(error) => Err(io::Error::other(error)),
            };
            let failed = chunk.is_err();
            if chunks.send(chunk).await.is_err() || failed {
                break;
            }
        }
        drop(chunks);
        let head = stored
            .await
            .map_err(|error| Refusal::Failed(Box::new(error)))?
            .map_err(Refusal::from)?;
        tracing::debug!(
            size = head.size,
            content_type = head.content_type,
            "upload stored"
        );
        Ok(Response::new(full(Bytes::new())))
    }

    /// Opens the object on a blocking thread and streams it from there.
    async fn download(&self, target: &str) -> Result<Response<ResponseBody>, Refusal> {
        let (store, target) = (self.store.clone(), target.to_owned());
        let download = tokio::task::spawn_blocking(move || store.open_download(&target))
            .await
            .map_err(|error| Refusal::Failed(Box::new(error)))?
            .map_err(Refusal::from)?;
        let (content_type, size) = (download.head.content_type.clone(), download.head.size);
        let mut response = Response::new(ResponseBody::new(FileBody::stream(download)));
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(&content_type)
                .map_err(|error| Refusal::Failed(Box::new(error)))?,
        );
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
        Ok(response)
    }

    /// A browser's preflight: the URL's methods, and the headers a form upload sends.
    fn preflight(&self, request: &HeaderMap) -> Response<ResponseBody> {
        let mut response = Response::new(full(Bytes::new()));
        *response.status_mut() = StatusCode::NO_CONTENT;
        self.cors
            .decorate_preflight(request, &METHODS, response.headers_mut());
        response
    }
}

/// Why a request to a blob URL was not answered with the object or a stored upload.
#[derive(Debug)]
enum Refusal {
    Request(BlobRequestError),
    /// A `Content-Type` or `Content-Length` that is no header value of its kind.
    BadHeader,
    MethodNotAllowed,
    /// A blocking task that did not finish, or a stored type that is no header value.
    Failed(BoxError),
}

impl From<BlobRequestError> for Refusal {
    fn from(error: BlobRequestError) -> Self {
        Self::Request(error)
    }
}

impl Refusal {
    /// The status, the problem's slug and title, and what the client is told.
    fn problem(&self) -> (StatusCode, &'static str, &'static str, &'static str) {
        use BlobRequestError as E;
        match self {
            Self::Request(E::Malformed) => (
                StatusCode::BAD_REQUEST,
                "bad-request",
                "Bad request",
                "The URL is not a presigned blob URL.",
            ),
            Self::BadHeader => (
                StatusCode::BAD_REQUEST,
                "bad-request",
                "Bad request",
                "The Content-Type or Content-Length header is malformed.",
            ),
            Self::Request(E::BadSignature) => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "Forbidden",
                "The URL's signature does not match this request.",
            ),
            Self::Request(E::Expired) => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "Forbidden",
                "The URL has expired.",
            ),
            Self::Request(E::WrongContentType) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                "The upload's Content-Type is not the one the URL was signed for.",
            ),
            Self::Request(E::TooLarge) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Payload too large",
                "The upload is longer than the size the URL was signed for.",
            ),
            Self::Request(E::Incomplete) => (
                StatusCode::BAD_REQUEST,
                "bad-request",
                "Bad request",
                "The upload is shorter than the size the URL was signed for.",
            ),
            Self::Request(E::NotFound) => (
                StatusCode::NOT_FOUND,
                "not-found",
                "Not found",
                "Nothing is stored under this URL's key.",
            ),
            Self::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
                "Blob URLs accept only GET and PUT.",
            ),
            Self::Request(E::Io(_)) | Self::Failed(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal-error",
                "Internal server error",
                "The request failed unexpectedly; it has been logged.",
            ),
        }
    }

    fn into_response(self, request_id: &str) -> Response<ResponseBody> {
        let (status, slug, title, detail) = self.problem();
        let cause: Option<&(dyn std::error::Error + 'static)> = match &self {
            Self::Request(error @ BlobRequestError::Io(_)) => Some(error),
            Self::Failed(error) => Some(error.as_ref()),
            _ => None,
        };
        if let Some(cause) = cause {
            tracing::error!(
                request_id,
                error = %itinera::error::chain(cause),
                "a blob URL request failed"
            );
        }
        let body = format!(
            r#"{{"type":"urn:itinera:problem:{slug}","title":"{title}","status":{},"detail":"{detail}","requestId":"{request_id}"}}"#,
            status.as_u16()
        );
        let mut response = Response::new(full(Bytes::from(body)));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if matches!(self, Self::MethodNotAllowed) {
            headers.insert(header::ALLOW, HeaderValue::from_static("GET, PUT, OPTIONS"));
        }
        response
    }
}

/// The blocking side of an upload: reads the chunks the request's task sends.
struct ChannelReader {
    chunks: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
}

impl ChannelReader {
    fn new(chunks: mpsc::Receiver<io::Result<Bytes>>) -> Self {
        Self {
            chunks,
            current: Bytes::new(),
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.chunks.blocking_recv() {
                Some(chunk) => self.current = chunk?,
                None => return Ok(0),
            }
        }
        let n = buffer.len().min(self.current.len());
        buffer[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

/// A download's body: chunks a blocking thread reads from the file, exactly the object's size.
struct FileBody {
    chunks: mpsc::Receiver<io::Result<Bytes>>,
    remaining: u64,
}

impl FileBody {
    /// Starts reading `download` on a blocking thread; the reading stops when the client goes.
    fn stream(download: BlobDownload) -> Self {
        let (sender, chunks) = mpsc::channel(CHUNKS_IN_FLIGHT);
        let remaining = download.head.size;
        let mut file = download.body;
        tokio::task::spawn_blocking(move || {
            loop {
                let mut buffer = vec![0; CHUNK];
                let chunk = match file.read(&mut buffer) {
                    Ok(0) => return,
                    Ok(n) => {
                        buffer.truncate(n);
                        Ok(Bytes::from(buffer))
                    }
                    Err(error) => Err(error),
                };
                let failed = chunk.is_err();
                if sender.blocking_send(chunk).is_err() || failed {
                    return;
                }
            }
        });
        Self { chunks, remaining }
    }
}

impl Body for FileBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.chunks.poll_recv(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                self.remaining = self.remaining.saturating_sub(chunk.len() as u64);
                Poll::Ready(Some(Ok(Frame::data(chunk))))
            }
            Poll::Ready(Some(Err(error))) => Poll::Ready(Some(Err(Box::new(error)))),
            Poll::Ready(None) if self.remaining > 0 => Poll::Ready(Some(Err(Box::new(
                io::Error::new(io::ErrorKind::UnexpectedEof, "the blob file ended early"),
            )))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}
