//! The airplane fleet: model numbers and capacities, with one use case per file.

mod delete;
mod list;
mod model;
mod records;
mod update;

/// Adds an airplane to the fleet (see the `NewEntity` impl in `records.rs`).
pub use crate::entity::add as create_airplane;
/// Changes an airplane under `If-Match` (see the `Changeable` impl in `update.rs`).
pub use crate::entity::change as update_airplane;
/// Reads one airplane by id.
pub use crate::entity::find as get_airplane;
/// Deletes an airplane no flight uses (see the `Removable` impl in `delete.rs`).
pub use crate::entity::remove as delete_airplane;
pub use list::{AirplanePage, list_airplanes};
pub use model::{
    Airplane, AirplaneChanges, AirplaneFilter, AirplaneId, Capacity, ModelNumber, NewAirplane,
};

// What flights change on an airplane's item: its key and the counter of flights using it.
pub(crate) use records::{ACTIVE_FLIGHTS, key as airplane_key};
