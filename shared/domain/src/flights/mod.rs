//! Flights: a leg between two airports on one airplane, with a schedule, a fare and a seat
//! inventory; one use case per file.
//!
//! A flight is one item. Its seats are two top-level counters on it: `remainingSeats`, which
//! bookings take and give back atomically with their own writes (conditioned on enough seats and
//! on the flight being `scheduled`), and `bookingCount`, the bookings ever made. Every seat change
//! bumps `version`, so the entity tag follows the seats. Changes made here set only the attributes
//! they change, guarded by the version read, and never write either counter.
//!
//! The flight keeps two other entities' counters in step, in the same transaction as itself: its
//! airplane's `activeFlights` (created: +1; cancelled or deleted while not cancelled: -1) and each
//! airport's `flightCount` (created: +1; deleted: -1), which is what stops an airplane or an
//! airport in use from being deleted.
//!
//! The key and the attributes below are what other modules (bookings, departure reminders) write
//! or query on the flight item.

mod create;
mod delete;
mod get;
mod model;
mod records;
mod search;
mod update;

use chrono::NaiveDate;

use crate::storage::{Index, Key};

/// Deletes a flight never booked (see the `Removable` impl in `delete.rs`).
pub use crate::entity::remove as delete_flight;
pub use create::create_flight;
pub use get::get_flight;
pub use model::{
    Flight, FlightChanges, FlightId, FlightNumber, FlightSearch, FlightStatus, Leg, NewFlight,
    PriceBound, Schedule, SearchOrder, SeatsWanted, parse_date, parse_time,
};
pub use search::{FlightPage, search_flights};
pub use update::update_flight;

/// The attribute counting a flight's free seats (a number, `0..=totalSeats`).
pub(crate) const REMAINING_SEATS: &str = "remainingSeats";
/// The attribute holding a flight's departure (RFC 3339, milliseconds, `Z`, so that string order
/// is time order).
pub(crate) const DEPARTURE_TIME: &str = "departureTime";
/// The attribute holding a flight's status (`scheduled`, `departed`, `arrived`, `cancelled`).
pub(crate) const STATUS: &str = "status";
/// The attribute counting the bookings ever made on a flight; a flight with bookings cannot be
/// deleted, only cancelled.
pub(crate) const BOOKING_COUNT: &str = "bookingCount";
/// The index filing every flight under the UTC day it departs, by departure time.
pub(crate) const DEPARTURES_INDEX: Index = Index::Gsi3;

/// The key of a flight's item.
pub(crate) fn flight_key(id: &FlightId) -> Key {
    Key::new(format!("FLIGHT#{id}"), "FLIGHT")
}

/// The partition of [`DEPARTURES_INDEX`] holding the flights that depart on `day` (UTC); its sort
/// key is `<departure, RFC 3339 ms Z>#<id>`.
pub(crate) fn departures_partition(day: NaiveDate) -> String {
    format!("DEPARTURES#{}", day.format("%Y-%m-%d"))
}
