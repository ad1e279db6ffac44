//! Reading one user.

use super::model::User;
use super::records::{self, StoredUser};
use crate::entity::EntityKind;
use crate::error::DomainError;
use crate::identity::UserId;
use crate::storage::Store;

pub(crate) const ENTITY: EntityKind = EntityKind::User;

/// One strongly consistent read by key. Callers check who may see the user: a customer reading
/// anyone but themselves must get the same `NotFound` as for a missing user.
#[tracing::instrument(skip(store), fields(user_id = %id))]
pub async fn get_user(store: &dyn Store, id: &UserId) -> Result<User, DomainError> {
    Ok(load(store, id).await?.user)
}

/// The user with their password hash, for the use cases that verify or change it.
pub(crate) async fn load(store: &dyn Store, id: &UserId) -> Result<StoredUser, DomainError> {
    match store.get(&records::key(id)).await? {
        Some(item) => Ok(records::from_item(item)?),
        None => Err(DomainError::NotFound { entity: ENTITY }),
    }
}
