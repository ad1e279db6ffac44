//! Itinera's domain crate: entities, rules, use cases and the ports they need, free of any AWS
//! dependency and of HTTP. Its manifest names no HTTP crate, so nothing here can build a status,
//! a header or a problem body: use cases return [`error::DomainError`], the limiter refuses with
//! [`ratelimit::RateLimited`], and the HTTP crate (`itinera-http`, which depends on this one and
//! never the other way round) maps them in its one place. Adapters (`itinera-aws`,
//! `itinera-embedded`) implement the ports.
//!
//! - [`airplanes`]: the fleet; one file per use case (`create.rs`, `list.rs`, ...).
//! - [`airports`], [`flights`]: airports with their time zones, and flights with their seats and
//!   search by leg and local day.
//! - [`cars`], [`customers`]: the rental fleet (plates and VINs unique) and the customers who
//!   rent (emails unique, at most one profile per user account).
//! - [`fleet`]: the records staff keep per car: insurance policies and registrations (one
//!   shape, generic over the kind) with their expiry lists, and service history.
//! - [`catalogue`]: the public face of the rental fleet: the cars free on every day of a range,
//!   priced, and one car's busy days, both read from the day slots contracts write.
//! - [`contracts`]: rental contracts, whose days of a car never overlap (one slot item per day
//!   taken in the contract's own transaction), with their pickup and return, the confirmation
//!   job a reservation stages, and the scheduled pickup and return reminders.
//! - [`reports`]: issue reports on cars (`/v1/issues`): filed by a customer who rents or rented
//!   the car or by staff, triaged forward only with the reporter told, and a critical one taking
//!   the car out of service in its own transaction.
//! - `contention`: backoff between colliding transactions (bookings and contracts).
//! - [`calendar`]: whole days (`yyyy-mm-dd`) and ranges of them, for licence expiries and rental
//!   dates.
//! - [`storage`]: the storage port (DynamoDB semantics in typed terms), the table schema, and the
//!   one item codec (`to_item` / `from_item`) every stored record goes through.
//! - [`bounded`]: the bounded text and integer newtypes most fields are, declared in one line.
//! - [`pagination`], [`version`]: list pages and optimistic concurrency, shared by every entity.
//! - [`entity`]: the closed set of entity kinds that items, audit entries and the API name, and
//!   the use cases every entity shares (get, create, versioned update, guarded delete, list).
//! - [`audit`]: audit entries, written in the same transaction as the change they record.
//! - [`identity`]: roles, the authenticated principal and the request context of a change.
//! - [`background`]: the queue worker and the scheduled functions, declared once, with what each
//!   may do to the table ([`storage::StoreAccess`], as routes name it too).
//! - [`blobs`]: the blob port (presigned upload and download URLs for keys the domain
//!   chooses, `head` to check an upload and `promote` to keep it), with the key and
//!   content-type types.
//! - [`attachments`]: files attached to records, in one flow every record uses: start an upload
//!   (declared type and size, presigned `PUT`), confirm it (checked, moved, recorded in the
//!   record's transaction), download it (presigned `GET`).
//! - [`jobs`]: background jobs and the queue ports they travel through.
//! - [`mail`]: the mail port (an email, its message id, the `Mailer` trait); the adapters write
//!   it on the wire.
//! - [`notifications`]: the in-app notifications the worker writes and users read.
//! - [`bookings`]: seat holds (capped per customer), payment and refunds through recoverable
//!   intents, cancellation, expiry, a cancelled flight's fan-out and departure reminders.
//! - [`payments`]: the payment port, the `PAYMENT_GATEWAY` setting and the test-card gateway.
//! - [`accounts`], [`auth`]: users, passwords and roles; sessions, refresh tokens and access
//!   tokens.
//! - [`ratelimit`]: the tiered limiter and its counters.
//! - [`metrics`]: counters and latency in the domain's words, written where events happen;
//!   read out as CloudWatch EMF documents (Lambda) or Prometheus text (the local API).
//! - [`idempotency`]: `Idempotency-Key` records, completed in the same transaction as the change.
//! - [`money`]: amounts in minor units with their currency.
//! - [`clock`]: time and identifier ports.
//! - [`error`]: the error use cases return, and the cause chain every log line prints.
//! - [`config`], [`telemetry`]: what settings are read with (the error naming a variable, the
//!   signing-key secret, the environment lookup) and JSON logs, for every entry point.

pub mod accounts;
pub mod airplanes;
pub mod airports;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod background;
pub mod blobs;
pub mod bookings;
pub mod bounded;
pub mod calendar;
pub mod cars;
pub mod catalogue;
pub mod clock;
pub mod config;
pub(crate) mod contention;
pub mod contracts;
pub mod customers;
pub mod entity;
pub mod error;
pub mod fleet;
pub mod flights;
pub mod idempotency;
pub mod identity;
pub mod jobs;
pub mod mail;
pub mod metrics;
pub mod money;
pub mod notifications;
pub mod pagination;
pub mod payments;
pub mod ratelimit;
pub mod reports;
pub mod storage;
pub mod telemetry;
pub mod version;
