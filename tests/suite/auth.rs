//! Refresh sessions on the embedded store (rotation, reuse detection, races, logout, sign-out
//! everywhere, expiry) and the SSM read of the token keys against moto.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};
use itinera::auth::{
    FamilyId, REFRESH_TOKEN_LIFETIME, RefreshToken, revoke, revoke_all_sessions_except,
    revoke_family, rotate, session_family, start_session,
};
use itinera::clock::{Clock, UuidV7Ids};
use itinera::error::DomainError;
use itinera::identity::UserId;
use itinera::storage::Store;
use itinera_embedded::EmbeddedStore;
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

/// A fresh embedded store, a movable clock and a user, removed when dropped.
struct Sessions {
    store: Arc<dyn Store>,
    clock: Arc<TestClock>,
    user: UserId,
    _data: TempDir,
}

impl Sessions {
    fn new() -> Self {
        let data = tempfile::tempdir().expect("temporary directory");
        let store: Arc<dyn Store> =
            Arc::new(EmbeddedStore::open(data.path()).expect("embedded store opens"));
        Self {
            store,
            clock: Arc::new(TestClock::new()),
            user: UserId::from(uuid::Uuid::now_v7()),
            _data: data,
        }
    }

    async fn login(&self, user: &UserId) -> RefreshToken {
        start_session(&*self.store, &*self.clock, &UuidV7Ids, user)
            .await
            .expect("session starts")
    }

    async fn rotate(&self, token: &RefreshToken) -> Result<RefreshToken, DomainError> {
        rotate(&*self.store, &*self.clock, token.expose_secret())
            .await
            .map(|(user, next)| {
                assert_eq!(user, self.user);
                next
            })
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
}

#[tokio::test]
async fn logout_revokes_the_session_and_is_idempotent() {
    let sessions = Sessions::new();
    let token = sessions.login(&sessions.user).await;
    let current = sessions.rotate(&token).await.expect("rotation succeeds");
    revoke(&*sessions.store, current.expose_secret())
        .await
        .expect("logout succeeds");
    assert!(unauthenticated(sessions.rotate(&current).await));
    revoke(&*sessions.store, current.expose_secret())
        .await
        .expect("a second logout succeeds too");
    revoke(&*sessions.store, "not-a-token")
        .await
        .expect("an unknown token logs out nothing");
    revoke(&*sessions.store, &"A".repeat(43))
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

    let revoked =
        revoke_all_sessions_except(&*sessions.store, &sessions.user, Some(laptop.family_id()))
            .await
            .expect("revocation succeeds");
    assert_eq!(revoked, 2);
    assert!(unauthenticated(sessions.rotate(&phone).await));
    assert!(unauthenticated(sessions.rotate(&tablet).await));
    assert!(sessions.rotate(&laptop).await.is_ok());
    assert!(sessions.is_live(&theirs).await, "other users keep theirs");

    let revoked = revoke_all_sessions_except(&*sessions.store, &sessions.user, None)
        .await
        .expect("revocation succeeds");
    assert_eq!(revoked, 1, "only the laptop's family was still live");
}

#[tokio::test]
async fn revoking_a_family_by_id_ends_its_tokens_and_unknown_ids_are_fine() {
    let sessions = Sessions::new();
    let token = sessions.login(&sessions.user).await;
    revoke_family(&*sessions.store, token.family_id())
        .await
        .expect("revocation succeeds");
    assert!(unauthenticated(sessions.rotate(&token).await));
    let unknown = FamilyId::from(uuid::Uuid::now_v7());
    revoke_family(&*sessions.store, &unknown)
        .await
        .expect("an unknown family is nothing to revoke");
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
        assert!(unauthenticated(
            rotate(&*sessions.store, &*sessions.clock, presented).await
        ));
    }
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
    client
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
