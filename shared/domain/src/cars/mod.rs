//! The rental fleet: cars with their licence plates, VINs, categories, rates, statuses and
//! mileage, with one use case per file. Plates and VINs are unique under any concurrency (claims
//! written in the car's own transactions); creating, reading, changing and deleting a car are the
//! shared entity use cases, over the `NewEntity` (`records.rs`), `Changeable` (`update.rs`) and
//! `Removable` (`delete.rs`) impls here; a change that takes a car out of `maintenance` also
//! needs its papers in order (`crate::fleet`).
//!
//! The days a contract holds a car are slot items in the car's partition (`days.rs`, the one
//! place their layout is written); the catalogue reads them.
//!
//! Contracts count themselves on a car (`contractCount`, in their own transaction), so a car
//! with a rental history cannot be deleted, only retired.

pub mod days;
mod delete;
mod find;
mod list;
mod model;
mod records;
mod update;

pub use crate::entity::{add as create_car, find as get_car, remove as delete_car};
pub use find::car_with_plate;
pub(crate) use list::rentable_cars;
pub use list::{CarPage, list_cars};
pub use model::{
    Car, CarCategory, CarChanges, CarFilter, CarId, CarModel, CarStatus, DailyRate, LicencePlate,
    Manufacturer, Mileage, ModelYear, NewCar, Vin,
};
pub use update::update_car;

// What contracts change on a car's item: its key, the counter of its contracts, and the status
// (with its index key) that pickup and return move.
pub(crate) use records::{CONTRACT_COUNT, key as car_key, status_attributes};

#[cfg(test)]
pub(crate) use records::tests::car as sample_car;
