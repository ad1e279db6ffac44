//! The API reference page: `GET /docs` renders the local API's own `/openapi.json` with Swagger
//! UI. Its files are vendored in `docs-ui/` at a pinned version (`docs-ui/README.md` says where
//! from and how to update them) and compiled into the binary, so the page works with the network
//! unplugged and no CDN is ever asked. Local only: no Lambda function serves it.
//!
//! The page's Content-Security-Policy allows exactly what it needs: its scripts and styles, and
//! the spec, from this origin, and the icons Swagger UI draws as `data:` images; no inline script
//! or style (the initializer is a file of its own, `reference.js`), no other origin, no framing.
//! `infra/docs_page_check.py` renders the page in headless Chromium and fails on any violation.

use bytes::Bytes;
use http::{HeaderValue, Method, Response, StatusCode, header};

/// The page's Content-Security-Policy.
pub const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// The page's files: where each is served, its media type and its bytes.
#[rustfmt::skip]
const ASSETS: &[(&str, &str, &[u8])] = &[
    ("/docs", "text/html; charset=utf-8", include_bytes!("../docs-ui/index.html")),
    ("/docs/reference.js", "text/javascript; charset=utf-8", include_bytes!("../docs-ui/reference.js")),
    ("/docs/swagger-ui-bundle.js", "text/javascript; charset=utf-8", include_bytes!("../docs-ui/swagger-ui-bundle.js")),
    ("/docs/swagger-ui.css", "text/css; charset=utf-8", include_bytes!("../docs-ui/swagger-ui.css")),
];

/// The page's answer to `GET` (or `HEAD`) of one of its paths; `None` for every other request,
/// which goes to the API.
pub fn respond(method: &Method, path: &str) -> Option<Response<Bytes>> {
    if !path.starts_with("/docs") || (method != Method::GET && method != Method::HEAD) {
        return None;
    }
    let path = if path == "/docs/" { "/docs" } else { path };
    let &(_, content_type, bytes) = ASSETS.iter().find(|(served_at, _, _)| *served_at == path)?;
    let body = if method == Method::HEAD {
        Bytes::new()
    } else {
        Bytes::from_static(bytes)
    };
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    // The API's security headers, with the page's own policy in place of `default-src 'none'`.
    itinera_http::apply_security_headers(headers);
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_POLICY),
    );
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Some(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_and_its_files_are_served_with_their_policy() {
        for (path, content_type) in [
            ("/docs", "text/html; charset=utf-8"),
            ("/docs/", "text/html; charset=utf-8"),
            ("/docs/reference.js", "text/javascript; charset=utf-8"),
            (
                "/docs/swagger-ui-bundle.js",
                "text/javascript; charset=utf-8",
            ),
            ("/docs/swagger-ui.css", "text/css; charset=utf-8"),
        ] {
            let response = respond(&Method::GET, path).expect(path);
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(response.headers()[header::CONTENT_TYPE], content_type);
            assert_eq!(
                response.headers()[header::CONTENT_SECURITY_POLICY],
                PAGE_POLICY
            );
            assert!(!response.body().is_empty(), "{path}");
        }
    }

    #[test]
    fn the_page_loads_nothing_from_another_origin_and_runs_no_inline_script() {
        let page = std::str::from_utf8(respond(&Method::GET, "/docs").unwrap().body())
            .unwrap()
            .to_owned();
        assert!(
            !page.contains("http://") && !page.contains("https://"),
            "{page}"
        );
        assert!(
            !page.contains("<script>") && !page.contains("style="),
            "{page}"
        );
    }

    #[test]
    fn other_paths_and_methods_go_to_the_api() {
        assert!(respond(&Method::GET, "/docs/other.js").is_none());
        assert!(respond(&Method::GET, "/v1/health").is_none());
        assert!(respond(&Method::POST, "/docs").is_none());
        let head = respond(&Method::HEAD, "/docs").unwrap();
        assert!(head.body().is_empty());
    }
}
