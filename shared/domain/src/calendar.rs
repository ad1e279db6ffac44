//! Whole days: a driving licence's expiry, and (for rental contracts) the days a car is taken.
//!
//! A day is a calendar date with no time and no zone, written `yyyy-mm-dd` on the wire and in
//! items (so days sort as strings in index keys). Rules that compare a day with "now" take the
//! day of the clock in UTC ([`Day::today`]); the operator's days are the same everywhere.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// Reads a calendar date written `yyyy-mm-dd`, and nothing else.
pub fn parse_date(raw: &str) -> Result<NaiveDate, String> {
    let well_formed = raw.len() == 10
        && raw
            .bytes()
            .enumerate()
            .all(|(position, byte)| match position {
                4 | 7 => byte == b'-',
                _ => byte.is_ascii_digit(),
            });
    well_formed
        .then(|| NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| "must be a date written yyyy-mm-dd, such as 2026-12-01".into())
}

/// One whole calendar day, `yyyy-mm-dd`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Day(NaiveDate);

impl Day {
    /// The day `raw` names, written `yyyy-mm-dd`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        parse_date(raw).map(Self)
    }

    /// The day (UTC) of the instant `now`.
    pub fn today(now: DateTime<Utc>) -> Self {
        Self(now.date_naive())
    }

    /// The calendar date.
    pub fn date(self) -> NaiveDate {
        self.0
    }

    /// The day after this one (`None` past the last date the calendar holds).
    pub fn next(self) -> Option<Self> {
        self.0.succ_opt().map(Self)
    }
}

impl From<NaiveDate> for Day {
    fn from(date: NaiveDate) -> Self {
        Self(date)
    }
}

impl std::fmt::Display for Day {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

crate::storage::parsed_from_string!(Day => Day::parse);

/// Why two days do not make a [`DayRange`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    /// The last day comes before the first.
    #[error("must not be before the first day")]
    EndBeforeStart,
    /// The range holds more days than the rule allows.
    #[error("the range may span at most {max} days")]
    TooLong { max: u32 },
}

/// Whole days from `startDate` to `endDate`, both included, the first never after the last. A
/// rental, a search of the catalogue and a car's busy days are all such ranges; each use bounds
/// its length with [`DayRange::at_most`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DayRange {
    start_date: Day,
    end_date: Day,
}

impl DayRange {
    /// The days from `start` to `end`, both included.
    pub fn new(start: Day, end: Day) -> Result<Self, RangeError> {
        if end < start {
            return Err(RangeError::EndBeforeStart);
        }
        Ok(Self {
            start_date: start,
            end_date: end,
        })
    }

    /// The days from the earlier of `a` and `b` to the later, both included.
    pub fn spanning(a: Day, b: Day) -> Self {
        Self {
            start_date: a.min(b),
            end_date: a.max(b),
        }
    }

    /// This range, when it spans at most `max` days.
    pub fn at_most(self, max: u32) -> Result<Self, RangeError> {
        if self.days() > max {
            return Err(RangeError::TooLong { max });
        }
        Ok(self)
    }

    /// The first day.
    pub fn start(self) -> Day {
        self.start_date
    }

    /// The last day.
    pub fn end(self) -> Day {
        self.end_date
    }

    /// How many days the range holds: 1 when it starts and ends on one day.
    pub fn days(self) -> u32 {
        let span = (self.end_date.0 - self.start_date.0).num_days();
        u32::try_from(span + 1).unwrap_or(u32::MAX)
    }

    /// Every day of the range, in order.
    pub fn each_day(self) -> impl Iterator<Item = Day> {
        let end = self.end_date.0;
        self.start_date
            .0
            .iter_days()
            .take_while(move |day| *day <= end)
            .map(Day)
    }

    /// Whether `day` is in the range.
    pub fn contains(self, day: Day) -> bool {
        (self.start_date..=self.end_date).contains(&day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_reads_and_writes_yyyy_mm_dd_only() {
        let day = Day::parse("2027-02-28").unwrap();
        assert_eq!(day.to_string(), "2027-02-28");
        assert_eq!(serde_json::to_value(day).unwrap(), "2027-02-28");
        assert_eq!(
            serde_json::from_value::<Day>(serde_json::json!("2027-02-28")).unwrap(),
            day
        );
        for invalid in [
            "2027-2-28",
            "2027-02-29",
            "27-02-28",
            "2027/02/28",
            "2027-02-28T00:00:00Z",
            "",
        ] {
            assert!(Day::parse(invalid).is_err(), "{invalid}");
        }
    }

    #[test]
    fn days_order_by_date_and_today_is_the_utc_date() {
        assert!(Day::parse("2026-12-31").unwrap() < Day::parse("2027-01-01").unwrap());
        let late = DateTime::parse_from_rfc3339("2026-12-31T23:30:00-05:00")
            .unwrap()
            .to_utc();
        assert_eq!(Day::today(late), Day::parse("2027-01-01").unwrap());
    }

    #[test]
    fn a_range_holds_both_its_ends_and_writes_them_as_start_and_end_dates() {
        let day = |text| Day::parse(text).unwrap();
        let range = DayRange::new(day("2027-02-27"), day("2027-03-01")).unwrap();
        assert_eq!(range.days(), 3);
        assert_eq!(
            serde_json::to_value(range).unwrap(),
            serde_json::json!({"startDate": "2027-02-27", "endDate": "2027-03-01"})
        );
        let one = DayRange::new(day("2027-02-27"), day("2027-02-27")).unwrap();
        assert_eq!(one.days(), 1);
        assert_eq!(
            DayRange::new(day("2027-02-28"), day("2027-02-27")),
            Err(RangeError::EndBeforeStart)
        );
        assert_eq!(range.at_most(3), Ok(range));
        assert_eq!(range.at_most(2), Err(RangeError::TooLong { max: 2 }));
    }
}

/// Generated ranges: a range exists exactly when its start is not after its end, counts every
/// day from one to the other, and passes a length bound exactly when it fits in it.
#[cfg(test)]
mod properties {
    use chrono::Days;
    use proptest::prelude::*;

    use super::*;

    fn day(offset: u32) -> Day {
        let first = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        Day::from(first + Days::new(u64::from(offset)))
    }

    proptest! {
        #[test]
        fn a_range_is_every_day_from_start_to_end(start in 0u32..2_000, end in 0u32..2_000, max in 1u32..400) {
            match DayRange::new(day(start), day(end)) {
                Ok(range) => {
                    prop_assert!(start <= end);
                    prop_assert_eq!(range.days(), end - start + 1);
                    let mut walked = 1;
                    let mut current = range.start();
                    while current < range.end() {
                        current = current.next().unwrap();
                        walked += 1;
                    }
                    prop_assert_eq!(walked, range.days());
                    let every: Vec<Day> = range.each_day().collect();
                    prop_assert_eq!(every.len() as u32, range.days());
                    prop_assert!(every.windows(2).all(|pair| pair[0].next() == Some(pair[1])));
                    prop_assert!(range.contains(day(start)) && range.contains(day(end)));
                    prop_assert!(!range.contains(day(end + 1)));
                    prop_assert_eq!(range.at_most(max).is_ok(), range.days() <= max);
                }
                Err(error) => {
                    prop_assert!(start > end);
                    prop_assert_eq!(error, RangeError::EndBeforeStart);
                }
            }
        }
    }
}
