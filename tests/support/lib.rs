//! Test support: a `spawn_app`-style helper that gives each test its own API over its own
//! embedded store, and small request/response types to drive it through the router.
//!
//! - [`capacity`]: a store decorator that records each call as the DynamoDB request it becomes
//!   and the capacity units DynamoDB bills for it.
//! - [`faults`]: store decorators that fail chosen calls (conflicts, throttling, outages) or land
//!   a concurrent change between a use case's read and its write.
//! - [`ledger`]: a payment gateway that keeps the books, for tests that money balances.
//! - [`invariants`]: the checkers of what must hold of the stored data after any failure (seats,
//!   holds, payments, rental days, counters, staged jobs), read through the store port.
//! - [`files`]: an embedded blob store for a test, and the client's side of its upload and
//!   download URLs.
//! - [`http_client`]: a plain HTTP client for servers on a socket (moto's S3, the local API's process).
//! - [`outbox`]: the local mail outbox's files, and the message id of a job's email.
//! - [`snapshot`]: every item of a closed embedded store, read from its file, to prove a run of
//!   requests stored nothing.

pub mod capacity;
pub mod faults;
pub mod files;
pub mod http_client;
pub mod invariants;
pub mod ledger;
pub mod outbox;
pub mod snapshot;

use std::sync::{Arc, LazyLock};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use itinera::auth::keys::{DEFAULT_AUDIENCE, DEFAULT_ISSUER};
use itinera::auth::{PrivateKey, TokenIssuer, TokenVerifier};
use itinera::blobs::{BlobStore, UnconfiguredBlobStore};
use itinera::clock::{IdGenerator, UuidV7Ids};
use itinera::identity::{Principal, Role, UserId};
use itinera::payments::TestCardGateway;
use itinera::ratelimit::RateLimitConfig;
use itinera::storage::Store;
use itinera_embedded::EmbeddedStore;
use itinera_http::{Api, ApiRequest, CorsPolicy, Credentials, CursorCodec, RequestBody, Services};
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
    /// The blob store the API signs file URLs with (see [`files`]).
    pub blobs: itinera_embedded::EmbeddedBlobs,
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
    let blobs = files::embedded_blobs(data.path());
    TestApp {
        api: api_with_blobs(Arc::clone(&store), ids, limits, Arc::new(blobs.clone())),
        store,
        blobs,
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

/// An API over any store with its own rate limits, configured as the test apps are otherwise.
pub fn api_over_with(
    store: Arc<dyn Store>,
    ids: Arc<dyn IdGenerator>,
    limits: RateLimitConfig,
) -> Api {
    api_with_blobs(store, ids, limits, Arc::new(UnconfiguredBlobStore))
}

/// An API over any store that signs file URLs with `blobs`, configured as the test apps are.
pub fn api_with_blobs(
    store: Arc<dyn Store>,
    ids: Arc<dyn IdGenerator>,
    limits: RateLimitConfig,
    blobs: Arc<dyn BlobStore>,
) -> Api {
    Api::new(
        services_with_blobs(store, ids, limits, blobs),
        CorsPolicy::from_list(ALLOWED_ORIGIN).expect("valid origin"),
    )
}

/// An app like [`spawn_app`]'s with no shared cache in front: cacheable routes refuse
/// undeclared query parameters too, so a test can read each handler's accepted set off its
/// refusals.
pub fn spawn_app_without_shared_cache() -> TestApp {
    let mut app = spawn_app();
    let services = services_with_blobs(
        Arc::clone(&app.store),
        Arc::new(UuidV7Ids),
        RateLimitConfig::default(),
        Arc::new(app.blobs.clone()),
    )
    .without_shared_cache();
    app.api = Api::new(
        services,
        CorsPolicy::from_list(ALLOWED_ORIGIN).expect("valid origin"),
    );
    app
}

fn services_with_blobs(
    store: Arc<dyn Store>,
    ids: Arc<dyn IdGenerator>,
    limits: RateLimitConfig,
    blobs: Arc<dyn BlobStore>,
) -> Services {
    let verifier = TokenVerifier::new(&TOKEN_KEY.public_key(), DEFAULT_ISSUER, DEFAULT_AUDIENCE);
    let mut services = Services::new(store, CursorCodec::new(SIGNING_KEY))
        .with_authenticator(Arc::new(verifier))
        .with_token_issuer(token_issuer())
        .with_payment_gateway(Arc::new(TestCardGateway))
        .with_rate_limits(limits)
        .with_blob_store(blobs);
    services.ids = ids;
    services
}

/// The password of the users tests create: the admin [`stored_admin`] creates and the customers
/// [`register_customer`] registers.
pub const TEST_PASSWORD: &str = "a long enough passphrase";

/// Registers a customer `username` (email `<username>@example.com`, [`TEST_PASSWORD`]) through the
/// API and answers their id.
pub async fn register_customer(api: &Api, username: &str) -> UserId {
    let response = send(
        api,
        TestRequest::post("/v1/auth/register")
            .anonymous()
            .json(&serde_json::json!({
                "email": format!("{username}@example.com"),
                "username": username,
                "password": TEST_PASSWORD,
                "name": username,
            })),
    )
    .await;
    assert_eq!(
        response.status,
        StatusCode::CREATED,
        "{:?}",
        response.json()
    );
    let id = response.json()["data"]["id"].as_str().map(UserId::parse);
    id.flatten().expect("the new user's id")
}

/// An anonymous `POST /v1/auth/login` with `login` as its body.
pub fn login_request(login: &Value) -> TestRequest {
    TestRequest::post("/v1/auth/login").anonymous().json(login)
}

/// Signs in by username with `password` and answers the token pair (`data` of the answer).
pub async fn sign_in(api: &Api, username: &str, password: &str) -> Value {
    let login = serde_json::json!({"username": username, "password": password});
    let response = send(api, login_request(&login)).await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.json());
    response.json()["data"].clone()
}

