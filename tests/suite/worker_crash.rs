//! A worker killed with SIGKILL in the middle of a batch loses no job and sends each email once.
//!
//! The test re-runs this test binary as a child (selected by an environment variable and the
//! exact test name) that runs the local API's worker loop (`local_api::background::drain`) over
//! the embedded store and queue of a data directory, sending through the local outbox mailer.
//! The parent queues a few dozen email jobs, starts the child and kills it once a few emails of
//! its first batch are in the outbox. It then reads the job records the dead worker left, and starts a
//! second worker on the same directory with its clock past the queue's visibility timeout and
//! the email lease (the time a restart takes in production), which drains the queue.
//!
//! What `docs/jobs.md` promises, and so what is checked:
//! - every job is delivered: the queue ends empty, nothing dead-lettered, every record `sent`;
//! - each notification is written exactly once;
//! - each email is in the outbox exactly once (one file per job, to its user);
//! - the second worker sends nothing for a job the first recorded as sent, and exactly once each
//!   job the first never claimed; only a job whose email was in flight at the kill (its record
//!   `pending` under the dead worker's lease) may be sent again, and the outbox keeps one file
//!   for it, as a mail client deduplicating by `Message-ID` would.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use itinera::accounts::{Email as Address, User};
use itinera::clock::{Clock, UuidV7Ids};
use itinera::jobs::{EMAIL_LEASE, Job, JobKind, JobQueue, JobSource, QueueMessage, WorkerServices};
use itinera::mail::{Email, MailError, Mailer};
use itinera::storage::{Key, Store};
use itinera_embedded::{EmbeddedQueue, EmbeddedStore, OutboxMailer};
use tokio::sync::watch;

use itinera_tests::outbox::{message_id_of, outbox_dir, outbox_files};

use crate::worker::{job_for, notifications_of, register_customer};

/// Set in the child: the data directory.
const CHILD_DIR: &str = "ITINERA_WORKER_CRASH_DIR";
/// Set in the child: how far ahead of the system clock its clock runs, in seconds.
const CHILD_CLOCK_AHEAD: &str = "ITINERA_WORKER_CRASH_CLOCK_AHEAD_S";
/// Set in the child: how many emails the outbox holds once every job is done; the child stops
/// shortly after it sees that many (the first one is killed long before).
const CHILD_EXPECTED_EMAILS: &str = "ITINERA_WORKER_CRASH_EMAILS";
/// Set in the child: the name its sends are recorded under.
const CHILD_NAME: &str = "ITINERA_WORKER_CRASH_NAME";
/// This test's name, which the child is started with as its exact filter.
const TEST_NAME: &str =
    "worker_crash::a_worker_killed_mid_batch_redelivers_and_sends_each_email_once";

/// Users notified, and jobs per user: four batches of the worker's ten.
const USERS: usize = 4;
/// How many emails the first worker gets out before it is killed: some of its batch recorded
/// `sent` (their messages not yet deleted, as the loop deletes a batch once it is all done),
/// the rest still sending.
const EMAILS_BEFORE_KILL: usize = 6;
const JOBS_PER_USER: usize = 9;
/// How long the child waits, after the outbox holds every email, for the redeliveries of jobs
/// already done to come and go before it stops.
const SETTLE: Duration = Duration::from_secs(3);
/// The most either child may take.
const CHILD_TIMEOUT: Duration = Duration::from_secs(120);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// The system clock moved ahead by a fixed amount: the restarted worker's view of a restart that
/// took longer than the visibility timeout and the email lease.
#[derive(Debug)]
struct AheadClock(TimeDelta);

impl Clock for AheadClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.0
    }
}

/// The outbox mailer, taking as long as a mail service does (a different time per message, so
/// the sends of a batch finish one by one), and recording each accepted email's message id in
/// `<name>.sends` after the outbox took it: what each worker process really sent.
struct RecordedOutbox {
    outbox: OutboxMailer,
    sends: PathBuf,
}

#[async_trait]
impl Mailer for RecordedOutbox {
    async fn send(&self, email: &Email) -> Result<(), MailError> {
        let spread = email.message_id().bytes().map(u64::from).sum::<u64>() % 40;
        tokio::time::sleep(Duration::from_millis(10 + spread)).await;
        self.outbox.send(email).await?;
        let mut sends = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.sends)
            .expect("the sends record opens");
        writeln!(sends, "{}", email.message_id()).expect("the sends record takes a line");
        Ok(())
    }
}

/// The message ids the child `name` recorded as sent, each with how often.
fn sends_of(dir: &Path, name: &str) -> BTreeMap<String, usize> {
    let text = std::fs::read_to_string(dir.join(format!("{name}.sends"))).unwrap_or_default();
    let mut sends = BTreeMap::new();
    for line in text.lines() {
        *sends.entry(line.to_owned()).or_default() += 1;
    }
    sends
}

