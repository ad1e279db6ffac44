//! Reading one entity by key.

use super::{EntityId, Stored};
use crate::error::DomainError;
use crate::storage::{Item, Key, Store};

/// The item at `key`, or the kind's 404.
pub(crate) async fn read<E: Stored>(store: &dyn Store, key: &Key) -> Result<Item, DomainError> {
    store
        .get(key)
        .await?
        .ok_or(DomainError::NotFound { entity: E::KIND })
}

/// One strongly consistent read by key; a missing item is the kind's 404, an item that does not
/// decode is corrupt data (500).
pub(crate) async fn get<E: Stored>(store: &dyn Store, key: &Key) -> Result<E, DomainError> {
    Ok(E::from_item(read::<E>(store, key).await?)?)
}

/// The entity `id` names: one strongly consistent read by its key, or the kind's 404.
#[tracing::instrument(skip(store), fields(entity = <I::Entity as Stored>::KIND.as_str(), id = %id))]
pub async fn find<I: EntityId>(store: &dyn Store, id: &I) -> Result<I::Entity, DomainError> {
    get(store, &id.key()).await
}
