//! Money that moves outside the store, made recoverable.
//!
//! A charge or a refund is a call to the provider, and no transaction of ours can include it: a
//! process that charges and then fails to commit (or refunds and then fails to cancel) leaves the
//! money and the booking disagreeing. So money moves only after its intent is durable:
//!
//! - **Charge.** Before asking the provider, the payment records a charge intent on the booking
//!   (`paymentIntent`, conditioned on the booking being pending and held) in the same transaction
//!   as a `SettleCharge` task staged in the outbox. The transaction that confirms the booking
//!   removes both. A charge whose confirmation cannot commit (the hold lapsed, the flight left) is
//!   refunded and the intent closed, after the booking is marked `chargeVoid` on condition that
//!   it is not confirmed: confirming requires that mark's absence, so a refund and a confirmation
//!   never both win, and a voided booking is never confirmed later by the same (refunded) charge,
//!   which is all the provider will ever answer under its id.
//! - **Refund.** The cancellation of a paid booking records the refund it owes (`refund`, and a
//!   `refundIntent` with a staged `SettleRefund` task) in the transaction that cancels it; the
//!   provider is asked to refund only after that commit, and a second transaction records
//!   `refundedAt` and removes the intent.
//!
//! Whatever stops a request between the two (a crash, a timeout, a store or provider outage), the
//! staged task stays in the outbox; the relay sends it and the worker settles it with
//! [`run_task`]: it looks the charge up at the provider under the booking id, then confirms the
//! booking (still pending and held), refunds the charge (it cannot be confirmed), or closes the
//! intent (nothing was charged); or it makes the refund and records it. The provider's idempotency
//! key is the booking id throughout, so a retried or repeated charge or refund is one operation,
//! and every store change above is conditioned on the intent still being the one open, so a
//! request and the worker racing each other settle it once. See docs/payments.md.

use chrono::{DateTime, Utc};

use super::events;
use super::get::read_state;
use super::model::{Booking, BookingId, BookingStatus};
use super::records::{self, PAYMENT_INTENT};
use crate::clock::{Clock, IdGenerator};
use crate::contention::{ATTEMPTS, back_off};
use crate::error::DomainError;
use crate::flights::{self, Flight, FlightStatus};
use crate::identity::RequestContext;
use crate::jobs::{JobKind, JobQueue, Task, TaskJob, outbox};
use crate::money::Money;
use crate::payments::{
    ChargeLookup, Payment, PaymentError, PaymentGateway, PaymentId, PaymentProvider, RefundReceipt,
    RefundRequest,
};
use crate::storage::{Condition, Store, StoreError, Update, WriteOp};

/// How often a refund is attempted while the provider is unreachable before the failure is
/// reported (and left to the worker).
const REFUND_ATTEMPTS: u32 = 3;

/// How a charge the provider made ended.
pub(crate) enum Charged {
    /// The booking is confirmed and paid by the charge.
    Confirmed(Box<Booking>),
    /// The booking could not be confirmed (for the reason given); the charge was refunded.
    Refunded { detail: String },
}

/// Why `booking` cannot be paid at `now`, if it cannot.
pub(crate) fn unpayable(booking: &Booking, now: DateTime<Utc>) -> Option<DomainError> {
    let detail = match (booking.status, booking.hold_expires_at) {
        (BookingStatus::Pending, Some(until)) if until > now => return None,
        (BookingStatus::Pending, _) => {
            "The booking's hold has expired; its seats are going back on sale.".to_owned()
        }
        (status, _) => format!("The booking is {status}; only a pending booking can be paid."),
    };
    Some(DomainError::Conflict { detail })
}

/// Why the bookings of `flight` can no longer be paid or cancelled at `now`, if they cannot: the
/// flight is no longer scheduled, or its departure time has passed.
pub(crate) fn flight_gone(flight: &Flight, now: DateTime<Utc>) -> Option<DomainError> {
    let detail = match flight.status {
        FlightStatus::Scheduled if flight.departure_time > now => return None,
        FlightStatus::Scheduled | FlightStatus::Departed | FlightStatus::Arrived => format!(
            "Flight {} has departed; its bookings can no longer be paid or cancelled.",
            flight.flight_number.as_str()
        ),
        FlightStatus::Cancelled => format!(
            "Flight {} is cancelled; its bookings are being cancelled and refunded \
             automatically.",
            flight.flight_number.as_str()
        ),
    };
    Some(DomainError::Conflict { detail })
}

