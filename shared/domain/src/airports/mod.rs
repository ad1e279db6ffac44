//! Airports: IATA codes, names, countries and IANA time zones, with one use case per file.
//!
//! Flights depart from and arrive at airports. Each airport keeps a count of the flights that use
//! it (`flightCount`), changed in the same transaction as the flight, so an airport in use can
//! neither be deleted nor move to another time zone.

mod create;
mod delete;
mod get;
mod list;
mod model;
mod records;
mod update;

/// Changes an airport under `If-Match` (see the `Changeable` impl in `update.rs`).
pub use crate::entity::change as update_airport;
/// Deletes an airport no flight uses (see the `Removable` impl in `delete.rs`).
pub use crate::entity::remove as delete_airport;
pub use create::create_airport;
pub use get::get_airport;
pub use list::{AirportPage, list_airports};
pub use model::{
    Airport, AirportChanges, AirportCode, CountryCode, NewAirport, PLACE_NAME_MAX_CHARS, PlaceName,
    TimeZone,
};

// What flights change and read on an airport's item.
pub(crate) use records::{FLIGHT_COUNT, TIME_ZONE, key as airport_key};
