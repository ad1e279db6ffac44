//! Marking one of the caller's notifications read.

use super::model::{Notification, NotificationId};
use super::records;
use crate::clock::Clock;
use crate::entity;
use crate::error::DomainError;
use crate::identity::UserId;
use crate::storage::{Store, StoreError};

/// Marks the notification read and takes it out of the unread index in one conditional update
/// (exists, unread). Idempotent: when the condition fails because it was read already, the
/// notification is answered as it is, with the first `readAt`. The key is the caller's own
/// partition, so another user's notification id is simply not found. Costs one write, plus one
/// read when it was read before.
#[tracing::instrument(skip(store, clock), fields(user_id = %user_id, notification_id = %id))]
pub async fn mark_notification_read(
    store: &dyn Store,
    clock: &dyn Clock,
    user_id: &UserId,
    id: &NotificationId,
) -> Result<Notification, DomainError> {
    let key = records::key(user_id, id);
    match store
        .update(records::mark_read(key.clone(), clock.now()))
        .await
    {
        Ok(item) => Ok(records::from_item(item)?),
        Err(StoreError::ConditionFailed) => entity::get(store, &key).await,
        Err(error) => Err(error.into()),
    }
}
