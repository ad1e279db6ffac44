//! Money and bookings balance whatever fails between the provider and the store, on both store
//! families: a charge ends in a confirmed booking or in a refund, and a refund is only ever made
//! for a booking that is not confirmed.
//!
//! The store is made to fail (with `FaultyStore`) between the charge and the commit that confirms
//! the booking, and between a cancellation and its refund; the ledger-keeping gateway counts what
//! the provider did. Then recovery runs as it does in production: the outbox relay sends what the
//! requests left staged, and the worker runs it.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::TimeDelta;
use itinera::background::RELAY_MIN_AGE;
use itinera::bookings::{Booking, BookingId, BookingStatus, expire_holds, get_booking};
use itinera::clock::{Clock, UuidV7Ids};
use itinera::error::DomainError;
use itinera::flights::{Flight, get_flight};
use itinera::identity::{Principal, Role};
use itinera::jobs::{
    Delivery, JobQueue, QueueError, QueueMessage, WorkerServices, outbox, process_batch,
};
use itinera::payments::{
    ChargeLookup, ChargeOutcome, ChargeRequest, Payment, PaymentError, PaymentGateway,
    RefundReceipt, RefundRequest,
};
use itinera::storage::Store;
use itinera_tests::faults::{Call, Fault, FaultyStore, Timing};
use itinera_tests::ledger::LedgerGateway;
use itinera_tests::{
    Backend, SettableClock, approved_payment, book_seats, cancel_as, context_of, pay_as, principal,
    seed_flight,
};

/// The fare per seat, in paise.
const FARE: i64 = 450_000;

/// Transactions that carry an audit entry: the ones that confirm or cancel a booking (the
/// intents' own transactions and the refund's record carry none).
const CHANGES_A_BOOKING: &str = "AUDIT#";

/// A queue that keeps what it is sent, for the test to hand to the worker.
#[derive(Default)]
pub(crate) struct MemoryQueue {
    messages: Mutex<Vec<QueueMessage>>,
}

impl MemoryQueue {
    /// The messages sent since the last take.
    pub(crate) fn take(&self) -> Vec<QueueMessage> {
        std::mem::take(&mut *self.messages.lock().unwrap())
    }

    /// The bodies of the messages sent and not taken yet.
    pub(crate) fn bodies(&self) -> Vec<String> {
        let messages = self.messages.lock().unwrap();
        messages
            .iter()
            .map(|message| message.body.clone())
            .collect()
    }
}

#[async_trait]
impl JobQueue for MemoryQueue {
    async fn send(&self, messages: Vec<QueueMessage>) -> Result<(), QueueError> {
        self.messages.lock().unwrap().extend(messages);
        Ok(())
    }
}

/// A mailer for users that do not exist: the worker never reaches it.
pub(crate) struct NoMail;

#[async_trait]
impl itinera::mail::Mailer for NoMail {
    async fn send(&self, _: &itinera::mail::Email) -> Result<(), itinera::mail::MailError> {
        Ok(())
    }
}

/// The worker's services for recovery, over `store`.
fn recovery_services(
    store: &Arc<dyn Store>,
    clock: &Arc<SettableClock>,
    payments: Arc<dyn itinera::payments::PaymentProvider>,
    mailer: Arc<dyn itinera::mail::Mailer>,
) -> WorkerServices {
    WorkerServices {
        store: Arc::clone(store),
        clock: clock.clone(),
        ids: Arc::new(UuidV7Ids),
        mailer,
        payments,
    }
}

