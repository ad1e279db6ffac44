//! Entities: the closed set of entity kinds, and the use cases every entity shares.
//!
//! [`EntityKind`] is what every stored item's `entity` attribute names, what audit entries record
//! (`entityType`, and the `AUDIT#<kind>#<id>` partition), and what the API accepts and answers.
//! One spelling serves all three: lowercase kebab-case (`airplane`, `refresh-token`), the form the
//! API uses in paths and bodies. Before this enum, each module kept its own string constant, and
//! they disagreed in case (`Airplane` stored, `airplane` in problems), so an audit filter written
//! as the API spells everything else silently matched nothing. Parsing is case-insensitive, and an
//! unknown kind is an error that lists the accepted ones.
//!
//! The shared use cases are written once, over the [`Stored`] and [`Versioned`] traits: read one
//! by key or 404 ([`get`], or [`find`] by id), create at version 1 with its audit entry
//! ([`create`], or [`add`] from a [`NewEntity`] command), change under
//! `If-Match` with bounded retries ([`update`], or [`change`] by id for a [`Changeable`] entity),
//! delete unless in use ([`remove`], for a [`Removable`] entity), and list one page of a key or
//! index partition ([`list`]), and for entities a user owns ([`Owned`]) read by owner or staff
//! ([`find_owned`]) and list by owner, car or status ([`Narrowing`]). An entity module keeps only
//! what is its own: the rules, the item layout, and the attributes a change writes.

mod claim;
mod create;
mod delete;
mod get;
mod guard;
mod list;
mod owned;
mod update;

pub use claim::Claim;
pub(crate) use claim::holder;
pub(crate) use create::creation;
pub use create::{NewEntity, add};
pub use delete::{Removable, remove};
pub use get::find;
pub(crate) use get::{get, read};
pub use guard::Unused;
pub use list::Page;
pub(crate) use list::list;
pub(crate) use owned::{CAR_INDEX, Criterion, Narrowing, OWNER_INDEX, STATUS_INDEX};
pub use owned::{Owned, find_owned};
pub use update::{Changeable, Revision, change};
pub(crate) use update::{Read, update, update_read};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::storage::{Item, Key, StoreError};

/// An entity read back from its stored item.
pub trait Stored: Sized {
    /// The kind problems, items and audit entries name it by.
    const KIND: EntityKind;

    /// The entity from its item; an item that does not decode is corrupt data.
    fn from_item(item: Item) -> Result<Self, StoreError>;
}

/// An entity that changes under optimistic locking and records every change in the audit log.
pub trait Versioned: Stored + Serialize + Clone {
    /// The id its audit entries are filed under.
    fn audit_id(&self) -> String;

    /// Its optimistic-locking version, sent as the `ETag`.
    fn version(&self) -> u64;

    /// Moves it to `version`, changed at `at`.
    fn advance(&mut self, version: u64, at: DateTime<Utc>);

    /// Its public fields, as the API shows them: what audit entries record as `before` and
    /// `after`.
    fn view(&self) -> Result<Map<String, Value>, StoreError> {
        crate::storage::to_item(self)
    }
}

/// An entity's identifier: it names the entity's kind and the key of its item, so the use cases
/// by id ([`change`], [`remove`]) need nothing else.
pub trait EntityId: std::fmt::Display + Send + Sync {
    type Entity: Versioned;

    /// The key of the entity's item.
    fn key(&self) -> Key;
}

/// Implements [`Stored`] and [`Versioned`] for an entity with `version` and `updated_at` fields,
/// and [`EntityId`] for its id: `versioned_entity!(Airplane, EntityKind::Airplane, id: AirplaneId
/// => key)` files it under its `id` field, finds its item with `key(&id)` and reads it back with
/// the item codec; a last argument names another decoder.
macro_rules! versioned_entity {
    ($entity:ty, $kind:expr, $id:ident: $id_type:ty => $key:path) => {
        $crate::entity::versioned_entity!(
            $entity, $kind, $id: $id_type => $key, $crate::storage::from_item
        );
    };
    ($entity:ty, $kind:expr, $id:ident: $id_type:ty => $key:path, $decode:path) => {
        impl $crate::entity::EntityId for $id_type {
            type Entity = $entity;

            fn key(&self) -> $crate::storage::Key {
                $key(self)
            }
        }

        $crate::entity::stored_entity!($entity, $kind, $decode);

        impl $crate::entity::Versioned for $entity {
            fn audit_id(&self) -> String {
                self.$id.to_string()
            }

            fn version(&self) -> u64 {
                self.version
            }

            fn advance(&mut self, version: u64, at: chrono::DateTime<chrono::Utc>) {
                self.version = version;
                self.updated_at = at;
            }
        }
    };
}
pub(crate) use versioned_entity;

