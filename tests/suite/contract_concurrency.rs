//! Rental contracts under concurrency, on both store families: the use cases run directly, on a
//! multi-threaded runtime, released together by a barrier.
//!
//! What must hold whatever the interleaving: no two contracts that hold days share a day of a
//! car (every slot item names a contract holding that day, and every such contract's days are
//! exactly its slots), days are freed exactly once, and the car's and the customer's counters
//! match the contracts.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use itinera::accounts::{Email, PersonName, Phone};
use itinera::calendar::Day;
use itinera::cars::{
    CarCategory, CarId, CarModel, DailyRate, LicencePlate, Manufacturer, Mileage, ModelYear,
    NewCar, Vin, create_car,
};
use itinera::clock::{Clock, UuidV7Ids};
use itinera::contracts::{
    Contract, ContractFilter, ContractStatus, MAX_MOVED_DAYS, NewDates, Reservation, Return,
    cancel_contract, list_contracts, pick_up_contract, reschedule_contract, reserve_contract,
    return_contract,
};
use itinera::customers::{CustomerId, LicenceNumber, NewCustomer, create_customer};
use itinera::error::DomainError;
use itinera::idempotency::{IdempotencyKey, StoredResponse};
use itinera::identity::{Principal, RequestContext, Role, UserId};
use itinera::money::{Currency, Money};
use itinera::pagination::PageLimit;
use itinera::storage::{Key, Query, SortCondition, Store, StoreError};
use itinera::version::Precondition;
use itinera_tests::{Backend, SettableClock, context_of, principal};
use tokio::sync::Barrier;

/// The day the tests run on: every reservation is after it.
pub(crate) fn today() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2030-01-10T09:00:00Z")
        .unwrap()
        .to_utc()
}

/// The day `offset` days after [`today`].
pub(crate) fn day(offset: i64) -> Day {
    Day::today(today() + TimeDelta::days(offset))
}

/// A fleet of one car and one customer, with the staff member who reserves for them.
pub(crate) struct Rental {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<SettableClock>,
    pub(crate) staff: Principal,
    pub(crate) car: CarId,
    pub(crate) customer: CustomerId,
}

/// A rental for Ann Lee, with no account linked.
async fn rental(backend: &Backend) -> Rental {
    rental_for(backend, Email::parse("ann.lee@example.com").unwrap(), None).await
}

/// A rental of the Toyota Corolla `RENT1` for Ann Lee, reachable at `email`, her profile linked
/// to the account `user` if one is named.
pub(crate) async fn rental_for(backend: &Backend, email: Email, user: Option<UserId>) -> Rental {
    let store = Arc::clone(&backend.store);
    let clock = Arc::new(SettableClock::at(today()));
    let staff = principal(Role::Staff);
    let context = context_of(&staff);
    let eur = || Currency::parse("EUR").unwrap();
    let car = NewCar {
        license_plate: LicencePlate::parse("RENT 1").unwrap(),
        vin: Vin::parse("1HGCM82633A004352").unwrap(),
        manufacturer: Manufacturer::parse("Toyota").unwrap(),
        model: CarModel::parse("Corolla").unwrap(),
        year: ModelYear::try_from(2026).unwrap(),
        category: CarCategory::Compact,
        daily_rate: DailyRate::new(Money::new(4_500, eur()).unwrap()).unwrap(),
        mileage: Mileage::try_from(1_000).unwrap(),
    };
    let car = create_car(&*store, &*clock, &UuidV7Ids, &context, car)
        .await
        .unwrap();
    let customer = NewCustomer {
        name: PersonName::parse("Ann Lee").unwrap(),
        email,
        phone: Phone::parse("+44 20 7946 0958").unwrap(),
        licence_number: LicenceNumber::parse("LEE99701015AN9IJ").unwrap(),
        licence_expiry: Day::parse("2035-05-31").unwrap(),
        user_id: user,
    };
    let customer = create_customer(&*store, &*clock, &UuidV7Ids, &context, customer)
        .await
        .unwrap();
    Rental {
        store,
        clock,
        staff,
        car: car.id,
        customer: customer.id,
    }
}

