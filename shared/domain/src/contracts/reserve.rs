//! Reserving a car: the contract, its days of the car, the counters on the car and the
//! customer, and the confirmation job in the outbox, written in one transaction, so a contract
//! exists exactly when its days are taken and its customer is told exactly when it exists.

use super::days;
use super::model::{Contract, ContractId, RentalPeriod, Reservation};
use super::{notices, records};
use crate::calendar::Day;
use crate::cars::days::{day_of, slot_query};
use crate::cars::{Car, CarId, CarStatus};
use crate::clock::{Clock, IdGenerator};
use crate::contention::{ATTEMPTS, Rounds};
use crate::customers::{self, Customer};
use crate::entity;
use crate::error::DomainError;
use crate::idempotency::{
    self, Begin, Claim, Fingerprint, IdempotencyKey, IdempotencyScope, Outcome, StoredResponse,
};
use crate::identity::{Principal, RequestContext};
use crate::jobs::{JobKind, JobQueue, outbox};
use crate::metrics;
use crate::storage::{MAX_TRANSACTION_OPERATIONS, Store, StoreError};

/// The name idempotency records of reservations are kept under.
pub const RESERVE_OPERATION: &str = "reserve-contract";

/// The positions of the operations whose conditions can fail for a reason the caller must hear;
/// the day slots follow [`FIRST_DAY_OPERATION`], in the order of the days.
const CAR_OPERATION: usize = 0;
const CUSTOMER_OPERATION: usize = 1;
const IDEMPOTENCY_OPERATION: usize = 2;
const FIRST_DAY_OPERATION: usize = 6;

// A reservation of the longest period fits one transaction.
const _: () =
    assert!(FIRST_DAY_OPERATION + RentalPeriod::MAX_DAYS as usize <= MAX_TRANSACTION_OPERATIONS);

/// How a reservation ended.
pub type ReserveOutcome = Outcome<Contract>;

/// Reserves `reservation`'s car for its days, for the caller's own customer profile (a customer)
/// or the customer staff name, under the idempotency key `key`.
///
/// Refused before any write: a customer without a profile (409, telling them to create one),
/// staff without `customerId` (422), an unknown car or customer (404), a start in the past or a
/// period longer than 90 days (422); and, under a key never used, a car in maintenance or
/// retired, a licence that expires before `endDate`, or a day another contract holds (409).
///
/// One transaction: the car's `contractCount` incremented while its status is the one read
/// (neither maintenance nor retired), the customer's `openContracts` incremented while their
/// licence is valid through `endDate`, the idempotency record's completion, the contract put as `reserved`
/// with the car's current daily rate as its snapshot and `total = days x rate`, its audit entry,
/// and one slot per day put only where none is (see `days.rs`). Of concurrent reservations
/// sharing a day, exactly one commits on either store family; the others are 409s naming a day
/// taken. The same transaction stages the confirmation job in the outbox (see `notices.rs`),
/// which is sent to `queue` once it commits (or by the relay, without one). Colliding or
/// throttled transactions are retried with jittered backoff, and a failed car or customer
/// condition is explained from the item read again. At most 6 + 90 = 96 operations, within the
/// store's 100.
#[allow(clippy::too_many_arguments)]
#[tracing::instrument(
    skip_all,
    fields(car_id = %reservation.car_id, contract_id, request_id = %context.request_id)
)]
pub async fn reserve_contract(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    queue: Option<&dyn JobQueue>,
    context: &RequestContext,
    key: &IdempotencyKey,
    reservation: &Reservation,
    respond: fn(&Contract) -> Result<StoredResponse, StoreError>,
) -> Result<ReserveOutcome, DomainError> {
    let caller = context.caller()?;
    let period = RentalPeriod::new(reservation.start_date, reservation.end_date)?;
    if period.start_date() < Day::today(clock.now()) {
        return Err(DomainError::Invalid {
            field: "startDate",
            message: "must be today or later".into(),
        });
    }
    let customer = customer_of(store, context, caller, reservation).await?;
    let scope = IdempotencyScope::new(RESERVE_OPERATION, &caller.user_id);
    let fingerprint = Fingerprint::of(reservation)?;
    // Read first, claim only what may succeed: under a key never used, a reservation that the
    // car, the licence or a day already taken refuses costs three reads instead of a claim, a
    // transaction that fails on the taken day and the claim's release, all of them writes.
    let (unused, car, taken) = tokio::try_join!(
        async { Ok::<_, DomainError>(idempotency::unused(store, &scope, key).await?) },
        async { Ok(entity::find::<CarId>(store, &reservation.car_id).await) },
        async { Ok(first_taken_day(store, &reservation.car_id, period).await?) },
    )?;
    let car = if unused {
        let car = car?;
        if let Some(refusal) = refusal(&car, &customer, period).or_else(|| taken.map(day_taken)) {
            return Err(refusal);
        }
        Some(car)
    } else {
        // A used key may have a response to replay: `begin` decides, whatever was read.
        car.ok()
    };
    let claim = match idempotency::begin(store, clock, &scope, key, &fingerprint).await? {
        Begin::Replay(response) => return Ok(Outcome::Replayed(response)),
        Begin::Proceed(claim) => claim,
    };
    let request = Request {
        store,
        clock,
        ids,
        queue,
        context,
        period,
        claim: &claim,
        respond,
    };
    let outcome = request.reserve(reservation, customer, car).await;
    claim.settle(store, outcome).await
}

