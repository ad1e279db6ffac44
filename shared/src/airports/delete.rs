//! Removing an airport that no flight uses.

use serde_json::Map;

use super::get::{ENTITY, get_airport};
use super::model::AirportCode;
use super::records::{self, FLIGHT_COUNT};
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

/// Deletes the airport unless a flight departs from or arrives at it, together with its audit
/// entry (the airport as it was) in one transaction. "In use" is a condition on the airport's own
/// `flightCount`, which flight creation and deletion change in the same transaction as the
/// flight, so a delete racing a new flight can never leave the flight pointing nowhere. The
/// delete is also conditional on the version read, so the entry records exactly what was deleted.
#[tracing::instrument(
    skip(store, clock, ids, context),
    fields(airport_code = %code, request_id = %context.request_id)
)]
pub async fn delete_airport(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    context: &RequestContext,
    code: &AirportCode,
    precondition: &Precondition,
) -> Result<(), DomainError> {
    for _ in 0..ATTEMPTS {
        let current = get_airport(store, code).await?;
        if !precondition.admits(current.version) {
            return Err(DomainError::PreconditionFailed { entity: ENTITY });
        }
        let delete = Delete {
            key: records::key(code),
            condition: Some(Condition::And(vec![
                Condition::ItemExists,
                Condition::compare(FLIGHT_COUNT, Comparison::Equal, 0),
                Condition::version_is(current.version),
            ])),
        };
        let change = Change {
            entity_type: records::ENTITY,
            entity_id: code.to_string(),
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
        let item = store.get(&records::key(code)).await?;
        if let Some(error) = why_delete_failed(item.as_ref(), precondition) {
            return Err(error);
        }
    }
    Err(DomainError::Conflict {
        detail: "The airport is being changed concurrently; retry the request.".into(),
    })
}

/// Tells apart the reasons a guarded delete can fail, from the airport's item as it is now: gone
/// (404), in use (409), or changed since `If-Match` (412). `None` when it only changed under a
/// caller who named no version, and the delete should read again and retry.
fn why_delete_failed(item: Option<&Item>, precondition: &Precondition) -> Option<DomainError> {
    let Some(item) = item else {
        return Some(DomainError::NotFound { entity: ENTITY });
    };
    let flights = records::flight_count(item);
    if flights > 0 {
        return Some(DomainError::Conflict {
            detail: format!("The airport is used by {flights} flight(s); delete them first."),
        });
    }
    precondition
        .is_explicit()
        .then_some(DomainError::PreconditionFailed { entity: ENTITY })
}
