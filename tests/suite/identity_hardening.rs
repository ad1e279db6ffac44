//! Sign-in hardening, over HTTP through the router on both store families (the embedded store and
//! DynamoDB on moto): a password change or an admin write decides on the stored user, not on the
//! presented token; the per-account sign-in budget counts failures of one account however it is
//! named; a wrong current password counts like a wrong login; anonymous routes ignore a bad
//! token on both front ends; and session changes show in the activity feed of their user.

use std::sync::Arc;

use chrono::{TimeDelta, Utc};
use http::StatusCode;
use itinera::accounts::{AdminChanges, admin_update_user, get_user};
use itinera::clock::{SystemClock, UuidV7Ids};
use itinera::identity::{Principal, RequestContext, Role, UserId};
use itinera::ratelimit::RateLimitConfig;
use itinera::storage::Store;
use itinera::version::Precondition;
use itinera_embedded::EmbeddedStore;
use itinera_functions::{Target, handle_event};
use itinera_http::{Access, Api, ROUTES, Route};
use itinera_tests::faults::{Call, Fault, FaultKind, FaultyStore, InterferingStore};
use itinera_tests::{
    TEST_PASSWORD, TestRequest, TestResponse, api_over_with, login_request, plausible_request,
    principal, register_customer, send, sign_in, stored_admin, token_issuer, token_verifier,
};
use lambda_http::Body;
use lambda_http::request::LambdaRequest;
use serde_json::{Value, json};
use tempfile::TempDir;

const PASSWORD: &str = TEST_PASSWORD;
const NEW_PASSWORD: &str = "another long passphrase";

/// Runs each named scenario once per store family: `<name>::embedded` and `<name>::dynamodb`.
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn embedded() {
                    let (store, _data) = super::embedded();
                    super::$name(store).await;
                }

                #[tokio::test]
                async fn dynamodb() {
                    super::$name(itinera_tests::fresh_dynamodb_store().await).await;
                }
            }
        )*
    };
}

on_both_stores!(
    a_disabled_user_cannot_renew_their_tokens_by_changing_their_password,
    a_password_change_signs_its_tokens_with_the_stored_role,
    a_demoted_admin_whose_token_still_says_admin_cannot_change_users,
    an_admin_demoted_between_the_check_and_the_commit_changes_nothing,
    an_admin_changing_their_own_role_or_disabling_themselves_is_a_conflict,
    the_twenty_first_correct_login_in_a_window_is_admitted,
    email_and_username_share_one_account_budget,
    a_sign_in_whose_account_cannot_be_resolved_is_refused_with_503,
    wrong_current_passwords_count_in_the_auth_tiers_like_failed_logins,
    anonymous_routes_answer_the_same_with_an_invalid_token_as_without_one,
    refresh_reuse_and_logout_show_in_the_users_activity_feed,
);

fn embedded() -> (Arc<dyn Store>, TempDir) {
    let data = tempfile::tempdir().expect("temporary directory");
    let store = EmbeddedStore::open(data.path()).expect("embedded store opens");
    (Arc::new(store), data)
}

/// An API over `store` with the default rate limits.
fn app(store: &Arc<dyn Store>) -> Api {
    app_with(store, RateLimitConfig::default())
}

fn app_with(store: &Arc<dyn Store>, limits: RateLimitConfig) -> Api {
    api_over_with(Arc::clone(store), Arc::new(UuidV7Ids), limits)
}

/// Limits loose enough that only the tier a test is about can refuse.
fn loose_limits() -> RateLimitConfig {
    RateLimitConfig {
        global_max: 10_000,
        write_max: 10_000,
        auth_max: 10_000,
        account_max: 10_000,
        ..RateLimitConfig::default()
    }
}

fn text(value: &Value) -> &str {
    value.as_str().expect("a string")
}

/// Sends `request` and checks that it is answered with `status`; `what` names it in a failure.
async fn answers(api: &Api, request: TestRequest, status: StatusCode, what: &str) -> TestResponse {
    let response = send(api, request).await;
    assert_eq!(response.status, status, "{what}: {:?}", response.json());
    response
}

/// An anonymous request presenting `token` (a refresh token) to `path`.
fn presenting(path: &str, token: &Value) -> TestRequest {
    TestRequest::post(path)
        .anonymous()
        .json(&json!({"refreshToken": token}))
}

