//! Refresh sessions: long-lived opaque refresh tokens, rotated on every use, grouped in families
//! so that a stolen token is caught when it is used twice.
//!
//! A login starts a family with one token. Each refresh marks the presented token `rotated` and
//! adds a new token to the family, in one transaction conditional on the old token still being
//! `active` and the family not revoked, so one token can be rotated only once. A rotated token
//! presented again means two parties hold the family's tokens (the owner and a thief, in some
//! order), and the whole family is revoked: both parties' newest tokens stop working and the
//! owner must sign in again. Concurrent presentations of one token count the same way.
//!
//! Tokens are 32 random bytes, handed to the client once and stored only as their SHA-256 hash,
//! so a copy of the table yields no usable token. Items carry `expiresAt` for the table's TTL;
//! expiry is also checked on read, since TTL deletion lags.
//!
//! Layout (see `docs/data-model.md`):
//! - token: `pk = REFRESH#<sha256 hex>`, `sk = REFRESH`; `userId`, `familyId`, `state`
//!   (`active` / `rotated`), `createdAt`, `rotatedAt`, `expiresAt` (epoch seconds).
//! - family: `pk = SESSION#<familyId>`, `sk = SESSION`; `userId`, `revoked`, `createdAt`,
//!   `expiresAt` (that of its newest token); on index 1 as `gsi1pk = USER#<userId>#SESSIONS`,
//!   `gsi1sk = <createdAt>#<familyId>`, to list a user's sessions.
//!
//! Every change to a family writes an audit entry (entity `Session`, id the family id) in the
//! same transaction: its start (`create`, after `userId`), each rotation (`update`, `expiresAt`
//! and `rotatedAt`) and its revocation (`update`, after `revoked` and the reason). Tokens and
//! their hashes are never recorded: a hash is the key a token is looked up by. A revocation of a
//! family that is already revoked or gone changes nothing and records nothing. The entries carry
//! the actor of the context they are made in: the handlers pass the token's user for a refresh, a
//! logout and a revocation for reuse (a refresh token request carries no access token, yet the
//! session is that user's and belongs in their activity feed).

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::audit::{self, Action, Change};
use crate::clock::{Clock, IdGenerator};
use crate::entity::EntityKind;
use crate::error::DomainError;
use crate::identity::{RequestContext, UserId};
use crate::storage::{
    Comparison, Condition, Index, Item, Key, Put, Query, Store, StoreError, TABLE, Update, WriteOp,
    from_item, to_item,
};

/// How long a refresh token is valid; each rotation starts a new period.
pub const REFRESH_TOKEN_LIFETIME: TimeDelta = TimeDelta::days(30);

/// The random bytes in a refresh token.
const TOKEN_BYTES: usize = 32;

/// The index that lists a user's session families.
const USER_SESSIONS_INDEX: Index = Index::Gsi1;

const TOKEN_ENTITY: EntityKind = EntityKind::RefreshToken;
const FAMILY_ENTITY: EntityKind = EntityKind::Session;
const STATE: &str = "state";
const ACTIVE: &str = "active";
const ROTATED: &str = "rotated";
const REVOKED: &str = "revoked";

/// The operations of a rotation, in transaction order; its audit entry comes last.
const OLD_TOKEN_OPERATION: usize = 0;
const FAMILY_OPERATION: usize = 2;

/// The position of the family's update in a revocation; its audit entry follows it.
const REVOKE_OPERATION: usize = 0;

/// How often a revocation is retried when it collides with a concurrent transaction on the same
/// family (DynamoDB cancels both; the retry then finds the family revoked or still live).
const REVOKE_ATTEMPTS: usize = 3;

/// Why a session family was revoked, as its audit entry records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RevocationReason {
    /// The user signed out with one of the family's tokens.
    Logout,
    /// The user changed their password, which ends their other sessions.
    PasswordChanged,
    /// An admin disabled the user, or a refresh found the user disabled.
    UserDisabled,
    /// A refresh found that the user no longer exists.
    UserNotFound,
    /// A rotated token was presented again: two parties hold the family's tokens.
    TokenReused,
}

