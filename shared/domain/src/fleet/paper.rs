//! The one shape insurance policies and registrations share: a record of a car, valid from one
//! day to a later one, with the details of its kind. Everything here is written once, generic
//! over the [`PaperKind`]; `kinds.rs` says what is each kind's own.
//!
//! Layout: a paper lives in its car's partition (`CAR#<carId>`, sort key `<PREFIX>#<paperId>`,
//! ids are UUIDv7 so a car's papers of one kind sort by creation), and in the kind's expiry
//! index partition (`gsi1`, `<PREFIX>#EXPIRY`, sort key `<validTo>#<carId>#<paperId>`), so the
//! papers of the fleet expiring in a window are one sort-key range, never a scan.

use std::fmt;
use std::marker::PhantomData;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::attachments::Attachment;
use crate::calendar::Day;
use crate::cars::{CarId, car_key};
use crate::entity::{EntityId, EntityKind, Stored, Versioned};
use crate::error::DomainError;
use crate::storage::{Index, Item, ItemKeys, Key, StoreError, to_item};

crate::identity::uuid_id!(
    /// An insurance policy's or a registration's identifier.
    PaperId
);

/// What tells one kind of paper from another: how it is stored and named, and its own details
/// (the kind's type is those details).
pub trait PaperKind:
    Clone + fmt::Debug + PartialEq + Serialize + DeserializeOwned + Send + Sync + 'static
{
    /// The kind items, audit entries and problems name it by.
    const ENTITY: EntityKind;
    /// The prefix of its sort keys in the car's partition and of its expiry index partition
    /// (`INSURANCE`, `REGISTRATION`): no other kind's keys start with it.
    const PREFIX: &'static str;
    /// How people name the kind in messages (`insurance`, `registration`).
    const NAME: &'static str;
    /// The segment naming the kind's papers under a car, in the API's paths and in their
    /// documents' blob keys (`cars/<carId>/<COLLECTION>/<id>`): `insurance`, `registrations`.
    const COLLECTION: &'static str;
    /// A change of the kind's own details (each field optional).
    type Changes: Clone + fmt::Debug + Default + PartialEq + Send + Sync;

    /// The details as `changes` leave them, and the attributes to set.
    fn apply(&self, changes: &Self::Changes) -> (Self, Vec<(String, Value)>);

    /// The paper as people name it (`policy P-1 with Allianz`).
    fn label(&self) -> String;
}

/// An insurance policy or a registration of one car.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", bound = "K: PaperKind")]
pub struct Paper<K> {
    pub id: PaperId,
    pub car_id: CarId,
    #[serde(flatten)]
    pub details: K,
    /// The first day it is valid.
    pub valid_from: Day,
    /// The last day it is valid, after `valid_from`.
    pub valid_to: Day,
    /// Its document (the policy or the registration certificate, a PDF or an image), once an
    /// upload of one is confirmed; a later one replaces it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<Attachment>,
    #[serde(skip_serializing)]
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl<K> Paper<K> {
    /// Whether it is valid on `day` (both ends included).
    pub fn valid_on(&self, day: Day) -> bool {
        self.valid_from <= day && day <= self.valid_to
    }
}

/// The days a paper is valid: the last after the first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Validity {
    from: Day,
    to: Day,
}

impl Validity {
    /// `from` to `to`, refused (naming `validTo`) unless `to` is after `from`.
    pub fn new(from: Day, to: Day) -> Result<Self, DomainError> {
        if to > from {
            Ok(Self { from, to })
        } else {
            Err(DomainError::Invalid {
                field: "validTo",
                message: format!("must be after validFrom ({from})"),
            })
        }
    }

    pub fn from(self) -> Day {
        self.from
    }

    pub fn to(self) -> Day {
        self.to
    }
}

/// What a new paper is made of.
#[derive(Clone, Debug, PartialEq)]
pub struct NewPaper<K> {
    pub car_id: CarId,
    pub details: K,
    pub validity: Validity,
}

/// A change to a paper: its own details, its first or its last day (at least one of them).
#[derive(Clone, Debug, PartialEq)]
pub struct PaperChanges<K: PaperKind> {
    pub details: K::Changes,
    pub valid_from: Option<Day>,
    pub valid_to: Option<Day>,
}

/// A paper's address: its car and its id (the car's partition holds it).
pub struct PaperRef<K> {
    pub car_id: CarId,
    pub id: PaperId,
    kind: PhantomData<fn() -> K>,
}

impl<K> PaperRef<K> {
    pub fn new(car_id: CarId, id: PaperId) -> Self {
        Self {
            car_id,
            id,
            kind: PhantomData,
        }
    }
}

impl<K> fmt::Display for PaperRef<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.id, f)
    }
}

impl<K: PaperKind> EntityId for PaperRef<K> {
    type Entity = Paper<K>;

    fn key(&self) -> Key {
        key::<K>(&self.car_id, &self.id)
    }
}

impl<K: PaperKind> Stored for Paper<K> {
    const KIND: EntityKind = K::ENTITY;

    fn from_item(item: Item) -> Result<Self, StoreError> {
        crate::storage::from_item(item)
    }
}

