//! Black-box tests of the customer API through the router (staff's profiles and a signed-in
//! user's own), and the proof that emails and a user's profile stay unique under concurrent
//! creates on both store families.

use std::sync::Arc;

use http::StatusCode;
use itinera::accounts::{Email, PersonName, Phone};
use itinera::calendar::Day;
use itinera::clock::{SystemClock, UuidV7Ids};
use itinera::customers::{
    LicenceNumber, MyNewCustomer, NewCustomer, create_customer, create_my_customer,
};
use itinera::error::DomainError;
use itinera::identity::{Principal, Role, UserId};
use itinera::storage::{Key, Store, Update};
use itinera_tests::{
    Backend, TestApp, TestRequest, context_of, principal, principal_of, register_customer,
    spawn_app, stored_admin, token_for, token_of,
};
use serde_json::{Value, json};
use tokio::sync::Barrier;

use crate::airports::{assert_problem, audit_actions, error_fields};

/// A customer's body with this email.
fn customer_body(email: &str) -> Value {
    json!({
        "name": "Ada Lovelace",
        "email": email,
        "phone": "+44 20 7946 0958",
        "licenceNumber": "LOVEL815120A99",
        "licenceExpiry": "2031-12-10",
    })
}

/// Creates a customer as staff and returns its JSON.
async fn create(app: &TestApp, body: &Value) -> Value {
    let response = app
        .send(TestRequest::post("/v1/customers").json(body))
        .await;
    response.created()
}

/// A signed-in customer of `app`, registered as `username`, and their token.
async fn signed_in(app: &TestApp, username: &str) -> (UserId, String) {
    let id = register_customer(&app.api, username).await;
    let token = token_of(&Principal {
        user_id: id.clone(),
        role: Role::Customer,
    });
    (id, token)
}

#[tokio::test]
async fn staff_create_a_customer_and_read_change_and_delete_them() {
    let app = spawn_app();
    let response = app
        .send(TestRequest::post("/v1/customers").json(&customer_body(" Ada@Example.COM ")))
        .await;
    response.assert_status(StatusCode::CREATED);
    assert_eq!(response.header("etag"), Some("\"1\""));
    let customer = response.json()["data"].clone();
    let id = customer["id"].as_str().unwrap();
    assert_eq!(
        response.header("location"),
        Some(format!("/v1/customers/{id}").as_str())
    );
    assert_eq!(customer["email"], "ada@example.com");
    assert_eq!(customer["phone"], "+442079460958");
    assert_eq!(customer["licenceExpiry"], "2031-12-10");
    assert!(customer.get("userId").is_none() && customer.get("openContracts").is_none());

    let target = format!("/v1/customers/{id}");
    let fetched = app.send(TestRequest::get(&target)).await;
    assert_eq!(fetched.json()["data"], customer);
    let changed = app
        .send(
            TestRequest::patch(&target)
                .header("if-match", "\"1\"")
                .json(&json!({"name": "Augusta Ada King", "licenceExpiry": "2036-12-10"})),
        )
        .await;
    changed.assert_status(StatusCode::OK);
    assert_eq!(changed.header("etag"), Some("\"2\""));
    assert_eq!(changed.json()["data"]["licenceExpiry"], "2036-12-10");
    let stale = app
        .send(
            TestRequest::patch(&target)
                .header("if-match", "\"1\"")
                .json(&json!({"name": "X"})),
        )
        .await;
    assert_problem(&stale, 412);
    let email = app
        .send(TestRequest::patch(&target).json(&json!({"email": "other@example.com"})))
        .await;
    assert_problem(&email, 400);

    let deleted = app.send(TestRequest::delete(&target)).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_problem(&app.send(TestRequest::get(&target)).await, 404);
    // The email is free again.
    create(&app, &customer_body("ada@example.com")).await;
    assert_eq!(
        audit_actions(&app, "customer", id).await,
        ["delete", "update", "create"]
    );
}