/// One round of recovery: the clock moves past the relay's minimum age, the relay sends what the
/// outbox holds, and the worker runs it together with the messages that failed before (which the
/// queue would deliver again). Returns the bodies of the messages that ran and the messages that
/// failed. A relay that fails (under injected faults) sends nothing this round.
async fn recovery_round(
    services: &WorkerServices,
    clock: &SettableClock,
    mut messages: Vec<QueueMessage>,
) -> (Vec<String>, Vec<QueueMessage>) {
    let queue = MemoryQueue::default();
    clock.advance(RELAY_MIN_AGE + TimeDelta::seconds(1));
    if let Err(error) = outbox::relay(&*services.store, clock, &queue, RELAY_MIN_AGE).await {
        expect_injected(&error);
    }
    messages.extend(queue.take());
    let deliveries: Vec<Delivery> = messages
        .iter()
        .map(|message| Delivery {
            message_id: message.id.clone(),
            receipt: message.id.clone(),
            body: message.body.clone(),
            receive_count: 1,
        })
        .collect();
    let ran = messages
        .iter()
        .map(|message| message.body.clone())
        .collect();
    let failed = process_batch(services, deliveries).await;
    messages.retain(|message| failed.contains(&message.id));
    (ran, messages)
}

/// A relay failure under injected faults (an outage, throttling) is expected: the next round
/// relays again. Anything else is a bug.
fn expect_injected(error: &itinera::storage::StoreError) {
    assert!(
        !matches!(error, itinera::storage::StoreError::Internal(_)),
        "the relay failed unexpectedly: {error:?}"
    );
}

/// Recovery as production runs it, until nothing is left, on a healthy store: every job must
/// complete. Returns how many jobs ran.
pub(crate) async fn recover(
    store: &Arc<dyn Store>,
    clock: &Arc<SettableClock>,
    payments: Arc<dyn itinera::payments::PaymentProvider>,
    mailer: Arc<dyn itinera::mail::Mailer>,
) -> usize {
    recover_queued(store, clock, payments, mailer, Vec::new())
        .await
        .len()
}

/// [`recover`], with the messages requests sent to the queue delivered to the worker in its first
/// round, as the queue would deliver them. Returns the bodies of every message the worker ran.
pub(crate) async fn recover_queued(
    store: &Arc<dyn Store>,
    clock: &Arc<SettableClock>,
    payments: Arc<dyn itinera::payments::PaymentProvider>,
    mailer: Arc<dyn itinera::mail::Mailer>,
    mut queued: Vec<QueueMessage>,
) -> Vec<String> {
    let services = recovery_services(store, clock, payments, mailer);
    let mut total = Vec::new();
    for _ in 0..10 {
        let (ran, failed) = recovery_round(&services, clock, std::mem::take(&mut queued)).await;
        assert!(
            failed.is_empty(),
            "every recovery job completes: {failed:?}"
        );
        if ran.is_empty() {
            return total;
        }
        total.extend(ran);
    }
    panic!("recovery did not settle within ten rounds");
}

/// Every charge the provider made ended in a confirmed booking or in a refund, and no booking that
/// is confirmed was refunded.
async fn assert_balanced(store: &dyn Store, gateway: &LedgerGateway, owner: &Principal) {
    for key in gateway.keys() {
        let id = BookingId::parse(&key).expect("the ledger is keyed by booking id");
        let booking = get_booking(store, owner, &id).await.unwrap();
        let entry = gateway.entry(&key);
        assert!(entry.charges <= 1, "{key}: charged twice");
        assert!(
            entry.refunds <= entry.charges,
            "{key}: a refund without a charge"
        );
        let kept = entry.charges - entry.refunds;
        match booking.status {
            BookingStatus::Confirmed => {
                assert_eq!(kept, 1, "{key}: a confirmed booking is paid, once");
                assert_eq!(booking.refund, None, "{key}");
            }
            status => assert_eq!(kept, 0, "{key}: a charge was kept for a {status} booking"),
        }
        if booking.status == BookingStatus::Cancelled && entry.refunds == 1 {
            assert!(
                booking.refunded_at.is_some(),
                "{key}: the refund is recorded"
            );
        }
    }
}

struct Scene {
    faulty: Arc<FaultyStore>,
    store: Arc<dyn Store>,
    clock: Arc<SettableClock>,
    gateway: Arc<LedgerGateway>,
    owner: Principal,
    flight: Flight,
    _backend: Backend,
}