impl RevocationReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Logout => "logout",
            Self::PasswordChanged => "password changed",
            Self::UserDisabled => "user disabled",
            Self::UserNotFound => "user not found",
            Self::TokenReused => "refresh token reused",
        }
    }
}

/// The id of a session family: every refresh token descending from one login.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FamilyId(String);

impl FamilyId {
    /// Reads an id; anything that is not a UUID names no family.
    pub fn parse(raw: &str) -> Option<Self> {
        uuid::Uuid::try_parse(raw).ok().map(Self::from)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

crate::storage::parsed_from_string!(
    FamilyId => |raw| FamilyId::parse(raw).ok_or("is not a UUID")
);

impl From<uuid::Uuid> for FamilyId {
    fn from(id: uuid::Uuid) -> Self {
        Self(id.hyphenated().to_string())
    }
}

impl fmt::Display for FamilyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A refresh token as handed to the client: the only time its secret exists outside the client.
/// `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken {
    secret: String,
    family_id: FamilyId,
    expires_at: DateTime<Utc>,
}

impl RefreshToken {
    /// The token text to send to the client.
    pub fn expose_secret(&self) -> &str {
        &self.secret
    }

    /// The session family, to revoke it (for example when the user turns out to be disabled) or
    /// to keep it when all other sessions end.
    pub fn family_id(&self) -> &FamilyId {
        &self.family_id
    }

    pub fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at
    }
}

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshToken")
            .field("secret", &"<redacted>")
            .field("family_id", &self.family_id)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Starts a session for `user_id` after a login: a new family, its first token and the family's
/// audit entry, in one transaction. The entry is recorded as made in `context`, whose principal
/// should be the user who signed in (a login request carries no access token yet).
#[tracing::instrument(skip_all, fields(user_id = %user_id, family_id))]
pub async fn start_session(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    context: &RequestContext,
    user_id: &UserId,
) -> Result<RefreshToken, DomainError> {
    let now = clock.now();
    let family_id = FamilyId::from(ids.new_id());
    tracing::Span::current().record("family_id", family_id.as_str());
    let (secret, hash) = new_secret();
    let expires_at = now + REFRESH_TOKEN_LIFETIME;
    let change = family_change(
        &family_id,
        Action::Create,
        Map::new(),
        fields([("userId", Value::from(user_id.as_str()))]),
    );
    store
        .transact(vec![
            WriteOp::Put(Put {
                item: family_item(&family_id, user_id, now, expires_at)?,
                condition: Some(Condition::ItemNotExists),
            }),
            WriteOp::Put(Put {
                item: token_item(&hash, user_id, &family_id, now, expires_at)?,
                condition: Some(Condition::ItemNotExists),
            }),
            audit::entry(&change, context, now, ids.new_id()),
        ])
        .await?;
    Ok(RefreshToken {
        secret,
        family_id,
        expires_at,
    })
}

/// A refresh token as a client presented it, found in the store: whose session it belongs to.
/// Read it with [`find_refresh_token`], then [`rotate`] or [`revoke`] it; in between, the caller
/// loads the token's user, so the change is recorded as theirs and refused if they may no longer
/// sign in.
pub struct PresentedToken {
    hash: String,
    stored: StoredToken,
}

impl PresentedToken {
    /// The user the token's session belongs to.
    pub fn user_id(&self) -> &UserId {
        &self.stored.user_id
    }

    /// The token's session family.
    pub fn family_id(&self) -> &FamilyId {
        &self.stored.family_id
    }
}

impl fmt::Debug for PresentedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PresentedToken")
            .field("user_id", &self.stored.user_id)
            .field("family_id", &self.stored.family_id)
            .finish_non_exhaustive()
    }
}

/// The stored token `presented` names, in any state; `None` for text that cannot be one of our
/// tokens (which costs no read) and for an unknown token. One strongly consistent read.
#[tracing::instrument(skip_all, fields(user_id, family_id))]
pub async fn find_refresh_token(
    store: &dyn Store,
    presented: &str,
) -> Result<Option<PresentedToken>, DomainError> {
    let Some(hash) = hash_of(presented) else {
        return Ok(None);
    };
    let Some(item) = store.get(&token_key(&hash)).await? else {
        return Ok(None);
    };
    let stored = StoredToken::from_item(item)?;
    let span = tracing::Span::current();
    span.record("user_id", stored.user_id.as_str());
    span.record("family_id", stored.family_id.as_str());
    Ok(Some(PresentedToken { hash, stored }))
}

