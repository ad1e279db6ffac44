//! Paying for a pending booking, which confirms it.

use chrono::{DateTime, Utc};

use super::contention::{ATTEMPTS, back_off};
use super::events;
use super::get::{ENTITY, read};
use super::model::{Booking, BookingId, BookingStatus, PaymentDetails};
use super::records;
use crate::audit::{self, Action, Change};
use crate::clock::{Clock, IdGenerator};
use crate::error::DomainError;
use crate::identity::RequestContext;
use crate::jobs::{JobKind, JobQueue, outbox};
use crate::payments::{
    ChargeOutcome, ChargeRequest, Payment, PaymentError, PaymentGateway, RefundRequest,
};
use crate::storage::{Store, StoreError};
use crate::version::{Guarded, transact_guarded};

/// The position of the booking's status change in the transaction.
const CONFIRM_OPERATION: usize = 0;

/// How often a refund is attempted before the failure is reported.
const REFUND_ATTEMPTS: u32 = 3;

/// Charges the booking's total and confirms it; only its owner may (anyone else gets a 404).
///
/// The booking must be pending with its hold still running, and `details.amount` must equal its
/// total. The charge goes to the gateway under the booking id as idempotency key, so a retried
/// payment is never a second charge. A declined card is a 402 and the booking stays pending.
/// An approved charge confirms the booking in one transaction: the status change (conditioned on
/// the booking still being pending with its hold not lapsed), the hold marker's removal, the
/// payment record, the audit entry and the confirmation job. When that transaction loses, because
/// the hold expired or the booking was cancelled meanwhile, the charge is refunded under the same
/// key and the request is a 409: a booking ends confirmed and paid, or not confirmed and not
/// charged, never in between.
#[allow(clippy::too_many_arguments)]
#[tracing::instrument(
    skip(store, clock, ids, payments, queue, context, details),
    fields(booking_id = %id, request_id = %context.request_id)
)]
pub async fn pay_booking(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    payments: &dyn PaymentGateway,
    queue: Option<&dyn JobQueue>,
    context: &RequestContext,
    id: &BookingId,
    details: &PaymentDetails,
) -> Result<Booking, DomainError> {
    let caller = context
        .principal
        .as_ref()
        .ok_or(DomainError::Unauthenticated)?;
    let mut current = read(store, id).await?;
    if current.user_id != caller.user_id {
        return Err(DomainError::NotFound { entity: ENTITY });
    }
    if details.amount != current.total {
        return Err(DomainError::Invalid {
            field: "amount",
            message: format!(
                "must equal the booking's total: {} {} in minor units",
                current.total.amount(),
                current.total.currency()
            ),
        });
    }
    if let Some(refusal) = unpayable(&current, clock.now()) {
        return Err(refusal);
    }
    let charge = ChargeRequest {
        idempotency_key: id.to_string(),
        token: details.token.clone(),
        amount: current.total.clone(),
        description: format!("Itinera flight {} booking", current.flight.number),
    };
    let payment = match payments.charge(&charge).await.map_err(gateway_failure)? {
        ChargeOutcome::Approved(payment) => payment,
        ChargeOutcome::Declined { reason } => {
            return Err(DomainError::PaymentDeclined { detail: reason });
        }
    };
    for attempt in 0..ATTEMPTS {
        let now = clock.now();
        let confirmed = Booking {
            status: BookingStatus::Confirmed,
            hold_expires_at: None,
            confirmed_at: Some(now),
            updated_at: now,
            payment_id: Some(payment.id.clone()),
            ..current.clone()
        };
        let job = events::job(ids, &confirmed, JobKind::BookingConfirmed, now);
        let (before, after) = Change::diff(&records::view(&current), &records::view(&confirmed));
        let change = Change {
            entity_type: records::ENTITY,
            entity_id: id.to_string(),
            action: Action::Update,
            before,
            after,
        };
        let mut operations = vec![
            records::transition(&current, &confirmed, records::pending_and_held_at(now)),
            records::put_payment(id, &payment),
            audit::entry(&change, context, now, ids.new_id()),
            outbox::stage(&job),
        ];
        operations.extend(records::delete_hold(&current));
        match transact_guarded(store, operations, CONFIRM_OPERATION).await? {
            Guarded::Committed => {
                outbox::dispatch(store, queue, &[job]).await;
                return Ok(confirmed);
            }
            Guarded::Lost => {
                current = read(store, id).await?;
                if current.status == BookingStatus::Confirmed
                    && current.payment_id.as_ref() == Some(&payment.id)
                {
                    // A concurrent submission of the same payment won with this very charge
                    // (the gateway answered both with it): the booking is paid, once.
                    return Ok(current);
                }
                if let Some(refusal) = unpayable(&current, clock.now()) {
                    refund(payments, id, &payment).await?;
                    return Err(refused_after_charge(refusal));
                }
                // Still pending and held: the transaction only collided with another one.
                back_off(attempt).await;
            }
        }
    }
    refund(payments, id, &payment).await?;
    Err(DomainError::Conflict {
        detail: "The booking is being changed concurrently; the charge was refunded. Retry the \
                 payment."
            .into(),
    })
}

