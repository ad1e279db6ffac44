//! Self-registration: a new customer account, unique by email and by username.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::hashing::{PasswordHasher, spawn_hash};
use super::model::{NewAccount, User};
use super::records::{self, CreateOps, ENTITY, StoredUser};
use crate::audit::{self, Action, Change};
use crate::clock::{Clock, IdGenerator};
use crate::error::DomainError;
use crate::identity::{Principal, RequestContext, Role, UserId};
use crate::storage::{Store, StoreError};

/// How often a creation is retried when it collides with a concurrent transaction on the same
/// items (DynamoDB cancels both sides; the retry then sees the winner's reservation).
const ATTEMPTS: usize = 3;

/// Creates a customer account at version 1 and returns it.
///
/// The user item, the email and username reservations and the audit entry are one transaction,
/// each reservation conditional on not existing: of any number of concurrent registrations with
/// one email (or one username) exactly one succeeds, and a failed one leaves nothing behind.
///
/// Errors: `Invalid { field: "password" }` when the password repeats the email or username;
/// `Conflict` with detail `"email is already registered"` or `"username is taken"`. The audit
/// entry's actor is the new user, under the request id of `context`.
#[tracing::instrument(skip_all, fields(user_id))]
pub async fn register(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    hasher: &Arc<dyn PasswordHasher>,
    context: &RequestContext,
    new: NewAccount,
) -> Result<User, DomainError> {
    let stored = new_user(clock, ids, hasher, new, Role::Customer).await?;
    tracing::Span::current().record("user_id", stored.user.id.as_str());
    let as_new_user = RequestContext {
        request_id: context.request_id.clone(),
        principal: Some(Principal {
            user_id: stored.user.id.clone(),
            role: Role::Customer,
        }),
    };
    match insert_user(store, ids, &as_new_user, stored.user.created_at, &stored).await {
        Ok(()) => Ok(stored.user),
        Err(InsertError::Taken(Taken::Email)) => Err(DomainError::Conflict {
            detail: "email is already registered".into(),
        }),
        Err(InsertError::Taken(Taken::Username)) => Err(DomainError::Conflict {
            detail: "username is taken".into(),
        }),
        Err(InsertError::Failed(error)) => Err(error),
    }
}

/// A new enabled user with `role`, its password hashed, at version 1: refused when the password
/// repeats the email or the username.
pub(crate) async fn new_user(
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    hasher: &Arc<dyn PasswordHasher>,
    new: NewAccount,
    role: Role,
) -> Result<StoredUser, DomainError> {
    new.password
        .check_distinct_from(&new.email, &new.username)
        .map_err(|message| DomainError::Invalid {
            field: "password",
            message,
        })?;
    let password_hash = spawn_hash(hasher, &new.password).await?;
    let now = clock.now();
    Ok(StoredUser {
        user: User {
            id: UserId::from(ids.new_id()),
            email: new.email,
            username: new.username,
            name: new.name,
            phone: None,
            role,
            disabled: false,
            version: 1,
            created_at: now,
            updated_at: now,
        },
        password_hash,
    })
}

/// Which reservation another user already holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Taken {
    Email,
    Username,
}

pub(crate) enum InsertError {
    Taken(Taken),
    Failed(DomainError),
}

impl From<StoreError> for InsertError {
    fn from(error: StoreError) -> Self {
        Self::Failed(error.into())
    }
}

/// Writes a new user, its reservations and its audit entry (recorded as made in `context` at
/// `at`) in one transaction.
pub(crate) async fn insert_user(
    store: &dyn Store,
    ids: &dyn IdGenerator,
    context: &RequestContext,
    at: DateTime<Utc>,
    stored: &StoredUser,
) -> Result<(), InsertError> {
    let change = Change {
        entity_type: ENTITY,
        entity_id: stored.user.id.to_string(),
        action: Action::Create,
        before: Default::default(),
        after: records::audit_view(&stored.user)?,
    };
    for _ in 0..ATTEMPTS {
        let mut operations = records::create_ops(stored)?;
        operations.push(audit::entry(&change, context, at, ids.new_id()));
        match store.transact(operations).await {
            Ok(()) => return Ok(()),
            Err(StoreError::TransactionConditionFailed { index }) if index == CreateOps::EMAIL => {
                return Err(InsertError::Taken(Taken::Email));
            }
            Err(StoreError::TransactionConditionFailed { index })
                if index == CreateOps::USERNAME =>
            {
                return Err(InsertError::Taken(Taken::Username));
            }
            Err(StoreError::TransactionConflict) => continue,
            // Ids are random: a user id (or an audit entry id) that already exists is a fault of
            // the id generator, not a duplicate account.
            Err(StoreError::TransactionConditionFailed { index }) => {
                let what = if index == CreateOps::USER {
                    "user"
                } else {
                    "audit entry"
                };
                return Err(InsertError::Failed(DomainError::Store(
                    StoreError::internal(format!("a new {what} id collided with an existing item")),
                )));
            }
            Err(other) => return Err(InsertError::Failed(other.into())),
        }
    }
    Err(InsertError::Failed(DomainError::Conflict {
        detail: "The account is being registered concurrently; retry the request.".into(),
    }))
}