/// Signs the stored admin in (by email) and answers their access token.
async fn admin_access_token(api: &Api) -> String {
    let login = login_request(&json!({"email": "root@example.com", "password": PASSWORD}));
    let session = answers(api, login, StatusCode::OK, "the admin signs in").await;
    text(&session.json()["data"]["accessToken"]).to_owned()
}

/// The principal an access token names.
fn claims(access_token: &str) -> Principal {
    token_verifier()
        .verify(access_token, Utc::now())
        .expect("a valid access token")
}

/// Changes a user's role or disabled flag as the system (operations tooling), not over HTTP.
async fn set_user(store: &Arc<dyn Store>, id: &UserId, role: Option<Role>, disabled: Option<bool>) {
    let system = RequestContext {
        request_id: uuid::Uuid::new_v4().to_string(),
        principal: None,
    };
    admin_update_user(
        &**store,
        &SystemClock,
        &UuidV7Ids,
        &system,
        id,
        &AdminChanges::new(role, disabled).expect("a change"),
        &Precondition::None,
    )
    .await
    .expect("the system changes the user");
}

fn change_password(access: &str, current: &str) -> TestRequest {
    TestRequest::post("/v1/users/me/password")
        .bearer(access)
        .json(&json!({"currentPassword": current, "newPassword": NEW_PASSWORD}))
}

async fn a_disabled_user_cannot_renew_their_tokens_by_changing_their_password(
    store: Arc<dyn Store>,
) {
    let api = app(&store);
    let id = register_customer(&api, "dora").await;
    let tokens = sign_in(&api, "dora", PASSWORD).await;
    set_user(&store, &id, None, Some(true)).await;
    let before = get_user(&*store, &id).await.unwrap();

    // New password = old password would do for an attacker too: any renewal must be refused.
    let renewal = send(
        &api,
        change_password(text(&tokens["accessToken"]), PASSWORD),
    )
    .await;
    renewal.assert_status(StatusCode::UNAUTHORIZED);
    assert!(renewal.json()["data"].is_null(), "no tokens were issued");
    assert_eq!(
        get_user(&*store, &id).await.unwrap(),
        before,
        "nothing changed"
    );
}

async fn a_password_change_signs_its_tokens_with_the_stored_role(store: Arc<dyn Store>) {
    let api = app(&store);
    let id = register_customer(&api, "stan").await;
    set_user(&store, &id, Some(Role::Staff), None).await;
    let tokens = sign_in(&api, "stan", PASSWORD).await;
    assert_eq!(claims(text(&tokens["accessToken"])).role, Role::Staff);
    // Demoted while the staff token is still valid.
    set_user(&store, &id, Some(Role::Customer), None).await;

    let changed = send(
        &api,
        change_password(text(&tokens["accessToken"]), PASSWORD),
    )
    .await;
    changed.assert_status(StatusCode::OK);
    let fresh = changed.json()["data"].clone();
    let principal = claims(text(&fresh["accessToken"]));
    assert_eq!(principal.user_id, id);
    assert_eq!(
        principal.role,
        Role::Customer,
        "the role stored now, not the token's"
    );
    let refresh = presenting("/v1/auth/refresh", &fresh["refreshToken"]);
    let refreshed = answers(&api, refresh, StatusCode::OK, "refresh").await;
    assert_eq!(
        claims(text(&refreshed.json()["data"]["accessToken"])).role,
        Role::Customer
    );
}

async fn a_demoted_admin_whose_token_still_says_admin_cannot_change_users(store: Arc<dyn Store>) {
    let api = app(&store);
    let admin = stored_admin(&*store).await;
    let victim = register_customer(&api, "vera").await;
    let access = admin_access_token(&api).await;
    assert_eq!(claims(&access).role, Role::Admin);
    set_user(&store, &admin.id, Some(Role::Staff), None).await;
    let before = get_user(&*store, &victim).await.unwrap();

    // Demoted since the token was issued; and a token-only admin that is no user at all.
    let forged = itinera_tests::token_of(&principal(Role::Admin));
    for (token, change) in [
        (access, json!({"role": "admin"})),
        (forged, json!({"disabled": true})),
    ] {
        let write = TestRequest::patch(format!("/v1/users/{victim}"))
            .bearer(&token)
            .json(&change);
        answers(&api, write, StatusCode::FORBIDDEN, &change.to_string()).await;
        assert_eq!(get_user(&*store, &victim).await.unwrap(), before);
    }
}

