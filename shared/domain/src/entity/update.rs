//! Changing an entity under optimistic locking, with bounded retries.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::claim::{Claim, refused};
use super::guard::{ATTEMPTS, ENTITY_OPERATION, Unused, concurrent, why_lost};
use super::{EntityId, Stored, Versioned};
use crate::audit::{self, Action, Change};
use crate::clock::{Clock, IdGenerator};
use crate::error::DomainError;
use crate::identity::RequestContext;
use crate::storage::{
    Condition, Item, Key, Store, StoreError, Update, VERSION_ATTRIBUTE, WriteOp, timestamp,
};
use crate::version::{Guarded, Precondition, transact_guarded};

/// What one change does to an entity, as the entity's rules decide it from the current state.
pub struct Revision<E> {
    /// The entity as the change leaves it; [`update`] moves its version and timestamp.
    pub(crate) entity: E,
    /// The attributes set (index keys included); [`update`] writes the version and timestamp.
    pub(crate) set: Vec<(String, Value)>,
    /// The attributes removed.
    pub(crate) remove: Vec<String>,
    /// A counter on the entity's own item that must be 0 for this change (an airport's flights
    /// while its time zone moves).
    pub(crate) unused: Option<Unused>,
    /// Unique values the change takes (a car's new licence plate), claimed right after the
    /// entity's own write; one held by another entity is the claim's 409.
    pub(crate) claims: Vec<Claim>,
    /// Other writes of the same transaction, after the claims and before the audit entry (the
    /// release of a value the change gives up among them); a failed condition of one comes back
    /// as the store's `TransactionConditionFailed` at 1 + the claims + its position.
    pub(crate) writes: Vec<WriteOp>,
}

impl<E> Revision<E> {
    /// A change that sets `set` on the entity's item and writes nothing else.
    pub(crate) fn new(entity: E, set: Vec<(String, Value)>) -> Self {
        Self {
            entity,
            set,
            remove: Vec::new(),
            unused: None,
            claims: Vec::new(),
            writes: Vec::new(),
        }
    }

    /// Moves a unique value from `held` to `wanted`: claims the new one and releases the old
    /// in the same transaction. Nothing when both are the same value.
    pub(crate) fn reclaim(&mut self, held: Claim, wanted: Claim) {
        if !held.same_value(&wanted) {
            self.claims.push(wanted);
            self.writes.push(held.release());
        }
    }
}

/// Changes the entity at `key`: reads it, checks the caller's precondition, lets `revise` decide
/// the change from the current entity and its item (so rules hold against what is stored), then
/// writes only the attributes the revision names, the new version and the timestamp, conditioned
/// on the version read, with the audit entry (the changed fields before and after) in the same
/// transaction. A concurrent change, or a counter another use case keeps on the item, is never
/// overwritten.
///
/// When a concurrent change wins the race, a caller who named a version gets 404 (gone), the
/// revision's 409 (in use) or 412; a caller who did not has the change read again and applied to
/// whatever committed, at most three times, then 409. Costs one read and one transaction per
/// attempt.
#[allow(clippy::too_many_arguments)] // each port is a separate capability; bundling them hides which one a use case needs
pub(crate) async fn update<E: Versioned>(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    context: &RequestContext,
    key: &Key,
    precondition: &Precondition,
    revise: impl FnMut(&E, &Item, DateTime<Utc>) -> Result<Revision<E>, DomainError>,
) -> Result<E, DomainError> {
    let read = Read::Fresh;
    update_read(store, clock, ids, context, key, precondition, read, revise).await
}

/// Where [`update_read`]'s first attempt takes the entity's item from.
pub(crate) enum Read {
    /// From the store, as every later attempt does.
    Fresh,
    /// From this item, read from the store by the same request a moment before (to check the
    /// entity exists before other work): the version condition still guards the write, and a
    /// change that landed in between makes the next attempt read again.
    Already(Item),
}