/// The customer a reservation is for: the profile staff name, or the caller's own.
async fn customer_of(
    store: &dyn Store,
    context: &RequestContext,
    caller: &Principal,
    reservation: &Reservation,
) -> Result<Customer, DomainError> {
    if caller.is_staff() {
        let id = reservation
            .customer_id
            .as_ref()
            .ok_or_else(|| DomainError::Invalid {
                field: "customerId",
                message: "is required when staff reserve: name the customer the contract is for"
                    .into(),
            })?;
        return entity::find(store, id).await;
    }
    let own = match customers::get_my_customer(store, context).await {
        Ok(own) => own,
        Err(DomainError::NotFound { .. }) => {
            return Err(DomainError::Conflict {
                detail: "You have no customer profile yet; create it with POST \
                         /v1/customers/me, then reserve."
                    .into(),
            });
        }
        Err(other) => return Err(other),
    };
    match &reservation.customer_id {
        Some(named) if *named != own.id => Err(DomainError::Invalid {
            field: "customerId",
            message: "names another customer: a customer reserves for their own profile".into(),
        }),
        _ => Ok(own),
    }
}

/// Why the reservation of `car` by `customer` for `period` is refused, if it is: the car's
/// status, then the customer's licence.
fn refusal(car: &Car, customer: &Customer, period: RentalPeriod) -> Option<DomainError> {
    car_refusal(car).or_else(|| licence_refusal(customer, period.end_date()))
}

/// The first day of `period` another contract holds on `car`, if any: one Query of at most one
/// slot.
async fn first_taken_day(
    store: &dyn Store,
    car: &CarId,
    period: RentalPeriod,
) -> Result<Option<Day>, StoreError> {
    let mut query = slot_query(car, period.start_date(), period.end_date());
    query.limit = 1;
    let page = store.query(query).await?;
    Ok(page.items.first().and_then(day_of))
}

/// Why `car` cannot be reserved, if it cannot.
fn car_refusal(car: &Car) -> Option<DomainError> {
    matches!(car.status, CarStatus::Maintenance | CarStatus::Retired).then(|| {
        DomainError::Conflict {
            detail: format!("The car is {} and cannot be reserved.", car.status),
        }
    })
}

