//! Test support: a `spawn_app`-style helper that gives each test its own API over its own
//! embedded store, and small request/response types to drive it through the router.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use itinera::api::{Api, ApiRequest, CorsPolicy, Credentials, CursorCodec, RequestBody, Services};
use itinera::clock::{IdGenerator, SystemClock, UuidV7Ids};
use itinera::storage::Store;
use itinera_embedded::EmbeddedStore;
use serde_json::Value;
use tempfile::TempDir;

/// The origin test apps allow for CORS.
pub const ALLOWED_ORIGIN: &str = "https://app.example.com";
/// The key test apps sign cursors with.
pub const SIGNING_KEY: &[u8] = b"test-signing-key-of-at-least-32-bytes";

/// An API over a fresh embedded store in a temporary directory, removed when dropped.
pub struct TestApp {
    pub api: Api,
    pub store: Arc<dyn Store>,
    _data: TempDir,
}

/// A new app with UUIDv7 ids.
pub fn spawn_app() -> TestApp {
    spawn_app_with_ids(Arc::new(UuidV7Ids))
}

/// A new app whose entities get ids from `ids`.
pub fn spawn_app_with_ids(ids: Arc<dyn IdGenerator>) -> TestApp {
    let data = tempfile::tempdir().expect("temporary directory");
    let store: Arc<dyn Store> =
        Arc::new(EmbeddedStore::open(data.path()).expect("embedded store opens"));
    TestApp {
        api: api_over(Arc::clone(&store), ids),
        store,
        _data: data,
    }
}

/// An API over any store, configured as the test apps are.
pub fn api_over(store: Arc<dyn Store>, ids: Arc<dyn IdGenerator>) -> Api {
    let services = Services {
        store,
        clock: Arc::new(SystemClock),
        ids,
        cursors: CursorCodec::new(SIGNING_KEY),
        authenticator: None,
    };
    Api::new(
        services,
        CorsPolicy::from_list(ALLOWED_ORIGIN).expect("valid origin"),
    )
}

/// Always hands out the same id (for fixtures whose ids are written down, such as sample events).
pub struct FixedId(pub uuid::Uuid);

impl IdGenerator for FixedId {
    fn new_id(&self) -> uuid::Uuid {
        self.0
    }
}

/// A request under construction.
#[derive(Clone, Debug)]
pub struct TestRequest {
    method: Method,
    target: String,
    headers: HeaderMap,
    body: RequestBody,
}

impl TestRequest {
    pub fn new(method: Method, target: impl Into<String>) -> Self {
        Self {
            method,
            target: target.into(),
            headers: HeaderMap::new(),
            body: RequestBody::Complete(Bytes::new()),
        }
    }

    pub fn get(target: impl Into<String>) -> Self {
        Self::new(Method::GET, target)
    }

    pub fn post(target: impl Into<String>) -> Self {
        Self::new(Method::POST, target)
    }

    pub fn patch(target: impl Into<String>) -> Self {
        Self::new(Method::PATCH, target)
    }

    pub fn delete(target: impl Into<String>) -> Self {
        Self::new(Method::DELETE, target)
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.append(
            HeaderName::try_from(name).expect("header name"),
            HeaderValue::from_str(value).expect("header value"),
        );
        self
    }

    /// A JSON body with its content type.
    pub fn json(self, body: &Value) -> Self {
        self.raw_body("application/json", body.to_string())
    }

    pub fn raw_body(mut self, content_type: &str, body: impl Into<Bytes>) -> Self {
        self.headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_str(content_type).expect("content type"),
        );
        self.body = RequestBody::Complete(body.into());
        self
    }

    fn into_api_request(self) -> ApiRequest {
        let (path, query) = match self.target.split_once('?') {
            Some((path, query)) => (path.to_owned(), Some(query.to_owned())),
            None => (self.target, None),
        };
        ApiRequest {
            method: self.method,
            path,
            query,
            headers: self.headers,
            body: self.body,
            request_id: uuid::Uuid::new_v4().to_string(),
            credentials: Credentials::BearerHeader,
            client_ip: Some("203.0.113.7".into()),
        }
    }
}

/// A response, with its body read.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl TestResponse {
    /// The body as JSON (`Null` when empty).
    pub fn json(&self) -> Value {
        if self.body.is_empty() {
            return Value::Null;
        }
        serde_json::from_slice(&self.body).expect("JSON body")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

impl TestApp {
    pub async fn send(&self, request: TestRequest) -> TestResponse {
        send(&self.api, request).await
    }

    /// Creates an airplane and returns its JSON and ETag.
    pub async fn create_airplane(&self, model_number: &str, capacity: u32) -> (Value, String) {
        let response = self
            .send(TestRequest::post("/v1/airplanes").json(&serde_json::json!({
                "modelNumber": model_number,
                "capacity": capacity,
            })))
            .await;
        assert_eq!(
            response.status,
            StatusCode::CREATED,
            "{:?}",
            response.json()
        );
        let etag = response.header("etag").expect("ETag").to_owned();
        (response.json()["data"].clone(), etag)
    }

    /// Every airplane, following cursors, in list order.
    pub async fn all_airplanes(&self) -> Vec<Value> {
        let mut airplanes = Vec::new();
        let mut target = "/v1/airplanes?limit=100".to_owned();
        loop {
            let response = self.send(TestRequest::get(&target)).await;
            assert_eq!(response.status, StatusCode::OK);
            let body = response.json();
            airplanes.extend(body["data"].as_array().expect("list").iter().cloned());
            match body["pagination"]["nextCursor"].as_str() {
                Some(cursor) => target = format!("/v1/airplanes?limit=100&cursor={cursor}"),
                None => return airplanes,
            }
        }
    }
}

/// Sends a request through an API's router and pipeline.
pub async fn send(api: &Api, request: TestRequest) -> TestResponse {
    let response = api.handle(request.into_api_request()).await;
    let (parts, body) = response.into_parts();
    TestResponse {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}