async fn an_admin_demoted_between_the_check_and_the_commit_changes_nothing(store: Arc<dyn Store>) {
    let admin = stored_admin(&*store).await;
    let victim = register_customer(&app(&store), "nina").await;
    let before = get_user(&*store, &victim).await.unwrap();
    // Another admin's demotion of this one commits between the admin write's read of its caller
    // and its own commit (as the system, on the store underneath).
    let demoted = admin.id.clone();
    let racing: Arc<dyn Store> = Arc::new(InterferingStore::before_transaction_touching(
        Arc::clone(&store),
        format!("USER#{victim}"),
        move |inner| async move { set_user(&inner, &demoted, Some(Role::Staff), None).await },
    ));
    let api = app(&racing);
    let token = itinera_tests::token_of(&itinera_tests::principal_of(&admin));

    let demote = send(
        &api,
        TestRequest::patch(format!("/v1/users/{victim}"))
            .bearer(&token)
            .json(&json!({"disabled": true})),
    )
    .await;
    demote.assert_status(StatusCode::FORBIDDEN);
    assert_eq!(
        get_user(&*store, &victim).await.unwrap(),
        before,
        "the write lost to the demotion and changed nothing"
    );
    assert_eq!(
        get_user(&*store, &admin.id).await.unwrap().role,
        Role::Staff
    );
}

async fn an_admin_changing_their_own_role_or_disabling_themselves_is_a_conflict(
    store: Arc<dyn Store>,
) {
    let api = app(&store);
    let admin = stored_admin(&*store).await;
    let access = admin_access_token(&api).await;
    for change in [json!({"role": "staff"}), json!({"disabled": true})] {
        let response = send(
            &api,
            TestRequest::patch(format!("/v1/users/{}", admin.id))
                .bearer(&access)
                .json(&change),
        )
        .await;
        assert_eq!(
            response.status,
            StatusCode::CONFLICT,
            "{change}: {:?}",
            response.json()
        );
    }
    let unchanged = get_user(&*store, &admin.id).await.unwrap();
    assert_eq!(
        (unchanged.role, unchanged.disabled, unchanged.version),
        (Role::Admin, false, admin.version)
    );
}

async fn the_twenty_first_correct_login_in_a_window_is_admitted(store: Arc<dyn Store>) {
    let api = app(&store);
    register_customer(&api, "gina").await;
    let per_account = RateLimitConfig::default().account_max;
    for attempt in 1..=per_account + 2 {
        let login = login_request(&json!({"username": "gina", "password": PASSWORD}));
        let what = format!("correct login number {attempt}");
        answers(&api, login, StatusCode::OK, &what).await;
    }
}

async fn email_and_username_share_one_account_budget(store: Arc<dyn Store>) {
    let limits = RateLimitConfig {
        account_max: 4,
        ..loose_limits()
    };
    let api = app_with(&store, limits);
    register_customer(&api, "ann").await;
    // Four guesses from four addresses, by email (in any case) and by username.
    let names = [
        json!({"email": "ann@example.com"}),
        json!({"username": "ann"}),
        json!({"email": " Ann@Example.COM"}),
        json!({"username": "ANN"}),
    ];
    for (index, mut name) in names.into_iter().enumerate() {
        name["password"] = json!("not the password");
        let guess = login_request(&name).from_ip(&format!("198.51.100.{}", index + 1));
        answers(&api, guess, StatusCode::UNAUTHORIZED, &name.to_string()).await;
    }
    for mut name in [
        json!({"username": "ann"}),
        json!({"email": "ann@example.com"}),
    ] {
        name["password"] = json!(PASSWORD);
        let owner = login_request(&name).from_ip("198.51.100.99");
        let what = format!("{name}: one account, one budget");
        answers(&api, owner, StatusCode::TOO_MANY_REQUESTS, &what).await;
    }
}

async fn a_sign_in_whose_account_cannot_be_resolved_is_refused_with_503(store: Arc<dyn Store>) {
    register_customer(&app(&store), "otto").await;
    let faulty = Arc::new(FaultyStore::new(Arc::clone(&store)));
    // The reservation read that resolves the account, not the sign-in's own (the same key, later).
    faulty.inject(
        Fault::on(Call::Get)
            .touching("USERNAME#")
            .with(FaultKind::Unavailable)
            .times(1),
    );
    let api = app(&(faulty.clone() as Arc<dyn Store>));
    let login = login_request(&json!({"username": "otto", "password": PASSWORD}));
    let refused = answers(&api, login, StatusCode::SERVICE_UNAVAILABLE, "fails closed").await;
    assert_eq!(refused.header("retry-after"), Some("5"));
    assert_eq!(faulty.injected(), 1);
    // Once the store answers, the same sign-in goes through: nothing was counted against it.
    sign_in(&api, "otto", PASSWORD).await;
}