/// A plausible request for `route`: its path with a fresh id in place of `{id}`, and an empty
/// JSON object as the body of a write.
pub fn plausible_request(route: &itinera_http::Route) -> TestRequest {
    let path = route
        .path
        .replace("{id}", &uuid::Uuid::now_v7().to_string());
    let request = TestRequest::new(route.method.clone(), path);
    if route.method == Method::GET {
        request
    } else {
        request.json(&serde_json::json!({}))
    }
}

/// The first admin of `store` (`root@example.com`, [`TEST_PASSWORD`]), created as bootstrapping
/// creates it. Admin writes decide on the caller's stored role, so a test that acts as an admin
/// on users needs one that exists, not only a token that says so.
pub async fn stored_admin(store: &dyn Store) -> itinera::accounts::User {
    use itinera::accounts::{Argon2id, Email, Password, PasswordHasher, bootstrap_admin};
    let hasher: Arc<dyn PasswordHasher> = Arc::new(Argon2id::owasp_minimum());
    bootstrap_admin(
        store,
        &itinera::clock::SystemClock,
        &UuidV7Ids,
        &hasher,
        Email::parse("root@example.com").expect("a valid email"),
        Password::parse(TEST_PASSWORD).expect("a valid password"),
    )
    .await
    .expect("bootstrap succeeds")
    .expect("the first admin is created")
}

/// The principal of a stored user, as a valid access token would name them.
pub fn principal_of(user: &itinera::accounts::User) -> Principal {
    Principal {
        user_id: user.id.clone(),
        role: user.role,
    }
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

    /// Asserts the response answered `status`, showing the body when it did not: one place for
    /// the check every suite makes before it reads what came back.
    #[track_caller]
    pub fn assert_status(&self, status: StatusCode) {
        assert_eq!(self.status, status, "{:?}", self.json());
    }

    /// Asserts the response answered `201 Created` and returns the `data` it carries.
    #[track_caller]
    pub fn created(&self) -> Value {
        self.assert_status(StatusCode::CREATED);
        self.json()["data"].clone()
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

/// A clock that reads a time the test sets, shared by every holder, so tests cross a hold's expiry
/// or a day's end by moving it rather than by sleeping.
#[derive(Debug)]
pub struct SettableClock {
    epoch_ms: std::sync::atomic::AtomicI64,
}

impl SettableClock {
    /// A clock at `at`.
    pub fn at(at: chrono::DateTime<chrono::Utc>) -> Self {
        Self {
            epoch_ms: std::sync::atomic::AtomicI64::new(at.timestamp_millis()),
        }
    }

    /// A clock at the current time, truncated to milliseconds as the system clock is (so that
    /// access tokens issued now are valid at it).
    pub fn now() -> Self {
        Self::at(chrono::Utc::now())
    }

    pub fn set(&self, at: chrono::DateTime<chrono::Utc>) {
        self.epoch_ms
            .store(at.timestamp_millis(), std::sync::atomic::Ordering::SeqCst);
    }

    pub fn advance(&self, by: chrono::TimeDelta) {
        self.epoch_ms
            .fetch_add(by.num_milliseconds(), std::sync::atomic::Ordering::SeqCst);
    }
}

impl itinera::clock::Clock for SettableClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::from_timestamp_millis(
            self.epoch_ms.load(std::sync::atomic::Ordering::SeqCst),
        )
        .expect("a representable time")
    }
}

