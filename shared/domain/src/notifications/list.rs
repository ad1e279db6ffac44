//! Listing a user's notifications, newest first: all of them, or the unread ones only.

use super::model::{Notification, NotificationFilter};
use super::records::{self, UNREAD_INDEX};
use crate::entity;
use crate::error::DomainError;
use crate::identity::UserId;
use crate::pagination::PageLimit;
use crate::storage::{Item, Order, Query, Store};

/// One page of notifications and the key the next page starts after.
#[derive(Debug)]
pub struct NotificationPage {
    pub notifications: Vec<Notification>,
    pub next: Option<Item>,
}

/// One descending Query of the user's own partition, or of their partition of the unread index.
/// Ids are UUIDv7, so the sort key order is the order notifications were written in. Never a
/// scan, never a filter: each page costs the items it returns.
#[tracing::instrument(skip(store, start_after), fields(user_id = %user_id))]
pub async fn list_notifications(
    store: &dyn Store,
    user_id: &UserId,
    filter: NotificationFilter,
    limit: PageLimit,
    start_after: Option<Item>,
) -> Result<NotificationPage, DomainError> {
    let mut query = match filter {
        NotificationFilter::All => Query::partition(None, records::partition(user_id)),
        NotificationFilter::Unread => {
            Query::partition(Some(UNREAD_INDEX), records::unread_partition(user_id))
        }
    };
    query.order = Order::Descending;
    let page = entity::list(store, query, limit, start_after).await?;
    Ok(NotificationPage {
        notifications: page.items,
        next: page.next,
    })
}
