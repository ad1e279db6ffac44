//! The daily expiry reminders: for each insurance policy and registration whose last day is
//! exactly 30, 7 or 1 days ahead (UTC), one job to the staff (an in-app notification to every
//! staff member and an email to the fleet's alerts address, `FLEET_ALERTS_EMAIL`), staged once
//! per paper, last day and threshold, however often the schedule runs.
//!
//! - **Found by index.** Each (kind, threshold) is one Query of the kind's expiry partition for
//!   one day (`gsi1`, `<PREFIX>#EXPIRY`, sort keys `<day>#...`), never a Scan.
//! - **Once.** The job is staged in the outbox in one transaction with a marker item put under
//!   `attribute_not_exists(pk)`: in the car's partition, sort key
//!   `REMINDED#<PREFIX>#<paperId>#<validTo>#<days>`, expiring a month after the paper's last
//!   day. Of two runs at once exactly one commits; the other's condition fails and it stages
//!   nothing. A job that still reaches the queue twice (the relay retrying a dispatch) is absorbed
//!   by the worker's deduplication on the job's key, which names the same four things.
//! - **Renewal stops them.** A paper is skipped when the car has a newer paper of the same kind
//!   (created after it, or in the same millisecond with a later id) whose last day is later: it was
//!   renewed, and its successor is what counts. A paper whose last day moves gets the reminders of
//!   its new day.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

use super::kinds::{Insurance, Registration};
use super::manage::{car_papers, expiring_between};
use super::paper::{Paper, PaperKind};
use crate::accounts::Email;
use crate::calendar::Day;
use crate::cars::{Car, car_key};
use crate::clock::{Clock, IdGenerator};
use crate::config::ConfigError;
use crate::entity::{self, EntityKind, Stored};
use crate::error::DomainError;
use crate::jobs::{Job, JobId, JobKind, JobQueue, PaperSnapshot, Recipient, Subject, outbox};
use crate::metrics;
use crate::storage::{Condition, Item, Key, Put, Store, TABLE, WriteOp, query_all};
use crate::version::{Guarded, transact_guarded};

/// The setting naming the address the staff's reminder emails go to: required by exactly the
/// functions that stage reminders (the template gives it to them alone).
pub const FLEET_ALERTS_EMAIL: &str = "FLEET_ALERTS_EMAIL";

/// The fleet's alerts address from `lookup` (the environment): required, and a valid address.
pub fn alerts_address(lookup: impl Fn(&str) -> Option<String>) -> Result<Email, ConfigError> {
    let address = lookup(FLEET_ALERTS_EMAIL)
        .ok_or_else(|| ConfigError::new(FLEET_ALERTS_EMAIL, "must be set"))?;
    Email::parse(&address).map_err(|problem| ConfigError::new(FLEET_ALERTS_EMAIL, problem))
}

/// How many days before a paper's last day its reminders come.
pub const THRESHOLDS: [u16; 3] = [30, 7, 1];
/// How long a marker outlives the paper's last day before the table's TTL removes it.
const MARKER_LIFETIME: TimeDelta = TimeDelta::days(30);

/// What a reminder run needs beyond the store: time, ids, where jobs go, and the address the
/// staff's email goes to.
pub struct ReminderPorts<'a> {
    pub clock: &'a dyn Clock,
    pub ids: &'a dyn IdGenerator,
    /// Where staged jobs are dispatched right away; without one, the relay sends them.
    pub queue: Option<&'a dyn JobQueue>,
    /// `FLEET_ALERTS_EMAIL`.
    pub alerts: &'a Email,
}

/// Stages and dispatches the reminder of every insurance policy and registration due one today
/// (see the module documentation); returns how many this run staged.
#[tracing::instrument(skip_all)]
pub async fn queue_fleet_reminders(
    store: &dyn Store,
    ports: &ReminderPorts<'_>,
) -> Result<usize, DomainError> {
    let queued = remind_kind::<Insurance>(store, ports).await?
        + remind_kind::<Registration>(store, ports).await?;
    if queued > 0 {
        tracing::info!(queued, "queued fleet expiry reminders");
    }
    Ok(queued)
}

/// The reminders of kind `K` due today, at every threshold.
async fn remind_kind<K: PaperKind>(
    store: &dyn Store,
    ports: &ReminderPorts<'_>,
) -> Result<usize, DomainError> {
    let today = Day::today(ports.clock.now());
    let mut queued = 0;
    for days in THRESHOLDS {
        let Some(day) = today
            .date()
            .checked_add_days(chrono::Days::new(days.into()))
        else {
            continue;
        };
        let day = Day::from(day);
        for item in query_all(store, expiring_between::<K>(day, day)).await? {
            let paper = Paper::<K>::from_item(item)?;
            if renewed(store, &paper).await? {
                continue;
            }
            if remind(store, ports, &paper, days).await? {
                queued += 1;
            }
        }
    }
    Ok(queued)
}

