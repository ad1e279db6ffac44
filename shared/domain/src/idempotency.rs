//! Idempotent requests: a client that retries a request with the same `Idempotency-Key` gets the
//! first response again instead of a second booking, charge or contract.
//!
//! One record per caller, operation and key (`pk = IDEMPOTENCY#<operation>#<caller>#<key>`):
//! - [`begin`] claims the key with a conditional put (`attribute_not_exists(pk)`). The claim is a
//!   lease: the record is in progress for [`LEASE`], carrying a random token only its holder knows.
//! - The holder's business transaction includes [`Claim::complete`], an update conditioned on the
//!   record still carrying its token and being in progress. So the change (a booking) and the
//!   response it produced commit together, or neither does: there is no window in which the change
//!   exists but a retry would not find its response.
//! - When the request fails, [`Claim::release`] deletes the record, so the client can retry with
//!   the same key (a failure is not worth remembering; the retry may well succeed).
//!
//! A second request with the key finds the record: a completed one with the same request
//! fingerprint is replayed, another fingerprint is a 422, a live lease is a 409. Records stop
//! counting after [`RECORD_TTL`] (`expiresAt`, DynamoDB's TTL deletes them some time later), and a
//! lease whose holder never finished lapses. Such records are taken over with a put conditioned on
//! the token that was read, never blindly: of two requests taking over the same record, one wins.
//! A holder whose lease lapsed and was taken over can no longer complete, because its token is
//! gone; its whole transaction fails instead of committing a second outcome.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::clock::Clock;
use crate::entity::EntityKind;
use crate::error::DomainError;
use crate::identity::UserId;
use crate::storage::{
    Comparison, Condition, Delete, Item, Key, Put, Store, StoreError, Update, WriteOp,
};

/// The most characters a key may have.
pub const KEY_MAX_CHARS: usize = 255;
/// How long a completed request is remembered.
pub const RECORD_TTL: TimeDelta = TimeDelta::hours(24);
/// How long a claim holds the key before another request may take it over.
pub const LEASE: TimeDelta = TimeDelta::seconds(60);

/// How often [`begin`] reads the record again when it changed between its write and its read.
const ATTEMPTS: usize = 3;

const STATUS: &str = "status";
const TOKEN: &str = "token";
const IN_PROGRESS: &str = "in_progress";
const COMPLETED: &str = "completed";

/// A client's idempotency key: 1 to 255 printable ASCII characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.is_empty() || raw.len() > KEY_MAX_CHARS {
            return Err(format!("must be 1 to {KEY_MAX_CHARS} characters"));
        }
        if !raw
            .bytes()
            .all(|byte| byte.is_ascii_graphic() || byte == b' ')
        {
            return Err("must contain only printable ASCII characters".into());
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whose keys and which operation a key belongs to: the same key sent by two users, or to two
/// operations, names two requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyScope {
    operation: &'static str,
    caller: UserId,
}

impl IdempotencyScope {
    /// `operation` is a stable name such as `create-booking`.
    pub fn new(operation: &'static str, caller: &UserId) -> Self {
        Self {
            operation,
            caller: caller.clone(),
        }
    }

    fn key(&self, key: &IdempotencyKey) -> Key {
        Key::new(
            format!("IDEMPOTENCY#{}#{}#{}", self.operation, self.caller, key.0),
            "IDEMPOTENCY",
        )
    }
}

/// What makes two requests the same request: a SHA-256 of the parsed command, so that `"seats": 2`
/// and `"seats": "2"` are one request and any difference in meaning is another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// A request that does not serialize has no fingerprint: an internal error.
    pub fn of<T: Serialize>(request: &T) -> Result<Self, StoreError> {
        let bytes = serde_json::to_vec(request).map_err(StoreError::internal)?;
        let digest = Sha256::digest(&bytes);
        Ok(Self(
            digest.iter().map(|byte| format!("{byte:02x}")).collect(),
        ))
    }
}

/// The response a completed request gave, replayed to every retry.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredResponse {
    /// The HTTP status.
    pub status: u16,
    /// The `data` of the body.
    pub body: Value,
    /// The `Location` header, if the response had one.
    pub location: Option<String>,
}

