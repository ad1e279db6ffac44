//! Cancelling a booked flight: the flight is cancelled at once, and the worker cancels every
//! booking still holding seats, refunds the paid ones through the recoverable path, and tells
//! each customer in the app and by email, exactly once per booking, even when the fan-out runs
//! twice in a row or twice at once. On both store families.

use std::sync::Arc;

use chrono::TimeDelta;
use itinera::bookings::{Booking, BookingStatus, get_booking, run_task};
use itinera::clock::{Clock, UuidV7Ids};
use itinera::error::DomainError;
use itinera::flights::{Flight, FlightChanges, FlightStatus, get_flight, update_flight};
use itinera::identity::{Principal, Role};
use itinera::jobs::{Task, TaskJob};
use itinera::notifications::{NotificationFilter, NotificationKind, list_notifications};
use itinera::pagination::PageLimit;
use itinera::storage::Store;
use itinera::version::Precondition;
use itinera_tests::ledger::LedgerGateway;
use itinera_tests::{
    Backend, SettableClock, book_seats, cancel_as, context_of, pay_as, principal, seed_flight,
};

use crate::payment_recovery::recover;
use crate::worker::{RecordingMailer, register_customer};

/// The fare per seat, in paise.
const FARE: i64 = 450_000;
/// The flight's seats.
const SEATS: u16 = 30;

/// A booked flight: paid and unpaid bookings, one cancelled by its customer before the flight.
struct Scene {
    store: Arc<dyn Store>,
    clock: Arc<SettableClock>,
    gateway: Arc<LedgerGateway>,
    mailer: Arc<RecordingMailer>,
    flight: Flight,
    /// Each customer and their booking that holds seats when the flight is cancelled.
    live: Vec<(Principal, Booking)>,
    /// A booking its customer cancelled before.
    cancelled_before: (Principal, Booking),
    _backend: Backend,
}

impl Scene {
    async fn new(backend: Backend) -> Self {
        let store = Arc::clone(&backend.store);
        let clock = Arc::new(SettableClock::now());
        let departure = clock.now() + TimeDelta::days(2);
        let flight = seed_flight(&*store, &*clock, &UuidV7Ids, SEATS, FARE, departure).await;
        let gateway = Arc::new(LedgerGateway::default());
        let mut live = Vec::new();
        for (index, paid) in [true, true, true, false, false].into_iter().enumerate() {
            let (who, booking) = customer_booking(&store, &clock, &flight, index).await;
            if paid {
                pay(&store, &clock, &gateway, &who, &booking).await;
            }
            live.push((who, booking));
        }
        let (who, booking) = customer_booking(&store, &clock, &flight, 9).await;
        pay(&store, &clock, &gateway, &who, &booking).await;
        cancel_as(&*store, &*clock, &*gateway, &who, &booking)
            .await
            .unwrap();
        Self {
            store,
            clock,
            gateway,
            mailer: Arc::new(RecordingMailer::new()),
            flight,
            live,
            cancelled_before: (who, booking),
            _backend: backend,
        }
    }

    /// Staff cancel the flight.
    async fn cancel_flight(&self) -> Flight {
        let cancel = FlightChanges::new(None, None, None, Some(FlightStatus::Cancelled)).unwrap();
        update_flight(
            &*self.store,
            &*self.clock,
            &UuidV7Ids,
            None,
            &context_of(&principal(Role::Staff)),
            &self.flight.id,
            &cancel,
            &Precondition::None,
        )
        .await
        .expect("a booked flight can be cancelled")
    }

    /// The fan-out task, as the worker would run it once more.
    fn fan_out(&self) -> TaskJob {
        TaskJob::new(
            &UuidV7Ids,
            Task::CancelFlightBookings {
                flight_id: self.flight.id.to_string(),
                after: None,
            },
            self.clock.now(),
        )
    }

    async fn run(&self, task: &TaskJob) {
        run_task(&*self.store, &*self.clock, &UuidV7Ids, &*self.gateway, task)
            .await
            .expect("the fan-out runs");
    }

    async fn recover(&self) {
        recover(
            &self.store,
            &self.clock,
            self.gateway.clone(),
            self.mailer.clone(),
        )
        .await;
    }

