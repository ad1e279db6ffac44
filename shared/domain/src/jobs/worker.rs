//! The jobs worker: what a job does. Each notice writes one in-app notification for its user and
//! sends them one email (a notice to an email address alone, a rental customer with no account,
//! only the email), however often the queue delivers it; each task runs its use case
//! (settling a charge or a refund, cancelling a cancelled flight's bookings), whose conditioned
//! writes make a repeated delivery harmless (see [`super::Task`]).
//!
//! ## Once per job
//! A job's effects are recorded in a job record keyed by [`Job::dedup_key`]
//! (`JOB#<kind>#<booking or contract>`),
//! not by the job's id, so a second job for the same kind and booking (a retried request, an
//! overlapping scheduled run) counts as the same work.
//!
//! - **Notification: exactly once.** The first delivery writes the record and the notification in
//!   one transaction (the record alone when there is no user), the record on condition that it
//!   does not exist. Any later delivery fails
//!   that condition and writes nothing.
//! - **Email: at least once, in practice once.** The record carries the email's state (`pending`,
//!   `sent`, `skipped`) and a lease. A delivery sends only while it holds the lease: it takes it
//!   with the record, or later with a conditional update (still `pending`, no live lease), sends,
//!   then marks the record `sent` on condition that it still holds the lease. A delivery that
//!   finds the lease held elsewhere fails and is retried by the queue; one that finds `sent` or
//!   `skipped` completes without doing anything. A failed send releases the lease at once.
//!
//! One window remains: a crash after the mail service accepted the email and before the record
//! says `sent`. The queue delivers the job again, the lease lapses after the mailer's
//! [`Mailer::lease`] ([`EMAIL_LEASE`] for SES), and that delivery sends the email a second time.
//! (A store failure at the same point is logged and the delivery completes, so only a later
//! delivery of the same work would resend.) Closing the window
//! would need the mail service to deduplicate, which SES does not; the local outbox does, as a
//! resend replaces the file of its message id.
//!
//! ## Failures
//! A delivery fails (and the queue delivers it again after its visibility timeout, then moves it
//! to the dead-letter queue after [`super::MAX_RECEIVES`] receives) when its body is not a job, its
//! text makes no valid email, the store or the mail service fails, or another delivery of the same
//! job holds the lease. A user who no longer exists gets nothing; a disabled user gets the
//! notification but no email. Both complete the job and are logged.
//!
//! Writing the notification is not audited (see [`crate::notifications`]).

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::Instrument as _;

use super::job::{Job, Recipient, Subject};
use super::queue::{Delivery, MAX_RECEIVES};
use super::task::{TaskJob, Work};
use crate::accounts::{self, Email as Address};
use crate::clock::{Clock, IdGenerator};
use crate::entity::EntityKind;
use crate::error::{DomainError, chain};
use crate::identity::UserId;
use crate::mail::{Email, MailError, Mailer};
use crate::metrics;
use crate::notifications::{self, Notification, NotificationId, NotificationKind};
use crate::payments::PaymentProvider;
use crate::storage::{
    Comparison, Condition, Item, Key, Put, Store, StoreError, Update, WriteOp, to_item,
};

/// How long a delivery may take to send the email through a mail service once it holds the lease
/// (the default [`Mailer::lease`]). Far longer than a send takes (the SES client gives up within
/// seconds) and shorter than the queue's visibility timeout, so the retry of a delivery that died
/// holding the lease finds it lapsed.
pub const EMAIL_LEASE: TimeDelta = TimeDelta::seconds(60);

/// How long a job record is kept (DynamoDB TTL). Longer than any redelivery can come: the queue
/// keeps a message 4 days, the dead-letter queue 14, and departure reminders are queued within a
/// day of departure.
const RECORD_LIFETIME: TimeDelta = TimeDelta::days(30);

/// How often a delivery reads the record again when its conditional writes lose a race.
const CLAIM_ATTEMPTS: usize = 3;

/// The position of the record's put in the transaction that creates it; the notifications follow.
const RECORD_OPERATION: usize = 0;