impl Scene {
    async fn new(backend: Backend) -> Self {
        let clock = Arc::new(SettableClock::now());
        let departure = clock.now() + TimeDelta::days(3);
        let flight = seed_flight(&*backend.store, &*clock, &UuidV7Ids, 10, FARE, departure).await;
        let faulty = Arc::new(FaultyStore::new(Arc::clone(&backend.store)));
        Self {
            store: faulty.clone(),
            faulty,
            clock,
            gateway: Arc::new(LedgerGateway::default()),
            owner: principal(Role::Customer),
            flight,
            _backend: backend,
        }
    }

    /// The store fails the next transaction that confirms or cancels a booking, before applying
    /// it or after.
    fn fail_next_booking_change(&self, timing: Timing) {
        self.faulty.inject(
            Fault::on(Call::Transact)
                .touching(CHANGES_A_BOOKING)
                .timing(timing),
        );
    }

    async fn book(&self) -> Booking {
        book_seats(&*self.store, &*self.clock, &self.owner, &self.flight, 2)
            .await
            .unwrap()
    }

    async fn pay(&self, booking: &Booking) -> Result<Booking, DomainError> {
        pay_as(
            &*self.store,
            &*self.clock,
            &*self.gateway,
            &self.owner,
            booking,
        )
        .await
    }

    async fn cancel(&self, booking: &Booking) -> Result<Booking, DomainError> {
        cancel_as(
            &*self.store,
            &*self.clock,
            &*self.gateway,
            &self.owner,
            booking,
        )
        .await
    }

    async fn recover(&self) -> usize {
        recover(
            &self.store,
            &self.clock,
            self.gateway.clone(),
            Arc::new(NoMail),
        )
        .await
    }

    async fn status(&self, booking: &Booking) -> Booking {
        get_booking(&*self.store, &self.owner, &booking.id)
            .await
            .unwrap()
    }

    async fn assert_balanced(&self) {
        assert_balanced(&*self.store, &self.gateway, &self.owner).await;
        // Seats and bookings agree too: the flight's free seats plus the seats live bookings hold.
        let remaining = get_flight(&*self.store, &self.flight.id)
            .await
            .unwrap()
            .remaining_seats;
        let mut held = 0;
        for key in self.gateway.keys() {
            let id = BookingId::parse(&key).unwrap();
            let booking = get_booking(&*self.store, &self.owner, &id).await.unwrap();
            if booking.status.holds_seats() {
                held += u16::from(booking.seats.get());
            }
        }
        assert_eq!(remaining + held, 10, "seats leaked or were returned twice");
    }
}

async fn a_charge_whose_confirmation_fails_is_confirmed_by_recovery(backend: Backend) {
    let scene = Scene::new(backend).await;
    let booking = scene.book().await;
    // The store fails the transaction that confirms the booking, after the provider charged.
    scene.fail_next_booking_change(Timing::Before);
    let outcome = scene.pay(&booking).await;
    assert!(matches!(outcome, Err(DomainError::Store(_))), "{outcome:?}");
    assert_eq!(scene.gateway.entry(booking.id.as_str()).charges, 1);
    scene.faulty.heal();

    assert!(scene.recover().await >= 1);
    let stored = scene.status(&booking).await;
    assert_eq!(
        stored.status,
        BookingStatus::Confirmed,
        "finished by recovery"
    );
    assert_eq!(scene.gateway.entry(booking.id.as_str()).refunds, 0);
    scene.assert_balanced().await;
    // Recovery has nothing left to do: running it again changes nothing.
    assert_eq!(scene.recover().await, 0);
}

