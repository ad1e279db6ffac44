//! Shared caching of anonymous reads: which answers a shared cache (API Gateway's stage cache,
//! a CDN, a browser) may keep, for how long, under which key, and the headers that say so.
//!
//! A route declares [`Caching`] in the route table (`cacheable(ttl)`); only anonymous `GET`s may,
//! because a shared cache replays one caller's answer to every other. The key is derived, never
//! written out: the route's path parameters, the query parameters its handler accepts (the very
//! `Field` list the OpenAPI document is built from), and [`KEY_HEADERS`]. The generator writes
//! the stage cache's settings from the same [`cache_key`], so the gateway, the document and the
//! handler cannot disagree on what changes an answer.
//!
//! The headers are set here, for every response of the pipeline, on both front ends:
//! - a cacheable route's 200 and 304 carry `Cache-Control: public, max-age=<ttl>` and `Date`
//!   (the moment the function built the representation, so a client can tell how old a replayed
//!   copy is), and a strong `ETag` (the entity's version, or else a hash of the body), which
//!   `If-None-Match` turns into a 304;
//! - every other answer carries `Cache-Control: no-store`: authenticated answers, errors and
//!   preflights are never stored by any cache.
//!
//! The pipeline leaves the per-client `X-RateLimit-*` headers off a cacheable route's 2xx and
//! 304 (see `docs/rate-limits.md`); `docs/caching.md` explains TTLs, keys and staleness.

use chrono::{DateTime, Utc};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use sha2::{Digest, Sha256};

use crate::routes::Route;

/// How long a shared cache may keep a route's successful answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caching {
    /// Seconds a cached answer may be served; at most [`MAX_TTL_SECONDS`].
    pub ttl_seconds: u32,
}

/// The longest TTL API Gateway's stage cache accepts.
pub const MAX_TTL_SECONDS: u32 = 3_600;

/// The request headers that change a cacheable answer, and so are part of its key:
/// - `Origin`: the CORS layer echoes an allowed origin in `Access-Control-Allow-Origin`, so a
///   copy made for one origin must not be replayed to another (or to a caller without one);
/// - `If-None-Match`: it turns the answer into a bodiless 304, which must be replayed only to
///   callers holding the same tag.
///
/// No other header changes an anonymous route's answer: anonymous routes ignore credentials
/// altogether (the pipeline never authenticates them), and nothing negotiates content.
pub const KEY_HEADERS: &[&str] = &["Origin", "If-None-Match"];

/// What a shared cache keys a route's answers on: exactly the request parts that change them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheKey {
    /// Seconds an answer may be served from the cache.
    pub ttl_seconds: u32,
    /// The path template's parameters (`id` of `/v1/flights/{id}`).
    pub path: Vec<&'static str>,
    /// The query parameters the handler accepts, paging (`limit`, `cursor`) included.
    pub query: Vec<&'static str>,
    /// [`KEY_HEADERS`].
    pub headers: &'static [&'static str],
}

/// The cache key of `route`, derived from the route table and the query parameters its handler
/// declares; `None` for a route that is not cacheable. Only the generator, the OpenAPI document
/// and tests call it, so no Lambda binary links the table of operations it reads.
pub fn cache_key(route: &Route) -> Option<CacheKey> {
    let caching = route.caching?;
    Some(CacheKey {
        ttl_seconds: caching.ttl_seconds,
        path: crate::openapi::path_parameters(route.path).collect(),
        query: crate::openapi::query_parameters(route)
            .iter()
            .map(|field| field.name)
            .collect(),
        headers: KEY_HEADERS,
    })
}

/// A strong entity tag of a representation: the first 128 bits of its SHA-256, in hex. Lists and
/// searches have no version of their own; the tag changes exactly when the bytes do.
pub(crate) fn content_tag(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let hex: String = digest[..16]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("\"{hex}\"")
}

/// Whether `status` is an answer a shared cache may keep for a cacheable route: the
/// representation (200) or the confirmation that the caller's copy is current (304).
pub(crate) fn is_shareable(status: StatusCode) -> bool {
    status == StatusCode::OK || status == StatusCode::NOT_MODIFIED
}

