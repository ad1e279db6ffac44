//! Refresh sessions on the embedded store (rotation, reuse detection, races, logout, sign-out
//! everywhere, expiry, and the audit entries each change writes) and the SSM read of the token
//! keys against moto.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use itinera::audit::{self, AuditEntry, TimeRange};
use itinera::auth::sessions::RevocationReason;
use itinera::auth::{
    FamilyId, PresentedToken, REFRESH_TOKEN_LIFETIME, RefreshToken, find_refresh_token, revoke,
    revoke_all_sessions_except, revoke_family, rotate, session_family, start_session,
};
use itinera::clock::{Clock, UuidV7Ids};
use itinera::entity::EntityKind;
use itinera::error::DomainError;
use itinera::identity::{Actor, Principal, RequestContext, Role, UserId};
use itinera::pagination::PageLimit;
use itinera::storage::{Delete, Item, Key, Page, Put, Query, Store, StoreError, Update, WriteOp};
use itinera_embedded::EmbeddedStore;
use serde_json::{Value, json};
use tempfile::TempDir;

/// A clock the test moves by hand.
struct TestClock(Mutex<DateTime<Utc>>);

impl TestClock {
    fn new() -> Self {
        let start = DateTime::parse_from_rfc3339("2026-11-21T08:00:00.000Z")
            .expect("valid time")
            .to_utc();
        Self(Mutex::new(start))
    }

    fn advance(&self, by: TimeDelta) {
        *self.0.lock().expect("clock lock") += by;
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("clock lock")
    }
}

/// One write the store was asked for: the operations of a transaction, or a single write.
#[derive(Clone, Debug)]
struct Write {
    operations: Vec<WriteOp>,
    transaction: bool,
    committed: bool,
}

/// The embedded store, keeping a copy of every write asked of it: to tell which writes went
/// together in one transaction, and to learn the token hashes that only the store sees.
struct RecordingStore {
    inner: EmbeddedStore,
    writes: Mutex<Vec<Write>>,
}

impl RecordingStore {
    fn record<T>(
        &self,
        operations: Vec<WriteOp>,
        transaction: bool,
        result: &Result<T, StoreError>,
    ) {
        self.writes.lock().expect("writes lock").push(Write {
            operations,
            transaction,
            committed: result.is_ok(),
        });
    }

    fn writes(&self) -> Vec<Write> {
        self.writes.lock().expect("writes lock").clone()
    }
}

#[async_trait]
impl Store for RecordingStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.inner.get(key).await
    }
    async fn put(&self, put: Put) -> Result<(), StoreError> {
        let result = self.inner.put(put.clone()).await;
        self.record(vec![WriteOp::Put(put)], false, &result);
        result
    }
    async fn update(&self, update: Update) -> Result<Item, StoreError> {
        let result = self.inner.update(update.clone()).await;
        self.record(vec![WriteOp::Update(update)], false, &result);
        result
    }
    async fn delete(&self, delete: Delete) -> Result<Option<Item>, StoreError> {
        let result = self.inner.delete(delete.clone()).await;
        self.record(vec![WriteOp::Delete(delete)], false, &result);
        result
    }
    async fn transact(&self, operations: Vec<WriteOp>) -> Result<(), StoreError> {
        let result = self.inner.transact(operations.clone()).await;
        self.record(operations, true, &result);
        result
    }
    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        self.inner.query(query).await
    }
    async fn check_health(&self) -> Result<(), StoreError> {
        self.inner.check_health().await
    }
}

/// A fresh embedded store, a movable clock and a user, removed when dropped.
struct Sessions {
    store: Arc<dyn Store>,
    recorder: Arc<RecordingStore>,
    clock: Arc<TestClock>,
    user: UserId,
    _data: TempDir,
}

/// The request id of a sign-in, as the login route would pass it.
const LOGIN_REQUEST: &str = "req-login";
/// The request id of refreshes and logouts, which carry no access token.
const TOKEN_REQUEST: &str = "req-token";

impl Sessions {
    fn new() -> Self {
        let data = tempfile::tempdir().expect("temporary directory");
        let recorder = Arc::new(RecordingStore {
            inner: EmbeddedStore::open(data.path()).expect("embedded store opens"),
            writes: Mutex::new(Vec::new()),
        });
        Self {
            store: recorder.clone(),
            recorder,
            clock: Arc::new(TestClock::new()),
            user: UserId::from(uuid::Uuid::now_v7()),
            _data: data,
        }
    }

