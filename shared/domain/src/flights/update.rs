//! Rescheduling, repricing and moving a flight through its statuses, under optimistic locking.

use chrono::{DateTime, Utc};

use super::flight_key;
use super::model::{Flight, FlightChanges, FlightId, FlightStatus, Schedule};
use super::records;
use crate::clock::{Clock, IdGenerator};
use crate::entity::{self, Revision};
use crate::error::DomainError;
use crate::identity::RequestContext;
use crate::jobs::{JobQueue, Task, TaskJob, outbox};
use crate::storage::{Item, Store, WriteOp};
use crate::version::Precondition;

/// Reads the flight, checks the caller's precondition and the rules below on the flight as it
/// would be, then sets only the attributes that change, guarded by the version read. Bookings
/// bump the version with every seat they take or return, so an update never overwrites the seat
/// counters: it loses the race, reads again and retries (or answers 412 under `If-Match`).
///
/// - Status moves: scheduled -> departed -> arrived, scheduled -> cancelled; any other move is a
///   409. Naming the current status again is no move.
/// - Times and price change only while the flight is scheduled; a new departure must be in the
///   future, and the merged schedule must depart before it arrives. A new departure moves the
///   flight to another search day and departures day: the index keys are rewritten with it.
/// - Cancelling takes effect at once, booked or not: the flight stops taking bookings and
///   payments (both are conditioned on it being scheduled), and the same transaction gives the
///   airplane back its flight (`activeFlights` - 1, so the airplane can be retired) and stages a
///   `CancelFlightBookings` task, through which the worker cancels and refunds every booking
///   still holding seats and tells each customer (`bookings::flight_cancellation`). The task is
///   sent to `queue` after the commit, or by the outbox relay.
///
/// Costs one read and one transaction of two writes (four when cancelling).
#[allow(clippy::too_many_arguments)]
#[tracing::instrument(
    skip(store, clock, ids, queue, context, changes),
    fields(flight_id = %id, request_id = %context.request_id)
)]
pub async fn update_flight(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    queue: Option<&dyn JobQueue>,
    context: &RequestContext,
    id: &FlightId,
    changes: &FlightChanges,
    precondition: &Precondition,
) -> Result<Flight, DomainError> {
    // The cancellation's fan-out task of the attempt that committed, sent after the commit.
    let mut fan_out = None;
    let key = flight_key(id);
    let revise = |current: &Flight, item: &Item, now| {
        let origin = records::origin_time_zone(item)?;
        let changed = apply(current, changes, now)?;
        let (set, remove) = records::changed_attributes(current, &changed, origin)?;
        let cancels =
            current.status != FlightStatus::Cancelled && changed.status == FlightStatus::Cancelled;
        fan_out = cancels.then(|| {
            TaskJob::new(
                ids,
                Task::CancelFlightBookings {
                    flight_id: id.to_string(),
                    after: None,
                },
                now,
            )
        });
        let mut revision = Revision::new(changed, set);
        revision.remove = remove;
        if let Some(task) = &fan_out {
            revision.writes = vec![
                WriteOp::Update(records::count_on_airplane(
                    &current.airplane_id,
                    -1,
                    Vec::new(),
                )),
                outbox::stage(task)?,
            ];
        }
        Ok(revision)
    };
    let changed = entity::update(store, clock, ids, context, &key, precondition, revise).await?;
    if let Some(task) = fan_out {
        outbox::dispatch(store, queue, &[task]).await;
    }
    Ok(changed)
}

/// The flight as `changes` would leave it, or why they may not apply to it.
fn apply(
    current: &Flight,
    changes: &FlightChanges,
    now: DateTime<Utc>,
) -> Result<Flight, DomainError> {
    let status = changes.status().unwrap_or(current.status);
    if !current.status.can_become(status) {
        return Err(DomainError::Conflict {
            detail: format!(
                "A {} flight cannot become {status}: flights go scheduled -> departed -> arrived, \
                 or scheduled -> cancelled.",
                current.status
            ),
        });
    }
    if changes.reschedules_or_reprices() && current.status != FlightStatus::Scheduled {
        return Err(DomainError::Conflict {
            detail: format!(
                "Only a scheduled flight's times and price can change; this flight is {}.",
                current.status
            ),
        });
    }
    if let Some(departure) = changes.departure_time()
        && departure <= now
    {
        return Err(DomainError::Invalid {
            field: "departureTime",
            message: "must be in the future".into(),
        });
    }
    let departure = changes.departure_time().unwrap_or(current.departure_time);
    let arrival = changes.arrival_time().unwrap_or(current.arrival_time);
    let schedule = Schedule::new(departure, arrival).map_err(|_| match changes.arrival_time() {
        Some(_) => DomainError::Invalid {
            field: "arrivalTime",
            message: "must be after the departure time".into(),
        },
        None => DomainError::Invalid {
            field: "departureTime",
            message: "must be before the arrival time".into(),
        },
    })?;
    Ok(Flight {
        departure_time: schedule.departure(),
        arrival_time: schedule.arrival(),
        price: changes.price().cloned().unwrap_or(current.price.clone()),
        status,
        version: current.version + 1,
        updated_at: now,
        ..current.clone()
    })
}
