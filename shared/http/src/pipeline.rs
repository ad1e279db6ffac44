//! The request pipeline, identical behind API Gateway and on the local server.
//!
//! Order: request id and a log span carrying it -> routing (or preflight) -> body size and
//! content-type checks -> the route's handler -> response shaping (envelope, `ETag`, 304) ->
//! `Cache-Control` (and `Date` on what shared caches may keep), security headers, CORS,
//! `X-Request-Id` on every response -> one structured access-log line and the request's metrics
//! (count and latency by route, status class).
//! Authentication, rate limits and authorization slot in between the body checks and the handler.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode, header};
use itinera::accounts::{self, Email, LoginName, ResolvedLogin, Username};
use itinera::error::chain;
use itinera::identity::{Principal, RequestContext};
use itinera::metrics::{RATE_LIMITED, REQUEST_DURATION, REQUESTS};
use itinera::ratelimit::{Decision, LimiterUnavailable, RateKey, Tier};
use tracing::Instrument;

use crate::caching;
use crate::cors::CorsPolicy;
use crate::limits::{RateLimitHeaders, request_kind};
use crate::problem::{ApiError, allow_header};
use crate::request::{ApiRequest, Credentials, Input, MAX_BODY_BYTES, PathParams, RequestBody};
use crate::router::{RouteMatch, Router};
use crate::routes::{Access, Denial, PREFLIGHT_FUNCTION, ROUTES, RateTier, Route};
use crate::security;
use crate::services::Services;

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
        // The function name, not the path: one word per route (method included), the name its
        // Lambda function has, and a bounded label whatever the caller sends.
        let metric_route = match &routing {
            Routing::Route(route, _) => route.function,
            Routing::Preflight(_) => PREFLIGHT_FUNCTION,
            Routing::Reject(_) => "unrouted",
        };
        let routed = match &routing {
            Routing::Route(route, _) => Some(*route),
            _ => None,
        };
        async move {
            let request_id = request.request_id.clone();
            let request_headers = request.headers.clone();
            let mut response = match routing {
                Routing::Route(route, params) => self.run(route, params, request).await,
                Routing::Preflight(methods) => self.preflight(&request.headers, methods),
                Routing::Reject(error) => error.into_response(&request_id),
            };
            let status = response.status();
            let headers = response.headers_mut();
            caching::apply(routed, status, self.services.clock.now(), headers);
            security::apply(headers);
            if let Ok(id) = HeaderValue::from_str(&request_id) {
                headers.insert("x-request-id", id);
            }
            if !headers.contains_key(header::ACCESS_CONTROL_ALLOW_METHODS) {
                self.cors.decorate(&request_headers, headers);
            }
            let elapsed = started.elapsed();
            tracing::info!(
                target: "itinera::access",
                status = response.status().as_u16(),
                latency_us = elapsed.as_micros() as u64,
                "request completed"
            );
            let status_class = status_class(response.status());
            let labels = [("route", metric_route), ("status_class", status_class)];
            REQUESTS.increment(&labels);
            REQUEST_DURATION.record(elapsed.as_secs_f64() * 1_000.0, &labels);
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
        // A cacheable route's answer may depend on its cache key alone: a body on its `GET` has
        // no meaning and is dropped, whatever its size or media type, rather than refused into a
        // 413 or 415 the cache would serve to every caller of the same key (see `Input::shared`).
        let shared = route.caching.is_some() && self.services.shared_cache;
        let body = match request.body {
            _ if shared => Bytes::new(),
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
        if let Some((tier, rejection)) = limits.tightest().and_then(|decision| {
            let refusal = decision.refusal(now)?;
            Some((decision.tier, ApiError::from(refusal)))
        }) {
            RATE_LIMITED.increment(&[("tier", tier.name())]);
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
            resolved_login: limits.resolved_login.clone(),
            shared,
        };
        let headers = input.headers.clone();
        let response = match (route.handler)(Arc::clone(&self.services), input).await {
            Ok(reply) if route.caching.is_some() => reply
                .with_content_tag()
                .into_response(&headers, conditional_get),
            Ok(reply) => reply.into_response(&headers, conditional_get),
            Err(error) => error.into_response(&request.request_id),
        };
        if response.status().is_success() {
            self.refund_successful_sign_in(&limits).await;
        }
        if route.caching.is_some() && caching::is_shareable(response.status()) {
            // Replayed to every client by shared caches: one client's budget is nobody else's.
            return response;
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
        let mut limits = Limits::default();
        if route.rate_tier == RateTier::Auth {
            counts.push((Tier::Auth, client.clone()));
            if let Some((account, resolved)) = self.sign_in_account(principal, body).await? {
                counts.push((Tier::Account, account));
                limits.resolved_login = resolved;
            }
        }
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
    /// The resolution comes back too, so the sign-in itself does not read the reservation again.
    async fn sign_in_account(
        &self,
        principal: Option<&Principal>,
        body: &[u8],
    ) -> Result<Option<(RateKey, Option<ResolvedLogin>)>, ApiError> {
        if let Some(principal) = principal {
            return Ok(Some((RateKey::user(&principal.user_id), None)));
        }
        let Some(identifier) = sign_in_identifier(body) else {
            return Ok(None);
        };
        let Ok(login) = identifier.parse_login() else {
            return Ok(Some((RateKey::account(identifier.text()), None)));
        };
        match accounts::account_of(&*self.services.store, &login).await {
            Ok(user_id) => {
                let key = match &user_id {
                    Some(user_id) => RateKey::user(user_id),
                    None => RateKey::account(&login.to_string()),
                };
                Ok(Some((key, Some(ResolvedLogin { login, user_id }))))
            }
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
    /// The account a sign-in body names, as counting it in the account tier found it.
    resolved_login: Option<ResolvedLogin>,
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

/// The status's class as a metric label: `2xx`, `3xx`, `4xx` or `5xx`.
fn status_class(status: StatusCode) -> &'static str {
    if status.is_server_error() {
        "5xx"
    } else if status.is_client_error() {
        "4xx"
    } else if status.is_redirection() {
        "3xx"
    } else if status.is_success() {
        "2xx"
    } else {
        "1xx"
    }
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
    use super::*;

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

    #[test]
    fn status_classes_are_the_first_digit() {
        assert_eq!(status_class(StatusCode::CREATED), "2xx");
        assert_eq!(status_class(StatusCode::NOT_MODIFIED), "3xx");
        assert_eq!(status_class(StatusCode::TOO_MANY_REQUESTS), "4xx");
        assert_eq!(status_class(StatusCode::SERVICE_UNAVAILABLE), "5xx");
        assert_eq!(status_class(StatusCode::CONTINUE), "1xx");
    }
}
