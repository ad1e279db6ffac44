//! Bookings under concurrency, on both store families: the embedded store and DynamoDB (moto at
//! `ITINERA_TEST_DYNAMODB_ENDPOINT`, a fresh table per test). The use cases run directly, on a
//! multi-threaded runtime, released together by a barrier: the API's rate limits would only get
//! in the way of hundreds of requests from one client.
//!
//! What must hold whatever the interleaving: seats are never oversold, seats come back exactly
//! once, and a hold racing its payment ends with exactly one outcome, paid and confirmed or
//! expired and not charged, with the flight's `remainingSeats` plus the seats of live bookings
//! always equal to its `totalSeats`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::TimeDelta;
use itinera::bookings::{
    Booking, BookingFilter, BookingScope, BookingSettings, BookingStatus, cancel_booking,
    expire_holds, get_booking, list_bookings, pay_booking,
};
use itinera::clock::{Clock, UuidV7Ids};
use itinera::error::DomainError;
use itinera::flights::{Flight, FlightChanges, get_flight, update_flight};
use itinera::identity::{Principal, Role};
use itinera::money::Money;
use itinera::pagination::PageLimit;
use itinera::payments::{
    ChargeOutcome, ChargeRequest, PaymentError, PaymentGateway, RefundReceipt, RefundRequest,
    TestCardGateway,
};
use itinera::storage::{Store, StoreError};
use itinera::version::Precondition;
use itinera_embedded::EmbeddedStore;
use itinera_tests::faults::{Call, Fault, FaultKind, FaultyStore, InterferingStore};
use itinera_tests::{
    SettableClock, TickingClock, approved_payment, book_seats, context_of, fresh_dynamodb_store,
    pay_approved as pay, principal, seed_flight,
};
use tempfile::TempDir;
use tokio::sync::Barrier;

/// The fare per seat, in paise.
const FARE: i64 = 450_000;

/// How many scheduled expiry runs a lapsed hold may take to expire when runs collide.
const SETTLING_RUNS: usize = 5;

/// A store of one family, and what keeps it alive.
struct Backend {
    store: Arc<dyn Store>,
    /// How many rounds a scenario that repeats a race runs: fewer on moto, which is slower.
    rounds: u32,
    _data: Option<TempDir>,
}

fn embedded() -> Backend {
    let data = tempfile::tempdir().expect("temporary directory");
    let store = EmbeddedStore::open(data.path()).expect("embedded store opens");
    Backend {
        store: Arc::new(store),
        rounds: 40,
        _data: Some(data),
    }
}

async fn dynamodb() -> Backend {
    Backend {
        store: fresh_dynamodb_store().await,
        rounds: 20,
        _data: None,
    }
}

/// The faults of a contended table: every third booking transaction collides with another
/// (`TransactionConflict`), and, when `throttled`, every fifth is throttled. Both fail before the
/// store sees the transaction, as DynamoDB's cancellations do.
fn contention(throttled: bool) -> Vec<Fault> {
    let mut faults = vec![
        Fault::on(Call::Transact)
            .touching("BOOKING#")
            .with(FaultKind::Conflict)
            .every(3),
    ];
    if throttled {
        faults.push(
            Fault::on(Call::Transact)
                .touching("BOOKING#")
                .with(FaultKind::Throttled)
                .every(5),
        );
    }
    faults
}

/// `backend` behind a [`FaultyStore`] with `faults`, and the decorator, to check that the faults
/// fired.
fn contended(backend: Backend, faults: Vec<Fault>) -> (Backend, Arc<FaultyStore>) {
    let faulty = Arc::new(FaultyStore::new(backend.store));
    for fault in faults {
        faulty.inject(fault);
    }
    let store: Arc<dyn Store> = faulty.clone();
    (Backend { store, ..backend }, faulty)
}

/// Runs `scenario` on `backend` behind the contention faults, and checks that they fired.
async fn under_contention<F: std::future::Future<Output = ()>>(
    backend: Backend,
    throttled: bool,
    scenario: impl FnOnce(Backend) -> F,
) {
    let (backend, faulty) = contended(backend, contention(throttled));
    scenario(backend).await;
    assert!(faulty.injected() > 0, "no fault fired");
}