/// How a request that creates something under an idempotency key ended.
#[derive(Debug)]
pub enum Outcome<T> {
    /// It created `value`, and recorded `response` for retries of the request.
    Created {
        value: Box<T>,
        response: StoredResponse,
    },
    /// The request was made before with the same key: its first response.
    Replayed(StoredResponse),
}

impl<T> Outcome<T> {
    /// What the caller is answered, the same for the first request and every retry.
    pub fn response(&self) -> &StoredResponse {
        match self {
            Self::Created { response, .. } | Self::Replayed(response) => response,
        }
    }
}

/// What a request does after [`begin`].
#[derive(Debug)]
pub enum Begin {
    /// The key is new (or its record lapsed): run the request, completing or releasing the claim.
    Proceed(Claim),
    /// The same request completed before: answer this.
    Replay(StoredResponse),
}

/// The right to run the request under a key, until it completes, is released, or its lease lapses.
#[derive(Debug)]
pub struct Claim {
    key: Key,
    token: String,
}

impl Claim {
    /// The operation that records `response` as the request's outcome; it belongs in the same
    /// transaction as the change it describes, and fails that transaction if the claim was lost.
    pub fn complete(&self, response: &StoredResponse) -> WriteOp {
        let mut update = Update::new(self.key.clone());
        update.set = vec![
            (STATUS.into(), Value::from(COMPLETED)),
            ("responseStatus".into(), Value::from(response.status)),
            (
                "responseBody".into(),
                Value::from(response.body.to_string()),
            ),
        ];
        match &response.location {
            Some(location) => update
                .set
                .push(("responseLocation".into(), Value::from(location.clone()))),
            None => update.remove.push("responseLocation".into()),
        }
        update.remove.push("leaseExpiresAt".into());
        update.condition = Some(self.held());
        WriteOp::Update(update)
    }