async fn wrong_current_passwords_count_in_the_auth_tiers_like_failed_logins(store: Arc<dyn Store>) {
    let limits = RateLimitConfig {
        auth_max: 5,
        account_max: 7,
        ..loose_limits()
    };
    let api = app_with(&store, limits);
    register_customer(&api, "carl").await;
    let tokens = sign_in(&api, "carl", PASSWORD).await;
    let access = text(&tokens["accessToken"]).to_owned();
    let guessing_ip = "203.0.113.50";
    for guess in 1..=5 {
        let response = send(
            &api,
            change_password(&access, &format!("guess number {guess}")).from_ip(guessing_ip),
        )
        .await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "guess {guess}");
        assert_eq!(
            response.header("x-ratelimit-remaining"),
            Some((5 - guess).to_string().as_str()),
            "guess {guess} counts in the per-client auth tier"
        );
    }
    // The client's budget is spent: even the right password is not tried.
    let sixth = send(
        &api,
        change_password(&access, PASSWORD).from_ip(guessing_ip),
    )
    .await;
    assert_eq!(sixth.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(sixth.header("retry-after").is_some());

    // The account's budget (7) holds the five guesses too: two failed logins elsewhere fill it.
    for ip in ["198.51.100.1", "198.51.100.2"] {
        let response = send(
            &api,
            login_request(&json!({"username": "carl", "password": "wrong"})).from_ip(ip),
        )
        .await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{ip}");
    }
    let locked = send(
        &api,
        login_request(&json!({"username": "carl", "password": PASSWORD})).from_ip("198.51.100.3"),
    )
    .await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    // The password never changed.
    login_with_fresh_limits(&store, "carl", PASSWORD).await;
}

/// Signs in through a second API over the same store whose account budget is untouched.
async fn login_with_fresh_limits(store: &Arc<dyn Store>, username: &str, password: &str) {
    let limits = RateLimitConfig {
        window_ms: 1_000,
        ..loose_limits()
    };
    sign_in(&app_with(store, limits), username, password).await;
}

/// Tokens a client may still send by mistake: one that expired, and one that was never valid.
fn invalid_tokens() -> Vec<String> {
    let someone = principal(Role::Customer);
    let expired = token_issuer()
        .issue(&someone, Utc::now() - TimeDelta::days(1))
        .token;
    vec![expired, "not.a.token".to_owned()]
}

fn status_and_type(response: &TestResponse) -> (StatusCode, Value) {
    let body = response.json();
    (
        response.status,
        body.get("type").cloned().unwrap_or(Value::Null),
    )
}

async fn anonymous_routes_answer_the_same_with_an_invalid_token_as_without_one(
    store: Arc<dyn Store>,
) {
    let api = app_with(&store, loose_limits());
    let anonymous: Vec<&Route> = ROUTES
        .iter()
        .copied()
        .filter(|route| route.access == Access::Anonymous)
        .collect();
    assert!(
        anonymous.len() >= 5,
        "health, register, login, refresh, search"
    );
    for route in anonymous {
        let without = status_and_type(&send(&api, plausible_request(route).anonymous()).await);
        assert_ne!(
            without.0,
            StatusCode::UNAUTHORIZED,
            "{} {}",
            route.method,
            route.path
        );
        for token in invalid_tokens() {
            let with = send(&api, plausible_request(route).bearer(&token)).await;
            assert_eq!(
                status_and_type(&with),
                without,
                "{} {} with an invalid token",
                route.method,
                route.path
            );
        }
    }
    // And a real sign-in goes through with a stale token left in the header.
    register_customer(&api, "olga").await;
    for token in invalid_tokens() {
        let response = send(
            &api,
            TestRequest::post("/v1/auth/login")
                .bearer(&token)
                .json(&json!({"username": "olga", "password": PASSWORD})),
        )
        .await;
        response.assert_status(StatusCode::OK);
    }
}

