//! What a booking's change records besides itself: the job it hands to the workers, built from
//! the booking as it is after the change, and its audit entry.

use chrono::{DateTime, Utc};

use super::model::Booking;
use super::records;
use crate::audit::{self, Action, Change};
use crate::clock::IdGenerator;
use crate::identity::RequestContext;
use crate::jobs::{BookingSnapshot, Job, JobId, JobKind, Recipient, Subject};
use crate::storage::{StoreError, WriteOp};

/// The audit entry of the change from `current` to `changed` (its public fields before and
/// after), by the actor of `context`.
pub(crate) fn audit_entry(
    current: &Booking,
    changed: &Booking,
    context: &RequestContext,
    ids: &dyn IdGenerator,
    now: DateTime<Utc>,
) -> Result<WriteOp, StoreError> {
    let (before, after) = Change::diff(&records::view(current)?, &records::view(changed)?);
    let change = Change {
        entity_type: records::ENTITY,
        entity_id: current.id.to_string(),
        action: Action::Update,
        before,
        after,
    };
    Ok(audit::entry(&change, context, now, ids.new_id()))
}

/// A job of `kind` about `booking`, for its owner.
pub(crate) fn job(
    ids: &dyn IdGenerator,
    booking: &Booking,
    kind: JobKind,
    now: DateTime<Utc>,
) -> Job {
    Job {
        id: JobId::from(ids.new_id()),
        recipient: Recipient::UserId(booking.user_id.clone()),
        kind,
        subject: Subject::Booking(BookingSnapshot {
            booking_id: booking.id.to_string(),
            flight_id: booking.flight_id.to_string(),
            flight_number: booking.flight.number.clone(),
            from: booking.flight.from.clone(),
            to: booking.flight.to.clone(),
            departure_time: booking.flight.departure_time,
            seats: booking.seats.get(),
            total: booking.total.clone(),
        }),
        created_at: now,
    }
}