/// Implements [`Stored`] for an entity read back from its item with the item codec, or with the
/// decoder a third argument names: `stored_entity!(Notification, EntityKind::Notification)`.
macro_rules! stored_entity {
    ($entity:ty, $kind:expr) => {
        $crate::entity::stored_entity!($entity, $kind, $crate::storage::from_item);
    };
    ($entity:ty, $kind:expr, $decode:path) => {
        impl $crate::entity::Stored for $entity {
            const KIND: $crate::entity::EntityKind = $kind;

            fn from_item(item: $crate::storage::Item) -> Result<Self, $crate::storage::StoreError> {
                $decode(item)
            }
        }
    };
}
pub(crate) use stored_entity;

use std::fmt;

use serde::Deserialize;

/// A kind of stored entity. The kinds the API addresses come first ([`EntityKind::PUBLIC`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntityKind {
    Airplane,
    Airport,
    Flight,
    Booking,
    User,
    Session,
    Notification,
    Car,
    Customer,
    Contract,
    /// A car's insurance policy, in the car's partition.
    Insurance,
    /// A car's registration, in the car's partition.
    Registration,
    /// One entry of a car's service history, in the car's partition.
    ServiceRecord,
    /// An issue reported on a car (`/v1/issues`).
    IssueReport,
    /// The marker of a pending booking's hold, listed by expiry time.
    BookingHold,
    /// The marker that a customer holds a pending booking on one flight (at most one each).
    CustomerFlightHold,
    /// The count of a customer's pending bookings, capped by `MAX_PENDING_BOOKINGS`.
    PendingBookingCount,
    /// The record of a booking's charge.
    Payment,
    /// The reservation of an email address for one user.
    UserEmail,
    /// The reservation of a username for one user.
    Username,
    /// One refresh token of a session (stored as its hash).
    RefreshToken,
    AuditEntry,
    /// A job waiting in the outbox for dispatch.
    OutboxJob,
    /// The worker's record that a job was done, so a redelivery does not repeat it.
    JobRecord,
    /// The first answer to a request with an `Idempotency-Key`.
    IdempotencyRecord,
    /// The claim of a licence plate by one car.
    CarPlate,
    /// The claim of a vehicle identification number by one car.
    CarVin,
    /// The claim of an email address by one customer.
    CustomerEmail,
    /// The claim of a user account by the one customer profile linked to it.
    CustomerUser,
    /// One day of a car taken by one contract (`CAR#<car>`, `DAY#<yyyy-mm-dd>`).
    CarDay,
    /// An upload started and not yet confirmed (`UPLOAD#<id>` in its record's partition).
    PendingUpload,
    /// The marker that one expiry reminder of an insurance or registration is staged.
    FleetReminder,
    /// A confirmed file on a record (an insurance policy's document), kept on the record's item.
    Document,
}

