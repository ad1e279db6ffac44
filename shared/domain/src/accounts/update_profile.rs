//! A user changing their own profile: name and phone.

use serde_json::Value;

use super::model::{ProfileChanges, User};
use super::versioned::{Changed, change_user};
use crate::clock::{Clock, IdGenerator};
use crate::error::DomainError;
use crate::identity::{RequestContext, UserId};
use crate::storage::Store;
use crate::version::Precondition;

/// Sets the name and/or phone of user `id` under optimistic locking (`precondition` from
/// `If-Match`) and returns the user at its new version; the change and its audit entry (changed
/// fields before and after) commit together.
///
/// Who may change whom is the caller's check: a customer passes their own id only.
/// Errors: `NotFound`, `PreconditionFailed` (stale `If-Match`), `Conflict` (kept losing races).
#[tracing::instrument(
    skip(store, clock, ids, context, changes),
    fields(user_id = %id, request_id = %context.request_id)
)]
pub async fn update_profile(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    context: &RequestContext,
    id: &UserId,
    changes: &ProfileChanges,
    precondition: &Precondition,
) -> Result<User, DomainError> {
    change_user(
        store,
        clock,
        ids,
        context,
        id,
        precondition,
        None,
        |current| {
            let mut user = current.clone();
            let (mut set, mut remove) = (Vec::new(), Vec::new());
            if let Some(name) = changes.name() {
                user.name = name.clone();
                set.push(("name".to_owned(), Value::from(name.as_str())));
            }
            if let Some(phone) = changes.phone() {
                user.phone = phone.cloned();
                match phone {
                    Some(phone) => set.push(("phone".to_owned(), Value::from(phone.as_str()))),
                    None => remove.push("phone".to_owned()),
                }
            }
            Ok(Changed { user, set, remove })
        },
    )
    .await
}
