//! The scheduled rental reminders: a pickup reminder for each reserved contract starting within a
//! day, and a return reminder for each active contract ending today, each staged once.
//!
//! Both are found by one Query each on the status index (`gsi3`, partition `CONTRACTS`, sort key
//! `<status>#<startDate>#<id>`), never a Scan: the reserved contracts starting today or tomorrow
//! are a sort-key range, the active ones a `begins_with` (there are at most as many as cars, as a
//! car is out on one contract at a time) filtered to those ending today. A contract already
//! reminded carries a marker attribute, which the Query filters out.
//!
//! Each reminder is staged in the outbox in one transaction with its marker, an update of the
//! contract conditioned on its version read and on the marker's absence: of two runs at once only
//! one stages it, and a contract changed since the Query (cancelled, picked up, re-dated) is left
//! to the next run, which reads it afresh. Should a reminder reach the queue twice anyway (a
//! dispatch retried by the relay), the worker's deduplication on the job's key absorbs it.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

use super::model::{Contract, ContractStatus};
use super::notices;
use super::records::{self, ALL_CONTRACTS, STATUS_INDEX};
use crate::calendar::Day;
use crate::cars::Car;
use crate::clock::{Clock, IdGenerator};
use crate::customers::Customer;
use crate::entity::{self, Stored};
use crate::error::DomainError;
use crate::jobs::{JobKind, JobQueue, outbox};
use crate::storage::{
    Comparison, Condition, Item, Query, SortCondition, Store, Update, WriteOp, query_all, timestamp,
};
use crate::version::{Guarded, transact_guarded};

/// The attribute marking a contract whose pickup reminder is staged (the time it was).
pub(crate) const PICKUP_REMINDED: &str = "pickupReminded";
/// The attribute marking a contract whose return reminder is staged (the time it was).
pub(crate) const RETURN_REMINDED: &str = "returnReminded";
/// How far ahead of its first day a rental gets its pickup reminder.
const AHEAD: TimeDelta = TimeDelta::hours(24);
/// How many contracts one Query page reads.
const PAGE: u32 = 100;

/// One kind of reminder: which contracts are due, and the marker that says they were reminded.
struct Due {
    kind: JobKind,
    marker: &'static str,
    query: Query,
}

impl Due {
    /// Reserved contracts whose first day is today or tomorrow (UTC): their pickup is within 24
    /// hours of `now`, or already due.
    fn pickups(now: DateTime<Utc>) -> Self {
        let prefix = records::status_prefix(ContractStatus::Reserved);
        let (today, until) = (Day::today(now), Day::today(now + AHEAD));
        let mut query = Query::partition(Some(STATUS_INDEX), ALL_CONTRACTS);
        query.sort = Some(SortCondition::Between(
            format!("{prefix}{today}"),
            format!("{prefix}{until}#~"),
        ));
        query.filter = Some(Condition::AttributeNotExists(PICKUP_REMINDED.into()));
        query.limit = PAGE;
        Self {
            kind: JobKind::PickupReminder,
            marker: PICKUP_REMINDED,
            query,
        }
    }

    /// Active contracts whose last day is today (UTC).
    fn returns(now: DateTime<Utc>) -> Self {
        let mut query = Query::partition(Some(STATUS_INDEX), ALL_CONTRACTS);
        query.sort = Some(SortCondition::BeginsWith(records::status_prefix(
            ContractStatus::Active,
        )));
        query.filter = Some(Condition::And(vec![
            Condition::AttributeNotExists(RETURN_REMINDED.into()),
            Condition::compare("endDate", Comparison::Equal, Day::today(now).to_string()),
        ]));
        query.limit = PAGE;
        Self {
            kind: JobKind::ReturnReminder,
            marker: RETURN_REMINDED,
            query,
        }
    }
}

/// Stages a pickup reminder for every reserved contract starting within 24 hours and a return
/// reminder for every active contract ending today that has not had its own yet, dispatches them
/// to `queue` (or leaves them to the relay without one), and returns how many it queued.
#[tracing::instrument(skip_all)]
pub async fn queue_rental_reminders(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    queue: Option<&dyn JobQueue>,
) -> Result<usize, DomainError> {
    let now = clock.now();
    let mut queued = 0;
    for due in [Due::pickups(now), Due::returns(now)] {
        for item in query_all(store, due.query.clone()).await? {
            if remind(store, clock, ids, queue, &due, item).await? {
                queued += 1;
            }
        }
    }
    if queued > 0 {
        tracing::info!(queued, "queued rental reminders");
    }
    Ok(queued)
}

/// Stages and dispatches the reminder `due` names for the contract of `item`; whether it did.
async fn remind(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    queue: Option<&dyn JobQueue>,
    due: &Due,
    item: Item,
) -> Result<bool, DomainError> {
    let contract = Contract::from_item(item)?;
    // Neither can be deleted while the contract holds days; should one be gone anyway, the other
    // contracts still get their reminders.
    let parties = async {
        let car: Car = entity::find(store, &contract.car_id).await?;
        let customer: Customer = entity::find(store, &contract.customer_id).await?;
        Ok::<_, DomainError>((car, customer))
    };
    let (car, customer) = match parties.await {
        Ok(parties) => parties,
        Err(DomainError::NotFound { entity }) => {
            tracing::error!(contract_id = %contract.id, ?entity, "a contract's car or customer is gone; no reminder");
            return Ok(false);
        }
        Err(other) => return Err(other),
    };
    let now = clock.now();
    let job = notices::job(ids, due.kind.clone(), &contract, (&car, &customer), now);
    let operations = vec![
        WriteOp::Update(mark(&contract, due.marker, now)),
        outbox::stage(&job)?,
    ];
    match transact_guarded(store, operations, 0).await? {
        Guarded::Committed => {
            outbox::dispatch(store, queue, &[job]).await;
            Ok(true)
        }
        // Another run reminded it, or it changed since the Query: the next run reads it afresh.
        Guarded::Lost => Ok(false),
    }
}

/// The marker on `contract` that its reminder is staged: only on the version read, and only once.
fn mark(contract: &Contract, marker: &str, now: DateTime<Utc>) -> Update {
    let mut update = Update::new(records::key(&contract.id));
    update
        .set
        .push((marker.into(), Value::from(timestamp(now))));
    update.condition = Some(Condition::And(vec![
        Condition::ItemExists,
        Condition::version_is(contract.version),
        Condition::AttributeNotExists(marker.into()),
    ]));
    update
}
