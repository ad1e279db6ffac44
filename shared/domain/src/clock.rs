//! Ports for time and identifiers, so use cases are deterministic under test.

use chrono::{DateTime, SubsecRound, Utc};

/// The current time.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock, truncated to milliseconds (the precision timestamps are stored and shown in).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(3)
    }
}

/// New identifiers for entities.
pub trait IdGenerator: Send + Sync + 'static {
    fn new_id(&self) -> uuid::Uuid;
}

/// UUIDv7 identifiers: unique without coordination, and ordered by creation time.
#[derive(Clone, Copy, Debug, Default)]
pub struct UuidV7Ids;

impl IdGenerator for UuidV7Ids {
    fn new_id(&self) -> uuid::Uuid {
        uuid::Uuid::now_v7()
    }
}
