//! Airport values: validated newtypes that cannot hold an invalid value, and the entity.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize, Serializer};

/// The assigned ISO 3166-1 alpha-2 codes (see the file's header for its source).
const ASSIGNED_COUNTRY_CODES: &str = include_str!("iso3166.tab");

/// An IATA airport code, the airport's id: exactly three uppercase ASCII letters.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct AirportCode(String);

impl AirportCode {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.len() == 3 && raw.bytes().all(|byte| byte.is_ascii_uppercase()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err("must be an IATA airport code: three uppercase letters".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for AirportCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

crate::bounded::bounded_text!(
    /// An airport's name or its city: trimmed, 1-100 printable characters.
    PlaceName,
    100
);

/// An ISO 3166-1 alpha-2 country code that is actually assigned (`IN`, `DE`), not just any two
/// letters, so that a typo such as `UK` for `GB` is caught when the airport is entered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct CountryCode(String);

impl CountryCode {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let well_formed = raw.len() == 2 && raw.bytes().all(|byte| byte.is_ascii_uppercase());
        if well_formed && country_codes().any(|code| code == raw) {
            Ok(Self(raw.to_owned()))
        } else {
            Err("must be an assigned ISO 3166-1 alpha-2 country code, such as IN or DE".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The codes of the embedded table, in its order: every code [`CountryCode::parse`] accepts.
pub fn country_codes() -> impl Iterator<Item = &'static str> {
    ASSIGNED_COUNTRY_CODES
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split('\t').next())
}

/// Every name [`TimeZone::parse`] accepts, in the database's order.
pub fn time_zone_names() -> impl Iterator<Item = &'static str> {
    chrono_tz::TZ_VARIANTS.iter().map(|zone| zone.name())
}

/// An IANA time zone (`Asia/Kolkata`), with its rules: the name as the caller gave it, checked
/// against the time zone database compiled into the binary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeZone(Tz);

impl TimeZone {
    pub fn parse(raw: &str) -> Result<Self, String> {
        Tz::from_str(raw)
            .map(Self)
            .map_err(|_| "must be an IANA time zone name, such as Asia/Kolkata".into())
    }

    pub fn as_str(&self) -> &'static str {
        self.0.name()
    }

    /// The instant a wall-clock `time` on `date` names in this zone; in a daylight-saving gap
    /// (a local time that never happens) `None`, in an overlap the earlier of the two.
    pub fn instant(&self, date: NaiveDate, time: chrono::NaiveTime) -> Option<DateTime<Utc>> {
        use chrono::TimeZone as _;
        self.0
            .from_local_datetime(&date.and_time(time))
            .earliest()
            .map(|local| local.to_utc())
    }

    /// The calendar date at this zone at the instant `at`.
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.0).date_naive()
    }
}

impl Serialize for TimeZone {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

crate::storage::parsed_from_string!(
    AirportCode => AirportCode::parse,
    CountryCode => CountryCode::parse,
    TimeZone => TimeZone::parse,
);

/// An airport. It serializes to its public view (without the version, which the API shows as
/// the entity tag) and reads back from its stored item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Airport {
    pub code: AirportCode,
    pub name: PlaceName,
    pub city: PlaceName,
    pub country: CountryCode,
    pub time_zone: TimeZone,
    #[serde(skip_serializing)]
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a new airport is made of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAirport {
    pub code: AirportCode,
    pub name: PlaceName,
    pub city: PlaceName,
    pub country: CountryCode,
    pub time_zone: TimeZone,
}

/// A change to an airport: at least one field. The code is the airport's id and never changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AirportChanges {
    name: Option<PlaceName>,
    city: Option<PlaceName>,
    country: Option<CountryCode>,
    time_zone: Option<TimeZone>,
}

impl AirportChanges {
    /// `None` when nothing would change.
    pub fn new(
        name: Option<PlaceName>,
        city: Option<PlaceName>,
        country: Option<CountryCode>,
        time_zone: Option<TimeZone>,
    ) -> Option<Self> {
        let any = name.is_some() || city.is_some() || country.is_some() || time_zone.is_some();
        any.then_some(Self {
            name,
            city,
            country,
            time_zone,
        })
    }

    pub fn name(&self) -> Option<&PlaceName> {
        self.name.as_ref()
    }

    pub fn city(&self) -> Option<&PlaceName> {
        self.city.as_ref()
    }

    pub fn country(&self) -> Option<&CountryCode> {
        self.country.as_ref()
    }

