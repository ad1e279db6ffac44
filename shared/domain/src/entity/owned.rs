//! Entities a user owns (contracts, issue reports): read by their owner or staff, and listed by
//! owner, by car or by status through the same three index entries.
//!
//! Both kinds show a caller only what is theirs, and answer 404 for another's so that ids cannot
//! be probed ([`find_owned`]). Both write one entry per list in the shared indexes: `gsi1` the
//! owner's, `gsi2` the car's, `gsi3` every item under one partition sorted by a status prefix.
//! [`Narrowing`] turns a list's filter into one Query on the narrowest of them, the rest of the
//! filter evaluated on it: never a scan.

use super::{EntityId, find};
use crate::error::DomainError;
use crate::identity::{Principal, UserId};
use crate::storage::{Comparison, Condition, Index, Order, Query, SortCondition, Store};

/// An entity some user owns.
pub trait Owned {
    /// Whether `user` may see it: staff see every one, others their own.
    fn visible_to(&self, user: &UserId, staff: bool) -> bool;
}

/// The entity `id` names, for its owner or staff; for anyone else the kind's 404, as if it did
/// not exist. One strongly consistent read.
pub async fn find_owned<I>(
    store: &dyn Store,
    caller: &Principal,
    id: &I,
) -> Result<I::Entity, DomainError>
where
    I: EntityId,
    I::Entity: Owned,
{
    let entity = find(store, id).await?;
    if !entity.visible_to(&caller.user_id, caller.is_staff()) {
        return Err(DomainError::NotFound {
            entity: <I::Entity as super::Stored>::KIND,
        });
    }
    Ok(entity)
}

/// The index holding one owner's items.
pub(crate) const OWNER_INDEX: Index = Index::Gsi1;
/// The index holding one car's items.
pub(crate) const CAR_INDEX: Index = Index::Gsi2;
/// The index holding every item, by status.
pub(crate) const STATUS_INDEX: Index = Index::Gsi3;

/// One criterion of a list: the index partition (or, for a status, the sort-key prefix) that
/// selects it, and the same criterion as a filter on an index that does not.
pub(crate) struct Criterion {
    pub select: String,
    pub filter: Condition,
}

impl Criterion {
    /// The criterion that selects `select` on its index, or keeps items whose `attribute` is
    /// `value` elsewhere.
    pub fn new(select: String, attribute: &str, value: &str) -> Self {
        Self {
            select,
            filter: Condition::compare(attribute, Comparison::Equal, value),
        }
    }
}

/// A list's filter, criterion by criterion, and the partition of [`STATUS_INDEX`] holding every
/// item of the kind.
pub(crate) struct Narrowing {
    pub owner: Option<Criterion>,
    pub car: Option<Criterion>,
    pub status: Option<Criterion>,
    /// Criteria no index selects (a report's severity): always filters.
    pub others: Vec<Condition>,
    pub all: &'static str,
}

impl Narrowing {
    /// One Query, newest first: the owner's partition when the filter names an owner, else the
    /// car's when it names a car, else every item (one status being a `begins_with` on the sort
    /// key). What the chosen index does not select is a filter on it, costing the reads of the
    /// items it drops, bounded per page.
    pub fn query(self) -> Query {
        let Narrowing {
            owner,
            car,
            status,
            mut others,
            all,
        } = self;
        let filter_of = |criterion: Option<Criterion>| criterion.map(|c| c.filter);
        let mut query = match (owner, car) {
            (Some(owner), car) => {
                others.extend(filter_of(car).into_iter().chain(filter_of(status)));
                Query::partition(Some(OWNER_INDEX), owner.select)
            }
            (None, Some(car)) => {
                others.extend(filter_of(status));
                Query::partition(Some(CAR_INDEX), car.select)
            }
            (None, None) => {
                let mut query = Query::partition(Some(STATUS_INDEX), all);
                query.sort = status.map(|status| SortCondition::BeginsWith(status.select));
                query
            }
        };
        query.filter = Condition::all(others);
        query.order = Order::Descending;
        query
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn criterion(select: &str, attribute: &str) -> Option<Criterion> {
        Some(Criterion::new(select.into(), attribute, "v"))
    }

    #[test]
    fn the_narrowest_index_is_queried_and_the_rest_filters_it() {
        let by_owner = Narrowing {
            owner: criterion("OWNER#1", "ownerId"),
            car: criterion("CAR#1", "carId"),
            status: criterion("open#", "status"),
            others: vec![],
            all: "ALL",
        }
        .query();
        assert_eq!(
            (by_owner.index, by_owner.partition.as_str(), by_owner.sort),
            (Some(OWNER_INDEX), "OWNER#1", None)
        );
        assert!(matches!(by_owner.filter, Some(Condition::And(ref all)) if all.len() == 2));
        assert_eq!(by_owner.order, Order::Descending);

        let by_car = Narrowing {
            owner: None,
            car: criterion("CAR#1", "carId"),
            status: None,
            others: vec![Condition::compare("severity", Comparison::Equal, "high")],
            all: "ALL",
        }
        .query();
        assert_eq!(by_car.index, Some(CAR_INDEX));
        assert_eq!(
            by_car.filter,
            Some(Condition::compare("severity", Comparison::Equal, "high"))
        );

        let by_status = Narrowing {
            owner: None,
            car: None,
            status: criterion("open#", "status"),
            others: vec![],
            all: "ALL",
        }
        .query();
        assert_eq!(
            (by_status.index, by_status.partition.as_str()),
            (Some(STATUS_INDEX), "ALL")
        );
        assert_eq!(
            by_status.sort,
            Some(SortCondition::BeginsWith("open#".into()))
        );
        assert_eq!(by_status.filter, None);
    }
}
