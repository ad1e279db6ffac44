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
}
