//! Successful responses: the `{"data": ...}` envelope, list pagination, `ETag` and `Location`.
//! Their `Cache-Control` is the pipeline's (`caching`): it depends on the route, not the reply.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use serde::Serialize;

use super::caching::content_tag;
use super::problem::ApiError;

/// What a handler answers when it succeeds.
#[derive(Debug)]
pub struct Reply {
    status: StatusCode,
    body: Option<Vec<u8>>,
    etag: Option<String>,
    location: Option<String>,
}

#[derive(Serialize)]
struct Data<'a, T> {
    data: &'a T,
}

#[derive(Serialize)]
struct List<'a, T> {
    data: &'a [T],
    pagination: Pagination<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Pagination<'a> {
    limit: u32,
    next_cursor: Option<&'a str>,
}

fn json<T: Serialize>(value: &T) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(value).map_err(|error| {
        tracing::error!(%error, "response did not serialize");
        ApiError::Internal
    })
}

impl Reply {
    /// 200 with `{"data": data}`.
    pub fn ok<T: Serialize>(data: &T) -> Result<Self, ApiError> {
        Ok(Self {
            status: StatusCode::OK,
            body: Some(json(&Data { data })?),
            etag: None,
            location: None,
        })
    }

    /// The same reply with another success status (201 for something made that has no address
    /// of its own, such as an upload ticket).
    pub(crate) fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// 201 with `{"data": data}` and the new resource's `Location`.
    pub fn created<T: Serialize>(data: &T, location: String) -> Result<Self, ApiError> {
        let mut reply = Self::ok(data)?;
        reply.status = StatusCode::CREATED;
        reply.location = Some(location);
        Ok(reply)
    }

    /// 200 with one page of a list and the cursor of the next page.
    pub fn list<T: Serialize>(
        items: &[T],
        limit: u32,
        next_cursor: Option<&str>,
    ) -> Result<Self, ApiError> {
        let body = List {
            data: items,
            pagination: Pagination { limit, next_cursor },
        };
        Ok(Self {
            status: StatusCode::OK,
            body: Some(json(&body)?),
            etag: None,
            location: None,
        })
    }

    /// 204 without a body.
    pub fn no_content() -> Self {
        Self {
            status: StatusCode::NO_CONTENT,
            body: None,
            etag: None,
            location: None,
        }
    }

    /// Tags the representation with the entity's version (`ETag: "3"`).
    pub fn with_version(mut self, version: u64) -> Self {
        self.etag = Some(etag(version));
        self
    }