/// Sets the caching headers of a response to a request for `route` (`None` when no route
/// matched): `public, max-age` and `Date` on a cacheable route's 200 or 304, `no-store` on every
/// other answer.
pub(crate) fn apply(
    route: Option<&Route>,
    status: StatusCode,
    now: DateTime<Utc>,
    headers: &mut HeaderMap,
) {
    match route.and_then(|route| route.caching) {
        Some(caching) if is_shareable(status) => {
            let policy = format!("public, max-age={}", caching.ttl_seconds);
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_str(&policy).expect("a policy of ASCII digits is a header value"),
            );
            headers.insert(
                header::DATE,
                HeaderValue::from_str(&http_date(now)).expect("an HTTP date is a header value"),
            );
        }
        _ => {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(NO_STORE));
        }
    }
}

/// The policy of every answer no cache may keep.
pub(crate) const NO_STORE: &str = "no-store";

/// `now` as an HTTP date (RFC 9110's IMF-fixdate): `Sun, 06 Nov 1994 08:49:37 GMT`.
fn http_date(now: DateTime<Utc>) -> String {
    now.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::routes::{GET_BOOKING, HEALTH, SEARCH_FLIGHTS};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(1994, 11, 6, 8, 49, 37).unwrap()
    }

    fn headers_of(route: Option<&Route>, status: StatusCode) -> HeaderMap {
        let mut headers = HeaderMap::new();
        apply(route, status, now(), &mut headers);
        headers
    }

    #[test]
    fn a_cacheable_routes_200_and_304_are_public_for_its_ttl_and_dated() {
        let ttl = SEARCH_FLIGHTS.caching.unwrap().ttl_seconds;
        for status in [StatusCode::OK, StatusCode::NOT_MODIFIED] {
            let headers = headers_of(Some(&SEARCH_FLIGHTS), status);
            assert_eq!(
                headers[header::CACHE_CONTROL],
                format!("public, max-age={ttl}").as_str(),
                "{status}"
            );
            assert_eq!(headers[header::DATE], "Sun, 06 Nov 1994 08:49:37 GMT");
        }
    }

    #[test]
    fn errors_authenticated_and_unrouted_answers_are_never_stored() {
        for (route, status) in [
            (Some(&SEARCH_FLIGHTS), StatusCode::BAD_REQUEST),
            (Some(&SEARCH_FLIGHTS), StatusCode::SERVICE_UNAVAILABLE),
            (Some(&GET_BOOKING), StatusCode::OK),
            (Some(&GET_BOOKING), StatusCode::NOT_MODIFIED),
            (Some(&HEALTH), StatusCode::OK),
            (None, StatusCode::NOT_FOUND),
            (None, StatusCode::NO_CONTENT),
        ] {
            let headers = headers_of(route, status);
            assert_eq!(
                headers[header::CACHE_CONTROL],
                NO_STORE,
                "{route:?} {status}"
            );
            assert!(!headers.contains_key(header::DATE), "{route:?} {status}");
        }
    }

    #[test]
    fn the_content_tag_is_strong_and_changes_with_the_bytes() {
        let tag = content_tag(br#"{"data":[]}"#);
        assert_eq!(tag.len(), 34);
        assert!(tag.starts_with('"') && tag.ends_with('"'));
        assert!(
            tag[1..33]
                .bytes()
                .all(|byte| byte.is_ascii_hexdigit() && !byte.is_ascii_uppercase())
        );
        assert_eq!(tag, content_tag(br#"{"data":[]}"#));
        assert_ne!(tag, content_tag(br#"{"data":[1]}"#));
    }

    #[test]
    fn a_key_names_the_path_the_handlers_query_parameters_and_the_varying_headers() {
        let key = cache_key(&SEARCH_FLIGHTS).unwrap();
        assert_eq!(
            key.query,
            [
                "from", "to", "date", "minPrice", "maxPrice", "seats", "sort", "limit", "cursor"
            ]
        );
        assert!(key.path.is_empty());
        assert_eq!(key.headers, ["Origin", "If-None-Match"]);
        let detail = cache_key(&crate::routes::GET_FLIGHT).unwrap();
        assert_eq!(detail.path, ["id"]);
        assert!(detail.query.is_empty());
        assert_eq!(cache_key(&GET_BOOKING), None);
    }
}
