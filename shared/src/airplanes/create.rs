//! Adding an airplane to the fleet.

use super::model::{Airplane, AirplaneId, NewAirplane};
use super::records;
use crate::clock::{Clock, IdGenerator};
use crate::error::DomainError;
use crate::storage::{Condition, Put, Store};

/// Stores a new airplane at version 1. One conditional put; a colliding id is refused by the
/// store, never overwritten.
#[tracing::instrument(skip_all, fields(airplane_id))]
pub async fn create_airplane(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    new: NewAirplane,
) -> Result<Airplane, DomainError> {
    let now = clock.now();
    let airplane = Airplane {
        id: AirplaneId::from(ids.new_id()),
        model_number: new.model_number,
        capacity: new.capacity,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    tracing::Span::current().record("airplane_id", airplane.id.as_str());
    store
        .put(Put {
            item: records::new_item(&airplane),
            condition: Some(Condition::ItemNotExists),
        })
        .await?;
    Ok(airplane)
}
