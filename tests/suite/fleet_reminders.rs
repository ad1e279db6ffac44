//! The daily expiry reminders of cars' papers, on both store families: found for exactly 30, 7
//! and 1 days ahead, staged once however many passes run at once, stopped by a renewal, and
//! turned by the worker into one notification per staff member and one email to the fleet's
//! alerts address, once each however often the queue delivers them.

use std::sync::Arc;

use chrono::TimeDelta;
use itinera::accounts::{
    Argon2id, Email, NewAccount, Password, PasswordHasher, PersonName, User, Username,
    provision_user,
};
use itinera::clock::{SystemClock, UuidV7Ids};
use itinera::fleet::{ReminderPorts, queue_fleet_reminders};
use itinera::identity::Role;
use itinera::jobs::{Job, JobKind, Recipient, Subject, process_batch};
use itinera::notifications::NotificationKind;
use itinera::storage::{Query, Store, query_all};
use itinera_tests::Backend;

use crate::fleet::Fleet;
use crate::worker::{RecordingMailer, notifications_of, raw_delivery, register_customer, worker};

fn alerts() -> Email {
    Email::parse("fleet-team@example.com").unwrap()
}

/// A stored, enabled user of `role`.
async fn member(store: &dyn Store, role: Role) -> User {
    let unique = uuid::Uuid::now_v7().simple().to_string();
    let username = format!("staff-{}", &unique[unique.len() - 16..]);
    let hasher: Arc<dyn PasswordHasher> = Arc::new(Argon2id::owasp_minimum());
    let account = NewAccount {
        email: Email::parse(&format!("{username}@example.com")).unwrap(),
        username: Username::parse(&username).unwrap(),
        password: Password::parse("a long enough passphrase").unwrap(),
        name: PersonName::parse("Fleet Staff").unwrap(),
    };
    provision_user(store, &SystemClock, &UuidV7Ids, &hasher, account, role)
        .await
        .unwrap()
        .expect("a new account")
}

/// The reminder jobs waiting in the outbox.
async fn staged(store: &dyn Store) -> Vec<Job> {
    query_all(store, Query::partition(None, "OUTBOX"))
        .await
        .unwrap()
        .iter()
        .map(|item| Job::from_body(item["body"].as_str().unwrap()).unwrap())
        .filter(|job| matches!(job.kind, JobKind::PaperExpiring { .. }))
        .collect()
}

/// One reminder pass at the fleet's clock, leaving its jobs in the outbox (no queue).
async fn pass(fleet: &Fleet) -> usize {
    let alerts = alerts();
    let ports = ReminderPorts {
        clock: &*fleet.clock,
        ids: &UuidV7Ids,
        queue: None,
        alerts: &alerts,
    };
    queue_fleet_reminders(&*fleet.store, &ports).await.unwrap()
}

