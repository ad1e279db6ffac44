//! The fan-out of a flight's cancellation: every booking still holding seats on the flight is
//! cancelled, paid ones refunded, and each customer told, by the worker.
//!
//! Cancelling the flight is one transaction that stages a `CancelFlightBookings` task (see
//! `flights::update_flight`); the worker runs it here. It walks the flight's bookings on the
//! flight index, a page at a time, and cancels each booking that still holds seats in its own
//! transaction (`cancel::cancel` with [`Cause::FlightCancelled`]): the status change conditioned on
//! the status read, the seats' return, the audit entry, a `FlightCancelled` notice for the
//! customer (an in-app notification and an email, through the outbox and the worker) and, for a
//! paid booking, the refund it owes with its intent. The refund is then made at once
//! (`settle::settle_refund`) or, if the provider fails, by the refund's own task.
//!
//! One delivery handles one page of [`PAGE`] bookings, so that a delivery stays well inside the
//! worker's timeout even when every booking is refunded at the provider's latency; when more
//! bookings follow, it stages a continuation task (`after` the page's last key) for the relay to
//! send.
//!
//! Exactly once per booking, however often the task runs, and even with two runs at once: a
//! booking already cancelled is skipped, a cancellation racing another fails its condition and
//! re-reads, the notice is deduplicated by the worker on `flight-cancelled#<booking>`, and the
//! refund's idempotency key is the booking id.

use super::cancel::{self, Cancelled, Cause};
use super::get::read;
use super::model::Booking;
use super::records::{self, FLIGHT_INDEX};
use crate::clock::{Clock, IdGenerator};
use crate::contention::{ATTEMPTS, back_off};
use crate::error::DomainError;
use crate::flights::{self, FlightId, FlightStatus};
use crate::identity::RequestContext;
use crate::payments::PaymentGateway;
use crate::storage::{Item, Query, Store};

/// How many bookings one delivery of the task handles: 25 cancellations and refunds at a few
/// hundred milliseconds each stay far inside the worker's 30-second timeout.
pub(crate) const PAGE: u32 = 25;

/// Cancels the bookings of the cancelled flight `flight` that still hold seats, one page of the
/// flight index from after `after`; returns the key to continue after when more bookings follow.
/// A flight that is not cancelled has nothing done to its bookings (a task about it is stale or
/// forged).
#[tracing::instrument(skip(store, clock, ids, payments, context, after), fields(flight_id = %flight))]
pub(crate) async fn cancel_flight_bookings(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    payments: &dyn PaymentGateway,
    context: &RequestContext,
    flight: &FlightId,
    after: Option<Item>,
) -> Result<Option<Item>, DomainError> {
    let status = flights::get_flight(store, flight).await?.status;
    if status != FlightStatus::Cancelled {
        tracing::error!(%status, "asked to cancel the bookings of a flight that is not cancelled");
        return Ok(None);
    }
    let mut query = Query::partition(Some(FLIGHT_INDEX), records::flight_partition(flight));
    query.limit = PAGE;
    query.start_after = after;
    let page = store.query(query).await?;
    let mut cancelled = 0;
    for item in page.items {
        let booking = records::from_item(item)?;
        if booking.status.holds_seats()
            && cancel_one(store, clock, ids, payments, context, booking).await?
        {
            cancelled += 1;
        }
    }
    tracing::info!(
        cancelled,
        more = page.last_evaluated_key.is_some(),
        "cancelled a page of a cancelled flight's bookings"
    );
    Ok(page.last_evaluated_key)
}

/// Cancels one booking of the cancelled flight and refunds it if it was paid; whether this run
/// cancelled it (`false`: another run or request did first).
async fn cancel_one(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    payments: &dyn PaymentGateway,
    context: &RequestContext,
    mut current: Booking,
) -> Result<bool, DomainError> {
    for attempt in 0..ATTEMPTS {
        // The index may lag the table: decide on the booking as the table has it.
        current = read(store, &current.id).await?;
        if !current.status.holds_seats() {
            return Ok(false);
        }
        match cancel::cancel(store, clock, ids, context, &current, Cause::FlightCancelled).await? {
            Cancelled::Committed {
                booking,
                refund_intent,
                ..
            } => {
                // The notice waits in the outbox for the relay: the worker sends no jobs itself.
                cancel::refund_now(store, clock, payments, *booking, refund_intent).await;
                return Ok(true);
            }
            Cancelled::Lost => back_off(attempt).await,
        }
    }
    Err(DomainError::Conflict {
        detail: format!(
            "booking {} stayed contended while its flight's cancellation tried to cancel it",
            current.id
        ),
    })
}
