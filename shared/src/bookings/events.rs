//! The jobs booking changes hand to the workers, built from the booking as it is after the change.

use chrono::{DateTime, Utc};

use super::model::Booking;
use crate::clock::IdGenerator;
use crate::jobs::{BookingSnapshot, Job, JobId, JobKind};

/// A job of `kind` about `booking`, for its owner.
pub(crate) fn job(
    ids: &dyn IdGenerator,
    booking: &Booking,
    kind: JobKind,
    now: DateTime<Utc>,
) -> Job {
    Job {
        id: JobId::from(ids.new_id()),
        user_id: booking.user_id.clone(),
        kind,
        booking: BookingSnapshot {
            booking_id: booking.id.to_string(),
            flight_id: booking.flight_id.to_string(),
            flight_number: booking.flight.number.clone(),
            from: booking.flight.from.clone(),
            to: booking.flight.to.clone(),
            departure_time: booking.flight.departure_time,
            seats: booking.seats.get(),
            total: booking.total.clone(),
        },
        created_at: now,
    }
}