/// The most users one job notifies in the app: the record and the notifications are one
/// transaction of at most 100 operations.
const MAX_READERS: usize = 99;

/// The entity type of job records.
const RECORD_ENTITY: EntityKind = EntityKind::JobRecord;
const EMAIL_STATE: &str = "email";
const LEASE_ID: &str = "leaseId";
const LEASE_UNTIL: &str = "leaseUntil";

/// What the worker needs: the store, time, ids, the mail service, and the payment provider the
/// tasks refund and look charges up through.
#[derive(Clone)]
pub struct WorkerServices {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
    pub mailer: Arc<dyn Mailer>,
    pub payments: Arc<dyn PaymentProvider>,
}

/// How a job completed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Processed {
    /// This delivery sent the email (and wrote the notification, unless an earlier delivery had).
    Emailed,
    /// The notification is written; the user is disabled, so no email went out.
    EmailSkipped,
    /// An earlier delivery of the same job did everything already.
    AlreadyDone,
    /// The user no longer exists: nothing was written or sent.
    UserGone,
}

/// Why a job did not complete; the delivery fails and the queue retries it.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Another delivery of the same job is sending its email right now.
    #[error("another delivery of the same job holds the email lease")]
    InProgress,
    #[error("the email could not be sent")]
    Mail(#[from] MailError),
    /// The job's text does not make a valid email (a job with control characters in its fields).
    #[error("the job does not make a valid email: {0}")]
    InvalidEmail(String),
    #[error("storage failed")]
    Store(#[from] StoreError),
    /// A task's use case failed (the store or the payment provider, or contention).
    #[error("the task failed")]
    Task(#[source] DomainError),
}

/// Processes a batch concurrently; returns the message ids of the deliveries that failed (to
/// retry), and only those.
pub async fn process_batch(services: &WorkerServices, deliveries: Vec<Delivery>) -> Vec<String> {
    let tasks: Vec<_> = deliveries
        .into_iter()
        .map(|delivery| {
            let services = services.clone();
            let message_id = delivery.message_id.clone();
            let span = tracing::info_span!(
                "delivery",
                message_id = %delivery.message_id,
                receive_count = delivery.receive_count
            );
            let task = tokio::spawn(
                async move { process_delivery(&services, &delivery).await }.instrument(span),
            );
            (message_id, task)
        })
        .collect();
    let mut failed = Vec::new();
    for (message_id, task) in tasks {
        match task.await {
            Ok(true) => {}
            Ok(false) => failed.push(message_id),
            Err(error) => {
                tracing::error!(%message_id, %error, "processing the message panicked");
                failed.push(message_id);
            }
        }
    }
    failed
}

/// One delivery: whether it completed (and may be deleted). Counted by its kind: processed,
/// or failed, and at its last receive dead-lettered too (the queue moves it aside next).
async fn process_delivery(services: &WorkerServices, delivery: &Delivery) -> bool {
    let (kind, done) = match Work::from_body(&delivery.body) {
        Ok(Work::Notice(job)) => (
            job.kind.name(),
            process_notice(services, delivery, &job).await,
        ),
        Ok(Work::Task(task)) => (
            task.task.name(),
            process_task(services, delivery, &task).await,
        ),
        Err(error) => {
            tracing::error!(
                message_id = %delivery.message_id,
                receive_count = delivery.receive_count,
                %error,
                "the message is not a job; it fails until the queue moves it to the dead-letter queue"
            );
            ("unreadable", false)
        }
    };
    let labels = [("job_kind", kind)];
    if done {
        metrics::JOBS_PROCESSED.increment(&labels);
    } else {
        metrics::JOBS_FAILED.increment(&labels);
        if delivery.receive_count >= MAX_RECEIVES {
            metrics::JOBS_DEAD_LETTERED.increment(&labels);
        }
    }
    done
}

/// Runs a notice job; whether it completed.
async fn process_notice(services: &WorkerServices, delivery: &Delivery, job: &Job) -> bool {
    match process_job(services, job).await {
        Ok(outcome) => {
            tracing::info!(
                message_id = %delivery.message_id,
                job_id = %job.id,
                kind = job.kind.name(),
                ?outcome,
                "job processed"
            );
            true
        }
        Err(JobError::InProgress) => {
            tracing::info!(
                message_id = %delivery.message_id,
                job_id = %job.id,
                "another delivery of this job is sending its email; retrying later"
            );
            false
        }
        Err(error) => {
            tracing::warn!(
                message_id = %delivery.message_id,
                job_id = %job.id,
                kind = job.kind.name(),
                receive_count = delivery.receive_count,
                error = %chain(&error),
                "job failed; the queue will deliver it again"
            );
            false
        }
    }
}

/// Runs a task; whether it completed.
async fn process_task(services: &WorkerServices, delivery: &Delivery, task: &TaskJob) -> bool {
    match run_task(services, task).await {
        Ok(()) => {
            tracing::info!(
                message_id = %delivery.message_id,
                job_id = %task.id,
                task = task.task.name(),
                "task done"
            );
            true
        }
        Err(error) => {
            tracing::warn!(
                message_id = %delivery.message_id,
                job_id = %task.id,
                task = task.task.name(),
                receive_count = delivery.receive_count,
                error = %chain(&error),
                "task failed; the queue will deliver it again"
            );
            false
        }
    }
}

/// Runs the use case of `task`.
pub async fn run_task(services: &WorkerServices, task: &TaskJob) -> Result<(), JobError> {
    crate::bookings::run_task(
        &*services.store,
        &*services.clock,
        &*services.ids,
        &*services.payments,
        task,
    )
    .await
    .map_err(JobError::Task)
}

/// Does what `job` asks, once: the notification (for a user), then the email (see the module
/// documentation). A job for an email address alone (a rental customer with no account) has no
/// notification: its record alone carries the once-only rule.
#[tracing::instrument(
    skip_all,
    fields(job_id = %job.id, kind = job.kind.name(), user_id = ?job.user_id())
)]
pub async fn process_job(services: &WorkerServices, job: &Job) -> Result<Processed, JobError> {
    let store = &*services.store;
    // Built before anything is written, so a job whose text makes no valid email writes nothing
    // and holds no lease while it fails its way to the dead-letter queue.
    let email = match &job.recipient {
        Recipient::UserId(user_id) => {
            let user = match accounts::get_user(store, user_id).await {
                Ok(user) => user,
                Err(DomainError::NotFound { .. }) => {
                    tracing::info!("the user no longer exists; nothing to notify");
                    return Ok(Processed::UserGone);
                }
                Err(DomainError::Store(error)) => return Err(error.into()),
                Err(other) => return Err(StoreError::internal(other).into()),
            };
            (!user.disabled)
                .then(|| email_for(job, user.email.clone(), user.name.as_str()))
                .transpose()?
        }
        Recipient::Email(address) | Recipient::Staff(address) => {
            Some(email_for(job, address.clone(), addressee(job))?)
        }
    };
    // Who reads it in the app: the user, or every staff member (none for a bare address).
    let readers = match &job.recipient {
        Recipient::UserId(user_id) => vec![user_id.clone()],
        Recipient::Email(_) => Vec::new(),
        Recipient::Staff(_) => accounts::staff_ids(store).await?,
    };
    let now = services.clock.now();
    let lease = Lease {
        id: services.ids.new_id().to_string(),
        until: now + services.mailer.lease(),
    };
    if claim(services, job, &readers, &lease, now).await? == Claim::Done {
        return Ok(Processed::AlreadyDone);
    }
    let Some(email) = email else {
        tracing::info!("the user is disabled; notified without email");
        finish(store, job, &lease, EmailState::Skipped, now).await;
        return Ok(Processed::EmailSkipped);
    };
    if let Err(error) = services.mailer.send(&email).await {
        release(store, job, &lease).await;
        return Err(error.into());
    }
    finish(store, job, &lease, EmailState::Sent, services.clock.now()).await;
    Ok(Processed::Emailed)
}

