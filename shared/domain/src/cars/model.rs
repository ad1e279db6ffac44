//! Car values: validated newtypes that cannot hold an invalid value, and the entity.

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};

use crate::money::Money;

/// A licence plate in its normalized form: surrounding space trimmed, letters uppercased, inner
/// spaces and hyphens removed (`"ab-12 cd"` is `AB12CD`), then 2 to 10 ASCII letters and digits.
/// Ten covers the longest plates in use (German plates normalize to at most 8, British to 7,
/// US vanity plates to 8); plates in other scripts are out of scope and refused.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct LicencePlate(String);

impl LicencePlate {
    /// The fewest characters a normalized plate has.
    pub const MIN_CHARS: usize = 2;
    /// The most characters a normalized plate has.
    pub const MAX_CHARS: usize = 10;
    /// What a plate may be written as on the wire: letters, digits, spaces and hyphens, which
    /// normalize to [`Self::MIN_CHARS`]..=[`Self::MAX_CHARS`] letters and digits.
    pub const PATTERN: &'static str = "^\\s*[ -]*(?:[A-Za-z0-9][ -]*){2,10}\\s*$";
    /// A normalized plate, as the API answers it.
    pub const NORMAL_PATTERN: &'static str = "^[A-Z0-9]{2,10}$";

