//! Changing an airplane's model number or capacity under optimistic locking.

use serde_json::Value;

use super::get::{ENTITY, get_airplane};
use super::model::{Airplane, AirplaneChanges, AirplaneId};
use super::records;
use crate::audit::{self, Action, Change};
use crate::clock::{Clock, IdGenerator};
use crate::error::DomainError;
use crate::identity::RequestContext;
use crate::storage::{Condition, Store, Update, VERSION_ATTRIBUTE, WriteOp, to_item};
use crate::version::{Guarded, Precondition, transact_guarded};

/// How often a change is re-read and retried when a concurrent change wins the race and the
/// caller named no version.
const ATTEMPTS: usize = 3;

/// The position of the airplane's update in the transaction; the audit entry follows it.
const UPDATE_OPERATION: usize = 0;

/// Reads the airplane, checks the caller's precondition, then sets only the changed attributes
/// with a condition on the version read, so a concurrent change (or a counter another use case
/// keeps on the item) is never overwritten. The update and its audit entry (the changed fields
/// before and after) commit in one transaction. Costs one read and one transaction of two writes.
#[tracing::instrument(
    skip(store, clock, ids, context, changes),
    fields(airplane_id = %id, request_id = %context.request_id)
)]
pub async fn update_airplane(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    context: &RequestContext,
    id: &AirplaneId,
    changes: &AirplaneChanges,
    precondition: &Precondition,
) -> Result<Airplane, DomainError> {
    for _ in 0..ATTEMPTS {
        let current = get_airplane(store, id).await?;
        if !precondition.admits(current.version) {
            return Err(DomainError::PreconditionFailed { entity: ENTITY });
        }
        let now = clock.now();
        let changed = Airplane {
            model_number: changes
                .model_number()
                .cloned()
                .unwrap_or_else(|| current.model_number.clone()),
            capacity: changes.capacity().unwrap_or(current.capacity),
            version: current.version + 1,
            updated_at: now,
            ..current.clone()
        };
        let (before, after) = Change::diff(&to_item(&current)?, &to_item(&changed)?);
        let change = Change {
            entity_type: records::ENTITY,
            entity_id: id.to_string(),
            action: Action::Update,
            before,
            after,
        };
        let operations = vec![
            WriteOp::Update(versioned_update(&current, &changed, changes)),
            audit::entry(&change, context, now, ids.new_id()),
        ];
        match transact_guarded(store, operations, UPDATE_OPERATION).await? {
            Guarded::Committed => return Ok(changed),
            Guarded::Lost if precondition.is_explicit() => {
                return Err(stale_or_gone(store, id).await);
            }
            // A concurrent change won the race: read again and apply the change to whatever
            // committed.
            Guarded::Lost => continue,
        }
    }
    Err(DomainError::Conflict {
        detail: "The airplane is being changed concurrently; retry the request.".into(),
    })
}

/// The update that moves the item from `current` to `changed`: only the attributes the caller
/// changed, the timestamp and the version, guarded by the version read.
fn versioned_update(current: &Airplane, changed: &Airplane, changes: &AirplaneChanges) -> Update {
    let mut update = Update::new(records::key(&current.id));
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
    update.set.push((
        "updatedAt".into(),
        Value::from(
            changed
                .updated_at
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        ),
    ));
    update
        .set
        .push((VERSION_ATTRIBUTE.into(), Value::from(changed.version)));
    update.condition = Some(Condition::version_is(current.version));
    update
}

/// After a version condition failed: the airplane was deleted meanwhile (404) or changed (412).
async fn stale_or_gone(store: &dyn Store, id: &AirplaneId) -> DomainError {
    match get_airplane(store, id).await {
        Ok(_) => DomainError::PreconditionFailed { entity: ENTITY },
        Err(error) => error,
    }
}
