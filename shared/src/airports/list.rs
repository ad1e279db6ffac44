//! Listing every airport, by code.

use super::model::Airport;
use super::records::{ALL_AIRPORTS, LIST_INDEX};
use crate::error::DomainError;
use crate::pagination::{PageLimit, fill_page};
use crate::storage::{Item, Query, Store, from_item};

/// One page of airports and the key the next page starts after.
#[derive(Debug)]
pub struct AirportPage {
    pub airports: Vec<Airport>,
    pub next: Option<Item>,
}

/// Queries the one index partition that holds every airport, in code order. Never a scan.
#[tracing::instrument(skip(store, start_after))]
pub async fn list_airports(
    store: &dyn Store,
    limit: PageLimit,
    start_after: Option<Item>,
) -> Result<AirportPage, DomainError> {
    let mut query = Query::partition(Some(LIST_INDEX), ALL_AIRPORTS);
    query.start_after = start_after;
    let page = fill_page(store, query, limit).await?;
    let airports = page
        .items
        .into_iter()
        .map(from_item)
        .collect::<Result<_, _>>()?;
    Ok(AirportPage {
        airports,
        next: page.next,
    })
}