/// The detail of a refusal, for a caller told the charge made for it was paid back.
fn detail_of(error: DomainError) -> String {
    match error {
        DomainError::Conflict { detail } => detail,
        other => other.to_string(),
    }
}

/// Settles the charge `payment` that the provider made for booking `id` under the charge intent
/// `intent`: confirms the booking if it can still be confirmed (one transaction: the status change
/// and the intent's removal, conditioned on the booking being pending, held, not voided and still
/// under this intent; the payment record; the flight still bookable; the hold marker, the audit
/// entry, the confirmation job and the staged task's removal), and otherwise voids the charge
/// (conditioned on the booking not being confirmed) and refunds it.
///
/// An error leaves the intent open (the provider or the store failed, or the booking stayed
/// contended): the staged task settles it later.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn settle_charge(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    payments: &dyn PaymentGateway,
    queue: Option<&dyn JobQueue>,
    context: &RequestContext,
    id: &BookingId,
    intent: &str,
    payment: &Payment,
) -> Result<Charged, DomainError> {
    for attempt in 0..ATTEMPTS {
        let (current, intents) = read_state(store, id).await?;
        if current.status == BookingStatus::Confirmed
            && current.payment_id.as_ref() == Some(&payment.id)
        {
            // Confirmed with this very charge, by a concurrent submission or the worker.
            return Ok(Charged::Confirmed(Box::new(current)));
        }
        let open = intents.payment.as_deref() == Some(intent);
        let now = clock.now();
        let flight = flights::get_flight(store, &current.flight_id).await?;
        let refusal = if intents.void {
            Some("The booking's payment was refunded.".to_owned())
        } else if !open {
            // The intent was settled while the provider was charging (the worker found no charge
            // yet and closed it): nothing may confirm this charge now.
            Some("The payment took too long to complete.".to_owned())
        } else {
            unpayable(&current, now)
                .or_else(|| flight_gone(&flight, now))
                .map(detail_of)
        };
        if let Some(detail) = refusal {
            if !intents.void {
                // Decide, durably and only while the booking is not confirmed, that this charge
                // goes back: from now on nothing confirms the booking.
                match store.update(records::void_charge(id, now)).await {
                    Ok(_) => {}
                    Err(StoreError::ConditionFailed | StoreError::TransactionConflict) => {
                        back_off(attempt).await;
                        continue;
                    }
                    Err(error) => return Err(error.into()),
                }
            }
            let open = open.then_some(intent);
            refund_void(store, clock, ids, payments, id, open, payment).await?;
            return Ok(Charged::Refunded { detail });
        }
        let confirmed = Booking {
            status: BookingStatus::Confirmed,
            hold_expires_at: None,
            confirmed_at: Some(now),
            updated_at: now,
            payment_id: Some(payment.id.clone()),
            ..current.clone()
        };
        let job = events::job(ids, &confirmed, JobKind::BookingConfirmed, now);
        let mut operations = vec![
            records::settling(
                records::transition(
                    &current,
                    &confirmed,
                    Condition::And(vec![
                        records::pending_and_held_at(now),
                        records::charge_not_void(),
                    ]),
                ),
                PAYMENT_INTENT,
                intent,
            ),
            records::put_payment(id, payment),
            records::check_flight_bookable(&current.flight_id, now),
            events::audit_entry(&current, &confirmed, context, ids, now)?,
            outbox::stage(&job)?,
            outbox::unstage(intent),
        ];
        operations.extend(records::delete_hold(&current));
        match store.transact(operations).await {
            Ok(()) => {
                outbox::dispatch(store, queue, &[job]).await;
                return Ok(Charged::Confirmed(Box::new(confirmed)));
            }
            // The booking, its intent or the flight changed since the read, or the transaction
            // collided: read again, and decide on what committed.
            Err(
                StoreError::TransactionConditionFailed { .. } | StoreError::TransactionConflict,
            ) => {
                back_off(attempt).await;
            }
            Err(error) => return Err(error.into()),
        }
    }
    Err(DomainError::Conflict {
        detail: "The booking is being changed concurrently; the payment will be settled \
                 shortly, and refunded if the booking cannot be confirmed."
            .into(),
    })
}

