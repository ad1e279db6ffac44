//! A user replacing their password, proving they know the current one.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::get::load;
use super::hashing::{PasswordHasher, spawn_hash, spawn_verify};
use super::model::Password;
use super::records::{self, AUDIT_ENTITY, PASSWORD_HASH};
use crate::audit::{self, Action, Change};
use crate::clock::{Clock, IdGenerator};
use crate::error::DomainError;
use crate::identity::{RequestContext, UserId};
use crate::storage::{Comparison, Condition, Store, Update, VERSION_ATTRIBUTE, WriteOp};
use crate::version::{Guarded, transact_guarded};

/// Replaces the password of user `id` with `new` when `current` is their password.
///
/// The write is conditional on the stored hash still being the one `current` was checked
/// against, so two concurrent changes cannot both succeed on the strength of the same old
/// password. It bumps the version and `updatedAt`; the audit entry records only that the password
/// changed (`{"passwordChanged": true}`), never a hash.
///
/// The caller passes the signed-in user's own id. Errors: `Unauthenticated` when `current` is
/// wrong; `Invalid { field: "password" }` when `new` repeats the email or username; `NotFound`;
/// `Conflict` when the password changed concurrently.
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
) -> Result<(), DomainError> {
    let stored = load(store, id).await?;
    if !spawn_verify(hasher, current, &stored.password_hash).await? {
        return Err(DomainError::Unauthenticated);
    }
    new.check_distinct_from(&stored.user.email, &stored.user.username)
        .map_err(|message| DomainError::Invalid {
            field: "password",
            message,
        })?;
    let new_hash = spawn_hash(hasher, new).await?;
    let now = clock.now();
    let mut update = Update::new(records::key(id));
    update.set = vec![
        (PASSWORD_HASH.to_owned(), Value::from(new_hash)),
        ("updatedAt".to_owned(), Value::from(records::timestamp(now))),
    ];
    update.add = vec![(VERSION_ATTRIBUTE.to_owned(), 1)];
    update.condition = Some(Condition::compare(
        PASSWORD_HASH,
        Comparison::Equal,
        stored.password_hash,
    ));
    let change = Change {
        entity_type: AUDIT_ENTITY,
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
        Guarded::Committed => Ok(()),
        Guarded::Lost => Err(DomainError::Conflict {
            detail: "The password was changed concurrently; sign in again and retry.".into(),
        }),
    }
}
