//! Removing an airport that no flight uses.

use super::model::Airport;
use super::records::FLIGHT_COUNT;
use crate::entity::{Removable, Unused};
use crate::error::DomainError;

/// An airport is deleted ([`super::delete_airport`]) unless a flight departs from or arrives at
/// it, together with its audit entry (the airport as it was) in one transaction. "In use" is a
/// condition on the airport's own `flightCount`, which flight creation and deletion change in the
/// same transaction as the flight, so a delete racing a new flight can never leave the flight
/// pointing nowhere.
impl Removable for Airport {
    const UNUSED: Option<Unused> = Some(Unused {
        counter: FLIGHT_COUNT,
        refusal: |flights| DomainError::Conflict {
            detail: format!("The airport is used by {flights} flight(s); delete them first."),
        },
    });
}
