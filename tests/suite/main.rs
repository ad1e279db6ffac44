//! The suite.
mod conformance;
mod template;
