//! What the guarded writes share: the counter that keeps an entity in use, how often a write that
//! lost its race is tried again, and how the loss is answered.

use serde_json::Value;

use super::Stored;
use crate::error::DomainError;
use crate::storage::{Comparison, Condition, Item};
use crate::version::Precondition;

/// How often a guarded write is re-read and retried when a concurrent change wins the race and
/// the caller named no version.
pub(super) const ATTEMPTS: usize = 3;

/// The position of the entity's own write in its transaction: the one a lost race shows up on.
/// The entity's other writes follow it and its audit entry comes last.
pub(super) const ENTITY_OPERATION: usize = 0;

/// A counter on an entity's own item that uses of the entity keep (an airplane's
/// `activeFlights`, an airport's `flightCount`), which must be 0 for a write to commit. Whoever
/// starts using the entity increments it in the same transaction as the use, so a write racing a
/// new use can never leave the use pointing at something gone or changed under it.
#[derive(Clone, Copy)]
pub struct Unused {
    pub(crate) counter: &'static str,
    /// The 409 while the entity is used `n` times.
    pub(crate) refusal: fn(u64) -> DomainError,
}

impl Unused {
    /// The condition that nothing uses the entity.
    pub(super) fn condition(&self) -> Condition {
        Condition::compare(self.counter, Comparison::Equal, 0)
    }

    /// The refusal when `item` says something uses the entity.
    pub(super) fn check(&self, item: &Item) -> Result<(), DomainError> {
        match item.get(self.counter).and_then(Value::as_u64).unwrap_or(0) {
            0 => Ok(()),
            uses => Err((self.refusal)(uses)),
        }
    }
}

/// Tells apart the reasons a guarded write can lose, from the item as it is now: gone (404), in
/// use (409), or changed since `If-Match` (412). `None` when it only changed under a caller who
/// named no version, and the write should read again and retry.
pub(super) fn why_lost<E: Stored>(
    item: Option<&Item>,
    unused: Option<&Unused>,
    precondition: &Precondition,
) -> Option<DomainError> {
    let Some(item) = item else {
        return Some(DomainError::NotFound { entity: E::KIND });
    };
    if let Some(Err(refusal)) = unused.map(|unused| unused.check(item)) {
        return Some(refusal);
    }
    precondition
        .is_explicit()
        .then_some(DomainError::PreconditionFailed { entity: E::KIND })
}

/// The 409 after every attempt lost its race.
pub(super) fn concurrent<E: Stored>() -> DomainError {
    DomainError::Conflict {
        detail: format!(
            "The {} is being changed concurrently; retry the request.",
            E::KIND
        ),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::airplanes::Airplane;

    const FLIGHTS: Unused = Unused {
        counter: "activeFlights",
        refusal: |uses| DomainError::Conflict {
            detail: format!("used {uses} times"),
        },
    };

    fn item(uses: u64) -> Item {
        json!({ "activeFlights": uses })
            .as_object()
            .cloned()
            .unwrap()
    }

    #[test]
    fn a_lost_write_on_a_gone_item_is_not_found() {
        let lost = why_lost::<Airplane>(None, Some(&FLIGHTS), &Precondition::None);
        assert!(matches!(lost, Some(DomainError::NotFound { .. })));
    }

    #[test]
    fn a_lost_write_on_an_item_in_use_is_the_refusal_whatever_the_precondition() {
        for precondition in [Precondition::None, Precondition::OneOf(vec![1])] {
            let lost = why_lost::<Airplane>(Some(&item(2)), Some(&FLIGHTS), &precondition);
            assert!(
                matches!(&lost, Some(DomainError::Conflict { detail }) if detail == "used 2 times"),
                "{lost:?}"
            );
        }
    }

    #[test]
    fn a_lost_write_is_retried_only_when_the_caller_named_no_version() {
        let unused = item(0);
        assert!(why_lost::<Airplane>(Some(&unused), Some(&FLIGHTS), &Precondition::None).is_none());
        assert!(why_lost::<Airplane>(Some(&unused), None, &Precondition::None).is_none());
        let named = why_lost::<Airplane>(Some(&unused), None, &Precondition::AnyVersion);
        assert!(matches!(
            named,
            Some(DomainError::PreconditionFailed { .. })
        ));
    }

    #[test]
    fn a_missing_counter_counts_as_unused() {
        assert!(FLIGHTS.check(&Item::new()).is_ok());
        assert!(FLIGHTS.check(&item(1)).is_err());
    }
}