/// `who` cancels `booking`, refunded through the test-card gateway if it was paid.
async fn cancel(
    store: &dyn Store,
    clock: &dyn Clock,
    who: &Principal,
    booking: &Booking,
) -> Result<Booking, DomainError> {
    let context = context_of(who);
    cancel_booking(
        store,
        clock,
        &UuidV7Ids,
        &TestCardGateway,
        None,
        &context,
        &booking.id,
    )
    .await
}

/// Every booking of the flight still holding seats, and the seats they hold.
async fn live_seats(store: &dyn Store, flight: &Flight) -> (usize, u16) {
    let filter = BookingFilter {
        scope: BookingScope::Flight(flight.id.clone()),
        status: None,
        flight_id: None,
    };
    let (mut live, mut seats) = (0, 0);
    let mut start_after = None;
    loop {
        let page = list_bookings(
            store,
            &filter,
            PageLimit::try_from(100).unwrap(),
            start_after,
        )
        .await
        .unwrap();
        for booking in page.bookings.iter().filter(|b| b.status.holds_seats()) {
            live += 1;
            seats += u16::from(booking.seats.get());
        }
        match page.next {
            Some(next) => start_after = Some(next),
            None => return (live, seats),
        }
    }
}

async fn remaining(store: &dyn Store, flight: &Flight) -> u16 {
    get_flight(store, &flight.id).await.unwrap().remaining_seats
}

/// Spawns `owner`'s payment of `booking` with an approved card, made once `barrier` releases it.
fn pay_when_released(
    store: &Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    gateway: &Arc<CountingGateway>,
    barrier: &Arc<Barrier>,
    owner: &Principal,
    booking: &Booking,
) -> tokio::task::JoinHandle<Result<Booking, DomainError>> {
    let (store, gateway, barrier) = (Arc::clone(store), Arc::clone(gateway), Arc::clone(barrier));
    let (context, id, details) = (
        context_of(owner),
        booking.id.clone(),
        approved_payment(booking),
    );
    tokio::spawn(async move {
        barrier.wait().await;
        pay_booking(
            &*store, &*clock, &UuidV7Ids, &*gateway, None, &context, &id, &details,
        )
        .await
    })
}

/// The test-card gateway, counting approved charges and refunds per idempotency key.
#[derive(Default)]
struct CountingGateway {
    counts: Mutex<HashMap<String, (u32, u32)>>,
}

impl CountingGateway {
    /// Approved charges and refunds made under `key`.
    fn counts(&self, key: &str) -> (u32, u32) {
        self.counts
            .lock()
            .unwrap()
            .get(key)
            .copied()
            .unwrap_or_default()
    }
}

#[async_trait]
impl PaymentGateway for CountingGateway {
    async fn charge(&self, request: &ChargeRequest) -> Result<ChargeOutcome, PaymentError> {
        let outcome = TestCardGateway.charge(request).await?;
        if matches!(outcome, ChargeOutcome::Approved(_)) {
            let mut counts = self.counts.lock().unwrap();
            counts.entry(request.idempotency_key.clone()).or_default().0 += 1;
        }
        Ok(outcome)
    }

    async fn refund(&self, request: &RefundRequest) -> Result<RefundReceipt, PaymentError> {
        let receipt = TestCardGateway.refund(request).await?;
        let mut counts = self.counts.lock().unwrap();
        counts.entry(request.idempotency_key.clone()).or_default().1 += 1;
        Ok(receipt)
    }
}