/// Why `booking` cannot be paid at `now`, if it cannot.
fn unpayable(booking: &Booking, now: DateTime<Utc>) -> Option<DomainError> {
    let detail = match (booking.status, booking.hold_expires_at) {
        (BookingStatus::Pending, Some(until)) if until > now => return None,
        (BookingStatus::Pending, _) => {
            "The booking's hold has expired; its seats are going back on sale.".to_owned()
        }
        (status, _) => format!("The booking is {status}; only a pending booking can be paid."),
    };
    Some(DomainError::Conflict { detail })
}

/// The refusal, telling the caller that the charge made for it was paid back.
fn refused_after_charge(refusal: DomainError) -> DomainError {
    match refusal {
        DomainError::Conflict { detail } => DomainError::Conflict {
            detail: format!("{detail} The charge was refunded."),
        },
        other => other,
    }
}

/// Pays back a charge whose booking could not be confirmed, under the booking id as idempotency
/// key, retrying while the provider is unreachable. A refund that still fails is logged as an
/// error with the ids an operator needs, and the request fails with it.
async fn refund(
    payments: &dyn PaymentGateway,
    id: &BookingId,
    payment: &Payment,
) -> Result<(), DomainError> {
    let request = RefundRequest {
        idempotency_key: id.to_string(),
        payment_id: payment.id.clone(),
        amount: payment.amount.clone(),
    };
    let mut attempt = 0;
    loop {
        match payments.refund(&request).await {
            Ok(receipt) => {
                tracing::info!(
                    payment_id = %payment.id,
                    refund_id = %receipt.refund_id,
                    "refunded a charge whose booking could not be confirmed"
                );
                return Ok(());
            }
            Err(PaymentError::Unavailable(_)) if attempt + 1 < REFUND_ATTEMPTS => {
                back_off(attempt).await;
                attempt += 1;
            }
            Err(error) => {
                tracing::error!(
                    payment_id = %payment.id,
                    error = %crate::api::error_chain(&error),
                    "a charge for an unconfirmed booking could not be refunded; refund it by hand"
                );
                return Err(gateway_failure(error));
            }
        }
    }
}

/// A gateway that gave no outcome: the request fails as a dependency failure (503 when the
/// provider could not be reached, 500 when it refused the request itself), with the provider's
/// error kept in the chain for the log.
pub(crate) fn gateway_failure(error: PaymentError) -> DomainError {
    DomainError::Store(match error {
        PaymentError::Unavailable(_) => StoreError::Unavailable(Box::new(error)),
        PaymentError::Rejected(_) => StoreError::Internal(Box::new(error)),
    })
}
