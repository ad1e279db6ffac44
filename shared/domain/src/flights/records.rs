//! How flights are stored: keys, index attributes and the item layout (see docs/data-model.md).
//!
//! A flight is one item. Search reads it through two index partitions per leg and local day of
//! departure at the origin (by departure on `gsi1`, by fare on `gsi2`), which hold only scheduled
//! flights: the keys are removed when a flight departs or is cancelled, so search never reads a
//! flight it would drop. `gsi3` files every flight under its UTC day of departure for the
//! departure reminders. The price is stored flat (`priceAmount`, `priceCurrency`) so that
//! conditions and filters can name the amount.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::model::{
    Flight, FlightId, FlightNumber, FlightStatus, deserialize_time, format_time, serialize_time,
};
use super::{DEPARTURES_INDEX, STATUS, departures_partition};
use crate::airplanes::{ACTIVE_FLIGHTS, AirplaneId, airplane_key};
use crate::airports::{AirportCode, FLIGHT_COUNT, TimeZone, airport_key};
use crate::entity::EntityKind;
use crate::money::{Currency, MAX_AMOUNT, Money};
use crate::storage::{
    self, Condition, Index, Item, ItemKeys, Key, StoreError, Update, VERSION_ATTRIBUTE, to_item,
};

/// The entity type stored items and audit entries name flights by.
pub(crate) const ENTITY: EntityKind = EntityKind::Flight;

crate::entity::versioned_entity!(Flight, ENTITY, id: FlightId => super::flight_key, from_item);
/// The index listing a leg's scheduled flights of one local day by departure.
pub(crate) const BY_DEPARTURE_INDEX: Index = Index::Gsi1;
/// The index listing the same flights by fare.
pub(crate) const BY_PRICE_INDEX: Index = Index::Gsi2;
/// The attribute holding the fare's amount in minor units.
pub(crate) const PRICE_AMOUNT: &str = "priceAmount";
/// The digits of the largest amount, to which fares are zero-padded in sort keys so that they
/// sort numerically as strings.
const PRICE_DIGITS: usize = MAX_AMOUNT.ilog10() as usize + 1;

/// The attributes an update may change; everything else on the item belongs to creation or to
/// bookings (`remainingSeats`, `bookingCount`).
fn changeable() -> [&'static str; 11] {
    [
        "departureTime",
        "arrivalTime",
        PRICE_AMOUNT,
        "priceCurrency",
        STATUS,
        BY_DEPARTURE_INDEX.partition_key(),
        BY_DEPARTURE_INDEX.sort_key(),
        BY_PRICE_INDEX.partition_key(),
        BY_PRICE_INDEX.sort_key(),
        DEPARTURES_INDEX.partition_key(),
        DEPARTURES_INDEX.sort_key(),
    ]
}

/// The partition (of both search indexes) holding the flights of a leg that depart on `date`,
/// local time at the origin.
pub(crate) fn route_day_partition(from: &AirportCode, to: &AirportCode, date: NaiveDate) -> String {
    format!("ROUTE#{from}#{to}#{}", date.format("%Y-%m-%d"))
}

/// Sort key by departure: the UTC instant, then the id to break ties.
fn departure_sort_key(departure: &DateTime<Utc>, id: &FlightId) -> String {
    format!("{}#{id}", format_time(departure))
}

/// The zero-padded fare that starts a sort key of the fare index; as a range bound it sorts
/// before every key of that fare.
pub(crate) fn price_sort_prefix(amount: i64) -> String {
    format!("{amount:0PRICE_DIGITS$}")
}

/// Sort key by fare: the zero-padded amount, then the id to break ties.
fn price_sort_key(amount: i64, id: &FlightId) -> String {
    format!("{}#{id}", price_sort_prefix(amount))
}

