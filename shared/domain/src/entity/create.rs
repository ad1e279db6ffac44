//! Creating an entity at version 1, with its audit entry in the same transaction.

use chrono::{DateTime, Utc};
use serde_json::Map;

use super::Versioned;
use crate::audit::{self, Action, Change};
use crate::clock::IdGenerator;
use crate::identity::RequestContext;
use crate::storage::{Condition, Item, Put, Store, StoreError, WriteOp};

/// The writes that create `entity` (stored as `item`): the put, conditional on no item at its
/// key, so a colliding id or code is refused and never overwritten; then `extra` (reservations,
/// counters of what the entity uses); then the audit entry recording the entity as created. A
/// failed condition names its operation: the put is 0, `extra` follow from 1.
pub(crate) fn creation<E: Versioned>(
    entity: &E,
    item: Item,
    extra: Vec<WriteOp>,
    context: &RequestContext,
    at: DateTime<Utc>,
    ids: &dyn IdGenerator,
) -> Result<Vec<WriteOp>, StoreError> {
    let change = Change {
        entity_type: E::KIND,
        entity_id: entity.audit_id(),
        action: Action::Create,
        before: Map::new(),
        after: entity.view()?,
    };
    let mut operations = vec![WriteOp::Put(Put {
        item,
        condition: Some(Condition::ItemNotExists),
    })];
    operations.extend(extra);
    operations.push(audit::entry(&change, context, at, ids.new_id()));
    Ok(operations)
}

/// Stores a new entity and its audit entry in one transaction ([`creation`] with no other
/// writes). The store's error comes back as it is, so the caller answers a taken key (the put's
/// condition, operation 0) in its own words.
pub(crate) async fn create<E: Versioned>(
    store: &dyn Store,
    ids: &dyn IdGenerator,
    context: &RequestContext,
    at: DateTime<Utc>,
    entity: &E,
    item: Item,
) -> Result<(), StoreError> {
    let operations = creation(entity, item, Vec::new(), context, at, ids)?;
    store.transact(operations).await
}
