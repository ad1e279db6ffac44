//! Reading one flight.

use super::flight_key;
use super::model::{Flight, FlightId};
use super::records;
use crate::entity::EntityKind;
use crate::error::DomainError;
use crate::storage::Store;

pub(crate) const ENTITY: EntityKind = EntityKind::Flight;

/// One strongly consistent read by key, so the seats shown are the seats committed.
#[tracing::instrument(skip(store), fields(flight_id = %id))]
pub async fn get_flight(store: &dyn Store, id: &FlightId) -> Result<Flight, DomainError> {
    match store.get(&flight_key(id)).await? {
        Some(item) => Ok(records::from_item(item)?),
        None => Err(DomainError::NotFound { entity: ENTITY }),
    }
}