impl EntityKind {
    /// Every kind, in declaration order.
    pub const ALL: &'static [EntityKind] = &[
        EntityKind::Airplane,
        EntityKind::Airport,
        EntityKind::Flight,
        EntityKind::Booking,
        EntityKind::User,
        EntityKind::Session,
        EntityKind::Notification,
        EntityKind::Car,
        EntityKind::Customer,
        EntityKind::Contract,
        EntityKind::Insurance,
        EntityKind::Registration,
        EntityKind::ServiceRecord,
        EntityKind::IssueReport,
        EntityKind::BookingHold,
        EntityKind::CustomerFlightHold,
        EntityKind::PendingBookingCount,
        EntityKind::Payment,
        EntityKind::UserEmail,
        EntityKind::Username,
        EntityKind::RefreshToken,
        EntityKind::AuditEntry,
        EntityKind::OutboxJob,
        EntityKind::JobRecord,
        EntityKind::IdempotencyRecord,
        EntityKind::CarPlate,
        EntityKind::CarVin,
        EntityKind::CustomerEmail,
        EntityKind::CustomerUser,
        EntityKind::CarDay,
        EntityKind::PendingUpload,
        EntityKind::FleetReminder,
        EntityKind::Document,
    ];

    /// The kinds the API names resources by, and so the kinds the audit log can be filtered by:
    /// the first ones declared. The others are storage details (markers, reservations, records of
    /// work done) that no client addresses.
    pub const PUBLIC: &'static [EntityKind] = Self::ALL.split_at(14).0;

    /// The kind's one spelling, in storage, audit entries and the API.
    pub const fn as_str(self) -> &'static str {
        match self {
            EntityKind::Airplane => "airplane",
            EntityKind::Airport => "airport",
            EntityKind::Flight => "flight",
            EntityKind::Booking => "booking",
            EntityKind::User => "user",
            EntityKind::Session => "session",
            EntityKind::Notification => "notification",
            EntityKind::Car => "car",
            EntityKind::Customer => "customer",
            EntityKind::Contract => "contract",
            EntityKind::BookingHold => "booking-hold",
            EntityKind::CustomerFlightHold => "customer-flight-hold",
            EntityKind::PendingBookingCount => "pending-booking-count",
            EntityKind::Payment => "payment",
            EntityKind::UserEmail => "user-email",
            EntityKind::Username => "username",
            EntityKind::RefreshToken => "refresh-token",
            EntityKind::AuditEntry => "audit-entry",
            EntityKind::OutboxJob => "outbox-job",
            EntityKind::JobRecord => "job-record",
            EntityKind::IdempotencyRecord => "idempotency-record",
            EntityKind::CarPlate => "car-plate",
            EntityKind::CarVin => "car-vin",
            EntityKind::CustomerEmail => "customer-email",
            EntityKind::CustomerUser => "customer-user",
            EntityKind::CarDay => "car-day",
            EntityKind::PendingUpload => "pending-upload",
            EntityKind::Insurance => "insurance",
            EntityKind::Registration => "registration",
            EntityKind::ServiceRecord => "service-record",
            EntityKind::FleetReminder => "fleet-reminder",
            EntityKind::Document => "document",
            EntityKind::IssueReport => "issue-report",
        }
    }

    /// The public kind `text` names, in any case (`airplane`, `Airplane`, `AIRPLANE`).
    pub fn parse_public(text: &str) -> Result<Self, UnknownEntityKind> {
        Self::PUBLIC
            .iter()
            .copied()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or(UnknownEntityKind)
    }
}

impl fmt::Display for EntityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<EntityKind> for serde_json::Value {
    fn from(kind: EntityKind) -> Self {
        serde_json::Value::from(kind.as_str())
    }
}

/// A name that is not one of [`EntityKind::PUBLIC`]; its message lists the accepted ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("is not an entity type; accepted: {}", accepted())]
pub struct UnknownEntityKind;

fn accepted() -> String {
    EntityKind::PUBLIC
        .iter()
        .map(|kind| kind.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_serializes_as_its_one_spelling_and_reads_back() {
        for &kind in EntityKind::ALL {
            let value = serde_json::to_value(kind).unwrap();
            assert_eq!(value, serde_json::Value::from(kind.as_str()));
            assert_eq!(serde_json::Value::from(kind), value);
            assert_eq!(serde_json::from_value::<EntityKind>(value).unwrap(), kind);
            assert_eq!(kind.to_string(), kind.as_str());
            let spelling = kind.as_str();
            assert!(
                spelling.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{spelling}"
            );
        }
    }

    #[test]
    fn spellings_are_unique_and_all_lists_every_kind() {
        let mut spellings: Vec<&str> = EntityKind::ALL.iter().map(|kind| kind.as_str()).collect();
        spellings.sort_unstable();
        spellings.dedup();
        assert_eq!(spellings.len(), EntityKind::ALL.len());
        assert!(
            EntityKind::PUBLIC
                .iter()
                .all(|kind| EntityKind::ALL.contains(kind))
        );
    }

    #[test]
    fn public_kinds_parse_in_any_case() {
        for text in ["airplane", "Airplane", "AIRPLANE", " airplane "] {
            assert_eq!(
                EntityKind::parse_public(text),
                Ok(EntityKind::Airplane),
                "{text}"
            );
        }
        assert_eq!(EntityKind::parse_public("Session"), Ok(EntityKind::Session));
    }

    #[test]
    fn unknown_and_internal_kinds_are_refused_naming_the_accepted_ones() {
        for text in ["spaceship", "", "refresh-token", "audit-entry", "airplanes"] {
            assert_eq!(
                EntityKind::parse_public(text),
                Err(UnknownEntityKind),
                "{text}"
            );
        }
        assert_eq!(
            UnknownEntityKind.to_string(),
            "is not an entity type; accepted: airplane, airport, flight, booking, user, session, \
             notification, car, customer, contract, insurance, registration, service-record, \
             issue-report"
        );
    }

    #[test]
    fn a_stored_spelling_of_another_case_does_not_decode() {
        assert!(serde_json::from_value::<EntityKind>(serde_json::json!("Airplane")).is_err());
    }
}
