//! The airplane fleet: model numbers and capacities, with one use case per file.

mod create;
mod delete;
mod get;
mod list;
mod model;
mod records;
mod update;

/// Changes an airplane under `If-Match` (see the `Changeable` impl in `update.rs`).
pub use crate::entity::change as update_airplane;
/// Deletes an airplane no flight uses (see the `Removable` impl in `delete.rs`).
pub use crate::entity::remove as delete_airplane;
pub use create::create_airplane;
pub use get::get_airplane;
pub use list::{AirplanePage, list_airplanes};
pub use model::{
    Airplane, AirplaneChanges, AirplaneFilter, AirplaneId, CAPACITY_RANGE, Capacity,
    MODEL_NUMBER_MAX_CHARS, ModelNumber, NewAirplane,
};

// What flights change on an airplane's item: its key and the counter of flights using it.
pub(crate) use records::{ACTIVE_FLIGHTS, key as airplane_key};
