//! Creating an entity at version 1, with its audit entry in the same transaction.

use chrono::{DateTime, Utc};
use serde_json::Map;

use super::Versioned;
use crate::audit::{self, Action, Change};
use crate::clock::{Clock, IdGenerator};
use crate::error::DomainError;
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
async fn create<E: Versioned>(
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

/// What a new entity is made of, when it needs no other record to agree with it: [`add`] stores
/// any of them the same way. (A flight, which counts itself on its airplane and airports, writes
/// its own transaction with [`creation`].)
pub trait NewEntity: Sized {
    /// The entity it makes.
    type Entity: Versioned;

    /// The entity at version 1, created at `now`; `ids` gives it an id unless it has a natural
    /// one.
    fn assemble(self, ids: &dyn IdGenerator, now: DateTime<Utc>) -> Self::Entity;

    /// The entity's first stored item, with the keys of every index that lists it.
    fn item(entity: &Self::Entity) -> Result<Item, StoreError>;

    /// The answer when the entity's key is taken already (a natural id, such as an airport's
    /// code, that another one has). `None` passes the store's refusal on as it is: a generated
    /// id is never taken, so that would be a fault, not a client's mistake.
    fn taken(_entity: &Self::Entity) -> Option<DomainError> {
        None
    }
}

/// Creates the entity `new` describes: assembles it at version 1 and stores it with its audit
/// entry in one transaction, conditional on its key being free. Costs one transaction of two
/// writes.
#[tracing::instrument(
    skip_all,
    fields(entity = <N::Entity as super::Stored>::KIND.as_str(), id, request_id = %context.request_id)
)]
pub async fn add<N: NewEntity>(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    context: &RequestContext,
    new: N,
) -> Result<N::Entity, DomainError> {
    let now = clock.now();
    let entity = new.assemble(ids, now);
    tracing::Span::current().record("id", entity.audit_id());
    let item = N::item(&entity)?;
    match create(store, ids, context, now, &entity, item).await {
        Ok(()) => Ok(entity),
        Err(error @ StoreError::TransactionConditionFailed { index: 0 }) => {
            Err(N::taken(&entity).unwrap_or_else(|| error.into()))
        }
        Err(other) => Err(other.into()),
    }
}
