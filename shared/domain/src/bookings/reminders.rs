//! The scheduled departure reminders: one job per confirmed booking of every flight that departs
//! within a day.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

use super::events;
use super::model::BookingStatus;
use super::records::{self, FLIGHT_INDEX};
use crate::clock::{Clock, IdGenerator};
use crate::error::DomainError;
use crate::flights::{self, FlightId, FlightStatus};
use crate::jobs::{Job, JobKind, JobQueue, outbox};
use crate::storage::{
    Comparison, Condition, Item, MAX_TRANSACTION_OPERATIONS, Query, SortCondition, Store, Update,
    WriteOp,
};
use crate::version::{Guarded, transact_guarded};

/// How far ahead departures get their reminders.
const AHEAD: TimeDelta = TimeDelta::hours(24);
/// The attribute marking a flight whose reminders are all staged (the time they were).
const REMINDERS_QUEUED: &str = "remindersQueued";
/// The attribute holding how far through a flight's bookings the staged reminders reach: the
/// booking index sort key of the last booking read, for a flight with more bookings than one
/// transaction holds.
const REMINDERS_PROGRESS: &str = "remindersProgress";
/// How many bookings one transaction reads: its jobs plus the flight's mark fill it.
const CHUNK: u32 = MAX_TRANSACTION_OPERATIONS as u32 - 1;
/// How many flights one Query page reads.
const FLIGHT_PAGE: u32 = 100;

/// Stages a departure reminder for every confirmed booking of the flights departing within the
/// next 24 hours that have not had theirs yet, dispatches them, and returns how many it queued.
///
/// Flights come from the departures index (the partitions of today and tomorrow, UTC, with a
/// sort-key range on the departure time), bookings from the flight's bookings index filtered to
/// confirmed ones. Reminders are staged in the outbox in transactions of at most 100 operations,
/// together with a mark on the flight: `remindersProgress` after a chunk when more bookings
/// follow, `remindersQueued` after the last. Each mark is conditioned on the progress read, so a
/// run resumes where an interrupted one stopped, and of two runs at once only one stages a chunk.
/// Reminders sent twice anyway (a dispatch retried by the relay) are absorbed by the workers'
/// deduplication on [`Job::dedup_key`].
#[tracing::instrument(skip_all)]
pub async fn queue_departure_reminders(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    queue: Option<&dyn JobQueue>,
) -> Result<usize, DomainError> {
    let now = clock.now();
    let until = now + AHEAD;
    let mut days = vec![now.date_naive()];
    if until.date_naive() != now.date_naive() {
        days.push(until.date_naive());
    }
    let mut queued = 0;
    for day in days {
        let mut query = Query::partition(
            Some(flights::DEPARTURES_INDEX),
            flights::departures_partition(day),
        );
        query.sort = Some(SortCondition::Between(
            records::timestamp(now),
            format!("{}#~", records::timestamp(until)),
        ));
        query.filter = Some(Condition::And(vec![
            Condition::AttributeNotExists(REMINDERS_QUEUED.into()),
            Condition::compare(
                flights::STATUS,
                Comparison::Equal,
                FlightStatus::Scheduled.as_str(),
            ),
        ]));
        query.limit = FLIGHT_PAGE;
        loop {
            let page = store.query(query.clone()).await?;
            for flight in &page.items {
                queued += remind(store, clock, ids, queue, flight).await?;
            }
            match page.last_evaluated_key {
                Some(last) => query.start_after = Some(last),
                None => break,
            }
        }
    }
    if queued > 0 {
        tracing::info!(queued, "queued departure reminders");
    }
    Ok(queued)
}

