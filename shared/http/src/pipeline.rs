//! The request pipeline, identical behind API Gateway and on the local server.
//!
//! Order: request id and a log span carrying it -> routing (or preflight) -> body size and
//! content-type checks -> the route's handler -> response shaping (envelope, `ETag`, 304) ->
//! security headers, CORS, `X-Request-Id` on every response -> one structured access-log line.
//! Authentication, rate limits and authorization slot in between the body checks and the handler.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode, header};
use tracing::Instrument;

use super::cors::CorsPolicy;
use super::cursor::CursorCodec;
use super::limits::{RateLimitHeaders, request_kind};
use super::problem::{ApiError, allow_header};
use super::request::{ApiRequest, Credentials, Input, MAX_BODY_BYTES, PathParams, RequestBody};
use super::router::{RouteMatch, Router};
use super::routes::{Access, Denial, ROUTES, RateTier, Route};
use super::security;
use itinera::accounts::{self, Argon2id, Email, LoginName, PasswordHasher, Username};
use itinera::auth::{TokenIssuer, TokenVerifier};
use itinera::bookings::BookingSettings;
use itinera::clock::{Clock, IdGenerator, SystemClock, UuidV7Ids};
use itinera::error::chain;
use itinera::identity::{Principal, RequestContext};
use itinera::jobs::JobQueue;
use itinera::payments::{PaymentGateway, UnconfiguredGateway};
use itinera::ratelimit::{
    Decision, LimiterUnavailable, RateKey, RateLimitConfig, RateLimiter, Tier,
};
use itinera::storage::Store;

/// Verifies bearer tokens when the front end has not (the local API; in AWS the Lambda
/// authorizer does it before the function runs).
pub trait Authenticator: Send + Sync + 'static {
    /// The principal a token valid at `now` names; `None` for any invalid token.
    fn authenticate(&self, token: &str, now: DateTime<Utc>) -> Option<Principal>;
}

/// The reason a token is refused goes to the log, never to the caller.
impl Authenticator for TokenVerifier {
    fn authenticate(&self, token: &str, now: DateTime<Utc>) -> Option<Principal> {
        self.verify(token, now)
            .inspect_err(|error| tracing::info!(reason = %error, "refused an access token"))
            .ok()
    }
}

/// Remembers tokens it has verified for a short while, as API Gateway caches the authorizer's
/// answer: a signature check costs tens of microseconds, a map lookup far less. The trade is the
/// same as in AWS: a token stays accepted for up to `ttl` after the moment it was first verified,
/// even if it expires in between.
pub struct CachedAuthenticator {
    inner: Arc<dyn Authenticator>,
    ttl: chrono::TimeDelta,
    verified: std::sync::Mutex<std::collections::HashMap<String, (Principal, DateTime<Utc>)>>,
}

impl CachedAuthenticator {
    /// The most tokens remembered; the cache starts over when it is full.
    const CAPACITY: usize = 10_000;

    pub fn new(inner: Arc<dyn Authenticator>, ttl: chrono::TimeDelta) -> Self {
        Self {
            inner,
            ttl,
            verified: std::sync::Mutex::default(),
        }
    }
}

impl Authenticator for CachedAuthenticator {
    fn authenticate(&self, token: &str, now: DateTime<Utc>) -> Option<Principal> {
        if let Ok(verified) = self.verified.lock()
            && let Some((principal, until)) = verified.get(token)
            && now < *until
        {
            return Some(principal.clone());
        }
        let principal = self.inner.authenticate(token, now)?;
        if let Ok(mut verified) = self.verified.lock() {
            if verified.len() >= Self::CAPACITY {
                verified.clear();
            }
            verified.insert(token.to_owned(), (principal.clone(), now + self.ttl));
        }
        Some(principal)
    }
}

