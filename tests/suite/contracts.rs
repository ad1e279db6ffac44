//! Black-box tests of the contract API through the router: a customer reserves for their own
//! profile (under an `Idempotency-Key`), reads, lists, re-dates and cancels their own; others
//! are told it does not exist; staff reserve for anyone, list by filters, and hand the car over
//! and take it back.

use std::sync::Arc;

use chrono::{TimeDelta, Utc};
use http::StatusCode;
use itinera::clock::SystemClock;
use itinera::identity::{Principal, Role};
use itinera_tests::faults::{Call, Fault, FaultyStore};
use itinera_tests::{
    TestApp, TestRequest, api_with_clock, register_customer, send, spawn_app, token_of,
};
use serde_json::{Value, json};

use crate::airports::{assert_problem, audit_actions};
use crate::cars::{car_body, create as create_car, vin};

/// The day `offset` days from today (UTC), as the API writes it.
fn day(offset: i64) -> String {
    (Utc::now() + TimeDelta::days(offset))
        .date_naive()
        .format("%Y-%m-%d")
        .to_string()
}

/// A signed-in customer of `app` with a profile of their own, and their token.
pub(crate) async fn customer_with_profile(app: &TestApp, username: &str) -> (String, Value) {
    let id = register_customer(&app.api, username).await;
    let token = token_of(&Principal {
        user_id: id,
        role: Role::Customer,
    });
    let profile = json!({
        "phone": "+44 20 7946 0958",
        "licenceNumber": "LOVEL815120A99",
        "licenceExpiry": day(400),
    });
    let response = app
        .send(
            TestRequest::post("/v1/customers/me")
                .bearer(&token)
                .json(&profile),
        )
        .await;
    response.assert_status(StatusCode::CREATED);
    (token, response.json()["data"].clone())
}

pub(crate) fn reserve(body: &Value, key: &str) -> TestRequest {
    TestRequest::post("/v1/contracts")
        .header("Idempotency-Key", key)
        .json(body)
}

#[tokio::test]
async fn a_customer_reserves_reads_lists_redates_and_cancels_their_own_contract() {
    let app = spawn_app();
    let car = create_car(&app, &car_body("CON 1", &vin(1))).await;
    let car_id = car["id"].as_str().unwrap();
    let body = json!({"carId": car_id, "startDate": day(3), "endDate": day(5)});

    let (stranger, _) = {
        let id = register_customer(&app.api, "no-profile").await;
        let token = token_of(&Principal {
            user_id: id,
            role: Role::Customer,
        });
        (token, ())
    };
    let response = app.send(reserve(&body, "k-0").bearer(&stranger)).await;
    assert_problem(&response, 409);
    assert!(
        response.json()["detail"]
            .as_str()
            .unwrap()
            .contains("/v1/customers/me")
    );

    let (token, profile) = customer_with_profile(&app, "renter").await;
    let response = app.send(reserve(&body, "k-1").bearer(&token)).await;
    let contract = response.created();
    let id = contract["id"].as_str().unwrap().to_owned();
    assert_eq!(
        response.header("location"),
        Some(format!("/v1/contracts/{id}").as_str())
    );
    assert_eq!(contract["status"], "reserved");
    assert_eq!(contract["customerId"], profile["id"]);
    assert_eq!(
        contract["dailyRate"],
        json!({"amount": 4500, "currency": "EUR"})
    );
    assert_eq!(
        contract["total"],
        json!({"amount": 13500, "currency": "EUR"})
    );

    // The same key and body replays the first answer; another body under it is a 422.
    let replayed = app.send(reserve(&body, "k-1").bearer(&token)).await;
    assert_eq!(replayed.status, StatusCode::CREATED);
    assert_eq!(replayed.json()["data"]["id"], contract["id"]);
    let other = json!({"carId": car_id, "startDate": day(7), "endDate": day(8)});
    let reused = app.send(reserve(&other, "k-1").bearer(&token)).await;
    assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Another key for an overlapping range is a 409 naming a day.
    let overlapping = json!({"carId": car_id, "startDate": day(5), "endDate": day(6)});
    let taken = app.send(reserve(&overlapping, "k-2").bearer(&token)).await;
    assert_problem(&taken, 409);
    assert!(taken.json()["detail"].as_str().unwrap().contains(&day(5)));

    let read = app
        .send(TestRequest::get(format!("/v1/contracts/{id}")).bearer(&token))
        .await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.header("etag"), Some("\"1\""));
    let (other_token, _) = customer_with_profile(&app, "someone-else").await;
    let hidden = app
        .send(TestRequest::get(format!("/v1/contracts/{id}")).bearer(&other_token))
        .await;
    assert_problem(&hidden, 404);
    let listed = app
        .send(TestRequest::get("/v1/contracts").bearer(&token))
        .await;
    assert_eq!(listed.json()["data"].as_array().unwrap().len(), 1);
    let none = app
        .send(TestRequest::get("/v1/contracts").bearer(&other_token))
        .await;
    assert_eq!(none.json()["data"], json!([]));

    let stale = app
        .send(
            TestRequest::patch(format!("/v1/contracts/{id}"))
                .bearer(&token)
                .header("If-Match", "\"7\"")
                .json(&json!({"endDate": day(6)})),
        )
        .await;
    assert_problem(&stale, 412);
    let moved = app
        .send(
            TestRequest::patch(format!("/v1/contracts/{id}"))
                .bearer(&token)
                .header("If-Match", "\"1\"")
                .json(&json!({"endDate": day(6)})),
        )
        .await;
    moved.assert_status(StatusCode::OK);
    assert_eq!(moved.json()["data"]["total"]["amount"], 18_000);
    assert_eq!(moved.header("etag"), Some("\"2\""));

    let by_other = app
        .send(TestRequest::post(format!("/v1/contracts/{id}/cancel")).bearer(&other_token))
        .await;
    assert_problem(&by_other, 404);
    let cancelled = app
        .send(TestRequest::post(format!("/v1/contracts/{id}/cancel")).bearer(&token))
        .await;
    cancelled.assert_status(StatusCode::OK);
    assert_eq!(cancelled.json()["data"]["status"], "cancelled");
    let again = app
        .send(TestRequest::post(format!("/v1/contracts/{id}/cancel")).bearer(&token))
        .await;
    assert_problem(&again, 409);
    // Newest first: the reservation, the date change, the cancellation.
    assert_eq!(
        audit_actions(&app, "contract", &id).await,
        ["update", "update", "create"]
    );
}