/// Who an email with no account behind it greets: the rental customer by the name on their
/// profile, or the fleet team at its alerts address. (Only rental contracts and expiring papers are
/// sent to a bare address.)
fn addressee(job: &Job) -> &str {
    match &job.subject {
        Subject::Contract(contract) => &contract.customer_name,
        Subject::Booking(_) | Subject::Issue(_) => "traveller",
        Subject::Paper(_) => "fleet team",
    }
}

/// What a delivery found when it claimed the job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Claim {
    /// The notification is written and this delivery holds the email lease.
    Holding,
    /// An earlier delivery did everything.
    Done,
}

/// The right to send a job's email, until `until`.
struct Lease {
    id: String,
    until: DateTime<Utc>,
}

/// Writes the record and the notification of each of `readers`, or takes the lease on the record
/// an earlier delivery wrote. Tries the write first: a job is new far more often than it is
/// redelivered. The record and every notification are one transaction, so a job for the staff
/// notifies at most [`MAX_READERS`] of them (the store's limit of operations in one).
async fn claim(
    services: &WorkerServices,
    job: &Job,
    readers: &[UserId],
    lease: &Lease,
    now: DateTime<Utc>,
) -> Result<Claim, JobError> {
    let store = &*services.store;
    let key = record_key(job);
    if readers.len() > MAX_READERS {
        tracing::warn!(
            readers = readers.len(),
            notified = MAX_READERS,
            "more staff than one transaction can notify; the first ones are notified"
        );
    }
    let readers = &readers[..readers.len().min(MAX_READERS)];
    let mut create = true;
    for _ in 0..CLAIM_ATTEMPTS {
        if create {
            let notifications: Vec<Notification> = readers
                .iter()
                .map(|user| notification_for(job, user, services.ids.new_id(), now))
                .collect();
            // The record names the notification of a job for one user.
            let named = job.user_id().and(notifications.first()).map(|n| &n.id);
            let mut operations = vec![WriteOp::Put(Put {
                item: new_record(job, named, lease, now)?,
                condition: Some(Condition::ItemNotExists),
            })];
            for notification in &notifications {
                operations.push(WriteOp::Put(Put {
                    item: notifications::new_item(notification)?,
                    condition: Some(Condition::ItemNotExists),
                }));
            }
            match store.transact(operations).await {
                Ok(()) => return Ok(Claim::Holding),
                Err(StoreError::TransactionConditionFailed {
                    index: RECORD_OPERATION,
                })
                | Err(StoreError::TransactionConflict) => {}
                Err(error) => return Err(error.into()),
            }
        }
        let Some(item) = store.get(&key).await? else {
            // A conflicting transaction that did not commit after all.
            create = true;
            continue;
        };
        create = false;
        let record = JobRecord::from_item(item)?;
        match record.email {
            EmailState::Sent | EmailState::Skipped => return Ok(Claim::Done),
            EmailState::Pending if record.lease_until > now.timestamp_millis() => {
                return Err(JobError::InProgress);
            }
            EmailState::Pending => match store.update(take_lease(key.clone(), lease, now)).await {
                Ok(_) => return Ok(Claim::Holding),
                Err(StoreError::ConditionFailed | StoreError::TransactionConflict) => {}
                Err(error) => return Err(error.into()),
            },
        }
    }
    Err(JobError::InProgress)
}

