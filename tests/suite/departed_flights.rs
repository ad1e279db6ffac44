//! No refund after the flight, no payment for a flight that has left: a confirmed booking of a
//! flight that has departed (by its status or by its departure time) cannot be cancelled, and a
//! booking of such a flight cannot be paid. Both rules hold in the transaction itself, so a flight
//! that departs between the use case's reads and its write is caught too. On both store families.

use std::sync::Arc;

use chrono::TimeDelta;
use itinera::bookings::{BookingStatus, get_booking};
use itinera::clock::{Clock, UuidV7Ids};
use itinera::error::DomainError;
use itinera::flights::{Flight, FlightChanges, FlightStatus, get_flight, update_flight};
use itinera::identity::Role;
use itinera::storage::{Key, Store, Update};
use itinera::version::Precondition;
use itinera_tests::faults::InterferingStore;
use itinera_tests::ledger::LedgerGateway;
use itinera_tests::{
    Backend, SettableClock, book_seats, cancel_as, context_of, pay_as, principal, seed_flight,
};
use serde_json::Value;

/// The fare per seat, in paise.
const FARE: i64 = 450_000;

/// A store on which `flight` departs just before the first transaction that touches a booking:
/// between what the use case read and what it writes.
fn departs_before_the_write(inner: Arc<dyn Store>, flight: &Flight) -> InterferingStore {
    let mut update = Update::new(Key::new(format!("FLIGHT#{}", flight.id), "FLIGHT"));
    update.set.push((
        "status".into(),
        Value::from(FlightStatus::Departed.as_str()),
    ));
    InterferingStore::before_transaction_touching(inner, "BOOKING#", |inner| async move {
        inner.update(update).await.expect("the flight departs");
    })
}

/// A flight departing at `departure`, on a fresh store of the backend's family.
async fn flight_departing(
    backend: &Backend,
    clock: &SettableClock,
    departure: chrono::DateTime<chrono::Utc>,
) -> Flight {
    seed_flight(&*backend.store, clock, &UuidV7Ids, 10, FARE, departure).await
}

async fn a_confirmed_booking_cannot_be_cancelled_once_its_flight_departed(backend: Backend) {
    let store = &*backend.store;
    let clock = SettableClock::now();
    let departure = clock.now() + TimeDelta::hours(2);
    let flight = flight_departing(&backend, &clock, departure).await;
    let gateway = LedgerGateway::default();
    let owner = principal(Role::Customer);
    let mut bookings = Vec::new();
    for _ in 0..2 {
        let booking = book_seats(store, &clock, &owner, &flight, 2).await.unwrap();
        pay_as(store, &clock, &gateway, &owner, &booking)
            .await
            .unwrap();
        bookings.push(booking);
    }

    // By the clock: the departure time has passed, the status still says scheduled.
    clock.set(departure + TimeDelta::minutes(1));
    let late = cancel_as(store, &clock, &gateway, &owner, &bookings[0]).await;
    assert!(
        matches!(late, Err(DomainError::Conflict { ref detail }) if detail.contains("departed")),
        "{late:?}"
    );

    // By the status: staff marked the flight departed before its time.
    clock.set(departure - TimeDelta::minutes(30));
    let departed = FlightChanges::new(None, None, None, Some(FlightStatus::Departed)).unwrap();
    update_flight(
        store,
        &clock,
        &UuidV7Ids,
        None,
        &context_of(&principal(Role::Staff)),
        &flight.id,
        &departed,
        &Precondition::None,
    )
    .await
    .unwrap();
    let after_status = cancel_as(store, &clock, &gateway, &owner, &bookings[1]).await;
    assert!(
        matches!(after_status, Err(DomainError::Conflict { .. })),
        "{after_status:?}"
    );

    for booking in &bookings {
        let stored = get_booking(store, &owner, &booking.id).await.unwrap();
        assert_eq!(stored.status, BookingStatus::Confirmed);
        let entry = gateway.entry(booking.id.as_str());
        assert_eq!((entry.charges, entry.refunds), (1, 0), "no refund was made");
    }
    assert_eq!(
        get_flight(store, &flight.id).await.unwrap().remaining_seats,
        6
    );
}

async fn a_flight_departing_between_the_read_and_the_cancel_refunds_nothing(backend: Backend) {
    let clock = SettableClock::now();
    let departure = clock.now() + TimeDelta::hours(2);
    let flight = flight_departing(&backend, &clock, departure).await;
    let gateway = LedgerGateway::default();
    let owner = principal(Role::Customer);
    let booking = book_seats(&*backend.store, &clock, &owner, &flight, 1)
        .await
        .unwrap();
    pay_as(&*backend.store, &clock, &gateway, &owner, &booking)
        .await
        .unwrap();

    let racing = departs_before_the_write(Arc::clone(&backend.store), &flight);
    let outcome = cancel_as(&racing, &clock, &gateway, &owner, &booking).await;
    assert!(
        matches!(outcome, Err(DomainError::Conflict { .. })),
        "{outcome:?}"
    );
    let stored = get_booking(&*backend.store, &owner, &booking.id)
        .await
        .unwrap();
    assert_eq!(stored.status, BookingStatus::Confirmed);
    assert_eq!(gateway.entry(booking.id.as_str()).refunds, 0);
    assert_eq!(
        get_flight(&*backend.store, &flight.id)
            .await
            .unwrap()
            .remaining_seats,
        9
    );
}

async fn a_booking_of_a_departed_flight_cannot_be_paid(backend: Backend) {
    let store = &*backend.store;
    let clock = SettableClock::now();
    // The flight leaves before the booking's ten-minute hold ends.
    let departure = clock.now() + TimeDelta::minutes(5);
    let flight = flight_departing(&backend, &clock, departure).await;
    let gateway = LedgerGateway::default();
    // Two customers: one may hold only one pending booking on a flight.
    let owner = principal(Role::Customer);
    let racer = principal(Role::Customer);
    let late = book_seats(store, &clock, &owner, &flight, 1).await.unwrap();
    let racing_booking = book_seats(store, &clock, &racer, &flight, 1).await.unwrap();

    clock.set(departure + TimeDelta::minutes(1));
    let outcome = pay_as(store, &clock, &gateway, &owner, &late).await;
    assert!(
        matches!(outcome, Err(DomainError::Conflict { ref detail }) if detail.contains("departed")),
        "{outcome:?}"
    );
    assert_eq!(
        gateway.entry(late.id.as_str()).charges,
        0,
        "refused before charging"
    );

    // The flight departs between the payment's reads and its write.
    clock.set(departure - TimeDelta::minutes(2));
    let racing = departs_before_the_write(Arc::clone(&backend.store), &flight);
    let outcome = pay_as(&racing, &clock, &gateway, &racer, &racing_booking).await;
    assert!(
        matches!(outcome, Err(DomainError::Conflict { .. })),
        "{outcome:?}"
    );
    for (who, booking) in [(&owner, &late), (&racer, &racing_booking)] {
        let stored = get_booking(store, who, &booking.id).await.unwrap();
        assert_eq!(stored.status, BookingStatus::Pending);
        let entry = gateway.entry(booking.id.as_str());
        assert_eq!(entry.charges, entry.refunds, "no charge is kept");
    }
}

on_both_families!(
    a_confirmed_booking_cannot_be_cancelled_once_its_flight_departed,
    a_flight_departing_between_the_read_and_the_cancel_refunds_nothing,
    a_booking_of_a_departed_flight_cannot_be_paid,
);
