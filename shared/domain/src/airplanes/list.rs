//! Listing the fleet, newest first, with optional filters.

use super::model::{Airplane, AirplaneFilter, Capacity};
use super::records::{self, ALL_AIRPLANES, LIST_INDEX, MODEL_INDEX};
use crate::entity::{self, Page};
use crate::error::DomainError;
use crate::pagination::PageLimit;
use crate::storage::{Condition, Item, Order, Query, Store};

/// One page of airplanes and the key the next page starts after.
pub type AirplanePage = Page<Airplane>;

/// Queries index 1 (every airplane) or, when a model number is given, index 2 (that model's
/// airplanes), newest first; capacity bounds are a filter on the query. Never a scan.
#[tracing::instrument(skip(store, start_after))]
pub async fn list_airplanes(
    store: &dyn Store,
    filter: &AirplaneFilter,
    limit: PageLimit,
    start_after: Option<Item>,
) -> Result<AirplanePage, DomainError> {
    let mut query = match &filter.model_number {
        Some(model_number) => {
            Query::partition(Some(MODEL_INDEX), records::model_partition(model_number))
        }
        None => Query::partition(Some(LIST_INDEX), ALL_AIRPLANES),
    };
    query.order = Order::Descending;
    let seats = |capacity: Option<Capacity>| capacity.map(Capacity::get);
    query.filter = Condition::all(Condition::within(
        "capacity",
        seats(filter.min_capacity),
        seats(filter.max_capacity),
    ));
    entity::list(store, query, limit, start_after).await
}