/// Exchanges a presented refresh token for a new one in the same family.
///
/// Every failure is [`DomainError::Unauthenticated`]: an expired or revoked token, and a token
/// presented a second time, which also revokes its family. The caller checks that the token's
/// user exists and may sign in (see `accounts::session_principal`) before rotating, and revokes
/// the family (see [`revoke_family`]) when they may not.
///
/// A rotation records an update of the family (its new `expiresAt`, and `rotatedAt`) in the same
/// transaction; a revocation for reuse records that; a refused token records nothing else. The
/// entries are recorded as made in `context`, whose principal should be the token's user: a
/// refresh carries no access token, yet it is that user's session that changes, and the entries
/// belong in their activity feed.
#[tracing::instrument(skip_all, fields(user_id = %token.stored.user_id, family_id = %token.stored.family_id))]
pub async fn rotate(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    context: &RequestContext,
    token: &PresentedToken,
) -> Result<RefreshToken, DomainError> {
    let PresentedToken {
        hash,
        stored: token,
    } = token;
    let now = clock.now();
    if token.expires_at <= now.timestamp() {
        return Err(DomainError::Unauthenticated);
    }
    if token.state != ACTIVE {
        return Err(reuse_detected(store, clock, ids, context, &token.family_id).await);
    }

    let (secret, new_hash) = new_secret();
    let expires_at = now + REFRESH_TOKEN_LIFETIME;
    let mut retire = Update::new(token_key(hash));
    retire.set = vec![
        (STATE.into(), Value::from(ROTATED)),
        ("rotatedAt".into(), Value::from(timestamp(now))),
    ];
    retire.condition = Some(Condition::compare(STATE, Comparison::Equal, ACTIVE));
    let mut extend = Update::new(family_key(&token.family_id));
    extend.set = vec![(
        TABLE.ttl_attribute.into(),
        Value::from(expires_at.timestamp()),
    )];
    extend.condition = Some(Condition::And(vec![
        Condition::ItemExists,
        Condition::compare(REVOKED, Comparison::Equal, false),
    ]));
    // An active token is always its family's newest (a rotation retires the old token and adds
    // the new one together), so its expiry is the family's before this rotation.
    let change = family_change(
        &token.family_id,
        Action::Update,
        fields([(TABLE.ttl_attribute, Value::from(token.expires_at))]),
        fields([
            (TABLE.ttl_attribute, Value::from(expires_at.timestamp())),
            ("rotatedAt", Value::from(timestamp(now))),
        ]),
    );
    let operations = vec![
        WriteOp::Update(retire),
        WriteOp::Put(Put {
            item: token_item(&new_hash, &token.user_id, &token.family_id, now, expires_at)?,
            condition: Some(Condition::ItemNotExists),
        }),
        WriteOp::Update(extend),
        audit::entry(&change, context, now, ids.new_id()),
    ];
    match store.transact(operations).await {
        Ok(()) => Ok(RefreshToken {
            secret,
            family_id: token.family_id.clone(),
            expires_at,
        }),
        // Someone rotated this token between our read and our write: it was presented twice.
        // A conflict is the same race seen while the other transaction was still in flight.
        Err(
            StoreError::TransactionConditionFailed {
                index: OLD_TOKEN_OPERATION,
            }
            | StoreError::TransactionConflict,
        ) => Err(reuse_detected(store, clock, ids, context, &token.family_id).await),
        Err(StoreError::TransactionConditionFailed {
            index: FAMILY_OPERATION,
        }) => Err(DomainError::Unauthenticated),
        Err(other) => Err(other.into()),
    }
}