    /// A sign-in's context: the user who just signed in is the actor.
    fn signed_in(user: &UserId) -> RequestContext {
        RequestContext {
            request_id: LOGIN_REQUEST.into(),
            principal: Some(Principal {
                user_id: user.clone(),
                role: Role::Customer,
            }),
        }
    }

    /// The context of a change by the system (an admin's disabling, say), which names no user.
    fn anonymous() -> RequestContext {
        RequestContext {
            request_id: TOKEN_REQUEST.into(),
            principal: None,
        }
    }

    /// The context of a refresh or a logout: the request carries no access token, but the
    /// handler loads the presented token's user and records the change as theirs.
    fn by_owner(token: &PresentedToken) -> RequestContext {
        RequestContext {
            request_id: TOKEN_REQUEST.into(),
            principal: Some(Principal {
                user_id: token.user_id().clone(),
                role: Role::Customer,
            }),
        }
    }

    /// The stored token `presented` names; an unknown one is refused as the handlers refuse it.
    async fn find(&self, presented: &str) -> Result<PresentedToken, DomainError> {
        find_refresh_token(&*self.store, presented)
            .await?
            .ok_or(DomainError::Unauthenticated)
    }

    async fn login(&self, user: &UserId) -> RefreshToken {
        let context = Self::signed_in(user);
        start_session(&*self.store, &*self.clock, &UuidV7Ids, &context, user)
            .await
            .expect("session starts")
    }

    async fn rotate(&self, token: &RefreshToken) -> Result<RefreshToken, DomainError> {
        self.rotate_text(token.expose_secret())
            .await
            .map(|(user, next)| {
                assert_eq!(user, self.user);
                next
            })
    }

    async fn rotate_text(&self, presented: &str) -> Result<(UserId, RefreshToken), DomainError> {
        let token = self.find(presented).await?;
        let context = Self::by_owner(&token);
        let next = rotate(&*self.store, &*self.clock, &UuidV7Ids, &context, &token).await?;
        Ok((token.user_id().clone(), next))
    }

    /// Logs out with `presented`; an unknown token is no error, as for the handler.
    async fn logout(&self, presented: &str) -> Result<(), DomainError> {
        let Some(token) = find_refresh_token(&*self.store, presented).await? else {
            return Ok(());
        };
        let context = Self::by_owner(&token);
        revoke(&*self.store, &*self.clock, &UuidV7Ids, &context, &token).await
    }

    async fn revoke_family(&self, family: &FamilyId) -> Result<bool, DomainError> {
        let context = Self::anonymous();
        let reason = RevocationReason::UserDisabled;
        revoke_family(
            &*self.store,
            &*self.clock,
            &UuidV7Ids,
            &context,
            family,
            reason,
        )
        .await
    }

    /// Sign-out everywhere after a password change, made by the user.
    async fn revoke_all_but(&self, keep: Option<&FamilyId>) -> Result<usize, DomainError> {
        let context = Self::signed_in(&self.user);
        let reason = RevocationReason::PasswordChanged;
        let (store, clock) = (&*self.store, &*self.clock);
        revoke_all_sessions_except(store, clock, &UuidV7Ids, &context, &self.user, keep, reason)
            .await
    }

    /// The audit entries of a session family, newest first.
    async fn history(&self, family: &FamilyId) -> Vec<AuditEntry> {
        let page = audit::list_entity_history(
            &*self.store,
            EntityKind::Session,
            family.as_str(),
            TimeRange::default(),
            PageLimit::default(),
            None,
        )
        .await
        .expect("history reads");
        assert!(page.next.is_none(), "one page holds these histories");
        page.entries
    }

    /// The hashes of every refresh token stored so far, as the store saw them.
    fn stored_token_hashes(&self) -> Vec<String> {
        let mut hashes: Vec<String> = self
            .recorder
            .writes()
            .iter()
            .filter(|write| write.committed)
            .flat_map(|write| write.operations.iter())
            .filter_map(WriteOp::key)
            .filter_map(|key| key.pk.strip_prefix("REFRESH#").map(str::to_owned))
            .collect();
        // A rotation writes the old token's item again, to retire it.
        hashes.sort();
        hashes.dedup();
        hashes
    }

