//! The authorization matrix: every route of the table, called by an anonymous client, a customer,
//! another customer, a staff member and an admin. A route added without an expected access here
//! fails the first test, so nothing ships unprotected by accident. The admin is a stored one:
//! admin writes decide on the caller's stored role, not on the token's.

use std::collections::BTreeMap;

use http::StatusCode;
use std::sync::Arc;

use itinera::clock::UuidV7Ids;
use itinera::identity::{Principal, Role};
use itinera::ratelimit::RateLimitConfig;
use itinera_http::{Access, ROUTES, Route};
use itinera_tests::{
    TestApp, TestRequest, plausible_request, principal, principal_of, spawn_app, spawn_app_with,
    stored_admin, token_of,
};
use serde_json::json;

/// Who may call each route, written down independently of the route table.
const EXPECTED: [(&str, Access); 83] = [
    ("health", Access::Anonymous),
    ("register", Access::Anonymous),
    ("login", Access::Anonymous),
    ("refresh", Access::Anonymous),
    ("logout", Access::Anonymous),
    ("list-airplanes", Access::Customer),
    ("get-airplane", Access::Customer),
    ("create-airplane", Access::Staff),
    ("update-airplane", Access::Staff),
    ("delete-airplane", Access::Staff),
    ("list-airports", Access::Anonymous),
    ("get-airport", Access::Anonymous),
    ("create-airport", Access::Staff),
    ("update-airport", Access::Staff),
    ("delete-airport", Access::Staff),
    ("search-flights", Access::Anonymous),
    ("get-flight", Access::Anonymous),
    ("create-flight", Access::Staff),
    ("update-flight", Access::Staff),
    ("delete-flight", Access::Staff),
    ("get-my-profile", Access::Customer),
    ("update-my-profile", Access::Customer),
    ("change-my-password", Access::Customer),
    ("list-my-activity", Access::Customer),
    ("list-notifications", Access::Customer),
    ("read-notification", Access::Customer),
    ("create-booking", Access::Customer),
    ("list-bookings", Access::Customer),
    ("get-booking", Access::Customer),
    ("pay-booking", Access::Customer),
    ("cancel-booking", Access::Customer),
    ("list-users", Access::Admin),
    ("get-user", Access::Admin),
    ("update-user", Access::Admin),
    ("list-audit-entries", Access::Admin),
    ("create-car", Access::Staff),
    ("list-cars", Access::Staff),
    ("get-car", Access::Staff),
    ("update-car", Access::Staff),
    ("delete-car", Access::Staff),
    ("get-car-availability", Access::Anonymous),
    ("search-catalogue", Access::Anonymous),
    ("create-insurance", Access::Staff),
    ("list-insurance", Access::Staff),
    ("get-insurance", Access::Staff),
    ("update-insurance", Access::Staff),
    ("delete-insurance", Access::Staff),
    ("list-expiring-insurance", Access::Staff),
    ("upload-insurance-document", Access::Staff),
    ("confirm-insurance-document", Access::Staff),
    ("get-insurance-document", Access::Staff),
    ("create-registration", Access::Staff),
    ("list-registrations", Access::Staff),
    ("get-registration", Access::Staff),
    ("update-registration", Access::Staff),
    ("delete-registration", Access::Staff),
    ("list-expiring-registrations", Access::Staff),
    ("upload-registration-document", Access::Staff),
    ("confirm-registration-document", Access::Staff),
    ("get-registration-document", Access::Staff),
    ("create-service-record", Access::Staff),
    ("list-service-records", Access::Staff),
    ("create-customer", Access::Staff),
    ("list-customers", Access::Staff),
    ("get-customer", Access::Staff),
    ("update-customer", Access::Staff),
    ("delete-customer", Access::Staff),
    ("create-my-customer", Access::Customer),
    ("get-my-customer", Access::Customer),
    ("update-my-customer", Access::Customer),
    ("create-contract", Access::Customer),
    ("list-contracts", Access::Customer),
    ("get-contract", Access::Customer),
    ("update-contract", Access::Customer),
    ("cancel-contract", Access::Customer),
    ("pick-up-contract", Access::Staff),
    ("return-contract", Access::Staff),
    ("create-issue", Access::Customer),
    ("list-issues", Access::Customer),
    ("get-issue", Access::Customer),
    ("update-issue", Access::Staff),
    ("start-issue-photo", Access::Customer),
    ("confirm-issue-photo", Access::Customer),
];

