//! Changing an airplane's model number or capacity under optimistic locking.

use serde_json::Value;

use super::get::{ENTITY, get_airplane};
use super::model::{Airplane, AirplaneChanges, AirplaneId};
use super::records;
use crate::clock::Clock;
use crate::error::DomainError;
use crate::storage::{Condition, Store, StoreError, Update, VERSION_ATTRIBUTE};
use crate::version::Precondition;

/// How often a change is re-read and retried when a concurrent change wins the race and the
/// caller named no version.
const ATTEMPTS: usize = 3;

/// Reads the airplane, checks the caller's precondition, then sets only the changed attributes
/// with a condition on the version read, so a concurrent change (or a counter another use case
/// keeps on the item) is never overwritten. Costs one read and one conditional write.
#[tracing::instrument(skip(store, clock, changes), fields(airplane_id = %id))]
pub async fn update_airplane(
    store: &dyn Store,
    clock: &dyn Clock,
    id: &AirplaneId,
    changes: &AirplaneChanges,
    precondition: &Precondition,
) -> Result<Airplane, DomainError> {
    for _ in 0..ATTEMPTS {
        let current = get_airplane(store, id).await?;
        if !precondition.admits(current.version) {
            return Err(DomainError::PreconditionFailed { entity: ENTITY });
        }
        let mut update = Update::new(records::key(id));
        if let Some(model_number) = changes.model_number() {
            update
                .set
                .extend(records::model_number_attributes(model_number));
        }
        if let Some(capacity) = changes.capacity() {
            update
                .set
                .push(("capacity".into(), Value::from(capacity.get())));
        }
        update
            .set
            .push(("updatedAt".into(), Value::from(clock_now(clock))));
        update
            .set
            .push((VERSION_ATTRIBUTE.into(), Value::from(current.version + 1)));
        update.condition = Some(Condition::version_is(current.version));
        match store.update(update).await {
            Ok(item) => return Ok(records::from_item(item)?),
            Err(StoreError::ConditionFailed) if precondition.is_explicit() => {
                return Err(stale_or_gone(store, id).await);
            }
            Err(StoreError::ConditionFailed) => continue,
            Err(other) => return Err(other.into()),
        }
    }
    Err(DomainError::Conflict {
        detail: "The airplane is being changed concurrently; retry the request.".into(),
    })
}

fn clock_now(clock: &dyn Clock) -> String {
    clock
        .now()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// After a version condition failed: the airplane was deleted meanwhile (404) or changed (412).
pub(crate) async fn stale_or_gone(store: &dyn Store, id: &AirplaneId) -> DomainError {
    match get_airplane(store, id).await {
        Ok(_) => DomainError::PreconditionFailed { entity: ENTITY },
        Err(error) => error,
    }
}