/// The stored form of a flight.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FlightRecord {
    #[serde(flatten)]
    keys: ItemKeys,
    entity: EntityKind,
    id: FlightId,
    flight_number: FlightNumber,
    airplane_id: AirplaneId,
    from: AirportCode,
    to: AirportCode,
    #[serde(
        serialize_with = "serialize_time",
        deserialize_with = "deserialize_time"
    )]
    departure_time: DateTime<Utc>,
    #[serde(
        serialize_with = "serialize_time",
        deserialize_with = "deserialize_time"
    )]
    arrival_time: DateTime<Utc>,
    price_amount: i64,
    price_currency: Currency,
    total_seats: u16,
    remaining_seats: u16,
    #[serde(default)]
    booking_count: u64,
    status: FlightStatus,
    /// The origin's time zone when the flight was filed, which its search day was computed in.
    origin_time_zone: TimeZone,
    version: u64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl FlightRecord {
    fn of(flight: &Flight, origin: TimeZone, booking_count: u64) -> Self {
        let by_departure = departure_sort_key(&flight.departure_time, &flight.id);
        let mut keys = ItemKeys::new(super::flight_key(&flight.id)).indexed(
            DEPARTURES_INDEX,
            departures_partition(flight.departure_time.date_naive()),
            by_departure.clone(),
        );
        // Only a bookable flight is in search.
        if flight.status == FlightStatus::Scheduled {
            let day = origin.local_date(flight.departure_time);
            let search = route_day_partition(&flight.from, &flight.to, day);
            let by_price = price_sort_key(flight.price.amount(), &flight.id);
            keys = keys
                .indexed(BY_DEPARTURE_INDEX, search.clone(), by_departure)
                .indexed(BY_PRICE_INDEX, search, by_price);
        }
        Self {
            keys,
            entity: ENTITY,
            id: flight.id.clone(),
            flight_number: flight.flight_number.clone(),
            airplane_id: flight.airplane_id.clone(),
            from: flight.from.clone(),
            to: flight.to.clone(),
            departure_time: flight.departure_time,
            arrival_time: flight.arrival_time,
            price_amount: flight.price.amount(),
            price_currency: flight.price.currency().clone(),
            total_seats: flight.total_seats,
            remaining_seats: flight.remaining_seats,
            booking_count,
            status: flight.status,
            origin_time_zone: origin,
            version: flight.version,
            created_at: flight.created_at,
            updated_at: flight.updated_at,
        }
    }

    fn into_item(self) -> Result<Item, StoreError> {
        to_item(&self)
    }
}

/// The item for a newly created flight, with no booking yet. `origin` is the time zone of the
/// departure airport, in which the flight's search day is computed.
pub(crate) fn new_item(flight: &Flight, origin: TimeZone) -> Result<Item, StoreError> {
    FlightRecord::of(flight, origin, 0).into_item()
}

/// Attributes an update sets, by name.
type Attributes = Vec<(String, Value)>;

/// What an update from `current` to `changed` writes: the changeable attributes that differ
/// (index keys included, removed when the flight leaves search), the timestamp and the version.
/// Seat and booking counters are never among them, so bookings committed in between survive.
pub(crate) fn changed_attributes(
    current: &Flight,
    changed: &Flight,
    origin: TimeZone,
) -> Result<(Attributes, Vec<String>), StoreError> {
    let before = FlightRecord::of(current, origin, 0).into_item()?;
    let mut after = FlightRecord::of(changed, origin, 0).into_item()?;
    let mut set = Vec::new();
    let mut remove = Vec::new();
    for name in changeable() {
        match after.remove(name) {
            Some(value) if before.get(name) != Some(&value) => set.push((name.to_owned(), value)),
            Some(_) => {}
            None if before.contains_key(name) => remove.push(name.to_owned()),
            None => {}
        }
    }
    for name in ["updatedAt", VERSION_ATTRIBUTE] {
        if let Some(value) = after.remove(name) {
            set.push((name.to_owned(), value));
        }
    }
    Ok((set, remove))
}

/// `activeFlights` moved by `delta` on a flight's airplane, which must exist and meet `guards`.
pub(crate) fn count_on_airplane(id: &AirplaneId, delta: i64, guards: Vec<Condition>) -> Update {
    counter_update(airplane_key(id), ACTIVE_FLIGHTS, delta, guards)
}

