//! Changing an airport's name, city, country or time zone under optimistic locking.

use super::get::ENTITY;
use super::model::{Airport, AirportChanges, AirportCode};
use super::records::{self, FLIGHT_COUNT};
use crate::audit::{self, Action, Change};
use crate::clock::{Clock, IdGenerator};
use crate::error::DomainError;
use crate::identity::RequestContext;
use crate::storage::{Comparison, Condition, Item, Store, Update, WriteOp, from_item, to_item};
use crate::version::{Guarded, Precondition, transact_guarded};

/// How often a change is re-read and retried when a concurrent change wins the race and the
/// caller named no version.
const ATTEMPTS: usize = 3;

/// The position of the airport's update in the transaction; the audit entry follows it.
const UPDATE_OPERATION: usize = 0;

/// Reads the airport, checks the caller's precondition, then sets only the changed attributes
/// with a condition on the version read, so a concurrent change and the flight counter that
/// flights keep on the item are never overwritten. The update and its audit entry commit in one
/// transaction: one read and one transaction of two writes.
///
/// The time zone cannot change while flights use the airport: a flight is filed under the local
/// date of its departure at its origin, and those dates were computed in the old zone. The
/// update is then also conditional on the flight counter being 0, so a flight created meanwhile
/// cannot slip in under the old zone.
#[tracing::instrument(
    skip(store, clock, ids, context, changes),
    fields(airport_code = %code, request_id = %context.request_id)
)]
pub async fn update_airport(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    context: &RequestContext,
    code: &AirportCode,
    changes: &AirportChanges,
    precondition: &Precondition,
) -> Result<Airport, DomainError> {
    for _ in 0..ATTEMPTS {
        let item = store
            .get(&records::key(code))
            .await?
            .ok_or(DomainError::NotFound { entity: ENTITY })?;
        let flights = records::flight_count(&item);
        let current: Airport = from_item(item)?;
        if !precondition.admits(current.version) {
            return Err(DomainError::PreconditionFailed { entity: ENTITY });
        }
        let moves_zone = changes
            .time_zone()
            .is_some_and(|zone| zone != current.time_zone);
        if moves_zone && flights > 0 {
            return Err(zone_in_use(flights));
        }
        let now = clock.now();
        let changed = Airport {
            name: changes.name().cloned().unwrap_or(current.name.clone()),
            city: changes.city().cloned().unwrap_or(current.city.clone()),
            country: changes
                .country()
                .cloned()
                .unwrap_or(current.country.clone()),
            time_zone: changes.time_zone().unwrap_or(current.time_zone),
            version: current.version + 1,
            updated_at: now,
            ..current.clone()
        };
        let (before, after) = Change::diff(&to_item(&current)?, &to_item(&changed)?);
        let change = Change {
            entity_type: records::ENTITY,
            entity_id: code.to_string(),
            action: Action::Update,
            before,
            after,
        };
        let mut guard = vec![Condition::version_is(current.version)];
        if moves_zone {
            guard.push(Condition::compare(FLIGHT_COUNT, Comparison::Equal, 0));
        }
        let mut update = Update::new(records::key(code));
        update.set = records::changed_attributes(changes, now, changed.version);
        update.condition = Some(Condition::And(guard));
        let operations = vec![
            WriteOp::Update(update),
            audit::entry(&change, context, now, ids.new_id()),
        ];
        if transact_guarded(store, operations, UPDATE_OPERATION).await? == Guarded::Committed {
            return Ok(changed);
        }
        let item = store.get(&records::key(code)).await?;
        if let Some(error) = why_update_failed(item.as_ref(), moves_zone, precondition) {
            return Err(error);
        }
    }
    Err(DomainError::Conflict {
        detail: "The airport is being changed concurrently; retry the request.".into(),
    })
}

fn zone_in_use(flights: u64) -> DomainError {
    DomainError::Conflict {
        detail: format!(
            "The time zone cannot change while {flights} flight(s) use the airport: their \
             search dates are local to the current zone."
        ),
    }
}

/// Tells apart the reasons a guarded update can fail, from the airport's item as it is now: gone
/// (404), a flight arrived while the zone was moving (409), or changed since `If-Match` (412).
/// `None` when it only changed under a caller who named no version, and the update should read
/// again and retry.
fn why_update_failed(
    item: Option<&Item>,
    moves_zone: bool,
    precondition: &Precondition,
) -> Option<DomainError> {
    let Some(item) = item else {
        return Some(DomainError::NotFound { entity: ENTITY });
    };
    let flights = records::flight_count(item);
    if moves_zone && flights > 0 {
        return Some(zone_in_use(flights));
    }
    precondition
        .is_explicit()
        .then_some(DomainError::PreconditionFailed { entity: ENTITY })
}
