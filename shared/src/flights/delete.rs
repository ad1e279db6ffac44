//! Removing a flight that was never booked.

use serde_json::Map;

use super::get::ENTITY;
use super::model::{FlightId, FlightStatus};
use super::records;
use super::{BOOKING_COUNT, flight_key};
use crate::audit::{self, Action, Change};
use crate::clock::{Clock, IdGenerator};
use crate::error::DomainError;
use crate::identity::RequestContext;
use crate::storage::{Comparison, Condition, Delete, Item, Store, WriteOp, to_item};
use crate::version::{Guarded, Precondition, transact_guarded};

/// How often a delete is re-read and retried when a concurrent change wins the race and the
/// caller named no version.
const ATTEMPTS: usize = 3;

/// The position of the delete in the transaction.
const DELETE_OPERATION: usize = 0;

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
    for _ in 0..ATTEMPTS {
        let item = store
            .get(&flight_key(id))
            .await?
            .ok_or(DomainError::NotFound { entity: ENTITY })?;
        let bookings = records::booking_count(&item);
        let current = records::from_item(item)?;
        if !precondition.admits(current.version) {
            return Err(DomainError::PreconditionFailed { entity: ENTITY });
        }
        if bookings > 0 {
            return Err(booked(bookings));
        }
        let delete = Delete {
            key: flight_key(id),
            condition: Some(Condition::And(vec![
                Condition::ItemExists,
                Condition::compare(BOOKING_COUNT, Comparison::Equal, 0),
                Condition::version_is(current.version),
            ])),
        };
        let change = Change {
            entity_type: records::ENTITY,
            entity_id: id.to_string(),
            action: Action::Delete,
            before: to_item(&current)?,
            after: Map::new(),
        };
        let mut operations = vec![WriteOp::Delete(delete)];
        if current.status != FlightStatus::Cancelled {
            operations.push(WriteOp::Update(records::count_on_airplane(
                &current.airplane_id,
                -1,
                Vec::new(),
            )));
        }
        for airport in [&current.from, &current.to] {
            operations.push(WriteOp::Update(records::count_on_airport(
                airport,
                -1,
                Vec::new(),
            )));
        }
        operations.push(audit::entry(&change, context, clock.now(), ids.new_id()));
        if transact_guarded(store, operations, DELETE_OPERATION).await? == Guarded::Committed {
            return Ok(());
        }
        let item = store.get(&flight_key(id)).await?;
        if let Some(error) = why_delete_failed(item.as_ref(), precondition) {
            return Err(error);
        }
    }
    Err(DomainError::Conflict {
        detail: "The flight is being changed concurrently; retry the request.".into(),
    })
}

fn booked(bookings: u64) -> DomainError {
    DomainError::Conflict {
        detail: format!(
            "The flight has {bookings} booking(s) and cannot be deleted; cancel the flight instead."
        ),
    }
}

/// Tells apart the reasons a guarded delete can fail, from the flight's item as it is now: gone
/// (404), booked meanwhile (409), or changed since `If-Match` (412). `None` when it only changed
/// under a caller who named no version, and the delete should read again and retry.
fn why_delete_failed(item: Option<&Item>, precondition: &Precondition) -> Option<DomainError> {
    let Some(item) = item else {
        return Some(DomainError::NotFound { entity: ENTITY });
    };
    let bookings = records::booking_count(item);
    if bookings > 0 {
        return Some(booked(bookings));
    }
    precondition
        .is_explicit()
        .then_some(DomainError::PreconditionFailed { entity: ENTITY })
}