/// Ends the session a presented refresh token belongs to (logout): its whole family is revoked,
/// and the revocation recorded as made in `context`, whose principal should be the token's user.
/// Revoking a family that is already revoked changes nothing and records nothing, so logging out
/// twice is harmless.
#[tracing::instrument(skip_all, fields(family_id = %token.stored.family_id))]
pub async fn revoke(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    context: &RequestContext,
    token: &PresentedToken,
) -> Result<(), DomainError> {
    revoke_family(
        store,
        clock,
        ids,
        context,
        &token.stored.family_id,
        RevocationReason::Logout,
    )
    .await?;
    Ok(())
}

/// Revokes one session family: none of its tokens refreshes again. The flag and its audit entry
/// (recorded as made in `context`, with `reason`) are one transaction, conditional on the family
/// existing and not being revoked yet. Returns whether this call revoked it: revoking a family
/// that is already revoked or gone (expired) succeeds, changes nothing and records nothing.
#[tracing::instrument(skip(store, clock, ids, context), fields(family_id = %family_id))]
pub async fn revoke_family(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    context: &RequestContext,
    family_id: &FamilyId,
    reason: RevocationReason,
) -> Result<bool, DomainError> {
    let change = family_change(
        family_id,
        Action::Update,
        fields([(REVOKED, Value::Bool(false))]),
        fields([
            (REVOKED, Value::Bool(true)),
            ("reason", Value::from(reason.as_str())),
        ]),
    );
    for _ in 0..REVOKE_ATTEMPTS {
        let mut update = Update::new(family_key(family_id));
        update.set = vec![(REVOKED.into(), Value::Bool(true))];
        update.condition = Some(Condition::And(vec![
            Condition::ItemExists,
            Condition::compare(REVOKED, Comparison::Equal, false),
        ]));
        let operations = vec![
            WriteOp::Update(update),
            audit::entry(&change, context, clock.now(), ids.new_id()),
        ];
        match store.transact(operations).await {
            Ok(()) => return Ok(true),
            Err(StoreError::TransactionConditionFailed {
                index: REVOKE_OPERATION,
            }) => return Ok(false),
            // Another revocation (or a rotation) of the family was in flight: try again, and
            // find the family revoked or still live.
            Err(StoreError::TransactionConflict) => continue,
            Err(other) => return Err(other.into()),
        }
    }
    Err(StoreError::TransactionConflict.into())
}

/// Revokes every session of a user but `keep_family` (after a password change, the session
/// that changed it stays signed in; `None` ends them all, as disabling a user should), each
/// with its audit entry recorded as made in `context` for `reason`. Returns how many families
/// this call revoked. Reads the user's families from index 1, one query page at a time; the
/// index is eventually consistent, so a session started within the same instant may be missed,
/// as with any sign-out-everywhere.
#[tracing::instrument(skip(store, clock, ids, context), fields(user_id = %user_id))]
pub async fn revoke_all_sessions_except(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    context: &RequestContext,
    user_id: &UserId,
    keep_family: Option<&FamilyId>,
    reason: RevocationReason,
) -> Result<usize, DomainError> {
    let mut query = Query::partition(Some(USER_SESSIONS_INDEX), user_sessions(user_id));
    let mut revoked = 0;
    loop {
        let page = store.query(query.clone()).await?;
        for item in page.items {
            let family = StoredFamily::from_item(item)?;
            if family.revoked || Some(&family.family_id) == keep_family {
                continue;
            }
            // A family revoked since the query (say by a concurrent logout) is not counted.
            if revoke_family(store, clock, ids, context, &family.family_id, reason).await? {
                revoked += 1;
            }
        }
        match page.last_evaluated_key {
            Some(last) => query.start_after = Some(last),
            None => return Ok(revoked),
        }
    }
}

/// The family of a refresh token that could still be rotated (known, active, not expired, family
/// not revoked): for example the session a password change should keep. `None` otherwise.
#[tracing::instrument(skip_all)]
pub async fn session_family(
    store: &dyn Store,
    clock: &dyn Clock,
    presented: &str,
) -> Result<Option<FamilyId>, DomainError> {
    let Some(PresentedToken { stored: token, .. }) = find_refresh_token(store, presented).await?
    else {
        return Ok(None);
    };
    if token.state != ACTIVE || token.expires_at <= clock.now().timestamp() {
        return Ok(None);
    }
    let Some(item) = store.get(&family_key(&token.family_id)).await? else {
        return Ok(None);
    };
    let family = StoredFamily::from_item(item)?;
    Ok((!family.revoked).then_some(family.family_id))
}

