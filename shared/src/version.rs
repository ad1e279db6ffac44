//! Optimistic concurrency: entity versions, the preconditions clients state with `If-Match`, and
//! how a write guarded by the state it read comes out.

use serde_json::{Map, Value};

use crate::audit::{self, Action, Change};
use crate::clock::{Clock, IdGenerator};
use crate::entity::EntityKind;
use crate::error::DomainError;
use crate::identity::RequestContext;
use crate::storage::{Comparison, Condition, Delete, Item, Key, Store, StoreError, WriteOp};

/// What the caller requires of the current version before a change applies.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Precondition {
    /// No `If-Match`: the change applies to whatever version is current.
    #[default]
    None,
    /// `If-Match: *`: the entity must exist, any version.
    AnyVersion,
    /// `If-Match` with entity tags: the current version must be one of these. Tags that name no
    /// version of ours are dropped, so a list of only foreign tags matches nothing.
    OneOf(Vec<u64>),
}

impl Precondition {
    /// Whether an entity at `version` satisfies the precondition.
    pub fn admits(&self, version: u64) -> bool {
        match self {
            Self::None | Self::AnyVersion => true,
            Self::OneOf(versions) => versions.contains(&version),
        }
    }

    /// Whether the caller named a version, so that a concurrent change must fail the request
    /// rather than be retried over.
    pub fn is_explicit(&self) -> bool {
        !matches!(self, Self::None)
    }
}

/// How a transaction ended whose operation `guarded` is conditioned on the state the caller read
/// (a version, a hash, a counter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guarded {
    Committed,
    /// The guard failed, or a concurrent transaction on the same items collided with it: the
    /// state moved under the caller, who reads again to decide (412, 404, retry).
    Lost,
}

/// Runs `operations`, telling a lost race on the guarded operation apart from real failures.
pub async fn transact_guarded(
    store: &dyn Store,
    operations: Vec<WriteOp>,
    guarded: usize,
) -> Result<Guarded, StoreError> {
    match store.transact(operations).await {
        Ok(()) => Ok(Guarded::Committed),
        Err(StoreError::TransactionConditionFailed { index }) if index == guarded => {
            Ok(Guarded::Lost)
        }
        Err(StoreError::TransactionConflict) => Ok(Guarded::Lost),
        Err(other) => Err(other),
    }
}

/// An entity that may be deleted only while a counter on its own item is zero: an airplane while no
/// flight uses it (`activeFlights`), an airport while no flight departs from or arrives at it
/// (`flightCount`). Whoever starts using the entity increments the counter in the same transaction
/// as the use, so a delete racing a new use can never leave the use pointing nowhere.
pub(crate) struct CountedDelete {
    /// The entity's key.
    pub key: Key,
    /// The kind problems name.
    pub entity: EntityKind,
    /// The kind audit entries record.
    pub audit_type: EntityKind,
    pub entity_id: String,
    /// The counter of the uses that keep the entity.
    pub counter: &'static str,
    /// The 409's detail for an entity still used `n` times.
    pub in_use: fn(u64) -> String,
    /// The entity's version and public view (what the audit entry records), from its item.
    pub read: fn(Item) -> Result<VersionedView, StoreError>,
}

/// An entity's version and its public view.
pub(crate) type VersionedView = (u64, Map<String, Value>);

/// How often a delete is re-read and retried when a concurrent change wins the race and the
/// caller named no version.
const DELETE_ATTEMPTS: usize = 3;

/// The position of the delete in its transaction; the audit entry follows it.
const DELETE_OPERATION: usize = 0;

/// Deletes the entity unless it is in use, together with its audit entry (the entity as it was)
/// in one transaction. The delete is conditional on
/// the counter being 0 and on the version read, so the entry records exactly what was deleted;
/// without `If-Match`, a concurrent change only makes the delete read again and retry. A failed
/// delete reads the item once more to answer 404 (gone), 409 (in use) or 412 (changed since
/// `If-Match`).
pub(crate) async fn delete_unless_in_use(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    context: &RequestContext,
    target: &CountedDelete,
    precondition: &Precondition,
) -> Result<(), DomainError> {
    for _ in 0..DELETE_ATTEMPTS {
        let item = store.get(&target.key).await?.ok_or(DomainError::NotFound {
            entity: target.entity,
        })?;
        let (version, view) = (target.read)(item)?;
        if !precondition.admits(version) {
            return Err(DomainError::PreconditionFailed {
                entity: target.entity,
            });
        }
        let delete = Delete {
            key: target.key.clone(),
            condition: Some(Condition::And(vec![
                Condition::ItemExists,
                Condition::compare(target.counter, Comparison::Equal, 0),
                Condition::version_is(version),
            ])),
        };
        let change = Change {
            entity_type: target.audit_type,
            entity_id: target.entity_id.clone(),
            action: Action::Delete,
            before: view,
            after: Map::new(),
        };
        let operations = vec![
            WriteOp::Delete(delete),
            audit::entry(&change, context, clock.now(), ids.new_id()),
        ];
        if transact_guarded(store, operations, DELETE_OPERATION).await? == Guarded::Committed {
            return Ok(());
        }
        let item = store.get(&target.key).await?;
        if let Some(error) = why_delete_failed(target, item.as_ref(), precondition) {
            return Err(error);
        }
    }
    Err(DomainError::Conflict {
        detail: format!(
            "The {} is being changed concurrently; retry the request.",
            target.entity
        ),
    })
}

/// Tells apart the reasons a guarded delete can fail, from the item as it is now: gone (404), in
/// use (409), or changed since `If-Match` (412). `None` when it only changed under a caller who
/// named no version, and the delete should read again and retry.
fn why_delete_failed(
    target: &CountedDelete,
    item: Option<&Item>,
    precondition: &Precondition,
) -> Option<DomainError> {
    let Some(item) = item else {
        return Some(DomainError::NotFound {
            entity: target.entity,
        });
    };
    let uses = item
        .get(target.counter)
        .and_then(Value::as_u64)
        .unwrap_or(0);
    if uses > 0 {
        return Some(DomainError::Conflict {
            detail: (target.in_use)(uses),
        });
    }
    precondition
        .is_explicit()
        .then_some(DomainError::PreconditionFailed {
            entity: target.entity,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_precondition_admits_every_version() {
        assert!(Precondition::None.admits(7));
        assert!(!Precondition::None.is_explicit());
    }

    #[test]
    fn listed_versions_admit_only_themselves() {
        let precondition = Precondition::OneOf(vec![2, 3]);
        assert!(precondition.admits(3));
        assert!(!precondition.admits(4));
        assert!(!Precondition::OneOf(Vec::new()).admits(1));
    }
}