impl<K: PaperKind> Versioned for Paper<K> {
    fn audit_id(&self) -> String {
        self.id.to_string()
    }

    fn version(&self) -> u64 {
        self.version
    }

    fn advance(&mut self, version: u64, at: DateTime<Utc>) {
        self.version = version;
        self.updated_at = at;
    }
}

/// The index listing each kind's papers by their last day.
pub(crate) const EXPIRY_INDEX: Index = Index::Gsi1;

/// The key of a paper: in its car's partition, under its kind's prefix.
pub(crate) fn key<K: PaperKind>(car: &CarId, id: &PaperId) -> Key {
    Key::new(car_key(car).pk, format!("{}#{id}", K::PREFIX))
}

/// The sort-key prefix of a car's papers of kind `K`.
pub(crate) fn car_prefix<K: PaperKind>() -> String {
    format!("{}#", K::PREFIX)
}

/// The partition of [`EXPIRY_INDEX`] holding every paper of kind `K`.
pub(crate) fn expiry_partition<K: PaperKind>() -> String {
    format!("{}#EXPIRY", K::PREFIX)
}

/// [`EXPIRY_INDEX`]'s sort key: the last day first, so a window of days is a key range.
fn expiry_sort_key<K>(paper: &Paper<K>) -> String {
    format!("{}#{}#{}", paper.valid_to, paper.car_id, paper.id)
}

/// The attributes to set when a paper's last day moves, its expiry index sort key included.
pub(crate) fn valid_to_attributes<K>(paper: &Paper<K>) -> [(String, Value); 2] {
    [
        (
            "validTo".to_owned(),
            Value::from(paper.valid_to.to_string()),
        ),
        (
            EXPIRY_INDEX.sort_key().to_owned(),
            Value::from(expiry_sort_key(paper)),
        ),
    ]
}

/// The stored form of a paper: its fields, its version and its keys.
#[derive(Serialize)]
#[serde(rename_all = "camelCase", bound = "K: PaperKind")]
struct PaperRecord<'a, K> {
    #[serde(flatten)]
    keys: ItemKeys,
    entity: EntityKind,
    #[serde(flatten)]
    paper: &'a Paper<K>,
    version: u64,
}

/// A paper's first item, listed by the expiry index.
pub(crate) fn item<K: PaperKind>(paper: &Paper<K>) -> Result<Item, StoreError> {
    to_item(&PaperRecord {
        keys: ItemKeys::new(key::<K>(&paper.car_id, &paper.id)).indexed(
            EXPIRY_INDEX,
            expiry_partition::<K>(),
            expiry_sort_key(paper),
        ),
        entity: K::ENTITY,
        paper,
        version: paper.version,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::fleet::{Insurance, Registration};
    use crate::storage::from_item;

    pub(crate) fn day(text: &str) -> Day {
        Day::parse(text).unwrap()
    }

    pub(crate) fn insurance(valid_from: &str, valid_to: &str) -> Paper<Insurance> {
        let at = DateTime::parse_from_rfc3339("2026-11-21T08:00:00.123Z")
            .unwrap()
            .to_utc();
        Paper {
            id: PaperId::parse("0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e70").unwrap(),
            car_id: CarId::parse("0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f").unwrap(),
            details: Insurance::sample(),
            valid_from: day(valid_from),
            valid_to: day(valid_to),
            document: None,
            version: 1,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn a_paper_survives_the_round_trip_through_its_item() {
        let original = insurance("2026-01-01", "2026-12-31");
        let item = item(&original).unwrap();
        assert_eq!(from_item::<Paper<Insurance>>(item).unwrap(), original);
    }

    #[test]
    fn a_paper_lives_in_its_cars_partition_and_its_kinds_expiry_partition() {
        let paper = insurance("2026-01-01", "2026-12-31");
        let item = item(&paper).unwrap();
        assert_eq!(item["pk"], "CAR#0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f");
        assert_eq!(item["sk"], "INSURANCE#0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e70");
        assert_eq!(item["gsi1pk"], "INSURANCE#EXPIRY");
        assert_eq!(
            item["gsi1sk"],
            "2026-12-31#0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f#0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e70"
        );
        assert_eq!(item["entity"], "insurance");
        assert_eq!(expiry_partition::<Registration>(), "REGISTRATION#EXPIRY");
        assert_eq!(car_prefix::<Registration>(), "REGISTRATION#");
    }

    #[test]
    fn the_last_day_must_be_after_the_first() {
        assert!(Validity::new(day("2026-01-01"), day("2026-01-02")).is_ok());
        for to in ["2026-01-01", "2025-12-31"] {
            assert!(matches!(
                Validity::new(day("2026-01-01"), day(to)),
                Err(DomainError::Invalid {
                    field: "validTo",
                    ..
                })
            ));
        }
    }

    #[test]
    fn a_paper_is_valid_on_both_its_first_and_its_last_day() {
        let paper = insurance("2026-01-01", "2026-12-31");
        assert!(paper.valid_on(day("2026-01-01")) && paper.valid_on(day("2026-12-31")));
        assert!(!paper.valid_on(day("2025-12-31")) && !paper.valid_on(day("2027-01-01")));
    }
}
