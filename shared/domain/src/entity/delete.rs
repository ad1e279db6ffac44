//! Deleting an entity unless something still uses it.

use serde_json::Map;

use super::guard::{ATTEMPTS, ENTITY_OPERATION, Unused, concurrent, why_lost};
use super::{EntityId, Stored, Versioned};
use crate::audit::{self, Action, Change};
use crate::clock::{Clock, IdGenerator};
use crate::error::DomainError;
use crate::identity::RequestContext;
use crate::storage::{Condition, Delete, Store, WriteOp};
use crate::version::{Guarded, Precondition, transact_guarded};

/// An entity deleted only while nothing uses it.
pub trait Removable: Versioned {
    /// The counter of the entity's uses on its own item, and the 409 while there are some;
    /// `None` for an entity nothing else uses (a car's insurance policy).
    const UNUSED: Option<Unused>;

    /// What the removal changes elsewhere, in the same transaction (the counters of what the
    /// entity used). Nothing, unless the entity says otherwise.
    fn released(&self) -> Vec<WriteOp> {
        Vec::new()
    }
}

/// Deletes the entity `id` names unless it is in use (a [`Removable::UNUSED`] counter above 0), together
/// with what its removal releases and its audit entry (the entity as it was), in one
/// transaction. The delete is conditional on the counter being 0 and on the version read, so the
/// entry records exactly what was deleted; without `If-Match`, a concurrent change only makes the
/// delete read again and retry. A failed delete reads the item once more to answer 404 (gone),
/// 409 (in use) or 412 (changed since `If-Match`).
#[tracing::instrument(
    skip(store, clock, ids, context),
    fields(entity = <I::Entity as Stored>::KIND.as_str(), id = %id, request_id = %context.request_id)
)]
pub async fn remove<I: EntityId>(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    context: &RequestContext,
    id: &I,
    precondition: &Precondition,
) -> Result<(), DomainError>
where
    I::Entity: Removable,
{
    let key = id.key();
    let unused = <I::Entity as Removable>::UNUSED;
    for _ in 0..ATTEMPTS {
        let item = super::read::<I::Entity>(store, &key).await?;
        let current = I::Entity::from_item(item.clone())?;
        if !precondition.admits(current.version()) {
            return Err(DomainError::PreconditionFailed {
                entity: I::Entity::KIND,
            });
        }
        if let Some(unused) = &unused {
            unused.check(&item)?;
        }
        let mut conditions = vec![
            Condition::ItemExists,
            Condition::version_is(current.version()),
        ];
        conditions.extend(unused.as_ref().map(Unused::condition));
        let delete = Delete {
            key: key.clone(),
            condition: Some(Condition::And(conditions)),
        };
        let change = Change {
            entity_type: I::Entity::KIND,
            entity_id: current.audit_id(),
            action: Action::Delete,
            before: current.view()?,
            after: Map::new(),
        };
        let mut operations = vec![WriteOp::Delete(delete)];
        operations.extend(current.released());
        operations.push(audit::entry(&change, context, clock.now(), ids.new_id()));
        if transact_guarded(store, operations, ENTITY_OPERATION).await? == Guarded::Committed {
            return Ok(());
        }
        let item = store.get(&key).await?;
        if let Some(error) = why_lost::<I::Entity>(item.as_ref(), unused.as_ref(), precondition) {
            return Err(error);
        }
    }
    Err(concurrent::<I::Entity>())
}