/// Hands out the given ids first, in order, then fresh UUIDv7s: for fixtures whose first entity
/// must have an id written down (a sample event's), while audit entries and jobs get their own.
pub struct ScriptedIds(std::sync::Mutex<std::collections::VecDeque<uuid::Uuid>>);

impl ScriptedIds {
    pub fn new(first: impl IntoIterator<Item = uuid::Uuid>) -> Self {
        Self(std::sync::Mutex::new(first.into_iter().collect()))
    }
}

impl IdGenerator for ScriptedIds {
    fn new_id(&self) -> uuid::Uuid {
        self.0
            .lock()
            .expect("the id script")
            .pop_front()
            .unwrap_or_else(uuid::Uuid::now_v7)
    }
}

/// An API over `store` whose clock the test controls, configured as the test apps are.
pub fn api_with_clock(store: Arc<dyn Store>, clock: Arc<dyn itinera::clock::Clock>) -> Api {
    let verifier = TokenVerifier::new(&TOKEN_KEY.public_key(), DEFAULT_ISSUER, DEFAULT_AUDIENCE);
    let mut services = Services::new(Arc::clone(&store), CursorCodec::new(SIGNING_KEY))
        .with_authenticator(Arc::new(verifier))
        .with_token_issuer(token_issuer())
        .with_payment_gateway(Arc::new(TestCardGateway));
    services.clock = Arc::clone(&clock);
    services.limiter = Arc::new(itinera::ratelimit::RateLimiter::new(
        store,
        clock,
        RateLimitConfig::default(),
    ));
    Api::new(
        services,
        CorsPolicy::from_list(ALLOWED_ORIGIN).expect("valid origin"),
    )
}

/// The context of a change made by `principal`.
pub fn context_of(principal: &Principal) -> itinera::identity::RequestContext {
    itinera::identity::RequestContext {
        request_id: uuid::Uuid::new_v4().to_string(),
        principal: Some(principal.clone()),
    }
}

/// A scheduled flight DEL -> BOM with `seats` seats at `price` minor units of INR per seat,
/// departing at `departure` and arriving two hours later, with the airplane and the airports it
/// needs (created through their use cases by a staff member; airports that exist are reused).
/// The flight's id is the first `ids` hands out.
pub async fn seed_flight(
    store: &dyn Store,
    clock: &dyn itinera::clock::Clock,
    ids: &dyn IdGenerator,
    seats: u16,
    price: i64,
    departure: chrono::DateTime<chrono::Utc>,
) -> itinera::flights::Flight {
    use itinera::airplanes::{Capacity, ModelNumber, NewAirplane, create_airplane};
    use itinera::airports::{
        AirportCode, CountryCode, NewAirport, PlaceName, TimeZone, create_airport,
    };
    use itinera::error::DomainError;
    use itinera::flights::{FlightNumber, Leg, NewFlight, Schedule, create_flight};
    use itinera::money::{Currency, Money};

    let staff = context_of(&principal(Role::Staff));
    let airplane = create_airplane(
        store,
        clock,
        &UuidV7Ids,
        &staff,
        NewAirplane {
            model_number: ModelNumber::parse("A320neo").expect("a model number"),
            capacity: Capacity::try_from(i64::from(seats)).expect("a capacity"),
        },
    )
    .await
    .expect("the airplane is created");
    for (code, name, city) in [
        ("DEL", "Indira Gandhi International", "Delhi"),
        ("BOM", "Chhatrapati Shivaji Maharaj International", "Mumbai"),
    ] {
        let airport = NewAirport {
            code: AirportCode::parse(code).expect("an IATA code"),
            name: PlaceName::parse(name).expect("a name"),
            city: PlaceName::parse(city).expect("a city"),
            country: CountryCode::parse("IN").expect("a country"),
            time_zone: TimeZone::parse("Asia/Kolkata").expect("a time zone"),
        };
        match create_airport(store, clock, &UuidV7Ids, &staff, airport).await {
            Ok(_) | Err(DomainError::Conflict { .. }) => {}
            Err(error) => panic!("creating airport {code}: {error:?}"),
        }
    }
    let new = NewFlight {
        flight_number: FlightNumber::parse("AI101").expect("a flight number"),
        airplane_id: airplane.id,
        leg: Leg::new(
            AirportCode::parse("DEL").expect("an IATA code"),
            AirportCode::parse("BOM").expect("an IATA code"),
        )
        .expect("a leg"),
        schedule: Schedule::new(departure, departure + chrono::TimeDelta::hours(2))
            .expect("a schedule"),
        price: Money::new(price, Currency::parse("INR").expect("a currency")).expect("a price"),
    };
    create_flight(store, clock, ids, &staff, new)
        .await
        .expect("the flight is created")
}

