//! What a counter says about a request, and how a response tells the client.

use chrono::{DateTime, Utc};
use http::{HeaderMap, HeaderName, HeaderValue, header};

use super::Tier;
use crate::api::ApiError;

pub const LIMIT_HEADER: HeaderName = HeaderName::from_static("x-ratelimit-limit");
pub const REMAINING_HEADER: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
pub const RESET_HEADER: HeaderName = HeaderName::from_static("x-ratelimit-reset");

/// The state of one tier's counter for one key, after counting (or peeking at) a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub tier: Tier,
    /// The tier's maximum per window.
    pub limit: u32,
    /// How many more requests the window admits after this one.
    pub remaining: u32,
    /// When the current window ends, in epoch seconds (rounded up).
    pub reset_at_epoch_seconds: i64,
    /// Whether this request may proceed.
    pub allowed: bool,
}

impl Decision {
    /// The decision once `count` requests (this one included) are counted in the window.
    pub(crate) fn counted(tier: Tier, limit: u32, count: u64, reset_at_epoch_seconds: i64) -> Self {
        Self {
            tier,
            limit,
            remaining: remaining(limit, count),
            reset_at_epoch_seconds,
            allowed: count <= u64::from(limit),
        }
    }

    /// The decision for a request that is not counted itself, with `count` already in the window:
    /// it may proceed while the window has room for one more.
    pub(crate) fn peeked(tier: Tier, limit: u32, count: u64, reset_at_epoch_seconds: i64) -> Self {
        Self {
            tier,
            limit,
            remaining: remaining(limit, count),
            reset_at_epoch_seconds,
            allowed: count < u64::from(limit),
        }
    }

    /// Whole seconds from `now` until the window resets (0 once it has).
    pub fn seconds_until_reset(&self, now: DateTime<Utc>) -> u64 {
        let left_ms = self
            .reset_at_epoch_seconds
            .saturating_mul(1_000)
            .saturating_sub(now.timestamp_millis());
        u64::try_from(left_ms).map_or(0, |ms| ms.div_ceil(1_000))
    }

    /// The `Retry-After` of a refused request: at least one second, so a client that obeys it
    /// never retries within the window that refused it.
    pub fn retry_after_seconds(&self, now: DateTime<Utc>) -> u64 {
        self.seconds_until_reset(now).max(1)
    }

    /// Of several decisions for one request, the one to act on and report: a refusal before any
    /// admission (of several refusals, the one that lasts longest, so `Retry-After` covers them
    /// all); otherwise the admission with the fewest requests remaining.
    pub fn tightest(decisions: impl IntoIterator<Item = Decision>) -> Option<Decision> {
        decisions.into_iter().max_by_key(|decision| {
            if decision.allowed {
                (
                    false,
                    -i64::from(decision.remaining),
                    decision.reset_at_epoch_seconds,
                )
            } else {
                (true, decision.reset_at_epoch_seconds, 0)
            }
        })
    }

    /// The 429 to answer with when this decision refuses the request.
    pub fn rejection(&self, now: DateTime<Utc>) -> Option<ApiError> {
        (!self.allowed).then(|| ApiError::TooManyRequests {
            retry_after_seconds: self.retry_after_seconds(now),
        })
    }

    /// Writes `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (seconds
    /// until the window resets, as in the IETF rate-limit headers draft; not an epoch, so clients
    /// need no synchronized clock), and `Retry-After` when the request is refused.
    pub fn apply_headers(&self, now: DateTime<Utc>, headers: &mut HeaderMap) {
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

fn remaining(limit: u32, count: u64) -> u32 {
    u32::try_from(u64::from(limit).saturating_sub(count)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    const RESET: i64 = 1_700_000_900;

    fn at_ms(epoch_ms: i64) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(epoch_ms).unwrap()
    }

    fn decision(allowed: bool, remaining: u32, reset: i64) -> Decision {
        Decision {
            tier: Tier::Global,
            limit: 10,
            remaining,
            reset_at_epoch_seconds: reset,
            allowed,
        }
    }

    fn header(headers: &HeaderMap, name: &str) -> Option<String> {
        headers
            .get(name)
            .map(|value| value.to_str().unwrap().to_owned())
    }

    #[test]
    fn counting_admits_up_to_the_limit_and_then_refuses() {
        let at_limit = Decision::counted(Tier::Write, 3, 3, RESET);
        assert!(at_limit.allowed);
        assert_eq!(at_limit.remaining, 0);
        let over = Decision::counted(Tier::Write, 3, 4, RESET);
        assert!(!over.allowed);
        assert_eq!(over.remaining, 0);
        assert_eq!(Decision::counted(Tier::Write, 3, 1, RESET).remaining, 2);
    }

    #[test]
    fn peeking_refuses_once_the_window_is_full() {
        let room = Decision::peeked(Tier::Auth, 5, 4, RESET);
        assert!(room.allowed);
        assert_eq!(room.remaining, 1);
        let full = Decision::peeked(Tier::Auth, 5, 5, RESET);
        assert!(!full.allowed);
        assert_eq!(full.remaining, 0);
    }

    #[test]
    fn headers_carry_limit_remaining_and_seconds_until_reset() {
        let mut headers = HeaderMap::new();
        decision(true, 7, RESET).apply_headers(at_ms((RESET - 100) * 1_000 + 1), &mut headers);
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
        let now = at_ms((RESET - 42) * 1_000);
        let refused = decision(false, 0, RESET);
        let mut headers = HeaderMap::new();
        refused.apply_headers(now, &mut headers);
        assert_eq!(header(&headers, "retry-after").as_deref(), Some("42"));
        assert_eq!(
            header(&headers, "x-ratelimit-remaining").as_deref(),
            Some("0")
        );
        assert_eq!(
            refused.rejection(now),
            Some(ApiError::TooManyRequests {
                retry_after_seconds: 42
            })
        );
        assert_eq!(decision(true, 0, RESET).rejection(now), None);
    }

    #[test]
    fn retry_after_is_at_least_one_second_even_at_the_reset() {
        let refused = decision(false, 0, RESET);
        assert_eq!(refused.seconds_until_reset(at_ms(RESET * 1_000)), 0);
        assert_eq!(refused.retry_after_seconds(at_ms(RESET * 1_000 + 5)), 1);
    }

    #[test]
    fn the_tightest_decision_is_a_refusal_then_the_fewest_remaining() {
        let roomy = decision(true, 900, RESET);
        let tight = decision(true, 3, RESET);
        assert_eq!(Decision::tightest([roomy, tight]), Some(tight));

        let short_refusal = decision(false, 0, RESET);
        let long_refusal = decision(false, 0, RESET + 600);
        assert_eq!(
            Decision::tightest([tight, short_refusal, long_refusal, roomy]),
            Some(long_refusal)
        );
        assert_eq!(Decision::tightest([]), None);
    }
}
