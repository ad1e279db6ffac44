//! The airplane fleet: model numbers and capacities, with one use case per file.

mod create;
mod delete;
mod get;
mod list;
mod model;
mod records;
mod update;

pub use create::create_airplane;
pub use delete::delete_airplane;
pub use get::get_airplane;
pub use list::{AirplanePage, list_airplanes};
pub use model::{
    Airplane, AirplaneChanges, AirplaneFilter, AirplaneId, CAPACITY_RANGE, Capacity,
    MODEL_NUMBER_MAX_CHARS, ModelNumber, NewAirplane,
};
pub use update::update_airplane;

// What flights change on an airplane's item: its key and the counter of flights using it.
pub(crate) use records::{ACTIVE_FLIGHTS, key as airplane_key};
