//! The jobs worker on both store families (the embedded store, and DynamoDB on moto), with a
//! recording mailer: poisoned messages are reported and only they, a job's notification and email
//! happen once however often (and however concurrently) it is delivered, a failed send is retried
//! into exactly one email. Then the SES mailer against moto's SESv2, alone and behind the worker.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{TimeDelta, Utc};
use itinera::accounts::{
    self, AdminChanges, Argon2id, Email as Address, NewAccount, Password, PasswordHasher,
    PersonName, User, Username,
};
use itinera::clock::{SystemClock, UuidV7Ids};
use itinera::identity::{RequestContext, UserId};
use itinera::jobs::{
    BookingSnapshot, Delivery, EMAIL_LEASE, Job, JobError, JobId, JobKind, Processed, Recipient,
    Subject, WorkerServices, process_batch, process_job,
};
use itinera::mail::{Email, MailError, Mailer};
use itinera::money::{Currency, Money};
use itinera::notifications::{Notification, NotificationFilter, list_notifications, message_for};
use itinera::pagination::PageLimit;
use itinera::storage::Store;
use itinera::version::Precondition;
use itinera_aws::SesMailer;
use itinera_embedded::EmbeddedStore;
use itinera_tests::{SettableClock, fresh_dynamodb_store};
use tokio::sync::{Notify, Semaphore};

// ------------------------------------------------------------------ fixtures

/// A mail service that keeps every email it accepts: a real implementation of the port, for
/// tests. It can be told to fail its next sends, or to hold its first send at a gate until the
/// test opens it (later sends pass, so a second send shows up as a second email, never as a
/// test that waits forever).
#[derive(Default)]
pub(crate) struct RecordingMailer {
    sent: Mutex<Vec<Email>>,
    failures_left: AtomicUsize,
    gate: Option<Gate>,
}

/// Where the first send waits: it announces itself on `entered`, then waits for a permit.
struct Gate {
    entered: Notify,
    open: Semaphore,
    used: AtomicBool,
}

impl RecordingMailer {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn gated() -> Self {
        Self {
            gate: Some(Gate {
                entered: Notify::new(),
                open: Semaphore::new(0),
                used: AtomicBool::new(false),
            }),
            ..Self::default()
        }
    }

    /// The emails accepted so far.
    pub(crate) fn sent(&self) -> Vec<Email> {
        self.sent.lock().expect("the sent list").clone()
    }

    /// The next `count` sends fail as if the mail service were down.
    fn fail_next(&self, count: usize) {
        self.failures_left.store(count, Ordering::SeqCst);
    }

    fn gate(&self) -> &Gate {
        self.gate.as_ref().expect("a gated mailer")
    }
}

#[async_trait]
impl Mailer for RecordingMailer {
    async fn send(&self, email: &Email) -> Result<(), MailError> {
        if let Some(gate) = &self.gate
            && !gate.used.swap(true, Ordering::SeqCst)
        {
            gate.entered.notify_one();
            gate.open
                .acquire()
                .await
                .expect("the gate stays open")
                .forget();
        }
        let failing = self
            .failures_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            })
            .is_ok();
        if failing {
            return Err(MailError::Unavailable(
                "the test mail service is down".into(),
            ));
        }
        self.sent.lock().expect("the sent list").push(email.clone());
        Ok(())
    }
}

/// The worker's services over `store`, sending through `mailer`.
pub(crate) fn worker(store: Arc<dyn Store>, mailer: Arc<dyn Mailer>) -> WorkerServices {
    WorkerServices {
        store,
        clock: Arc::new(SystemClock),
        ids: Arc::new(UuidV7Ids),
        mailer,
        payments: Arc::new(itinera::payments::TestCardGateway),
    }
}

/// A new customer account with a unique username and email, named `name`.
pub(crate) async fn register_customer(store: &dyn Store, name: &str) -> User {
    let unique = uuid::Uuid::now_v7().simple().to_string();
    let username = format!("user-{}", &unique[unique.len() - 16..]);
    let hasher: Arc<dyn PasswordHasher> = Arc::new(Argon2id::owasp_minimum());
    let context = RequestContext {
        request_id: uuid::Uuid::new_v4().to_string(),
        principal: None,
    };
    let account = NewAccount {
        email: Address::parse(&format!("{username}@example.com")).expect("an email"),
        username: Username::parse(&username).expect("a username"),
        password: Password::parse("a long enough passphrase").expect("a password"),
        name: PersonName::parse(name).expect("a name"),
    };
    accounts::register(store, &SystemClock, &UuidV7Ids, &hasher, &context, account)
        .await
        .expect("the customer registers")
}

