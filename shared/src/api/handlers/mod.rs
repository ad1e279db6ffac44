//! Thin HTTP handlers: decode the input into a typed command, run one use case, shape the reply.

pub(crate) mod accounts;
pub(crate) mod airplanes;
pub(crate) mod audit;
pub(crate) mod auth;
pub(crate) mod health;
