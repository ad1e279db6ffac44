//! Finding the scheduled flights of a leg on a day, by departure or by fare.

use super::REMAINING_SEATS;
use super::model::{Flight, FlightSearch, PriceBound, SearchOrder};
use super::records::{self, BY_DEPARTURE_INDEX, BY_PRICE_INDEX, PRICE_AMOUNT};
use crate::entity::{self, Page};
use crate::error::DomainError;
use crate::pagination::PageLimit;
use crate::storage::{Comparison, Condition, Item, Query, SortCondition, Store};

/// One page of flights and the key the next page starts after.
pub type FlightPage = Page<Flight>;

/// One Query on the partition of the leg and the local day of departure at the origin: index 1
/// (sorted by departure) or index 2 (sorted by fare). Both hold only scheduled flights. On the
/// fare index the fare bounds are a range of the sort key, so only matching flights are read;
/// otherwise they are a filter, like the free seats. Never a scan.
///
/// An airport code that names no airport finds no flights, without a read to say so: the
/// partition is simply empty.
#[tracing::instrument(skip(store, start_after))]
pub async fn search_flights(
    store: &dyn Store,
    search: &FlightSearch,
    limit: PageLimit,
    start_after: Option<Item>,
) -> Result<FlightPage, DomainError> {
    let leg = search.leg();
    let partition = records::route_day_partition(leg.from(), leg.to(), search.date());
    let mut filters = Vec::new();
    let mut query = match search.order() {
        SearchOrder::Departure => {
            filters.extend(price_filters(search));
            Query::partition(Some(BY_DEPARTURE_INDEX), partition)
        }
        SearchOrder::Price => {
            let mut query = Query::partition(Some(BY_PRICE_INDEX), partition);
            query.sort = price_range(search.min_price(), search.max_price());
            query
        }
    };
    if let Some(seats) = search.seats() {
        filters.push(Condition::compare(
            REMAINING_SEATS,
            Comparison::GreaterOrEqual,
            seats.get(),
        ));
    }
    query.filter = Condition::all(filters);
    entity::list(store, query, limit, start_after).await
}

/// The fare bounds as filters on the stored amount.
fn price_filters(search: &FlightSearch) -> Vec<Condition> {
    let amount = |price: Option<PriceBound>| price.map(PriceBound::get);
    Condition::within(
        PRICE_AMOUNT,
        amount(search.min_price()),
        amount(search.max_price()),
    )
}

/// The fare bounds as a range of the fare index's sort key (`<zero-padded amount>#<id>`): the bare
/// lower amount sorts before every key of that amount, and the upper amount followed by `#~`
/// after every key of it (`~` sorts after every character of an id).
fn price_range(min: Option<PriceBound>, max: Option<PriceBound>) -> Option<SortCondition> {
    let lowest = |min: PriceBound| records::price_sort_prefix(min.get());
    let highest = |max: PriceBound| format!("{}#~", records::price_sort_prefix(max.get()));
    match (min, max) {
        (Some(min), Some(max)) => Some(SortCondition::Between(lowest(min), highest(max))),
        (Some(min), None) => Some(SortCondition::GreaterOrEqual(lowest(min))),
        (None, Some(max)) => Some(SortCondition::LessOrEqual(highest(max))),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bound(amount: i64) -> Option<PriceBound> {
        PriceBound::try_from(amount).ok()
    }

    #[test]
    fn fare_bounds_become_an_inclusive_sort_key_range() {
        assert_eq!(price_range(None, None), None);
        assert_eq!(
            price_range(bound(100), bound(250)),
            Some(SortCondition::Between(
                "0000000000100".into(),
                "0000000000250#~".into()
            ))
        );
        let Some(SortCondition::LessOrEqual(upper)) = price_range(None, bound(250)) else {
            panic!("an upper bound alone is a <= condition");
        };
        // Every key of the highest fare is inside the range, the next fare is not.
        assert!("0000000000250#0190f5d2-8c00-7c4b-9a1e-3f2b8c4d5e6f" <= upper.as_str());
        assert!("0000000000251#0190f5d2-8c00-7c4b-9a1e-3f2b8c4d5e6f" > upper.as_str());
        assert!(matches!(
            price_range(bound(100), None),
            Some(SortCondition::GreaterOrEqual(_))
        ));
    }
}
