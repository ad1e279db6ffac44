//! The day slots of a car: one item per day a contract holds the car, in the car's own
//! partition (`CAR#<carId>`, sort key `DAY#<yyyy-mm-dd>`, attribute `contractId`). A day is busy
//! exactly when its slot exists, so contracts take days with conditional puts and readers find a
//! car's busy days with one Query of a sort-key range. Both live by this layout; it is written
//! here once.

use serde_json::Value;

use super::model::CarId;
use crate::calendar::Day;
use crate::storage::{Item, Key, Query, SortCondition, Store, StoreError, TABLE};

/// The sort-key prefix of a car's day slots.
pub const DAY_PREFIX: &str = "DAY#";
/// The attribute of a day slot naming the contract holding the day.
pub const CONTRACT_ID: &str = "contractId";

/// The key of `car`'s slot for `day`: in the car's partition, after its `CAR` item.
pub fn day_key(car: &CarId, day: Day) -> Key {
    Key::new(super::records::key(car).pk, day_sort_key(day))
}

/// The sort key of a day's slot, so readers can bound a Query by days.
pub fn day_sort_key(day: Day) -> String {
    format!("{DAY_PREFIX}{day}")
}

/// The day a slot's sort key names; `None` for a sort key that is not a day slot's.
pub fn slot_day(sort_key: &str) -> Option<Day> {
    Day::parse(sort_key.strip_prefix(DAY_PREFIX)?).ok()
}

/// The day of a slot item; `None` for an item that is not a day slot.
pub fn day_of(item: &Item) -> Option<Day> {
    slot_day(item.get(TABLE.sort_key).and_then(Value::as_str)?)
}

/// The Query of `car`'s slots from `first` to `last`, both included: its partition, sort keys
/// between the two days' (day keys sort as dates do, after the car's own `CAR` item).
pub fn slot_query(car: &CarId, first: Day, last: Day) -> Query {
    let mut query = Query::partition(None, super::records::key(car).pk);
    query.sort = Some(SortCondition::Between(
        day_sort_key(first),
        day_sort_key(last),
    ));
    query
}

/// Every slot of `car` from `first` to `last`, in day order: one Query, paged through.
pub(crate) async fn slots(
    store: &dyn Store,
    car: &CarId,
    first: Day,
    last: Day,
) -> Result<Vec<Item>, StoreError> {
    let mut query = slot_query(car, first, last);
    let mut slots = Vec::new();
    loop {
        let page = store.query(query.clone()).await?;
        slots.extend(page.items);
        match page.last_evaluated_key {
            Some(key) => query.start_after = Some(key),
            None => return Ok(slots),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_lives_in_its_cars_partition_under_its_day() {
        let car = CarId::parse("0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f").unwrap();
        let day = Day::parse("2027-03-09").unwrap();
        let key = day_key(&car, day);
        assert_eq!(key.pk, "CAR#0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f");
        assert_eq!(key.sk, "DAY#2027-03-09");
        assert_eq!(slot_day(&key.sk), Some(day));
        assert_eq!(slot_day("CAR"), None);
        let query = slot_query(&car, day, Day::parse("2027-03-11").unwrap());
        assert_eq!(query.index, None);
        assert_eq!(query.partition, key.pk);
        assert_eq!(
            query.sort,
            Some(SortCondition::Between(
                "DAY#2027-03-09".into(),
                "DAY#2027-03-11".into()
            ))
        );
    }
}