#[tokio::test]
async fn create_refuses_invalid_fields_a_taken_email_and_an_unknown_user() {
    let app = spawn_app();
    let body = json!({
        "name": "",
        "email": "not-an-email",
        "phone": "0123",
        "licenceNumber": "x".repeat(33),
        "licenceExpiry": "2031-02-30",
        "userId": "nobody",
    });
    let response = app
        .send(TestRequest::post("/v1/customers").json(&body))
        .await;
    let mut fields = error_fields(&assert_problem(&response, 400));
    fields.sort();
    assert_eq!(
        fields,
        [
            "email",
            "licenceExpiry",
            "licenceNumber",
            "name",
            "phone",
            "userId"
        ]
    );

    create(&app, &customer_body("grace@example.com")).await;
    let taken = app
        .send(TestRequest::post("/v1/customers").json(&customer_body("GRACE@example.com")))
        .await;
    assert!(
        assert_problem(&taken, 409)["detail"]
            .as_str()
            .unwrap()
            .contains("grace@example.com")
    );

    let mut unknown_user = customer_body("linked@example.com");
    unknown_user["userId"] = json!("0190f5d2-7c20-7d4e-8b2f-4a3c9d5e6f71");
    let response = app
        .send(TestRequest::post("/v1/customers").json(&unknown_user))
        .await;
    assert_eq!(error_fields(&assert_problem(&response, 400)), ["userId"]);
}

#[tokio::test]
async fn a_user_is_linked_to_at_most_one_customer() {
    let app = spawn_app();
    let (user, token) = signed_in(&app, "linked.user").await;
    let mut body = customer_body("first@example.com");
    body["userId"] = json!(user.as_str());
    let linked = create(&app, &body).await;
    assert_eq!(linked["userId"], user.as_str());
    let mut second = customer_body("second@example.com");
    second["userId"] = json!(user.as_str());
    let response = app
        .send(TestRequest::post("/v1/customers").json(&second))
        .await;
    assert!(
        assert_problem(&response, 409)["detail"]
            .as_str()
            .unwrap()
            .contains(user.as_str())
    );
    // The linked profile is the user's own.
    let mine = app
        .send(TestRequest::get("/v1/customers/me").bearer(&token))
        .await;
    assert_eq!(mine.json()["data"], linked);
}

#[tokio::test]
async fn the_list_finds_one_email_in_any_case_or_pages_newest_first() {
    let app = spawn_app();
    for name in ["one", "two", "three"] {
        create(&app, &customer_body(&format!("{name}@example.com"))).await;
    }
    let found = app
        .send(TestRequest::get("/v1/customers?email=TWO@Example.com"))
        .await;
    assert_eq!(found.status, StatusCode::OK);
    let data = found.json()["data"].clone();
    assert_eq!(data.as_array().unwrap().len(), 1);
    assert_eq!(data[0]["email"], "two@example.com");
    let none = app
        .send(TestRequest::get("/v1/customers?email=four@example.com"))
        .await;
    assert_eq!(none.json()["data"], json!([]));
    assert_problem(
        &app.send(TestRequest::get("/v1/customers?email=nope")).await,
        400,
    );

    let first = app.send(TestRequest::get("/v1/customers?limit=2")).await;
    let page = first.json();
    let emails: Vec<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["three@example.com", "two@example.com"]);
    let cursor = page["pagination"]["nextCursor"].as_str().unwrap();
    let rest = app
        .send(TestRequest::get(format!(
            "/v1/customers?limit=2&cursor={cursor}"
        )))
        .await;
    assert_eq!(rest.json()["data"][0]["email"], "one@example.com");
    assert_eq!(rest.json()["pagination"]["nextCursor"], Value::Null);
}

