//! Thin HTTP handlers: decode the input into a typed command, run one use case, shape the reply.

pub(crate) mod accounts;
pub(crate) mod airplanes;
pub(crate) mod airports;
pub(crate) mod audit;
pub(crate) mod auth;
pub(crate) mod bookings;
pub(crate) mod flights;
pub(crate) mod health;
pub(crate) mod notifications;
