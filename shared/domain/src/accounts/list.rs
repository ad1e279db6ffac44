//! Listing users for admins, newest first, optionally of one role.

use super::model::User;
use super::records::{self, ALL_USERS, LIST_INDEX, ROLE_INDEX};
use crate::entity;
use crate::error::DomainError;
use crate::identity::{Role, UserId};
use crate::pagination::PageLimit;
use crate::storage::{Item, Order, Query, Store, StoreError, query_all};

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

/// The ids of every enabled staff member and admin (admins are staff too): one Query of the role
/// index per role, paged through. For notices to the whole staff.
pub(crate) async fn staff_ids(store: &dyn Store) -> Result<Vec<UserId>, StoreError> {
    let mut ids = Vec::new();
    for role in [Role::Staff, Role::Admin] {
        let query = Query::partition(Some(ROLE_INDEX), records::role_partition(role));
        for item in query_all(store, query).await? {
            let user = <User as crate::entity::Stored>::from_item(item)?;
            if !user.disabled {
                ids.push(user.id);
            }
        }
    }
    Ok(ids)
}