pub(crate) fn respond(contract: &Contract) -> Result<StoredResponse, StoreError> {
    Ok(StoredResponse {
        status: 201,
        body: serde_json::to_value(contract).map_err(StoreError::internal)?,
        location: None,
    })
}

impl Rental {
    /// What a racing task takes along to act as staff: the store, the clock and the staff
    /// member's request context.
    pub(crate) fn staff_side(&self) -> (Arc<dyn Store>, Arc<SettableClock>, RequestContext) {
        (
            Arc::clone(&self.store),
            Arc::clone(&self.clock),
            context_of(&self.staff),
        )
    }

    /// Staff reserve days `from..=to` (offsets from today) of the car, under a fresh key.
    pub(crate) async fn reserve(&self, from: i64, to: i64) -> Result<Contract, DomainError> {
        reserve(
            &self.store,
            &*self.clock,
            &self.staff,
            &self.car,
            &self.customer,
            from,
            to,
        )
        .await
    }

    async fn cancel(&self, contract: &Contract) -> Result<Contract, DomainError> {
        let context = context_of(&self.staff);
        cancel_contract(
            &*self.store,
            &*self.clock,
            &UuidV7Ids,
            &context,
            &contract.id,
        )
        .await
    }

    /// Staff move `contract` to days `from..=to` (offsets from today) under `precondition`.
    pub(crate) async fn reschedule(
        &self,
        contract: &Contract,
        (from, to): (i64, i64),
        precondition: &Precondition,
    ) -> Result<Contract, DomainError> {
        let dates = NewDates {
            start_date: Some(day(from)),
            end_date: Some(day(to)),
        };
        let context = context_of(&self.staff);
        reschedule_contract(
            &*self.store,
            &*self.clock,
            &UuidV7Ids,
            &context,
            &contract.id,
            dates,
            precondition,
        )
        .await
    }

    /// Every contract of the car.
    async fn contracts(&self) -> Vec<Contract> {
        let filter = ContractFilter {
            car_id: Some(self.car.clone()),
            ..ContractFilter::default()
        };
        let page = list_contracts(
            &*self.store,
            &filter,
            PageLimit::try_from(100).unwrap(),
            None,
        )
        .await
        .unwrap();
        assert!(page.next.is_none());
        page.items
    }

    /// The car's day slots: day -> holding contract id.
    async fn slots(&self) -> BTreeMap<String, String> {
        let mut query = Query::partition(None, format!("CAR#{}", self.car));
        query.sort = Some(SortCondition::BeginsWith("DAY#".into()));
        let mut slots = BTreeMap::new();
        loop {
            let page = self.store.query(query.clone()).await.unwrap();
            for item in page.items {
                slots.insert(
                    item["sk"].as_str().unwrap().to_owned(),
                    item["contractId"].as_str().unwrap().to_owned(),
                );
            }
            match page.last_evaluated_key {
                Some(next) => query.start_after = Some(next),
                None => return slots,
            }
        }
    }

    /// A stored counter of the car's or the customer's item.
    async fn counter(&self, key: Key, name: &str) -> i64 {
        let item = self.store.get(&key).await.unwrap().unwrap();
        item.get(name).and_then(|value| value.as_i64()).unwrap_or(0)
    }

    /// The car's `contractCount` and the customer's `openContracts`.
    async fn counters(&self) -> (i64, i64) {
        (
            self.counter(
                Key::new(format!("CAR#{}", self.car), "CAR"),
                "contractCount",
            )
            .await,
            self.counter(
                Key::new(format!("CUSTOMER#{}", self.customer), "CUSTOMER"),
                "openContracts",
            )
            .await,
        )
    }

    /// The invariant: the slots are exactly the days of the contracts that hold days, each day
    /// once, and the counters match the contracts.
    async fn assert_consistent(&self) {
        let contracts = self.contracts().await;
        let mut expected = BTreeMap::new();
        for contract in contracts.iter().filter(|c| c.status.holds_days()) {
            for held in contract.period().days() {
                let previous = expected.insert(format!("DAY#{held}"), contract.id.to_string());
                assert!(previous.is_none(), "two contracts hold {held}");
            }
        }
        assert_eq!(self.slots().await, expected, "the slots are the held days");
        let holding = contracts.iter().filter(|c| c.status.holds_days()).count() as i64;
        let open = contracts
            .iter()
            .filter(|c| matches!(c.status, ContractStatus::Reserved | ContractStatus::Active))
            .count() as i64;
        assert_eq!(self.counters().await, (holding, open), "the counters");
    }
}

