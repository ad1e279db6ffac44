//! A plain HTTP client for tests that talk to a server over a socket (moto's S3, the local API
//! as its own process): the SDK's own connector, so it costs no crate of its own.

use std::collections::HashMap;

use aws_smithy_http_client::Connector;
use aws_smithy_runtime_api::client::http::HttpConnector;
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;

/// Sends requests over plain HTTP with the SDK's own connector, as a browser or curl would: the
/// presigned headers as they are, and the body's real length. It speaks to moto's S3 and to
/// the local API alike.
pub struct HttpClient(Connector);

impl Default for HttpClient {
    fn default() -> Self {
        Self::new()
    }
}

/// Why a request got no whole answer: the connection was refused or broke before the answer's
/// last byte (a server that died mid-request).
#[derive(Debug, thiserror::Error)]
#[error("no whole answer from the server: {0}")]
pub struct NoAnswer(String);

impl HttpClient {
    pub fn new() -> Self {
        Self(Connector::builder().build_http())
    }

    /// The status and body of one request.
    pub async fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> (u16, Vec<u8>) {
        let answer = self.exchange(method, url, headers, body).await;
        (answer.status, answer.body)
    }

    /// The whole answer to one request; panics when there is none.
    pub async fn exchange(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> HttpAnswer {
        self.try_exchange(method, url, headers, body)
            .await
            .expect("the server answers")
    }

    /// The whole answer to one request, or why there is none: for tests that stop a server
    /// while requests are in flight.
    pub async fn try_exchange(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> Result<HttpAnswer, NoAnswer> {
        let mut request = http::Request::builder().method(method).uri(url);
        for (name, value) in headers {
            // A browser computes the length from the body it sends, whatever was signed.
            if !name.eq_ignore_ascii_case("content-length") {
                request = request.header(name, value);
            }
        }
        if method == "PUT" {
            request = request.header("content-length", body.len());
        }
        let request = request
            .body(SdkBody::from(body))
            .expect("a well-formed request");
        let request = HttpRequest::try_from(request).expect("an SDK request");
        let response = self
            .0
            .call(request)
            .await
            .map_err(|error| NoAnswer(format!("{error:?}")))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| (name.to_ascii_lowercase(), value.to_owned()))
            .collect();
        let body = ByteStream::new(response.into_body())
            .collect()
            .await
            .map_err(|error| NoAnswer(format!("{error:?}")))?
            .into_bytes()
            .to_vec();
        Ok(HttpAnswer {
            status,
            headers,
            body,
        })
    }
}

/// A response: its status, its headers (names in lowercase) and its body.
pub struct HttpAnswer {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl HttpAnswer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}
