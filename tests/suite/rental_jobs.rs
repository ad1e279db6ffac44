//! The jobs of rental contracts, on both store families: the confirmation a reservation stages
//! in its own transaction, what the worker makes of it for a customer with and without an
//! account, and the pickup and return reminders, each found by the schedule and sent once.

use chrono::TimeDelta;
use itinera::accounts::Email;
use itinera::cars::Mileage;
use itinera::clock::UuidV7Ids;
use itinera::contracts::{
    Contract, ContractStatus, Reservation, pick_up_contract, queue_rental_reminders,
    reserve_contract,
};
use itinera::error::DomainError;
use itinera::idempotency::{IdempotencyKey, Outcome};
use itinera::jobs::{Job, JobKind, Processed, Recipient, Subject, process_batch, process_job};
use itinera::notifications::NotificationKind;
use itinera::storage::{Query, Store};
use itinera::version::Precondition;
use itinera_tests::{Backend, context_of};

use crate::bookings::RecordingQueue;
use crate::contract_concurrency::{Rental, day, rental_for, respond};
use crate::worker::{RecordingMailer, notifications_of, raw_delivery, register_customer, worker};

/// The jobs waiting in the outbox, as the relay would send them, oldest first.
pub(crate) async fn staged(store: &dyn Store) -> Vec<Job> {
    let page = store
        .query(Query::partition(None, "OUTBOX"))
        .await
        .expect("the outbox reads");
    assert!(page.last_evaluated_key.is_none());
    page.items
        .iter()
        .map(|item| Job::from_body(item["body"].as_str().expect("a body")).expect("a job"))
        .collect()
}

/// A rental for a customer with no account, reachable at `ann.lee@example.com`.
async fn unlinked(backend: &Backend) -> Rental {
    rental_for(backend, Email::parse("ann.lee@example.com").unwrap(), None).await
}

async fn a_reservation_stages_its_confirmation_and_a_refused_one_stages_nothing(backend: Backend) {
    let rental = unlinked(&backend).await;
    let contract = rental.reserve(1, 3).await.unwrap();
    let refused = rental.reserve(3, 5).await;
    assert!(
        matches!(refused, Err(DomainError::Conflict { .. })),
        "{refused:?}"
    );

    let jobs = staged(&*rental.store).await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    let job = &jobs[0];
    assert_eq!(job.kind, JobKind::ContractReserved);
    assert_eq!(
        job.recipient,
        Recipient::Email(Email::parse("ann.lee@example.com").unwrap())
    );
    let Subject::Contract(snapshot) = &job.subject else {
        panic!("a job about the contract: {job:?}");
    };
    assert_eq!(snapshot.contract_id, contract.id.to_string());
    assert_eq!(snapshot.car, "Toyota Corolla (RENT1)");
    assert_eq!((snapshot.start_date, snapshot.end_date), (day(1), day(3)));
    assert_eq!(snapshot.total, contract.total);
}

async fn a_reservation_with_a_queue_sends_its_confirmation_and_empties_the_outbox(
    backend: Backend,
) {
    let rental = unlinked(&backend).await;
    let queue = RecordingQueue::default();
    let reservation = Reservation {
        car_id: rental.car.clone(),
        customer_id: Some(rental.customer.clone()),
        start_date: day(1),
        end_date: day(2),
    };
    let key = IdempotencyKey::parse(&uuid::Uuid::new_v4().to_string()).unwrap();
    let outcome = reserve_contract(
        &*rental.store,
        &*rental.clock,
        &UuidV7Ids,
        Some(&queue),
        &context_of(&rental.staff),
        &key,
        &reservation,
        respond,
    )
    .await
    .unwrap();
    let Outcome::Created {
        value: contract, ..
    } = outcome
    else {
        panic!("a fresh key replayed");
    };

    let sent = queue.jobs();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].kind, JobKind::ContractReserved);
    assert_eq!(sent[0].subject.id(), contract.id.as_str());
    assert!(
        staged(&*rental.store).await.is_empty(),
        "dispatched, so not left for the relay"
    );
}