async fn reserve(
    store: &Arc<dyn Store>,
    clock: &dyn Clock,
    staff: &Principal,
    car: &CarId,
    customer: &CustomerId,
    from: i64,
    to: i64,
) -> Result<Contract, DomainError> {
    let reservation = Reservation {
        car_id: car.clone(),
        customer_id: Some(customer.clone()),
        start_date: day(from),
        end_date: day(to),
    };
    let key = IdempotencyKey::parse(&uuid::Uuid::new_v4().to_string()).unwrap();
    let context = context_of(staff);
    let outcome = reserve_contract(
        &**store,
        clock,
        &UuidV7Ids,
        None,
        &context,
        &key,
        &reservation,
        respond,
    )
    .await?;
    match outcome {
        itinera::idempotency::Outcome::Created { value, .. } => Ok(*value),
        itinera::idempotency::Outcome::Replayed(_) => panic!("a fresh key replayed"),
    }
}

/// Spawns staff's reservation of days `from..=to` of the rental's car, made once `barrier`
/// releases it.
fn spawn_reservation(
    rental: &Rental,
    barrier: &Arc<Barrier>,
    (from, to): (i64, i64),
) -> tokio::task::JoinHandle<Result<Contract, DomainError>> {
    let (store, clock, barrier) = (
        Arc::clone(&rental.store),
        Arc::clone(&rental.clock),
        Arc::clone(barrier),
    );
    let (staff, car, customer) = (
        rental.staff.clone(),
        rental.car.clone(),
        rental.customer.clone(),
    );
    tokio::spawn(async move {
        barrier.wait().await;
        reserve(&store, &*clock, &staff, &car, &customer, from, to).await
    })
}

/// Runs `ranges` reservations at once, released together; answers the winners and the
/// refusals.
async fn reserve_together(
    rental: &Rental,
    ranges: Vec<(i64, i64)>,
) -> (Vec<Contract>, Vec<String>) {
    let barrier = Arc::new(Barrier::new(ranges.len()));
    let tasks: Vec<_> = ranges
        .into_iter()
        .map(|(from, to)| spawn_reservation(rental, &barrier, (from, to)))
        .collect();
    let (mut won, mut refused) = (Vec::new(), Vec::new());
    for task in tasks {
        match task.await.unwrap() {
            Ok(contract) => won.push(contract),
            Err(DomainError::Conflict { detail }) => refused.push(detail),
            Err(other) => panic!("a reservation failed otherwise: {other:?}"),
        }
    }
    (won, refused)
}

async fn a_hundred_overlapping_reservations_of_one_car_make_one_contract(backend: Backend) {
    let rental = rental(&backend).await;
    // Every range holds day 10: [6..10] to [10..14], twenty of each.
    let ranges = (0..100).map(|n| (6 + n % 5, 10 + n % 5)).collect();
    let (won, refused) = reserve_together(&rental, ranges).await;
    assert_eq!(won.len(), 1, "exactly one reservation wins");
    assert_eq!(refused.len(), 99);
    assert!(
        refused
            .iter()
            .all(|detail| detail.contains("already rented")),
        "{refused:?}"
    );
    assert_eq!(won[0].total.amount(), 5 * 4_500);
    rental.assert_consistent().await;
}

async fn adjacent_ranges_both_succeed_and_cancelled_days_can_be_reserved_again(backend: Backend) {
    let rental = rental(&backend).await;
    let first = rental.reserve(1, 3).await.unwrap();
    let second = rental.reserve(4, 6).await.unwrap();
    assert!(matches!(
        rental.reserve(3, 4).await,
        Err(DomainError::Conflict { detail }) if detail.contains(&day(3).to_string())
    ));
    rental.assert_consistent().await;
    let cancelled = rental.cancel(&first).await.unwrap();
    assert_eq!(cancelled.status, ContractStatus::Cancelled);
    let again = rental.reserve(1, 3).await.unwrap();
    assert_ne!(again.id, first.id);
    assert_eq!(rental.contracts().await.len(), 3);
    rental.assert_consistent().await;
    assert_eq!(rental.counters().await, (2, 2));
    let _ = second;
}

