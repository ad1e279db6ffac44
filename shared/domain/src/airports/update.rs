//! Changing an airport's name, city, country or time zone under optimistic locking.

use chrono::{DateTime, Utc};

use super::model::{Airport, AirportChanges};
use super::records::{self, FLIGHT_COUNT};
use crate::entity::{Changeable, Revision, Unused};
use crate::error::DomainError;
use crate::storage::Item;

/// An airport's change ([`super::update_airport`]) sets only the changed attributes under the
/// version read, with the audit entry of the changed fields, so a concurrent change and the
/// flight counter that flights keep on the item are never overwritten: one read and one
/// transaction of two writes.
///
/// The time zone cannot change while flights use the airport: a flight is filed under the local
/// date of its departure at its origin, and those dates were computed in the old zone. The
/// update is then also conditional on the flight counter being 0, so a flight created meanwhile
/// cannot slip in under the old zone.
impl Changeable for Airport {
    type Changes = AirportChanges;

    fn revise(
        &self,
        changes: &AirportChanges,
        _: &Item,
        now: DateTime<Utc>,
    ) -> Result<Revision<Self>, DomainError> {
        let changed = Airport {
            name: changes.name().cloned().unwrap_or(self.name.clone()),
            city: changes.city().cloned().unwrap_or(self.city.clone()),
            country: changes.country().cloned().unwrap_or(self.country.clone()),
            time_zone: changes.time_zone().unwrap_or(self.time_zone),
            ..self.clone()
        };
        let set = records::changed_attributes(changes, now, self.version + 1);
        let mut revision = Revision::new(changed, set);
        let moves_zone = changes
            .time_zone()
            .is_some_and(|zone| zone != self.time_zone);
        revision.unused = moves_zone.then_some(Unused {
            counter: FLIGHT_COUNT,
            refusal: zone_in_use,
        });
        Ok(revision)
    }
}

fn zone_in_use(flights: u64) -> DomainError {
    DomainError::Conflict {
        detail: format!(
            "The time zone cannot change while {flights} flight(s) use the airport: their \
             search dates are local to the current zone."
        ),
    }
}
