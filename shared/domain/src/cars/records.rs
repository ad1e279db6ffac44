//! How cars are stored: keys, index attributes, the claims of plate and VIN, and the item layout
//! (see docs/data-model.md).
//!
//! Three index entries list a car, one per list filter: `gsi1` every car under `CARS`, sorted by
//! category and then creation (so one category is a `begins_with` on the sort key), `gsi2` the
//! cars of one status, `gsi3` the cars of one manufacturer (matched case-insensitively), the
//! latter two newest first.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::Value;

use super::model::{Car, CarCategory, CarId, CarStatus, LicencePlate, Manufacturer, NewCar, Vin};
use crate::clock::IdGenerator;
use crate::entity::{Claim, EntityKind, NewEntity};
use crate::storage::{Index, Item, ItemKeys, Key, StoreError, to_item};

/// The entity type stored items and audit entries name cars by.
pub(crate) const ENTITY: EntityKind = EntityKind::Car;
/// The partition of [`LIST_INDEX`] holding every car.
pub(crate) const ALL_CARS: &str = "CARS";
/// The index listing every car, by category then newest first.
pub(crate) const LIST_INDEX: Index = Index::Gsi1;
/// The index listing the cars of one status, newest first.
pub(crate) const STATUS_INDEX: Index = Index::Gsi2;
/// The index listing the cars of one manufacturer, newest first.
pub(crate) const MANUFACTURER_INDEX: Index = Index::Gsi3;
/// The attribute counting a car's contracts that are not cancelled; deletion requires it to be
/// 0. Reserving a contract increments it and cancelling one decrements it, in the contract's own
/// transaction.
pub(crate) const CONTRACT_COUNT: &str = "contractCount";

crate::entity::versioned_entity!(Car, ENTITY, id: CarId => key);

pub(crate) fn key(id: &CarId) -> Key {
    Key::new(format!("CAR#{id}"), "CAR")
}

/// The partition of [`STATUS_INDEX`] holding the cars of `status`.
pub(crate) fn status_partition(status: CarStatus) -> String {
    format!("CARS#STATUS#{status}")
}

/// The partition of [`MANUFACTURER_INDEX`] holding one manufacturer's cars.
pub(crate) fn manufacturer_partition(manufacturer: &Manufacturer) -> String {
    format!("CARS#MAKER#{}", manufacturer.match_key())
}

/// The prefix of [`LIST_INDEX`]'s sort keys of one category.
pub(crate) fn category_prefix(category: CarCategory) -> String {
    format!("{category}#")
}

/// Creation time, then id, so that lists come out in creation order.
fn created_key(car: &Car) -> String {
    format!(
        "{}#{}",
        car.created_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        car.id
    )
}

/// [`LIST_INDEX`]'s sort key: the category, then creation.
fn list_sort_key(car: &Car) -> String {
    format!("{}{}", category_prefix(car.category), created_key(car))
}

/// The claim of a car's licence plate.
pub(crate) fn plate_claim(id: &CarId, plate: &LicencePlate) -> Claim {
    let taken = format!(
        "A car with the licence plate {} exists already.",
        plate.as_str()
    );
    Claim::new(EntityKind::CarPlate, plate.as_str(), id, taken)
}

/// The claim of a car's VIN.
pub(crate) fn vin_claim(id: &CarId, vin: &Vin) -> Claim {
    let taken = format!("A car with the VIN {} exists already.", vin.as_str());
    Claim::new(EntityKind::CarVin, vin.as_str(), id, taken)
}

/// The stored form of a car: its own fields, its version, and the keys and counter that place
/// it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CarRecord<'a> {
    #[serde(flatten)]
    keys: ItemKeys,
    entity: EntityKind,
    #[serde(flatten)]
    car: &'a Car,
    version: u64,
    contract_count: u64,
}

/// A new car ([`super::create_car`]) gets a fresh id and starts `available`, under no contract,
/// listed by all three indexes, with its plate and VIN claimed and its audit entry, in one
/// transaction: of concurrent creates with one plate (or one VIN) exactly one commits.
impl NewEntity for NewCar {
    type Entity = Car;

    fn assemble(self, ids: &dyn IdGenerator, now: DateTime<Utc>) -> Car {
        let NewCar {
            license_plate,
            vin,
            manufacturer,
            model,
            year,
            category,
            daily_rate,
            mileage,
        } = self;
        let (id, status, version, created_at, updated_at) =
            (ids.new_id().into(), CarStatus::Available, 1, now, now);
        Car {
            id,
            license_plate,
            vin,
            manufacturer,
            model,
            year,
            category,
            daily_rate,
            status,
            mileage,
            version,
            created_at,
            updated_at,
        }
    }

