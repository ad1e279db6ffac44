//! Accounts, sign-in, sessions, tokens and sign-in rate limits, over HTTP through the router.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::StatusCode;
use itinera::identity::Role;
use itinera_tests::{
    TEST_PASSWORD, TestApp, TestRequest, TestResponse, principal, register_customer, sign_in,
    spawn_app, token_issuer,
};
use serde_json::{Value, json};

const PASSWORD: &str = TEST_PASSWORD;

/// Registers a customer and answers their id.
async fn register(app: &TestApp, username: &str) -> String {
    register_customer(&app.api, username).await.to_string()
}

fn login_request(login: Value) -> TestRequest {
    itinera_tests::login_request(&login)
}

/// Signs in and answers the token pair.
async fn login(app: &TestApp, username: &str, password: &str) -> Value {
    sign_in(&app.api, username, password).await
}

async fn refresh(app: &TestApp, token: &str) -> TestResponse {
    app.send(
        TestRequest::post("/v1/auth/refresh")
            .anonymous()
            .json(&json!({"refreshToken": token})),
    )
    .await
}

fn text(value: &Value) -> &str {
    value.as_str().expect("a string")
}

#[tokio::test]
async fn a_registered_customer_signs_in_and_reads_their_profile_without_secrets() {
    let app = spawn_app();
    let id = register(&app, "ana").await;
    let tokens = login(&app, "ana", PASSWORD).await;
    assert_eq!(tokens["tokenType"], "Bearer");
    assert_eq!(tokens["expiresIn"], 900);
    assert!(tokens["refreshToken"].as_str().unwrap().len() >= 43);
    let me = app
        .send(TestRequest::get("/v1/users/me").bearer(text(&tokens["accessToken"])))
        .await;
    assert_eq!(me.status, StatusCode::OK);
    let body = me.json();
    assert_eq!(body["data"]["id"], id);
    assert_eq!(body["data"]["role"], "customer");
    let raw = String::from_utf8(me.body.to_vec()).unwrap();
    assert!(
        !raw.contains("passwordHash") && !raw.contains("argon2"),
        "{raw}"
    );
    let by_email = app
        .send(login_request(
            json!({"email": "ANA@example.com", "password": PASSWORD}),
        ))
        .await;
    assert_eq!(by_email.status, StatusCode::OK);
}