/// `flightCount` moved by `delta` on one of a flight's airports, which must exist and meet
/// `guards`.
pub(crate) fn count_on_airport(code: &AirportCode, delta: i64, guards: Vec<Condition>) -> Update {
    counter_update(airport_key(code), FLIGHT_COUNT, delta, guards)
}

/// An `ADD` on a counter of an existing item: without the existence condition, an update of a
/// missing item would create a stray item holding only the counter.
fn counter_update(key: Key, counter: &str, delta: i64, guards: Vec<Condition>) -> Update {
    let mut update = Update::new(key);
    update.add.push((counter.to_owned(), delta));
    let mut conditions = vec![Condition::ItemExists];
    conditions.extend(guards);
    update.condition = Some(match conditions.len() {
        1 => Condition::ItemExists,
        _ => Condition::And(conditions),
    });
    update
}

/// The time zone the flight's search day was computed in.
pub(crate) fn origin_time_zone(item: &Item) -> Result<TimeZone, StoreError> {
    item.get("originTimeZone")
        .and_then(Value::as_str)
        .and_then(|name| TimeZone::parse(name).ok())
        .ok_or_else(|| StoreError::internal("stored flight has an invalid origin time zone"))
}

/// Reads a flight back; an item that does not decode is corrupt data, not a caller's mistake.
pub(crate) fn from_item(item: Item) -> Result<Flight, StoreError> {
    let record: FlightRecord = storage::from_item(item)?;
    let corrupt = |what: &str| StoreError::internal(format!("stored flight has an invalid {what}"));
    if record.remaining_seats > record.total_seats {
        return Err(corrupt("seat count"));
    }
    Ok(Flight {
        id: record.id,
        flight_number: record.flight_number,
        airplane_id: record.airplane_id,
        from: record.from,
        to: record.to,
        departure_time: record.departure_time,
        arrival_time: record.arrival_time,
        price: Money::new(record.price_amount, record.price_currency)
            .map_err(|_| corrupt("price"))?,
        total_seats: record.total_seats,
        remaining_seats: record.remaining_seats,
        status: record.status,
        version: record.version,
        created_at: record.created_at,
        updated_at: record.updated_at,
    })
}

#[cfg(test)]
mod tests {
    use super::super::BOOKING_COUNT;
    use super::super::model::parse_time;
    use super::*;

    /// How many bookings were ever made on the flight, as its item says.
    pub(crate) fn booking_count(item: &Item) -> u64 {
        item.get(BOOKING_COUNT).and_then(Value::as_u64).unwrap_or(0)
    }
    use crate::flights::REMAINING_SEATS;

    fn time(text: &str) -> DateTime<Utc> {
        parse_time(text).unwrap()
    }

    fn kolkata() -> TimeZone {
        TimeZone::parse("Asia/Kolkata").unwrap()
    }

    fn flight() -> Flight {
        Flight {
            id: FlightId::parse("0190f5d2-8c00-7c4b-9a1e-3f2b8c4d5e6f").unwrap(),
            flight_number: FlightNumber::parse("AI101").unwrap(),
            airplane_id: AirplaneId::parse("0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f").unwrap(),
            from: AirportCode::parse("DEL").unwrap(),
            to: AirportCode::parse("BOM").unwrap(),
            // 01:30 on 2 December in Delhi.
            departure_time: time("2026-12-01T20:00:00Z"),
            arrival_time: time("2026-12-01T22:10:00Z"),
            price: Money::new(450_000, Currency::parse("INR").unwrap()).unwrap(),
            total_seats: 180,
            remaining_seats: 180,
            status: FlightStatus::Scheduled,
            version: 1,
            created_at: time("2026-11-01T00:00:00.5Z"),
            updated_at: time("2026-11-01T00:00:00.5Z"),
        }
    }

    #[test]
    fn a_flight_survives_the_round_trip_through_its_item() {
        let original = flight();
        let item = new_item(&original, kolkata()).unwrap();
        assert_eq!(origin_time_zone(&item).unwrap(), kolkata());
        assert_eq!(from_item(item).unwrap(), original);
    }

