//! Adding an airplane to the fleet.

use serde_json::Map;

use super::model::{Airplane, AirplaneId, NewAirplane};
use super::records;
use crate::audit::{self, Action, Change};
use crate::clock::{Clock, IdGenerator};
use crate::error::DomainError;
use crate::identity::RequestContext;
use crate::storage::{Condition, Put, Store, WriteOp, to_item};

/// Stores a new airplane at version 1 together with its audit entry, in one transaction. The put
/// is conditional, so a colliding id is refused by the store, never overwritten, and then neither
/// item is written.
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
    let change = Change {
        entity_type: records::ENTITY,
        entity_id: airplane.id.to_string(),
        action: Action::Create,
        before: Map::new(),
        after: to_item(&airplane)?,
    };
    store
        .transact(vec![
            WriteOp::Put(Put {
                item: records::new_item(&airplane)?,
                condition: Some(Condition::ItemNotExists),
            }),
            audit::entry(&change, context, now, ids.new_id()),
        ])
        .await?;
    Ok(airplane)
}