/// A second presentation of one token: revoke the family, then refuse.
async fn reuse_detected(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    context: &RequestContext,
    family_id: &FamilyId,
) -> DomainError {
    tracing::warn!(
        family_id = family_id.as_str(),
        "a refresh token was presented again after rotation; revoking its session family"
    );
    let reason = RevocationReason::TokenReused;
    match revoke_family(store, clock, ids, context, family_id, reason).await {
        Ok(_) => DomainError::Unauthenticated,
        Err(error) => error,
    }
}

/// The audit record of a change to a session family. Callers pass only non-secret fields: never
/// a token or its hash.
fn family_change(
    family_id: &FamilyId,
    action: Action,
    before: Map<String, Value>,
    after: Map<String, Value>,
) -> Change {
    Change {
        entity_type: FAMILY_ENTITY,
        entity_id: family_id.to_string(),
        action,
        before,
        after,
    }
}

/// Audit fields from their names and values.
fn fields<const N: usize>(pairs: [(&str, Value); N]) -> Map<String, Value> {
    pairs
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect()
}

/// A new token and its hash.
fn new_secret() -> (String, String) {
    let mut bytes = [0u8; TOKEN_BYTES];
    // As for `Uuid::new_v4`, which every id in the system already depends on: a process whose
    // operating system has no random source cannot do anything safely.
    getrandom::fill(&mut bytes).expect("the operating system's random source is available");
    let secret = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_bytes(&bytes);
    bytes.fill(0);
    (secret, hash)
}

/// The stored hash of a presented token; `None` when it cannot be one of ours, so that garbage
/// costs no read.
fn hash_of(presented: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(presented.trim()).ok()?;
    (bytes.len() == TOKEN_BYTES).then(|| hash_bytes(&bytes))
}

fn hash_bytes(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn token_key(hash: &str) -> Key {
    Key::new(format!("REFRESH#{hash}"), "REFRESH")
}

fn family_key(family_id: &FamilyId) -> Key {
    Key::new(format!("SESSION#{family_id}"), "SESSION")
}

/// The index 1 partition listing one user's session families.
fn user_sessions(user_id: &UserId) -> String {
    format!("USER#{user_id}#SESSIONS")
}

fn timestamp(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The stored form of a refresh token.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TokenRecord<'a> {
    pk: String,
    sk: String,
    entity: EntityKind,
    user_id: &'a str,
    family_id: &'a str,
    state: &'static str,
    created_at: String,
    expires_at: i64,
}

/// The stored form of a session family.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FamilyRecord<'a> {
    pk: String,
    sk: String,
    gsi1pk: String,
    gsi1sk: String,
    entity: EntityKind,
    user_id: &'a str,
    family_id: &'a str,
    revoked: bool,
    created_at: String,
    expires_at: i64,
}

