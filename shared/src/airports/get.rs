//! Reading one airport.

use super::model::{Airport, AirportCode};
use super::records;
use crate::entity::EntityKind;
use crate::error::DomainError;
use crate::storage::{Store, from_item};

pub(crate) const ENTITY: EntityKind = EntityKind::Airport;

/// One strongly consistent read by key.
#[tracing::instrument(skip(store), fields(airport_code = %code))]
pub async fn get_airport(store: &dyn Store, code: &AirportCode) -> Result<Airport, DomainError> {
    match store.get(&records::key(code)).await? {
        Some(item) => Ok(from_item(item)?),
        None => Err(DomainError::NotFound { entity: ENTITY }),
    }
}