#[tokio::test]
async fn delete_is_refused_while_contracts_are_open() {
    let app = spawn_app();
    let customer = create(&app, &customer_body("busy@example.com")).await;
    let id = customer["id"].as_str().unwrap();
    let key = Key::new(format!("CUSTOMER#{id}"), "CUSTOMER");
    let mut open = Update::new(key.clone());
    open.add.push(("openContracts".into(), 1));
    app.store.update(open).await.unwrap();
    let refused = app
        .send(TestRequest::delete(format!("/v1/customers/{id}")))
        .await;
    assert!(
        assert_problem(&refused, 409)["detail"]
            .as_str()
            .unwrap()
            .contains("open contract")
    );
    let mut closed = Update::new(key);
    closed.add.push(("openContracts".into(), -1));
    app.store.update(closed).await.unwrap();
    let deleted = app
        .send(TestRequest::delete(format!("/v1/customers/{id}")))
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_signed_in_user_keeps_one_profile_of_their_own() {
    let app = spawn_app();
    let (user, token) = signed_in(&app, "grace.hopper").await;
    let missing = app
        .send(TestRequest::get("/v1/customers/me").bearer(&token))
        .await;
    let problem = assert_problem(&missing, 404);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("POST /v1/customers/me")
    );
    let body = json!({"phone": "+1 202 555 0147", "licenceNumber": "H0PP3R", "licenceExpiry": "2030-01-31"});
    let created = app
        .send(
            TestRequest::post("/v1/customers/me")
                .bearer(&token)
                .json(&body),
        )
        .await;
    let mine = created.created();
    assert_eq!(mine["email"], "grace.hopper@example.com");
    assert_eq!(mine["name"], "grace.hopper");
    assert_eq!(mine["userId"], user.as_str());
    let again = app
        .send(
            TestRequest::post("/v1/customers/me")
                .bearer(&token)
                .json(&body),
        )
        .await;
    assert_problem(&again, 409);

    let read = app
        .send(TestRequest::get("/v1/customers/me").bearer(&token))
        .await;
    assert_eq!(read.header("etag"), Some("\"1\""));
    assert_eq!(read.json()["data"], mine);
    let name = app
        .send(
            TestRequest::patch("/v1/customers/me")
                .bearer(&token)
                .json(&json!({"name": "G"})),
        )
        .await;
    assert_problem(&name, 400);
    let changed = app
        .send(
            TestRequest::patch("/v1/customers/me")
                .bearer(&token)
                .header("if-match", "\"1\"")
                .json(&json!({"licenceExpiry": "2035-01-31"})),
        )
        .await;
    changed.assert_status(StatusCode::OK);
    assert_eq!(changed.header("etag"), Some("\"2\""));
    let stale = app
        .send(
            TestRequest::patch("/v1/customers/me")
                .bearer(&token)
                .header("if-match", "\"1\"")
                .json(&json!({"phone": "+1 202 555 0100"})),
        )
        .await;
    assert_problem(&stale, 412);

    // Staff see the profile among the customers; the user cannot reach the staff routes.
    let id = mine["id"].as_str().unwrap();
    let by_staff = app
        .send(TestRequest::get(format!("/v1/customers/{id}")))
        .await;
    assert_eq!(by_staff.json()["data"]["licenceExpiry"], "2035-01-31");
    let by_owner = app
        .send(TestRequest::get(format!("/v1/customers/{id}")).bearer(&token))
        .await;
    assert_problem(&by_owner, 403);
}