/// The ports and helpers handlers use, built once per process.
pub struct Services {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
    pub cursors: CursorCodec,
    /// Verifies `Authorization: Bearer` tokens for requests with [`Credentials::BearerHeader`];
    /// without one, every presented token is refused.
    pub authenticator: Option<Arc<dyn Authenticator>>,
    /// Hashes and verifies passwords (argon2id).
    pub passwords: Arc<dyn PasswordHasher>,
    /// Signs access tokens; only the processes that sign users in hold the private key.
    pub tokens: Option<Arc<TokenIssuer>>,
    /// Counts requests per client (and per account for sign-in) in the shared store.
    pub limiter: Arc<RateLimiter>,
    /// Where jobs go after the change that created them commits. Without one (a function that
    /// enqueues nothing), jobs wait in the store's outbox for the relay.
    pub jobs: Option<Arc<dyn JobQueue>>,
    /// Charges and refunds bookings. Until a process wires the gateway its `PAYMENT_GATEWAY`
    /// setting names (only the functions that move money do), every charge and refund is refused
    /// as unavailable, so no process takes a test card by default.
    pub payments: Arc<dyn PaymentGateway>,
    /// How bookings hold their seats (`BOOKING_HOLD_MINUTES`).
    pub bookings: BookingSettings,
}

impl Services {
    /// Services over `store` with the system clock and UUIDv7 identifiers.
    pub fn new(store: Arc<dyn Store>, cursors: CursorCodec) -> Self {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let limiter = RateLimiter::new(
            Arc::clone(&store),
            Arc::clone(&clock),
            RateLimitConfig::default(),
        );
        Self {
            store,
            clock,
            ids: Arc::new(UuidV7Ids),
            cursors,
            authenticator: None,
            passwords: Arc::new(Argon2id::owasp_minimum()),
            tokens: None,
            limiter: Arc::new(limiter),
            jobs: None,
            payments: Arc::new(UnconfiguredGateway),
            bookings: BookingSettings::default(),
        }
    }

    /// The same services, charging and refunding through `gateway`.
    pub fn with_payment_gateway(mut self, gateway: Arc<dyn PaymentGateway>) -> Self {
        self.payments = gateway;
        self
    }

    /// The same services, holding booked seats as `settings` say.
    pub fn with_booking_settings(mut self, settings: BookingSettings) -> Self {
        self.bookings = settings;
        self
    }

    /// The same services, limiting requests as `config` says.
    pub fn with_rate_limits(mut self, config: RateLimitConfig) -> Self {
        self.limiter = Arc::new(RateLimiter::new(
            Arc::clone(&self.store),
            Arc::clone(&self.clock),
            config,
        ));
        self
    }

    /// The same services, signing access tokens with `issuer`.
    pub fn with_token_issuer(mut self, issuer: TokenIssuer) -> Self {
        self.tokens = Some(Arc::new(issuer));
        self
    }

    /// The token issuer; a process without the private key cannot sign anyone in.
    pub(crate) fn token_issuer(&self) -> Result<&TokenIssuer, super::problem::ApiError> {
        self.tokens.as_deref().ok_or_else(|| {
            tracing::error!(
                "this function has no token signing key but serves a route that signs users in"
            );
            super::problem::ApiError::Internal
        })
    }

    /// The same services, sending jobs to `queue`.
    pub fn with_job_queue(mut self, queue: Arc<dyn JobQueue>) -> Self {
        self.jobs = Some(queue);
        self
    }

    /// The same services, verifying bearer tokens with `authenticator`.
    pub fn with_authenticator(mut self, authenticator: Arc<dyn Authenticator>) -> Self {
        self.authenticator = Some(authenticator);
        self
    }
}

/// The API: services, CORS policy and the router over its routes.
pub struct Api {
    services: Arc<Services>,
    cors: CorsPolicy,
    router: Router,
}

/// Where a request goes after routing.
enum Routing {
    Route(&'static Route, PathParams),
    Preflight(Vec<Method>),
    Reject(ApiError),
}

impl Api {
    /// The API of the whole route table (the local server, and the preflight function).
    pub fn new(services: Services, cors: CorsPolicy) -> Self {
        Self::of_routes(services, cors, ROUTES)
    }