/// Why `customer` cannot rent through `end_date`, if they cannot.
fn licence_refusal(customer: &Customer, end_date: Day) -> Option<DomainError> {
    (customer.licence_expiry < end_date).then(|| DomainError::Conflict {
        detail: format!(
            "The customer's driving licence expires on {}, before the rental ends on {end_date}.",
            customer.licence_expiry
        ),
    })
}

/// The refusal of a day another contract holds, counted as a reservation conflict.
pub(crate) fn day_taken(day: Day) -> DomainError {
    metrics::RESERVATION_CONFLICTS.increment(&[]);
    DomainError::Conflict {
        detail: format!("The car is already rented on {day}; choose other dates."),
    }
}

/// One reservation, once its key is claimed.
struct Request<'a> {
    store: &'a dyn Store,
    clock: &'a dyn Clock,
    ids: &'a dyn IdGenerator,
    queue: Option<&'a dyn JobQueue>,
    context: &'a RequestContext,
    period: RentalPeriod,
    claim: &'a Claim,
    respond: fn(&Contract) -> Result<StoredResponse, StoreError>,
}

impl Request<'_> {
    /// Reserves, deciding the first round on `car` when it was read before the claim (the
    /// transaction's conditions catch anything that moved since) and every later round on a
    /// fresh read.
    async fn reserve(
        &self,
        reservation: &Reservation,
        mut customer: Customer,
        mut car: Option<Car>,
    ) -> Result<ReserveOutcome, DomainError> {
        let id = ContractId::from(self.ids.new_id());
        tracing::Span::current().record("contract_id", id.as_str());
        let mut rounds = Rounds::default();
        for attempt in 0..ATTEMPTS {
            let car: Car = match car.take() {
                Some(car) => car,
                None => entity::find(self.store, &reservation.car_id).await?,
            };
            if let Some(refusal) = refusal(&car, &customer, self.period) {
                return Err(refusal);
            }
            let now = self.clock.now();
            let contract = Contract::reserved(
                id.clone(),
                (car.id.clone(), car.daily_rate.clone()),
                (customer.id.clone(), customer.user_id.clone()),
                self.period,
                now,
            )?;
            let response = (self.respond)(&contract)?;
            let confirmation = notices::job(
                self.ids,
                JobKind::ContractReserved,
                &contract,
                (&car, &customer),
                now,
            );
            let mut operations = vec![
                records::count_on_car(&car),
                records::open_on_customer(&customer.id, self.period.end_date()),
                self.claim.complete(&response),
                records::put_new(&contract)?,
                records::created_entry(&contract, self.context, self.ids, now)?,
                outbox::stage(&confirmation)?,
            ];
            operations.extend(self.period.days().map(|day| days::take(&car.id, &id, day)));
            match self.store.transact(operations).await {
                Ok(()) => {
                    metrics::CONTRACTS_RESERVED.increment(&[]);
                    outbox::dispatch(self.store, self.queue, &[confirmation]).await;
                    return Ok(Outcome::Created {
                        value: Box::new(contract),
                        response,
                    });
                }
                // The car changed status (or went): the next round reads it again and says so.
                Err(StoreError::TransactionConditionFailed {
                    index: CAR_OPERATION,
                }) => {}
                Err(StoreError::TransactionConditionFailed {
                    index: CUSTOMER_OPERATION,
                }) => customer = entity::find(self.store, &customer.id).await?,
                Err(StoreError::TransactionConditionFailed {
                    index: IDEMPOTENCY_OPERATION,
                }) => return Err(idempotency::in_progress()),
                Err(StoreError::TransactionConditionFailed { index })
                    if index >= FIRST_DAY_OPERATION =>
                {
                    let day = self.period.days().nth(index - FIRST_DAY_OPERATION);
                    return Err(day.map_or_else(
                        || StoreError::internal("a failed operation past the last day").into(),
                        day_taken,
                    ));
                }
                Err(error) => rounds.wait_after(attempt, error).await?,
            }
        }
        Err(rounds.exhausted("The car is in high demand right now; retry the request."))
    }
}
