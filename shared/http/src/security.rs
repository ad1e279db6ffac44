//! Security headers every response carries, errors and 404/405 included (helmet's current
//! defaults, tightened for a JSON API).

use http::{HeaderMap, HeaderName, HeaderValue, header};

const SECURITY_HEADERS: [(HeaderName, &str); 7] = [
    (
        header::STRICT_TRANSPORT_SECURITY,
        "max-age=31536000; includeSubDomains",
    ),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "no-referrer"),
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; frame-ancestors 'none'",
    ),
    (
        HeaderName::from_static("cross-origin-resource-policy"),
        "same-origin",
    ),
    // Browsers' XSS auditors are gone and `1; mode=block` introduced leaks; `0` disables them.
    (header::X_XSS_PROTECTION, "0"),
];

/// Sets the security headers, replacing any a handler may have set, and removes headers that
/// describe the server.
pub fn apply(headers: &mut HeaderMap) {
    for (name, value) in SECURITY_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers.remove(header::SERVER);
    headers.remove(HeaderName::from_static("x-powered-by"));
}