    /// What must hold once the fan-out and recovery have run, however often.
    async fn assert_each_booking_cancelled_refunded_and_told_once(&self) {
        let flight = get_flight(&*self.store, &self.flight.id).await.unwrap();
        assert_eq!(flight.status, FlightStatus::Cancelled);
        assert_eq!(
            flight.remaining_seats, SEATS,
            "every seat came back exactly once"
        );
        for (who, booking) in &self.live {
            let stored = get_booking(&*self.store, who, &booking.id).await.unwrap();
            assert_eq!(stored.status, BookingStatus::Cancelled, "{}", booking.id);
            let entry = self.gateway.entry(booking.id.as_str());
            let paid = entry.charges == 1;
            if paid {
                assert_eq!(stored.refund, Some(booking.total.clone()));
                assert!(stored.refunded_at.is_some(), "the refund is recorded");
                assert_eq!(
                    (entry.refunds, entry.refund_requests),
                    (1, 1),
                    "refunded once"
                );
            } else {
                assert_eq!(stored.refund, None);
                assert_eq!(entry.refund_requests, 0);
            }
            let told = flight_cancelled_notices(&*self.store, who).await;
            assert_eq!(told, 1, "{}: one notification", booking.id);
            let emails: Vec<_> = self
                .mailer
                .sent()
                .into_iter()
                .filter(|email| email.text_body().contains(booking.id.as_str()))
                .filter(|email| email.subject().starts_with("Flight cancelled"))
                .collect();
            assert_eq!(emails.len(), 1, "{}: one email", booking.id);
            let money = if paid {
                "A refund of INR"
            } else {
                "nothing was charged"
            };
            assert!(
                emails[0].text_body().contains(money),
                "{}",
                emails[0].text_body()
            );
        }
        // The booking cancelled before the flight was left alone: refunded once, by its own
        // cancellation, and not told about the flight.
        let (who, booking) = &self.cancelled_before;
        assert_eq!(self.gateway.entry(booking.id.as_str()).refund_requests, 1);
        assert_eq!(flight_cancelled_notices(&*self.store, who).await, 0);
    }
}

/// A registered customer (the worker writes to real users only) and a booking of 2 seats.
async fn customer_booking(
    store: &Arc<dyn Store>,
    clock: &SettableClock,
    flight: &Flight,
    index: usize,
) -> (Principal, Booking) {
    let user = register_customer(&**store, &format!("Customer {index}")).await;
    let who = Principal {
        user_id: user.id,
        role: Role::Customer,
    };
    let booking = book_seats(&**store, clock, &who, flight, 2).await.unwrap();
    (who, booking)
}

async fn pay(
    store: &Arc<dyn Store>,
    clock: &SettableClock,
    gateway: &LedgerGateway,
    who: &Principal,
    booking: &Booking,
) {
    pay_as(&**store, clock, gateway, who, booking)
        .await
        .unwrap();
}

async fn flight_cancelled_notices(store: &dyn Store, who: &Principal) -> usize {
    let page = list_notifications(
        store,
        &who.user_id,
        NotificationFilter::All,
        PageLimit::try_from(100).unwrap(),
        None,
    )
    .await
    .unwrap();
    page.notifications
        .iter()
        .filter(|notification| notification.kind == NotificationKind::FlightCancelled)
        .count()
}

async fn a_booked_flight_is_cancelled_and_its_bookings_with_it(backend: Backend) {
    let scene = Scene::new(backend).await;
    let cancelled = scene.cancel_flight().await;
    assert_eq!(cancelled.status, FlightStatus::Cancelled);
    // Cancelled at once: a pending booking can no longer be paid, nor a new one made.
    let (who, unpaid) = &scene.live[3];
    let refused = pay_as(&*scene.store, &*scene.clock, &*scene.gateway, who, unpaid).await;
    assert!(
        matches!(refused, Err(DomainError::Conflict { ref detail }) if detail.contains("cancelled")),
        "{refused:?}"
    );
    assert_eq!(scene.gateway.entry(unpaid.id.as_str()).charges, 0);
    let late = book_seats(&*scene.store, &*scene.clock, who, &scene.flight, 1).await;
    assert!(
        matches!(late, Err(DomainError::Conflict { .. })),
        "{late:?}"
    );

    // The worker does the rest.
    scene.recover().await;
    scene
        .assert_each_booking_cancelled_refunded_and_told_once()
        .await;

    // The fan-out delivered again (or staged twice) changes nothing.
    scene.run(&scene.fan_out()).await;
    scene.run(&scene.fan_out()).await;
    scene.recover().await;
    scene
        .assert_each_booking_cancelled_refunded_and_told_once()
        .await;
}