/// `events/<function>.json` with `Authorization: Bearer <token>` added, as `lambda_http` hands
/// it to the function.
fn lambda_event(function: &str, token: &str, body: Option<&Value>) -> lambda_http::Request {
    let path = format!("{}/../events/{function}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"));
    let mut event: Value = serde_json::from_str(&text).expect("a JSON event");
    let bearer = format!("Bearer {token}");
    event["headers"]["Authorization"] = json!(bearer);
    event["multiValueHeaders"]["Authorization"] = json!([bearer]);
    if let Some(body) = body {
        event["body"] = Value::String(body.to_string());
    }
    let request: LambdaRequest = serde_json::from_value(event).expect("an API Gateway event");
    request.into()
}

async fn run_lambda(api: &Api, function: &str, event: lambda_http::Request) -> (u16, Value) {
    let target = Target::of(function).expect("a route function");
    let response = handle_event(api, target, event).await;
    let body = match response.body() {
        Body::Text(text) => serde_json::from_str(text).expect("a JSON body"),
        Body::Empty => Value::Null,
        other => panic!("{function}: unexpected body {other:?}"),
    };
    (response.status().as_u16(), body)
}

#[tokio::test]
async fn anonymous_lambda_functions_ignore_an_invalid_token_too() {
    let (store, _data) = embedded();
    let api = app_with(&store, loose_limits());
    let register_body = json!({
        "email": "lara@example.com",
        "username": "lara",
        "password": PASSWORD,
        "name": "Lara",
    });
    let login_body = json!({"username": "lara", "password": PASSWORD});
    for (index, token) in invalid_tokens().iter().enumerate() {
        let (status, body) = run_lambda(&api, "health", lambda_event("health", token, None)).await;
        assert_eq!(status, 200, "{body}");
        if index == 0 {
            let event = lambda_event("register", token, Some(&register_body));
            let (status, body) = run_lambda(&api, "register", event).await;
            assert_eq!(status, 201, "{body}");
        }
        let event = lambda_event("login", token, Some(&login_body));
        let (status, body) = run_lambda(&api, "login", event).await;
        assert_eq!(status, 200, "{body}");
        let refresh = json!({"refreshToken": body["data"]["refreshToken"]});
        let event = lambda_event("refresh", token, Some(&refresh));
        let (status, body) = run_lambda(&api, "refresh", event).await;
        assert_eq!(status, 200, "{body}");
    }
}

/// The session entries of the caller's activity feed, oldest first.
async fn session_activity(api: &Api, access: &str) -> Vec<Value> {
    let response = send(
        api,
        TestRequest::get("/v1/users/me/activity?limit=100").bearer(access),
    )
    .await;
    response.assert_status(StatusCode::OK);
    let mut entries: Vec<Value> = response.json()["data"]
        .as_array()
        .expect("a page")
        .iter()
        .filter(|entry| entry["entityType"] == "session")
        .cloned()
        .collect();
    entries.sort_by(|a, b| text(&a["at"]).cmp(text(&b["at"])));
    entries
}

async fn refresh_reuse_and_logout_show_in_the_users_activity_feed(store: Arc<dyn Store>) {
    let api = app_with(&store, loose_limits());
    let id = register_customer(&api, "rita").await;
    let first = sign_in(&api, "rita", PASSWORD).await;
    let refresh = || presenting("/v1/auth/refresh", &first["refreshToken"]);
    answers(&api, refresh(), StatusCode::OK, "rotation").await;
    answers(&api, refresh(), StatusCode::UNAUTHORIZED, "reuse").await;
    let second = sign_in(&api, "rita", PASSWORD).await;
    let logout = presenting("/v1/auth/logout", &second["refreshToken"]);
    answers(&api, logout, StatusCode::NO_CONTENT, "logout").await;

    let third = sign_in(&api, "rita", PASSWORD).await;
    let entries = session_activity(&api, text(&third["accessToken"])).await;
    let actor = format!("user:{id}");
    assert!(entries.iter().all(|entry| entry["actor"] == actor.as_str()));
    let first_family = text(&entries[0]["entityId"]).to_owned();
    let updates: Vec<&Value> = entries
        .iter()
        .filter(|entry| entry["action"] == "update")
        .collect();
    let rotation = updates
        .iter()
        .find(|entry| entry["after"].get("rotatedAt").is_some())
        .expect("the refresh is in the feed");
    assert_eq!(rotation["entityId"], first_family.as_str());
    let reasons: Vec<&str> = updates
        .iter()
        .filter_map(|entry| entry["after"]["reason"].as_str())
        .collect();
    assert_eq!(reasons, ["refresh token reused", "logout"], "{entries:?}");
}