    #[test]
    fn the_item_is_filed_under_the_local_day_at_the_origin_and_the_utc_day() {
        let item = new_item(&flight(), kolkata()).unwrap();
        assert_eq!(
            Key::of(&item).unwrap(),
            Key::new("FLIGHT#0190f5d2-8c00-7c4b-9a1e-3f2b8c4d5e6f", "FLIGHT")
        );
        assert_eq!(item["gsi1pk"], "ROUTE#DEL#BOM#2026-12-02");
        assert_eq!(
            item["gsi1sk"],
            "2026-12-01T20:00:00.000Z#0190f5d2-8c00-7c4b-9a1e-3f2b8c4d5e6f"
        );
        assert_eq!(item["gsi2pk"], item["gsi1pk"]);
        assert_eq!(
            item["gsi2sk"],
            "0000000450000#0190f5d2-8c00-7c4b-9a1e-3f2b8c4d5e6f"
        );
        assert_eq!(
            item[DEPARTURES_INDEX.partition_key()],
            "DEPARTURES#2026-12-01"
        );
        assert_eq!(item[DEPARTURES_INDEX.sort_key()], item["gsi1sk"]);
        assert_eq!(item[PRICE_AMOUNT], 450_000);
        assert_eq!(item["priceCurrency"], "INR");
        assert_eq!(item[REMAINING_SEATS], 180);
        assert_eq!(item["totalSeats"], 180);
        assert_eq!(booking_count(&item), 0);
        assert_eq!(item[STATUS], "scheduled");
    }

    #[test]
    fn fares_sort_numerically_as_strings() {
        assert_eq!(PRICE_DIGITS, 13);
        assert!(price_sort_prefix(9_999) < price_sort_prefix(10_000));
        assert_eq!(price_sort_prefix(MAX_AMOUNT).len(), PRICE_DIGITS);
    }

    #[test]
    fn an_update_writes_only_what_changed_and_never_the_counters() {
        let current = flight();
        let mut changed = current.clone();
        changed.price = Money::new(500_000, Currency::parse("INR").unwrap()).unwrap();
        changed.version = 2;
        changed.updated_at = time("2026-11-02T00:00:00Z");
        let (set, remove) = changed_attributes(&current, &changed, kolkata()).unwrap();
        let names: Vec<&str> = set.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, [PRICE_AMOUNT, "gsi2sk", "updatedAt", "version"]);
        assert!(remove.is_empty());
    }

    #[test]
    fn leaving_the_scheduled_status_takes_the_flight_out_of_search() {
        let current = flight();
        let mut cancelled = current.clone();
        cancelled.status = FlightStatus::Cancelled;
        let (set, remove) = changed_attributes(&current, &cancelled, kolkata()).unwrap();
        assert!(
            set.iter()
                .any(|(name, value)| name == STATUS && value == "cancelled")
        );
        assert_eq!(remove, ["gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"]);
        let item = new_item(&cancelled, kolkata()).unwrap();
        assert!(!item.contains_key("gsi1pk") && !item.contains_key("gsi2sk"));
        assert_eq!(from_item(item).unwrap().status, FlightStatus::Cancelled);
    }

    #[test]
    fn a_new_departure_moves_every_index_key() {
        let current = flight();
        let mut moved = current.clone();
        moved.departure_time = time("2026-12-02T20:00:00Z");
        moved.arrival_time = time("2026-12-02T22:10:00Z");
        let (set, _) = changed_attributes(&current, &moved, kolkata()).unwrap();
        let names: Vec<&str> = set.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            names,
            [
                "departureTime",
                "arrivalTime",
                "gsi1pk",
                "gsi1sk",
                "gsi2pk",
                "gsi3pk",
                "gsi3sk",
                "updatedAt",
                "version"
            ]
        );
    }

    #[test]
    fn a_corrupt_item_is_an_internal_error() {
        let mut item = new_item(&flight(), kolkata()).unwrap();
        item.insert(REMAINING_SEATS.into(), Value::from(181));
        assert!(matches!(from_item(item), Err(StoreError::Internal(_))));
        let mut item = new_item(&flight(), kolkata()).unwrap();
        item.insert(STATUS.into(), Value::from("boarding"));
        assert!(matches!(from_item(item), Err(StoreError::Internal(_))));
    }
}