async fn fifty_concurrent_cancels_free_the_days_once(backend: Backend) {
    let rental = rental(&backend).await;
    let contract = rental.reserve(2, 8).await.unwrap();
    let barrier = Arc::new(Barrier::new(50));
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (store, clock, context) = rental.staff_side();
            let (barrier, id) = (Arc::clone(&barrier), contract.id.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                cancel_contract(&*store, &*clock, &UuidV7Ids, &context, &id).await
            })
        })
        .collect();
    let (mut cancelled, mut refused) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => cancelled += 1,
            Err(DomainError::Conflict { detail }) => {
                assert!(detail.contains("cancelled"), "{detail}");
                refused += 1;
            }
            Err(other) => panic!("a cancel failed otherwise: {other:?}"),
        }
    }
    assert_eq!((cancelled, refused), (1, 49));
    assert!(rental.slots().await.is_empty());
    assert_eq!(rental.counters().await, (0, 0), "counted down once");
    rental.assert_consistent().await;
}

async fn a_date_change_racing_a_reservation_of_its_new_days_has_one_outcome(backend: Backend) {
    let rental = rental(&backend).await;
    for round in 0..5 {
        let base = 20 * round;
        let contract = rental.reserve(base + 1, base + 3).await.unwrap();
        let barrier = Arc::new(Barrier::new(2));
        let moving = {
            let (store, clock, context) = rental.staff_side();
            let (barrier, id) = (Arc::clone(&barrier), contract.id.clone());
            let dates = NewDates {
                start_date: Some(day(base + 4)),
                end_date: Some(day(base + 6)),
            };
            tokio::spawn(async move {
                barrier.wait().await;
                reschedule_contract(
                    &*store,
                    &*clock,
                    &UuidV7Ids,
                    &context,
                    &id,
                    dates,
                    &Precondition::None,
                )
                .await
            })
        };
        let reserving = spawn_reservation(&rental, &barrier, (base + 5, base + 7));
        let (moved, reserved) = (moving.await.unwrap(), reserving.await.unwrap());
        assert!(
            moved.is_ok() != reserved.is_ok(),
            "exactly one wins: {moved:?} / {reserved:?}"
        );
        let loser = moved.as_ref().err().or(reserved.as_ref().err()).unwrap();
        assert!(matches!(loser, DomainError::Conflict { .. }), "{loser:?}");
        rental.assert_consistent().await;
    }
}

async fn a_date_change_keeps_shared_days_and_a_conflict_changes_nothing(backend: Backend) {
    let rental = rental(&backend).await;
    let contract = rental.reserve(1, 5).await.unwrap();
    let other = rental.reserve(10, 12).await.unwrap();
    let moved = rental
        .reschedule(
            &contract,
            (3, 7),
            &Precondition::OneOf(vec![contract.version]),
        )
        .await
        .unwrap();
    assert_eq!((moved.start_date, moved.end_date), (day(3), day(7)));
    assert_eq!(moved.total.amount(), 5 * 4_500);
    rental.assert_consistent().await;
    let stale = rental
        .reschedule(
            &contract,
            (4, 8),
            &Precondition::OneOf(vec![contract.version]),
        )
        .await;
    assert!(
        matches!(stale, Err(DomainError::PreconditionFailed { .. })),
        "{stale:?}"
    );
    let clash = rental
        .reschedule(&contract, (6, 11), &Precondition::None)
        .await;
    assert!(
        matches!(&clash, Err(DomainError::Conflict { detail }) if detail.contains(&day(10).to_string())),
        "{clash:?}"
    );
    rental.assert_consistent().await;
    let slots = rental.slots().await;
    assert_eq!(slots.len(), 5 + 3, "nothing changed");
    assert_eq!(slots[&format!("DAY#{}", day(10))], other.id.to_string());
}

