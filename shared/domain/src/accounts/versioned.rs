//! The optimistic-locking write the profile and admin updates share: the generic entity update
//! ([`entity::update`]: read, check the caller's precondition, write the changed attributes
//! guarded by the version read, audit in the same transaction, retry when a concurrent change won
//! and the caller named no version), plus what only users need, a requirement on another item.

use serde_json::Value;

use super::model::User;
use super::records;
use crate::clock::{Clock, IdGenerator};
use crate::entity::{self, Revision};
use crate::error::DomainError;
use crate::identity::{RequestContext, UserId};
use crate::storage::{Condition, Item, Key, Store, StoreError, WriteOp};
use crate::version::Precondition;

/// The position of the [`Requirement`]'s check, right after the user's update.
const REQUIREMENT_OPERATION: usize = 1;

/// A condition on another item that must still hold when the change commits (the acting admin
/// still being an enabled admin), checked in the change's own transaction so that a read before
/// it cannot go stale; `refusal` is the answer when it does not hold.
pub(crate) struct Requirement {
    pub(crate) key: Key,
    pub(crate) condition: Condition,
    pub(crate) refusal: fn() -> DomainError,
}

/// What a change does to the user: the user as it will be (without the new version and
/// timestamp, which the update sets) and the attributes that store it.
pub(crate) struct Changed {
    pub(crate) user: User,
    pub(crate) set: Vec<(String, Value)>,
    pub(crate) remove: Vec<String>,
}

/// Applies `apply` to the current user under the version read. `apply` may refuse the change
/// (it sees the current state, so rules like "an admin cannot demote themselves" hold against
/// what is stored); `requirement`, when given, is checked on its own item in the same transaction.
/// Costs one read and one transaction of two writes (three with a requirement) per attempt.
#[allow(clippy::too_many_arguments)] // each port is a separate capability; bundling them hides which one a use case needs
pub(crate) async fn change_user(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    context: &RequestContext,
    id: &UserId,
    precondition: &Precondition,
    requirement: Option<&Requirement>,
    apply: impl Fn(&User) -> Result<Changed, DomainError>,
) -> Result<User, DomainError> {
    let key = records::key(id);
    let revise = |current: &User, _: &Item, _| {
        let Changed { user, set, remove } = apply(current)?;
        let mut revision = Revision::new(user, set);
        revision.remove = remove;
        revision.writes = requirement
            .map(|requirement| WriteOp::Check {
                key: requirement.key.clone(),
                condition: requirement.condition.clone(),
            })
            .into_iter()
            .collect();
        Ok(revision)
    };
    let outcome = entity::update(store, clock, ids, context, &key, precondition, revise).await;
    match (outcome, requirement) {
        (
            Err(DomainError::Store(StoreError::TransactionConditionFailed {
                index: REQUIREMENT_OPERATION,
            })),
            Some(requirement),
        ) => Err((requirement.refusal)()),
        (outcome, _) => outcome,
    }
}
