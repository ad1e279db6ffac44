//! Deleting an entity unless something still uses it.

use serde_json::Map;

use super::Versioned;
use super::guard::{ATTEMPTS, ENTITY_OPERATION, Unused, concurrent, why_lost};
use crate::audit::{self, Action, Change};
use crate::clock::{Clock, IdGenerator};
use crate::error::DomainError;
use crate::identity::RequestContext;
use crate::storage::{Condition, Delete, Key, Store, WriteOp};
use crate::version::{Guarded, Precondition, transact_guarded};

/// Deletes the entity at `key` unless it is in use (`unused`'s counter above 0), together with
/// `writes` (what the entity's removal changes elsewhere, such as the counters of what it used)
/// and its audit entry (the entity as it was), in one transaction. The delete is conditional on
/// the counter being 0 and on the version read, so the entry records exactly what was deleted;
/// without `If-Match`, a concurrent change only makes the delete read again and retry. A failed
/// delete reads the item once more to answer 404 (gone), 409 (in use) or 412 (changed since
/// `If-Match`).
#[allow(clippy::too_many_arguments)] // each port is a separate capability; bundling them hides which one a use case needs
pub(crate) async fn delete<E: Versioned>(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    context: &RequestContext,
    key: &Key,
    precondition: &Precondition,
    unused: Unused,
    writes: impl Fn(&E) -> Vec<WriteOp>,
) -> Result<(), DomainError> {
    for _ in 0..ATTEMPTS {
        let item = super::read::<E>(store, key).await?;
        let current = E::from_item(item.clone())?;
        if !precondition.admits(current.version()) {
            return Err(DomainError::PreconditionFailed { entity: E::KIND });
        }
        unused.check(&item)?;
        let delete = Delete {
            key: key.clone(),
            condition: Some(Condition::And(vec![
                Condition::ItemExists,
                unused.condition(),
                Condition::version_is(current.version()),
            ])),
        };
        let change = Change {
            entity_type: E::KIND,
            entity_id: current.audit_id(),
            action: Action::Delete,
            before: current.view()?,
            after: Map::new(),
        };
        let mut operations = vec![WriteOp::Delete(delete)];
        operations.extend(writes(&current));
        operations.push(audit::entry(&change, context, clock.now(), ids.new_id()));
        if transact_guarded(store, operations, ENTITY_OPERATION).await? == Guarded::Committed {
            return Ok(());
        }
        let item = store.get(key).await?;
        if let Some(error) = why_lost::<E>(item.as_ref(), Some(&unused), precondition) {
            return Err(error);
        }
    }
    Err(concurrent::<E>())
}
