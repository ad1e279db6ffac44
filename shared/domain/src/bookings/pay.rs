//! Paying for a pending booking, which confirms it.

use super::get::{ENTITY, read_state};
use super::model::{Booking, BookingId, PaymentDetails};
use super::records;
use super::settle::{self, Charged, flight_gone, gateway_failure, unpayable};
use crate::clock::{Clock, IdGenerator};
use crate::contention::{ATTEMPTS, back_off};
use crate::error::DomainError;
use crate::flights::{self, Flight};
use crate::identity::RequestContext;
use crate::jobs::{JobQueue, Task, TaskJob, outbox};
use crate::metrics;
use crate::payments::{ChargeOutcome, ChargeRequest, PaymentGateway};
use crate::storage::{Store, StoreError};

/// The positions of the conditions in the transaction that records the charge intent.
const INTENT_OPERATION: usize = 0;
const FLIGHT_OPERATION: usize = 1;

/// Charges the booking's total and confirms it; only its owner may (anyone else gets a 404).
///
/// The booking must be pending with its hold still running, its flight scheduled and not yet
/// departed (409 otherwise, before anything is charged), and `details.amount` must equal its
/// total. Then, in order:
///
/// 1. **Intent.** One transaction records the charge intent on the booking and stages the task
///    that settles it if this request cannot (see `settle.rs`), on condition that the booking is
///    still pending and held and the flight still bookable. A payment retried while an earlier
///    attempt's intent is open joins that intent.
/// 2. **Charge**, at the gateway under the booking id as idempotency key, so a retried payment is
///    never a second charge. A declined card is a 402: the intent is closed and the booking stays
///    pending. A provider that gives no answer is a 503 and leaves the intent for the worker.
/// 3. **Confirm** in one transaction conditioned on the booking still pending, held and under this
///    intent, and on the flight still bookable; or, when that can no longer be (the hold expired,
///    the booking was cancelled, the flight departed meanwhile), refund the charge and answer 409.
///
/// A booking therefore ends confirmed and paid, or not confirmed and not charged (refunded),
/// whatever fails in between: what this request does not finish, the worker does.
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
    let caller = context.caller()?;
    let (current, intents) = read_state(store, id).await?;
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
    let flight = flights::get_flight(store, &current.flight_id).await?;
    let read = (current.clone(), intents);
    let intent = open_intent(store, clock, ids, id, &flight, read).await?;
    let charge = ChargeRequest {
        idempotency_key: id.to_string(),
        token: details.token.clone(),
        amount: current.total.clone(),
        description: format!("Itinera flight {} booking", current.flight.number),
    };
    let payment = match payments.charge(&charge).await.map_err(gateway_failure)? {
        ChargeOutcome::Approved(payment) => payment,
        ChargeOutcome::Declined { reason } => {
            // Nothing was charged: the intent closes (or, if that fails, its task closes it).
            settle::close(store, id, &intent).await;
            metrics::PAYMENTS_DECLINED.increment(&[]);
            return Err(DomainError::PaymentDeclined { detail: reason });
        }
    };
    match settle::settle_charge(
        store, clock, ids, payments, queue, context, id, &intent, &payment,
    )
    .await?
    {
        Charged::Confirmed(booking) => Ok(*booking),
        Charged::Refunded { detail } => Err(DomainError::Conflict {
            detail: format!("{detail} The charge was refunded."),
        }),
    }
}

/// Records the intent to charge booking `id` (or joins the one an earlier attempt left open) and
/// returns it; refuses (409) a booking that cannot be paid now. The first attempt decides on
/// `read`, the booking as this request just read it: the transaction's conditions (pending, held,
/// no intent open, not void) hold against the stored booking whatever changed since, and a
/// refused attempt reads again.
async fn open_intent(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    id: &BookingId,
    flight: &Flight,
    read: (Booking, records::Intents),
) -> Result<String, DomainError> {
    let mut read = Some(read);
    for attempt in 0..ATTEMPTS {
        let (current, intents) = match read.take() {
            Some(read) => read,
            None => read_state(store, id).await?,
        };
        let now = clock.now();
        if let Some(refusal) = unpayable(&current, now).or_else(|| flight_gone(flight, now)) {
            return Err(refusal);
        }
        if intents.void {
            return Err(DomainError::Conflict {
                detail: "A payment of this booking was refunded; it cannot be paid again. Make a \
                         new booking."
                    .into(),
            });
        }
        if let Some(open) = intents.payment {
            // An earlier attempt (a retry after a timeout, another tab) is charging under the
            // same key: this attempt is the same charge, settled under the same intent.
            return Ok(open);
        }
        let task = TaskJob::new(
            ids,
            Task::SettleCharge {
                booking_id: id.to_string(),
            },
            now,
        );
        let intent = outbox::sort_key(&task);
        let operations = vec![
            records::open_payment_intent(id, &intent, now),
            records::check_flight_bookable(&current.flight_id, now),
            outbox::stage(&task)?,
        ];
        match store.transact(operations).await {
            Ok(()) => return Ok(intent),
            Err(StoreError::TransactionConditionFailed {
                index: FLIGHT_OPERATION,
            }) => {
                let flight = flights::get_flight(store, &current.flight_id).await?;
                return Err(flight_gone(&flight, clock.now()).unwrap_or_else(|| {
                    DomainError::Conflict {
                        detail: "The flight changed while paying; retry the payment.".into(),
                    }
                }));
            }
            // The booking changed (paid, cancelled, expired, another attempt's intent) or the
            // transaction collided: read again.
            Err(
                StoreError::TransactionConditionFailed {
                    index: INTENT_OPERATION,
                }
                | StoreError::TransactionConflict,
            ) => back_off(attempt).await,
            Err(error) => return Err(error.into()),
        }
    }
    Err(DomainError::Conflict {
        detail: "The booking is being changed concurrently; retry the payment.".into(),
    })
}