/// [`update`], whose first attempt starts from `read`: a use case that had to read the entity
/// before deciding to change it does not pay for the same read twice.
#[allow(clippy::too_many_arguments)] // each port is a separate capability; bundling them hides which one a use case needs
pub(crate) async fn update_read<E: Versioned>(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    context: &RequestContext,
    key: &Key,
    precondition: &Precondition,
    read: Read,
    mut revise: impl FnMut(&E, &Item, DateTime<Utc>) -> Result<Revision<E>, DomainError>,
) -> Result<E, DomainError> {
    let mut first = match read {
        Read::Fresh => None,
        Read::Already(item) => Some(item),
    };
    for _ in 0..ATTEMPTS {
        let item = match first.take() {
            Some(item) => item,
            None => super::read::<E>(store, key).await?,
        };
        let current = E::from_item(item.clone())?;
        if !precondition.admits(current.version()) {
            return Err(DomainError::PreconditionFailed { entity: E::KIND });
        }
        let now = clock.now();
        let revision = revise(&current, &item, now)?;
        if let Some(unused) = &revision.unused {
            unused.check(&item)?;
        }
        let mut changed = revision.entity;
        changed.advance(current.version() + 1, now);
        let (before, after) = Change::diff(&current.view()?, &changed.view()?);
        let change = Change {
            entity_type: E::KIND,
            entity_id: current.audit_id(),
            action: Action::Update,
            before,
            after,
        };
        let mut update = Update::new(key.clone());
        update.set = revision.set;
        // The version and timestamp are this function's to write, whatever the revision named.
        update
            .set
            .retain(|(name, _)| name != UPDATED_AT && name != VERSION_ATTRIBUTE);
        update
            .set
            .push((UPDATED_AT.into(), Value::from(timestamp(now))));
        update
            .set
            .push((VERSION_ATTRIBUTE.into(), Value::from(changed.version())));
        update.remove = revision.remove;
        let version = Condition::version_is(current.version());
        update.condition = Some(match &revision.unused {
            Some(unused) => Condition::And(vec![version, unused.condition()]),
            None => version,
        });
        let mut operations = vec![WriteOp::Update(update)];
        operations.extend(revision.claims.iter().map(Claim::put));
        operations.extend(revision.writes);
        operations.push(audit::entry(&change, context, now, ids.new_id()));
        match transact_guarded(store, operations, ENTITY_OPERATION).await {
            Ok(Guarded::Committed) => return Ok(changed),
            Ok(Guarded::Lost) => {}
            Err(StoreError::TransactionConditionFailed { index }) => {
                return Err(refused(&revision.claims, 1, index)
                    .unwrap_or_else(|| StoreError::TransactionConditionFailed { index }.into()));
            }
            Err(other) => return Err(other.into()),
        }
        if precondition.is_explicit() || revision.unused.is_some() {
            let item = store.get(key).await?;
            if let Some(error) =
                why_lost::<E>(item.as_ref(), revision.unused.as_ref(), precondition)
            {
                return Err(error);
            }
        }
        // A concurrent change won the race: read again and apply the change to whatever
        // committed, which may now break a rule.
    }
    Err(concurrent::<E>())
}

/// An entity changed by a typed set of changes: its rules, as a [`Revision`] of the current state.
pub trait Changeable: Versioned {
    type Changes: Sync;

    /// What `changes` do to the entity as stored (`item`) at `now`, or why they may not apply.
    fn revise(
        &self,
        changes: &Self::Changes,
        item: &Item,
        now: DateTime<Utc>,
    ) -> Result<Revision<Self>, DomainError>;
}

/// Applies `changes` to the entity `id` names, under the caller's precondition: [`update`] with
/// the entity's own [`Changeable::revise`]. Costs one read and one transaction per attempt.
#[tracing::instrument(
    skip(store, clock, ids, context, changes),
    fields(entity = <I::Entity as Stored>::KIND.as_str(), id = %id, request_id = %context.request_id)
)]
pub async fn change<I: EntityId>(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    context: &RequestContext,
    id: &I,
    changes: &<I::Entity as Changeable>::Changes,
    precondition: &Precondition,
) -> Result<I::Entity, DomainError>
where
    I::Entity: Changeable,
{
    let revise = |current: &I::Entity, item: &Item, now| current.revise(changes, item, now);
    update(store, clock, ids, context, &id.key(), precondition, revise).await
}

/// The attribute every versioned entity keeps the time of its last change in.
const UPDATED_AT: &str = "updatedAt";
