//! An admin changing a user's role or disabling the account.

use serde_json::Value;

use super::get::load;
use super::model::{AdminChanges, User};
use super::records;
use super::versioned::{Changed, Requirement, change_user};
use crate::clock::{Clock, IdGenerator};
use crate::error::DomainError;
use crate::identity::{RequestContext, Role, UserId};
use crate::storage::Store;
use crate::version::Precondition;

/// Sets the role and/or the disabled flag of user `id` under optimistic locking and returns the
/// user at its new version; a role change moves the user to the new role's list. Audited like
/// every change.
///
/// The acting admin is `context`'s principal, and what counts is their account as stored, not the
/// role their access token still claims: an admin demoted or disabled (or never stored) since the
/// token was issued is `Forbidden`. That is read first and checked again on their user item in the
/// change's own transaction, so two admins demoting each other at once cannot both succeed and
/// leave no admin. An admin cannot change their own role or disable their own account
/// (`Conflict`), so the last admin can never lock everyone out. A context without a principal is
/// the system itself (operations tooling), which no route can reach: every admin route requires a
/// signed-in caller. Other errors as for `update_profile`.
#[tracing::instrument(
    skip(store, clock, ids, context, changes),
    fields(user_id = %id, request_id = %context.request_id)
)]
pub async fn admin_update_user(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    context: &RequestContext,
    id: &UserId,
    changes: &AdminChanges,
    precondition: &Precondition,
) -> Result<User, DomainError> {
    let acting_admin = context
        .principal
        .as_ref()
        .map(|principal| &principal.user_id);
    let acting_on_self = acting_admin == Some(id);
    if acting_on_self {
        if changes.role().is_some_and(|role| role != Role::Admin) {
            return Err(DomainError::Conflict {
                detail: "An admin cannot change their own role; ask another admin.".into(),
            });
        }
        if changes.disabled() == Some(true) {
            return Err(DomainError::Conflict {
                detail: "An admin cannot disable their own account; ask another admin.".into(),
            });
        }
    }
    let requirement = match acting_admin {
        Some(admin) if !acting_on_self => Some(still_an_admin(store, admin).await?),
        _ => None,
    };
    change_user(
        store,
        clock,
        ids,
        context,
        id,
        precondition,
        requirement.as_ref(),
        |current| {
            // Acting on themselves, the admin's stored state is `current`, guarded by its version.
            if acting_on_self && !is_enabled_admin(current) {
                return Err(DomainError::Forbidden);
            }
            let mut user = current.clone();
            let mut set = Vec::new();
            if let Some(role) = changes.role() {
                user.role = role;
                set.extend(records::role_attributes(role));
            }
            if let Some(disabled) = changes.disabled() {
                user.disabled = disabled;
                set.push(("disabled".to_owned(), Value::from(disabled)));
            }
            Ok(Changed {
                user,
                set,
                remove: Vec::new(),
            })
        },
    )
    .await
}

fn is_enabled_admin(user: &User) -> bool {
    user.role == Role::Admin && !user.disabled
}

/// Checks that `admin` is stored as an enabled admin now, and returns the requirement that they
/// still are when the change commits.
async fn still_an_admin(store: &dyn Store, admin: &UserId) -> Result<Requirement, DomainError> {
    match load(store, admin).await {
        Ok(stored) if is_enabled_admin(&stored.user) => Ok(Requirement {
            key: records::key(admin),
            condition: records::is_enabled_admin(),
            refusal: || DomainError::Forbidden,
        }),
        Ok(_) | Err(DomainError::NotFound { .. }) => {
            tracing::info!(admin_id = %admin, "refused an admin write: the caller is not an enabled admin any more");
            Err(DomainError::Forbidden)
        }
        Err(other) => Err(other),
    }
}