async fn ninety_day_rentals_work_and_moves_beyond_one_transaction_are_refused(backend: Backend) {
    let rental = rental(&backend).await;
    let long = rental.reserve(1, 90).await.unwrap();
    assert_eq!(long.total.amount(), 90 * 4_500);
    assert_eq!(rental.slots().await.len(), 90);
    assert!(matches!(
        rental.reserve(100, 190).await,
        Err(DomainError::Invalid {
            field: "endDate",
            ..
        })
    ));
    let refused = rental
        .reschedule(&long, (200, 289), &Precondition::None)
        .await;
    assert!(
        matches!(&refused, Err(DomainError::Invalid { message, .. }) if message.contains(&MAX_MOVED_DAYS.to_string())),
        "{refused:?}"
    );
    // Moving by 40 days frees 40 and takes 40: it fits.
    rental
        .reschedule(&long, (41, 130), &Precondition::None)
        .await
        .unwrap();
    rental.assert_consistent().await;
    let cancelled = rental.cancel(&rental.contracts().await[0]).await.unwrap();
    assert_eq!(cancelled.status, ContractStatus::Cancelled);
    assert!(rental.slots().await.is_empty());
}

async fn pickup_and_a_late_return_complete_the_contract(backend: Backend) {
    let rental = rental(&backend).await;
    let contract = rental.reserve(1, 3).await.unwrap();
    let blocking = rental.reserve(6, 8).await.unwrap();
    let context = context_of(&rental.staff);
    let early = pick_up_contract(
        &*rental.store,
        &*rental.clock,
        &UuidV7Ids,
        &context,
        &contract.id,
        Mileage::try_from(1_000).unwrap(),
    )
    .await;
    assert!(
        matches!(early, Err(DomainError::Conflict { .. })),
        "{early:?}"
    );
    rental.clock.advance(TimeDelta::days(1));
    let low = pick_up_contract(
        &*rental.store,
        &*rental.clock,
        &UuidV7Ids,
        &context,
        &contract.id,
        Mileage::try_from(999).unwrap(),
    )
    .await;
    assert!(
        matches!(
            low,
            Err(DomainError::Invalid {
                field: "mileage",
                ..
            })
        ),
        "{low:?}"
    );
    let active = pick_up_contract(
        &*rental.store,
        &*rental.clock,
        &UuidV7Ids,
        &context,
        &contract.id,
        Mileage::try_from(1_010).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(active.status, ContractStatus::Active);
    let car: itinera::cars::Car = itinera::cars::get_car(&*rental.store, &rental.car)
        .await
        .unwrap();
    assert_eq!(car.status, itinera::cars::CarStatus::Rented);
    // Back on day 6: three days late, the third held by another contract.
    rental.clock.advance(TimeDelta::days(5));
    let returned = Return {
        mileage: Mileage::try_from(1_900).unwrap(),
        fuel_level: itinera::contracts::FuelLevel::try_from(75).unwrap(),
        damages: None,
    };
    let completed = return_contract(
        &*rental.store,
        &*rental.clock,
        &UuidV7Ids,
        &context,
        &contract.id,
        &returned,
    )
    .await
    .unwrap();
    assert_eq!(completed.status, ContractStatus::Completed);
    assert_eq!(completed.late_days, Some(3));
    assert_eq!(completed.total.amount(), 6 * 4_500);
    assert_eq!(completed.overrun_conflict_from, Some(day(6)));
    let slots = rental.slots().await;
    assert_eq!(slots[&format!("DAY#{}", day(5))], contract.id.to_string());
    assert_eq!(slots[&format!("DAY#{}", day(6))], blocking.id.to_string());
    let car: itinera::cars::Car = itinera::cars::get_car(&*rental.store, &rental.car)
        .await
        .unwrap();
    assert_eq!(car.status, itinera::cars::CarStatus::Available);
    assert_eq!(car.mileage.get(), 1_900);
    assert_eq!(
        rental.counters().await,
        (2, 1),
        "the completed contract is closed"
    );
}

on_both_families!(
    a_hundred_overlapping_reservations_of_one_car_make_one_contract,
    adjacent_ranges_both_succeed_and_cancelled_days_can_be_reserved_again,
    fifty_concurrent_cancels_free_the_days_once,
    a_date_change_racing_a_reservation_of_its_new_days_has_one_outcome,
    a_date_change_keeps_shared_days_and_a_conflict_changes_nothing,
    ninety_day_rentals_work_and_moves_beyond_one_transaction_are_refused,
    pickup_and_a_late_return_complete_the_contract,
);