/// A store on a new, empty DynamoDB table on the server `ITINERA_TEST_DYNAMODB_ENDPOINT` names
/// (moto in tests). Panics without it: a skipped adapter would look like a passing one. Build it
/// on the runtime that uses it: a client's connections are bound to their runtime.
pub async fn fresh_dynamodb_store() -> Arc<dyn Store> {
    use std::sync::atomic::{AtomicU64, Ordering};

    const ENDPOINT_VARIABLE: &str = "ITINERA_TEST_DYNAMODB_ENDPOINT";
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let endpoint = std::env::var(ENDPOINT_VARIABLE).unwrap_or_else(|_| {
        panic!(
            "{ENDPOINT_VARIABLE} is not set: start moto with ./infra/test.sh or set \
             {ENDPOINT_VARIABLE}"
        )
    });
    let table_name = format!(
        "itinera-test-{}-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    // moto answers hundreds of concurrent requests slowly, one after another: generous timeouts
    // keep a slow answer from turning into a retried (and so doubled) write.
    let config = itinera_aws::DynamoDbConfig::from_lookup(|name| match name {
        "TABLE_NAME" => Some(table_name.clone()),
        "DYNAMODB_ENDPOINT" => Some(endpoint.clone()),
        // moto's server listens with a backlog of 128: with hundreds of clients connecting at
        // once, the kernel drops SYNs beyond it and the client resends them after a second, so a
        // one-second connect timeout fails connections a slower connect would have made.
        "DYNAMODB_CONNECT_TIMEOUT_MS" => Some("10000".into()),
        "DYNAMODB_ATTEMPT_TIMEOUT_MS" => Some("30000".into()),
        "DYNAMODB_OPERATION_TIMEOUT_MS" => Some("60000".into()),
        _ => None,
    })
    .unwrap_or_else(|error| panic!("{ENDPOINT_VARIABLE}={endpoint:?}: {error}"));
    let client = itinera_aws::build_local_client(&config).expect("the endpoint is configured");
    itinera_aws::create_table(&client, &table_name)
        .await
        .unwrap_or_else(|error| {
            panic!(
                "creating table {table_name} on {endpoint}: {}",
                aws_sdk_dynamodb::error::DisplayErrorContext(&error)
            )
        });
    Arc::new(itinera_aws::DynamoDbStore::new(client, table_name))
}

/// A clock that moves one millisecond forward every time it is read, from a time the test sets:
/// concurrent readers each see a different instant, so a race at a deadline (a hold's expiry)
/// comes out differently depending on who reads first, as it does in production.
#[derive(Debug)]
pub struct TickingClock {
    next_ms: std::sync::atomic::AtomicI64,
}

impl TickingClock {
    /// A clock whose first reading is `start`.
    pub fn starting_at(start: chrono::DateTime<chrono::Utc>) -> Self {
        Self {
            next_ms: std::sync::atomic::AtomicI64::new(start.timestamp_millis()),
        }
    }
}

impl itinera::clock::Clock for TickingClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        let ms = self
            .next_ms
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        chrono::DateTime::from_timestamp_millis(ms).expect("a representable time")
    }
}

/// A store of one family, and what keeps it alive, for tests that run on both families.
pub struct Backend {
    pub store: Arc<dyn Store>,
    _data: Option<TempDir>,
}

impl Backend {
    /// An embedded store in a temporary directory, removed when dropped.
    pub fn embedded() -> Self {
        let data = tempfile::tempdir().expect("temporary directory");
        let store = EmbeddedStore::open(data.path()).expect("embedded store opens");
        Self {
            store: Arc::new(store),
            _data: Some(data),
        }
    }

    /// Whether the store is the embedded family's (the other is DynamoDB's, on moto).
    pub fn is_embedded(&self) -> bool {
        self._data.is_some()
    }

    /// A fresh DynamoDB table (see [`fresh_dynamodb_store`]).
    pub async fn dynamodb() -> Self {
        Self {
            store: fresh_dynamodb_store().await,
            _data: None,
        }
    }

