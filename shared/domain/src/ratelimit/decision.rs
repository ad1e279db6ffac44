//! What a counter says about a request, and why a refused one is refused. How a response tells
//! the client (status, headers) is the HTTP crate's business.

use chrono::{DateTime, Utc};

use super::Tier;

/// Why the limiter refuses a request: the domain's verdict, which the HTTP layer answers with a
/// status and a `Retry-After` in its one mapping place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RateLimited {
    /// The tier's window admits no more requests for this key.
    #[error("the {tier} rate limit is exhausted; retry in {retry_after_seconds} s")]
    Exhausted {
        tier: Tier,
        /// Whole seconds until the window that refused the request ends (at least one).
        retry_after_seconds: u64,
    },
    /// The tier fails closed and its counter could not be read or counted.
    #[error("the {tier} rate limit could not be checked; retry in {retry_after_seconds} s")]
    Unavailable {
        tier: Tier,
        /// How long a client should wait before it tries again.
        retry_after_seconds: u32,
    },
}

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

    /// Why this decision refuses the request, when it does.
    pub fn refusal(&self, now: DateTime<Utc>) -> Option<RateLimited> {
        (!self.allowed).then(|| RateLimited::Exhausted {
            tier: self.tier,
            retry_after_seconds: self.retry_after_seconds(now),
        })
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
    fn a_refusal_names_its_tier_and_the_seconds_until_the_window_ends() {
        let now = at_ms((RESET - 42) * 1_000);
        assert_eq!(
            decision(false, 0, RESET).refusal(now),
            Some(RateLimited::Exhausted {
                tier: Tier::Global,
                retry_after_seconds: 42
            })
        );
        assert_eq!(decision(true, 0, RESET).refusal(now), None);
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