    fn item(car: &Car) -> Result<Item, StoreError> {
        let created = created_key(car);
        to_item(&CarRecord {
            keys: ItemKeys::new(key(&car.id))
                .indexed(LIST_INDEX, ALL_CARS, list_sort_key(car))
                .indexed(STATUS_INDEX, status_partition(car.status), created.clone())
                .indexed(
                    MANUFACTURER_INDEX,
                    manufacturer_partition(&car.manufacturer),
                    created,
                ),
            entity: ENTITY,
            car,
            version: car.version,
            contract_count: 0,
        })
    }

    fn claims(car: &Car) -> Vec<Claim> {
        vec![
            plate_claim(&car.id, &car.license_plate),
            vin_claim(&car.id, &car.vin),
        ]
    }
}

/// The attributes to set when a car's category changes, its list index sort key included.
pub(crate) fn category_attributes(car: &Car) -> [(String, Value); 2] {
    [
        ("category".to_owned(), Value::from(car.category.as_str())),
        (
            LIST_INDEX.sort_key().to_owned(),
            Value::from(list_sort_key(car)),
        ),
    ]
}

/// The attributes to set when a car's status changes, its status index partition included.
pub(crate) fn status_attributes(status: CarStatus) -> [(String, Value); 2] {
    [
        ("status".to_owned(), Value::from(status.as_str())),
        (
            STATUS_INDEX.partition_key().to_owned(),
            Value::from(status_partition(status)),
        ),
    ]
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::cars::{CarModel, DailyRate, Mileage, ModelYear};
    use crate::money::{Currency, Money};
    use crate::storage::from_item;

    pub(crate) fn car() -> Car {
        let created = DateTime::parse_from_rfc3339("2026-11-21T08:00:00.123Z")
            .unwrap()
            .to_utc();
        Car {
            id: CarId::parse("0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f").unwrap(),
            license_plate: LicencePlate::parse("ab-12 cd").unwrap(),
            vin: Vin::parse("1HGCM82633A004352").unwrap(),
            manufacturer: Manufacturer::parse("Toyota").unwrap(),
            model: CarModel::parse("Corolla").unwrap(),
            year: ModelYear::try_from(2024).unwrap(),
            category: CarCategory::Compact,
            daily_rate: DailyRate::new(Money::new(4_500, Currency::parse("EUR").unwrap()).unwrap())
                .unwrap(),
            status: CarStatus::Available,
            mileage: Mileage::try_from(12_000).unwrap(),
            version: 1,
            created_at: created,
            updated_at: created,
        }
    }

    #[test]
    fn a_car_survives_the_round_trip_through_its_item() {
        let original = car();
        assert_eq!(
            from_item::<Car>(NewCar::item(&original).unwrap()).unwrap(),
            original
        );
    }

    #[test]
    fn the_item_carries_its_keys_index_keys_and_counter() {
        let item = NewCar::item(&car()).unwrap();
        assert_eq!(Key::of(&item).unwrap(), key(&car().id));
        assert_eq!(item["gsi1pk"], "CARS");
        assert_eq!(
            item["gsi1sk"],
            "compact#2026-11-21T08:00:00.123Z#0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f"
        );
        assert_eq!(item["gsi2pk"], "CARS#STATUS#available");
        assert_eq!(item["gsi3pk"], "CARS#MAKER#toyota");
        assert_eq!(item["gsi2sk"], item["gsi3sk"]);
        assert_eq!(item[CONTRACT_COUNT], 0);
    }

    #[test]
    fn the_view_holds_the_public_fields_only() {
        let view = to_item(&car()).unwrap();
        let mut names: Vec<&str> = view.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "category",
                "createdAt",
                "dailyRate",
                "id",
                "licensePlate",
                "manufacturer",
                "mileage",
                "model",
                "status",
                "updatedAt",
                "vin",
                "year"
            ]
        );
        assert_eq!(view["licensePlate"], "AB12CD");
    }

    #[test]
    fn a_car_claims_its_plate_and_its_vin() {
        let claims = NewCar::claims(&car());
        assert_eq!(
            claims,
            [
                plate_claim(&car().id, &car().license_plate),
                vin_claim(&car().id, &car().vin)
            ]
        );
        assert!(matches!(
            claims[0].refusal(),
            crate::error::DomainError::Conflict { detail } if detail.contains("AB12CD")
        ));
    }
}