/// Refunds the voided charge `payment` of booking `id`, then closes its intent `open` (with the
/// staged task) if it is still open. A closing that fails is only logged: the task refunds again
/// (the same refund, under the same key) and closes it. A refund that fails leaves an intent for
/// the worker: the open one, or a new one when none is open, so the charge is never forgotten.
async fn refund_void(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    payments: &dyn PaymentGateway,
    id: &BookingId,
    open: Option<&str>,
    payment: &Payment,
) -> Result<(), DomainError> {
    match refund_payment(payments, id, &payment.id, &payment.amount).await {
        Ok(_) => {
            if let Some(intent) = open {
                close(store, id, intent).await;
            }
            Ok(())
        }
        Err(failure) => {
            if open.is_none() {
                reopen(store, clock, ids, id, payment).await;
            }
            Err(failure)
        }
    }
}

/// Closes the charge intent `intent` of booking `id` and removes its staged task, if the intent
/// is still open (nothing was charged, or the charge was refunded); logs a store failure (the task
/// closes it later).
pub(crate) async fn close(store: &dyn Store, id: &BookingId, intent: &str) {
    let operations = vec![
        records::close_intent(id, PAYMENT_INTENT, intent),
        outbox::unstage(intent),
    ];
    match store.transact(operations).await {
        Ok(()) | Err(StoreError::TransactionConditionFailed { .. }) => {}
        Err(error) => tracing::warn!(
            booking_id = %id,
            error = %crate::error::chain(&error),
            "could not close a settled charge intent; its task will close it"
        ),
    }
}

/// Records a new charge intent (and its task) for a voided charge whose refund failed while no
/// intent was open, so that the worker retries the refund.
async fn reopen(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    id: &BookingId,
    payment: &Payment,
) {
    let task = TaskJob::new(
        ids,
        Task::SettleCharge {
            booking_id: id.to_string(),
        },
        clock.now(),
    );
    let intent = outbox::sort_key(&task);
    let mut reopen = Update::new(records::key(id));
    reopen
        .set
        .push((PAYMENT_INTENT.into(), serde_json::Value::from(intent)));
    reopen.condition = Some(Condition::AttributeNotExists(PAYMENT_INTENT.into()));
    let staged = outbox::stage(&task);
    let outcome = match staged {
        Ok(stage) => store.transact(vec![WriteOp::Update(reopen), stage]).await,
        Err(error) => Err(error),
    };
    if let Err(error) = outcome {
        tracing::error!(
            booking_id = %id,
            payment_id = %payment.id,
            error = %crate::error::chain(&error),
            "a voided charge could not be refunded nor its refund recorded; refund it by hand"
        );
    }
}

/// Pays back `amount` of the charge `payment_id` of booking `id`, under the booking id as
/// idempotency key, retrying while the provider is unreachable.
pub(crate) async fn refund_payment(
    payments: &dyn PaymentGateway,
    id: &BookingId,
    payment_id: &PaymentId,
    amount: &Money,
) -> Result<RefundReceipt, DomainError> {
    let request = RefundRequest {
        idempotency_key: id.to_string(),
        payment_id: payment_id.clone(),
        amount: amount.clone(),
    };
    let mut attempt = 0;
    loop {
        match payments.refund(&request).await {
            Ok(receipt) => {
                tracing::info!(
                    booking_id = %id,
                    payment_id = %payment_id,
                    refund_id = %receipt.refund_id,
                    "refunded a charge"
                );
                return Ok(receipt);
            }
            Err(PaymentError::Unavailable(_)) if attempt + 1 < REFUND_ATTEMPTS => {
                back_off(attempt).await;
                attempt += 1;
            }
            Err(error) => {
                tracing::warn!(
                    booking_id = %id,
                    payment_id = %payment_id,
                    error = %crate::error::chain(&error),
                    "a refund failed; its intent stays for the worker"
                );
                return Err(gateway_failure(error));
            }
        }
    }
}