    /// Tags a representation that has no version with a hash of its body (a list, a search, a
    /// computed answer), so that `If-None-Match` answers 304 while it is unchanged. The pipeline
    /// does it for the routes shared caches keep; a reply without a body stays untagged.
    pub(crate) fn with_content_tag(mut self) -> Self {
        if self.etag.is_none()
            && let Some(body) = &self.body
        {
            self.etag = Some(content_tag(body));
        }
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The HTTP response; a `GET` whose `If-None-Match` names the current tag gets a bodiless 304.
    pub fn into_response(self, request: &HeaderMap, conditional_get: bool) -> Response<Bytes> {
        let not_modified = conditional_get
            && self.status == StatusCode::OK
            && self
                .etag
                .as_deref()
                .is_some_and(|etag| none_match(request, etag));
        let (status, body) = if not_modified {
            (StatusCode::NOT_MODIFIED, None)
        } else {
            (self.status, self.body)
        };
        let has_body = body.is_some();
        let mut response = Response::new(body.map(Bytes::from).unwrap_or_default());
        *response.status_mut() = status;
        let headers = response.headers_mut();
        if has_body {
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        }
        if let Some(etag) = self.etag.and_then(|etag| HeaderValue::from_str(&etag).ok()) {
            headers.insert(header::ETAG, etag);
        }
        if let Some(location) = self
            .location
            .and_then(|location| HeaderValue::from_str(&location).ok())
        {
            headers.insert(header::LOCATION, location);
        }
        response
    }
}

/// The entity tag of a version.
fn etag(version: u64) -> String {
    format!("\"{version}\"")
}

/// `If-None-Match` holds `*` or the tag (weak comparison, as RFC 9110 asks for this header).
fn none_match(request: &HeaderMap, etag: &str) -> bool {
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}

/// The versions an `If-Match` header names (strong comparison: weak tags match nothing).
pub(crate) fn if_match_versions(request: &HeaderMap) -> Option<Result<Vec<u64>, ()>> {
    let values: Vec<&str> = request
        .get_all(header::IF_MATCH)
        .iter()
        .map(|value| value.to_str().unwrap_or(""))
        .collect();
    if values.is_empty() {
        return None;
    }
    let tags = values
        .iter()
        .flat_map(|value| value.split(','))
        .map(str::trim);
    let mut versions = Vec::new();
    for tag in tags {
        if tag == "*" {
            return Some(Err(()));
        }
        if let Some(version) = tag
            .strip_prefix('"')
            .and_then(|tag| tag.strip_suffix('"'))
            .and_then(|tag| tag.parse().ok())
        {
            versions.push(version);
        }
    }
    Some(Ok(versions))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(name: header::HeaderName, value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(name, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn a_matching_if_none_match_turns_a_get_into_304() {
        let reply = Reply::ok(&1).unwrap().with_version(3);
        let response = reply.into_response(&headers(header::IF_NONE_MATCH, "W/\"3\""), true);
        assert_eq!(response.status(), 304);
        assert!(response.body().is_empty());
        assert_eq!(response.headers()[header::ETAG], "\"3\"");
    }

    #[test]
    fn a_stale_if_none_match_gets_the_body() {
        let reply = Reply::ok(&1).unwrap().with_version(4);
        let response = reply.into_response(&headers(header::IF_NONE_MATCH, "\"3\""), true);
        assert_eq!(response.status(), 200);
        assert_eq!(response.body().as_ref(), br#"{"data":1}"#);
    }

    #[test]
    fn a_list_tagged_by_its_content_answers_304_until_its_bytes_change() {
        let page = Reply::list(&[1, 2], 20, None).unwrap().with_content_tag();
        let first = page.into_response(&HeaderMap::new(), true);
        assert_eq!(first.status(), 200);
        let tag = first.headers()[header::ETAG].to_str().unwrap().to_owned();
        assert_eq!(tag, content_tag(first.body()));

        let again = Reply::list(&[1, 2], 20, None).unwrap().with_content_tag();
        let response = again.into_response(&headers(header::IF_NONE_MATCH, &tag), true);
        assert_eq!(response.status(), 304);
        assert!(response.body().is_empty());
        assert_eq!(response.headers()[header::ETAG], tag.as_str());

        let changed = Reply::list(&[1, 3], 20, None).unwrap().with_content_tag();
        let response = changed.into_response(&headers(header::IF_NONE_MATCH, &tag), true);
        assert_eq!(response.status(), 200);
        assert_ne!(response.headers()[header::ETAG], tag.as_str());
    }

    #[test]
    fn a_version_tag_is_kept_and_a_bodiless_reply_stays_untagged() {
        let versioned = Reply::ok(&1).unwrap().with_version(7).with_content_tag();
        let response = versioned.into_response(&HeaderMap::new(), true);
        assert_eq!(response.headers()[header::ETAG], "\"7\"");
        let empty = Reply::no_content().with_content_tag();
        let response = empty.into_response(&HeaderMap::new(), true);
        assert!(!response.headers().contains_key(header::ETAG));
    }

    #[test]
    fn if_match_reads_strong_tags_and_wildcards() {
        assert_eq!(if_match_versions(&HeaderMap::new()), None);
        assert_eq!(
            if_match_versions(&headers(header::IF_MATCH, "\"2\", \"5\"")),
            Some(Ok(vec![2, 5]))
        );
        assert_eq!(
            if_match_versions(&headers(header::IF_MATCH, "W/\"2\"")),
            Some(Ok(vec![]))
        );
        assert_eq!(
            if_match_versions(&headers(header::IF_MATCH, "*")),
            Some(Err(()))
        );
    }
}

/// Generated inputs: whatever `If-Match` holds, it is read without panicking, as the strong tags
/// of whole versions it names, or as `*`.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn any_if_match_value_reads_as_the_versions_it_names(value in "[ -~]{0,60}") {
            let Ok(header) = HeaderValue::from_str(&value) else {
                return Ok(());
            };
            let mut headers = HeaderMap::new();
            headers.insert(header::IF_MATCH, header);
            let tags: Vec<&str> = value.split(',').map(str::trim).collect();
            match if_match_versions(&headers) {
                Some(Err(())) => prop_assert!(tags.contains(&"*")),
                Some(Ok(versions)) => {
                    prop_assert!(!tags.contains(&"*"));
                    for version in versions {
                        let tag = format!("\"{version}\"");
                        prop_assert!(tags.iter().any(|candidate| {
                            candidate
                                .strip_prefix('"')
                                .and_then(|rest| rest.strip_suffix('"'))
                                .and_then(|digits| digits.parse::<u64>().ok())
                                == Some(version)
                        }), "{tag} in {value:?}");
                    }
                }
                None => prop_assert!(false, "a present header reads as absent"),
            }
        }

        #[test]
        fn every_version_round_trips_through_its_etag(versions in prop::collection::vec(any::<u64>(), 1..5)) {
            let value = versions.iter().map(|version| etag(*version)).collect::<Vec<_>>().join(", ");
            let mut headers = HeaderMap::new();
            headers.insert(header::IF_MATCH, HeaderValue::from_str(&value).unwrap());
            prop_assert_eq!(if_match_versions(&headers), Some(Ok(versions)));
        }
    }
}