async fn two_concurrent_passes_stage_each_reminder_once_and_the_staff_get_it_once(
    backend: Backend,
) {
    let fleet = Fleet::over(&backend);
    let (first, second, third) = (
        fleet.car(11).await,
        fleet.car(12).await,
        fleet.car(15).await,
    );
    let in_30 = fleet.paper(&first, "insurance", -300, 30).await;
    let in_7 = fleet.paper(&second, "insurance", -300, 7).await;
    let in_1 = fleet.paper(&third, "registrations", -300, 1).await;
    // Not 30, 7 or 1 days ahead.
    fleet.paper(&second, "registrations", -300, 10).await;
    fleet.paper(&second, "registrations", -300, 0).await;
    // Renewed before its 7-day reminder: a newer registration of the car lasts longer.
    fleet.paper(&first, "registrations", -300, 7).await;
    fleet.paper(&first, "registrations", 8, 372).await;

    let (a, b) = tokio::join!(pass(&fleet), pass(&fleet));
    assert_eq!(
        a + b,
        3,
        "each reminder staged by exactly one of the passes"
    );
    assert_eq!(pass(&fleet).await, 0, "a later pass stages nothing");
    let jobs = staged(&*fleet.store).await;
    let mut due: Vec<(String, JobKind)> = jobs
        .iter()
        .map(|job| (job.subject.id().to_owned(), job.kind.clone()))
        .collect();
    due.sort_by_key(|(_, kind)| format!("{kind:?}"));
    let id = |paper: &serde_json::Value| paper["id"].as_str().unwrap().to_owned();
    assert_eq!(
        due,
        [
            (id(&in_1), JobKind::PaperExpiring { days: 1 }),
            (id(&in_30), JobKind::PaperExpiring { days: 30 }),
            (id(&in_7), JobKind::PaperExpiring { days: 7 }),
        ]
    );
    assert!(
        jobs.iter()
            .all(|job| job.recipient == Recipient::Staff(alerts()))
    );
    let Subject::Paper(snapshot) = &jobs
        .iter()
        .find(|job| job.subject.id() == id(&in_7))
        .unwrap()
        .subject
    else {
        panic!("a job about a paper")
    };
    assert_eq!(snapshot.car, "Toyota Corolla (FLEET12)");
    assert_eq!(snapshot.paper, "insurance policy AZ-1 with Allianz");
    assert_eq!(snapshot.valid_to.to_string(), fleet.day(7));

    // The worker, fed every job twice: each staff member (admins are staff) notified once per
    // reminder, a customer not at all, and one email per reminder to the alerts address.
    let store = &*fleet.store;
    let (staff, admin) = (
        member(store, Role::Staff).await,
        member(store, Role::Admin).await,
    );
    let customer = register_customer(store, "Ann Lee").await;
    let mailer = Arc::new(RecordingMailer::new());
    let services = worker(Arc::clone(&fleet.store), mailer.clone());
    for _ in 0..2 {
        let deliveries = jobs
            .iter()
            .map(|job| raw_delivery(&job.to_body().unwrap()))
            .collect();
        assert!(process_batch(&services, deliveries).await.is_empty());
    }
    for user in [&staff, &admin] {
        let notifications = notifications_of(store, &user.id).await;
        assert_eq!(notifications.len(), 3, "{notifications:?}");
        assert!(
            notifications
                .iter()
                .all(|n| n.kind == NotificationKind::PaperExpiring)
        );
        assert!(notifications.iter().any(|n| n.title
            == "Expiring in 7 days: insurance of the Toyota Corolla (FLEET12)"));
    }
    assert!(notifications_of(store, &customer.id).await.is_empty());
    let sent = mailer.sent();
    assert_eq!(sent.len(), 3, "one email per reminder, none repeated");
    assert!(sent.iter().all(|email| *email.to() == alerts()), "{sent:?}");
}

async fn a_renewal_stops_the_reminders_of_the_paper_it_renews(backend: Backend) {
    let fleet = Fleet::over(&backend);
    let (renewed, control) = (fleet.car(13).await, fleet.car(14).await);
    let old = fleet.paper(&renewed, "insurance", -300, 30).await;
    fleet.paper(&control, "insurance", -300, 30).await;
    assert_eq!(pass(&fleet).await, 2, "both 30 days ahead");
    fleet.paper(&renewed, "insurance", 30, 395).await;
    fleet.clock.advance(TimeDelta::days(23));
    let due_now: Vec<String> = {
        assert_eq!(
            pass(&fleet).await,
            1,
            "only the paper not renewed, 7 days ahead"
        );
        staged(&*fleet.store)
            .await
            .iter()
            .filter(|job| job.kind == JobKind::PaperExpiring { days: 7 })
            .map(|job| job.subject.id().to_owned())
            .collect()
    };
    assert_eq!(due_now.len(), 1);
    assert_ne!(due_now[0], old["id"].as_str().unwrap());
}

on_both_families!(
    two_concurrent_passes_stage_each_reminder_once_and_the_staff_get_it_once,
    a_renewal_stops_the_reminders_of_the_paper_it_renews,
);
