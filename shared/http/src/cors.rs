//! Cross-origin resource sharing for browser clients on a configured list of origins.
//!
//! Credentials are allowed, so the allowed origin is echoed (never `*`) with `Vary: Origin`.
//! Requests from any other origin get no CORS headers at all, and the browser keeps the response
//! from the page.

use http::{HeaderMap, HeaderValue, Method, header};

/// Request headers browsers may send cross-origin.
const ALLOWED_HEADERS: &str =
    "Authorization, Content-Type, If-Match, If-None-Match, Idempotency-Key, X-Request-Id";
/// Response headers cross-origin pages may read.
/// (`Cache-Control` is safelisted; `Date` is not, and says how old a cached answer is.)
const EXPOSED_HEADERS: &str = "Date, ETag, Location, Retry-After, X-Request-Id, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset";
/// How long browsers may cache a preflight answer, in seconds.
const PREFLIGHT_MAX_AGE: &str = "600";

/// The origins allowed to call the API from a browser.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CorsPolicy {
    origins: Vec<String>,
}

impl CorsPolicy {
    /// Reads a comma-separated list of origins (`https://app.example.com,http://localhost:5173`).
    pub fn from_list(list: &str) -> Result<Self, String> {
        let mut origins = Vec::new();
        for origin in list
            .split(',')
            .map(str::trim)
            .filter(|origin| !origin.is_empty())
        {
            if origin == "*" {
                return Err("`*` cannot be combined with credentials; list the origins".into());
            }
            let Some((scheme, host)) = origin.split_once("://") else {
                return Err(format!(
                    "`{origin}` is not an origin such as https://app.example.com"
                ));
            };
            if !matches!(scheme, "http" | "https") || host.is_empty() || host.contains('/') {
                return Err(format!(
                    "`{origin}` is not an origin such as https://app.example.com"
                ));
            }
            origins.push(origin.to_ascii_lowercase());
        }
        Ok(Self { origins })
    }

    /// The request's `Origin` when it is allowed.
    pub fn allowed_origin<'a>(&self, headers: &'a HeaderMap) -> Option<&'a HeaderValue> {
        let origin = headers.get(header::ORIGIN)?;
        let text = origin.to_str().ok()?;
        self.origins
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(text))
            .then_some(origin)
    }

    /// Adds the headers of an actual (non-preflight) cross-origin response.
    pub fn decorate(&self, request: &HeaderMap, response: &mut HeaderMap) {
        response.append(header::VARY, HeaderValue::from_static("Origin"));
        if let Some(origin) = self.allowed_origin(request) {
            response.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
            response.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
            response.insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static(EXPOSED_HEADERS),
            );
        }
    }

    /// Adds the headers answering a preflight for a path that accepts `methods`.
    pub fn decorate_preflight(
        &self,
        request: &HeaderMap,
        methods: &[Method],
        response: &mut HeaderMap,
    ) {
        response.append(header::VARY, HeaderValue::from_static("Origin"));
        let Some(origin) = self.allowed_origin(request) else {
            return;
        };
        if !request.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD) {
            return;
        }
        let methods = methods
            .iter()
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        response.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        response.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
        if let Ok(methods) = HeaderValue::from_str(&methods) {
            response.insert(header::ACCESS_CONTROL_ALLOW_METHODS, methods);
        }
        response.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(ALLOWED_HEADERS),
        );
        response.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static(PREFLIGHT_MAX_AGE),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(origin: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ORIGIN, HeaderValue::from_str(origin).unwrap());
        headers.insert(
            header::ACCESS_CONTROL_REQUEST_METHOD,
            HeaderValue::from_static("POST"),
        );
        headers
    }

    #[test]
    fn an_allowed_origin_is_echoed_with_credentials() {
        let policy =
            CorsPolicy::from_list("https://app.example.com, http://localhost:5173").unwrap();
        let mut response = HeaderMap::new();
        policy.decorate(&request("https://app.example.com"), &mut response);
        assert_eq!(
            response[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://app.example.com"
        );
        assert_eq!(response[header::ACCESS_CONTROL_ALLOW_CREDENTIALS], "true");
        assert_eq!(response[header::VARY], "Origin");
    }

    #[test]
    fn an_unknown_origin_gets_no_cors_headers() {
        let policy = CorsPolicy::from_list("https://app.example.com").unwrap();
        let mut response = HeaderMap::new();
        policy.decorate_preflight(
            &request("https://evil.example"),
            &[Method::GET],
            &mut response,
        );
        assert!(
            response
                .keys()
                .all(|name| !name.as_str().starts_with("access-control-"))
        );
    }

    #[test]
    fn a_wildcard_or_malformed_origin_is_refused() {
        assert!(CorsPolicy::from_list("*").is_err());
        assert!(CorsPolicy::from_list("app.example.com").is_err());
        assert!(CorsPolicy::from_list("https://app.example.com/path").is_err());
        assert_eq!(CorsPolicy::from_list("").unwrap(), CorsPolicy::default());
    }
}