/// A job of `kind` for `user` about a booking of its own (so its dedup key is new).
pub(crate) fn job_for(user: &UserId, kind: JobKind) -> Job {
    let inr = Currency::parse("INR").expect("a currency");
    Job {
        id: JobId::from(uuid::Uuid::now_v7()),
        recipient: Recipient::UserId(user.clone()),
        kind,
        subject: Subject::Booking(BookingSnapshot {
            booking_id: uuid::Uuid::now_v7().to_string(),
            flight_id: uuid::Uuid::now_v7().to_string(),
            flight_number: "AI101".into(),
            from: "DEL".into(),
            to: "BOM".into(),
            departure_time: Utc::now() + TimeDelta::days(3),
            seats: 2,
            total: Money::new(250_000, inr).expect("an amount"),
        }),
        created_at: Utc::now(),
    }
}

/// The same job under another id: another message for the same work.
fn same_work_another_id(job: &Job) -> Job {
    Job {
        id: JobId::from(uuid::Uuid::now_v7()),
        ..job.clone()
    }
}

/// A first receive of `job` from the queue.
pub(crate) fn delivery(job: &Job) -> Delivery {
    raw_delivery(&job.to_body().unwrap())
}

pub(crate) fn raw_delivery(body: &str) -> Delivery {
    Delivery {
        message_id: uuid::Uuid::new_v4().to_string(),
        receipt: uuid::Uuid::new_v4().to_string(),
        body: body.to_owned(),
        receive_count: 1,
    }
}

/// The same message, received once more.
fn redelivered(delivery: &Delivery) -> Delivery {
    Delivery {
        receipt: uuid::Uuid::new_v4().to_string(),
        receive_count: delivery.receive_count + 1,
        ..delivery.clone()
    }
}

/// Every notification of `user`, newest first.
pub(crate) async fn notifications_of(store: &dyn Store, user: &UserId) -> Vec<Notification> {
    let limit = PageLimit::try_from(100).expect("a page size");
    list_notifications(store, user, NotificationFilter::All, limit, None)
        .await
        .expect("the notifications list")
        .notifications
}

/// An embedded store in a temporary directory, kept as long as the directory.
fn embedded_store() -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = EmbeddedStore::open(dir.path()).expect("the embedded store opens");
    (Arc::new(store), dir)
}

// ------------------------------------------------------------------ scenarios, on both stores