/// Makes the refund the cancelled `booking` owes under the open refund intent `intent`, and
/// records it (`refundedAt`, the intent and its staged task removed, on condition that the intent
/// is still open). Returns when the refund was recorded. An error leaves the intent open for the
/// worker.
pub(crate) async fn settle_refund(
    store: &dyn Store,
    clock: &dyn Clock,
    payments: &dyn PaymentGateway,
    booking: &Booking,
    intent: &str,
) -> Result<DateTime<Utc>, DomainError> {
    let payment_id = booking.payment_id.as_ref().ok_or_else(|| {
        DomainError::Store(StoreError::internal(
            "a booking owed a refund has no payment id to refund",
        ))
    })?;
    let amount = booking.refund.as_ref().unwrap_or(&booking.total);
    refund_payment(payments, &booking.id, payment_id, amount).await?;
    let refunded_at = clock.now();
    let operations = vec![
        records::record_refund(&booking.id, intent, refunded_at),
        outbox::unstage(intent),
    ];
    match store.transact(operations).await {
        // Recorded by a concurrent settlement of the same refund, which the provider made once.
        Ok(()) | Err(StoreError::TransactionConditionFailed { .. }) => Ok(refunded_at),
        Err(error) => Err(error.into()),
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

/// Runs one booking task for the worker; an error makes the delivery fail, so that the queue
/// delivers it again (and after five failures moves it to the dead-letter queue).
#[tracing::instrument(skip_all, fields(job_id = %job.id, task = job.task.name()))]
pub async fn run_task(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    payments: &dyn PaymentProvider,
    job: &TaskJob,
) -> Result<(), DomainError> {
    let context = RequestContext {
        request_id: format!("{}-{}", job.task.name(), job.id),
        principal: None,
    };
    let intent = outbox::sort_key(job);
    match &job.task {
        Task::SettleCharge { booking_id } => {
            let id = parse_booking(booking_id)?;
            recover_charge(store, clock, ids, payments, &context, &id, &intent).await
        }
        Task::SettleRefund { booking_id } => {
            let id = parse_booking(booking_id)?;
            recover_refund(store, clock, payments, &id, &intent).await
        }
        Task::CancelFlightBookings { flight_id, after } => {
            let flight = flights::FlightId::parse(flight_id).ok_or_else(|| {
                DomainError::Store(StoreError::internal("a task names an invalid flight id"))
            })?;
            let next = super::flight_cancellation::cancel_flight_bookings(
                store,
                clock,
                ids,
                payments,
                &context,
                &flight,
                after.clone(),
            )
            .await?;
            if let Some(after) = next {
                // More bookings follow: the next page is a task of its own, sent by the relay.
                let rest = TaskJob::new(
                    ids,
                    Task::CancelFlightBookings {
                        flight_id: flight_id.clone(),
                        after: Some(after),
                    },
                    clock.now(),
                );
                store.transact(vec![outbox::stage(&rest)?]).await?;
            }
            Ok(())
        }
    }
}

fn parse_booking(text: &str) -> Result<BookingId, DomainError> {
    BookingId::parse(text).ok_or_else(|| {
        DomainError::Store(StoreError::internal("a task names an invalid booking id"))
    })
}

/// Settles a charge intent a payment left open: asks the provider for the charge made under the
/// booking id, then confirms or refunds it ([`settle_charge`]), or closes the intent when there is
/// none.
async fn recover_charge(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    payments: &dyn PaymentProvider,
    context: &RequestContext,
    id: &BookingId,
    intent: &str,
) -> Result<(), DomainError> {
    let Some(intents) = open_intents(store, id).await? else {
        return Ok(());
    };
    if intents.payment.as_deref() != Some(intent) {
        return Ok(());
    }
    let found = ChargeLookup::find_charge(payments, id.as_str())
        .await
        .map_err(gateway_failure)?;
    let Some(payment) = found else {
        tracing::info!(booking_id = %id, "no charge was made; closing the payment intent");
        close(store, id, intent).await;
        return Ok(());
    };
    match settle_charge(
        store, clock, ids, payments, None, context, id, intent, &payment,
    )
    .await?
    {
        Charged::Confirmed(_) => {
            tracing::info!(booking_id = %id, "confirmed a booking whose payment was interrupted");
        }
        Charged::Refunded { detail } => {
            tracing::info!(booking_id = %id, %detail, "refunded an interrupted payment");
        }
    }
    Ok(())
}

/// Settles a refund intent a cancellation left open.
async fn recover_refund(
    store: &dyn Store,
    clock: &dyn Clock,
    payments: &dyn PaymentGateway,
    id: &BookingId,
    intent: &str,
) -> Result<(), DomainError> {
    let (booking, intents) = match read_state(store, id).await {
        Ok(state) => state,
        Err(DomainError::NotFound { .. }) => return Ok(()),
        Err(error) => return Err(error),
    };
    if intents.refund.as_deref() != Some(intent) {
        return Ok(());
    }
    settle_refund(store, clock, payments, &booking, intent).await?;
    tracing::info!(booking_id = %id, "made a refund a cancellation left open");
    Ok(())
}

/// The open intents of booking `id`, or `None` when it does not exist.
async fn open_intents(
    store: &dyn Store,
    id: &BookingId,
) -> Result<Option<records::Intents>, DomainError> {
    match read_state(store, id).await {
        Ok((_, intents)) => Ok(Some(intents)),
        Err(DomainError::NotFound { .. }) => {
            tracing::error!(booking_id = %id, "a task names a booking that does not exist");
            Ok(None)
        }
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Comparison;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    fn id() -> BookingId {
        BookingId::parse("0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f").unwrap()
    }

    #[test]
    fn confirming_settles_the_charge_intent_under_its_own_condition_too() {
        let now = at("2026-11-21T08:05:00Z");
        let mut transition = Update::new(records::key(&id()));
        transition.condition = Some(records::pending_and_held_at(now));
        let WriteOp::Update(settled) =
            records::settling(WriteOp::Update(transition), PAYMENT_INTENT, "t#1")
        else {
            panic!("an update");
        };
        assert_eq!(settled.remove, ["paymentIntent"]);
        let Some(Condition::And(all)) = settled.condition else {
            panic!("the conditions are combined");
        };
        assert_eq!(
            all.last(),
            Some(&Condition::compare(
                "paymentIntent",
                Comparison::Equal,
                "t#1"
            ))
        );
        assert_eq!(all.len(), 3, "pending, held, and this intent");
    }

    #[test]
    fn an_intent_opens_only_while_none_is_open_and_closes_only_as_itself() {
        let now = at("2026-11-21T08:05:00Z");
        let WriteOp::Update(open) = records::open_payment_intent(&id(), "t#1", now) else {
            panic!("an update");
        };
        assert_eq!(
            open.set,
            [("paymentIntent".to_owned(), serde_json::Value::from("t#1"))]
        );
        let Some(Condition::And(all)) = open.condition else {
            panic!("combined");
        };
        assert!(all.contains(&Condition::AttributeNotExists("paymentIntent".into())));
        let WriteOp::Update(close) = records::close_intent(&id(), records::REFUND_INTENT, "t#2")
        else {
            panic!("an update");
        };
        assert_eq!(close.remove, ["refundIntent"]);
        assert_eq!(
            close.condition,
            Some(Condition::compare("refundIntent", Comparison::Equal, "t#2"))
        );
    }

    #[test]
    fn a_cancellation_returns_seats_only_to_a_flight_still_bookable() {
        let now = at("2026-11-21T08:05:00Z");
        let flight =
            crate::flights::FlightId::parse("0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e70").unwrap();
        let seats = super::super::model::Seats::try_from(2).unwrap();
        let WriteOp::Update(update) = records::return_seats_while_bookable(&flight, seats, now)
        else {
            panic!("an update");
        };
        assert_eq!(
            update.condition,
            Some(Condition::And(vec![
                Condition::ItemExists,
                Condition::And(vec![
                    Condition::compare("status", Comparison::Equal, "scheduled"),
                    Condition::compare(
                        "departureTime",
                        Comparison::Greater,
                        "2026-11-21T08:05:00.000Z"
                    ),
                ]),
            ]))
        );
    }
}
