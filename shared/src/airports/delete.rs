//! Removing an airport that no flight uses.

use super::model::{Airport, AirportCode};
use super::records::{self, FLIGHT_COUNT};
use crate::clock::{Clock, IdGenerator};
use crate::entity::{self, Unused};
use crate::error::DomainError;
use crate::identity::RequestContext;
use crate::storage::Store;
use crate::version::Precondition;

/// Deletes the airport unless a flight departs from or arrives at it, together with its audit
/// entry (the airport as it was) in one transaction. "In use" is a condition on the airport's own
/// `flightCount`, which flight creation and deletion change in the same transaction as the
/// flight, so a delete racing a new flight can never leave the flight pointing nowhere.
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
    let unused = Unused {
        counter: FLIGHT_COUNT,
        refusal: |flights| DomainError::Conflict {
            detail: format!("The airport is used by {flights} flight(s); delete them first."),
        },
    };
    let key = records::key(code);
    let nothing_else = |_: &Airport| Vec::new();
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
