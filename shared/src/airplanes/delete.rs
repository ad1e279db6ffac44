//! Retiring an airplane from the fleet.

use super::model::{Airplane, AirplaneId};
use super::records::{self, ACTIVE_FLIGHTS};
use crate::clock::{Clock, IdGenerator};
use crate::entity::{self, Unused};
use crate::error::DomainError;
use crate::identity::RequestContext;
use crate::storage::Store;
use crate::version::Precondition;

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
    let unused = Unused {
        counter: ACTIVE_FLIGHTS,
        refusal: |flights| DomainError::Conflict {
            detail: format!("The airplane is used by {flights} flight(s) that are not cancelled."),
        },
    };
    let key = records::key(id);
    let nothing_else = |_: &Airplane| Vec::new();
    entity::delete(
        store,
        clock,
        ids,
        context,
        &key,
        precondition,
        unused,
        nothing_else,
    )
    .await
}
