//! Reading one flight.

use super::flight_key;
use super::model::{Flight, FlightId};
use crate::entity;
use crate::error::DomainError;
use crate::storage::Store;

/// One strongly consistent read by key, so the seats shown are the seats committed.
#[tracing::instrument(skip(store), fields(flight_id = %id))]
pub async fn get_flight(store: &dyn Store, id: &FlightId) -> Result<Flight, DomainError> {
    entity::get(store, &flight_key(id)).await
}