/// The notification a job writes for `user`, with a fresh (UUIDv7) id.
fn notification_for(job: &Job, user: &UserId, id: uuid::Uuid, now: DateTime<Utc>) -> Notification {
    let message = notifications::message_for(job);
    let (mut booking_id, mut contract_id, mut issue_id) = (None, None, None);
    match &job.subject {
        Subject::Booking(booking) => booking_id = Some(booking.booking_id.clone()),
        Subject::Contract(contract) => contract_id = Some(contract.contract_id.clone()),
        Subject::Issue(issue) => issue_id = Some(issue.issue_id.clone()),
        Subject::Paper(_) => {}
    }
    Notification {
        id: NotificationId::from(id),
        user_id: user.clone(),
        kind: NotificationKind::of(&job.kind),
        title: message.title,
        body: message.body,
        booking_id,
        contract_id,
        issue_id,
        read: false,
        created_at: now,
        read_at: None,
    }
}

/// The job's email to `to`, greeting `name`, with a message id derived from the dedup key.
fn email_for(job: &Job, to: Address, name: &str) -> Result<Email, JobError> {
    let message = notifications::message_for(job);
    let text = notifications::email_text(name, &message, job);
    Email::new(to, &message.title, &text, &job.dedup_key()).map_err(JobError::InvalidEmail)
}