async fn an_unlinked_customer_is_emailed_the_confirmation_once(backend: Backend) {
    let rental = unlinked(&backend).await;
    let contract = rental.reserve(1, 3).await.unwrap();
    let body = staged(&*rental.store).await[0].to_body().unwrap();
    let mailer = std::sync::Arc::new(RecordingMailer::new());
    let services = worker(std::sync::Arc::clone(&rental.store), mailer.clone());

    // The staged body, delivered as the queue would, then once more.
    for _ in 0..2 {
        let delivered = process_batch(&services, vec![raw_delivery(&body)]).await;
        assert!(delivered.is_empty(), "{delivered:?}");
    }

    let sent = mailer.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].to().as_str(), "ann.lee@example.com");
    let text = sent[0].text_body();
    assert!(text.starts_with("Hello Ann Lee,"), "{text}");
    for part in [
        "Toyota Corolla (RENT1)",
        &day(1).to_string(),
        &day(3).to_string(),
        "EUR 135.00",
        &contract.id.to_string(),
    ] {
        assert!(text.contains(part), "{part}: {text}");
    }
    assert!(
        sent[0]
            .subject()
            .starts_with("Car reserved: Toyota Corolla (RENT1)")
    );
}

async fn a_linked_user_is_notified_and_emailed_the_confirmation_once(backend: Backend) {
    let user = register_customer(&*backend.store, "Ann Lee").await;
    let rental = rental_for(&backend, user.email.clone(), Some(user.id.clone())).await;
    let contract = rental.reserve(2, 2).await.unwrap();
    let job = staged(&*rental.store).await.remove(0);
    assert_eq!(job.user_id(), Some(&user.id));
    let mailer = std::sync::Arc::new(RecordingMailer::new());
    let services = worker(std::sync::Arc::clone(&rental.store), mailer.clone());

    assert_eq!(
        process_job(&services, &job).await.unwrap(),
        Processed::Emailed
    );
    assert_eq!(
        process_job(&services, &job).await.unwrap(),
        Processed::AlreadyDone
    );

    let sent = mailer.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].to(), &user.email);
    let notifications = notifications_of(&*rental.store, &user.id).await;
    assert_eq!(notifications.len(), 1, "{notifications:?}");
    assert_eq!(notifications[0].kind, NotificationKind::ContractReserved);
    assert_eq!(
        notifications[0].contract_id.as_deref(),
        Some(contract.id.as_str())
    );
    assert_eq!(notifications[0].booking_id, None);
    assert_eq!(notifications[0].title, sent[0].subject());
}

/// Staff pick `contract` up today, at the car's mileage.
async fn pick_up(rental: &Rental, contract: &Contract) -> Contract {
    pick_up_contract(
        &*rental.store,
        &*rental.clock,
        &UuidV7Ids,
        &context_of(&rental.staff),
        &contract.id,
        Mileage::try_from(1_000).unwrap(),
    )
    .await
    .unwrap()
}

/// One run of the reminder schedule, with no queue: the reminders stay in the outbox.
async fn remind(rental: &Rental) -> usize {
    queue_rental_reminders(&*rental.store, &*rental.clock, &UuidV7Ids, None)
        .await
        .unwrap()
}

/// The (kind, contract) of every staged reminder.
async fn reminders(store: &dyn Store) -> Vec<(JobKind, String)> {
    let mut reminders: Vec<_> = staged(store)
        .await
        .into_iter()
        .filter(|job| job.kind != JobKind::ContractReserved)
        .map(|job| (job.kind.clone(), job.subject.id().to_owned()))
        .collect();
    reminders.sort_by(|a, b| (a.0.name(), &a.1).cmp(&(b.0.name(), &b.1)));
    reminders
}