    /// Gives the key back after a failed request, so that a retry with it runs again. A claim that
    /// was taken over meanwhile belongs to someone else and is left alone.
    pub async fn release(&self, store: &dyn Store) -> Result<(), StoreError> {
        let delete = Delete {
            key: self.key.clone(),
            condition: Some(self.held()),
        };
        match store.delete(delete).await {
            Ok(_) | Err(StoreError::ConditionFailed) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// Passes `outcome` on, giving the key back first when it is a failure, so that the
    /// client's retry with the same key runs again. A key that cannot be given back stays
    /// claimed until its lease lapses (the retry waits that long); that is logged, not answered.
    pub async fn settle<T>(
        &self,
        store: &dyn Store,
        outcome: Result<T, DomainError>,
    ) -> Result<T, DomainError> {
        if outcome.is_err()
            && let Err(error) = self.release(store).await
        {
            tracing::warn!(
                error = %crate::error::chain(&error),
                "could not release an idempotency key"
            );
        }
        outcome
    }

    /// The record still is this claim's, in progress.
    fn held(&self) -> Condition {
        Condition::And(vec![
            Condition::compare(TOKEN, Comparison::Equal, self.token.clone()),
            Condition::compare(STATUS, Comparison::Equal, IN_PROGRESS),
        ])
    }
}

/// The error a request gets when another request holds its key.
pub fn in_progress() -> DomainError {
    DomainError::Conflict {
        detail: "A request with this Idempotency-Key is in progress; retry it later.".into(),
    }
}

/// Whether no request of `scope` has used `key` yet (one read). A request that its own reads
/// already refuse need not claim an unused key: a refusal is never remembered (a failed request
/// releases its claim), so answering it without a claim answers what the claim would have. A used
/// key must go through [`begin`], whose record may hold a response to replay.
pub async fn unused(
    store: &dyn Store,
    scope: &IdempotencyScope,
    key: &IdempotencyKey,
) -> Result<bool, StoreError> {
    Ok(store.get(&scope.key(key)).await?.is_none())
}

/// Claims `key` for a request of `scope` with `fingerprint`, or tells the caller what to answer
/// instead. Costs one conditional write, plus one read when the key was used before.
#[tracing::instrument(skip_all, fields(operation = scope.operation))]
pub async fn begin(
    store: &dyn Store,
    clock: &dyn Clock,
    scope: &IdempotencyScope,
    key: &IdempotencyKey,
    fingerprint: &Fingerprint,
) -> Result<Begin, DomainError> {
    let record_key = scope.key(key);
    for _ in 0..ATTEMPTS {
        let now = clock.now();
        let claim = Claim {
            key: record_key.clone(),
            token: uuid::Uuid::new_v4().to_string(),
        };
        let put = |condition| Put {
            item: in_progress_item(&claim, fingerprint, now),
            condition: Some(condition),
        };
        match store.put(put(Condition::ItemNotExists)).await {
            Ok(()) => return Ok(Begin::Proceed(claim)),
            Err(StoreError::ConditionFailed) => {}
            Err(error) => return Err(error.into()),
        }
        let Some(record) = store.get(&record_key).await? else {
            // Released between the write and the read: try the key again.
            continue;
        };
        let record = Record::read(&record)?;
        if record.expired(now) {
            let taken = Condition::compare(TOKEN, Comparison::Equal, record.token.clone());
            match store.put(put(taken)).await {
                Ok(()) => return Ok(Begin::Proceed(claim)),
                // Another request took it over, or its holder finished: read it again.
                Err(StoreError::ConditionFailed) => continue,
                Err(error) => return Err(error.into()),
            }
        }
        if record.fingerprint != fingerprint.0 {
            return Err(DomainError::IdempotencyKeyReused);
        }
        if let Some(response) = record.response {
            return Ok(Begin::Replay(response));
        }
        if !record.lease_lapsed(now) {
            return Err(in_progress());
        }
        let taken = Condition::And(vec![
            Condition::compare(TOKEN, Comparison::Equal, record.token.clone()),
            Condition::compare(STATUS, Comparison::Equal, IN_PROGRESS),
        ]);
        match store.put(put(taken)).await {
            Ok(()) => return Ok(Begin::Proceed(claim)),
            Err(StoreError::ConditionFailed) => continue,
            Err(error) => return Err(error.into()),
        }
    }
    Err(in_progress())
}

fn in_progress_item(claim: &Claim, fingerprint: &Fingerprint, now: DateTime<Utc>) -> Item {
    let mut item = Item::new();
    claim.key.write_into(&mut item);
    item.insert("entity".into(), Value::from(EntityKind::IdempotencyRecord));
    item.insert(STATUS.into(), Value::from(IN_PROGRESS));
    item.insert(TOKEN.into(), Value::from(claim.token.clone()));
    item.insert("fingerprint".into(), Value::from(fingerprint.0.clone()));
    item.insert(
        "leaseExpiresAt".into(),
        Value::from((now + LEASE).timestamp_millis()),
    );
    item.insert(
        "expiresAt".into(),
        Value::from((now + RECORD_TTL).timestamp()),
    );
    item
}

/// A record as [`begin`] reads it.
struct Record {
    token: String,
    fingerprint: String,
    /// Epoch milliseconds; absent once completed.
    lease_expires_at: Option<i64>,
    /// Epoch seconds.
    expires_at: i64,
    response: Option<StoredResponse>,
}

impl Record {
    fn read(item: &Item) -> Result<Self, StoreError> {
        let corrupt =
            |what: &str| StoreError::internal(format!("idempotency record has no valid {what}"));
        let text = |name: &str| item.get(name).and_then(Value::as_str);
        let token = text(TOKEN).ok_or_else(|| corrupt("token"))?.to_owned();
        let fingerprint = text("fingerprint")
            .ok_or_else(|| corrupt("fingerprint"))?
            .to_owned();
        let expires_at = item
            .get("expiresAt")
            .and_then(Value::as_i64)
            .ok_or_else(|| corrupt("expiry"))?;
        let lease_expires_at = item.get("leaseExpiresAt").and_then(Value::as_i64);
        let response = match text(STATUS) {
            Some(IN_PROGRESS) => None,
            Some(COMPLETED) => {
                let status = item
                    .get("responseStatus")
                    .and_then(Value::as_u64)
                    .and_then(|status| u16::try_from(status).ok())
                    .ok_or_else(|| corrupt("response status"))?;
                let body = text("responseBody")
                    .and_then(|body| serde_json::from_str(body).ok())
                    .ok_or_else(|| corrupt("response body"))?;
                let location = text("responseLocation").map(str::to_owned);
                Some(StoredResponse {
                    status,
                    body,
                    location,
                })
            }
            _ => return Err(corrupt("status")),
        };
        Ok(Self {
            token,
            fingerprint,
            lease_expires_at,
            expires_at,
            response,
        })
    }

    /// Past its time to live: as good as deleted, whatever its state.
    fn expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at <= now.timestamp()
    }

    fn lease_lapsed(&self, now: DateTime<Utc>) -> bool {
        self.lease_expires_at
            .is_some_and(|until| until <= now.timestamp_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_1_to_255_printable_ascii_characters() {
        assert!(IdempotencyKey::parse("a").is_ok());
        assert!(IdempotencyKey::parse("order 42: retry #1").is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_ok());
        for invalid in ["", "tab\there", "line\nbreak", "é", "\u{7f}"] {
            assert!(IdempotencyKey::parse(invalid).is_err(), "{invalid:?}");
        }
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_err());
    }

    #[test]
    fn the_record_key_separates_callers_and_operations() {
        let key = IdempotencyKey::parse("k-1").unwrap();
        let ann = UserId::from(uuid::Uuid::nil());
        let bob = UserId::from(uuid::Uuid::max());
        let bookings = IdempotencyScope::new("create-booking", &ann);
        assert_ne!(
            bookings.key(&key),
            IdempotencyScope::new("create-booking", &bob).key(&key)
        );
        assert_ne!(
            bookings.key(&key),
            IdempotencyScope::new("create-contract", &ann).key(&key)
        );
        assert_eq!(
            bookings.key(&key).pk,
            "IDEMPOTENCY#create-booking#00000000-0000-0000-0000-000000000000#k-1"
        );
    }

    #[test]
    fn fingerprints_differ_exactly_when_the_requests_do() {
        let one = Fingerprint::of(&serde_json::json!({"flightId": "f", "seats": 2})).unwrap();
        let same = Fingerprint::of(&serde_json::json!({"flightId": "f", "seats": 2})).unwrap();
        let other = Fingerprint::of(&serde_json::json!({"flightId": "f", "seats": 3})).unwrap();
        assert_eq!(one, same);
        assert_ne!(one, other);
        assert_eq!(one.0.len(), 64);
    }

    #[test]
    fn completion_is_conditioned_on_still_holding_the_claim() {
        let claim = Claim {
            key: Key::new("IDEMPOTENCY#x", "IDEMPOTENCY"),
            token: "t-1".into(),
        };
        let response = StoredResponse {
            status: 201,
            body: serde_json::json!({"id": "b"}),
            location: Some("/v1/bookings/b".into()),
        };
        let WriteOp::Update(update) = claim.complete(&response) else {
            panic!("completion is an update");
        };
        assert_eq!(update.condition, Some(claim.held()));
        assert!(
            update
                .set
                .contains(&("responseBody".into(), Value::from(r#"{"id":"b"}"#)))
        );
    }

    #[test]
    fn a_completed_record_reads_back_its_response() {
        let now = DateTime::parse_from_rfc3339("2026-11-21T08:00:00Z")
            .unwrap()
            .to_utc();
        let claim = Claim {
            key: Key::new("IDEMPOTENCY#x", "IDEMPOTENCY"),
            token: "t-1".into(),
        };
        let mut item = in_progress_item(&claim, &Fingerprint::of(&1).unwrap(), now);
        let pending = Record::read(&item).unwrap();
        assert!(pending.response.is_none());
        assert!(!pending.lease_lapsed(now + LEASE - TimeDelta::milliseconds(1)));
        assert!(pending.lease_lapsed(now + LEASE));
        assert!(!pending.expired(now + RECORD_TTL - TimeDelta::seconds(1)));
        assert!(pending.expired(now + RECORD_TTL));
        item.insert(STATUS.into(), Value::from(COMPLETED));
        item.insert("responseStatus".into(), Value::from(201));
        item.insert("responseBody".into(), Value::from(r#"{"id":"b"}"#));
        let done = Record::read(&item).unwrap();
        assert_eq!(
            done.response,
            Some(StoredResponse {
                status: 201,
                body: serde_json::json!({"id": "b"}),
                location: None,
            })
        );
    }
}