#[tokio::test]
async fn staff_reserve_for_a_customer_filter_the_list_and_hand_the_car_over_and_back() {
    let app = spawn_app();
    let car = create_car(&app, &car_body("CON 2", &vin(2))).await;
    let car_id = car["id"].as_str().unwrap();
    let (_, profile) = customer_with_profile(&app, "walk-in").await;
    let customer_id = profile["id"].as_str().unwrap();

    let missing = app
        .send(reserve(
            &json!({"carId": car_id, "startDate": day(0), "endDate": day(2)}),
            "s-0",
        ))
        .await;
    assert_problem(&missing, 400);
    for (start, end) in [(-1, 2), (0, 90), (3, 2)] {
        let invalid = app
            .send(reserve(
                &json!({"carId": car_id, "customerId": customer_id, "startDate": day(start), "endDate": day(end)}),
                &format!("s-{start}-{end}"),
            ))
            .await;
        assert_problem(&invalid, 400);
    }
    let body =
        json!({"carId": car_id, "customerId": customer_id, "startDate": day(0), "endDate": day(1)});
    let response = app.send(reserve(&body, "s-1")).await;
    response.assert_status(StatusCode::CREATED);
    let id = response.json()["data"]["id"].as_str().unwrap().to_owned();

    for query in [
        format!("customerId={customer_id}"),
        format!("carId={car_id}"),
        "status=reserved".to_owned(),
        format!("carId={car_id}&status=reserved"),
    ] {
        let listed = app
            .send(TestRequest::get(format!("/v1/contracts?{query}")))
            .await;
        assert_eq!(listed.status, StatusCode::OK, "{query}");
        assert_eq!(listed.json()["data"][0]["id"], id.as_str(), "{query}");
    }
    let active = app
        .send(TestRequest::get("/v1/contracts?status=active"))
        .await;
    assert_eq!(active.json()["data"], json!([]));

    let picked = app
        .send(
            TestRequest::post(format!("/v1/contracts/{id}/pickup"))
                .json(&json!({"mileage": 12_100})),
        )
        .await;
    picked.assert_status(StatusCode::OK);
    assert_eq!(picked.json()["data"]["status"], "active");
    let rented = app
        .send(TestRequest::get(format!("/v1/cars/{car_id}")))
        .await;
    assert_eq!(rented.json()["data"]["status"], "rented");
    let low = app
        .send(
            TestRequest::post(format!("/v1/contracts/{id}/return"))
                .json(&json!({"mileage": 12_000, "fuelLevel": 50})),
        )
        .await;
    assert_problem(&low, 400);
    let returned = app
        .send(
            TestRequest::post(format!("/v1/contracts/{id}/return"))
                .json(&json!({"mileage": 12_800, "fuelLevel": 80, "damages": "Scratch on the rear bumper"})),
        )
        .await;
    returned.assert_status(StatusCode::OK);
    let completed = returned.json()["data"].clone();
    assert_eq!(completed["status"], "completed");
    assert_eq!(completed["returnMileage"], 12_800);
    assert_eq!(completed["fuelLevel"], 80);
    assert_eq!(completed["total"]["amount"], 9_000);
    let back = app
        .send(TestRequest::get(format!("/v1/cars/{car_id}")))
        .await;
    assert_eq!(back.json()["data"]["status"], "available");
    assert_eq!(back.json()["data"]["mileage"], 12_800);
    // A car with a contract is kept: it can only be retired.
    let delete = app
        .send(TestRequest::delete(format!("/v1/cars/{car_id}")))
        .await;
    assert_problem(&delete, 409);
}

