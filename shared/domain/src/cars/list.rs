//! Listing the fleet, with optional filters, one index Query per store page.

use super::model::{Car, CarCategory, CarFilter, CarStatus};
use super::records::{self, ALL_CARS, LIST_INDEX, MANUFACTURER_INDEX, STATUS_INDEX};
use crate::entity::{self, Page};
use crate::error::DomainError;
use crate::pagination::PageLimit;
use crate::storage::{Comparison, Condition, Item, Order, Query, SortCondition, Store};

/// One page of cars and the key the next page starts after.
pub type CarPage = Page<Car>;

/// The query serving `filter`: a manufacturer is matched case-insensitively on its own index
/// (`gsi3`), so it always picks that one; otherwise a category is a `begins_with` on the list
/// index's sort key (`gsi1`), a status alone its own index (`gsi2`), and no filter the whole
/// fleet (`gsi1`, by category then newest first). The filters the index does not serve are
/// exact matches on the query (store-side), so a request never scans.
fn query(filter: &CarFilter) -> Query {
    let mut conditions = Vec::new();
    let mut query = match (&filter.manufacturer, filter.category, filter.status) {
        (Some(manufacturer), category, status) => {
            conditions.extend(
                category.map(|c| Condition::compare("category", Comparison::Equal, c.as_str())),
            );
            conditions.extend(
                status.map(|s| Condition::compare("status", Comparison::Equal, s.as_str())),
            );
            Query::partition(
                Some(MANUFACTURER_INDEX),
                records::manufacturer_partition(manufacturer),
            )
        }
        (None, Some(category), status) => {
            conditions.extend(
                status.map(|s| Condition::compare("status", Comparison::Equal, s.as_str())),
            );
            let mut query = Query::partition(Some(LIST_INDEX), ALL_CARS);
            query.sort = Some(SortCondition::BeginsWith(records::category_prefix(
                category,
            )));
            query
        }
        (None, None, Some(status)) => {
            Query::partition(Some(STATUS_INDEX), records::status_partition(status))
        }
        (None, None, None) => Query::partition(Some(LIST_INDEX), ALL_CARS),
    };
    query.order = Order::Descending;
    query.filter = Condition::all(conditions);
    query
}

/// The query of the cars that can be rented (`available` or `rented`), of one category or all:
/// the list query of that category, with the other statuses dropped store-side (they cost their
/// reads; see the catalogue's cost in docs/data-model.md).
pub(crate) fn rentable_cars(category: Option<CarCategory>) -> Query {
    let mut query = query(&CarFilter {
        category,
        ..CarFilter::default()
    });
    let unrentable = [CarStatus::Maintenance, CarStatus::Retired]
        .map(|status| Condition::compare("status", Comparison::NotEqual, status.as_str()));
    query.filter = Condition::all(unrentable.into());
    query
}

/// One page of the cars `filter` selects, newest first (the unfiltered fleet by category, then
/// newest first). Never a scan.
#[tracing::instrument(skip(store, start_after))]
pub async fn list_cars(
    store: &dyn Store,
    filter: &CarFilter,
    limit: PageLimit,
    start_after: Option<Item>,
) -> Result<CarPage, DomainError> {
    entity::list(store, query(filter), limit, start_after).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cars::Manufacturer;
    use crate::storage::Index;

    #[test]
    fn each_filter_is_served_by_an_index() {
        let all = query(&CarFilter::default());
        assert_eq!(
            (all.index, all.partition.as_str(), &all.sort),
            (Some(Index::Gsi1), "CARS", &None)
        );
        let suv = query(&CarFilter {
            category: Some(CarCategory::Suv),
            ..CarFilter::default()
        });
        assert_eq!(suv.sort, Some(SortCondition::BeginsWith("suv#".into())));
        let status = CarFilter {
            status: Some(CarStatus::Retired),
            ..CarFilter::default()
        };
        let retired = query(&status);
        assert_eq!(
            (retired.index, retired.partition.as_str()),
            (Some(Index::Gsi2), "CARS#STATUS#retired")
        );
        assert!(retired.filter.is_none());
        let maker = CarFilter {
            manufacturer: Manufacturer::parse("TOYOTA").ok(),
            status: Some(CarStatus::Available),
            ..CarFilter::default()
        };
        let toyota = query(&maker);
        assert_eq!(
            (toyota.index, toyota.partition.as_str()),
            (Some(Index::Gsi3), "CARS#MAKER#toyota")
        );
        assert!(toyota.filter.is_some());
        assert_eq!(toyota.order, Order::Descending);
    }

    #[test]
    fn rentable_cars_are_the_list_query_without_maintenance_and_retired() {
        let suv = rentable_cars(Some(CarCategory::Suv));
        assert_eq!(
            (suv.index, suv.partition.as_str()),
            (Some(Index::Gsi1), "CARS")
        );
        assert_eq!(suv.sort, Some(SortCondition::BeginsWith("suv#".into())));
        let not = |status: &str| Condition::compare("status", Comparison::NotEqual, status);
        assert_eq!(
            suv.filter,
            Some(Condition::And(vec![not("maintenance"), not("retired")]))
        );
        assert_eq!(rentable_cars(None).sort, None);
    }
}
