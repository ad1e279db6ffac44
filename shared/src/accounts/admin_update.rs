//! An admin changing a user's role or disabling the account.

use serde_json::Value;

use super::model::{AdminChanges, User};
use super::records;
use super::versioned::{Changed, change_user};
use crate::clock::{Clock, IdGenerator};
use crate::error::DomainError;
use crate::identity::{RequestContext, Role, UserId};
use crate::storage::Store;
use crate::version::Precondition;

/// Sets the role and/or the disabled flag of user `id` under optimistic locking and returns the
/// user at its new version; a role change moves the user to the new role's list. Audited like
/// every change.
///
/// The caller must be an admin (the route's check). An admin cannot demote or disable their own
/// account: that is `Invalid { field: "role" | "disabled" }`, so the last admin can never lock
/// everyone out by accident. Other errors as for `update_profile`.
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
    let acting_on_self = context
        .principal
        .as_ref()
        .is_some_and(|principal| &principal.user_id == id);
    if acting_on_self {
        if changes.role().is_some_and(|role| role != Role::Admin) {
            return Err(DomainError::Invalid {
                field: "role",
                message: "an admin cannot change their own role".into(),
            });
        }
        if changes.disabled() == Some(true) {
            return Err(DomainError::Invalid {
                field: "disabled",
                message: "an admin cannot disable their own account".into(),
            });
        }
    }
    change_user(store, clock, ids, context, id, precondition, |current| {
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
    })
    .await
}
