//! How airplanes are stored: keys, index attributes and the item layout (see docs/data-model.md).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::Value;

use super::model::{Airplane, AirplaneId, ModelNumber, NewAirplane};
use crate::clock::IdGenerator;
use crate::entity::{EntityKind, NewEntity};
use crate::storage::{Index, Item, ItemKeys, Key, StoreError, to_item};

/// The partition of index 1 that lists every airplane, newest first.
pub(crate) const ALL_AIRPLANES: &str = "AIRPLANES";
/// The attribute counting the flights that still use an airplane; deletion requires it to be 0.
pub(crate) const ACTIVE_FLIGHTS: &str = "activeFlights";
/// The index that lists every airplane.
pub(crate) const LIST_INDEX: Index = Index::Gsi1;
/// The index that lists the airplanes of one model number.
pub(crate) const MODEL_INDEX: Index = Index::Gsi2;

pub(crate) fn key(id: &AirplaneId) -> Key {
    Key::new(format!("AIRPLANE#{id}"), "AIRPLANE")
}

/// The partition of index 2 holding the airplanes of one model number (matched case-insensitively).
pub(crate) fn model_partition(model_number: &ModelNumber) -> String {
    format!("AIRPLANES#MODEL#{}", model_number.match_key())
}

/// Index sort key: creation time, then id, so that lists come out in creation order.
fn list_sort_key(created_at: &DateTime<Utc>, id: &AirplaneId) -> String {
    format!(
        "{}#{id}",
        created_at.to_rfc3339_opts(SecondsFormat::Millis, true)
    )
}

/// The stored form of an airplane: the airplane's own fields, its version, and the keys and
/// counter that place it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AirplaneRecord<'a> {
    #[serde(flatten)]
    keys: ItemKeys,
    entity: EntityKind,
    #[serde(flatten)]
    airplane: &'a Airplane,
    version: u64,
    active_flights: u32,
}

/// The entity type stored items and audit entries name airplanes by.
pub(crate) const ENTITY: EntityKind = EntityKind::Airplane;

crate::entity::versioned_entity!(Airplane, ENTITY, id: AirplaneId => key);

/// A new airplane ([`super::create_airplane`]) gets a fresh id and is stored in use by no flight,
/// listed by both indexes, with its audit entry, in one transaction.
impl NewEntity for NewAirplane {
    type Entity = Airplane;

    fn assemble(self, ids: &dyn IdGenerator, now: DateTime<Utc>) -> Airplane {
        let NewAirplane {
            model_number,
            capacity,
        } = self;
        let (id, version, created_at, updated_at) = (ids.new_id().into(), 1, now, now);
        Airplane {
            id,
            model_number,
            capacity,
            version,
            created_at,
            updated_at,
        }
    }

    fn item(airplane: &Airplane) -> Result<Item, StoreError> {
        let sort_key = list_sort_key(&airplane.created_at, &airplane.id);
        let model = model_partition(&airplane.model_number);
        to_item(&AirplaneRecord {
            keys: ItemKeys::new(key(&airplane.id))
                .indexed(LIST_INDEX, ALL_AIRPLANES, sort_key.clone())
                .indexed(MODEL_INDEX, model, sort_key),
            entity: ENTITY,
            airplane,
            version: airplane.version,
            active_flights: 0,
        })
    }
}

/// The attributes to set when a model number changes, index key included.
pub(crate) fn model_number_attributes(model_number: &ModelNumber) -> [(String, Value); 2] {
    [
        ("modelNumber".to_owned(), Value::from(model_number.as_str())),
        (
            MODEL_INDEX.partition_key().to_owned(),
            Value::from(model_partition(model_number)),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::airplanes::Capacity;
    use crate::storage::from_item;

    fn view(airplane: &Airplane) -> serde_json::Map<String, Value> {
        to_item(airplane).unwrap()
    }

    fn airplane() -> Airplane {
        let created = DateTime::parse_from_rfc3339("2026-11-21T08:00:00.123Z")
            .unwrap()
            .to_utc();
        Airplane {
            id: AirplaneId::parse("0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f").unwrap(),
            model_number: ModelNumber::parse("A320neo").unwrap(),
            capacity: Capacity::try_from(180).unwrap(),
            version: 1,
            created_at: created,
            updated_at: created,
        }
    }

    #[test]
    fn an_airplane_survives_the_round_trip_through_its_item() {
        let original = airplane();
        assert_eq!(
            from_item::<Airplane>(NewAirplane::item(&original).unwrap()).unwrap(),
            original
        );
    }

    #[test]
    fn the_item_carries_its_keys_and_index_keys() {
        let item = NewAirplane::item(&airplane()).unwrap();
        assert_eq!(Key::of(&item).unwrap(), key(&airplane().id));
        assert_eq!(item["gsi1pk"], "AIRPLANES");
        assert_eq!(
            item["gsi1sk"],
            "2026-11-21T08:00:00.123Z#0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f"
        );
        assert_eq!(item["gsi2pk"], "AIRPLANES#MODEL#a320neo");
        assert_eq!(item[ACTIVE_FLIGHTS], 0);
    }

    #[test]
    fn the_view_holds_the_public_fields_only() {
        let view = view(&airplane());
        let mut names: Vec<&str> = view.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            ["capacity", "createdAt", "id", "modelNumber", "updatedAt"]
        );
        assert_eq!(view["createdAt"], "2026-11-21T08:00:00.123Z");
    }

    #[test]
    fn a_corrupt_item_is_an_internal_error() {
        let mut item = NewAirplane::item(&airplane()).unwrap();
        item.insert("capacity".into(), Value::from(0));
        assert!(matches!(
            from_item::<Airplane>(item),
            Err(StoreError::Internal(_))
        ));
    }
}

/// Generated inputs: any airplane the API can create reads back from its item unchanged.
#[cfg(test)]
mod properties {
    use chrono::TimeZone as _;
    use proptest::prelude::*;

    use super::*;
    use crate::airplanes::Capacity;
    use crate::storage::from_item;

    proptest! {
        #[test]
        fn every_airplane_survives_its_item(
            model in "\\PC{1,64}",
            seats in 1..=1000i64,
            id in any::<u128>(),
            millis in 0..4_102_444_800_000i64,
            version in 1..u64::MAX,
        ) {
            prop_assume!(ModelNumber::parse(&model).is_ok());
            let at = Utc.timestamp_millis_opt(millis).unwrap();
            let airplane = Airplane {
                id: AirplaneId::from(uuid::Uuid::from_u128(id)),
                model_number: ModelNumber::parse(&model).unwrap(),
                capacity: Capacity::try_from(seats).unwrap(),
                version,
                created_at: at,
                updated_at: at,
            };
            let item = NewAirplane::item(&airplane).unwrap();
            prop_assert_eq!(from_item::<Airplane>(item).unwrap(), airplane);
        }
    }
}