/// The child's side: the worker loop over the directory, until killed or, once the outbox holds
/// every email, [`SETTLE`] later.
fn run_worker(dir: &Path) {
    let ahead = std::env::var(CHILD_CLOCK_AHEAD)
        .ok()
        .and_then(|seconds| seconds.parse().ok())
        .map_or(TimeDelta::zero(), TimeDelta::seconds);
    let expected: usize = std::env::var(CHILD_EXPECTED_EMAILS)
        .expect("the child is told how many emails to expect")
        .parse()
        .expect("a number of emails");
    let name = std::env::var(CHILD_NAME).expect("the child is named");
    let clock: Arc<dyn Clock> = Arc::new(AheadClock(ahead));
    runtime().block_on(async {
        let store = EmbeddedStore::open(dir).expect("the child opens the store");
        let queue = EmbeddedQueue::open(dir)
            .expect("the child opens the queue")
            .with_clock(Arc::clone(&clock));
        let mailer = RecordedOutbox {
            outbox: OutboxMailer::new(
                outbox_dir(dir),
                Address::parse("noreply@itinera.test").expect("an address"),
            ),
            sends: dir.join(format!("{name}.sends")),
        };
        let worker = WorkerServices {
            store: Arc::new(store),
            clock,
            ids: Arc::new(UuidV7Ids),
            mailer: Arc::new(mailer),
            payments: Arc::new(itinera::payments::TestCardGateway),
        };
        let (stop, shutdown) = watch::channel(false);
        let watched = dir.to_path_buf();
        tokio::spawn(async move {
            while outbox_files(&watched).len() < expected {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            tokio::time::sleep(SETTLE).await;
            let _ = stop.send(true);
        });
        local_api::background::drain(worker, Arc::new(queue), shutdown).await;
    });
}

/// Starts a worker child on `dir`, its clock `ahead` of the system's, recording its sends as
/// `name`.
fn start_worker(dir: &Path, name: &str, ahead: TimeDelta, expected: usize) -> Child {
    Command::new(std::env::current_exe().expect("the test binary's path"))
        .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR, dir)
        .env(CHILD_NAME, name)
        .env(CHILD_CLOCK_AHEAD, ahead.num_seconds().to_string())
        .env(CHILD_EXPECTED_EMAILS, expected.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the worker child starts")
}

/// Waits for `child` to end by itself, failing the test if it takes too long or fails.
fn wait_for(mut child: Child) {
    let deadline = Instant::now() + CHILD_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().expect("the child's status") {
            assert!(status.success(), "the worker child failed: {status}");
            return;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the worker child did not finish within {CHILD_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The message id of `job`'s email (derived from its dedup key alone).
fn message_id(job: &Job) -> String {
    message_id_of(&job.dedup_key())
}

/// The state of each job's email in its record (`pending`, `sent`), by message id; absent for a
/// job no worker claimed.
async fn email_states(store: &dyn Store, jobs: &[Job]) -> BTreeMap<String, String> {
    let mut states = BTreeMap::new();
    for job in jobs {
        let key = Key::new(format!("JOB#{}", job.dedup_key()), "JOB");
        if let Some(record) = store.get(&key).await.expect("the record reads") {
            let state = record["email"].as_str().expect("an email state").to_owned();
            states.insert(message_id(job), state);
        }
    }
    states
}

/// The queued jobs' users and the jobs, written to the store and the queue of `dir`.
async fn queue_jobs(dir: &Path) -> (Vec<User>, Vec<Job>) {
    let store = EmbeddedStore::open(dir).expect("the store opens");
    let queue = EmbeddedQueue::open(dir).expect("the queue opens");
    let kinds = [
        JobKind::BookingConfirmed,
        JobKind::BookingExpired,
        JobKind::DepartureReminder,
    ];
    let mut users = Vec::new();
    let mut jobs = Vec::new();
    for n in 0..USERS {
        let user = register_customer(&store, &format!("Traveller {n}")).await;
        for k in 0..JOBS_PER_USER {
            jobs.push(job_for(&user.id, kinds[k % kinds.len()].clone()));
        }
        users.push(user);
    }
    let messages: Vec<QueueMessage> = jobs
        .iter()
        .map(|job| QueueMessage {
            id: job.id.to_string(),
            body: job.to_body().expect("a job body"),
        })
        .collect();
    for chunk in messages.chunks(itinera::jobs::MAX_BATCH) {
        queue
            .send(chunk.to_vec())
            .await
            .expect("the jobs are queued");
    }
    (users, jobs)
}

#[test]
fn a_worker_killed_mid_batch_redelivers_and_sends_each_email_once() {
    if let Ok(dir) = std::env::var(CHILD_DIR) {
        run_worker(Path::new(&dir));
        return;
    }
    let data = tempfile::tempdir().expect("a temporary directory");
    let dir = data.path();
    let (users, jobs) = runtime().block_on(queue_jobs(dir));
    let total = jobs.len();

    // The first worker dies in the middle of its first batch.
    let mut first = start_worker(dir, "first", TimeDelta::zero(), total);
    let deadline = Instant::now() + CHILD_TIMEOUT;
    while outbox_files(dir).len() < EMAILS_BEFORE_KILL {
        assert!(Instant::now() < deadline, "the first worker sent nothing");
        assert!(
            first.try_wait().expect("the child's status").is_none(),
            "the first worker ended before sending anything"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    first.kill().expect("SIGKILL reaches the worker");
    first.wait().expect("the killed worker is reaped");
    let sent_first = sends_of(dir, "first");
    let at_kill = runtime().block_on(async {
        let store = EmbeddedStore::open(dir).expect("the store opens after the crash");
        email_states(&store, &jobs).await
    });
    let emailed_at_kill = outbox_files(dir).len();
    assert!(
        emailed_at_kill < total,
        "the kill came after every email ({emailed_at_kill}); nothing was left mid-batch"
    );
    assert!(
        at_kill.values().any(|state| state == "sent"),
        "no job was recorded sent at the kill: {at_kill:?}"
    );

    // A worker restarted after the visibility timeout and the lease drains what is left.
    let ahead = TimeDelta::from_std(local_api::background::VISIBILITY).expect("a duration")
        + EMAIL_LEASE
        + TimeDelta::seconds(60);
    wait_for(start_worker(dir, "second", ahead, total));
    let sent_second = sends_of(dir, "second");

    let ids: BTreeSet<String> = jobs.iter().map(message_id).collect();
    for id in &ids {
        let before = at_kill.get(id).map(String::as_str);
        let again = sent_second.get(id).copied().unwrap_or(0);
        let first_sends = sent_first.get(id).copied().unwrap_or(0);
        match before {
            // Recorded as sent before the kill: never sent again.
            Some("sent") => assert_eq!(again, 0, "{id} was sent again after it was recorded"),
            // In flight at the kill: the dead worker's send may or may not have gone out; the
            // restarted worker sends it once more, and no more.
            Some("pending") => assert_eq!(again, 1, "{id} was pending at the kill"),
            // Never claimed: sent once, by the second worker.
            None => assert_eq!(
                (first_sends, again),
                (0, 1),
                "{id} was not claimed before the kill"
            ),
            Some(other) => panic!("{id} was {other} at the kill"),
        }
    }
    println!(
        "{total} jobs; at the kill {emailed_at_kill} emails in the outbox, {} recorded sent, {} \
         in flight; the restarted worker sent {}",
        at_kill.values().filter(|state| *state == "sent").count(),
        at_kill.values().filter(|state| *state == "pending").count(),
        sent_second.values().sum::<usize>(),
    );

    // One email per job in the outbox, each to its user.
    let files = outbox_files(dir);
    assert_eq!(files.len(), total, "{:?}", files.keys());
    for user in &users {
        let to = format!("To: {}", user.email.as_str());
        let emails = files.values().filter(|text| text.contains(&to)).count();
        assert_eq!(emails, JOBS_PER_USER, "emails to {}", user.email.as_str());
    }
    runtime().block_on(async {
        let store = EmbeddedStore::open(dir).expect("the store opens");
        // Every job done, each notification written once.
        let states = email_states(&store, &jobs).await;
        assert_eq!(states.len(), total);
        assert!(states.values().all(|state| state == "sent"), "{states:?}");
        for user in &users {
            let notifications = notifications_of(&store, &user.id).await;
            let subjects: BTreeSet<_> = notifications
                .iter()
                .map(|notification| notification.booking_id.clone())
                .collect();
            assert_eq!(notifications.len(), JOBS_PER_USER, "{notifications:?}");
            assert_eq!(
                subjects.len(),
                JOBS_PER_USER,
                "one notification per booking"
            );
        }
        // Nothing left to deliver, and nothing dead-lettered.
        let later: Arc<dyn Clock> = Arc::new(AheadClock(TimeDelta::days(1)));
        let queue = EmbeddedQueue::open(dir)
            .expect("the queue opens")
            .with_clock(later);
        let left = queue
            .receive(itinera::jobs::MAX_BATCH, Duration::from_secs(30))
            .await
            .expect("the queue answers");
        assert!(left.is_empty(), "{left:?}");
        let dead = queue
            .receive_dead_letters(itinera::jobs::MAX_BATCH, Duration::from_secs(30))
            .await
            .expect("the queue answers");
        assert!(dead.is_empty(), "{dead:?}");
    });
}
