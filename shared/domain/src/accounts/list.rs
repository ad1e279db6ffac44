//! Listing users for admins, newest first, optionally of one role.

use super::model::User;
use super::records::{self, ALL_USERS, LIST_INDEX, ROLE_INDEX};
use crate::entity;
use crate::error::DomainError;
use crate::identity::Role;
use crate::pagination::PageLimit;
use crate::storage::{Item, Order, Query, Store};

/// One page of users and the key the next page starts after.
#[derive(Debug)]
pub struct UserPage {
    pub users: Vec<User>,
    pub next: Option<Item>,
}

/// Queries `gsi1` (the users of `role`) or, without a role, `gsi2` (every user), newest first.
/// One query per page; never a scan. `start_after` is the previous page's `next`.
#[tracing::instrument(skip(store, start_after))]
pub async fn list_users(
    store: &dyn Store,
    role: Option<Role>,
    limit: PageLimit,
    start_after: Option<Item>,
) -> Result<UserPage, DomainError> {
    let mut query = match role {
        Some(role) => Query::partition(Some(ROLE_INDEX), records::role_partition(role)),
        None => Query::partition(Some(LIST_INDEX), ALL_USERS),
    };
    query.order = Order::Descending;
    let page = entity::list(store, query, limit, start_after).await?;
    Ok(UserPage {
        users: page.items,
        next: page.next,
    })
}
