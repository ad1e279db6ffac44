//! How airports are stored: keys, index attributes and the item layout (see docs/data-model.md).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::Value;

use super::model::{Airport, AirportChanges, AirportCode, NewAirport};
use crate::clock::IdGenerator;
use crate::entity::{EntityKind, NewEntity};
use crate::error::DomainError;
use crate::storage::{Index, Item, ItemKeys, Key, StoreError, to_item};

/// The partition of index 1 that lists every airport by code.
pub(crate) const ALL_AIRPORTS: &str = "AIRPORTS";
/// The index that lists every airport.
pub(crate) const LIST_INDEX: Index = Index::Gsi1;
/// The attribute counting the flights from or to an airport; deletion requires it to be 0.
pub(crate) const FLIGHT_COUNT: &str = "flightCount";
/// The attribute holding the airport's IANA time zone name.
pub(crate) const TIME_ZONE: &str = "timeZone";
/// The entity type stored items and audit entries name airports by.
pub(crate) const ENTITY: EntityKind = EntityKind::Airport;

crate::entity::versioned_entity!(Airport, ENTITY, code: AirportCode => key);

pub(crate) fn key(code: &AirportCode) -> Key {
    Key::new(format!("AIRPORT#{code}"), "AIRPORT")
}

/// The stored form of an airport: the airport's own fields, its version, and the keys and
/// counter that place it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AirportRecord<'a> {
    #[serde(flatten)]
    keys: ItemKeys,
    entity: EntityKind,
    #[serde(flatten)]
    airport: &'a Airport,
    version: u64,
    flight_count: u64,
}

/// A new airport ([`super::create_airport`]) is filed under its code, used by no flight, with its
/// audit entry, in one transaction. The put is conditional on no airport having the code, so a
/// duplicate is a 409 even when two requests for the same code race.
impl NewEntity for NewAirport {
    type Entity = Airport;

    fn assemble(self, _: &dyn IdGenerator, now: DateTime<Utc>) -> Airport {
        let NewAirport {
            code,
            name,
            city,
            country,
            time_zone,
        } = self;
        let (version, created_at, updated_at) = (1, now, now);
        Airport {
            code,
            name,
            city,
            country,
            time_zone,
            version,
            created_at,
            updated_at,
        }
    }

    fn item(airport: &Airport) -> Result<Item, StoreError> {
        // Codes are fixed-width uppercase letters, so they sort alphabetically as they are.
        let code = airport.code.to_string();
        to_item(&AirportRecord {
            keys: ItemKeys::new(key(&airport.code)).indexed(LIST_INDEX, ALL_AIRPORTS, code),
            entity: ENTITY,
            airport,
            version: airport.version,
            flight_count: 0,
        })
    }

    fn taken(airport: &Airport) -> Option<DomainError> {
        let detail = format!("An airport with the code {} exists already.", airport.code);
        Some(DomainError::Conflict { detail })
    }
}

/// The attributes an update sets: the changed fields and the new timestamp and version.
pub(crate) fn changed_attributes(
    changes: &AirportChanges,
    updated_at: DateTime<Utc>,
    version: u64,
) -> Vec<(String, Value)> {
    let mut set = Vec::new();
    if let Some(name) = changes.name() {
        set.push(("name".to_owned(), Value::from(name.as_str())));
    }
    if let Some(city) = changes.city() {
        set.push(("city".to_owned(), Value::from(city.as_str())));
    }
    if let Some(country) = changes.country() {
        set.push(("country".to_owned(), Value::from(country.as_str())));
    }
    if let Some(time_zone) = changes.time_zone() {
        set.push((TIME_ZONE.to_owned(), Value::from(time_zone.as_str())));
    }
    set.push((
        "updatedAt".to_owned(),
        Value::from(updated_at.to_rfc3339_opts(SecondsFormat::Millis, true)),
    ));
    set.push((
        crate::storage::VERSION_ATTRIBUTE.to_owned(),
        Value::from(version),
    ));
    set
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The number of flights an airport's item says use it.
    pub(crate) fn flight_count(item: &Item) -> u64 {
        item.get(FLIGHT_COUNT).and_then(Value::as_u64).unwrap_or(0)
    }
    use crate::airports::{CountryCode, PlaceName, TimeZone};
    use crate::storage::from_item;

    fn view(airport: &Airport) -> serde_json::Map<String, Value> {
        to_item(airport).unwrap()
    }

    fn airport() -> Airport {
        let created = DateTime::parse_from_rfc3339("2026-11-21T08:00:00.123Z")
            .unwrap()
            .to_utc();
        Airport {
            code: AirportCode::parse("DEL").unwrap(),
            name: PlaceName::parse("Indira Gandhi International").unwrap(),
            city: PlaceName::parse("Delhi").unwrap(),
            country: CountryCode::parse("IN").unwrap(),
            time_zone: TimeZone::parse("Asia/Kolkata").unwrap(),
            version: 1,
            created_at: created,
            updated_at: created,
        }
    }

    #[test]
    fn an_airport_survives_the_round_trip_through_its_item() {
        let original = airport();
        assert_eq!(
            from_item::<Airport>(NewAirport::item(&original).unwrap()).unwrap(),
            original
        );
    }

    #[test]
    fn the_item_is_keyed_by_code_and_listed_by_code() {
        let item = NewAirport::item(&airport()).unwrap();
        assert_eq!(Key::of(&item).unwrap(), Key::new("AIRPORT#DEL", "AIRPORT"));
        assert_eq!(item["gsi1pk"], "AIRPORTS");
        assert_eq!(item["gsi1sk"], "DEL");
        assert_eq!(item[TIME_ZONE], "Asia/Kolkata");
        assert_eq!(flight_count(&item), 0);
    }

    #[test]
    fn the_view_holds_the_public_fields_only() {
        let view = view(&airport());
        let mut names: Vec<&str> = view.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "city",
                "code",
                "country",
                "createdAt",
                "name",
                "timeZone",
                "updatedAt"
            ]
        );
    }

    #[test]
    fn an_update_sets_only_the_changed_fields() {
        let changes =
            AirportChanges::new(None, PlaceName::parse("New Delhi").ok(), None, None).unwrap();
        let at = airport().created_at;
        let names: Vec<String> = changed_attributes(&changes, at, 2)
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        assert_eq!(names, ["city", "updatedAt", "version"]);
    }

    #[test]
    fn a_corrupt_item_is_an_internal_error() {
        let mut item = NewAirport::item(&airport()).unwrap();
        item.insert(TIME_ZONE.into(), Value::from("Nowhere/Special"));
        assert!(matches!(
            from_item::<Airport>(item),
            Err(StoreError::Internal(_))
        ));
    }
}