async fn a_charge_whose_hold_lapsed_before_recovery_is_refunded(backend: Backend) {
    let scene = Scene::new(backend).await;
    let booking = scene.book().await;
    scene.fail_next_booking_change(Timing::Before);
    assert!(scene.pay(&booking).await.is_err());
    scene.faulty.heal();
    // Nothing runs until the hold has lapsed and the expiry job took the seats back.
    scene
        .clock
        .set(booking.hold_expires_at.unwrap() + TimeDelta::seconds(1));
    expire_holds(&*scene.store, &*scene.clock, &UuidV7Ids, None)
        .await
        .unwrap();
    assert_eq!(scene.status(&booking).await.status, BookingStatus::Expired);

    scene.recover().await;
    let entry = scene.gateway.entry(booking.id.as_str());
    assert_eq!(
        (entry.charges, entry.refunds),
        (1, 1),
        "the charge went back"
    );
    assert_eq!(scene.status(&booking).await.status, BookingStatus::Expired);
    scene.assert_balanced().await;
}

async fn a_charge_whose_answer_was_lost_is_settled_by_recovery(backend: Backend) {
    let scene = Scene::new(backend).await;
    let booking = scene.book().await;
    // The provider charged, but its answer never arrived: the request cannot know.
    scene.gateway.lose_charge_answers(1);
    let outcome = scene.pay(&booking).await;
    assert!(matches!(outcome, Err(DomainError::Store(_))), "{outcome:?}");
    scene.recover().await;
    assert_eq!(
        scene.status(&booking).await.status,
        BookingStatus::Confirmed
    );
    scene.assert_balanced().await;
}

async fn a_confirmation_committed_but_reported_failed_is_paid_once(backend: Backend) {
    let scene = Scene::new(backend).await;
    let booking = scene.book().await;
    // DynamoDB applied the transaction, and the answer was lost on the way back.
    scene.fail_next_booking_change(Timing::After);
    assert!(scene.pay(&booking).await.is_err());
    scene.faulty.heal();
    // The customer retries: the booking is confirmed already.
    let retried = scene.pay(&booking).await;
    assert!(
        matches!(retried, Err(DomainError::Conflict { ref detail }) if detail.contains("confirmed")),
        "{retried:?}"
    );
    scene.recover().await;
    assert_eq!(
        scene.status(&booking).await.status,
        BookingStatus::Confirmed
    );
    assert_eq!(
        scene.gateway.entry(booking.id.as_str()),
        itinera_tests::ledger::Entry {
            charges: 1,
            refunds: 0,
            refund_requests: 0
        }
    );
    scene.assert_balanced().await;
}

async fn a_cancellation_whose_commit_fails_refunds_nothing(backend: Backend) {
    let scene = Scene::new(backend).await;
    let booking = scene.book().await;
    scene.pay(&booking).await.unwrap();
    scene.fail_next_booking_change(Timing::Before);
    let outcome = scene.cancel(&booking).await;
    assert!(matches!(outcome, Err(DomainError::Store(_))), "{outcome:?}");
    scene.faulty.heal();
    assert_eq!(
        scene.gateway.entry(booking.id.as_str()).refunds,
        0,
        "no refund before the cancellation is durable"
    );
    scene.recover().await;
    assert_eq!(
        scene.status(&booking).await.status,
        BookingStatus::Confirmed
    );
    scene.assert_balanced().await;

    // The customer retries, and this time it goes through.
    let cancelled = scene.cancel(&booking).await.unwrap();
    assert_eq!(cancelled.refund, Some(booking.total.clone()));
    assert!(cancelled.refunded_at.is_some());
    scene.assert_balanced().await;
}

async fn a_cancellation_committed_but_reported_failed_is_refunded_by_recovery(backend: Backend) {
    let scene = Scene::new(backend).await;
    let booking = scene.book().await;
    scene.pay(&booking).await.unwrap();
    // The cancellation commits, and its answer is lost: the request never reaches the refund.
    scene.fail_next_booking_change(Timing::After);
    let outcome = scene.cancel(&booking).await;
    assert!(matches!(outcome, Err(DomainError::Store(_))), "{outcome:?}");
    scene.faulty.heal();
    let stored = scene.status(&booking).await;
    assert_eq!(stored.status, BookingStatus::Cancelled);
    assert_eq!(
        stored.refund,
        Some(booking.total.clone()),
        "the refund is owed"
    );
    assert_eq!(scene.gateway.entry(booking.id.as_str()).refunds, 0);

    scene.recover().await;
    assert_eq!(scene.gateway.entry(booking.id.as_str()).refunds, 1);
    assert!(scene.status(&booking).await.refunded_at.is_some());
    scene.assert_balanced().await;
}

