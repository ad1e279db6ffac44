//! The optimistic-locking write the profile and admin updates share: read, check the caller's
//! precondition, write the changed attributes guarded by the version read, audit in the same
//! transaction, retry when a concurrent change won and the caller named no version.

use serde_json::Value;

use super::get::{ENTITY, load};
use super::model::User;
use super::records::{self, AUDIT_ENTITY};
use crate::audit::{self, Action, Change};
use crate::clock::{Clock, IdGenerator};
use crate::error::DomainError;
use crate::identity::{RequestContext, UserId};
use crate::storage::{Condition, Key, Store, StoreError, Update, VERSION_ATTRIBUTE, WriteOp};
use crate::version::{Guarded, Precondition, transact_guarded};

/// How often a change is re-read and retried when a concurrent change wins the race and the
/// caller named no version.
const ATTEMPTS: usize = 3;

/// The position of the user's update in the transaction; the audit entry follows it.
const UPDATE_OPERATION: usize = 0;
/// The position of the [`Requirement`]'s check, after the audit entry.
const REQUIREMENT_OPERATION: usize = 2;

/// A condition on another item that must still hold when the change commits (the acting admin
/// still being an enabled admin), checked in the change's own transaction so that a read before
/// it cannot go stale; `refusal` is the answer when it does not hold.
pub(crate) struct Requirement {
    pub(crate) key: Key,
    pub(crate) condition: Condition,
    pub(crate) refusal: fn() -> DomainError,
}

/// What a change does to the user: the user as it will be (without the new version and
/// timestamp, which [`change_user`] sets) and the attributes that store it.
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
    for _ in 0..ATTEMPTS {
        let current = load(store, id).await?.user;
        if !precondition.admits(current.version) {
            return Err(DomainError::PreconditionFailed { entity: ENTITY });
        }
        let Changed { user, set, remove } = apply(&current)?;
        let now = clock.now();
        let changed = User {
            version: current.version + 1,
            updated_at: now,
            ..user
        };
        let (before, after) = Change::diff(
            &records::audit_view(&current)?,
            &records::audit_view(&changed)?,
        );
        let change = Change {
            entity_type: AUDIT_ENTITY,
            entity_id: id.to_string(),
            action: Action::Update,
            before,
            after,
        };
        let mut update = Update::new(records::key(id));
        update.set = set;
        update.remove = remove;
        update.set.push((
            "updatedAt".into(),
            Value::from(records::timestamp(changed.updated_at)),
        ));
        update
            .set
            .push((VERSION_ATTRIBUTE.into(), Value::from(changed.version)));
        update.condition = Some(Condition::version_is(current.version));
        let mut operations = vec![
            WriteOp::Update(update),
            audit::entry(&change, context, now, ids.new_id()),
        ];
        if let Some(requirement) = requirement {
            operations.push(WriteOp::Check {
                key: requirement.key.clone(),
                condition: requirement.condition.clone(),
            });
        }
        let outcome = match (
            transact_guarded(store, operations, UPDATE_OPERATION).await,
            requirement,
        ) {
            (
                Err(StoreError::TransactionConditionFailed {
                    index: REQUIREMENT_OPERATION,
                }),
                Some(requirement),
            ) => return Err((requirement.refusal)()),
            (outcome, _) => outcome?,
        };
        match outcome {
            Guarded::Committed => return Ok(changed),
            Guarded::Lost if precondition.is_explicit() => {
                return Err(stale_or_gone(store, id).await);
            }
            // A concurrent change won the race: read again and apply the change to whatever
            // committed.
            Guarded::Lost => continue,
        }
    }
    Err(DomainError::Conflict {
        detail: "The user is being changed concurrently; retry the request.".into(),
    })
}

/// After a version condition failed: the user is gone (404) or was changed (412).
async fn stale_or_gone(store: &dyn Store, id: &UserId) -> DomainError {
    match load(store, id).await {
        Ok(_) => DomainError::PreconditionFailed { entity: ENTITY },
        Err(error) => error,
    }
}
