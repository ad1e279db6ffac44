//! Accounts created outside the API: the first admin at deployment, so a fresh installation can
//! be administered, and accounts an operator provisions with a role (the local API's demo data).

use std::sync::Arc;

use super::get::load;
use super::hashing::PasswordHasher;
use super::model::{Email, NewAccount, Password, PersonName, User, Username};
use super::records::{self, ROLE_INDEX, StoredUser};
use super::register::{InsertError, Taken, insert_user, new_user};
use crate::clock::{Clock, IdGenerator};
use crate::error::DomainError;
use crate::identity::{RequestContext, Role};
use crate::storage::{Query, Store};

/// The username and display name the first admin gets; they can change the name later.
const ADMIN_USERNAME: &str = "admin";
const ADMIN_NAME: &str = "Administrator";

/// Creates an admin with `email` and `password` (username `admin`) when no admin exists, and
/// returns it; returns `None` when an admin already exists. Audited with actor `system`.
///
/// Safe to call on every start, even from several instances at once: the email reservation lets
/// only one creation commit, and the others find that admin and return `None`.
///
/// Errors: `Invalid { field: "password" }` when the password repeats the email or `admin`;
/// `Conflict` when `email` or the username `admin` belongs to a user who is not an admin (the
/// deployment must name another email, or rename that user).
#[tracing::instrument(skip_all)]
pub async fn bootstrap_admin(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    hasher: &Arc<dyn PasswordHasher>,
    email: Email,
    password: Password,
) -> Result<Option<User>, DomainError> {
    if admin_exists(store).await? {
        return Ok(None);
    }
    let admin = NewAccount {
        email,
        username: Username::parse(ADMIN_USERNAME).expect("the admin username is valid"),
        password,
        name: PersonName::parse(ADMIN_NAME).expect("the admin name is valid"),
    };
    let stored = new_user(clock, ids, hasher, admin, Role::Admin).await?;
    match insert_as_system(store, ids, "bootstrap", &stored).await {
        Ok(()) => {
            tracing::info!(user_id = %stored.user.id, "created the first admin");
            Ok(Some(stored.user))
        }
        Err(InsertError::Taken(taken)) => {
            let key = match taken {
                Taken::Email => records::email_key(&stored.user.email),
                Taken::Username => records::username_key(&stored.user.username),
            };
            if holder_is_admin(store, &key).await? {
                Ok(None)
            } else {
                Err(DomainError::Conflict {
                    detail: match taken {
                        Taken::Email => {
                            "the bootstrap admin's email belongs to a user who is not an admin"
                        }
                        Taken::Username => {
                            "the username admin belongs to a user who is not an admin"
                        }
                    }
                    .into(),
                })
            }
        }
        Err(InsertError::Failed(error)) => Err(error),
    }
}

/// Whether the role index holds at least one admin: one query reading at most one item.
async fn admin_exists(store: &dyn Store) -> Result<bool, DomainError> {
    let mut query = Query::partition(Some(ROLE_INDEX), records::role_partition(Role::Admin));
    query.limit = 1;
    Ok(!store.query(query).await?.items.is_empty())
}

/// Whether the reservation at `key` belongs to an admin: a concurrent bootstrap won the race.
async fn holder_is_admin(
    store: &dyn Store,
    key: &crate::storage::Key,
) -> Result<bool, DomainError> {
    let Some(reservation) = store.get(key).await? else {
        return Ok(false);
    };
    let holder = load(store, &records::reserved_for(&reservation)?).await?;
    Ok(holder.user.role == Role::Admin)
}

/// Creates the account `new` describes with `role`, audited with actor `system`, and returns it;
/// returns `None` when its email or username is taken already (provisioned before), so running
/// it again writes nothing: two reads of the reservations come first, and a creation racing
/// another still commits only once. For accounts an operator sets up (the local API's demo
/// staff), never for a request: the API's own way to a role is an admin's change.
#[tracing::instrument(skip_all, fields(role = role.as_str()))]
pub async fn provision_user(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    hasher: &Arc<dyn PasswordHasher>,
    new: NewAccount,
    role: Role,
) -> Result<Option<User>, DomainError> {
    for key in [
        records::email_key(&new.email),
        records::username_key(&new.username),
    ] {
        if store.get(&key).await?.is_some() {
            return Ok(None);
        }
    }
    let stored = new_user(clock, ids, hasher, new, role).await?;
    match insert_as_system(store, ids, "provision", &stored).await {
        Ok(()) => Ok(Some(stored.user)),
        Err(InsertError::Taken(_)) => Ok(None),
        Err(InsertError::Failed(error)) => Err(error),
    }
}

/// Writes `stored` as the system made it (no principal; the request id names `occasion`), at its
/// creation time.
async fn insert_as_system(
    store: &dyn Store,
    ids: &dyn IdGenerator,
    occasion: &str,
    stored: &StoredUser,
) -> Result<(), InsertError> {
    let system = RequestContext {
        request_id: format!("{occasion}-{}", ids.new_id()),
        principal: None,
    };
    insert_user(store, ids, &system, stored.user.created_at, stored).await
}