async fn a_refund_whose_record_fails_is_recorded_by_recovery(backend: Backend) {
    let scene = Scene::new(backend).await;
    let booking = scene.book().await;
    scene.pay(&booking).await.unwrap();
    // The cancellation commits; the provider refunds; the store fails the refund's record.
    scene.faulty.inject(
        Fault::on(Call::Transact)
            .touching("BOOKING#")
            .after(1)
            .timing(Timing::Before),
    );
    let cancelled = scene.cancel(&booking).await.unwrap();
    assert_eq!(cancelled.status, BookingStatus::Cancelled);
    assert_eq!(
        cancelled.refunded_at, None,
        "the refund is not recorded yet"
    );
    assert_eq!(scene.faulty.injected(), 1);
    scene.faulty.heal();

    scene.recover().await;
    let stored = scene.status(&booking).await;
    assert!(stored.refunded_at.is_some(), "recovery recorded the refund");
    assert_eq!(scene.gateway.entry(booking.id.as_str()).refunds, 1);
    scene.assert_balanced().await;
}

async fn a_refund_the_provider_could_not_make_is_made_by_recovery(backend: Backend) {
    let scene = Scene::new(backend).await;
    let booking = scene.book().await;
    scene.pay(&booking).await.unwrap();
    scene.gateway.fail_refunds(3);
    let cancelled = scene.cancel(&booking).await.unwrap();
    assert_eq!(cancelled.status, BookingStatus::Cancelled);
    assert_eq!(
        cancelled.refund,
        Some(booking.total.clone()),
        "the refund owed"
    );
    assert_eq!(cancelled.refunded_at, None);
    assert_eq!(scene.gateway.entry(booking.id.as_str()).refunds, 0);
    assert_eq!(
        get_flight(&*scene.store, &scene.flight.id)
            .await
            .unwrap()
            .remaining_seats,
        10,
        "the seats came back with the cancellation"
    );

    scene.recover().await;
    assert_eq!(scene.gateway.entry(booking.id.as_str()).refunds, 1);
    assert!(scene.status(&booking).await.refunded_at.is_some());
    scene.assert_balanced().await;
}

/// The gateway of the payment-versus-expiry race: while the provider charges, the hold lapses and
/// the expiry job runs, and the provider is then unreachable for refunds.
struct ExpiresDuringTheCharge {
    ledger: Arc<LedgerGateway>,
    store: Arc<dyn Store>,
    clock: Arc<SettableClock>,
    hold_ends: chrono::DateTime<chrono::Utc>,
}

#[async_trait]
impl PaymentGateway for ExpiresDuringTheCharge {
    async fn charge(&self, request: &ChargeRequest) -> Result<ChargeOutcome, PaymentError> {
        self.clock.set(self.hold_ends + TimeDelta::seconds(1));
        let expired = expire_holds(&*self.store, &*self.clock, &UuidV7Ids, None)
            .await
            .expect("expiry runs");
        assert_eq!(
            expired, 1,
            "the hold expired while the payment was in flight"
        );
        self.ledger.fail_refunds(3);
        self.ledger.charge(request).await
    }

    async fn refund(&self, request: &RefundRequest) -> Result<RefundReceipt, PaymentError> {
        self.ledger.refund(request).await
    }
}

#[async_trait]
impl ChargeLookup for ExpiresDuringTheCharge {
    async fn find_charge(&self, key: &str) -> Result<Option<Payment>, PaymentError> {
        self.ledger.find_charge(key).await
    }
}

