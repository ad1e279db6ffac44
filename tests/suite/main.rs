//! The suite.
mod conformance;