/// Delivers every staged job to a worker `rounds` times over, as the queue would (redeliveries
/// included), and returns the subjects of the emails it sent, sorted.
async fn emailed_subjects(rental: &Rental, rounds: usize) -> Vec<String> {
    let mailer = std::sync::Arc::new(RecordingMailer::new());
    let services = worker(std::sync::Arc::clone(&rental.store), mailer.clone());
    for _ in 0..rounds {
        let deliveries = staged(&*rental.store)
            .await
            .iter()
            .map(|job| raw_delivery(&job.to_body().unwrap()))
            .collect();
        assert!(process_batch(&services, deliveries).await.is_empty());
    }
    let mut subjects: Vec<String> = mailer
        .sent()
        .iter()
        .map(|email| email.subject().to_owned())
        .collect();
    subjects.sort();
    subjects
}

async fn pickup_and_return_reminders_are_found_and_sent_once_each(backend: Backend) {
    let rental = unlinked(&backend).await;
    let soon = rental.reserve(1, 2).await.unwrap();
    let later = rental.reserve(3, 4).await.unwrap();

    // Today: only the rental starting tomorrow is within a day of its pickup.
    assert_eq!(remind(&rental).await, 1);
    assert_eq!(
        remind(&rental).await,
        0,
        "a second run reminds nobody again"
    );
    let soon_id = soon.id.to_string();
    assert_eq!(
        reminders(&*rental.store).await,
        [(JobKind::PickupReminder, soon_id.clone())]
    );

    // Day 1: `soon` is picked up (it ends tomorrow), `later` starts in two days: nothing is due.
    rental.clock.advance(TimeDelta::days(1));
    assert_eq!(pick_up(&rental, &soon).await.status, ContractStatus::Active);
    assert_eq!(remind(&rental).await, 0);

    // Day 2: `soon` ends today, `later` starts tomorrow; each reminded once.
    rental.clock.advance(TimeDelta::days(1));
    assert_eq!(remind(&rental).await, 2);
    assert_eq!(remind(&rental).await, 0);
    let mut expected = vec![
        (JobKind::PickupReminder, soon_id.clone()),
        (JobKind::PickupReminder, later.id.to_string()),
        (JobKind::ReturnReminder, soon_id),
    ];
    expected.sort_by(|a, b| (a.0.name(), &a.1).cmp(&(b.0.name(), &b.1)));
    assert_eq!(reminders(&*rental.store).await, expected);

    // Every staged job through the worker twice: one email each, none sent again.
    let subjects: Vec<String> = emailed_subjects(&rental, 2)
        .await
        .iter()
        .map(|subject| subject.split(':').next().unwrap().to_owned())
        .collect();
    assert_eq!(
        subjects,
        [
            "Car reserved",
            "Car reserved",
            "Pickup reminder",
            "Pickup reminder",
            "Return reminder"
        ]
    );
}

async fn a_contract_re_dated_after_its_pickup_reminder_is_reminded_of_its_new_first_day(
    backend: Backend,
) {
    let rental = unlinked(&backend).await;
    let contract = rental.reserve(1, 2).await.unwrap();
    assert_eq!(remind(&rental).await, 1);
    let moved = rental
        .reschedule(&contract, (0, 1), &Precondition::None)
        .await
        .unwrap();
    assert_eq!(moved.start_date, day(0));
    assert_eq!(remind(&rental).await, 1, "the new first day is due");
    assert_eq!(remind(&rental).await, 0);

    let pickups: Vec<String> = emailed_subjects(&rental, 1)
        .await
        .into_iter()
        .filter(|subject| subject.starts_with("Pickup reminder"))
        .collect();
    assert_eq!(
        pickups,
        [
            format!("Pickup reminder: Toyota Corolla (RENT1) on {}", day(0)),
            format!("Pickup reminder: Toyota Corolla (RENT1) on {}", day(1)),
        ]
    );
}

on_both_families!(
    a_reservation_with_a_queue_sends_its_confirmation_and_empties_the_outbox,
    a_contract_re_dated_after_its_pickup_reminder_is_reminded_of_its_new_first_day,
    a_reservation_stages_its_confirmation_and_a_refused_one_stages_nothing,
    an_unlinked_customer_is_emailed_the_confirmation_once,
    a_linked_user_is_notified_and_emailed_the_confirmation_once,
    pickup_and_return_reminders_are_found_and_sent_once_each,
);
