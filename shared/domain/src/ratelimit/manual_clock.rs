//! A clock that stands still until it is moved, so window boundaries can be crossed on purpose.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Utc};

use crate::clock::Clock;

/// A [`Clock`] reading a time it is given, in epoch milliseconds, shared by every holder.
///
/// Fixed windows make time part of a limiter's behaviour; tests and simulations move this clock
/// across a window's end instead of waiting for it.
#[derive(Debug)]
pub struct ManualClock {
    epoch_ms: AtomicI64,
}

impl ManualClock {
    pub fn at_epoch_ms(epoch_ms: i64) -> Self {
        Self {
            epoch_ms: AtomicI64::new(epoch_ms),
        }
    }

    /// Moves the clock forward (or back, with a negative step).
    pub fn advance_ms(&self, step_ms: i64) {
        self.epoch_ms.fetch_add(step_ms, Ordering::SeqCst);
    }

    pub fn epoch_ms(&self) -> i64 {
        self.epoch_ms.load(Ordering::SeqCst)
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.epoch_ms()).unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_reads_what_it_was_set_to_and_moves_when_told() {
        let clock = ManualClock::at_epoch_ms(1_700_000_000_000);
        assert_eq!(clock.now().timestamp_millis(), 1_700_000_000_000);
        clock.advance_ms(1_500);
        assert_eq!(clock.now().timestamp_millis(), 1_700_000_001_500);
    }
}
