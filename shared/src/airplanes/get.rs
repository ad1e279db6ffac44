//! Reading one airplane.

use super::model::{Airplane, AirplaneId};
use super::records;
use crate::entity::EntityKind;
use crate::error::DomainError;
use crate::storage::{Store, from_item};

pub(crate) const ENTITY: EntityKind = EntityKind::Airplane;

/// One strongly consistent read by key.
#[tracing::instrument(skip(store), fields(airplane_id = %id))]
pub async fn get_airplane(store: &dyn Store, id: &AirplaneId) -> Result<Airplane, DomainError> {
    match store.get(&records::key(id)).await? {
        Some(item) => Ok(from_item(item)?),
        None => Err(DomainError::NotFound { entity: ENTITY }),
    }
}