/// Whether the car has a newer paper of the same kind that lasts longer than `paper`.
async fn renewed<K: PaperKind>(store: &dyn Store, paper: &Paper<K>) -> Result<bool, DomainError> {
    for item in query_all(store, car_papers::<K>(&paper.car_id)).await? {
        let other = Paper::<K>::from_item(item)?;
        // Ids are UUIDv7: within one millisecond, the later id is the newer paper.
        let newer = (&other.created_at, &other.id) > (&paper.created_at, &paper.id);
        if newer && other.valid_to > paper.valid_to {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Stages and dispatches the reminder of `paper` `days` ahead, unless one was; whether it did.
async fn remind<K: PaperKind>(
    store: &dyn Store,
    ports: &ReminderPorts<'_>,
    paper: &Paper<K>,
    days: u16,
) -> Result<bool, DomainError> {
    let car: Car = match entity::find(store, &paper.car_id).await {
        Ok(car) => car,
        Err(DomainError::NotFound { .. }) => {
            tracing::warn!(
                paper_id = %paper.id,
                car_id = %paper.car_id,
                "a paper's car is gone; no reminder"
            );
            return Ok(false);
        }
        Err(other) => return Err(other),
    };
    let now = ports.clock.now();
    let job = Job {
        id: JobId::from(ports.ids.new_id()),
        recipient: Recipient::Staff(ports.alerts.clone()),
        kind: JobKind::PaperExpiring { days },
        subject: Subject::Paper(PaperSnapshot {
            paper_id: paper.id.to_string(),
            kind: K::NAME.to_owned(),
            car_id: car.id.to_string(),
            car: car.label(),
            paper: paper.details.label(),
            valid_to: paper.valid_to,
        }),
        created_at: now,
    };
    let marker = WriteOp::Put(Put {
        item: marker_item(paper, days, now),
        condition: Some(Condition::ItemNotExists),
    });
    match transact_guarded(store, vec![marker, outbox::stage(&job)?], 0).await? {
        Guarded::Committed => {
            metrics::FLEET_REMINDERS_QUEUED.increment(&[("kind", K::NAME)]);
            outbox::dispatch(store, ports.queue, &[job]).await;
            Ok(true)
        }
        // Another run staged it.
        Guarded::Lost => Ok(false),
    }
}

/// The key of the marker that `paper`'s reminder `days` ahead of its last day is staged.
fn marker_key<K: PaperKind>(paper: &Paper<K>, days: u16) -> Key {
    Key::new(
        car_key(&paper.car_id).pk,
        format!(
            "REMINDED#{}#{}#{}#{days}",
            K::PREFIX,
            paper.id,
            paper.valid_to
        ),
    )
}

/// The marker item: its key, when it was staged, and its expiry.
fn marker_item<K: PaperKind>(paper: &Paper<K>, days: u16, now: DateTime<Utc>) -> Item {
    let mut item = Item::new();
    marker_key(paper, days).write_into(&mut item);
    item.insert("entity".into(), Value::from(EntityKind::FleetReminder));
    item.insert(
        "stagedAt".into(),
        Value::from(crate::storage::timestamp(now)),
    );
    let last = paper
        .valid_to
        .date()
        .and_hms_opt(0, 0, 0)
        .map(|midnight| midnight.and_utc() + MARKER_LIFETIME)
        .unwrap_or(now + MARKER_LIFETIME);
    item.insert(TABLE.ttl_attribute.into(), Value::from(last.timestamp()));
    item
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::paper::tests::insurance;

    #[test]
    fn a_marker_names_the_paper_its_last_day_and_the_threshold_and_expires() {
        let paper = insurance("2026-01-01", "2026-12-31");
        let now = DateTime::parse_from_rfc3339("2026-12-01T03:00:00Z")
            .unwrap()
            .to_utc();
        let item = marker_item(&paper, 30, now);
        assert_eq!(item["pk"], format!("CAR#{}", paper.car_id));
        assert_eq!(
            item["sk"],
            format!("REMINDED#INSURANCE#{}#2026-12-31#30", paper.id)
        );
        assert_eq!(item["entity"], "fleet-reminder");
        let expiry = DateTime::parse_from_rfc3339("2027-01-30T00:00:00Z")
            .unwrap()
            .timestamp();
        assert_eq!(item["expiresAt"], expiry);
        assert_ne!(marker_key(&paper, 7), marker_key(&paper, 30));
    }

    #[test]
    fn the_alerts_address_is_required_and_valid() {
        let set = |value: &'static str| {
            move |name: &str| (name == FLEET_ALERTS_EMAIL).then(|| value.to_owned())
        };
        assert_eq!(
            alerts_address(set("fleet@example.com")).unwrap().as_str(),
            "fleet@example.com"
        );
        assert_eq!(
            alerts_address(set("not an address")).unwrap_err().variable,
            FLEET_ALERTS_EMAIL
        );
        assert!(alerts_address(|_| None).is_err());
    }
}
