//! The airplane fleet: model numbers and capacities, with one use case per file. Creating,
//! reading, changing and deleting one are the shared entity use cases, over the `NewEntity`
//! (`records.rs`), `Changeable` (`update.rs`) and `Removable` (`delete.rs`) impls here.

mod delete;
mod list;
mod model;
mod records;
mod update;

pub use crate::entity::{
    add as create_airplane, change as update_airplane, find as get_airplane,
    remove as delete_airplane,
};
pub use list::{AirplanePage, list_airplanes};
pub use model::{
    Airplane, AirplaneChanges, AirplaneFilter, AirplaneId, Capacity, ModelNumber, NewAirplane,
};

// What flights change on an airplane's item: its key and the counter of flights using it.
pub(crate) use records::{ACTIVE_FLIGHTS, key as airplane_key};