async fn two_hundred_customers_race_for_ten_seats_and_ten_win(backend: Backend) {
    const CUSTOMERS: usize = 200;
    const SEATS: u16 = 10;
    let store = backend.store;
    let clock = Arc::new(SettableClock::now());
    let departure = clock.now() + TimeDelta::days(7);
    let flight = Arc::new(seed_flight(&*store, &*clock, &UuidV7Ids, SEATS, FARE, departure).await);
    let barrier = Arc::new(Barrier::new(CUSTOMERS));
    let tasks: Vec<_> = (0..CUSTOMERS)
        .map(|_| {
            let (store, clock, flight, barrier) = (
                Arc::clone(&store),
                Arc::clone(&clock),
                Arc::clone(&flight),
                Arc::clone(&barrier),
            );
            tokio::spawn(async move {
                let customer = principal(Role::Customer);
                barrier.wait().await;
                book_seats(&*store, &*clock, &customer, &flight, 1).await
            })
        })
        .collect();
    let (mut booked, mut refused) = (0, 0);
    for task in tasks {
        match task.await.expect("the task ran") {
            Ok(_) => booked += 1,
            Err(DomainError::Conflict { .. }) => refused += 1,
            // Under injected throttling a request whose every attempt was throttled is told to
            // retry later (a 503); like a refusal, it took nothing.
            Err(DomainError::Store(StoreError::Throttled(_))) => refused += 1,
            Err(other) => panic!("a booking failed with {other:?}"),
        }
    }
    assert_eq!(booked, usize::from(SEATS), "exactly the seats there are");
    assert_eq!(refused, CUSTOMERS - usize::from(SEATS));
    assert_eq!(remaining(&*store, &flight).await, 0);
    assert_eq!(
        live_seats(&*store, &flight).await,
        (usize::from(SEATS), SEATS)
    );
}

async fn fifty_concurrent_cancellations_return_the_seats_once(backend: Backend) {
    const CANCELLATIONS: usize = 50;
    let store = backend.store;
    let clock = Arc::new(SettableClock::now());
    let departure = clock.now() + TimeDelta::days(7);
    let flight = seed_flight(&*store, &*clock, &UuidV7Ids, 10, FARE, departure).await;
    let owner = principal(Role::Customer);
    let booking = book_seats(&*store, &*clock, &owner, &flight, 3)
        .await
        .unwrap();
    let gateway = Arc::new(CountingGateway::default());
    let context = context_of(&owner);
    pay_booking(
        &*store,
        &*clock,
        &UuidV7Ids,
        &*gateway,
        None,
        &context,
        &booking.id,
        &approved_payment(&booking),
    )
    .await
    .unwrap();
    assert_eq!(remaining(&*store, &flight).await, 7);
    let barrier = Arc::new(Barrier::new(CANCELLATIONS));
    let tasks: Vec<_> = (0..CANCELLATIONS)
        .map(|_| {
            let (store, clock, gateway, barrier, context, id) = (
                Arc::clone(&store),
                Arc::clone(&clock),
                Arc::clone(&gateway),
                Arc::clone(&barrier),
                context.clone(),
                booking.id.clone(),
            );
            tokio::spawn(async move {
                barrier.wait().await;
                cancel_booking(&*store, &*clock, &UuidV7Ids, &*gateway, None, &context, &id).await
            })
        })
        .collect();
    let (mut cancelled, mut refused) = (0, 0);
    for task in tasks {
        match task.await.expect("the task ran") {
            Ok(booking) => {
                assert_eq!(booking.refund.as_ref(), Some(&booking.total));
                cancelled += 1;
            }
            Err(DomainError::Conflict { .. }) => refused += 1,
            Err(other) => panic!("a cancellation failed with {other:?}"),
        }
    }
    assert_eq!(cancelled, 1, "exactly one cancellation applies");
    assert_eq!(refused, CANCELLATIONS - 1);
    assert_eq!(
        remaining(&*store, &flight).await,
        10,
        "the seats came back once"
    );
    let stored = get_booking(&*store, &owner, &booking.id).await.unwrap();
    assert_eq!(stored.status, BookingStatus::Cancelled);
    assert_eq!(stored.refund, Some(booking.total.clone()));
}

