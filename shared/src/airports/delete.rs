//! Removing an airport that no flight uses.

use super::get::ENTITY;
use super::model::{Airport, AirportCode};
use super::records::{self, FLIGHT_COUNT};
use crate::clock::{Clock, IdGenerator};
use crate::error::DomainError;
use crate::identity::RequestContext;
use crate::storage::{Store, from_item, to_item};
use crate::version::{CountedDelete, Precondition, delete_unless_in_use};

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
    let in_use: fn(u64) -> String =
        |flights| format!("The airport is used by {flights} flight(s); delete them first.");
    let target = CountedDelete {
        key: records::key(code),
        entity: ENTITY,
        audit_type: records::ENTITY,
        entity_id: code.to_string(),
        counter: FLIGHT_COUNT,
        in_use,
        read: |item| {
            let current: Airport = from_item(item)?;
            Ok((current.version, to_item(&current)?))
        },
    };
    delete_unless_in_use(store, clock, ids, context, &target, precondition).await
}
