//! Reading one airport.

use super::model::{Airport, AirportCode};
use super::records;
use crate::entity;
use crate::error::DomainError;
use crate::storage::Store;

/// One strongly consistent read by key.
#[tracing::instrument(skip(store), fields(airport_code = %code))]
pub async fn get_airport(store: &dyn Store, code: &AirportCode) -> Result<Airport, DomainError> {
    entity::get(store, &records::key(code)).await
}