    /// An API over this store (UUIDv7 ids, the default rate limits) whose file URLs a fresh
    /// embedded blob store signs, that blob store, and the directory it keeps its files in, which
    /// must outlive both.
    pub fn api_with_files(&self) -> (Api, itinera_embedded::EmbeddedBlobs, TempDir) {
        let files = tempfile::tempdir().expect("a temporary directory");
        let blobs = files::embedded_blobs(files.path());
        let api = api_with_blobs(
            Arc::clone(&self.store),
            Arc::new(UuidV7Ids),
            RateLimitConfig::default(),
            Arc::new(blobs.clone()),
        );
        (api, blobs, files)
    }
}

/// Books `seats` seats on `flight` for `who` through the use case, under a fresh idempotency key,
/// with the default hold.
pub async fn book_seats(
    store: &dyn Store,
    clock: &dyn itinera::clock::Clock,
    who: &Principal,
    flight: &itinera::flights::Flight,
    seats: u8,
) -> Result<itinera::bookings::Booking, itinera::error::DomainError> {
    use itinera::bookings::{BookingSettings, CreateOutcome, NewBooking, Seats, create_booking};
    use itinera::idempotency::{IdempotencyKey, StoredResponse};

    let key = IdempotencyKey::parse(&uuid::Uuid::new_v4().to_string()).expect("a key");
    let new = NewBooking {
        flight_id: flight.id.clone(),
        seats: Seats::try_from(i64::from(seats)).expect("1 to 9 seats"),
    };
    let respond = |booking: &itinera::bookings::Booking| {
        Ok(StoredResponse {
            status: 201,
            body: serde_json::to_value(booking).expect("a booking serializes"),
            location: None,
        })
    };
    let outcome = create_booking(
        store,
        clock,
        &UuidV7Ids,
        &BookingSettings::default(),
        &context_of(who),
        &key,
        &new,
        respond,
    )
    .await?;
    match outcome {
        CreateOutcome::Created { booking, .. } => Ok(*booking),
        CreateOutcome::Replayed(_) => panic!("a fresh key never replays"),
    }
}

/// Payment details that the test gateways approve, for the booking's total.
pub fn approved_payment(booking: &itinera::bookings::Booking) -> itinera::bookings::PaymentDetails {
    itinera::bookings::PaymentDetails {
        token: itinera::payments::PaymentToken::parse(itinera::payments::TEST_TOKEN_APPROVE)
            .expect("a token"),
        amount: booking.total.clone(),
    }
}

/// Pays `booking`'s total as `who`, through `gateway`, with a token the test gateways approve.
pub async fn pay_as(
    store: &dyn Store,
    clock: &dyn itinera::clock::Clock,
    gateway: &dyn itinera::payments::PaymentGateway,
    who: &Principal,
    booking: &itinera::bookings::Booking,
) -> Result<itinera::bookings::Booking, itinera::error::DomainError> {
    itinera::bookings::pay_booking(
        store,
        clock,
        &UuidV7Ids,
        gateway,
        None,
        &context_of(who),
        &booking.id,
        &approved_payment(booking),
    )
    .await
}

/// Cancels `booking` as `who`, refunding through `gateway`.
pub async fn cancel_as(
    store: &dyn Store,
    clock: &dyn itinera::clock::Clock,
    gateway: &dyn itinera::payments::PaymentGateway,
    who: &Principal,
    booking: &itinera::bookings::Booking,
) -> Result<itinera::bookings::Booking, itinera::error::DomainError> {
    itinera::bookings::cancel_booking(
        store,
        clock,
        &UuidV7Ids,
        gateway,
        None,
        &context_of(who),
        &booking.id,
    )
    .await
}

/// `who` pays `booking` with the test card the test gateway always approves, for its total.
pub async fn pay_approved(
    store: &dyn Store,
    clock: &dyn itinera::clock::Clock,
    who: &Principal,
    booking: &itinera::bookings::Booking,
) -> Result<itinera::bookings::Booking, itinera::error::DomainError> {
    pay_as(
        store,
        clock,
        &itinera::payments::TestCardGateway,
        who,
        booking,
    )
    .await
}

/// A valid car's body with this plate and VIN: a compact Toyota at 45.00 EUR a day, the car the
/// suite's tests and the local API's crash test create.
pub fn car_body(plate: &str, vin: &str) -> Value {
    serde_json::json!({
        "licensePlate": plate,
        "vin": vin,
        "manufacturer": "Toyota",
        "model": "Corolla",
        "year": 2024,
        "category": "compact",
        "dailyRate": {"amount": 4500, "currency": "EUR"},
        "mileage": 12000,
    })
}