    /// The API of `routes` alone. A Lambda function builds it of its one route, so that it
    /// names no other route and links no other handler.
    pub fn of_routes(services: Services, cors: CorsPolicy, routes: &[&'static Route]) -> Self {
        Self {
            services: Arc::new(services),
            cors,
            router: Router::new(routes),
        }
    }

    pub fn services(&self) -> &Arc<Services> {
        &self.services
    }

    /// Routes a request by the route table (the local server, and the preflight function).
    pub async fn handle(&self, request: ApiRequest) -> Response<Bytes> {
        let routing = if request.method == Method::OPTIONS {
            match self.router.methods(&request.path) {
                Some(methods) => Routing::Preflight(methods),
                None => Routing::Reject(ApiError::no_route()),
            }
        } else {
            match self.router.find(&request.method, &request.path) {
                RouteMatch::Found { route, params } => Routing::Route(route, params),
                RouteMatch::MethodNotAllowed { allow } => {
                    Routing::Reject(ApiError::MethodNotAllowed { allow })
                }
                RouteMatch::NotFound => Routing::Reject(ApiError::no_route()),
            }
        };
        self.respond(request, routing).await
    }

    /// Runs one route for a request API Gateway already routed to it (a Lambda function).
    pub async fn handle_route(
        &self,
        route: &'static Route,
        params: PathParams,
        request: ApiRequest,
    ) -> Response<Bytes> {
        self.respond(request, Routing::Route(route, params)).await
    }

    async fn respond(&self, request: ApiRequest, routing: Routing) -> Response<Bytes> {
        let started = Instant::now();
        let span = tracing::info_span!(
            "request",
            request_id = %request.request_id,
            method = %request.method,
            path = %request.path,
            route = match &routing {
                Routing::Route(route, _) => route.path,
                _ => "",
            },
            ip = request.client_ip.as_deref().unwrap_or(""),
            user_id = tracing::field::Empty,
            user_agent = request
                .headers
                .get(header::USER_AGENT)
                .and_then(|agent| agent.to_str().ok())
                .unwrap_or(""),
        );
        async move {
            let request_id = request.request_id.clone();
            let request_headers = request.headers.clone();
            let mut response = match routing {
                Routing::Route(route, params) => self.run(route, params, request).await,
                Routing::Preflight(methods) => self.preflight(&request.headers, methods),
                Routing::Reject(error) => error.into_response(&request_id),
            };
            let headers = response.headers_mut();
            security::apply(headers);
            if let Ok(id) = HeaderValue::from_str(&request_id) {
                headers.insert("x-request-id", id);
            }
            if !headers.contains_key(header::ACCESS_CONTROL_ALLOW_METHODS) {
                self.cors.decorate(&request_headers, headers);
            }
            tracing::info!(
                target: "itinera::access",
                status = response.status().as_u16(),
                latency_us = started.elapsed().as_micros() as u64,
                "request completed"
            );
            response
        }
        .instrument(span)
        .await
    }

    async fn run(
        &self,
        route: &'static Route,
        params: PathParams,
        request: ApiRequest,
    ) -> Response<Bytes> {
        let conditional_get = request.method == Method::GET;
        let body = match request.body {
            RequestBody::Complete(body) if body.len() <= MAX_BODY_BYTES => body,
            _ => {
                return ApiError::PayloadTooLarge {
                    limit_bytes: MAX_BODY_BYTES,
                }
                .into_response(&request.request_id);
            }
        };
        if !body.is_empty() && !is_json(&request.headers) {
            return ApiError::UnsupportedMediaType.into_response(&request.request_id);
        }
        // Anonymous routes ignore credentials altogether, valid or not, as API Gateway does in
        // front of them (they have no authorizer): a stale token left in a client's header must
        // not turn a sign-in or a search into a 401, and must answer the same on both front ends.
        let principal = if route.access == Access::Anonymous {
            None
        } else {
            match self.authenticate(&request.credentials, &request.headers) {
                Ok(principal) => principal,
                Err(error) => return error.into_response(&request.request_id),
            }
        };
        if let Some(principal) = &principal {
            tracing::Span::current().record("user_id", principal.user_id.as_str());
        }
        let limits = match self
            .count(
                route,
                &request.method,
                request.client_ip.as_deref(),
                principal.as_ref(),
                &body,
            )
            .await
        {
            Ok(limits) => limits,
            Err(error) => return error.into_response(&request.request_id),
        };
        let now = self.services.limiter.now();
        if let Some(rejection) = limits
            .tightest()
            .and_then(|decision| decision.refusal(now))
            .map(ApiError::from)
        {
            return limits.decorate(rejection.into_response(&request.request_id), now);
        }
        if let Err(denial) = route.access.admits(principal.as_ref()) {
            let error = match denial {
                Denial::Unauthenticated => ApiError::Unauthorized {
                    detail:
                        "This route needs an access token: send `Authorization: Bearer <token>`."
                            .into(),
                },
                Denial::Forbidden => ApiError::Forbidden,
            };
            return limits.decorate(error.into_response(&request.request_id), now);
        }
        let input = Input {
            context: RequestContext {
                request_id: request.request_id.clone(),
                principal,
            },
            params,
            query: request.query,
            headers: request.headers,
            body,
        };
        let headers = input.headers.clone();
        let response = match (route.handler)(Arc::clone(&self.services), input).await {
            Ok(reply) => reply.into_response(&headers, conditional_get),
            Err(error) => error.into_response(&request.request_id),
        };
        if response.status().is_success() {
            self.refund_successful_sign_in(&limits).await;
        }
        limits.decorate(response, self.services.limiter.now())
    }

    /// Counts the request in every tier that applies to it: global (where the app enforces it),
    /// write for changes, and for sign-in routes the auth tier per client and per account.
    async fn count(
        &self,
        route: &Route,
        method: &Method,
        client_ip: Option<&str>,
        principal: Option<&Principal>,
        body: &[u8],
    ) -> Result<Limits, ApiError> {
        let limiter = &self.services.limiter;
        let client = RateKey::client(client_ip);
        let mut counts: Vec<(Tier, RateKey)> = limiter
            .counted_tiers(request_kind(method))
            .into_iter()
            .map(|tier| (tier, client.clone()))
            .collect();
        if route.rate_tier == RateTier::Auth {
            counts.push((Tier::Auth, client.clone()));
            if let Some(account) = self.sign_in_account(principal, body).await? {
                counts.push((Tier::Account, account));
            }
        }
        let mut limits = Limits::default();
        for (tier, key) in counts {
            match limiter.hit(tier, &key).await {
                Ok(decision) => {
                    let refused = !decision.allowed;
                    limits.counted.push((key, decision));
                    if refused {
                        break;
                    }
                }
                Err(unavailable) => {
                    if let Some(refusal) = unavailable.refusal() {
                        return Err(refusal.into());
                    }
                }
            }
        }
        Ok(limits)
    }

    /// The account a sign-in attempt is against, for the per-account auth tier: the signed-in
    /// caller (a password change), or the account the body's `email` or `username` names,
    /// resolved to its user id so both names share one budget. An identifier that names no
    /// account counts under its normalized form, so `Ann@Example.com` and `ann@example.com`
    /// share one budget too. Resolving costs one read; when it fails, the tier fails closed.
    async fn sign_in_account(
        &self,
        principal: Option<&Principal>,
        body: &[u8],
    ) -> Result<Option<RateKey>, ApiError> {
        if let Some(principal) = principal {
            return Ok(Some(RateKey::user(&principal.user_id)));
        }
        let Some(identifier) = sign_in_identifier(body) else {
            return Ok(None);
        };
        let Ok(login) = identifier.parse_login() else {
            return Ok(Some(RateKey::account(identifier.text())));
        };
        match accounts::account_of(&*self.services.store, &login).await {
            Ok(Some(user_id)) => Ok(Some(RateKey::user(&user_id))),
            Ok(None) => Ok(Some(RateKey::account(&login.to_string()))),
            Err(error) => Err(LimiterUnavailable::resolving_account(error)
                .refusal()
                .map_or(ApiError::Internal, ApiError::from)),
        }
    }

    /// Tiers that count only failures (the sign-in tiers) do not keep a successful request: give
    /// back what it took in each.
    async fn refund_successful_sign_in(&self, limits: &Limits) {
        for (key, decision) in limits
            .counted
            .iter()
            .filter(|(_, decision)| decision.tier.counts_failures_only())
        {
            if let Err(error) = self
                .services
                .limiter
                .refund(decision.tier, key, decision)
                .await
            {
                tracing::warn!(error = %chain(&error.source), tier = %decision.tier, "could not give back a sign-in's count");
            }
        }
    }

    /// The caller, from a front end that verified it or from the bearer token.
    fn authenticate(
        &self,
        credentials: &Credentials,
        headers: &HeaderMap,
    ) -> Result<Option<Principal>, ApiError> {
        match credentials {
            Credentials::Verified(principal) => Ok(principal.clone()),
            Credentials::BearerHeader => {
                let Some(value) = headers.get(header::AUTHORIZATION) else {
                    return Ok(None);
                };
                let token = value
                    .to_str()
                    .ok()
                    .and_then(|value| value.split_once(' '))
                    .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                    .map(|(_, token)| token.trim())
                    .filter(|token| !token.is_empty());
                let authenticator = self.services.authenticator.as_deref();
                token
                    .zip(authenticator)
                    .and_then(|(token, authenticator)| {
                        authenticator.authenticate(token, self.services.clock.now())
                    })
                    .map(Some)
                    .ok_or_else(|| ApiError::Unauthorized {
                        detail: "The access token is malformed, expired or not valid.".into(),
                    })
            }
        }
    }

    /// `OPTIONS`: the methods of the path, and the CORS preflight answer for allowed origins.
    fn preflight(&self, request: &HeaderMap, mut methods: Vec<Method>) -> Response<Bytes> {
        methods.push(Method::OPTIONS);
        let mut response = Response::new(Bytes::new());
        *response.status_mut() = StatusCode::NO_CONTENT;
        let headers = response.headers_mut();
        if let Ok(allow) = HeaderValue::from_str(&allow_header(&methods)) {
            headers.insert(header::ALLOW, allow);
        }
        self.cors.decorate_preflight(request, &methods, headers);
        response
    }
}

/// What one request was counted as, per tier and key.
#[derive(Default)]
struct Limits {
    counted: Vec<(RateKey, Decision)>,
}

impl Limits {
    fn tightest(&self) -> Option<Decision> {
        Decision::tightest(self.counted.iter().map(|(_, decision)| *decision))
    }

