//! The day slots of a car: one item per day a contract holds the car, in the car's own
//! partition (`CAR#<carId>`, sort key `DAY#<yyyy-mm-dd>`, attribute `contractId`). A day is busy
//! exactly when its slot exists, so contracts take days with conditional puts and readers find a
//! car's busy days with one Query of a sort-key range. Both live by this layout; it is written
//! here once.

use super::model::CarId;
use crate::calendar::Day;
use crate::storage::Key;

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
    }
}
