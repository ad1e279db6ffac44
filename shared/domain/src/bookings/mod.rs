//! Seat bookings: a hold on a flight's seats, paid for to confirm it, cancelled or expired to give
//! the seats back, with one use case per file.
//!
//! Seats are inventory and money changes hands, so every state change is one transaction that
//! carries everything it implies: the flight's seat counter (conditioned, so seats are never
//! oversold and come back exactly once), the booking's status (conditioned on the status read, so
//! of two racing changes exactly one wins), the hold marker the expiry job finds due holds by, the
//! audit entry, the job for the customer's notification (through the outbox), and for a creation
//! the idempotency record of the request.
//!
//! - `create.rs`, `pay.rs`, `cancel.rs`: the customer's requests.
//! - `settle.rs`: money outside the store made recoverable: the intents a charge or a refund
//!   records before the provider is asked, and the worker's tasks that settle what a request left
//!   open ([`run_task`]).
//! - `flight_cancellation.rs`: the worker's cancellation of a cancelled flight's bookings.
//! - `get.rs`, `list.rs`: reads, by id and by user, flight or all.
//! - `expire.rs`, `reminders.rs`: the scheduled jobs (expired holds, departure reminders).
//! - `records.rs`: keys, items and the operations above; `model.rs`: the values.
//! - `events.rs`: the jobs a change causes (backoff between colliding transactions is the
//!   crate's `contention`).

mod cancel;
mod create;
mod events;
mod expire;
mod flight_cancellation;
mod get;
mod list;
mod model;
mod pay;
mod records;
mod reminders;
mod settle;

pub use cancel::cancel_booking;
pub use create::{CREATE_OPERATION, CreateOutcome, create_booking};
pub use expire::expire_holds;
pub use get::get_booking;
pub use list::{BookingFilter, BookingPage, BookingScope, list_bookings};
pub use model::{
    Booking, BookingId, BookingSettings, BookingStatus, FlightSummary, HOLD_MINUTES_RANGE,
    NewBooking, PaymentDetails, Seats,
};
pub use pay::pay_booking;
pub use reminders::queue_departure_reminders;
pub use settle::run_task;
