//! Changing an airport's name, city, country or time zone under optimistic locking.

use super::model::{Airport, AirportChanges, AirportCode};
use super::records::{self, FLIGHT_COUNT};
use crate::clock::{Clock, IdGenerator};
use crate::entity::{self, Revision, Unused};
use crate::error::DomainError;
use crate::identity::RequestContext;
use crate::storage::Store;
use crate::version::Precondition;

/// Sets only the changed attributes under the version read, with the audit entry of the changed
/// fields, as [`entity::update`] does for every entity, so a concurrent change and the flight
/// counter that flights keep on the item are never overwritten: one read and one transaction of
/// two writes.
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
    let key = records::key(code);
    entity::update(
        store,
        clock,
        ids,
        context,
        &key,
        precondition,
        |current: &Airport, _, now| {
            let changed = Airport {
                name: changes.name().cloned().unwrap_or(current.name.clone()),
                city: changes.city().cloned().unwrap_or(current.city.clone()),
                country: changes
                    .country()
                    .cloned()
                    .unwrap_or(current.country.clone()),
                time_zone: changes.time_zone().unwrap_or(current.time_zone),
                ..current.clone()
            };
            let set = records::changed_attributes(changes, now, current.version + 1);
            let mut revision = Revision::new(changed, set);
            let moves_zone = changes
                .time_zone()
                .is_some_and(|zone| zone != current.time_zone);
            revision.unused = moves_zone.then_some(Unused {
                counter: FLIGHT_COUNT,
                refusal: zone_in_use,
            });
            Ok(revision)
        },
    )
    .await
}

fn zone_in_use(flights: u64) -> DomainError {
    DomainError::Conflict {
        detail: format!(
            "The time zone cannot change while {flights} flight(s) use the airport: their \
             search dates are local to the current zone."
        ),
    }
}