async fn a_batch_reports_exactly_the_poisoned_message(store: Arc<dyn Store>) {
    let mailer = Arc::new(RecordingMailer::new());
    let services = worker(Arc::clone(&store), mailer.clone());
    let ada = register_customer(&*store, "Ada").await;
    let first = delivery(&job_for(&ada.id, JobKind::BookingConfirmed));
    let poisoned = raw_delivery(r#"{"id": "not a job", "kind": {"type": "booking-confirmed"}}"#);
    let second = delivery(&job_for(&ada.id, JobKind::DepartureReminder));

    let failed = process_batch(
        &services,
        vec![first.clone(), poisoned.clone(), second.clone()],
    )
    .await;

    assert_eq!(failed, [poisoned.message_id.as_str()]);
    assert_eq!(mailer.sent().len(), 2);
    assert_eq!(notifications_of(&*store, &ada.id).await.len(), 2);
    // It keeps failing on every receive, so the queue's redrive moves it to the dead-letter queue.
    let again = process_batch(&services, vec![redelivered(&poisoned)]).await;
    assert_eq!(again, [poisoned.message_id]);
}

async fn a_redelivered_job_sends_one_email_and_writes_one_notification(store: Arc<dyn Store>) {
    let mailer = Arc::new(RecordingMailer::new());
    let services = worker(Arc::clone(&store), mailer.clone());
    let ada = register_customer(&*store, "Ada Lovelace").await;
    let job = job_for(&ada.id, JobKind::BookingConfirmed);
    let first = delivery(&job);

    assert!(
        process_batch(&services, vec![first.clone()])
            .await
            .is_empty()
    );
    // The same message again, and the same work under another job id.
    let repeats = vec![redelivered(&first), delivery(&same_work_another_id(&job))];
    assert!(process_batch(&services, repeats).await.is_empty());
    assert_eq!(
        process_job(&services, &job).await.unwrap(),
        Processed::AlreadyDone
    );

    let sent = mailer.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let notifications = notifications_of(&*store, &ada.id).await;
    assert_eq!(notifications.len(), 1, "{notifications:?}");
    // The email and the notification tell the same thing, to the user's address.
    let message = message_for(&job);
    assert_eq!(sent[0].to(), &ada.email);
    assert_eq!(sent[0].subject(), message.title);
    assert!(sent[0].text_body().starts_with("Hello Ada Lovelace,"));
    assert!(sent[0].text_body().contains(&message.body));
    assert_eq!(notifications[0].title, message.title);
    assert_eq!(notifications[0].body, message.body);
    assert_eq!(
        notifications[0].booking_id.as_deref(),
        Some(job.subject.id())
    );
    assert!(!notifications[0].read);
}

async fn concurrent_deliveries_of_one_job_send_one_email(store: Arc<dyn Store>) {
    let mailer = Arc::new(RecordingMailer::gated());
    let services = worker(Arc::clone(&store), mailer.clone());
    let ada = register_customer(&*store, "Ada").await;
    let job = job_for(
        &ada.id,
        JobKind::BookingCancelled {
            refund: Some(Money::new(250_000, Currency::parse("INR").unwrap()).unwrap()),
        },
    );

    // The first delivery claims the job and is held inside its send.
    let first = tokio::spawn({
        let services = services.clone();
        let job = job.clone();
        async move { process_job(&services, &job).await }
    });
    mailer.gate().entered.notified().await;
    // A second delivery of the same work meanwhile must not send: it fails, to be retried.
    let second = process_job(&services, &same_work_another_id(&job)).await;
    assert!(matches!(second, Err(JobError::InProgress)), "{second:?}");

    mailer.gate().open.add_permits(1);
    assert_eq!(first.await.unwrap().unwrap(), Processed::Emailed);
    // Its retry finds the work done.
    assert_eq!(
        process_job(&services, &job).await.unwrap(),
        Processed::AlreadyDone
    );
    assert_eq!(mailer.sent().len(), 1);
    assert_eq!(notifications_of(&*store, &ada.id).await.len(), 1);
}

async fn a_failed_send_fails_the_message_and_its_retry_sends_once(store: Arc<dyn Store>) {
    let mailer = Arc::new(RecordingMailer::new());
    let services = worker(Arc::clone(&store), mailer.clone());
    let ada = register_customer(&*store, "Ada").await;
    let message = delivery(&job_for(&ada.id, JobKind::BookingExpired));
    mailer.fail_next(1);

    let failed = process_batch(&services, vec![message.clone()]).await;
    assert_eq!(failed, [message.message_id.as_str()]);
    assert!(mailer.sent().is_empty());
    // The notification is written already; the email waits for the retry.
    assert_eq!(notifications_of(&*store, &ada.id).await.len(), 1);

    // The failed send gave its lease back: the retry need not wait for it to lapse.
    assert!(
        process_batch(&services, vec![redelivered(&message)])
            .await
            .is_empty()
    );
    assert_eq!(mailer.sent().len(), 1);
    assert_eq!(notifications_of(&*store, &ada.id).await.len(), 1);
    assert!(
        process_batch(&services, vec![redelivered(&message)])
            .await
            .is_empty()
    );
    assert_eq!(mailer.sent().len(), 1);
}

async fn a_lease_left_by_a_crashed_delivery_lapses_and_the_next_delivery_sends(
    store: Arc<dyn Store>,
) {
    let mailer = Arc::new(RecordingMailer::gated());
    let clock = Arc::new(SettableClock::now());
    let services = WorkerServices {
        clock: clock.clone(),
        ..worker(Arc::clone(&store), mailer.clone())
    };
    let ada = register_customer(&*store, "Ada").await;
    let job = job_for(&ada.id, JobKind::DepartureReminder);

    // A delivery dies while sending: it never records the email nor gives the lease back.
    let crashed = tokio::spawn({
        let services = services.clone();
        let job = job.clone();
        async move { process_job(&services, &job).await }
    });
    mailer.gate().entered.notified().await;
    crashed.abort();
    assert!(crashed.await.unwrap_err().is_cancelled());

    let within_the_lease = process_job(&services, &job).await;
    assert!(
        matches!(within_the_lease, Err(JobError::InProgress)),
        "{within_the_lease:?}"
    );
    clock.advance(EMAIL_LEASE + TimeDelta::seconds(1));
    assert_eq!(
        process_job(&services, &job).await.unwrap(),
        Processed::Emailed
    );
    assert_eq!(mailer.sent().len(), 1);
    assert_eq!(notifications_of(&*store, &ada.id).await.len(), 1);
}

async fn a_disabled_user_is_notified_without_email_and_a_missing_one_gets_nothing(
    store: Arc<dyn Store>,
) {
    let mailer = Arc::new(RecordingMailer::new());
    let services = worker(Arc::clone(&store), mailer.clone());
    let ada = register_customer(&*store, "Ada").await;
    let admin = RequestContext {
        request_id: uuid::Uuid::new_v4().to_string(),
        principal: None,
    };
    let disable = AdminChanges::new(None, Some(true)).expect("a change");
    accounts::admin_update_user(
        &*store,
        &SystemClock,
        &UuidV7Ids,
        &admin,
        &ada.id,
        &disable,
        &Precondition::None,
    )
    .await
    .expect("the user is disabled");
    let job = job_for(&ada.id, JobKind::BookingConfirmed);
    assert_eq!(
        process_job(&services, &job).await.unwrap(),
        Processed::EmailSkipped
    );
    assert_eq!(
        process_job(&services, &job).await.unwrap(),
        Processed::AlreadyDone
    );
    assert_eq!(notifications_of(&*store, &ada.id).await.len(), 1);

    let nobody = UserId::from(uuid::Uuid::now_v7());
    let orphan = delivery(&job_for(&nobody, JobKind::BookingExpired));
    assert!(process_batch(&services, vec![orphan]).await.is_empty());
    assert!(notifications_of(&*store, &nobody).await.is_empty());
    assert!(mailer.sent().is_empty());
}

async fn a_job_whose_text_makes_no_valid_email_fails_and_writes_nothing(store: Arc<dyn Store>) {
    let mailer = Arc::new(RecordingMailer::new());
    let services = worker(Arc::clone(&store), mailer.clone());
    let ada = register_customer(&*store, "Ada").await;
    let mut job = job_for(&ada.id, JobKind::BookingConfirmed);
    if let Subject::Booking(booking) = &mut job.subject {
        booking.flight_number = "AI101\r\nBcc: someone@example.com".into();
    }
    let message = delivery(&job);

    let outcome = process_job(&services, &job).await;
    assert!(
        matches!(outcome, Err(JobError::InvalidEmail(_))),
        "{outcome:?}"
    );
    assert_eq!(
        process_batch(&services, vec![message.clone()]).await,
        [message.message_id.as_str()]
    );
    assert!(notifications_of(&*store, &ada.id).await.is_empty());
    assert!(mailer.sent().is_empty());
}

/// Runs each scenario on a fresh embedded store and on a fresh DynamoDB table.
macro_rules! on_both_stores {
    ($($scenario:ident),+ $(,)?) => {
        mod embedded {
            $(
                #[tokio::test]
                async fn $scenario() {
                    let (store, _dir) = super::embedded_store();
                    super::$scenario(store).await;
                }
            )+
        }

        mod dynamodb {
            $(
                #[tokio::test]
                async fn $scenario() {
                    super::$scenario(super::fresh_dynamodb_store().await).await;
                }
            )+
        }
    };
}

on_both_stores!(
    a_batch_reports_exactly_the_poisoned_message,
    a_redelivered_job_sends_one_email_and_writes_one_notification,
    concurrent_deliveries_of_one_job_send_one_email,
    a_failed_send_fails_the_message_and_its_retry_sends_once,
    a_lease_left_by_a_crashed_delivery_lapses_and_the_next_delivery_sends,
    a_disabled_user_is_notified_without_email_and_a_missing_one_gets_nothing,
    a_job_whose_text_makes_no_valid_email_fails_and_writes_nothing,
);

// ------------------------------------------------------------------ SES on moto

const SES_ENDPOINT_VARIABLE: &str = "ITINERA_TEST_SES_ENDPOINT";

/// The SES-compatible server (moto). Without it the tests fail rather than skip: a skipped
/// adapter would look like a passing one.
fn ses_endpoint() -> String {
    std::env::var(SES_ENDPOINT_VARIABLE).unwrap_or_else(|_| {
        panic!(
            "{SES_ENDPOINT_VARIABLE} is not set: start moto with ./infra/test.sh or set \
             {SES_ENDPOINT_VARIABLE}"
        )
    })
}

/// An address no earlier run against the same server has used.
fn unique_address(local: &str) -> Address {
    let unique = uuid::Uuid::now_v7().simple().to_string();
    Address::parse(&format!("{local}-{unique}@itinera.example")).expect("an address")
}

/// Verifies `sender` as an SES identity, as an operator does once per account and region.
async fn verify_identity(endpoint: &str, sender: &Address) {
    itinera_aws::ses::build_local_client(endpoint)
        .create_email_identity()
        .email_identity(sender.as_str())
        .send()
        .await
        .unwrap_or_else(|error| {
            panic!(
                "verifying {sender}: {}",
                aws_sdk_sesv2::error::DisplayErrorContext(&error)
            )
        });
}

/// Passes emails on to another mailer and counts the ones it accepted: SES offers no way to read
/// sent mail back, and moto's only one (its whole-state dump) stalls the shared server for a
/// minute once the suite's tables are in it.
struct CountingMailer<M> {
    inner: M,
    accepted: AtomicUsize,
}

impl<M> CountingMailer<M> {
    fn new(inner: M) -> Self {
        Self {
            inner,
            accepted: AtomicUsize::new(0),
        }
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl<M: Mailer> Mailer for CountingMailer<M> {
    async fn send(&self, email: &Email) -> Result<(), MailError> {
        self.inner.send(email).await?;
        self.accepted.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[tokio::test]
async fn the_ses_mailer_is_refused_for_an_unverified_sender_and_sends_once_verified() {
    let endpoint = ses_endpoint();
    let sender = unique_address("noreply");
    let recipient = unique_address("zoe");
    let mailer = SesMailer::new(
        itinera_aws::ses::build_local_client(&endpoint),
        sender.clone(),
    );
    let subject = "Booking confirmed: AI101 DEL → BOM";
    let body = "Hello Zoë,\n\nYour booking is confirmed. Total paid: INR 2,500.00.\n\nItinera\n";
    let email =
        Email::new(recipient, subject, body, "booking-confirmed#ses-test").expect("an email");

    let refused = mailer.send(&email).await.unwrap_err();
    assert!(matches!(refused, MailError::Rejected(_)), "{refused:?}");
    // The caller sees the category; SES's own words stay in the source, for the log.
    assert_eq!(refused.to_string(), "the mail service rejected the message");
    let source = std::error::Error::source(&refused).expect("the SDK error");
    assert!(
        aws_sdk_sesv2::error::DisplayErrorContext(source)
            .to_string()
            .contains("MessageRejected"),
        "{source:?}"
    );

    verify_identity(&endpoint, &sender).await;
    mailer
        .send(&email)
        .await
        .expect("a verified sender may send UTF-8 subject and body");
}

#[tokio::test]
async fn the_worker_on_dynamodb_sends_one_email_through_ses_for_a_redelivered_job() {
    let endpoint = ses_endpoint();
    let store = fresh_dynamodb_store().await;
    let sender = unique_address("noreply");
    verify_identity(&endpoint, &sender).await;
    let mailer = Arc::new(CountingMailer::new(SesMailer::new(
        itinera_aws::ses::build_local_client(&endpoint),
        sender,
    )));
    let services = worker(Arc::clone(&store), mailer.clone());
    let ada = register_customer(&*store, "Ada").await;
    let job = job_for(&ada.id, JobKind::BookingConfirmed);
    let message = delivery(&job);

    assert!(
        process_batch(&services, vec![message.clone()])
            .await
            .is_empty()
    );
    assert!(
        process_batch(&services, vec![redelivered(&message)])
            .await
            .is_empty()
    );

    assert_eq!(mailer.accepted(), 1);
    assert_eq!(notifications_of(&*store, &ada.id).await.len(), 1);
}