async fn a_hold_expiring_while_its_payment_is_in_flight_ends_balanced(backend: Backend) {
    let scene = Scene::new(backend).await;
    let booking = scene.book().await;
    let racing = ExpiresDuringTheCharge {
        ledger: scene.gateway.clone(),
        store: scene.store.clone(),
        clock: scene.clock.clone(),
        hold_ends: booking.hold_expires_at.unwrap(),
    };
    let outcome = itinera::bookings::pay_booking(
        &*scene.store,
        &*scene.clock,
        &UuidV7Ids,
        &racing,
        None,
        &context_of(&scene.owner),
        &booking.id,
        &approved_payment(&booking),
    )
    .await;
    assert!(outcome.is_err(), "{outcome:?}");
    assert_eq!(scene.status(&booking).await.status, BookingStatus::Expired);
    assert_eq!(scene.gateway.entry(booking.id.as_str()).charges, 1);

    scene.recover().await;
    let entry = scene.gateway.entry(booking.id.as_str());
    assert_eq!((entry.charges, entry.refunds), (1, 1));
    scene.assert_balanced().await;
}

/// The gateway of a charge that outlives its intent: while the provider charges, the worker
/// (having found no charge yet) closes the payment's intent.
struct ClosesTheIntentDuringTheCharge {
    ledger: Arc<LedgerGateway>,
    store: Arc<dyn Store>,
    booking: BookingId,
}

#[async_trait]
impl PaymentGateway for ClosesTheIntentDuringTheCharge {
    async fn charge(&self, request: &ChargeRequest) -> Result<ChargeOutcome, PaymentError> {
        let mut close = itinera::storage::Update::new(itinera::storage::Key::new(
            format!("BOOKING#{}", self.booking),
            "BOOKING",
        ));
        close.remove.push("paymentIntent".into());
        self.store.update(close).await.expect("the intent closes");
        self.ledger.charge(request).await
    }

    async fn refund(&self, request: &RefundRequest) -> Result<RefundReceipt, PaymentError> {
        self.ledger.refund(request).await
    }
}

async fn a_charge_that_outlived_its_intent_is_refunded_and_never_confirmed(backend: Backend) {
    let scene = Scene::new(backend).await;
    let booking = scene.book().await;
    let late = ClosesTheIntentDuringTheCharge {
        ledger: scene.gateway.clone(),
        store: scene.store.clone(),
        booking: booking.id.clone(),
    };
    let outcome = pay_as(&*scene.store, &*scene.clock, &late, &scene.owner, &booking).await;
    assert!(
        matches!(outcome, Err(DomainError::Conflict { ref detail }) if detail.contains("refunded")),
        "{outcome:?}"
    );
    let entry = scene.gateway.entry(booking.id.as_str());
    assert_eq!((entry.charges, entry.refunds), (1, 1));
    // The provider would answer a new charge under the booking's id with the refunded one: the
    // booking can no longer be paid, and stays unconfirmed.
    let again = scene.pay(&booking).await;
    assert!(
        matches!(again, Err(DomainError::Conflict { ref detail }) if detail.contains("cannot be paid again")),
        "{again:?}"
    );
    scene.recover().await;
    assert_eq!(scene.status(&booking).await.status, BookingStatus::Pending);
    scene.assert_balanced().await;
}

