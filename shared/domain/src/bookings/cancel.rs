//! Cancelling a booking: its seats go back on sale, and a paid booking is refunded.

use super::events;
use super::get::{ENTITY, read};
use super::model::{Booking, BookingId, BookingStatus};
use super::records::{self, REFUND_INTENT};
use super::settle::{self, flight_gone};
use crate::clock::{Clock, IdGenerator};
use crate::contention::{ATTEMPTS, back_off};
use crate::error::DomainError;
use crate::flights;
use crate::identity::RequestContext;
use crate::jobs::{Job, JobKind, JobQueue, Task, TaskJob, outbox};
use crate::payments::PaymentGateway;
use crate::storage::{Store, StoreError};

/// The positions of the conditioned operations in the cancelling transaction.
const CANCEL_OPERATION: usize = 0;
const SEATS_OPERATION: usize = 1;

/// Cancels a pending or confirmed booking, for its owner or staff (anyone else gets a 404).
///
/// Only while the flight is scheduled and has not departed: a booking of a flight that has left
/// is a 409 and is not refunded (a cancelled flight's bookings are cancelled and refunded by the
/// flight's cancellation). One transaction: the status change, conditioned on the status read, so
/// that of concurrent cancellations (or a cancellation racing a payment or the expiry job) exactly
/// one applies; the seats given back to the flight, conditioned on the flight still being
/// scheduled and its departure still ahead (the flight's rule rides on the seats' return, as a
/// transaction holds one operation per item); the hold marker removed if the booking was pending;
/// the audit entry and the cancellation job. The seats therefore come back exactly once, however
/// many requests race.
///
/// A confirmed booking is refunded after that commit, never before: the cancellation records the
/// refund it owes (`refund`) and the intent to make it, with a staged task that makes it if this
/// request cannot. The provider refunds under the booking id as idempotency key, and a second
/// transaction records `refundedAt`. If the provider cannot be reached, the booking is still
/// cancelled and answered without `refundedAt`; the worker makes the refund. A booking already
/// cancelled or expired is a 409 and changes nothing.
#[tracing::instrument(
    skip(store, clock, ids, payments, queue, context),
    fields(booking_id = %id, request_id = %context.request_id)
)]
pub async fn cancel_booking(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    payments: &dyn PaymentGateway,
    queue: Option<&dyn JobQueue>,
    context: &RequestContext,
    id: &BookingId,
) -> Result<Booking, DomainError> {
    let caller = context.caller()?;
    let mut current = read(store, id).await?;
    if !current.visible_to(&caller.user_id, caller.is_staff()) {
        return Err(DomainError::NotFound { entity: ENTITY });
    }
    for attempt in 0..ATTEMPTS {
        if !current.status.holds_seats() {
            return Err(DomainError::Conflict {
                detail: format!("The booking is already {}.", current.status),
            });
        }
        let flight = flights::get_flight(store, &current.flight_id).await?;
        if let Some(refusal) = flight_gone(&flight, clock.now()) {
            return Err(refusal);
        }
        match cancel(store, clock, ids, context, &current, Cause::Request).await? {
            Cancelled::Committed {
                booking,
                job,
                refund_intent,
            } => {
                outbox::dispatch(store, queue, &[*job]).await;
                return Ok(refund_now(store, clock, payments, *booking, refund_intent).await);
            }
            Cancelled::Lost => {
                let previous = current.status;
                current = read(store, id).await?;
                if current.status == previous {
                    // The booking did not change: a collision, or the flight left (the next round
                    // reads it and refuses).
                    back_off(attempt).await;
                }
            }
        }
    }
    Err(DomainError::Conflict {
        detail: "The booking is being changed concurrently; retry the request.".into(),
    })
}

/// Why a booking is cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cause {
    /// Its owner or staff asked: only while the flight is bookable.
    Request,
    /// Its flight was cancelled: whatever the flight's status.
    FlightCancelled,
}

/// How one cancelling transaction ended.
pub(crate) enum Cancelled {
    /// The booking is cancelled; `job` is the customer's notice (staged, to dispatch), and
    /// `refund_intent` the intent of the refund it owes, if it was paid.
    Committed {
        booking: Box<Booking>,
        job: Box<Job>,
        refund_intent: Option<String>,
    },
    /// The booking changed since `current` was read, the flight no longer allows it, or the
    /// transaction collided: nothing was written.
    Lost,
}

/// Cancels `current` (pending or confirmed, as read) in one transaction: the status change, the
/// seats' return, the hold marker, the audit entry, the customer's notice, and for a paid booking
/// the refund it owes with its intent and staged task.
pub(crate) async fn cancel(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    context: &RequestContext,
    current: &Booking,
    cause: Cause,
) -> Result<Cancelled, DomainError> {
    let now = clock.now();
    let paid = current.status == BookingStatus::Confirmed;
    let refund = paid.then(|| current.total.clone());
    let cancelled = Booking {
        status: BookingStatus::Cancelled,
        hold_expires_at: None,
        cancelled_at: Some(now),
        updated_at: now,
        refund: refund.clone(),
        refunded_at: None,
        ..current.clone()
    };
    let kind = match cause {
        Cause::Request => JobKind::BookingCancelled { refund },
        Cause::FlightCancelled => JobKind::FlightCancelled { refund },
    };
    let job = events::job(ids, &cancelled, kind, now);
    let mut status_change =
        records::transition(current, &cancelled, records::status_is(current.status));
    let settle_task = paid.then(|| {
        TaskJob::new(
            ids,
            Task::SettleRefund {
                booking_id: current.id.to_string(),
            },
            now,
        )
    });
    let refund_intent = settle_task.as_ref().map(outbox::sort_key);
    if let Some(intent) = &refund_intent {
        status_change = records::opening(status_change, REFUND_INTENT, intent);
    }
    let seats = match cause {
        Cause::Request => {
            records::return_seats_while_bookable(&current.flight_id, current.seats, now)
        }
        Cause::FlightCancelled => records::return_seats(&current.flight_id, current.seats),
    };
    let mut operations = vec![
        status_change,
        seats,
        events::audit_entry(current, &cancelled, context, ids, now)?,
        outbox::stage(&job)?,
    ];
    if let Some(task) = &settle_task {
        operations.push(outbox::stage(task)?);
    }
    operations.extend(records::delete_hold(current));
    match store.transact(operations).await {
        Ok(()) => Ok(Cancelled::Committed {
            booking: Box::new(cancelled),
            job: Box::new(job),
            refund_intent,
        }),
        Err(
            StoreError::TransactionConditionFailed {
                index: CANCEL_OPERATION | SEATS_OPERATION,
            }
            | StoreError::TransactionConflict,
        ) => Ok(Cancelled::Lost),
        Err(error) => Err(error.into()),
    }
}

/// Makes the refund a just-cancelled booking owes, if it owes one, and returns the booking as it
/// then is. A failure leaves the refund to the worker (logged by the settlement): the booking is
/// cancelled either way, and shows `refundedAt` once the refund is made.
pub(crate) async fn refund_now(
    store: &dyn Store,
    clock: &dyn Clock,
    payments: &dyn PaymentGateway,
    booking: Booking,
    refund_intent: Option<String>,
) -> Booking {
    let Some(intent) = refund_intent else {
        return booking;
    };
    match settle::settle_refund(store, clock, payments, &booking, &intent).await {
        Ok(at) => Booking {
            refunded_at: Some(at),
            ..booking
        },
        Err(error) => {
            tracing::warn!(
                booking_id = %booking.id,
                error = %crate::error::chain(&error),
                "the refund of a cancelled booking is left to the worker"
            );
            booking
        }
    }
}