#[tokio::test]
async fn twenty_concurrent_registrations_with_one_email_create_one_account() {
    let app = Arc::new(spawn_app());
    let mut tasks = Vec::new();
    for n in 0..20 {
        let app = Arc::clone(&app);
        tasks.push(tokio::spawn(async move {
            let body = json!({"email": "same@example.com", "username": format!("user{n}"), "password": PASSWORD, "name": "Same"});
            let request = TestRequest::post("/v1/auth/register").anonymous().from_ip(&format!("198.51.100.{n}"));
            app.send(request.json(&body)).await.status
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(
        statuses
            .iter()
            .filter(|status| **status == StatusCode::CREATED)
            .count(),
        1
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|status| **status == StatusCode::CONFLICT)
            .count(),
        19
    );
}

#[tokio::test]
async fn weak_or_lookalike_passwords_and_unknown_fields_are_refused_at_registration() {
    let app = spawn_app();
    for (password, username) in [
        ("password", "bob"),
        ("short", "bob"),
        ("qwertyuiop", "bob"),
        ("bobbybobby", "bobbybobby"),
    ] {
        let response = app
            .send(TestRequest::post("/v1/auth/register").anonymous().json(&json!({
                "email": "bob@example.com", "username": username, "password": password, "name": "Bob",
            })))
            .await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{password}");
        let body = String::from_utf8(response.body.to_vec()).unwrap();
        if !["password", username].contains(&password) {
            assert!(
                !body.contains(password),
                "the body echoes the password: {body}"
            );
        }
    }
    let mass_assignment = app
        .send(TestRequest::post("/v1/auth/register").anonymous().json(&json!({
            "email": "bob@example.com", "username": "bob", "password": PASSWORD, "name": "Bob", "role": "admin",
        })))
        .await;
    assert_eq!(mass_assignment.status, StatusCode::BAD_REQUEST);
    assert!(
        mass_assignment.json()["detail"]
            .as_str()
            .unwrap()
            .contains("role")
    );
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_answer() {
    let app = spawn_app();
    register(&app, "cleo").await;
    let wrong = app
        .send(login_request(
            json!({"username": "cleo", "password": "not the password"}),
        ))
        .await;
    let unknown = app
        .send(login_request(
            json!({"username": "nobody", "password": "not the password"}),
        ))
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.json()["detail"], unknown.json()["detail"]);
    assert_eq!(wrong.header("www-authenticate"), Some("Bearer"));
}

#[tokio::test]
async fn refresh_rotates_and_reusing_a_rotated_token_revokes_the_whole_family() {
    let app = spawn_app();
    register(&app, "dora").await;
    let first = login(&app, "dora", PASSWORD).await;
    let rotated = refresh(&app, text(&first["refreshToken"])).await;
    assert_eq!(rotated.status, StatusCode::OK);
    let second = rotated.json()["data"].clone();
    assert_ne!(second["refreshToken"], first["refreshToken"]);
    let reuse = refresh(&app, text(&first["refreshToken"])).await;
    assert_eq!(reuse.status, StatusCode::UNAUTHORIZED);
    let after_reuse = refresh(&app, text(&second["refreshToken"])).await;
    assert_eq!(after_reuse.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = spawn_app();
    register(&app, "emil").await;
    let tokens = login(&app, "emil", PASSWORD).await;
    let logout = app
        .send(
            TestRequest::post("/v1/auth/logout")
                .anonymous()
                .json(&json!({"refreshToken": tokens["refreshToken"]})),
        )
        .await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    assert_eq!(
        refresh(&app, text(&tokens["refreshToken"])).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_sixth_failed_login_is_429_while_a_correct_login_from_another_ip_still_works() {
    let app = spawn_app();
    register(&app, "finn").await;
    for attempt in 1..=5 {
        let response = app
            .send(login_request(
                json!({"username": "finn", "password": "guess number one"}),
            ))
            .await;
        assert_eq!(
            response.status,
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}"
        );
        assert_eq!(
            response.header("x-ratelimit-remaining"),
            Some((5 - attempt).to_string().as_str())
        );
    }
    let sixth = app
        .send(login_request(
            json!({"username": "finn", "password": "guess number six"}),
        ))
        .await;
    assert_eq!(sixth.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(sixth.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(
        sixth.json()["type"],
        "urn:itinera:problem:too-many-requests"
    );
    let correct_elsewhere = app
        .send(
            login_request(json!({"username": "finn", "password": PASSWORD}))
                .from_ip("198.51.100.77"),
        )
        .await;
    assert_eq!(correct_elsewhere.status, StatusCode::OK);
}

#[tokio::test]
async fn successful_logins_are_not_counted() {
    let app = spawn_app();
    register(&app, "gina").await;
    for _ in 0..8 {
        login(&app, "gina", PASSWORD).await;
    }
}

#[tokio::test]
async fn a_disabled_user_can_no_longer_refresh() {
    let app = spawn_app();
    let id = register(&app, "hugo").await;
    let tokens = login(&app, "hugo", PASSWORD).await;
    let admin = itinera_tests::stored_admin(&*app.store).await;
    let admin = itinera_tests::token_of(&itinera_tests::principal_of(&admin));
    let disable = app
        .send(
            TestRequest::patch(format!("/v1/users/{id}"))
                .bearer(&admin)
                .json(&json!({"disabled": true})),
        )
        .await;
    disable.assert_status(StatusCode::OK);
    assert_eq!(
        refresh(&app, text(&tokens["refreshToken"])).await.status,
        StatusCode::UNAUTHORIZED
    );
    let login_again = app
        .send(login_request(
            json!({"username": "hugo", "password": PASSWORD}),
        ))
        .await;
    assert_eq!(login_again.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_ends_other_sessions() {
    let app = spawn_app();
    register(&app, "iris").await;
    let other_device = login(&app, "iris", PASSWORD).await;
    let tokens = login(&app, "iris", PASSWORD).await;
    let access = text(&tokens["accessToken"]).to_owned();
    let change = |current: &str| {
        TestRequest::post("/v1/users/me/password")
            .bearer(&access)
            .json(&json!({"currentPassword": current, "newPassword": "another long passphrase"}))
    };
    assert_eq!(
        app.send(change("not my password")).await.status,
        StatusCode::UNAUTHORIZED
    );
    let changed = app.send(change(PASSWORD)).await;
    assert_eq!(changed.status, StatusCode::OK);
    let fresh = changed.json()["data"].clone();
    assert_eq!(
        refresh(&app, text(&other_device["refreshToken"]))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        refresh(&app, text(&fresh["refreshToken"])).await.status,
        StatusCode::OK
    );
    login(&app, "iris", "another long passphrase").await;
}

#[tokio::test]
async fn the_profile_accepts_only_name_and_phone() {
    let app = spawn_app();
    register(&app, "jon").await;
    let tokens = login(&app, "jon", PASSWORD).await;
    let access = text(&tokens["accessToken"]);
    let escalate = app
        .send(
            TestRequest::patch("/v1/users/me")
                .bearer(access)
                .json(&json!({"role": "admin"})),
        )
        .await;
    assert_eq!(escalate.status, StatusCode::BAD_REQUEST);
    let updated = app
        .send(
            TestRequest::patch("/v1/users/me")
                .bearer(access)
                .json(&json!({"name": "Jon Snow", "phone": "+44 20 7946 0958"})),
        )
        .await;
    updated.assert_status(StatusCode::OK);
    assert_eq!(updated.json()["data"]["name"], "Jon Snow");
    assert_eq!(updated.json()["data"]["role"], "customer");
}

/// A token whose header, payload or signature was altered.
fn forged_tokens() -> Vec<String> {
    let valid = token_issuer()
        .issue(&principal(Role::Admin), chrono::Utc::now())
        .token;
    let parts: Vec<&str> = valid.split('.').collect();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let mut escalated = claims.clone();
    escalated["sub"] = json!(uuid::Uuid::now_v7().to_string());
    let escalated = URL_SAFE_NO_PAD.encode(escalated.to_string());
    let mut expired = claims.clone();
    expired["exp"] = json!(1);
    let expired = URL_SAFE_NO_PAD.encode(expired.to_string());
    let other_key = itinera::auth::PrivateKey::generate().unwrap();
    let other_issuer =
        itinera::auth::TokenIssuer::new(&other_key, "itinera", "itinera-api").unwrap();
    vec![
        format!("{none_header}.{}.", parts[1]),
        format!("{}.{escalated}.{}", parts[0], parts[2]),
        format!("{}.{expired}.{}", parts[0], parts[2]),
        other_issuer
            .issue(&principal(Role::Admin), chrono::Utc::now())
            .token,
        "not-a-token".to_owned(),
    ]
}

#[tokio::test]
async fn forged_expired_or_foreign_tokens_are_401_with_www_authenticate() {
    let app = spawn_app();
    for token in forged_tokens() {
        let response = app.send(TestRequest::get("/v1/users").bearer(&token)).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{token}");
        assert_eq!(response.header("www-authenticate"), Some("Bearer"));
    }
}

#[tokio::test]
async fn the_admin_lists_users_by_role_and_others_cannot() {
    let app = spawn_app();
    register(&app, "kai").await;
    register(&app, "lea").await;
    let admin = itinera_tests::token_of(&principal(Role::Admin));
    let customers = app
        .send(TestRequest::get("/v1/users?role=customer").bearer(&admin))
        .await;
    assert_eq!(customers.status, StatusCode::OK);
    assert_eq!(customers.json()["data"].as_array().unwrap().len(), 2);
    let staff = app
        .send(TestRequest::get("/v1/users?role=staff").bearer(&admin))
        .await;
    assert!(staff.json()["data"].as_array().unwrap().is_empty());
    let as_staff = app.send(TestRequest::get("/v1/users")).await;
    assert_eq!(as_staff.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_audit_log_and_activity_feed_show_changes_by_who_made_them() {
    let app = spawn_app();
    register(&app, "mia").await;
    let tokens = login(&app, "mia", PASSWORD).await;
    let access = text(&tokens["accessToken"]);
    let renamed = app
        .send(
            TestRequest::patch("/v1/users/me")
                .bearer(access)
                .json(&json!({"name": "Mia M."})),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK);
    let activity = app
        .send(TestRequest::get("/v1/users/me/activity").bearer(access))
        .await;
    assert_eq!(activity.status, StatusCode::OK);
    let entries = activity.json()["data"].clone();
    let actions: Vec<(&str, &str)> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            (
                entry["entityType"].as_str().unwrap(),
                entry["action"].as_str().unwrap(),
            )
        })
        .collect();
    // Newest first: the rename, the sign-in's session, the registration.
    assert_eq!(
        actions,
        [
            ("user", "update"),
            ("session", "create"),
            ("user", "create")
        ]
    );
    let (airplane, _) = app.create_airplane("A319", 140).await;
    let admin = itinera_tests::token_of(&principal(Role::Admin));
    let history = app
        .send(
            TestRequest::get(format!(
                "/v1/audit?entityType=Airplane&entityId={}",
                text(&airplane["id"])
            ))
            .bearer(&admin),
        )
        .await;
    assert_eq!(history.status, StatusCode::OK);
    let entries = history.json()["data"].clone();
    assert_eq!(entries[0]["action"], "create");
    assert_eq!(entries[0]["actor"], format!("user:{}", app.staff.user_id));
    let forbidden = app
        .send(TestRequest::get(format!("/v1/audit?actor={}", app.staff.user_id)).bearer(access))
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
}