#[test]
fn every_route_declares_exactly_the_expected_access() {
    let expected: BTreeMap<&str, Access> = EXPECTED.into_iter().collect();
    let declared: BTreeMap<&str, Access> = ROUTES
        .iter()
        .map(|route| (route.function, route.access))
        .collect();
    assert_eq!(
        declared, expected,
        "a route's access changed or a route has no expected access"
    );
}

/// The callers of the matrix: `None` is anonymous; `admin` is stored as one.
fn callers(admin: Principal) -> Vec<(&'static str, Option<Principal>)> {
    vec![
        ("anonymous", None),
        ("customer", Some(principal(Role::Customer))),
        ("other customer", Some(principal(Role::Customer))),
        ("staff", Some(principal(Role::Staff))),
        ("admin", Some(admin)),
    ]
}

fn admitted(access: Access, caller: Option<&Principal>) -> bool {
    match (access, caller) {
        (Access::Anonymous, _) => true,
        (_, None) => false,
        (Access::Customer, Some(_)) => true,
        (Access::Staff, Some(principal)) => principal.is_staff(),
        (Access::Admin, Some(principal)) => principal.is_admin(),
    }
}

async fn send_as(app: &TestApp, route: &Route, caller: Option<&Principal>) -> StatusCode {
    let request = match caller {
        Some(principal) => plausible_request(route).bearer(&token_of(principal)),
        None => plausible_request(route).anonymous(),
    };
    app.send(request).await.status
}

#[tokio::test]
async fn the_route_table_times_every_role_gives_the_declared_matrix() {
    // Every caller comes from one address: limits loose enough that no tier answers before
    // authorization does.
    let limits = RateLimitConfig {
        write_max: 10_000,
        auth_max: 10_000,
        account_max: 10_000,
        ..RateLimitConfig::default()
    };
    let app = spawn_app_with(Arc::new(UuidV7Ids), limits);
    let admin = principal_of(&stored_admin(&*app.store).await);
    for route in ROUTES {
        for (name, caller) in callers(admin.clone()) {
            let status = send_as(&app, route, caller.as_ref()).await;
            let who = format!("{name} on {} {}", route.method, route.path);
            if admitted(route.access, caller.as_ref()) {
                assert!(
                    status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                    "{who}: expected to pass authorization, got {status}"
                );
            } else if caller.is_none() {
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{who}");
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{who}");
            }
        }
    }
}

#[tokio::test]
async fn a_customer_cannot_read_or_change_another_users_account() {
    let app = spawn_app();
    let register = |username: &str| {
        TestRequest::post("/v1/auth/register")
            .anonymous()
            .json(&json!({
                "email": format!("{username}@example.com"),
                "username": username,
                "password": "a long enough passphrase",
                "name": username,
            }))
    };
    let victim = app.send(register("victim")).await.json()["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let attacker = token_of(&principal(Role::Customer));
    for request in [
        TestRequest::get(format!("/v1/users/{victim}")),
        TestRequest::patch(format!("/v1/users/{victim}")).json(&json!({"role": "admin"})),
        TestRequest::get(format!("/v1/audit?actor={victim}")),
    ] {
        let status = app.send(request.bearer(&attacker)).await.status;
        assert!(
            status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
            "{status}"
        );
    }
    let mine = app
        .send(TestRequest::get("/v1/users/me").bearer(&attacker))
        .await;
    assert_eq!(
        mine.status,
        StatusCode::NOT_FOUND,
        "a token for a user that does not exist finds no profile"
    );
}