async fn expiry_racing_payment_ends_with_exactly_one_outcome(backend: Backend) {
    let rounds = backend.rounds;
    let store = backend.store;
    let clock = Arc::new(SettableClock::now());
    let total_seats = 2 * u16::try_from(rounds).unwrap();
    let departure = clock.now() + TimeDelta::days(7);
    let flight = seed_flight(&*store, &*clock, &UuidV7Ids, total_seats, FARE, departure).await;
    let gateway = Arc::new(CountingGateway::default());
    let (mut confirmed, mut expired) = (0, 0);
    for round in 0..rounds {
        let owner = principal(Role::Customer);
        let booking = book_seats(&*store, &*clock, &owner, &flight, 2)
            .await
            .unwrap();
        let hold = booking.hold_expires_at.expect("a pending booking's hold");
        // Every reading of the race clock is a millisecond later than the one before, starting
        // just before the hold's end: who reads first decides which side of it they are on.
        let race_clock = Arc::new(TickingClock::starting_at(
            hold - TimeDelta::milliseconds(i64::from(round % 6)),
        ));
        let barrier = Arc::new(Barrier::new(3));
        let expiries: Vec<_> = (0..2)
            .map(|_| {
                let (store, race_clock, barrier) = (
                    Arc::clone(&store),
                    Arc::clone(&race_clock),
                    Arc::clone(&barrier),
                );
                tokio::spawn(async move {
                    barrier.wait().await;
                    expire_holds(&*store, &*race_clock, &UuidV7Ids, None).await
                })
            })
            .collect();
        let payment = pay_when_released(
            &store,
            race_clock.clone(),
            &gateway,
            &barrier,
            &owner,
            &booking,
        );
        let mut expired_by_race = 0;
        for expiry in expiries {
            expired_by_race += expiry.await.expect("the task ran").expect("expiry runs");
        }
        let paid = match payment.await.expect("the task ran") {
            Ok(booking) => {
                assert_eq!(booking.status, BookingStatus::Confirmed);
                true
            }
            Err(DomainError::Conflict { .. }) => false,
            Err(other) => panic!("round {round}: the payment failed with {other:?}"),
        };
        assert!(expired_by_race <= 1, "round {round}: expired twice");
        // A hold neither side settled (everyone read the clock before its end, or the payment
        // read after it and the expiries before) is expired by the next run; a run whose
        // transaction collided leaves it to the run after.
        clock.set(hold + TimeDelta::seconds(1));
        let mut stored = get_booking(&*store, &owner, &booking.id).await.unwrap();
        for _ in 0..SETTLING_RUNS {
            if stored.status != BookingStatus::Pending {
                break;
            }
            expire_holds(&*store, &*clock, &UuidV7Ids, None)
                .await
                .unwrap();
            stored = get_booking(&*store, &owner, &booking.id).await.unwrap();
        }
        let (charges, refunds) = gateway.counts(booking.id.as_str());
        if paid {
            assert_eq!(stored.status, BookingStatus::Confirmed, "round {round}");
            assert_eq!(expired_by_race, 0, "round {round}: paid and expired");
            assert_eq!((charges, refunds), (1, 0), "round {round}");
            confirmed += 1;
        } else {
            assert_eq!(stored.status, BookingStatus::Expired, "round {round}");
            assert_eq!(charges, refunds, "round {round}: a charge was kept");
            expired += 1;
        }
        let (_, live) = live_seats(&*store, &flight).await;
        assert_eq!(
            remaining(&*store, &flight).await + live,
            total_seats,
            "round {round}: seats leaked"
        );
    }
    assert_eq!(confirmed + expired, rounds);
}

/// `count` flights of `seats` seats each, departing a day apart from a week on.
async fn flights(store: &dyn Store, clock: &dyn Clock, count: usize, seats: u16) -> Vec<Flight> {
    let mut flights = Vec::with_capacity(count);
    for day in 0..count {
        let departure = clock.now() + TimeDelta::days(7 + i64::try_from(day).unwrap());
        flights.push(seed_flight(store, clock, &UuidV7Ids, seats, FARE, departure).await);
    }
    flights
}

/// The detail of the 409 `outcome` must be.
fn conflict_detail(outcome: Result<Booking, DomainError>) -> String {
    match outcome {
        Err(DomainError::Conflict { detail }) => detail,
        other => panic!("expected a 409, got {other:?}"),
    }
}

