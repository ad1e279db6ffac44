//! Airports: IATA codes, names, countries and IANA time zones, with one use case per file.
//!
//! Flights depart from and arrive at airports. Each airport keeps a count of the flights that use
//! it (`flightCount`), changed in the same transaction as the flight, so an airport in use can
//! neither be deleted nor move to another time zone.
//!
//! Creating, reading, changing and deleting one are the shared entity use cases, over the
//! `NewEntity` (`records.rs`), `Changeable` (`update.rs`) and `Removable` (`delete.rs`) impls.

mod delete;
mod list;
mod model;
mod records;
mod update;

pub use crate::entity::{
    add as create_airport, change as update_airport, find as get_airport, remove as delete_airport,
};
pub use list::{AirportPage, list_airports};
pub use model::{
    Airport, AirportChanges, AirportCode, CountryCode, NewAirport, PlaceName, TimeZone,
    country_codes, time_zone_names,
};

// What flights change and read on an airport's item.
pub(crate) use records::{FLIGHT_COUNT, TIME_ZONE, key as airport_key};