#[tokio::test]
async fn a_car_out_of_service_or_a_licence_expiring_first_is_a_409_and_a_customer_reserves_only_for_themselves()
 {
    let app = spawn_app();
    let car = create_car(&app, &car_body("CON 3", &vin(3))).await;
    let car_id = car["id"].as_str().unwrap();
    let (token, _) = customer_with_profile(&app, "careful").await;
    let (_, other) = customer_with_profile(&app, "other-driver").await;

    let for_other =
        json!({"carId": car_id, "customerId": other["id"], "startDate": day(1), "endDate": day(2)});
    let refused = app.send(reserve(&for_other, "c-1").bearer(&token)).await;
    assert_problem(&refused, 400);

    // The profile's licence (valid 400 days) ends before a rental ending in 401 days.
    let late = json!({"carId": car_id, "startDate": day(395), "endDate": day(401)});
    let expiring = app.send(reserve(&late, "c-2").bearer(&token)).await;
    assert_problem(&expiring, 409);
    assert!(
        expiring.json()["detail"]
            .as_str()
            .unwrap()
            .contains("licence")
    );

    let maintenance = app
        .send(
            TestRequest::patch(format!("/v1/cars/{car_id}"))
                .header("If-Match", "\"1\"")
                .json(&json!({"status": "maintenance"})),
        )
        .await;
    maintenance.assert_status(StatusCode::OK);
    let body = json!({"carId": car_id, "startDate": day(1), "endDate": day(2)});
    let out = app.send(reserve(&body, "c-3").bearer(&token)).await;
    assert_problem(&out, 409);
    assert!(
        out.json()["detail"]
            .as_str()
            .unwrap()
            .contains("maintenance")
    );
    let listed = app
        .send(TestRequest::get("/v1/contracts").bearer(&token))
        .await;
    assert_eq!(listed.json()["data"], json!([]), "nothing was reserved");
}

#[tokio::test]
async fn a_reservation_refused_for_a_day_taken_writes_nothing_and_a_used_key_still_replays() {
    let app = spawn_app();
    let car = create_car(&app, &car_body("CON 9", &vin(9))).await;
    let car_id = car["id"].as_str().unwrap();
    let (first, _) = customer_with_profile(&app, "first-renter").await;
    let body = json!({"carId": car_id, "startDate": day(3), "endDate": day(5)});
    let reserved = app
        .send(reserve(&body, "k-1").bearer(&first))
        .await
        .created();
    let (second, _) = customer_with_profile(&app, "second-renter").await;

    // The same data through a store on which every write of a reservation fails: a refusal that
    // claimed its key, tried its transaction or released the key would answer 503, not 409.
    let faulty = Arc::new(FaultyStore::new(Arc::clone(&app.store)));
    for (call, prefix) in [
        (Call::Put, "IDEMPOTENCY#"),
        (Call::Delete, "IDEMPOTENCY#"),
        (Call::Transact, "CAR#"),
    ] {
        faulty.inject(Fault::on(call).touching(prefix).times(usize::MAX));
    }
    let api = api_with_clock(faulty.clone(), Arc::new(SystemClock));
    let overlapping = json!({"carId": car_id, "startDate": day(5), "endDate": day(6)});
    let taken = send(&api, reserve(&overlapping, "k-2").bearer(&second)).await;
    assert_problem(&taken, 409);
    assert!(taken.json()["detail"].as_str().unwrap().contains(&day(5)));
    assert_eq!(faulty.injected(), 0, "no write was attempted");

    // A used key still goes through its record: the first answer again.
    faulty.heal();
    let replayed = send(&api, reserve(&body, "k-1").bearer(&first)).await;
    assert_eq!(replayed.status, StatusCode::CREATED);
    assert_eq!(replayed.json()["data"]["id"], reserved["id"]);
}