/// Stages and dispatches the reminders of one flight, chunk by chunk; how many it queued.
async fn remind(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    queue: Option<&dyn JobQueue>,
    flight: &Item,
) -> Result<usize, DomainError> {
    let Some(flight_id) = flight
        .get("id")
        .and_then(Value::as_str)
        .and_then(FlightId::parse)
    else {
        tracing::error!("a flight in the departures index has no valid id; skipping it");
        return Ok(0);
    };
    let mut progress = flight
        .get(REMINDERS_PROGRESS)
        .and_then(Value::as_str)
        .map(str::to_owned);
    let mut queued = 0;
    loop {
        let mut query = Query::partition(Some(FLIGHT_INDEX), records::flight_partition(&flight_id));
        query.sort = progress.clone().map(SortCondition::Greater);
        query.limit = CHUNK;
        query.filter = Some(records::status_is(BookingStatus::Confirmed));
        let page = store.query(query).await?;
        let now = clock.now();
        let jobs = page
            .items
            .into_iter()
            .map(|item| {
                let booking = records::from_item(item)?;
                Ok(events::job(ids, &booking, JobKind::DepartureReminder, now))
            })
            .collect::<Result<Vec<Job>, DomainError>>()?;
        let reached = page.last_evaluated_key.as_ref().and_then(|last| {
            last.get(FLIGHT_INDEX.sort_key())
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
        let mut operations = vec![WriteOp::Update(mark(
            &flight_id,
            progress.as_deref(),
            reached.as_deref(),
            now,
        ))];
        for job in &jobs {
            operations.push(outbox::stage(job)?);
        }
        match transact_guarded(store, operations, 0).await? {
            Guarded::Committed => {
                outbox::dispatch(store, queue, &jobs).await;
                queued += jobs.len();
            }
            // Another run staged this chunk (or the flight changed): it carries on from here.
            Guarded::Lost => return Ok(queued),
        }
        match reached {
            Some(reached) => progress = Some(reached),
            None => return Ok(queued),
        }
    }
}

/// The mark on the flight after a chunk: how far the reminders reach (`reached`), or that they are
/// all staged. Conditioned on the progress the chunk started from, so no chunk is staged twice.
fn mark(
    flight: &FlightId,
    from: Option<&str>,
    reached: Option<&str>,
    now: DateTime<Utc>,
) -> Update {
    let mut update = Update::new(flights::flight_key(flight));
    match reached {
        Some(reached) => update
            .set
            .push((REMINDERS_PROGRESS.into(), Value::from(reached))),
        None => {
            update.set.push((
                REMINDERS_QUEUED.into(),
                Value::from(records::timestamp(now)),
            ));
            update.remove.push(REMINDERS_PROGRESS.into());
        }
    }
    let started_from = match from {
        Some(from) => Condition::compare(REMINDERS_PROGRESS, Comparison::Equal, from),
        None => Condition::AttributeNotExists(REMINDERS_PROGRESS.into()),
    };
    update.condition = Some(Condition::And(vec![
        Condition::ItemExists,
        Condition::AttributeNotExists(REMINDERS_QUEUED.into()),
        started_from,
    ]));
    update
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunk_is_one_transaction_with_the_flights_mark() {
        assert_eq!(CHUNK as usize + 1, MAX_TRANSACTION_OPERATIONS);
    }

    #[test]
    fn the_mark_resumes_from_the_progress_read_and_finishes_with_the_flag() {
        let flight = FlightId::parse("0190f5d2-8c00-7c4b-9a1e-3f2b8c4d5e6f").unwrap();
        let now = DateTime::parse_from_rfc3339("2026-11-21T08:00:00Z")
            .unwrap()
            .to_utc();
        let partial = mark(&flight, None, Some("2026#b"), now);
        assert_eq!(
            partial.set,
            [(REMINDERS_PROGRESS.to_owned(), Value::from("2026#b"))]
        );
        let Some(Condition::And(conditions)) = &partial.condition else {
            panic!("a guarded mark");
        };
        assert!(conditions.contains(&Condition::AttributeNotExists(REMINDERS_PROGRESS.into())));
        let last = mark(&flight, Some("2026#b"), None, now);
        assert_eq!(last.set[0].0, REMINDERS_QUEUED);
        assert_eq!(last.remove, [REMINDERS_PROGRESS]);
        let Some(Condition::And(conditions)) = &last.condition else {
            panic!("a guarded mark");
        };
        assert!(conditions.contains(&Condition::compare(
            REMINDERS_PROGRESS,
            Comparison::Equal,
            "2026#b"
        )));
    }
}
