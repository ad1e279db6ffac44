//! Adding, listing, changing and removing a car's papers, and the fleet's papers expiring soon.
//! Reading one and changing or removing it are the shared entity use cases over [`PaperRef`];
//! what is the papers' own is that a paper belongs to a car that exists, that its last day stays
//! after its first, and the two lists.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

use super::paper::{
    self, EXPIRY_INDEX, NewPaper, Paper, PaperChanges, PaperKind, Validity, car_prefix,
    expiry_partition,
};
use crate::calendar::Day;
use crate::cars::{Car, CarId, car_key};
use crate::clock::{Clock, IdGenerator};
use crate::entity::{self, Changeable, EntityKind, Page, Removable, Revision, Unused};
use crate::error::DomainError;
use crate::identity::RequestContext;
use crate::pagination::PageLimit;
use crate::storage::{Condition, Item, Order, Query, SortCondition, Store, StoreError, WriteOp};

crate::bounded::bounded_integer!(
    /// How many days ahead a list of expiring papers looks: 1 to 365.
    ExpiryWindow: u16,
    1..=365
);

/// How often an add is tried again when a concurrent change of the car collided with it.
const ATTEMPTS: usize = 3;

/// Adds a paper to the car `new` names, at version 1, with its audit entry, in one transaction
/// conditioned on the car existing (a missing car is the car's 404, also when it is deleted at
/// the same moment). Costs one transaction of three operations.
#[tracing::instrument(
    skip_all,
    fields(entity = K::ENTITY.as_str(), car_id = %new.car_id, request_id = %context.request_id)
)]
pub async fn add_paper<K: PaperKind>(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    context: &RequestContext,
    new: NewPaper<K>,
) -> Result<Paper<K>, DomainError> {
    let now = clock.now();
    let paper = Paper {
        id: ids.new_id().into(),
        car_id: new.car_id,
        details: new.details,
        valid_from: new.validity.from(),
        valid_to: new.validity.to(),
        document: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    for _ in 0..ATTEMPTS {
        let car_exists = WriteOp::Check {
            key: car_key(&paper.car_id),
            condition: Condition::ItemExists,
        };
        let item = paper::item(&paper)?;
        let operations = entity::creation(&paper, item, vec![car_exists], context, now, ids)?;
        match store.transact(operations).await {
            Ok(()) => return Ok(paper),
            Err(StoreError::TransactionConditionFailed { index: 1 }) => {
                return Err(DomainError::NotFound {
                    entity: EntityKind::Car,
                });
            }
            Err(StoreError::TransactionConflict) => continue,
            Err(other) => return Err(other.into()),
        }
    }
    Err(DomainError::Conflict {
        detail: "The car is being changed concurrently; retry the request.".into(),
    })
}

/// The Query of `car`'s papers of kind `K`, newest first.
pub(crate) fn car_papers<K: PaperKind>(car: &CarId) -> Query {
    let mut query = Query::partition(None, car_key(car).pk);
    query.sort = Some(SortCondition::BeginsWith(car_prefix::<K>()));
    query.order = Order::Descending;
    query
}

/// One page of `car`'s papers of kind `K`, newest first, or the car's 404. Costs one read and
/// one Query per store page.
#[tracing::instrument(skip(store, start_after), fields(entity = K::ENTITY.as_str()))]
pub async fn list_papers<K: PaperKind>(
    store: &dyn Store,
    car: &CarId,
    limit: PageLimit,
    start_after: Option<Item>,
) -> Result<Page<Paper<K>>, DomainError> {
    let _: Car = entity::find(store, car).await?;
    entity::list(store, car_papers::<K>(car), limit, start_after).await
}

/// The Query of the fleet's papers of kind `K` whose last day is `first` to `last`, soonest
/// first: one sort-key range of the kind's expiry partition.
pub(crate) fn expiring_between<K: PaperKind>(first: Day, last: Day) -> Query {
    let mut query = Query::partition(Some(EXPIRY_INDEX), expiry_partition::<K>());
    // `~` sorts after every character of an id, so the range takes all of `last`'s papers.
    query.sort = Some(SortCondition::Between(
        first.to_string(),
        format!("{last}#~"),
    ));
    query
}

/// One page of the fleet's papers of kind `K` whose last day is within `window` days of today
/// (UTC): from today to today + `window`, both included, soonest first. A paper that expired
/// before today is not in it (it is no longer expiring: it has expired). By index, never a scan.
#[tracing::instrument(skip(store, clock, start_after), fields(entity = K::ENTITY.as_str()))]
pub async fn expiring_papers<K: PaperKind>(
    store: &dyn Store,
    clock: &dyn Clock,
    window: ExpiryWindow,
    limit: PageLimit,
    start_after: Option<Item>,
) -> Result<Page<Paper<K>>, DomainError> {
    let now = clock.now();
    let (today, last) = (
        Day::today(now),
        Day::today(now + TimeDelta::days(window.get().into())),
    );
    entity::list(
        store,
        expiring_between::<K>(today, last),
        limit,
        start_after,
    )
    .await
}

/// A paper's change ([`entity::change`] of a [`super::PaperRef`]) sets the changed details and
/// days under the version read, with its audit entry; the last day stays after the first,
/// whichever of them the change moves (checked against the stored one), and a new last day
/// moves the paper in the expiry index.
impl<K: PaperKind> Changeable for Paper<K> {
    type Changes = PaperChanges<K>;

    fn revise(
        &self,
        changes: &PaperChanges<K>,
        _: &Item,
        _: DateTime<Utc>,
    ) -> Result<Revision<Self>, DomainError> {
        let (details, mut set) = self.details.apply(&changes.details);
        let validity = Validity::new(
            changes.valid_from.unwrap_or(self.valid_from),
            changes.valid_to.unwrap_or(self.valid_to),
        )?;
        let changed = Paper {
            details,
            valid_from: validity.from(),
            valid_to: validity.to(),
            ..self.clone()
        };
        if changed.valid_from != self.valid_from {
            set.push((
                "validFrom".to_owned(),
                Value::from(changed.valid_from.to_string()),
            ));
        }
        if changed.valid_to != self.valid_to {
            set.extend(paper::valid_to_attributes(&changed));
        }
        Ok(Revision::new(changed, set))
    }
}

/// Nothing else points at a paper, so it is removed (with its audit entry) whenever asked.
impl<K: PaperKind> Removable for Paper<K> {
    const UNUSED: Option<Unused> = None;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::paper::tests::{day, insurance};
    use crate::fleet::{Insurance, InsuranceChanges};
    use crate::storage::Index;

    fn changes(valid_from: Option<&str>, valid_to: Option<&str>) -> PaperChanges<Insurance> {
        PaperChanges {
            details: InsuranceChanges::default(),
            valid_from: valid_from.map(day),
            valid_to: valid_to.map(day),
        }
    }

    #[test]
    fn a_change_keeps_the_last_day_after_the_first_against_the_stored_one() {
        let paper = insurance("2026-01-01", "2026-12-31");
        let revise = |c| paper.revise(&c, &Item::new(), Utc::now());
        assert!(matches!(
            revise(changes(Some("2027-01-01"), None)),
            Err(DomainError::Invalid {
                field: "validTo",
                ..
            })
        ));
        assert!(matches!(
            revise(changes(None, Some("2025-06-01"))),
            Err(DomainError::Invalid {
                field: "validTo",
                ..
            })
        ));
        let moved = revise(changes(None, Some("2027-06-30"))).unwrap();
        assert_eq!(moved.entity.valid_to, day("2027-06-30"));
        assert!(
            moved.set.iter().any(|(name, value)| name == "gsi1sk"
                && value.as_str().unwrap().starts_with("2027-06-30#"))
        );
        let earlier = revise(changes(Some("2026-02-01"), None)).unwrap();
        assert_eq!(
            earlier.set,
            [("validFrom".to_owned(), Value::from("2026-02-01"))]
        );
    }

    #[test]
    fn the_expiring_window_is_one_key_range_of_the_kinds_expiry_partition() {
        let query = expiring_between::<Insurance>(day("2026-11-30"), day("2026-12-30"));
        assert_eq!(query.index, Some(Index::Gsi1));
        assert_eq!(query.partition, "INSURANCE#EXPIRY");
        assert_eq!(
            query.sort,
            Some(SortCondition::Between(
                "2026-11-30".into(),
                "2026-12-30#~".into()
            ))
        );
        assert_eq!(query.order, Order::Ascending);
    }

    #[test]
    fn a_cars_papers_are_a_prefix_of_its_partition_newest_first() {
        let car = insurance("2026-01-01", "2026-12-31").car_id;
        let query = car_papers::<Insurance>(&car);
        assert_eq!(query.index, None);
        assert_eq!(query.partition, format!("CAR#{car}"));
        assert_eq!(
            query.sort,
            Some(SortCondition::BeginsWith("INSURANCE#".into()))
        );
        assert_eq!(query.order, Order::Descending);
    }
}