async fn a_second_pending_booking_on_a_flight_is_a_409_naming_the_first(backend: Backend) {
    let store = backend.store;
    let clock = SettableClock::now();
    let flight = &flights(&*store, &clock, 1, 20).await[0];
    let owner = principal(Role::Customer);
    let first = book_seats(&*store, &clock, &owner, flight, 1)
        .await
        .unwrap();
    let detail = conflict_detail(book_seats(&*store, &clock, &owner, flight, 2).await);
    assert!(detail.contains(first.id.as_str()), "{detail}");
    assert_eq!(
        remaining(&*store, flight).await,
        19,
        "the refusal took no seats"
    );
    // Another customer is not affected, and once the first booking is paid its owner may book
    // the flight again.
    book_seats(&*store, &clock, &principal(Role::Customer), flight, 1)
        .await
        .unwrap();
    pay(&*store, &clock, &owner, &first).await.unwrap();
    book_seats(&*store, &clock, &owner, flight, 1)
        .await
        .unwrap();
}

/// Books one seat on each of `flights` for `who` and says which were refused by the cap.
async fn book_each(
    store: &dyn Store,
    clock: &dyn Clock,
    who: &Principal,
    flights: &[&Flight],
) -> Vec<Result<Booking, String>> {
    let mut outcomes = Vec::new();
    for flight in flights {
        outcomes.push(match book_seats(store, clock, who, flight, 1).await {
            Ok(booking) => Ok(booking),
            Err(DomainError::Conflict { detail }) => Err(detail),
            Err(other) => panic!("a booking failed with {other:?}"),
        });
    }
    outcomes
}

/// Checks that a repeated exit from `pending` (`again`) was refused and that the first freed
/// exactly one slot: of `[free, full]`, only the first flight can be booked.
async fn one_slot_was_freed(
    store: &dyn Store,
    clock: &dyn Clock,
    owner: &Principal,
    again: Result<Booking, DomainError>,
    [free, full]: [&Flight; 2],
) {
    assert!(
        matches!(again, Err(DomainError::Conflict { .. })),
        "the repeat is refused: {again:?}"
    );
    let outcomes = book_each(store, clock, owner, &[free, full]).await;
    assert!(outcomes[0].is_ok(), "{outcomes:?}");
    assert!(outcomes[1].is_err(), "one slot was freed: {outcomes:?}");
}

async fn the_fourth_pending_booking_is_a_409_and_pay_cancel_expiry_each_free_a_slot_once(
    backend: Backend,
) {
    let store = backend.store;
    let clock = SettableClock::now();
    let flights = flights(&*store, &clock, 4, 20).await;
    let [f1, f2, f3, f4] = [&flights[0], &flights[1], &flights[2], &flights[3]];
    let owner = principal(Role::Customer);
    let held = book_each(&*store, &clock, &owner, &[f1, f2, f3]).await;
    let [b1, b2, _b3] = [0, 1, 2].map(|i| held[i].clone().expect("under the cap"));
    let detail = conflict_detail(book_seats(&*store, &clock, &owner, f4, 1).await);
    assert!(detail.contains("3 unpaid bookings"), "{detail}");
    assert_eq!(
        remaining(&*store, f4).await,
        20,
        "the refusal took no seats"
    );

    // Paying frees one slot, once: paying again changes nothing.
    let paid = pay(&*store, &clock, &owner, &b1).await.unwrap();
    let again = pay(&*store, &clock, &owner, &b1).await;
    one_slot_was_freed(&*store, &clock, &owner, again, [f4, f1]).await;

    // Cancelling frees one slot, once: cancelling again changes nothing.
    cancel(&*store, &clock, &owner, &b2).await.unwrap();
    let again = cancel(&*store, &clock, &owner, &b2).await;
    one_slot_was_freed(&*store, &clock, &owner, again, [f2, f1]).await;
    // Cancelling the confirmed booking frees no slot: it held none.
    cancel(&*store, &clock, &owner, &paid).await.unwrap();
    assert!(book_seats(&*store, &clock, &owner, f1, 1).await.is_err());

    // Expiry frees the three slots of the three lapsed holds, once however often it runs.
    clock.advance(BookingSettings::default().hold + TimeDelta::seconds(1));
    assert_eq!(
        expire_holds(&*store, &clock, &UuidV7Ids, None)
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        expire_holds(&*store, &clock, &UuidV7Ids, None)
            .await
            .unwrap(),
        0
    );
    let outcomes = book_each(&*store, &clock, &owner, &[f1, f2, f3, f4]).await;
    let booked = outcomes.iter().filter(|outcome| outcome.is_ok()).count();
    assert_eq!(booked, 3, "{outcomes:?}");
    assert!(outcomes[3].is_err(), "{outcomes:?}");
}