async fn two_fan_outs_at_once_cancel_and_refund_each_booking_once(backend: Backend) {
    let scene = Arc::new(Scene::new(backend).await);
    scene.cancel_flight().await;
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let scene = Arc::clone(&scene);
            tokio::spawn(async move {
                let task = scene.fan_out();
                scene.run(&task).await;
            })
        })
        .collect();
    for run in runs {
        run.await.expect("the run completes");
    }
    // The staged fan-out runs a third time, with the notices.
    scene.recover().await;
    scene
        .assert_each_booking_cancelled_refunded_and_told_once()
        .await;
}

async fn a_refund_the_fan_out_could_not_make_is_made_by_recovery(backend: Backend) {
    let scene = Scene::new(backend).await;
    scene.cancel_flight().await;
    // The provider is down for the fan-out's refunds (three attempts each for three bookings).
    scene.gateway.fail_refunds(9);
    scene.run(&scene.fan_out()).await;
    let (who, paid) = &scene.live[0];
    let stored = get_booking(&*scene.store, who, &paid.id).await.unwrap();
    assert_eq!(stored.status, BookingStatus::Cancelled);
    assert_eq!(stored.refunded_at, None, "the refund is owed, not made");
    scene.recover().await;
    scene
        .assert_each_booking_cancelled_refunded_and_told_once()
        .await;
}

async fn a_flight_with_more_bookings_than_a_page_is_worked_through_page_by_page(backend: Backend) {
    const BOOKINGS: usize = 30;
    let store = Arc::clone(&backend.store);
    let clock = Arc::new(SettableClock::now());
    let departure = clock.now() + TimeDelta::days(2);
    let seats = u16::try_from(BOOKINGS).unwrap() + 10;
    let flight = seed_flight(&*store, &*clock, &UuidV7Ids, seats, FARE, departure).await;
    let gateway = Arc::new(LedgerGateway::default());
    let mut bookings = Vec::new();
    for index in 0..BOOKINGS {
        let who = principal(Role::Customer);
        let booking = book_seats(&*store, &*clock, &who, &flight, 1)
            .await
            .unwrap();
        if index % 3 == 0 {
            pay(&store, &clock, &gateway, &who, &booking).await;
        }
        bookings.push((who, booking));
    }
    let cancel = FlightChanges::new(None, None, None, Some(FlightStatus::Cancelled)).unwrap();
    update_flight(
        &*store,
        &*clock,
        &UuidV7Ids,
        None,
        &context_of(&principal(Role::Staff)),
        &flight.id,
        &cancel,
        &Precondition::None,
    )
    .await
    .unwrap();

    // One delivery handles 25 bookings: the last five are cancelled only if the fan-out
    // continued on a second page.
    recover(
        &store,
        &clock,
        gateway.clone(),
        Arc::new(RecordingMailer::new()),
    )
    .await;
    assert_eq!(
        get_flight(&*store, &flight.id)
            .await
            .unwrap()
            .remaining_seats,
        seats
    );
    for (index, (who, booking)) in bookings.iter().enumerate() {
        let stored = get_booking(&*store, who, &booking.id).await.unwrap();
        assert_eq!(stored.status, BookingStatus::Cancelled, "booking {index}");
        let entry = gateway.entry(booking.id.as_str());
        assert_eq!(entry.refunds, entry.charges, "booking {index}");
    }
}

on_both_families!(
    a_booked_flight_is_cancelled_and_its_bookings_with_it,
    two_fan_outs_at_once_cancel_and_refund_each_booking_once,
    a_refund_the_fan_out_could_not_make_is_made_by_recovery,
    a_flight_with_more_bookings_than_a_page_is_worked_through_page_by_page,
);