    /// Whether a token would still be accepted, without spending it.
    async fn is_live(&self, token: &RefreshToken) -> bool {
        session_family(&*self.store, &*self.clock, token.expose_secret())
            .await
            .expect("store answers")
            .is_some()
    }
}

fn unauthenticated<T: std::fmt::Debug>(result: Result<T, DomainError>) -> bool {
    matches!(result, Err(DomainError::Unauthenticated))
}

#[tokio::test]
async fn rotation_issues_a_new_token_in_the_family_and_the_old_one_stops_working() {
    let sessions = Sessions::new();
    let first = sessions.login(&sessions.user).await;
    sessions.clock.advance(TimeDelta::days(1));
    let second = sessions.rotate(&first).await.expect("rotation succeeds");
    assert_ne!(second.expose_secret(), first.expose_secret());
    assert_eq!(second.family_id(), first.family_id());
    assert_eq!(
        second.expires_at(),
        sessions.clock.now() + REFRESH_TOKEN_LIFETIME
    );
    assert!(!sessions.is_live(&first).await);
    assert!(sessions.is_live(&second).await);
    let third = sessions
        .rotate(&second)
        .await
        .expect("the new token rotates");
    assert!(sessions.is_live(&third).await);
}

#[tokio::test]
async fn reusing_a_rotated_token_revokes_the_family_including_its_newest_token() {
    let sessions = Sessions::new();
    let stolen = sessions.login(&sessions.user).await;
    let owners = sessions.rotate(&stolen).await.expect("the owner rotates");
    let owners_next = sessions.rotate(&owners).await.expect("and again");

    assert!(unauthenticated(sessions.rotate(&stolen).await));
    assert!(unauthenticated(sessions.rotate(&owners_next).await));
    assert!(!sessions.is_live(&owners_next).await);

    let other_login = sessions.login(&sessions.user).await;
    assert!(
        sessions.rotate(&other_login).await.is_ok(),
        "another session of the same user is untouched"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_rotations_of_one_token_let_exactly_one_win() {
    let sessions = Arc::new(Sessions::new());
    let token = sessions.login(&sessions.user).await;
    let attempts: Vec<_> = (0..16)
        .map(|_| {
            let sessions = Arc::clone(&sessions);
            let token = token.clone();
            tokio::spawn(async move { sessions.rotate(&token).await })
        })
        .collect();
    let mut winners = Vec::new();
    for attempt in attempts {
        match attempt.await.expect("task completes") {
            Ok(next) => winners.push(next),
            Err(DomainError::Unauthenticated) => {}
            Err(other) => panic!("unexpected failure: {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one rotation succeeds");
    // Every loser presented an already-rotated token, which counts as reuse.
    assert!(unauthenticated(sessions.rotate(&winners[0]).await));
    // However many losers saw the reuse, the family was revoked, and recorded so, once.
    let history = sessions.history(token.family_id()).await;
    let afters: Vec<Value> = history
        .iter()
        .map(|entry| Value::Object(entry.after.clone()))
        .collect();
    assert_eq!(afters.len(), 3, "{afters:?}");
    assert_eq!(
        afters[0],
        json!({"revoked": true, "reason": "refresh token reused"})
    );
    assert!(afters[1].get("rotatedAt").is_some(), "{afters:?}");
    assert_eq!(afters[2], json!({"userId": sessions.user.as_str()}));
    assert_audited_in_transactions(&sessions);
}

#[tokio::test]
async fn logout_revokes_the_session_and_is_idempotent() {
    let sessions = Sessions::new();
    let token = sessions.login(&sessions.user).await;
    let current = sessions.rotate(&token).await.expect("rotation succeeds");
    sessions
        .logout(current.expose_secret())
        .await
        .expect("logout succeeds");
    assert!(unauthenticated(sessions.rotate(&current).await));
    sessions
        .logout(current.expose_secret())
        .await
        .expect("a second logout succeeds too");
    sessions
        .logout("not-a-token")
        .await
        .expect("an unknown token logs out nothing");
    sessions
        .logout(&"A".repeat(43))
        .await
        .expect("a well-formed but unknown token logs out nothing");
}

#[tokio::test]
async fn revoking_all_sessions_keeps_only_the_named_family() {
    let sessions = Sessions::new();
    let phone = sessions.login(&sessions.user).await;
    let laptop = sessions.login(&sessions.user).await;
    let tablet = sessions.login(&sessions.user).await;
    let someone_else = UserId::from(uuid::Uuid::now_v7());
    let theirs = sessions.login(&someone_else).await;

    let revoked = sessions
        .revoke_all_but(Some(laptop.family_id()))
        .await
        .expect("revocation succeeds");
    assert_eq!(revoked, 2);
    assert!(unauthenticated(sessions.rotate(&phone).await));
    assert!(unauthenticated(sessions.rotate(&tablet).await));
    assert!(sessions.rotate(&laptop).await.is_ok());
    assert!(sessions.is_live(&theirs).await, "other users keep theirs");

    let revoked = sessions
        .revoke_all_but(None)
        .await
        .expect("revocation succeeds");
    assert_eq!(revoked, 1, "only the laptop's family was still live");
}

#[tokio::test]
async fn revoking_a_family_by_id_ends_its_tokens_and_unknown_ids_are_fine() {
    let sessions = Sessions::new();
    let token = sessions.login(&sessions.user).await;
    let revoked = sessions
        .revoke_family(token.family_id())
        .await
        .expect("revocation succeeds");
    assert!(revoked);
    assert!(unauthenticated(sessions.rotate(&token).await));
    let again = sessions
        .revoke_family(token.family_id())
        .await
        .expect("revoking again succeeds");
    assert!(!again, "a revoked family is not revoked twice");
    let unknown = FamilyId::from(uuid::Uuid::now_v7());
    let revoked = sessions
        .revoke_family(&unknown)
        .await
        .expect("an unknown family is nothing to revoke");
    assert!(!revoked);
}

#[tokio::test]
async fn an_expired_refresh_token_fails_even_before_ttl_removes_it() {
    let sessions = Sessions::new();
    let token = sessions.login(&sessions.user).await;
    sessions
        .clock
        .advance(REFRESH_TOKEN_LIFETIME - TimeDelta::seconds(1));
    let renewed = sessions.rotate(&token).await.expect("still valid");
    sessions.clock.advance(REFRESH_TOKEN_LIFETIME);
    assert!(unauthenticated(sessions.rotate(&renewed).await));
}

#[tokio::test]
async fn garbage_and_unknown_refresh_tokens_are_unauthenticated() {
    let sessions = Sessions::new();
    for presented in ["", "garbage", &"A".repeat(43)] {
        assert!(unauthenticated(sessions.rotate_text(presented).await));
    }
}

/// Every committed write to a session family went in one transaction with exactly one audit
/// entry, of that family; no token was written without its family; nothing was written outside
/// a transaction.
fn assert_audited_in_transactions(sessions: &Sessions) {
    for write in sessions.recorder.writes() {
        assert!(write.transaction, "a single write: {:?}", write.operations);
        if !write.committed {
            continue;
        }
        let keys: Vec<Key> = write.operations.iter().filter_map(WriteOp::key).collect();
        let families: Vec<&str> = keys
            .iter()
            .filter_map(|key| key.pk.strip_prefix("SESSION#"))
            .collect();
        let entries: Vec<&str> = keys
            .iter()
            .filter_map(|key| key.pk.strip_prefix("AUDIT#session#"))
            .collect();
        assert_eq!(families.len(), 1, "one family per write: {keys:?}");
        assert_eq!(entries, families, "its audit entry goes with it: {keys:?}");
    }
}

/// Neither the tokens handed out nor the hashes stored appear in any audit entry, as written or
/// as read back.
fn assert_no_secrets(sessions: &Sessions, tokens: &[&RefreshToken], entries: &[AuditEntry]) {
    let hashes = sessions.stored_token_hashes();
    assert_eq!(hashes.len(), tokens.len(), "one stored hash per token");
    let written: Vec<Value> = sessions
        .recorder
        .writes()
        .iter()
        .flat_map(|write| write.operations.clone())
        .filter_map(|operation| match operation {
            WriteOp::Put(put) if put.item["pk"].as_str().unwrap().starts_with("AUDIT#") => {
                Some(Value::Object(put.item))
            }
            _ => None,
        })
        .collect();
    assert!(!written.is_empty());
    let texts = [
        json!(written).to_string(),
        serde_json::to_string(entries).expect("entries serialize"),
    ];
    for text in texts {
        for token in tokens {
            assert!(!text.contains(token.expose_secret()), "a token in {text}");
        }
        for hash in &hashes {
            assert!(!text.contains(hash.as_str()), "a token hash in {text}");
        }
    }
}

fn time(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("valid time")
        .to_utc()
}

#[tokio::test]
async fn login_rotation_and_logout_each_record_their_session_entry() {
    let sessions = Sessions::new();
    let first = sessions.login(&sessions.user).await;
    let family = first.family_id().clone();
    sessions.clock.advance(TimeDelta::days(1));
    let second = sessions.rotate(&first).await.expect("rotation succeeds");
    sessions.clock.advance(TimeDelta::hours(1));
    sessions
        .logout(second.expose_secret())
        .await
        .expect("logout succeeds");

    let history = sessions.history(&family).await;
    assert_eq!(history.len(), 3, "{history:#?}");
    let (logout, rotation, login) = (&history[0], &history[1], &history[2]);
    for entry in &history {
        assert_eq!(entry.entity_type, EntityKind::Session);
        assert_eq!(entry.entity_id, family.as_str());
    }

    assert_eq!(login.action, audit::Action::Create);
    assert_eq!(login.actor, format!("user:{}", sessions.user));
    assert_eq!(login.request_id, LOGIN_REQUEST);
    assert_eq!(login.at, time("2026-11-21T08:00:00Z"));
    assert!(login.before.is_empty());
    assert_eq!(
        Value::Object(login.after.clone()),
        json!({"userId": sessions.user.as_str()})
    );

    assert_eq!(rotation.action, audit::Action::Update);
    assert_eq!(
        rotation.actor,
        format!("user:{}", sessions.user),
        "a refresh carries no access token, yet it is the token's user's"
    );
    assert_eq!(rotation.request_id, TOKEN_REQUEST);
    assert_eq!(rotation.at, time("2026-11-22T08:00:00Z"));
    assert_eq!(
        Value::Object(rotation.before.clone()),
        json!({"expiresAt": first.expires_at().timestamp()})
    );
    assert_eq!(
        Value::Object(rotation.after.clone()),
        json!({
            "expiresAt": second.expires_at().timestamp(),
            "rotatedAt": "2026-11-22T08:00:00.000Z",
        })
    );

    assert_eq!(logout.action, audit::Action::Update);
    assert_eq!(logout.actor, format!("user:{}", sessions.user));
    assert_eq!(logout.request_id, TOKEN_REQUEST);
    assert_eq!(logout.at, time("2026-11-22T09:00:00Z"));
    assert_eq!(
        Value::Object(logout.before.clone()),
        json!({"revoked": false})
    );
    assert_eq!(
        Value::Object(logout.after.clone()),
        json!({"revoked": true, "reason": "logout"})
    );

    sessions
        .logout(second.expose_secret())
        .await
        .expect("a second logout succeeds");
    assert_eq!(
        sessions.history(&family).await.len(),
        3,
        "a second logout changes nothing and records nothing"
    );
    let activity = audit::list_actor_history(
        &*sessions.store,
        &Actor::User(sessions.user.clone()),
        TimeRange::default(),
        PageLimit::default(),
        None,
    )
    .await
    .expect("activity reads");
    assert_eq!(
        activity.entries, history,
        "the sign-in, the refresh and the logout are all the user's"
    );
    assert_audited_in_transactions(&sessions);
    assert_no_secrets(&sessions, &[&first, &second], &history);
}

#[tokio::test]
async fn reuse_records_the_revocation_and_its_reason_once() {
    let sessions = Sessions::new();
    let stolen = sessions.login(&sessions.user).await;
    let family = stolen.family_id().clone();
    let owners = sessions.rotate(&stolen).await.expect("the owner rotates");

    assert!(unauthenticated(sessions.rotate(&stolen).await));
    let history = sessions.history(&family).await;
    let actions: Vec<_> = history.iter().map(|entry| entry.action).collect();
    assert_eq!(
        actions,
        [
            audit::Action::Update,
            audit::Action::Update,
            audit::Action::Create
        ]
    );
    assert_eq!(
        Value::Object(history[0].after.clone()),
        json!({"revoked": true, "reason": "refresh token reused"})
    );
    assert_eq!(history[0].request_id, TOKEN_REQUEST);
    assert_eq!(
        history[0].actor,
        format!("user:{}", sessions.user),
        "the revocation for reuse is in the user's activity"
    );

    // The family is already revoked: presenting either token again changes nothing more.
    assert!(unauthenticated(sessions.rotate(&stolen).await));
    assert!(unauthenticated(sessions.rotate(&owners).await));
    assert_eq!(sessions.history(&family).await, history);
    assert_audited_in_transactions(&sessions);
    assert_no_secrets(&sessions, &[&stolen, &owners], &history);
}

#[tokio::test]
async fn a_refused_rotation_writes_nothing() {
    let sessions = Sessions::new();
    let token = sessions.login(&sessions.user).await;
    let written = sessions.recorder.writes().len();

    for presented in ["", "garbage", &"A".repeat(43)] {
        assert!(unauthenticated(sessions.rotate_text(presented).await));
    }
    sessions.clock.advance(REFRESH_TOKEN_LIFETIME);
    assert!(
        unauthenticated(sessions.rotate(&token).await),
        "an expired token is refused"
    );

    assert_eq!(
        sessions.recorder.writes().len(),
        written,
        "no write was even attempted"
    );
    let history = sessions.history(token.family_id()).await;
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].action, audit::Action::Create);
    let anonymous = audit::list_actor_history(
        &*sessions.store,
        &Actor::System,
        TimeRange::default(),
        PageLimit::default(),
        None,
    )
    .await
    .expect("activity reads");
    assert!(anonymous.entries.is_empty(), "{:?}", anonymous.entries);
}

#[tokio::test]
async fn signing_out_everywhere_records_each_revoked_session_with_its_reason() {
    let sessions = Sessions::new();
    let phone = sessions.login(&sessions.user).await;
    let laptop = sessions.login(&sessions.user).await;

    let revoked = sessions
        .revoke_all_but(Some(laptop.family_id()))
        .await
        .expect("revocation succeeds");
    assert_eq!(revoked, 1);
    let phone_history = sessions.history(phone.family_id()).await;
    assert_eq!(phone_history.len(), 2);
    assert_eq!(phone_history[0].actor, format!("user:{}", sessions.user));
    assert_eq!(
        Value::Object(phone_history[0].after.clone()),
        json!({"revoked": true, "reason": "password changed"})
    );
    assert_eq!(
        sessions.history(laptop.family_id()).await.len(),
        1,
        "the kept session records nothing"
    );

    let revoked = sessions
        .revoke_all_but(None)
        .await
        .expect("revocation succeeds");
    assert_eq!(revoked, 1);
    assert_eq!(sessions.history(laptop.family_id()).await.len(), 2);
    assert_eq!(
        sessions.history(phone.family_id()).await,
        phone_history,
        "an already revoked session records nothing more"
    );
    assert_audited_in_transactions(&sessions);
}

#[tokio::test]
async fn a_secure_parameter_is_read_back_decrypted_from_ssm() {
    let endpoint = std::env::var("ITINERA_TEST_DYNAMODB_ENDPOINT").unwrap_or_else(|_| {
        panic!(
            "ITINERA_TEST_DYNAMODB_ENDPOINT is not set: start moto with ./infra/test.sh (moto \
             serves SSM on the same port)"
        )
    });
    let client = itinera_aws::ssm::build_local_client(&endpoint);
    let name = format!("/itinera-test/{}/jwt-private-key", uuid::Uuid::new_v4());
    let value = "-----BEGIN PRIVATE KEY-----\nsecret material\n-----END PRIVATE KEY-----\n";
    // Written with the SSM SDK client, read back with the functions' own signed call.
    ssm_sdk_client(&endpoint)
        .put_parameter()
        .name(&name)
        .value(value)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .expect("moto stores the parameter");

    let read = itinera_aws::ssm::read_secure_parameter(&client, &name)
        .await
        .expect("the parameter is read");
    assert_eq!(read, value);

    let missing = itinera_aws::ssm::read_secure_parameter(&client, &format!("{name}-missing"))
        .await
        .expect_err("no such parameter");
    assert!(
        matches!(missing, itinera_aws::ssm::SsmError::NotFound { .. }),
        "{missing:?}"
    );
    assert!(missing.to_string().contains(&format!("{name}-missing")));
}

/// The SSM SDK client for moto at `endpoint`, to write the parameters the functions read.
fn ssm_sdk_client(endpoint: &str) -> aws_sdk_ssm::Client {
    use aws_sdk_ssm::config::{BehaviorVersion, Builder, Credentials, Region};
    let credentials = Credentials::new("itinera-local", "itinera-local", None, None, "tests");
    aws_sdk_ssm::Client::from_conf(
        Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(credentials)
            .endpoint_url(endpoint)
            .build(),
    )
}