async fn concurrent_creations_by_one_customer_never_exceed_the_cap(backend: Backend) {
    const FLIGHTS: usize = 6;
    const TRIES_PER_FLIGHT: usize = 3;
    let store = backend.store;
    let clock = Arc::new(SettableClock::now());
    let flights = flights(&*store, &*clock, FLIGHTS, 20).await;
    let owner = Arc::new(principal(Role::Customer));
    let barrier = Arc::new(Barrier::new(FLIGHTS * TRIES_PER_FLIGHT));
    let tasks: Vec<_> = flights
        .iter()
        .flat_map(|flight| std::iter::repeat_n(flight, TRIES_PER_FLIGHT))
        .map(|flight| {
            let (store, clock, owner, barrier, flight) = (
                Arc::clone(&store),
                Arc::clone(&clock),
                Arc::clone(&owner),
                Arc::clone(&barrier),
                flight.clone(),
            );
            tokio::spawn(async move {
                barrier.wait().await;
                book_seats(&*store, &*clock, &owner, &flight, 1).await
            })
        })
        .collect();
    let mut booked = Vec::new();
    for task in tasks {
        match task.await.expect("the task ran") {
            Ok(booking) => booked.push(booking),
            // Refused, or (under injected throttling) told to retry later: either took nothing.
            Err(DomainError::Conflict { .. } | DomainError::Store(StoreError::Throttled(_))) => {}
            Err(other) => panic!("a booking failed with {other:?}"),
        }
    }
    let cap = usize::try_from(BookingSettings::default().max_pending).unwrap();
    assert_eq!(booked.len(), cap, "pending bookings of one customer");
    let mut on: Vec<&str> = booked.iter().map(|b| b.flight_id.as_str()).collect();
    on.sort_unstable();
    on.dedup();
    assert_eq!(on.len(), cap, "one pending booking per flight");
    let mut taken = 0;
    for flight in &flights {
        taken += 20 - remaining(&*store, flight).await;
    }
    assert_eq!(usize::from(taken), cap, "refused attempts took no seats");
}

async fn a_reprice_between_the_read_and_the_transaction_sets_the_total(backend: Backend) {
    const NEW_FARE: i64 = 520_000;
    let clock = SettableClock::now();
    let flight = &flights(&*backend.store, &clock, 1, 10).await[0];
    let new_price = Money::new(NEW_FARE, flight.price.currency().clone()).unwrap();
    // A staff change landing between the booking's read of the flight and its transaction.
    let (id, price) = (flight.id.clone(), new_price.clone());
    let store = InterferingStore::before_transaction_touching(
        Arc::clone(&backend.store),
        "BOOKING#",
        move |inner| async move {
            let changes = FlightChanges::new(None, None, Some(price), None).expect("a change");
            update_flight(
                &*inner,
                &SettableClock::now(),
                &UuidV7Ids,
                None,
                &context_of(&principal(Role::Staff)),
                &id,
                &changes,
                &Precondition::None,
            )
            .await
            .expect("the flight is repriced");
        },
    );
    let booking = book_seats(&store, &clock, &principal(Role::Customer), flight, 2)
        .await
        .unwrap();
    assert!(store.interfered(), "the reprice ran");
    let now = get_flight(&*backend.store, &flight.id).await.unwrap();
    assert_eq!(now.price, new_price);
    assert_eq!(
        booking.total,
        new_price.times(2).unwrap(),
        "the total follows the price the seats were taken at"
    );
    assert_eq!(now.remaining_seats, 8);
}

