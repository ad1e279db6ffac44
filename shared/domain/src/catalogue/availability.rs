//! A car's availability: the ranges of days within a window (at most 180 days) on which its day
//! slots say it is taken.

use serde::Serialize;

use crate::calendar::{Day, DayRange};
use crate::cars::{self, CarId, CarStatus, days};
use crate::entity::EntityKind;
use crate::error::DomainError;
use crate::storage::{Store, StoreError};

/// The longest window one availability request covers: about six months, two Query pages of
/// slots at most.
pub const MAX_AVAILABILITY_DAYS: u32 = 180;

/// The window of an availability request: `from` to `to`, both included, at most
/// [`MAX_AVAILABILITY_DAYS`]. Past days are allowed: they show the car's history.
pub fn availability_range(from: Day, to: Day) -> Result<DayRange, DomainError> {
    DayRange::new(from, to)
        .and_then(|range| range.at_most(MAX_AVAILABILITY_DAYS))
        .map_err(|error| DomainError::Invalid {
            field: "to",
            message: error.to_string(),
        })
}

/// When one car is taken within a window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Availability {
    pub car_id: CarId,
    pub from: Day,
    pub to: Day,
    /// The busy days, as ranges of consecutive days in order, clipped to the window.
    pub busy: Vec<DayRange>,
}

/// The busy ranges of car `id` within `range`. An unknown car and a retired one are both 404: a
/// retired car is out of the fleet the public may rent from, so its calendar is nobody's
/// business. A car in maintenance answers its calendar (it comes back, and its contracts keep
/// their days); whether it can be rented now is the catalogue's answer. Costs one GetItem and
/// one Query of slots (two pages at most for 180 days).
#[tracing::instrument(skip(store))]
pub async fn car_availability(
    store: &dyn Store,
    id: &CarId,
    range: DayRange,
) -> Result<Availability, DomainError> {
    let car = cars::get_car(store, id).await?;
    if car.status == CarStatus::Retired {
        return Err(DomainError::NotFound {
            entity: EntityKind::Car,
        });
    }
    let busy = busy_ranges(busy_days(store, id, range).await?);
    Ok(Availability {
        car_id: car.id,
        from: range.start(),
        to: range.end(),
        busy,
    })
}

/// The days of `range` on which car `id` is taken, in order.
async fn busy_days(store: &dyn Store, id: &CarId, range: DayRange) -> Result<Vec<Day>, StoreError> {
    days::slots(store, id, range.start(), range.end())
        .await?
        .iter()
        .map(|slot| {
            days::day_of(slot)
                .ok_or_else(|| StoreError::internal("a day slot whose sort key is no day"))
        })
        .collect()
}

/// Ordered busy days as ranges of consecutive days. Two contracts whose days touch (one ends on
/// the 3rd, the next starts on the 4th) make one range: the public learns when the car is taken,
/// not how many rentals take it or whose they are.
pub fn busy_ranges(days: impl IntoIterator<Item = Day>) -> Vec<DayRange> {
    let mut ranges: Vec<DayRange> = Vec::new();
    for day in days {
        match ranges.last_mut() {
            Some(last) if last.end().next() == Some(day) => {
                *last = DayRange::spanning(last.start(), day);
            }
            Some(last) if day <= last.end() => {}
            _ => ranges.push(DayRange::spanning(day, day)),
        }
    }
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Day {
        Day::parse(text).unwrap()
    }

    fn range(start: &str, end: &str) -> DayRange {
        DayRange::new(day(start), day(end)).unwrap()
    }

    #[test]
    fn consecutive_days_merge_and_a_gap_splits() {
        let busy = [
            "2027-02-27",
            "2027-02-28",
            "2027-03-01",
            "2027-03-03",
            "2027-03-05",
            "2027-03-06",
        ];
        assert_eq!(
            busy_ranges(busy.map(day)),
            [
                range("2027-02-27", "2027-03-01"),
                range("2027-03-03", "2027-03-03"),
                range("2027-03-05", "2027-03-06"),
            ]
        );
        assert_eq!(busy_ranges([]), []);
    }

    #[test]
    fn touching_contracts_show_as_one_range() {
        // [1, 3] of one contract and [4, 6] of another: the car is busy from the 1st to the 6th.
        let days = (1..=6).map(|n| day(&format!("2027-05-0{n}")));
        assert_eq!(busy_ranges(days), [range("2027-05-01", "2027-05-06")]);
    }

    #[test]
    fn a_window_is_at_most_180_days_in_order() {
        let window = availability_range(day("2027-01-01"), day("2027-06-29")).unwrap();
        assert_eq!(window.days(), 180);
        for (from, to, message) in [
            (
                "2027-01-01",
                "2027-06-30",
                "the range may span at most 180 days",
            ),
            (
                "2027-01-02",
                "2027-01-01",
                "must not be before the first day",
            ),
        ] {
            assert!(matches!(
                availability_range(day(from), day(to)),
                Err(DomainError::Invalid { field: "to", message: m }) if m == message
            ));
        }
    }
}
