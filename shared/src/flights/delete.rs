//! Removing a flight that was never booked.

use super::model::{Flight, FlightId, FlightStatus};
use super::{BOOKING_COUNT, flight_key, records};
use crate::clock::{Clock, IdGenerator};
use crate::entity::{self, Unused};
use crate::error::DomainError;
use crate::identity::RequestContext;
use crate::storage::{Store, WriteOp};
use crate::version::Precondition;

/// Deletes the flight unless it was ever booked: bookings point at it, and their history must
/// keep making sense, so a booked flight is cancelled instead. The rule is a condition on the
/// flight's own `bookingCount` in the transaction, so a booking racing the delete cannot be left
/// pointing nowhere. The same transaction gives the airplane back its flight (`activeFlights` - 1,
/// unless the flight was cancelled, which did that already), takes the flight off both airports'
/// `flightCount`, and writes the audit entry (the flight as it was).
///
/// Costs one read and one transaction of four or five writes.
#[tracing::instrument(
    skip(store, clock, ids, context),
    fields(flight_id = %id, request_id = %context.request_id)
)]
pub async fn delete_flight(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    context: &RequestContext,
    id: &FlightId,
    precondition: &Precondition,
) -> Result<(), DomainError> {
    let unbooked = Unused {
        counter: BOOKING_COUNT,
        refusal: |bookings| DomainError::Conflict {
            detail: format!(
                "The flight has {bookings} booking(s) and cannot be deleted; cancel the flight \
                 instead."
            ),
        },
    };
    let key = flight_key(id);
    entity::delete(
        store,
        clock,
        ids,
        context,
        &key,
        precondition,
        unbooked,
        uses,
    )
    .await
}

/// What the flight's removal gives back: its airplane's flight (unless it was cancelled, which
/// did that already) and both airports' `flightCount`.
fn uses(flight: &Flight) -> Vec<WriteOp> {
    let airplane = (flight.status != FlightStatus::Cancelled)
        .then(|| records::count_on_airplane(&flight.airplane_id, -1, Vec::new()));
    let airports = [&flight.from, &flight.to]
        .into_iter()
        .map(|airport| records::count_on_airport(airport, -1, Vec::new()));
    airplane
        .into_iter()
        .chain(airports)
        .map(WriteOp::Update)
        .collect()
}
