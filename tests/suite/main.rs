//! Itinera's integration suite, one binary: black-box API tests through the router, sample
//! events through the Lambda handlers, the storage conformance suite on both adapter families,
//! and the checks that `template.yaml` matches the route table and the table schema.

mod access;
mod accounts;
mod airports;
mod api;
mod audit;
mod auth;
mod booking_concurrency;
mod bookings;
mod conformance;
mod departed_flights;
mod events;
mod faults;
mod flight_cancellation;
mod flights;
mod identity;
mod local_server;
mod notifications;
mod outbox;
mod payment_recovery;
mod queue_conformance;
mod ratelimit;
mod template;
mod worker;