async fn a_booking_throttled_at_every_attempt_is_a_503_and_writes_nothing(backend: Backend) {
    let clock = SettableClock::now();
    let flight = &flights(&*backend.store, &clock, 1, 10).await[0];
    let (backend, faulty) = contended(
        backend,
        vec![
            Fault::on(Call::Transact)
                .touching("BOOKING#")
                .with(FaultKind::Throttled)
                .every(1),
        ],
    );
    let owner = principal(Role::Customer);
    let outcome = book_seats(&*backend.store, &clock, &owner, flight, 2).await;
    assert!(
        matches!(outcome, Err(DomainError::Store(StoreError::Throttled(_)))),
        "{outcome:?}"
    );
    assert!(faulty.injected() > 1, "the booking was retried");
    faulty.heal();
    assert_eq!(remaining(&*backend.store, flight).await, 10);
    assert_eq!(live_seats(&*backend.store, flight).await, (0, 0));
    // Nothing was held: once the store answers, the customer books.
    book_seats(&*backend.store, &clock, &owner, flight, 2)
        .await
        .unwrap();
}

async fn concurrent_payments_confirm_once_and_free_one_slot(backend: Backend) {
    const PAYERS: usize = 10;
    let store = backend.store;
    let clock = Arc::new(SettableClock::now());
    let flights = flights(&*store, &*clock, 5, 10).await;
    let owner = principal(Role::Customer);
    let booking = book_seats(&*store, &*clock, &owner, &flights[0], 2)
        .await
        .unwrap();
    let gateway = Arc::new(CountingGateway::default());
    let barrier = Arc::new(Barrier::new(PAYERS));
    let tasks: Vec<_> = (0..PAYERS)
        .map(|_| pay_when_released(&store, clock.clone(), &gateway, &barrier, &owner, &booking))
        .collect();
    // A payer who reads the booking after it was confirmed is refused before any charge; every
    // other payer sees it confirmed by the one charge its key makes.
    let mut payments = Vec::new();
    for task in tasks {
        match task.await.expect("the task ran") {
            Ok(paid) => {
                assert_eq!(paid.status, BookingStatus::Confirmed);
                payments.push(paid.payment_id.expect("a payment id"));
            }
            Err(DomainError::Conflict { detail }) => {
                assert!(detail.contains("confirmed"), "{detail}");
            }
            Err(other) => panic!("a payment failed with {other:?}"),
        }
    }
    payments.dedup();
    assert_eq!(payments.len(), 1, "one charge confirmed the booking");
    let (_, refunds) = gateway.counts(booking.id.as_str());
    assert_eq!(refunds, 0, "the confirming charge was never refunded");
    let stored = get_booking(&*store, &owner, &booking.id).await.unwrap();
    assert_eq!(stored.status, BookingStatus::Confirmed);
    // The payment freed the booking's slot once: three new holds fit, a fourth does not.
    let rest: Vec<&Flight> = flights[1..].iter().collect();
    let outcomes = book_each(&*store, &*clock, &owner, &rest).await;
    let held = outcomes.iter().filter(|outcome| outcome.is_ok()).count();
    assert_eq!(held, 3, "{outcomes:?}");
    assert_eq!(remaining(&*store, &flights[0]).await, 8);
}

async fn ten_seats_go_to_ten_customers_through_conflicts_and_throttling(backend: Backend) {
    under_contention(
        backend,
        true,
        two_hundred_customers_race_for_ten_seats_and_ten_win,
    )
    .await;
}

async fn the_cap_holds_for_concurrent_creations_through_conflicts_and_throttling(backend: Backend) {
    under_contention(
        backend,
        true,
        concurrent_creations_by_one_customer_never_exceed_the_cap,
    )
    .await;
}

async fn concurrent_cancellations_return_the_seats_once_through_conflicts(backend: Backend) {
    under_contention(
        backend,
        false,
        fifty_concurrent_cancellations_return_the_seats_once,
    )
    .await;
}

async fn expiry_racing_payment_ends_with_one_outcome_through_conflicts(backend: Backend) {
    under_contention(
        backend,
        false,
        expiry_racing_payment_ends_with_exactly_one_outcome,
    )
    .await;
}

async fn concurrent_payments_confirm_once_and_free_one_slot_through_conflicts(backend: Backend) {
    under_contention(
        backend,
        false,
        concurrent_payments_confirm_once_and_free_one_slot,
    )
    .await;
}

