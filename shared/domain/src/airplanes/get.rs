//! Reading one airplane.

use super::model::{Airplane, AirplaneId};
use super::records;
use crate::entity;
use crate::error::DomainError;
use crate::storage::Store;

/// One strongly consistent read by key.
#[tracing::instrument(skip(store), fields(airplane_id = %id))]
pub async fn get_airplane(store: &dyn Store, id: &AirplaneId) -> Result<Airplane, DomainError> {
    entity::get(store, &records::key(id)).await
}
