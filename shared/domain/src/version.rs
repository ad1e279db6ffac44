//! Optimistic concurrency: entity versions, the preconditions clients state with `If-Match`, and
//! how a write guarded by the state it read comes out.

use crate::storage::{Store, StoreError, WriteOp};

/// What the caller requires of the current version before a change applies.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Precondition {
    /// No `If-Match`: the change applies to whatever version is current.
    #[default]
    None,
    /// `If-Match: *`: the entity must exist, any version.
    AnyVersion,
    /// `If-Match` with entity tags: the current version must be one of these. Tags that name no
    /// version of ours are dropped, so a list of only foreign tags matches nothing.
    OneOf(Vec<u64>),
}

impl Precondition {
    /// Whether an entity at `version` satisfies the precondition.
    pub fn admits(&self, version: u64) -> bool {
        match self {
            Self::None | Self::AnyVersion => true,
            Self::OneOf(versions) => versions.contains(&version),
        }
    }

    /// Whether the caller named a version, so that a concurrent change must fail the request
    /// rather than be retried over.
    pub fn is_explicit(&self) -> bool {
        !matches!(self, Self::None)
    }
}

/// How a transaction ended whose operation `guarded` is conditioned on the state the caller read
/// (a version, a hash, a counter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guarded {
    Committed,
    /// The guard failed, or a concurrent transaction on the same items collided with it: the
    /// state moved under the caller, who reads again to decide (412, 404, retry).
    Lost,
}

/// Runs `operations`, telling a lost race on the guarded operation apart from real failures.
pub async fn transact_guarded(
    store: &dyn Store,
    operations: Vec<WriteOp>,
    guarded: usize,
) -> Result<Guarded, StoreError> {
    match store.transact(operations).await {
        Ok(()) => Ok(Guarded::Committed),
        Err(StoreError::TransactionConditionFailed { index }) if index == guarded => {
            Ok(Guarded::Lost)
        }
        Err(StoreError::TransactionConflict) => Ok(Guarded::Lost),
        Err(other) => Err(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_precondition_admits_every_version() {
        assert!(Precondition::None.admits(7));
        assert!(!Precondition::None.is_explicit());
    }

    #[test]
    fn listed_versions_admit_only_themselves() {
        let precondition = Precondition::OneOf(vec![2, 3]);
        assert!(precondition.admits(3));
        assert!(!precondition.admits(4));
        assert!(!Precondition::OneOf(Vec::new()).admits(1));
    }
}
