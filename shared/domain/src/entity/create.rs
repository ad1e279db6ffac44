//! Creating an entity at version 1, with its audit entry in the same transaction.

use chrono::{DateTime, Utc};
use serde_json::Map;

use super::Versioned;
use super::claim::{Claim, refused};
use super::guard::{ATTEMPTS, concurrent};
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

    /// The unique values the entity holds besides its key (a car's licence plate and VIN), each
    /// claimed in the creating transaction. None, unless the entity says otherwise.
    fn claims(_entity: &Self::Entity) -> Vec<Claim> {
        Vec::new()
    }
}

/// Creates the entity `new` describes: assembles it at version 1 and stores it with its claims
/// and its audit entry in one transaction, conditional on its key and every claimed value being
/// free, so of concurrent creates with one unique value exactly one commits and the others get
/// the claim's 409. A transaction that collided with a concurrent one on the same items (DynamoDB
/// cancels both) is tried again, where it meets the winner's claim. Costs one transaction of two
/// writes plus one per claim.
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
    let claims = N::claims(&entity);
    for _ in 0..ATTEMPTS {
        let extra = claims.iter().map(Claim::put).collect();
        let operations = creation(&entity, N::item(&entity)?, extra, context, now, ids)?;
        match store.transact(operations).await {
            Ok(()) => return Ok(entity),
            Err(error @ StoreError::TransactionConditionFailed { index: 0 }) => {
                return Err(N::taken(&entity).unwrap_or_else(|| error.into()));
            }
            Err(StoreError::TransactionConditionFailed { index }) => {
                return Err(refused(&claims, 1, index)
                    .unwrap_or_else(|| StoreError::TransactionConditionFailed { index }.into()));
            }
            Err(StoreError::TransactionConflict) => continue,
            Err(other) => return Err(other.into()),
        }
    }
    Err(concurrent::<N::Entity>())
}