    pub fn parse(raw: &str) -> Result<Self, String> {
        let normalized: String = raw
            .trim()
            .chars()
            .filter(|c| *c != ' ' && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let length = normalized.chars().count();
        if !normalized.chars().all(|c| c.is_ascii_alphanumeric())
            || !(Self::MIN_CHARS..=Self::MAX_CHARS).contains(&length)
        {
            return Err(format!(
                "must be {} to {} letters (A-Z) and digits, spaces and hyphens aside",
                Self::MIN_CHARS,
                Self::MAX_CHARS
            ));
        }
        Ok(Self(normalized))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A vehicle identification number (ISO 3779): 17 characters of `[A-HJ-NPR-Z0-9]` (no `I`, `O`
/// or `Q`, which read as digits), trimmed and uppercased. The check digit (position 9) is
/// mandatory only in North America, so it is not verified.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Vin(String);

impl Vin {
    /// What a VIN is, as the API description states it (before uppercasing).
    pub const PATTERN: &'static str = "^\\s*[A-HJ-NPR-Za-hj-npr-z0-9]{17}\\s*$";
    /// A VIN as the API answers it.
    pub const NORMAL_PATTERN: &'static str = "^[A-HJ-NPR-Z0-9]{17}$";

    pub fn parse(raw: &str) -> Result<Self, String> {
        let vin = raw.trim().to_ascii_uppercase();
        let allowed = |c: char| {
            (c.is_ascii_uppercase() && !matches!(c, 'I' | 'O' | 'Q')) || c.is_ascii_digit()
        };
        if vin.len() == 17 && vin.chars().all(allowed) {
            Ok(Self(vin))
        } else {
            Err("must be 17 letters and digits, without I, O or Q".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

crate::storage::parsed_from_string!(LicencePlate => LicencePlate::parse, Vin => Vin::parse);

crate::bounded::bounded_text!(
    /// A car's manufacturer (`Toyota`): trimmed, 1-64 printable characters.
    Manufacturer,
    64
);

impl Manufacturer {
    /// The form manufacturers are matched in: case-insensitive.
    pub fn match_key(&self) -> String {
        self.0.to_lowercase()
    }
}

crate::bounded::bounded_text!(
    /// A car's model name (`Corolla`): trimmed, 1-64 printable characters.
    CarModel,
    64
);

crate::bounded::bounded_integer!(
    /// A car's model year: 1990 at the earliest; a new car's is at most next year
    /// ([`ModelYear::new`]), and a stored one reads back whatever year it was accepted in.
    ModelYear: u16,
    1990..=9999
);

impl ModelYear {
    /// `year` when it is 1990 to the year after `now`'s (models are sold a year ahead).
    pub fn new(year: i64, now: DateTime<Utc>) -> Result<Self, String> {
        let latest = i64::from(now.year()) + 1;
        if (i64::from(*Self::RANGE.start())..=latest).contains(&year) {
            Self::try_from(year)
        } else {
            Err(format!(
                "must be between {} and {latest}",
                Self::RANGE.start()
            ))
        }
    }
}

crate::bounded::bounded_integer!(
    /// A car's odometer reading in kilometres: 0 to 2,000,000.
    Mileage: u32,
    0..=2_000_000
);

/// A car's price per rental day: money of more than zero minor units.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DailyRate(#[serde(deserialize_with = "positive")] Money);

impl DailyRate {
    pub fn new(money: Money) -> Result<Self, String> {
        if money.amount() > 0 {
            Ok(Self(money))
        } else {
            Err("amount must be more than 0 minor units".into())
        }
    }

    pub fn money(&self) -> &Money {
        &self.0
    }
}

fn positive<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Money, D::Error> {
    let money = Money::deserialize(deserializer)?;
    DailyRate::new(money)
        .map(|rate| rate.0)
        .map_err(serde::de::Error::custom)
}

crate::bounded::word_enum!(
    /// What kind of car it is; the catalogue filters by it.
    CarCategory {
        Economy => "economy",
        Compact => "compact",
        Midsize => "midsize",
        Suv => "suv",
        Van => "van",
        Luxury => "luxury",
    }
);

crate::bounded::word_enum!(
    /// Where a car is in its life: `available` to rent, `rented` out (set by a contract's pickup
    /// and cleared by its return, never by an update), in `maintenance`, or `retired`.
    CarStatus {
        Available => "available",
        Rented => "rented",
        Maintenance => "maintenance",
        Retired => "retired",
    }
);

impl CarStatus {
    /// The statuses an update may set: every one but `rented`, which belongs to contracts.
    pub const SETTABLE: &'static [&'static str] = &["available", "maintenance", "retired"];
}

crate::identity::uuid_id!(
    /// A car's identifier.
    CarId
);

/// A car of the rental fleet. It serializes to its public view (without the version, which the
/// API shows as the entity tag) and reads back from its stored item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Car {
    pub id: CarId,
    pub license_plate: LicencePlate,
    pub vin: Vin,
    pub manufacturer: Manufacturer,
    pub model: CarModel,
    pub year: ModelYear,
    pub category: CarCategory,
    pub daily_rate: DailyRate,
    pub status: CarStatus,
    pub mileage: Mileage,
    #[serde(skip_serializing)]
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Car {
    /// The car as people name it in messages: manufacturer, model and licence plate
    /// (`Toyota Corolla (KA01AB1234)`).
    pub fn label(&self) -> String {
        format!(
            "{} {} ({})",
            self.manufacturer.as_str(),
            self.model.as_str(),
            self.license_plate.as_str()
        )
    }
}

/// What a new car is made of; it starts `available`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewCar {
    pub license_plate: LicencePlate,
    pub vin: Vin,
    pub manufacturer: Manufacturer,
    pub model: CarModel,
    pub year: ModelYear,
    pub category: CarCategory,
    pub daily_rate: DailyRate,
    pub mileage: Mileage,
}

/// A change to a car: at least one of the whitelisted fields.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CarChanges {
    pub license_plate: Option<LicencePlate>,
    pub daily_rate: Option<DailyRate>,
    pub category: Option<CarCategory>,
    /// Never `rented`: the handler's parser admits [`CarStatus::SETTABLE`] only, and the rule
    /// refuses it again.
    pub status: Option<CarStatus>,
    pub mileage: Option<Mileage>,
}

impl CarChanges {
    /// Whether the change names no field at all.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Which cars a list shows; serialized whole, it is what a list's cursors are bound to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CarFilter {
    pub status: Option<CarStatus>,
    pub category: Option<CarCategory>,
    /// In the form it is matched in, so `Toyota` and `TOYOTA` are one filter, with one cursor.
    #[serde(serialize_with = "serialize_match_key")]
    pub manufacturer: Option<Manufacturer>,
}

fn serialize_match_key<S: serde::Serializer>(
    manufacturer: &Option<Manufacturer>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    manufacturer
        .as_ref()
        .map(Manufacturer::match_key)
        .serialize(serializer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    #[test]
    fn plates_are_trimmed_uppercased_and_lose_inner_spaces_and_hyphens() {
        for (raw, plate) in [
            ("ab-12 cd", "AB12CD"),
            ("  m-ab 1234e ", "MAB1234E"),
            ("KA 01 AB 1234", "KA01AB1234"),
            ("x-1", "X1"),
        ] {
            assert_eq!(LicencePlate::parse(raw).unwrap().as_str(), plate, "{raw}");
        }
    }

    #[test]
    fn plates_refuse_other_characters_and_lengths() {
        for invalid in [
            "",
            " - ",
            "A",
            "AB_12",
            "ÄB12",
            "AB.12",
            "ABCDEFGHIJK",
            "AB\n12",
        ] {
            assert!(LicencePlate::parse(invalid).is_err(), "{invalid:?}");
        }
        assert!(LicencePlate::parse("ABCDEFGHIJ").is_ok());
    }

    #[test]
    fn vins_are_17_of_the_iso_3779_characters() {
        assert_eq!(
            Vin::parse(" 1hgcm82633a004352 ").unwrap().as_str(),
            "1HGCM82633A004352"
        );
        for invalid in [
            "1HGCM82633A00435",
            "1HGCM82633A0043521",
            "1HGCM82633A00435I",
            "1HGCM82633A00435O",
            "1HGCM82633A00435Q",
            "1HGCM82633A00435-",
        ] {
            assert!(Vin::parse(invalid).is_err(), "{invalid}");
        }
    }

    #[test]
    fn a_model_year_is_1990_to_next_year() {
        let now = DateTime::parse_from_rfc3339("2026-11-29T12:00:00Z")
            .unwrap()
            .to_utc();
        for valid in [1990, 2026, 2027] {
            assert_eq!(i64::from(ModelYear::new(valid, now).unwrap().get()), valid);
        }
        for invalid in [1989, 2028, -1, 0] {
            assert_eq!(
                ModelYear::new(invalid, now).unwrap_err(),
                "must be between 1990 and 2027",
                "{invalid}"
            );
        }
    }

    #[test]
    fn mileage_is_0_to_2_million() {
        assert!(Mileage::try_from(0).is_ok());
        assert!(Mileage::try_from(2_000_000).is_ok());
        assert!(Mileage::try_from(2_000_001).is_err());
        assert!(Mileage::try_from(-1).is_err());
    }

    #[test]
    fn a_daily_rate_is_more_than_nothing() {
        let eur = || Currency::parse("EUR").unwrap();
        assert!(DailyRate::new(Money::new(0, eur()).unwrap()).is_err());
        let rate = DailyRate::new(Money::new(4_500, eur()).unwrap()).unwrap();
        let json = serde_json::to_value(&rate).unwrap();
        assert_eq!(json, serde_json::json!({"amount": 4500, "currency": "EUR"}));
        assert_eq!(serde_json::from_value::<DailyRate>(json).unwrap(), rate);
        assert!(
            serde_json::from_value::<DailyRate>(
                serde_json::json!({"amount": 0, "currency": "EUR"})
            )
            .is_err()
        );
    }

    #[test]
    fn categories_and_statuses_are_their_words() {
        assert_eq!(
            CarCategory::WORDS,
            ["economy", "compact", "midsize", "suv", "van", "luxury"]
        );
        assert_eq!(CarStatus::parse("maintenance"), Ok(CarStatus::Maintenance));
        assert!(
            CarStatus::SETTABLE
                .iter()
                .all(|word| CarStatus::parse(word).is_ok())
        );
        assert!(!CarStatus::SETTABLE.contains(&CarStatus::Rented.as_str()));
    }

    #[test]
    fn filters_that_match_the_same_cars_serialize_alike() {
        let maker = |text| CarFilter {
            manufacturer: Manufacturer::parse(text).ok(),
            ..CarFilter::default()
        };
        let json = |filter: &CarFilter| serde_json::to_value(filter).unwrap();
        assert_eq!(json(&maker("Toyota")), json(&maker("TOYOTA")));
        assert_ne!(json(&maker("Toyota")), json(&maker("Honda")));
    }
}

/// Generated inputs: plates and VINs accept exactly their normalized forms, and a normalized
/// value parses to itself and reads back from its stored form.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn a_plate_is_accepted_exactly_when_its_normal_form_is_2_to_10_letters_and_digits(
            raw in "[ a-zA-Z0-9-]{0,14}|\\PC{0,12}",
        ) {
            let normal: String = raw.trim().chars().filter(|c| *c != ' ' && *c != '-').collect();
            let valid = normal.chars().all(|c| c.is_ascii_alphanumeric())
                && (2..=10).contains(&normal.chars().count());
            match LicencePlate::parse(&raw) {
                Ok(plate) => {
                    prop_assert!(valid);
                    prop_assert_eq!(plate.as_str(), normal.to_ascii_uppercase());
                    prop_assert_eq!(LicencePlate::parse(plate.as_str()).unwrap(), plate.clone());
                    let stored = serde_json::to_value(&plate).unwrap();
                    prop_assert_eq!(serde_json::from_value::<LicencePlate>(stored).unwrap(), plate);
                }
                Err(_) => prop_assert!(!valid),
            }
        }

        #[test]
        fn a_vin_is_accepted_exactly_when_it_is_17_allowed_characters(
            raw in "[A-Za-z0-9]{15,18}|\\PC{0,18}",
        ) {
            let upper = raw.trim().to_ascii_uppercase();
            let valid = upper.len() == 17
                && upper.chars().all(|c| c.is_ascii_digit() || (c.is_ascii_uppercase() && !"IOQ".contains(c)));
            match Vin::parse(&raw) {
                Ok(vin) => {
                    prop_assert!(valid);
                    prop_assert_eq!(vin.as_str(), upper.as_str());
                    prop_assert_eq!(Vin::parse(vin.as_str()).unwrap(), vin);
                }
                Err(_) => prop_assert!(!valid),
            }
        }
    }
}