/// Records how the email ended (`sent` or `skipped`) and drops the lease, if this delivery still
/// holds it. A failure is logged, not returned: the email went out (or never will), and failing
/// the delivery would only make a retry send it again.
async fn finish(store: &dyn Store, job: &Job, lease: &Lease, state: EmailState, at: DateTime<Utc>) {
    let mut update = drop_lease(record_key(job), lease);
    update.set.push((
        EMAIL_STATE.into(),
        serde_json::to_value(state).unwrap_or(Value::Null),
    ));
    if state == EmailState::Sent {
        update
            .set
            .push(("emailedAt".into(), Value::from(millis_text(at))));
    }
    match store.update(update).await {
        Ok(_) => {}
        Err(StoreError::ConditionFailed) => tracing::warn!(
            "the email lease lapsed before the email was recorded; another delivery may send it again"
        ),
        Err(error) => tracing::error!(
            error = %chain(&error),
            "could not record the email's state; a redelivery of this job may send it again"
        ),
    }
}

/// Gives the lease back after a failed send, so the retry need not wait for it to lapse.
async fn release(store: &dyn Store, job: &Job, lease: &Lease) {
    if let Err(error) = store.update(drop_lease(record_key(job), lease)).await {
        tracing::warn!(
            error = %chain(&error),
            "could not release the email lease; the retry waits for it to lapse"
        );
    }
}

/// Whether the job's email is still to be sent, was sent, or is not to be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum EmailState {
    Pending,
    Sent,
    Skipped,
}

/// The stored record of a job's effects.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JobRecord {
    pk: String,
    sk: String,
    entity: EntityKind,
    dedup_key: String,
    /// The job whose delivery wrote the record first.
    job_id: String,
    /// The user notified; absent for a job sent to an email address alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user_id: Option<String>,
    /// The notification written; absent when there is no user to notify.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    notification_id: Option<String>,
    email: EmailState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lease_id: Option<String>,
    /// Epoch milliseconds until which the lease holder may send; 0 when nobody holds it.
    lease_until: i64,
    created_at: DateTime<Utc>,
    /// TTL, epoch seconds.
    expires_at: i64,
}

impl JobRecord {
    fn from_item(item: Item) -> Result<Self, StoreError> {
        serde_json::from_value(Value::Object(item)).map_err(StoreError::internal)
    }
}

fn record_key(job: &Job) -> Key {
    Key::new(format!("JOB#{}", job.dedup_key()), "JOB")
}

/// The record of a job seen for the first time, its lease held by the delivery writing it.
fn new_record(
    job: &Job,
    notification: Option<&NotificationId>,
    lease: &Lease,
    now: DateTime<Utc>,
) -> Result<Item, StoreError> {
    let key = record_key(job);
    let record = JobRecord {
        pk: key.pk,
        sk: key.sk,
        entity: RECORD_ENTITY,
        dedup_key: job.dedup_key(),
        job_id: job.id.to_string(),
        user_id: job.user_id().map(ToString::to_string),
        notification_id: notification.map(ToString::to_string),
        email: EmailState::Pending,
        lease_id: Some(lease.id.clone()),
        lease_until: lease.until.timestamp_millis(),
        created_at: now,
        expires_at: (now + RECORD_LIFETIME).timestamp(),
    };
    to_item(&record)
}

