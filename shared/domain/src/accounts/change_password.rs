//! A user replacing their password, proving they know the current one.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::get::load;
use super::hashing::{PasswordHasher, spawn_hash, spawn_verify};
use super::model::{Password, User};
use super::records::{self, ENTITY, PASSWORD_HASH};
use crate::audit::{self, Action, Change};
use crate::clock::{Clock, IdGenerator};
use crate::error::DomainError;
use crate::identity::{RequestContext, UserId};
use crate::storage::{Condition, Store, Update, VERSION_ATTRIBUTE, WriteOp};
use crate::version::{Guarded, transact_guarded};

/// Replaces the password of user `id` with `new` when `current` is their password, and returns
/// the user as stored after the change: the tokens the caller is then issued are built from it
/// (see [`super::session_principal`]), never from the token that asked for the change.
///
/// A disabled user cannot change their password (`Unauthenticated`), so a password change can
/// never renew the access of someone whose account was switched off. The write is conditional on
/// the version read, so the user returned is exactly what the store holds afterwards: a
/// concurrent role change, disabling or password change makes this one a `Conflict` instead of
/// minting tokens for a state that no longer exists (and two concurrent changes cannot both
/// succeed on the strength of the same old password). It bumps the version and `updatedAt`; the
/// audit entry records only that the password changed (`{"passwordChanged": true}`), never a
/// hash.
///
/// The caller passes the signed-in user's own id. Errors: `Unauthenticated` when the user is
/// disabled or `current` is wrong; `Invalid { field: "password" }` when `new` repeats the email or
/// username; `NotFound`; `Conflict` when the user changed concurrently.
#[tracing::instrument(
    skip(store, clock, ids, hasher, context, current, new),
    fields(user_id = %id, request_id = %context.request_id)
)]
#[allow(clippy::too_many_arguments)] // each port is a separate capability; bundling them hides which one a use case needs
pub async fn change_password(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    hasher: &Arc<dyn PasswordHasher>,
    context: &RequestContext,
    id: &UserId,
    current: &str,
    new: &Password,
) -> Result<User, DomainError> {
    let stored = load(store, id).await?;
    if stored.user.disabled {
        tracing::info!("password change refused: account disabled");
        return Err(DomainError::Unauthenticated);
    }
    if !spawn_verify(hasher, current, &stored.password_hash).await? {
        tracing::info!("password change refused: wrong current password");
        return Err(DomainError::Unauthenticated);
    }
    new.check_distinct_from(&stored.user.email, &stored.user.username)
        .map_err(|message| DomainError::Invalid {
            field: "password",
            message,
        })?;
    let new_hash = spawn_hash(hasher, new).await?;
    let now = clock.now();
    let changed = User {
        version: stored.user.version + 1,
        updated_at: now,
        ..stored.user
    };
    let mut update = Update::new(records::key(id));
    update.set = vec![
        (PASSWORD_HASH.to_owned(), Value::from(new_hash)),
        ("updatedAt".to_owned(), Value::from(records::timestamp(now))),
        (VERSION_ATTRIBUTE.to_owned(), Value::from(changed.version)),
    ];
    update.condition = Some(Condition::version_is(changed.version - 1));
    let change = Change {
        entity_type: ENTITY,
        entity_id: id.to_string(),
        action: Action::Update,
        before: Map::new(),
        after: Map::from_iter([("passwordChanged".to_owned(), Value::Bool(true))]),
    };
    let operations = vec![
        WriteOp::Update(update),
        audit::entry(&change, context, now, ids.new_id()),
    ];
    match transact_guarded(store, operations, 0).await? {
        Guarded::Committed => Ok(changed),
        Guarded::Lost => Err(DomainError::Conflict {
            detail: "The account was changed concurrently; sign in again and retry.".into(),
        }),
    }
}
