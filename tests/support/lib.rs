//! Test support: a `spawn_app`-style helper that gives each test its own API over its own
//! embedded store, and small request/response types to drive it through the router.

use std::sync::{Arc, LazyLock};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use itinera::api::{Api, ApiRequest, CorsPolicy, Credentials, CursorCodec, RequestBody, Services};
use itinera::auth::keys::{DEFAULT_AUDIENCE, DEFAULT_ISSUER};
use itinera::auth::{PrivateKey, TokenIssuer, TokenVerifier};
use itinera::clock::{IdGenerator, UuidV7Ids};
use itinera::identity::{Principal, Role, UserId};
use itinera::ratelimit::RateLimitConfig;
use itinera::storage::Store;
use itinera_embedded::EmbeddedStore;
use serde_json::Value;
use tempfile::TempDir;

/// The origin test apps allow for CORS.
pub const ALLOWED_ORIGIN: &str = "https://app.example.com";
/// The key test apps sign cursors with.
pub const SIGNING_KEY: &[u8] = b"test-signing-key-of-at-least-32-bytes";

/// The key pair test apps sign and verify access tokens with, made once per test process.
static TOKEN_KEY: LazyLock<PrivateKey> =
    LazyLock::new(|| PrivateKey::generate().expect("an Ed25519 key"));

/// The issuer of access tokens test apps accept.
pub fn token_issuer() -> TokenIssuer {
    TokenIssuer::new(&TOKEN_KEY, DEFAULT_ISSUER, DEFAULT_AUDIENCE).expect("a usable key")
}

/// The verifier of the tokens [`token_issuer`] issues, as the API's authorizer holds it.
pub fn token_verifier() -> TokenVerifier {
    TokenVerifier::new(&TOKEN_KEY.public_key(), DEFAULT_ISSUER, DEFAULT_AUDIENCE)
}

/// An API over a fresh embedded store in a temporary directory, removed when dropped.
///
/// Requests sent with [`TestApp::send`] go as a staff member unless they carry their own
/// `Authorization` or are marked [`TestRequest::anonymous`], so tests of the fleet need not sign in.
pub struct TestApp {
    pub api: Api,
    pub store: Arc<dyn Store>,
    /// The staff member requests go as by default.
    pub staff: Principal,
    staff_token: String,
    _data: TempDir,
}

/// A new app with UUIDv7 ids and the default rate limits.
pub fn spawn_app() -> TestApp {
    spawn_app_with(Arc::new(UuidV7Ids), RateLimitConfig::default())
}

/// A new app whose entities get ids from `ids`.
pub fn spawn_app_with_ids(ids: Arc<dyn IdGenerator>) -> TestApp {
    spawn_app_with(ids, RateLimitConfig::default())
}

/// A new app with its own id generator and rate limits.
pub fn spawn_app_with(ids: Arc<dyn IdGenerator>, limits: RateLimitConfig) -> TestApp {
    let data = tempfile::tempdir().expect("temporary directory");
    let store: Arc<dyn Store> =
        Arc::new(EmbeddedStore::open(data.path()).expect("embedded store opens"));
    let staff = principal(Role::Staff);
    TestApp {
        api: api_over_with(Arc::clone(&store), ids, limits),
        store,
        staff_token: token_of(&staff),
        staff,
        _data: data,
    }
}

/// A principal of `role` with a fresh id, that exists only in tokens (enough for routes that do
/// not look the user up).
pub fn principal(role: Role) -> Principal {
    Principal {
        user_id: UserId::from(uuid::Uuid::now_v7()),
        role,
    }
}

/// An access token for `principal`, valid now.
pub fn token_of(principal: &Principal) -> String {
    token_issuer().issue(principal, chrono::Utc::now()).token
}

/// An access token for a fresh principal of `role`.
pub fn token_for(role: Role) -> String {
    token_of(&principal(role))
}

/// An API over any store, configured as the test apps are.
pub fn api_over(store: Arc<dyn Store>, ids: Arc<dyn IdGenerator>) -> Api {
    api_over_with(store, ids, RateLimitConfig::default())
}

fn api_over_with(store: Arc<dyn Store>, ids: Arc<dyn IdGenerator>, limits: RateLimitConfig) -> Api {
    let verifier = TokenVerifier::new(&TOKEN_KEY.public_key(), DEFAULT_ISSUER, DEFAULT_AUDIENCE);
    let mut services = Services::new(store, CursorCodec::new(SIGNING_KEY))
        .with_authenticator(Arc::new(verifier))
        .with_token_issuer(token_issuer())
        .with_rate_limits(limits);
    services.ids = ids;
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
    anonymous: bool,
    client_ip: String,
}

impl TestRequest {
    pub fn new(method: Method, target: impl Into<String>) -> Self {
        Self {
            method,
            target: target.into(),
            headers: HeaderMap::new(),
            body: RequestBody::Complete(Bytes::new()),
            anonymous: false,
            client_ip: "203.0.113.7".into(),
        }
    }

    /// Sends no credentials at all.
    pub fn anonymous(mut self) -> Self {
        self.anonymous = true;
        self
    }

    /// Sends `Authorization: Bearer <token>`.
    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    /// Comes from another client address.
    pub fn from_ip(mut self, ip: &str) -> Self {
        self.client_ip = ip.into();
        self
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
            client_ip: Some(self.client_ip),
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
        let request = if request.anonymous || request.headers.contains_key("authorization") {
            request
        } else {
            request.bearer(&self.staff_token)
        };
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
