//! How a response tells the client about the rate limits: the `X-RateLimit-*` headers of the
//! tightest tier, `Retry-After` on a refusal, and which methods count as changes. The limiter
//! itself (tiers, counters, decisions) is the domain's; the refusal's status is mapped in
//! `problem`.

use chrono::{DateTime, Utc};
use http::{HeaderMap, HeaderName, HeaderValue, Method, header};

use itinera::ratelimit::{Decision, RequestKind};

const LIMIT_HEADER: HeaderName = HeaderName::from_static("x-ratelimit-limit");
const REMAINING_HEADER: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
const RESET_HEADER: HeaderName = HeaderName::from_static("x-ratelimit-reset");

/// What a request with `method` does, for the limiter: POST, PUT, PATCH and DELETE change data.
pub fn request_kind(method: &Method) -> RequestKind {
    if [Method::POST, Method::PUT, Method::PATCH, Method::DELETE].contains(method) {
        RequestKind::Change
    } else {
        RequestKind::Read
    }
}

/// A rate-limit decision written into response headers.
pub trait RateLimitHeaders {
    /// Writes `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (seconds
    /// until the window resets, as in the IETF rate-limit headers draft; not an epoch, so clients
    /// need no synchronized clock), and `Retry-After` when the request is refused.
    fn apply_headers(&self, now: DateTime<Utc>, headers: &mut HeaderMap);
}

impl RateLimitHeaders for Decision {
    fn apply_headers(&self, now: DateTime<Utc>, headers: &mut HeaderMap) {
        headers.insert(LIMIT_HEADER, HeaderValue::from(self.limit));
        headers.insert(REMAINING_HEADER, HeaderValue::from(self.remaining));
        headers.insert(
            RESET_HEADER,
            HeaderValue::from(self.seconds_until_reset(now)),
        );
        if !self.allowed {
            headers.insert(
                header::RETRY_AFTER,
                HeaderValue::from(self.retry_after_seconds(now)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use itinera::ratelimit::Tier;

    use super::*;
    use crate::ApiError;

    /// When the window of every decision below ends, in epoch seconds.
    const RESET: i64 = 1_700_000_900;

    /// A global-tier decision with a limit of 10 in the window that ends at [`RESET`].
    fn decision(allowed: bool, remaining: u32) -> Decision {
        Decision {
            tier: Tier::Global,
            limit: 10,
            remaining,
            reset_at_epoch_seconds: RESET,
            allowed,
        }
    }

    /// The moment `ms` milliseconds before that window ends.
    fn before_reset(ms: i64) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(RESET * 1_000 - ms).unwrap()
    }

    fn header(headers: &HeaderMap, name: &str) -> Option<String> {
        headers
            .get(name)
            .map(|value| value.to_str().unwrap().to_owned())
    }

    #[test]
    fn only_methods_that_change_data_count_as_writes() {
        for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            assert_eq!(request_kind(&method), RequestKind::Change, "{method}");
        }
        for method in [Method::GET, Method::HEAD, Method::OPTIONS] {
            assert_eq!(request_kind(&method), RequestKind::Read, "{method}");
        }
    }

    #[test]
    fn headers_carry_limit_remaining_and_seconds_until_reset() {
        let mut headers = HeaderMap::new();
        decision(true, 7).apply_headers(before_reset(99_999), &mut headers);
        assert_eq!(header(&headers, "x-ratelimit-limit").as_deref(), Some("10"));
        assert_eq!(
            header(&headers, "x-ratelimit-remaining").as_deref(),
            Some("7")
        );
        // 99.999 seconds are left: rounded up, so the client never retries a moment too early.
        assert_eq!(
            header(&headers, "x-ratelimit-reset").as_deref(),
            Some("100")
        );
        assert_eq!(header(&headers, "retry-after"), None);
    }

    #[test]
    fn a_refusal_adds_retry_after_and_becomes_a_429() {
        let now = before_reset(42_000);
        let refused = decision(false, 0);
        let mut headers = HeaderMap::new();
        refused.apply_headers(now, &mut headers);
        assert_eq!(header(&headers, "retry-after").as_deref(), Some("42"));
        assert_eq!(
            header(&headers, "x-ratelimit-remaining").as_deref(),
            Some("0")
        );
        assert_eq!(
            refused.refusal(now).map(ApiError::from),
            Some(ApiError::TooManyRequests {
                retry_after_seconds: 42
            })
        );
        assert_eq!(decision(true, 0).refusal(now).map(ApiError::from), None);
    }
}
