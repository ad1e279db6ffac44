//! Cancelling a booking: its seats go back on sale, and a paid booking is refunded.

use super::contention::{ATTEMPTS, back_off};
use super::events;
use super::get::{ENTITY, read};
use super::model::{Booking, BookingId, BookingStatus};
use super::pay::gateway_failure;
use super::records;
use crate::audit::{self, Action, Change};
use crate::clock::{Clock, IdGenerator};
use crate::error::DomainError;
use crate::identity::RequestContext;
use crate::jobs::{JobKind, JobQueue, outbox};
use crate::payments::{PaymentGateway, RefundRequest};
use crate::storage::{Store, StoreError};
use crate::version::{Guarded, transact_guarded};

/// The position of the booking's status change in the transaction.
const CANCEL_OPERATION: usize = 0;

/// Cancels a pending or confirmed booking, for its owner or staff (anyone else gets a 404).
///
/// One transaction: the status change, conditioned on the status read, so that of concurrent
/// cancellations (or a cancellation racing a payment or the expiry job) exactly one applies; the
/// seats given back to the flight; the hold marker removed if the booking was pending; the audit
/// entry and the cancellation job. The seats therefore come back exactly once, however many
/// requests race. A confirmed booking is refunded first, through the gateway under the booking id
/// as idempotency key, so racing cancellations refund once between them, and the refund is
/// recorded on the booking by the same transaction. A booking already cancelled or expired is a
/// 409 and changes nothing.
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
    let caller = context
        .principal
        .as_ref()
        .ok_or(DomainError::Unauthenticated)?;
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
        let refund = match current.status {
            BookingStatus::Confirmed => Some(refund(payments, &current).await?),
            _ => None,
        };
        let now = clock.now();
        let cancelled = Booking {
            status: BookingStatus::Cancelled,
            hold_expires_at: None,
            cancelled_at: Some(now),
            updated_at: now,
            refunded_at: refund.as_ref().map(|_| now),
            refund,
            ..current.clone()
        };
        let job = events::job(
            ids,
            &cancelled,
            JobKind::BookingCancelled {
                refund: cancelled.refund.clone(),
            },
            now,
        );
        let (before, after) = Change::diff(&records::view(&current), &records::view(&cancelled));
        let change = Change {
            entity_type: records::ENTITY,
            entity_id: id.to_string(),
            action: Action::Update,
            before,
            after,
        };
        let mut operations = vec![
            records::transition(&current, &cancelled, records::status_is(current.status)),
            records::return_seats(&current.flight_id, current.seats),
            audit::entry(&change, context, now, ids.new_id()),
            outbox::stage(&job),
        ];
        operations.extend(records::delete_hold(&current));
        match transact_guarded(store, operations, CANCEL_OPERATION).await? {
            Guarded::Committed => {
                outbox::dispatch(store, queue, &[job]).await;
                return Ok(cancelled);
            }
            Guarded::Lost => {
                let previous = current.status;
                current = read(store, id).await?;
                if current.status == previous {
                    // Nothing changed the booking: the transaction only collided with another.
                    back_off(attempt).await;
                }
            }
        }
    }
    Err(DomainError::Conflict {
        detail: "The booking is being changed concurrently; retry the request.".into(),
    })
}

/// Pays back a confirmed booking's total. The key is the booking id, the same for every attempt
/// and every racing cancellation, so the provider refunds once.
async fn refund(
    payments: &dyn PaymentGateway,
    booking: &Booking,
) -> Result<crate::money::Money, DomainError> {
    let payment_id = booking.payment_id.clone().ok_or_else(|| {
        DomainError::Store(StoreError::internal(
            "a confirmed booking has no payment id to refund",
        ))
    })?;
    let request = RefundRequest {
        idempotency_key: booking.id.to_string(),
        payment_id,
        amount: booking.total.clone(),
    };
    let receipt = payments.refund(&request).await.map_err(gateway_failure)?;
    tracing::info!(refund_id = %receipt.refund_id, "refunded a cancelled booking");
    Ok(receipt.amount)
}
