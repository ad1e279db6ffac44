//! Airplane values: validated newtypes that cannot hold an invalid value, and the entity.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

crate::bounded::bounded_text!(
    /// An airplane's model number: trimmed, 1-64 printable characters.
    ModelNumber,
    64
);

impl ModelNumber {
    /// The form model numbers are matched in: case-insensitive.
    pub fn match_key(&self) -> String {
        self.0.to_lowercase()
    }
}

crate::bounded::bounded_integer!(
    /// The number of passenger seats: 1 to 1000.
    Capacity: u16,
    1..=1000
);

crate::identity::uuid_id!(
    /// An airplane's identifier.
    AirplaneId
);

/// An airplane of the fleet. It serializes to its public view (without the version, which the
/// API shows as the entity tag) and reads back from its stored item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Airplane {
    pub id: AirplaneId,
    pub model_number: ModelNumber,
    pub capacity: Capacity,
    #[serde(skip_serializing)]
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a new airplane is made of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAirplane {
    pub model_number: ModelNumber,
    pub capacity: Capacity,
}

/// A change to an airplane: at least one field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AirplaneChanges {
    pub model_number: Option<ModelNumber>,
    pub capacity: Option<Capacity>,
}

impl AirplaneChanges {
    /// `None` when nothing would change.
    pub fn new(model_number: Option<ModelNumber>, capacity: Option<Capacity>) -> Option<Self> {
        (model_number.is_some() || capacity.is_some()).then_some(Self {
            model_number,
            capacity,
        })
    }
}

/// Which airplanes a list shows; serialized whole, it is what a list's cursors are bound to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AirplaneFilter {
    pub(crate) min_capacity: Option<Capacity>,
    pub(crate) max_capacity: Option<Capacity>,
    /// In the form it is matched in, so `A320` and `a320` are one filter, with one cursor.
    #[serde(serialize_with = "serialize_match_key")]
    pub(crate) model_number: Option<ModelNumber>,
}

fn serialize_match_key<S: serde::Serializer>(
    model_number: &Option<ModelNumber>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    model_number
        .as_ref()
        .map(ModelNumber::match_key)
        .serialize(serializer)
}

impl AirplaneFilter {
    /// Fails when the capacity bounds leave no possible airplane.
    pub fn new(
        min_capacity: Option<Capacity>,
        max_capacity: Option<Capacity>,
        model_number: Option<ModelNumber>,
    ) -> Result<Self, String> {
        if let (Some(min), Some(max)) = (min_capacity, max_capacity)
            && min > max
        {
            return Err("must not be greater than maxCapacity".into());
        }
        Ok(Self {
            min_capacity,
            max_capacity,
            model_number,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_number_is_trimmed() {
        assert_eq!(
            ModelNumber::parse("  A320neo ").unwrap().as_str(),
            "A320neo"
        );
    }

    #[test]
    fn model_number_rejects_blank_long_and_control_characters() {
        assert!(ModelNumber::parse("   ").is_err());
        assert!(ModelNumber::parse(&"x".repeat(65)).is_err());
        assert!(ModelNumber::parse(&"é".repeat(64)).is_ok());
        assert!(ModelNumber::parse("A3\u{0}20").is_err());
        assert!(ModelNumber::parse("A3\n20").is_err());
    }

    #[test]
    fn capacity_accepts_only_1_to_1000() {
        for valid in [1, 150, 1000] {
            assert_eq!(Capacity::try_from(valid).unwrap().get() as i64, valid);
        }
        for invalid in [0, -3, 1001, i64::MAX, i64::MIN] {
            assert!(Capacity::try_from(invalid).is_err(), "{invalid}");
        }
    }

    #[test]
    fn airplane_id_accepts_only_uuids_in_canonical_form() {
        let id = AirplaneId::parse("0190F5D2-6A3E-7C4B-9A1E-3F2B8C4D5E6F").unwrap();
        assert_eq!(id.as_str(), "0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f");
        assert!(AirplaneId::parse("../etc").is_none());
        assert!(AirplaneId::parse("").is_none());
    }

    #[test]
    fn changes_need_at_least_one_field() {
        assert!(AirplaneChanges::new(None, None).is_none());
        assert!(AirplaneChanges::new(None, Some(Capacity::try_from(5).unwrap())).is_some());
    }

    #[test]
    fn filter_rejects_inverted_capacity_bounds() {
        let low = Capacity::try_from(10).ok();
        let high = Capacity::try_from(20).ok();
        assert!(AirplaneFilter::new(high, low, None).is_err());
        assert!(AirplaneFilter::new(low, high, None).is_ok());
        assert!(AirplaneFilter::new(low, low, None).is_ok());
    }

    #[test]
    fn filters_that_match_the_same_airplanes_serialize_alike() {
        let model = |text| AirplaneFilter::new(None, None, ModelNumber::parse(text).ok()).unwrap();
        let json = |filter: &AirplaneFilter| serde_json::to_value(filter).unwrap();
        assert_eq!(json(&model("A320neo")), json(&model("a320NEO")));
        assert_ne!(json(&model("A320neo")), json(&model("A321neo")));
        let low = Capacity::try_from(10).ok();
        assert_ne!(
            json(&AirplaneFilter::default()),
            json(&AirplaneFilter::new(low, None, None).unwrap())
        );
    }
}