/// A cancellation or an expiry run whose transaction is throttled writes nothing and fails (a
/// 503 for the request, a failed run for the scheduler); doing it again applies it once: the
/// seats come back once and the customer's slots are freed once.
async fn throttled_cancellation_and_expiry_apply_once_when_repeated(backend: Backend) {
    let clock = SettableClock::now();
    let flight = &flights(&*backend.store, &clock, 1, 10).await[0];
    let (backend, faulty) = contended(backend, Vec::new());
    let store = backend.store;
    let owner = principal(Role::Customer);
    let cancelled = book_seats(&*store, &clock, &owner, flight, 2)
        .await
        .unwrap();
    let mut others = Vec::new();
    for _ in 0..3 {
        let customer = principal(Role::Customer);
        others.push(
            book_seats(&*store, &clock, &customer, flight, 1)
                .await
                .unwrap(),
        );
    }
    assert_eq!(remaining(&*store, flight).await, 5);

    let throttle_once = || {
        Fault::on(Call::Transact)
            .touching("BOOKING#")
            .with(FaultKind::Throttled)
    };
    faulty.inject(throttle_once());
    let refused = cancel(&*store, &clock, &owner, &cancelled).await;
    assert!(
        matches!(refused, Err(DomainError::Store(StoreError::Throttled(_)))),
        "{refused:?}"
    );
    assert_eq!(remaining(&*store, flight).await, 5, "nothing was written");
    cancel(&*store, &clock, &owner, &cancelled).await.unwrap();
    assert_eq!(
        remaining(&*store, flight).await,
        7,
        "the seats came back once"
    );
    // The owner's slot on the flight was freed: they may book it again.
    let rebooked = book_seats(&*store, &clock, &owner, flight, 1)
        .await
        .unwrap();
    cancel(&*store, &clock, &owner, &rebooked).await.unwrap();

    clock.advance(BookingSettings::default().hold + TimeDelta::seconds(1));
    faulty.heal();
    faulty.inject(throttle_once().after(1));
    let run = expire_holds(&*store, &clock, &UuidV7Ids, None).await;
    assert!(
        matches!(run, Err(DomainError::Store(StoreError::Throttled(_)))),
        "{run:?}"
    );
    // The failed run expired the first hold before its second transaction was throttled.
    let mut expired = 1;
    for _ in 0..SETTLING_RUNS {
        expired += expire_holds(&*store, &clock, &UuidV7Ids, None)
            .await
            .unwrap();
    }
    assert_eq!(expired, others.len(), "every lapsed hold expired once");
    assert_eq!(
        remaining(&*store, flight).await,
        10,
        "every seat is back, once"
    );
    assert_eq!(live_seats(&*store, flight).await, (0, 0));
}

/// Runs each scenario on a fresh embedded store and on a fresh DynamoDB table, on a
/// multi-threaded runtime so that the racing tasks really run at once.
macro_rules! on_both_stores {
    ($($scenario:ident),+ $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $scenario() {
                    super::$scenario(super::embedded()).await;
                }
            )+
        }

        mod dynamodb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $scenario() {
                    super::$scenario(super::dynamodb().await).await;
                }
            )+
        }
    };
}

on_both_stores!(
    two_hundred_customers_race_for_ten_seats_and_ten_win,
    fifty_concurrent_cancellations_return_the_seats_once,
    expiry_racing_payment_ends_with_exactly_one_outcome,
    concurrent_payments_confirm_once_and_free_one_slot,
    a_second_pending_booking_on_a_flight_is_a_409_naming_the_first,
    the_fourth_pending_booking_is_a_409_and_pay_cancel_expiry_each_free_a_slot_once,
    concurrent_creations_by_one_customer_never_exceed_the_cap,
    a_reprice_between_the_read_and_the_transaction_sets_the_total,
    ten_seats_go_to_ten_customers_through_conflicts_and_throttling,
    the_cap_holds_for_concurrent_creations_through_conflicts_and_throttling,
    concurrent_cancellations_return_the_seats_once_through_conflicts,
    expiry_racing_payment_ends_with_one_outcome_through_conflicts,
    concurrent_payments_confirm_once_and_free_one_slot_through_conflicts,
    a_booking_throttled_at_every_attempt_is_a_503_and_writes_nothing,
    throttled_cancellation_and_expiry_apply_once_when_repeated,
);