/// Sixteen customers pay at once on a store that fails one booking transaction in five before
/// applying it and one in seven after, while the holds lapse and the expiry job and recovery run
/// alongside; each customer retries a failed payment once. Once the store heals and recovery has
/// run, every charge is in a confirmed booking or refunded, and the seats add up.
async fn payments_racing_expiry_and_recovery_on_a_failing_store_end_balanced(backend: Backend) {
    const BOOKINGS: usize = 16;
    const SEATS: u16 = 40;
    let clock = Arc::new(SettableClock::now());
    let departure = clock.now() + TimeDelta::days(3);
    let flight = seed_flight(&*backend.store, &*clock, &UuidV7Ids, SEATS, FARE, departure).await;
    let faulty = Arc::new(FaultyStore::new(Arc::clone(&backend.store)));
    let store: Arc<dyn Store> = faulty.clone();
    let gateway = Arc::new(LedgerGateway::default());
    let mut bookings = Vec::new();
    for _ in 0..BOOKINGS {
        let who = principal(Role::Customer);
        let booking = book_seats(&*store, &*clock, &who, &flight, 2)
            .await
            .unwrap();
        bookings.push((who, booking));
    }
    let hold_ends = bookings[0].1.hold_expires_at.unwrap();
    faulty.inject(Fault::on(Call::Transact).touching("BOOKING#").every(5));
    faulty.inject(
        Fault::on(Call::Transact)
            .touching("BOOKING#")
            .timing(Timing::After)
            .every(7),
    );

    let payments: Vec<_> = bookings
        .iter()
        .cloned()
        .map(|(who, booking)| {
            let (store, clock, gateway) = (Arc::clone(&store), clock.clone(), gateway.clone());
            tokio::spawn(async move {
                for _ in 0..2 {
                    match pay_as(&*store, &*clock, &*gateway, &who, &booking).await {
                        Err(DomainError::Store(_)) => continue,
                        _ => break,
                    }
                }
            })
        })
        .collect();
    let expiry = {
        let (store, clock, gateway) = (Arc::clone(&store), clock.clone(), gateway.clone());
        tokio::spawn(async move {
            // The holds lapse once a quarter of the customers have been charged: the rest race
            // the expiry with their payments in flight.
            for _ in 0..2000 {
                if gateway.keys().len() >= BOOKINGS / 4 {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
            clock.set(hold_ends + TimeDelta::seconds(1));
            for _ in 0..3 {
                // Under injected faults a run may fail part-way; the next run picks up.
                let _ = expire_holds(&*store, &*clock, &UuidV7Ids, None).await;
            }
        })
    };
    let services = recovery_services(&store, &clock, gateway.clone(), Arc::new(NoMail));
    let mut failed = Vec::new();
    for _ in 0..3 {
        failed = recovery_round(&services, &clock, failed).await.1;
    }
    for task in payments.into_iter().chain([expiry]) {
        task.await.expect("the task completes");
    }

    let fired = faulty.injected();
    faulty.heal();
    let (_, failed) = recovery_round(&services, &clock, failed).await;
    assert!(failed.is_empty(), "{failed:?}");
    expire_holds(&*store, &*clock, &UuidV7Ids, None)
        .await
        .unwrap();
    recover(&store, &clock, gateway.clone(), Arc::new(NoMail)).await;

    let staff = principal(Role::Staff);
    assert_balanced(&*store, &gateway, &staff).await;
    let mut held = 0;
    for (_, booking) in &bookings {
        let stored = get_booking(&*store, &staff, &booking.id).await.unwrap();
        assert!(
            matches!(
                stored.status,
                BookingStatus::Confirmed | BookingStatus::Expired
            ),
            "{:?}",
            stored.status
        );
        if stored.status.holds_seats() {
            held += u16::from(stored.seats.get());
        }
    }
    let remaining = get_flight(&*store, &flight.id)
        .await
        .unwrap()
        .remaining_seats;
    assert_eq!(remaining + held, SEATS, "seats leaked or came back twice");
    assert!(fired > 0, "the faults fired");
}

on_both_families!(
    a_charge_whose_confirmation_fails_is_confirmed_by_recovery,
    a_charge_whose_hold_lapsed_before_recovery_is_refunded,
    a_charge_whose_answer_was_lost_is_settled_by_recovery,
    a_confirmation_committed_but_reported_failed_is_paid_once,
    a_cancellation_whose_commit_fails_refunds_nothing,
    a_cancellation_committed_but_reported_failed_is_refunded_by_recovery,
    a_refund_whose_record_fails_is_recorded_by_recovery,
    a_refund_the_provider_could_not_make_is_made_by_recovery,
    a_hold_expiring_while_its_payment_is_in_flight_ends_balanced,
    a_charge_that_outlived_its_intent_is_refunded_and_never_confirmed,
    payments_racing_expiry_and_recovery_on_a_failing_store_end_balanced,
);
