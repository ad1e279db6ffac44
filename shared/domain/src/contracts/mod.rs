//! Rental contracts: one customer's whole days with one car, with one use case per file. The
//! core invariant is that no two contracts that hold days (every status but `cancelled`) share a
//! day of one car, under any concurrency, on both store families: each rented day is a slot item
//! in the car's partition, written only where none is, in the contract's own transaction
//! (`days.rs`; docs/data-model.md has the why, the cost and the limits).
//!
//! - `reserve.rs`: reserving, under an `Idempotency-Key`, with the car's and the customer's
//!   counters moved and the confirmation job staged in the same transaction.
//! - `notices.rs`: the jobs about a contract (confirmation, pickup and return reminders), to the
//!   linked user or the customer's email address.
//! - `change.rs`: how a contract changes after (read, decide, write under its version), which
//!   `cancel.rs`, `reschedule.rs` (new dates) and `handover.rs` (pickup and return) use.
//! - `reminders.rs`: the scheduled pickup and return reminders, each staged once with a marker
//!   on the contract.
//! - `read.rs`: one contract for its owner or staff, and the lists by customer, car or status.
//! - `records.rs`: keys, items, index keys and the writes on the car and the customer;
//!   `model.rs`: the values.

mod cancel;
mod change;
mod days;
mod handover;
mod model;
mod notices;
mod read;
mod records;
mod reminders;
mod reschedule;
mod reserve;

pub use cancel::cancel_contract;
pub use handover::{Return, pick_up_contract, return_contract};
pub use model::{
    Contract, ContractFilter, ContractId, ContractStatus, Damages, FuelLevel, RentalPeriod,
    Reservation,
};
pub(crate) use read::has_rented;
pub use read::{ContractPage, get_contract, list_contracts};
pub use reminders::queue_rental_reminders;
pub use reschedule::{MAX_MOVED_DAYS, NewDates, reschedule_contract};
pub use reserve::{RESERVE_OPERATION, ReserveOutcome, reserve_contract};
