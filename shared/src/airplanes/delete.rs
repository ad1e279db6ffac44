//! Retiring an airplane from the fleet.

use serde_json::Map;

use super::get::{ENTITY, get_airplane};
use super::model::AirplaneId;
use super::records::{self, ACTIVE_FLIGHTS};
use crate::audit::{self, Action, Change};
use crate::clock::{Clock, IdGenerator};
use crate::error::DomainError;
use crate::identity::RequestContext;
use crate::storage::{Comparison, Condition, Delete, Item, Store, WriteOp};
use crate::version::{Guarded, Precondition, transact_guarded};

/// How often a delete is re-read and retried when a concurrent change wins the race and the
/// caller named no version.
const ATTEMPTS: usize = 3;

/// The position of the delete in the transaction; the audit entry follows it.
const DELETE_OPERATION: usize = 0;

/// Deletes the airplane unless a flight still uses it, together with its audit entry (the
/// airplane as it was) in one transaction. The "in use" rule is a condition on the airplane's own
/// `activeFlights` counter, which flight creation and cancellation keep in the same transaction as
/// the flight, so a delete racing a new flight can never leave an orphan. The delete is also
/// conditional on the version read, so the entry records exactly what was deleted; without
/// `If-Match`, a concurrent change only makes the delete read again and retry.
#[tracing::instrument(
    skip(store, clock, ids, context),
    fields(airplane_id = %id, request_id = %context.request_id)
)]
pub async fn delete_airplane(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    context: &RequestContext,
    id: &AirplaneId,
    precondition: &Precondition,
) -> Result<(), DomainError> {
    for _ in 0..ATTEMPTS {
        let current = get_airplane(store, id).await?;
        if !precondition.admits(current.version) {
            return Err(DomainError::PreconditionFailed { entity: ENTITY });
        }
        let delete = Delete {
            key: records::key(id),
            condition: Some(Condition::And(vec![
                Condition::ItemExists,
                Condition::compare(ACTIVE_FLIGHTS, Comparison::Equal, 0),
                Condition::version_is(current.version),
            ])),
        };
        let change = Change {
            entity_type: records::ENTITY,
            entity_id: id.to_string(),
            action: Action::Delete,
            before: records::view(&current),
            after: Map::new(),
        };
        let operations = vec![
            WriteOp::Delete(delete),
            audit::entry(&change, context, clock.now(), ids.new_id()),
        ];
        if transact_guarded(store, operations, DELETE_OPERATION).await? == Guarded::Committed {
            return Ok(());
        }
        let item = store.get(&records::key(id)).await?;
        if let Some(error) = why_delete_failed(item.as_ref(), precondition) {
            return Err(error);
        }
    }
    Err(DomainError::Conflict {
        detail: "The airplane is being changed concurrently; retry the request.".into(),
    })
}

/// Tells apart the reasons a guarded delete can fail, from the airplane's item as it is now: gone
/// (404), in use (409), or changed since `If-Match` (412). `None` when it only changed under a
/// caller who named no version, and the delete should read again and retry.
fn why_delete_failed(item: Option<&Item>, precondition: &Precondition) -> Option<DomainError> {
    let Some(item) = item else {
        return Some(DomainError::NotFound { entity: ENTITY });
    };
    let flights = records::active_flights(item);
    if flights > 0 {
        return Some(DomainError::Conflict {
            detail: format!("The airplane is used by {flights} flight(s) that are not cancelled."),
        });
    }
    precondition
        .is_explicit()
        .then_some(DomainError::PreconditionFailed { entity: ENTITY })
}
