//! Waiting between attempts when transactions on one item collide (a flight's seats, a car's
//! days).
//!
//! DynamoDB cancels a transaction that touches an item another transaction is changing at the
//! same moment (`TransactionConflict`); nothing was written and trying again is right. Popular
//! flights and cars make that common, so every booking and contract write retries with capped
//! exponential backoff and full jitter: the colliding requests spread out instead of colliding
//! again in step, and a request loses only when its condition really fails (the seats or the
//! days are gone), not because it was unlucky.

use std::time::Duration;

use crate::error::DomainError;
use crate::storage::StoreError;

/// How many times a write is attempted before the request gives up as contended.
pub(crate) const ATTEMPTS: u32 = 12;

/// The first backoff's upper bound; each attempt doubles it.
const BASE: Duration = Duration::from_millis(10);
/// The most one backoff waits.
const CAP: Duration = Duration::from_millis(500);

/// The rounds of one write that retries: what the last failure was, so that a write that ran out
/// of attempts says whether the store was overloaded (throttled, a 503 with `Retry-After`) or the
/// item contended (a 409 the caller words).
#[derive(Debug, Default)]
pub(crate) struct Rounds {
    throttled: Option<StoreError>,
}

impl Rounds {
    /// Waits before the next attempt when `error` is a collision (`TransactionConflict`) or
    /// throttling, in which nothing was written; any other error is given back.
    pub(crate) async fn wait_after(
        &mut self,
        attempt: u32,
        error: StoreError,
    ) -> Result<(), StoreError> {
        match error {
            StoreError::TransactionConflict => self.throttled = None,
            // DynamoDB cancels a transaction with a throttled item without retrying it, so
            // waiting and trying again is the caller's job.
            throttled @ StoreError::Throttled(_) => self.throttled = Some(throttled),
            other => return Err(other),
        }
        back_off(attempt).await;
        Ok(())
    }

    /// The error once every attempt is spent: the store's throttling if the last round was
    /// throttled, else the contention `detail` names.
    pub(crate) fn exhausted(self, detail: &str) -> DomainError {
        self.throttled.map_or_else(
            || DomainError::Conflict {
                detail: detail.into(),
            },
            DomainError::from,
        )
    }
}

/// Sleeps a random time between zero and the capped exponential bound of `attempt` (0-based).
pub(crate) async fn back_off(attempt: u32) {
    tokio::time::sleep(delay(attempt, random_fraction())).await;
}

/// The backoff for `attempt` at `fraction` (0.0 to 1.0) of its bound.
fn delay(attempt: u32, fraction: f64) -> Duration {
    let bound = BASE
        .checked_mul(1 << attempt.min(16))
        .map_or(CAP, |bound| bound.min(CAP));
    bound.mul_f64(fraction.clamp(0.0, 1.0))
}

/// A uniformly random number in [0, 1), from the operating system's generator, so that processes
/// started at once do not share a sequence. The low 53 bits of a v4 UUID are all random (its
/// version and variant bits sit higher).
fn random_fraction() -> f64 {
    const MANTISSA: u32 = 53;
    let bits = uuid::Uuid::new_v4().as_u128() as u64 & ((1 << MANTISSA) - 1);
    bits as f64 / (1u64 << MANTISSA) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_doubles_up_to_the_cap() {
        assert_eq!(delay(0, 1.0), Duration::from_millis(10));
        assert_eq!(delay(3, 1.0), Duration::from_millis(80));
        assert_eq!(delay(6, 1.0), CAP);
        assert_eq!(delay(40, 1.0), CAP);
        assert_eq!(delay(5, 0.0), Duration::ZERO);
    }

    #[test]
    fn random_fractions_stay_in_the_unit_interval() {
        for _ in 0..1000 {
            let fraction = random_fraction();
            assert!((0.0..1.0).contains(&fraction), "{fraction}");
        }
    }
}