#[tokio::test]
async fn another_users_profile_is_never_theirs() {
    let app = spawn_app();
    let (_, owner) = signed_in(&app, "owner.one").await;
    let body =
        json!({"phone": "+1 202 555 0147", "licenceNumber": "OWN1", "licenceExpiry": "2030-01-31"});
    let created = app
        .send(
            TestRequest::post("/v1/customers/me")
                .bearer(&owner)
                .json(&body),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let other = token_for(Role::Customer);
    assert_problem(
        &app.send(TestRequest::get("/v1/customers/me").bearer(&other))
            .await,
        404,
    );
    let patch = TestRequest::patch("/v1/customers/me")
        .bearer(&other)
        .json(&json!({"phone": "+1 202 555 0199"}));
    assert_problem(&app.send(patch).await, 404);
    let mine = app
        .send(TestRequest::get("/v1/customers/me").bearer(&owner))
        .await;
    assert_eq!(mine.json()["data"]["phone"], "+12025550147");
}

/// A new customer with `email`.
fn new_customer(email: &str, user: Option<UserId>) -> NewCustomer {
    NewCustomer {
        name: PersonName::parse("Race Condition").unwrap(),
        email: Email::parse(email).unwrap(),
        phone: Phone::parse("+44 20 7946 0958").unwrap(),
        licence_number: LicenceNumber::parse("RACE1").unwrap(),
        licence_expiry: Day::parse("2031-01-01").unwrap(),
        user_id: user,
    }
}

/// Runs `creates` all at once, released together by a barrier: how many succeeded, and the
/// refusals of the others.
async fn together<F>(creates: Vec<F>) -> (usize, Vec<String>)
where
    F: std::future::Future<Output = Result<itinera::customers::Customer, DomainError>>
        + Send
        + 'static,
{
    let barrier = Arc::new(Barrier::new(creates.len()));
    let tasks: Vec<_> = creates
        .into_iter()
        .map(|create| {
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                create.await
            })
        })
        .collect();
    let (mut created, mut refusals) = (0, Vec::new());
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => created += 1,
            Err(DomainError::Conflict { detail }) => refusals.push(detail),
            Err(other) => panic!("a create failed otherwise: {other:?}"),
        }
    }
    (created, refusals)
}

async fn customer_count(store: &dyn Store) -> usize {
    let page = itinera::customers::list_customers(
        store,
        &itinera::customers::CustomerFilter::default(),
        itinera::pagination::PageLimit::try_from(100).unwrap(),
        None,
    )
    .await
    .unwrap();
    page.items.len()
}

async fn twenty_concurrent_creates_with_one_email_make_one_customer(backend: Backend) {
    let staff = principal(Role::Staff);
    let creates = (0..20)
        .map(|n| {
            let (store, context) = (Arc::clone(&backend.store), context_of(&staff));
            // One address, written in different cases.
            let email = if n % 2 == 0 {
                "race@example.com"
            } else {
                "RACE@Example.com"
            };
            let new = new_customer(email, None);
            async move { create_customer(&*store, &SystemClock, &UuidV7Ids, &context, new).await }
        })
        .collect();
    let (created, refusals) = together(creates).await;
    assert_eq!(created, 1);
    assert!(
        refusals
            .iter()
            .all(|detail| detail.contains("race@example.com")),
        "{refusals:?}"
    );
    assert_eq!(customer_count(&*backend.store).await, 1);
}

async fn twenty_concurrent_profiles_of_one_user_make_one_customer(backend: Backend) {
    let user = stored_admin(&*backend.store).await;
    let caller = principal_of(&user);
    let creates =
        (0..20)
            .map(|_| {
                let (store, context) = (Arc::clone(&backend.store), context_of(&caller));
                let mine = MyNewCustomer {
                    name: None,
                    phone: Phone::parse("+44 20 7946 0958").unwrap(),
                    licence_number: LicenceNumber::parse("MINE1").unwrap(),
                    licence_expiry: Day::parse("2031-01-01").unwrap(),
                };
                async move {
                    create_my_customer(&*store, &SystemClock, &UuidV7Ids, &context, mine).await
                }
            })
            .collect();
    let (created, refusals) = together(creates).await;
    assert_eq!(created, 1);
    assert_eq!(refusals.len(), 19);
    assert_eq!(customer_count(&*backend.store).await, 1);
}

on_both_families!(
    twenty_concurrent_creates_with_one_email_make_one_customer,
    twenty_concurrent_profiles_of_one_user_make_one_customer,
);
