//! Reading one user.

use super::model::User;
use super::records::{self, StoredUser};
use crate::entity;
use crate::error::DomainError;
use crate::identity::UserId;
use crate::storage::Store;

/// One strongly consistent read by key. Callers check who may see the user: a customer reading
/// anyone but themselves must get the same `NotFound` as for a missing user.
#[tracing::instrument(skip(store), fields(user_id = %id))]
pub async fn get_user(store: &dyn Store, id: &UserId) -> Result<User, DomainError> {
    entity::get(store, &records::key(id)).await
}

/// The user with their password hash, for the use cases that verify or change it.
pub(crate) async fn load(store: &dyn Store, id: &UserId) -> Result<StoredUser, DomainError> {
    let item = entity::read::<User>(store, &records::key(id)).await?;
    Ok(records::from_item(item)?)
}
