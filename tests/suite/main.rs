//! Itinera's integration suite, one binary: black-box API tests through the router, sample
//! events through the Lambda handlers, the storage conformance suite on both adapter families,
//! and the checks that `template.yaml` matches the route table and the table schema.

mod access;
mod accounts;
mod api;
mod audit;
mod auth;
mod conformance;
mod events;
mod identity;
mod local_server;
mod ratelimit;
mod template;
