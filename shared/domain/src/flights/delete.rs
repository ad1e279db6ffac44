//! Removing a flight that was never booked.

use super::BOOKING_COUNT;
use super::model::{Flight, FlightStatus};
use super::records;
use crate::entity::{Removable, Unused};
use crate::error::DomainError;
use crate::storage::WriteOp;

/// A flight is deleted ([`super::delete_flight`]) unless it was ever booked: bookings point at it, and their history must
/// keep making sense, so a booked flight is cancelled instead. The rule is a condition on the
/// flight's own `bookingCount` in the transaction, so a booking racing the delete cannot be left
/// pointing nowhere. The same transaction gives the airplane back its flight (`activeFlights` - 1,
/// unless the flight was cancelled, which did that already), takes the flight off both airports'
/// `flightCount`, and writes the audit entry (the flight as it was).
///
/// Costs one read and one transaction of four or five writes.
impl Removable for Flight {
    const UNUSED: Option<Unused> = Some(Unused {
        counter: BOOKING_COUNT,
        refusal: |bookings| DomainError::Conflict {
            detail: format!(
                "The flight has {bookings} booking(s) and cannot be deleted; cancel the flight \
                 instead."
            ),
        },
    });

    /// The airplane's flight back (unless the flight was cancelled, which did that already) and
    /// both airports' `flightCount`.
    fn released(&self) -> Vec<WriteOp> {
        let airplane = (self.status != FlightStatus::Cancelled)
            .then(|| records::count_on_airplane(&self.airplane_id, -1, Vec::new()));
        let airports = [&self.from, &self.to]
            .into_iter()
            .map(|airport| records::count_on_airport(airport, -1, Vec::new()));
        airplane
            .into_iter()
            .chain(airports)
            .map(WriteOp::Update)
            .collect()
    }
}
