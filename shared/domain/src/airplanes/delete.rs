//! Retiring an airplane from the fleet.

use super::model::Airplane;
use super::records::ACTIVE_FLIGHTS;
use crate::entity::{Removable, Unused};
use crate::error::DomainError;

/// An airplane is deleted ([`super::delete_airplane`]) unless a flight still uses it, together
/// with its audit entry (the airplane as it was) in one transaction. The "in use" rule is a
/// condition on the airplane's own `activeFlights` counter, which flight creation, cancellation
/// and deletion keep in the same transaction as the flight, so a delete racing a new flight can
/// never leave an orphan.
impl Removable for Airplane {
    const UNUSED: Option<Unused> = Some(Unused {
        counter: ACTIVE_FLIGHTS,
        refusal: |flights| DomainError::Conflict {
            detail: format!("The airplane is used by {flights} flight(s) that are not cancelled."),
        },
    });
}