    /// Adds the tightest tier's `X-RateLimit-*` headers (and `Retry-After` on a refusal).
    fn decorate(&self, mut response: Response<Bytes>, now: DateTime<Utc>) -> Response<Bytes> {
        if let Some(decision) = self.tightest() {
            decision.apply_headers(now, response.headers_mut());
        }
        response
    }
}

/// The identifier a sign-in body names: its `email`, or else its `username`.
enum SignInIdentifier {
    Email(String),
    Username(String),
}

impl SignInIdentifier {
    fn text(&self) -> &str {
        match self {
            Self::Email(text) | Self::Username(text) => text,
        }
    }

    /// The login name it is, normalized as accounts store it.
    fn parse_login(&self) -> Result<LoginName, String> {
        match self {
            Self::Email(text) => Email::parse(text).map(LoginName::Email),
            Self::Username(text) => Username::parse(text).map(LoginName::Username),
        }
    }
}

fn sign_in_identifier(body: &[u8]) -> Option<SignInIdentifier> {
    let fields: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(body).ok()?;
    let text = |name: &str| fields.get(name)?.as_str().map(str::to_owned);
    text("email")
        .map(SignInIdentifier::Email)
        .or_else(|| text("username").map(SignInIdentifier::Username))
}

/// Whether the request declares a JSON body (`application/json` or `application/*+json`).
fn is_json(headers: &HeaderMap) -> bool {
    let Some(content_type) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use itinera::identity::{Role, UserId};

    /// Accepts one token and counts how often it is asked.
    struct Counting(AtomicUsize);

    impl Authenticator for Counting {
        fn authenticate(&self, token: &str, _: DateTime<Utc>) -> Option<Principal> {
            self.0.fetch_add(1, Ordering::SeqCst);
            (token == "good").then(|| Principal {
                user_id: UserId::from(uuid::Uuid::nil()),
                role: Role::Staff,
            })
        }
    }

    #[test]
    fn a_cached_token_is_verified_once_per_ttl_and_a_bad_one_every_time() {
        let inner = Arc::new(Counting(AtomicUsize::new(0)));
        let cache = CachedAuthenticator::new(inner.clone(), chrono::TimeDelta::seconds(60));
        let start = Utc::now();
        assert!(cache.authenticate("good", start).is_some());
        assert!(
            cache
                .authenticate("good", start + chrono::TimeDelta::seconds(59))
                .is_some()
        );
        assert_eq!(inner.0.load(Ordering::SeqCst), 1);
        assert!(
            cache
                .authenticate("good", start + chrono::TimeDelta::seconds(61))
                .is_some()
        );
        assert_eq!(inner.0.load(Ordering::SeqCst), 2);
        assert!(cache.authenticate("bad", start).is_none());
        assert!(cache.authenticate("bad", start).is_none());
        assert_eq!(inner.0.load(Ordering::SeqCst), 4);
    }

    /// A store no test here reaches.
    struct Unused;

    #[async_trait::async_trait]
    impl Store for Unused {
        async fn get(
            &self,
            _: &itinera::storage::Key,
        ) -> Result<Option<itinera::storage::Item>, itinera::storage::StoreError> {
            unreachable!("no store call")
        }
        async fn put(&self, _: itinera::storage::Put) -> Result<(), itinera::storage::StoreError> {
            unreachable!("no store call")
        }
        async fn update(
            &self,
            _: itinera::storage::Update,
        ) -> Result<itinera::storage::Item, itinera::storage::StoreError> {
            unreachable!("no store call")
        }
        async fn delete(
            &self,
            _: itinera::storage::Delete,
        ) -> Result<Option<itinera::storage::Item>, itinera::storage::StoreError> {
            unreachable!("no store call")
        }
        async fn transact(
            &self,
            _: Vec<itinera::storage::WriteOp>,
        ) -> Result<(), itinera::storage::StoreError> {
            unreachable!("no store call")
        }
        async fn query(
            &self,
            _: itinera::storage::Query,
        ) -> Result<itinera::storage::Page, itinera::storage::StoreError> {
            unreachable!("no store call")
        }
        async fn check_health(&self) -> Result<(), itinera::storage::StoreError> {
            unreachable!("no store call")
        }
    }

    #[tokio::test]
    async fn services_without_a_configured_gateway_charge_and_refund_nothing() {
        use itinera::money::{Currency, Money};
        use itinera::payments::{
            ChargeRequest, PaymentError, PaymentId, PaymentToken, RefundRequest,
        };
        let services = Services::new(Arc::new(Unused), CursorCodec::new(b"k"));
        let amount = Money::new(12_500, Currency::parse("EUR").unwrap()).unwrap();
        let charge = ChargeRequest {
            idempotency_key: "booking-1".into(),
            token: PaymentToken::parse("tok_test_approve").unwrap(),
            amount: amount.clone(),
            description: "Booking".into(),
        };
        let outcome = services.payments.charge(&charge).await;
        assert!(
            matches!(outcome, Err(PaymentError::Unavailable(_))),
            "a process with no gateway setting took a test card: {outcome:?}"
        );
        let refund = RefundRequest {
            idempotency_key: "booking-1".into(),
            payment_id: PaymentId::new("pay_test_1"),
            amount,
        };
        assert!(matches!(
            services.payments.refund(&refund).await,
            Err(PaymentError::Unavailable(_))
        ));
    }

    fn content_type(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn json_content_types_are_recognised() {
        assert!(is_json(&content_type("application/json")));
        assert!(is_json(&content_type("Application/JSON; charset=utf-8")));
        assert!(is_json(&content_type("application/merge-patch+json")));
        assert!(!is_json(&content_type("text/plain")));
        assert!(!is_json(&content_type("application/x-www-form-urlencoded")));
        assert!(!is_json(&HeaderMap::new()));
    }
}