    pub fn time_zone(&self) -> Option<TimeZone> {
        self.time_zone
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn airport_codes_are_three_uppercase_ascii_letters() {
        assert_eq!(AirportCode::parse("DEL").unwrap().as_str(), "DEL");
        for invalid in ["del", "DELH", "DE", "D3L", "", " DEL", "ÄBC"] {
            assert!(AirportCode::parse(invalid).is_err(), "{invalid}");
        }
    }

    #[test]
    fn place_names_are_trimmed_printable_and_at_most_100_characters() {
        assert_eq!(
            PlaceName::parse("  Indira Gandhi International ")
                .unwrap()
                .as_str(),
            "Indira Gandhi International"
        );
        assert!(PlaceName::parse(&"é".repeat(100)).is_ok());
        for invalid in [" ".to_owned(), "x".repeat(101), "New\tDelhi".to_owned()] {
            assert!(PlaceName::parse(&invalid).is_err(), "{invalid:?}");
        }
    }

    #[test]
    fn country_codes_must_be_assigned() {
        for assigned in ["IN", "DE", "GB", "US", "AD", "ZW"] {
            assert_eq!(CountryCode::parse(assigned).unwrap().as_str(), assigned);
        }
        for invalid in ["UK", "XX", "in", "IND", "I", "", "AD\tAndorra", "#"] {
            assert!(CountryCode::parse(invalid).is_err(), "{invalid:?}");
        }
    }

    #[test]
    fn the_country_table_is_sorted_unique_and_well_formed() {
        let codes: Vec<&str> = country_codes().collect();
        assert_eq!(codes.len(), 249, "ISO 3166-1 assigns 249 alpha-2 codes");
        assert!(codes.windows(2).all(|pair| pair[0] < pair[1]));
        for line in ASSIGNED_COUNTRY_CODES
            .lines()
            .filter(|line| !line.starts_with('#'))
        {
            let (code, name) = line.split_once('\t').expect("code, tab, name");
            assert!(code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()));
            assert!(!name.trim().is_empty(), "{line}");
        }
    }

    #[test]
    fn time_zones_are_iana_names_with_their_rules() {
        let kolkata = TimeZone::parse("Asia/Kolkata").unwrap();
        assert_eq!(kolkata.as_str(), "Asia/Kolkata");
        // 20:00 UTC is 01:30 the next day in India (+05:30).
        let evening = DateTime::parse_from_rfc3339("2026-12-01T20:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            kolkata.local_date(evening),
            NaiveDate::from_ymd_opt(2026, 12, 2).unwrap()
        );
        let new_york = TimeZone::parse("America/New_York").unwrap();
        assert_eq!(
            new_york.local_date(evening),
            NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
        );
        for invalid in ["asia/kolkata", "Mars/Olympus", "", "+05:30", "IST "] {
            assert!(TimeZone::parse(invalid).is_err(), "{invalid:?}");
        }
    }

    #[test]
    fn changes_need_at_least_one_field() {
        assert!(AirportChanges::new(None, None, None, None).is_none());
        let city = PlaceName::parse("Delhi").ok();
        assert!(AirportChanges::new(None, city, None, None).is_some());
    }
}

/// Generated inputs: codes are accepted exactly in their one written form.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn an_airport_code_is_exactly_three_uppercase_letters(raw in "[A-Za-z]{2,4}|\\PC{0,4}") {
            let valid = raw.len() == 3 && raw.bytes().all(|byte| byte.is_ascii_uppercase());
            prop_assert_eq!(AirportCode::parse(&raw).is_ok(), valid);
        }

        #[test]
        fn a_country_code_is_an_assigned_pair_of_uppercase_letters(raw in "[A-Z]{2}|\\PC{0,3}") {
            if let Ok(country) = CountryCode::parse(&raw) {
                prop_assert!(country_codes().any(|code| code == country.as_str()));
                prop_assert_eq!(country.as_str(), raw.as_str());
            }
        }

        #[test]
        fn a_time_zone_reads_back_from_its_name(index in 0..chrono_tz::TZ_VARIANTS.len()) {
            let name = chrono_tz::TZ_VARIANTS[index].name();
            let zone = TimeZone::parse(name).unwrap();
            prop_assert_eq!(zone.as_str(), name);
            let stored = serde_json::to_value(zone).unwrap();
            prop_assert_eq!(serde_json::from_value::<TimeZone>(stored).unwrap(), zone);
        }
    }
}
