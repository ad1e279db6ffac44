//! Listing every airport, by code.

use super::model::Airport;
use super::records::{ALL_AIRPORTS, LIST_INDEX};
use crate::entity::{self, Page};
use crate::error::DomainError;
use crate::pagination::PageLimit;
use crate::storage::{Item, Query, Store};

/// One page of airports and the key the next page starts after.
pub type AirportPage = Page<Airport>;

/// Queries the one index partition that holds every airport, in code order. Never a scan.
#[tracing::instrument(skip(store, start_after))]
pub async fn list_airports(
    store: &dyn Store,
    limit: PageLimit,
    start_after: Option<Item>,
) -> Result<AirportPage, DomainError> {
    let query = Query::partition(Some(LIST_INDEX), ALL_AIRPORTS);
    entity::list(store, query, limit, start_after).await
}
