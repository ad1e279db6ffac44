//! Retiring an airplane from the fleet.

use super::get::ENTITY;
use super::model::{Airplane, AirplaneId};
use super::records::{self, ACTIVE_FLIGHTS};
use crate::clock::{Clock, IdGenerator};
use crate::error::DomainError;
use crate::identity::RequestContext;
use crate::storage::{Store, from_item, to_item};
use crate::version::{CountedDelete, Precondition, delete_unless_in_use};

/// Deletes the airplane unless a flight still uses it, together with its audit entry (the
/// airplane as it was) in one transaction. The "in use" rule is a condition on the airplane's own
/// `activeFlights` counter, which flight creation, cancellation and deletion keep in the same
/// transaction as the flight, so a delete racing a new flight can never leave an orphan.
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
    let in_use: fn(u64) -> String =
        |flights| format!("The airplane is used by {flights} flight(s) that are not cancelled.");
    let target = CountedDelete {
        key: records::key(id),
        entity: ENTITY,
        audit_type: records::ENTITY,
        entity_id: id.to_string(),
        counter: ACTIVE_FLIGHTS,
        in_use,
        read: |item| {
            let current: Airplane = from_item(item)?;
            Ok((current.version, to_item(&current)?))
        },
    };
    delete_unless_in_use(store, clock, ids, context, &target, precondition).await
}
