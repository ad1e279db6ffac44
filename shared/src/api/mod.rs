//! The HTTP side of the domain: the route table, the request pipeline and the handlers, shared by
//! the Lambda functions and the local API. Front ends only translate their request type into an
//! [`ApiRequest`] and the resulting `http::Response` back.

mod config;
mod cors;
mod cursor;
mod fields;
mod handlers;
mod limits;
mod pipeline;
mod problem;
mod reply;
mod request;
mod router;
pub mod routes;
mod security;

pub use config::ApiConfig;
pub use cors::CorsPolicy;
pub use cursor::CursorCodec;
pub use fields::{Fields, JsonFields, Parsed, QueryParams};
pub use limits::{RateLimitHeaders, request_kind};
pub use pipeline::{Api, Authenticator, CachedAuthenticator, Services};
pub use problem::{ApiError, FieldError};
pub use reply::Reply;
pub use request::{ApiRequest, Credentials, Input, MAX_BODY_BYTES, PathParams, RequestBody};
pub use router::{RouteMatch, Router};
pub use routes::{
    AUTHORIZER_FUNCTION, Access, Denial, PLATFORM_FUNCTIONS, PREFLIGHT_FUNCTION, ROUTES, RateTier,
    Route, StoreAccess, route_of_function,
};
