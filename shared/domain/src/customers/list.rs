//! Listing customers: newest first, or the one of an email.

use super::model::{Customer, CustomerFilter};
use super::records::{self, ALL_CUSTOMERS, EMAIL_INDEX, LIST_INDEX};
use crate::entity::{self, Page};
use crate::error::DomainError;
use crate::pagination::PageLimit;
use crate::storage::{Item, Order, Query, Store};

/// One page of customers and the key the next page starts after.
pub type CustomerPage = Page<Customer>;

/// Queries index 1 (every customer) or, for an email, index 2 (that email's customer: at most
/// one, as the email is claimed), newest first. Never a scan.
#[tracing::instrument(skip(store, start_after))]
pub async fn list_customers(
    store: &dyn Store,
    filter: &CustomerFilter,
    limit: PageLimit,
    start_after: Option<Item>,
) -> Result<CustomerPage, DomainError> {
    let mut query = match &filter.email {
        Some(email) => Query::partition(Some(EMAIL_INDEX), records::email_partition(email)),
        None => Query::partition(Some(LIST_INDEX), ALL_CUSTOMERS),
    };
    query.order = Order::Descending;
    entity::list(store, query, limit, start_after).await
}