/// Takes the lease of a record whose email is pending and whose lease, if any, has lapsed.
fn take_lease(key: Key, lease: &Lease, now: DateTime<Utc>) -> Update {
    let mut update = Update::new(key);
    update.set = vec![
        (LEASE_ID.into(), Value::from(lease.id.clone())),
        (
            LEASE_UNTIL.into(),
            Value::from(lease.until.timestamp_millis()),
        ),
    ];
    update.condition = Some(Condition::And(vec![
        Condition::ItemExists,
        Condition::compare(EMAIL_STATE, Comparison::Equal, "pending"),
        Condition::compare(LEASE_UNTIL, Comparison::Less, now.timestamp_millis()),
    ]));
    update
}

/// Drops the lease, on condition that `lease` is still the one held.
fn drop_lease(key: Key, lease: &Lease) -> Update {
    let mut update = Update::new(key);
    update.set = vec![(LEASE_UNTIL.into(), Value::from(0))];
    update.remove = vec![LEASE_ID.into()];
    update.condition = Some(Condition::compare(
        LEASE_ID,
        Comparison::Equal,
        lease.id.clone(),
    ));
    update
}

fn millis_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::JobKind;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    fn job() -> Job {
        Job {
            recipient: Recipient::UserId(
                UserId::parse("0190f5d2-7c20-7d4e-8b2f-4a3c9d5e6f71").unwrap(),
            ),
            ..Job::sample(JobKind::BookingExpired)
        }
    }

    fn lease() -> Lease {
        Lease {
            id: "lease-1".into(),
            until: at("2026-11-21T08:01:00Z"),
        }
    }

    #[test]
    fn the_record_is_keyed_by_the_dedup_key_and_expires_after_30_days() {
        let now = at("2026-11-21T08:00:00Z");
        let notification = NotificationId::from(uuid::Uuid::nil());
        let item = new_record(&job(), Some(&notification), &lease(), now).unwrap();
        assert_eq!(
            Key::of(&item).unwrap(),
            Key::new(
                "JOB#booking-expired#0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f",
                "JOB"
            )
        );
        assert_eq!(item["email"], "pending");
        assert_eq!(item["leaseId"], "lease-1");
        assert_eq!(
            item["leaseUntil"],
            at("2026-11-21T08:01:00Z").timestamp_millis()
        );
        assert_eq!(item["expiresAt"], at("2026-12-21T08:00:00Z").timestamp());
        let record = JobRecord::from_item(item).unwrap();
        assert_eq!(record.email, EmailState::Pending);
    }

    #[test]
    fn a_lease_is_taken_only_while_pending_and_lapsed_and_dropped_only_by_its_holder() {
        let now = at("2026-11-21T08:00:30Z");
        let take = take_lease(record_key(&job()), &lease(), now);
        assert_eq!(
            take.condition,
            Some(Condition::And(vec![
                Condition::ItemExists,
                Condition::compare("email", Comparison::Equal, "pending"),
                Condition::compare("leaseUntil", Comparison::Less, now.timestamp_millis()),
            ]))
        );
        let dropped = drop_lease(record_key(&job()), &lease());
        assert_eq!(
            dropped.condition,
            Some(Condition::compare("leaseId", Comparison::Equal, "lease-1"))
        );
        assert_eq!(dropped.remove, ["leaseId"]);
        assert_eq!(dropped.set, [("leaseUntil".to_owned(), Value::from(0))]);
    }

    #[test]
    fn the_notification_carries_the_jobs_message_and_booking() {
        let now = at("2026-11-21T08:00:00Z");
        let job = job();
        let user = job.user_id().unwrap();
        let notification = notification_for(&job, user, uuid::Uuid::max(), now);
        assert_eq!(notification.kind, NotificationKind::BookingExpired);
        assert_eq!(notification.title, "Booking expired: AI101 DEL to BOM");
        assert_eq!(notification.booking_id.as_deref(), Some(job.subject.id()));
        assert!(!notification.read);
        assert_eq!(&notification.user_id, user);
    }
}
