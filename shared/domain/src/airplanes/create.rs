//! Adding an airplane to the fleet.

use super::model::{Airplane, AirplaneId, NewAirplane};
use super::records;
use crate::clock::{Clock, IdGenerator};
use crate::entity;
use crate::error::DomainError;
use crate::identity::RequestContext;
use crate::storage::Store;

/// Stores a new airplane at version 1, in use by no flight, together with its audit entry, in one
/// transaction. The put is conditional, so a colliding id is refused by the store, never
/// overwritten, and then neither item is written.
#[tracing::instrument(skip_all, fields(airplane_id, request_id = %context.request_id))]
pub async fn create_airplane(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    context: &RequestContext,
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
    let item = records::new_item(&airplane)?;
    entity::create(store, ids, context, now, &airplane, item).await?;
    Ok(airplane)
}
