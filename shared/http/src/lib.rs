//! Itinera's HTTP crate: the route table, the request pipeline and the handlers, shared by the
//! Lambda functions and the local API. Front ends only translate their request type into an
//! [`ApiRequest`] and the resulting `http::Response` back.
//!
//! It depends on the domain crate (`itinera`) and the domain never on it: the domain returns
//! domain errors and this crate alone knows statuses, headers and problem bodies.
//!
//! - [`routes`]: the route table (one `route!` line per route: function, method, path, access,
//!   rate tier, store access, handler, flags).
//! - `pipeline`: [`Api`] runs a request through routing, body checks, authentication, rate
//!   limits, authorization, the handler and response shaping, and counts it (requests and
//!   latency by route and status class, rate-limit refusals by tier) in `itinera::metrics`.
//! - `services`: [`Services`], the ports and settings handlers are given, and the
//!   [`Authenticator`] of bearer tokens.
//! - `handlers`: thin handlers, one module per entity: decode, one use case, shape the reply.
//!
//! The modules depend one way: `pipeline -> routes -> handlers -> services`, and `router ->
//! routes`; handlers never reach the pipeline.
//! - `problem`: [`ApiError`], the one place every failure (`DomainError`, `StoreError`,
//!   `RateLimited`) becomes a status and an RFC 9457 problem body.
//! - `limits`: the `X-RateLimit-*` headers and which methods count as writes.
//! - [`caching`]: which answers shared caches may keep (anonymous reads the route table marks
//!   `cacheable`), their keys, `Cache-Control`, `Date` and the hash `ETag` of lists.
//! - `router`: [`Router`] matches method and path against the table (matchit), for the local API.
//! - `request`, `fields`, `reply`: the request, its validated fields, and the reply envelope.
//! - `cors`, `security`, `cursor`: CORS for configured origins, the security headers, and signed
//!   pagination cursors ([`CursorCodec`]).
//! - `config`: [`ApiConfig`], the pipeline's settings from the environment.
//! - [`openapi`]: the OpenAPI 3.1 document, built from the route table and the handlers' field
//!   declarations (`fields::Field`); only the local API, the generator and tests call it.

pub mod caching;
mod config;
mod cors;
mod cursor;
mod fields;
mod handlers;
mod limits;
pub mod openapi;
mod pipeline;
mod problem;
mod reply;
mod request;
mod router;
pub mod routes;
mod security;
mod services;

pub use config::ApiConfig;
pub use cors::CorsPolicy;
pub use cursor::CursorCodec;
pub use fields::{Fields, JsonFields, Parsed, QueryParams};
pub use limits::{RateLimitHeaders, request_kind};
pub use pipeline::Api;
pub use problem::{ApiError, FieldError};
pub use reply::Reply;
pub use request::{ApiRequest, Credentials, Input, MAX_BODY_BYTES, PathParams, RequestBody};
pub use router::{RouteMatch, Router};
pub use routes::{
    AUTHORIZER_FUNCTION, Access, Denial, PLATFORM_FUNCTIONS, PREFLIGHT_FUNCTION, ROUTES, RateTier,
    Route, StoreAccess, route_of_function,
};
/// The security headers every API response carries, for what a front end serves beside the API
/// (the local API's `/openapi.json`).
pub use security::apply as apply_security_headers;
pub use services::{Authenticator, CachedAuthenticator, Services};

#[cfg(test)]
mod tests {
    /// The direction of the crates is the point of having two: the domain must never be able to
    /// name a status or a header, so its manifest may not list an HTTP crate.
    #[test]
    fn the_domain_crate_depends_on_no_http_crate() {
        let manifest = include_str!("../../domain/Cargo.toml");
        for line in manifest.lines().map(str::trim) {
            let name = line.split(['.', ' ', '=']).next().unwrap_or_default();
            for forbidden in [
                "http",
                "http-body",
                "http-body-util",
                "matchit",
                "hyper",
                "lambda_http",
            ] {
                assert_ne!(name, forbidden, "shared/domain/Cargo.toml lists `{line}`");
            }
        }
    }
}