fn token_item(
    hash: &str,
    user_id: &UserId,
    family_id: &FamilyId,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<Item, StoreError> {
    let key = token_key(hash);
    to_item(&TokenRecord {
        pk: key.pk,
        sk: key.sk,
        entity: TOKEN_ENTITY,
        user_id: user_id.as_str(),
        family_id: family_id.as_str(),
        state: ACTIVE,
        created_at: timestamp(now),
        expires_at: expires_at.timestamp(),
    })
}

fn family_item(
    family_id: &FamilyId,
    user_id: &UserId,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<Item, StoreError> {
    let key = family_key(family_id);
    to_item(&FamilyRecord {
        pk: key.pk,
        sk: key.sk,
        gsi1pk: user_sessions(user_id),
        gsi1sk: format!("{}#{family_id}", timestamp(now)),
        entity: FAMILY_ENTITY,
        user_id: user_id.as_str(),
        family_id: family_id.as_str(),
        revoked: false,
        created_at: timestamp(now),
        expires_at: expires_at.timestamp(),
    })
}

/// What a rotation reads back from a token item.
struct StoredToken {
    user_id: UserId,
    family_id: FamilyId,
    state: String,
    expires_at: i64,
}

impl StoredToken {
    fn from_item(item: Item) -> Result<Self, StoreError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Read {
            user_id: UserId,
            family_id: FamilyId,
            state: String,
            expires_at: i64,
        }
        let read: Read = from_item(item)?;
        Ok(Self {
            user_id: read.user_id,
            family_id: read.family_id,
            state: read.state,
            expires_at: read.expires_at,
        })
    }
}

/// What revocation reads back from a family item.
struct StoredFamily {
    family_id: FamilyId,
    revoked: bool,
}

impl StoredFamily {
    fn from_item(item: Item) -> Result<Self, StoreError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Read {
            family_id: FamilyId,
            revoked: bool,
        }
        let read: Read = from_item(item)?;
        Ok(Self {
            family_id: read.family_id,
            revoked: read.revoked,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-21T08:00:00.123Z")
            .unwrap()
            .to_utc()
    }

    fn user() -> UserId {
        UserId::parse("0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f").unwrap()
    }

    fn family() -> FamilyId {
        FamilyId::parse("0190f5d2-6a3e-7c4b-9a1e-000000000001").unwrap()
    }

    #[test]
    fn a_token_is_32_random_bytes_and_only_its_hash_is_kept() {
        let (secret, hash) = new_secret();
        assert_eq!(secret.len(), 43);
        assert_eq!(URL_SAFE_NO_PAD.decode(&secret).unwrap().len(), 32);
        assert_eq!(hash_of(&secret).as_deref(), Some(hash.as_str()));
        assert_eq!(hash.len(), 64);
        assert!(!hash.contains(&secret));
        let (other, _) = new_secret();
        assert_ne!(secret, other);
        let item = token_item(&hash, &user(), &family(), now(), now()).unwrap();
        assert!(!Value::Object(item).to_string().contains(&secret));
    }

    #[test]
    fn text_that_cannot_be_a_token_has_no_hash() {
        for presented in ["", "short", &"A".repeat(44), "!!!!", &"a".repeat(43 * 2)] {
            assert_eq!(hash_of(presented), None, "{presented}");
        }
    }

    #[test]
    fn items_carry_their_keys_index_keys_and_expiry() {
        let expires = now() + REFRESH_TOKEN_LIFETIME;
        let token = token_item("ab12", &user(), &family(), now(), expires).unwrap();
        assert_eq!(
            Key::of(&token).unwrap(),
            Key::new("REFRESH#ab12", "REFRESH")
        );
        assert_eq!(token["state"], "active");
        assert_eq!(token["familyId"], family().as_str());
        assert_eq!(token["expiresAt"], expires.timestamp());
        let family_item = family_item(&family(), &user(), now(), expires).unwrap();
        assert_eq!(
            Key::of(&family_item).unwrap(),
            Key::new("SESSION#0190f5d2-6a3e-7c4b-9a1e-000000000001", "SESSION")
        );
        assert_eq!(
            family_item["gsi1pk"],
            "USER#0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f#SESSIONS"
        );
        assert_eq!(
            family_item["gsi1sk"],
            "2026-11-21T08:00:00.123Z#0190f5d2-6a3e-7c4b-9a1e-000000000001"
        );
        assert_eq!(family_item["revoked"], false);
        assert_eq!(family_item["expiresAt"], expires.timestamp());
    }

    #[test]
    fn stored_items_read_back_and_corrupt_ones_are_internal_errors() {
        let token = token_item("ab12", &user(), &family(), now(), now()).unwrap();
        let read = StoredToken::from_item(token.clone()).unwrap();
        assert_eq!(read.user_id, user());
        assert_eq!(read.family_id, family());
        let mut corrupt = token;
        corrupt.insert("userId".into(), Value::from("nobody"));
        assert!(matches!(
            StoredToken::from_item(corrupt),
            Err(StoreError::Internal(_))
        ));
    }

    #[test]
    fn debug_output_never_shows_a_refresh_token() {
        let (secret, _) = new_secret();
        let token = RefreshToken {
            secret: secret.clone(),
            family_id: family(),
            expires_at: now(),
        };
        assert!(!format!("{token:?}").contains(&secret));
    }
}
