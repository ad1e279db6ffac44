//! Black-box tests of the flight API, through the router: scheduling, search by leg and local day,
//! changes and statuses, and the counters that keep airplanes and airports in use from being
//! deleted. Bookings are simulated by writing to the flight item what a booking writes.

use std::sync::Arc;

use chrono::{Duration, NaiveDate, Utc};
use http::StatusCode;
use itinera::clock::UuidV7Ids;
use itinera::identity::Role;
use itinera::storage::{Key, Update};
use itinera_tests::{
    TestApp, TestRequest, TestResponse, api_over, fresh_dynamodb_store, send, spawn_app, token_for,
};
use serde_json::{Value, json};

use crate::airports::{assert_problem, audit_actions, create_airport, error_fields};

/// A day far enough ahead that every departure on it is in the future.
fn future_day() -> NaiveDate {
    (Utc::now() + Duration::days(30)).date_naive()
}

/// An RFC 3339 timestamp on `day` (`time` like `20:00:00Z` or `09:30:00+05:30`).
fn at(day: NaiveDate, time: &str) -> String {
    format!("{}T{time}", day.format("%Y-%m-%d"))
}

/// Delhi and Mumbai (both +05:30) and an airplane of 180 seats; returns the airplane's id.
async fn fleet(app: &TestApp) -> String {
    create_airport(app, "DEL", "Asia/Kolkata").await;
    create_airport(app, "BOM", "Asia/Kolkata").await;
    let (airplane, _) = app.create_airplane("A320neo", 180).await;
    airplane["id"].as_str().unwrap().to_owned()
}

/// A flight body from DEL to BOM departing at `departure`, two hours long, at `amount` INR paise.
fn flight_body(airplane_id: &str, departure: &str, amount: i64) -> Value {
    let departs = chrono::DateTime::parse_from_rfc3339(departure).expect("RFC 3339");
    let arrives = departs + Duration::hours(2);
    json!({
        "flightNumber": "AI101",
        "airplaneId": airplane_id,
        "from": "DEL",
        "to": "BOM",
        "departureTime": departure,
        "arrivalTime": arrives.to_rfc3339(),
        "price": {"amount": amount, "currency": "INR"},
    })
}

/// Creates a flight as staff and returns its JSON.
async fn create_flight(app: &TestApp, body: &Value) -> Value {
    let response = app.send(TestRequest::post("/v1/flights").json(body)).await;
    response.created()
}

/// Creates a flight from DEL to BOM as staff and returns its id.
async fn schedule(app: &TestApp, airplane_id: &str, departure: &str, amount: i64) -> String {
    id_of(&create_flight(app, &flight_body(airplane_id, departure, amount)).await)
}

fn id_of(flight: &Value) -> String {
    flight["id"].as_str().unwrap().to_owned()
}

async fn get_flight(app: &TestApp, id: &str) -> (Value, String) {
    let response = app
        .send(TestRequest::get(format!("/v1/flights/{id}")).anonymous())
        .await;
    response.assert_status(StatusCode::OK);
    let etag = response.header("etag").expect("ETag").to_owned();
    (response.json()["data"].clone(), etag)
}

async fn patch_flight(app: &TestApp, id: &str, body: Value) -> TestResponse {
    app.send(TestRequest::patch(format!("/v1/flights/{id}")).json(&body))
        .await
}

/// What a booking of `seats` writes on the flight (negative `seats` gives them back); a new
/// booking also counts itself.
async fn book(app: &TestApp, id: &str, seats: i64) {
    let mut update = Update::new(Key::new(format!("FLIGHT#{id}"), "FLIGHT"));
    update.add.push(("remainingSeats".into(), -seats));
    update.add.push(("version".into(), 1));
    if seats > 0 {
        update.add.push(("bookingCount".into(), 1));
    }
    app.store.update(update).await.expect("the seat change");
}

/// The ids of one search page and its next cursor.
async fn search_page(app: &TestApp, query: &str) -> (Vec<String>, Option<String>) {
    let response = app
        .send(TestRequest::get(format!("/v1/flights?{query}")).anonymous())
        .await;
    assert_eq!(
        response.status,
        StatusCode::OK,
        "{query}: {:?}",
        response.json()
    );
    let body = response.json();
    let ids = body["data"]
        .as_array()
        .expect("a page")
        .iter()
        .map(id_of)
        .collect();
    let next = body["pagination"]["nextCursor"].as_str().map(str::to_owned);
    (ids, next)
}

/// Every id a search finds, following cursors (the last page may be empty: a page that ends
/// exactly at the last flight still carries a cursor, as DynamoDB's pages do).
async fn search_all(app: &TestApp, query: &str) -> Vec<String> {
    let (mut ids, mut next) = search_page(app, query).await;
    while let Some(cursor) = next {
        let (more, after) = search_page(app, &format!("{query}&cursor={cursor}")).await;
        ids.extend(more);
        next = after;
    }
    ids
}

#[tokio::test]
async fn create_answers_201_with_the_airplanes_seats_and_times_in_utc() {
    let app = spawn_app();
    let airplane = fleet(&app).await;
    let day = future_day();
    let mut body = flight_body(&airplane, &at(day, "09:30:00.250+05:30"), 0);
    body["price"] = json!({"amount": "450000", "currency": "INR"});
    body["arrivalTime"] = json!(at(day, "11:45:00+05:30"));
    let response = app.send(TestRequest::post("/v1/flights").json(&body)).await;
    response.assert_status(StatusCode::CREATED);
    assert_eq!(response.header("etag"), Some("\"1\""));
    let flight = response.json()["data"].clone();
    let id = id_of(&flight);
    assert_eq!(
        response.header("location"),
        Some(format!("/v1/flights/{id}").as_str())
    );
    assert_eq!(flight["flightNumber"], "AI101");
    assert_eq!(flight["airplaneId"], airplane.as_str());
    assert_eq!(flight["from"], "DEL");
    assert_eq!(flight["to"], "BOM");
    assert_eq!(flight["departureTime"], at(day, "04:00:00.250Z"));
    assert_eq!(flight["arrivalTime"], at(day, "06:15:00.000Z"));
    assert_eq!(
        flight["price"],
        json!({"amount": 450000, "currency": "INR"})
    );
    assert_eq!(flight["totalSeats"], 180);
    assert_eq!(flight["remainingSeats"], 180);
    assert_eq!(flight["status"], "scheduled");
    assert!(flight.get("version").is_none() && flight.get("bookingCount").is_none());

    let (fetched, etag) = get_flight(&app, &id).await;
    assert_eq!(fetched, flight);
    assert_eq!(etag, "\"1\"");
    assert_eq!(audit_actions(&app, "flight", &id).await, ["create"]);
}

#[tokio::test]
async fn invalid_flights_are_400_naming_the_field_and_change_nothing() {
    let app = spawn_app();
    let airplane = fleet(&app).await;
    let day = future_day();
    let departure = at(day, "10:00:00Z");
    let past = (Utc::now() - Duration::hours(1)).to_rfc3339();
    let unknown_airplane = uuid::Uuid::now_v7().to_string();
    let cases: Vec<(&str, Value)> = vec![
        ("flightNumber", json!("ai101")),
        ("flightNumber", json!("AI-101")),
        ("flightNumber", json!("12345")),
        ("flightNumber", json!("AI12345")),
        ("airplaneId", json!("not-a-uuid")),
        ("airplaneId", json!(unknown_airplane)),
        ("from", json!("del")),
        ("from", json!("CCU")),
        ("to", json!("DEL")),
        ("to", json!("CCU")),
        ("departureTime", json!("tomorrow")),
        ("departureTime", json!(at(day, "10:00:00"))),
        ("departureTime", json!(past)),
        ("arrivalTime", json!(at(day, "09:00:00Z"))),
        ("arrivalTime", json!(departure)),
        ("price", json!({"amount": -1, "currency": "INR"})),
        ("price", json!({"amount": "cheap", "currency": "INR"})),
        ("price", json!({"amount": 1.5, "currency": "INR"})),
        ("price", json!({"amount": 100, "currency": "inr"})),
        ("price", json!({"amount": 100})),
        ("price", json!({"amount": 100, "currency": "INR", "tax": 5})),
        ("price", json!(100)),
    ];
    for (field, value) in cases {
        let mut body = flight_body(&airplane, &departure, 1000);
        if field == "departureTime" && value == json!(past) {
            body["arrivalTime"] = json!(Utc::now().to_rfc3339());
        }
        body[field] = value.clone();
        let response = app.send(TestRequest::post("/v1/flights").json(&body)).await;
        let problem = assert_problem(&response, 400);
        assert_eq!(error_fields(&problem), [field], "{field}: {value}");
    }
    let missing = app
        .send(TestRequest::post("/v1/flights").json(&json!({})))
        .await;
    assert_eq!(
        error_fields(&assert_problem(&missing, 400)),
        [
            "flightNumber",
            "airplaneId",
            "from",
            "to",
            "departureTime",
            "arrivalTime",
            "price"
        ]
    );
    let mut extra = flight_body(&airplane, &departure, 1000);
    extra["remainingSeats"] = json!(5);
    let response = app
        .send(TestRequest::post("/v1/flights").json(&extra))
        .await;
    assert_eq!(
        error_fields(&assert_problem(&response, 400)),
        ["remainingSeats"]
    );

    // Nothing was filed and no counter moved: the leg's day is empty, and the airplane and the
    // airports can all go.
    let query = format!("from=DEL&to=BOM&date={day}");
    assert!(search_all(&app, &query).await.is_empty());
    for target in [
        format!("/v1/airplanes/{airplane}"),
        "/v1/airports/DEL".to_owned(),
        "/v1/airports/BOM".to_owned(),
    ] {
        let deleted = app.send(TestRequest::delete(&target)).await;
        assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{target}");
    }
}

#[tokio::test]
async fn anyone_searches_and_reads_flights_but_only_staff_change_them() {
    let app = spawn_app();
    let airplane = fleet(&app).await;
    let day = future_day();
    let flight = create_flight(&app, &flight_body(&airplane, &at(day, "10:00:00Z"), 1000)).await;
    let id = id_of(&flight);
    let search = app
        .send(TestRequest::get(format!("/v1/flights?from=DEL&to=BOM&date={day}")).anonymous())
        .await;
    assert_eq!(search.status, StatusCode::OK);
    get_flight(&app, &id).await;

    let customer = token_for(Role::Customer);
    let writes = [
        TestRequest::post("/v1/flights").json(&flight_body(&airplane, &at(day, "12:00:00Z"), 1)),
        TestRequest::patch(format!("/v1/flights/{id}")).json(&json!({"status": "cancelled"})),
        TestRequest::delete(format!("/v1/flights/{id}")),
    ];
    for request in writes {
        assert_problem(&app.send(request.clone().anonymous()).await, 401);
        assert_problem(&app.send(request.bearer(&customer)).await, 403);
    }
    let (unchanged, etag) = get_flight(&app, &id).await;
    assert_eq!(unchanged, flight);
    assert_eq!(etag, "\"1\"");
}

#[tokio::test]
async fn unknown_flights_and_ids_that_are_not_uuids_are_404() {
    let app = spawn_app();
    let unknown = uuid::Uuid::now_v7().to_string();
    for id in [unknown.as_str(), "AI101", "../airports"] {
        let target = format!("/v1/flights/{id}");
        assert_problem(&app.send(TestRequest::get(&target).anonymous()).await, 404);
        let patch = app
            .send(TestRequest::patch(&target).json(&json!({"status": "departed"})))
            .await;
        assert_problem(&patch, 404);
        assert_problem(&app.send(TestRequest::delete(&target)).await, 404);
    }
}

#[tokio::test]
async fn search_lists_a_days_flights_by_departure_or_by_price_with_filters() {
    let app = spawn_app();
    let airplane = fleet(&app).await;
    let day = future_day();
    // Departure order: early, mid, late; price order: mid, late, early.
    let early = schedule(&app, &airplane, &at(day, "06:00:00+05:30"), 9_000).await;
    let mid = schedule(&app, &airplane, &at(day, "12:00:00+05:30"), 3_000).await;
    let late = schedule(&app, &airplane, &at(day, "18:00:00+05:30"), 5_000).await;
    // The other direction, and another day, are other searches.
    let mut back = flight_body(&airplane, &at(day, "08:00:00+05:30"), 1_000);
    back["from"] = json!("BOM");
    back["to"] = json!("DEL");
    let returning = id_of(&create_flight(&app, &back).await);
    create_flight(
        &app,
        &flight_body(
            &airplane,
            &at(day + Duration::days(1), "08:00:00+05:30"),
            1_000,
        ),
    )
    .await;

    let leg = format!("from=DEL&to=BOM&date={day}");
    assert_eq!(
        search_all(&app, &leg).await,
        [early.as_str(), mid.as_str(), late.as_str()]
    );
    assert_eq!(
        search_all(&app, &format!("{leg}&sort=departure")).await,
        [early.as_str(), mid.as_str(), late.as_str()]
    );
    assert_eq!(
        search_all(&app, &format!("{leg}&sort=price")).await,
        [mid.as_str(), late.as_str(), early.as_str()]
    );
    assert_eq!(
        search_all(&app, &format!("from=BOM&to=DEL&date={day}")).await,
        [returning.as_str()]
    );

    // Fare bounds (inclusive), as a filter by departure and as a key range by price.
    let cases = [
        (
            "minPrice=5000",
            vec![early.as_str(), late.as_str()],
            vec![late.as_str(), early.as_str()],
        ),
        (
            "maxPrice=5000",
            vec![mid.as_str(), late.as_str()],
            vec![mid.as_str(), late.as_str()],
        ),
        (
            "minPrice=3000&maxPrice=5000",
            vec![mid.as_str(), late.as_str()],
            vec![mid.as_str(), late.as_str()],
        ),
        (
            "minPrice=9000&maxPrice=9000",
            vec![early.as_str()],
            vec![early.as_str()],
        ),
        (
            "minPrice=5001&maxPrice=8999",
            Vec::<&str>::new(),
            Vec::<&str>::new(),
        ),
    ];
    for (bounds, by_departure, by_price) in cases {
        assert_eq!(
            search_all(&app, &format!("{leg}&{bounds}")).await,
            by_departure,
            "{bounds}"
        );
        assert_eq!(
            search_all(&app, &format!("{leg}&{bounds}&sort=price")).await,
            by_price,
            "{bounds}"
        );
    }

    // Seats: 179 of the late flight's 180 seats are taken.
    book(&app, &late, 179).await;
    assert_eq!(
        search_all(&app, &format!("{leg}&seats=1")).await,
        [early.as_str(), mid.as_str(), late.as_str()]
    );
    assert_eq!(
        search_all(&app, &format!("{leg}&seats=2")).await,
        [early.as_str(), mid.as_str()]
    );
    assert_eq!(
        search_all(&app, &format!("{leg}&seats=2&sort=price&maxPrice=5000")).await,
        [mid.as_str()]
    );
}

#[tokio::test]
async fn search_pages_follow_signed_cursors_bound_to_the_query() {
    let app = spawn_app();
    let airplane = fleet(&app).await;
    let day = future_day();
    let mut by_departure = Vec::new();
    for (hour, amount) in [(1, 700), (3, 200), (5, 500), (7, 100), (9, 300)] {
        let departure = at(day, &format!("{hour:02}:00:00+05:30"));
        let flight = create_flight(&app, &flight_body(&airplane, &departure, amount)).await;
        by_departure.push((id_of(&flight), amount));
    }
    let mut by_price = by_departure.clone();
    by_price.sort_by_key(|(_, amount)| *amount);
    let ids = |flights: &[(String, i64)]| -> Vec<String> {
        flights.iter().map(|(id, _)| id.clone()).collect()
    };
    let leg = format!("from=DEL&to=BOM&date={day}");
    for (sort, expected) in [("departure", ids(&by_departure)), ("price", ids(&by_price))] {
        let query = format!("{leg}&sort={sort}&limit=2");
        let (first, next) = search_page(&app, &query).await;
        assert_eq!(first, expected[..2], "{sort}");
        assert!(next.is_some(), "{sort}");
        assert_eq!(search_all(&app, &query).await, expected, "{sort}");
    }

    let (_, cursor) = search_page(&app, &format!("{leg}&limit=2")).await;
    let cursor = cursor.expect("a second page");
    let mut tampered: Vec<char> = cursor.chars().collect();
    tampered[4] = if tampered[4] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    let next_day = day + Duration::days(1);
    for query in [
        format!("{leg}&limit=2&cursor={tampered}"),
        format!("{leg}&limit=2&cursor={cursor}&sort=price"),
        format!("{leg}&limit=2&cursor={cursor}&seats=2"),
        format!("{leg}&limit=2&cursor={cursor}&minPrice=1"),
        format!("from=DEL&to=BOM&date={next_day}&limit=2&cursor={cursor}"),
        format!("from=BOM&to=DEL&date={day}&limit=2&cursor={cursor}"),
    ] {
        let response = app
            .send(TestRequest::get(format!("/v1/flights?{query}")).anonymous())
            .await;
        assert_eq!(
            error_fields(&assert_problem(&response, 400)),
            ["cursor"],
            "{query}"
        );
    }
    // The page size is not part of the query a cursor is bound to.
    let (rest, _) = search_page(&app, &format!("{leg}&limit=10&cursor={cursor}")).await;
    assert_eq!(rest, ids(&by_departure)[2..]);
}

#[tokio::test]
async fn search_parameters_that_are_missing_or_invalid_are_400_naming_them() {
    let app = spawn_app();
    let day = future_day();
    let leg = format!("from=DEL&to=BOM&date={day}");
    let cases: Vec<(String, Vec<&str>)> = vec![
        (String::new(), vec!["from", "to", "date"]),
        (format!("from=DEL&date={day}"), vec!["to"]),
        ("from=DEL&to=BOM".into(), vec!["date"]),
        (format!("from=del&to=BOM&date={day}"), vec!["from"]),
        (format!("from=DEL&to=DEL&date={day}"), vec!["to"]),
        ("from=DEL&to=BOM&date=2026-13-01".into(), vec!["date"]),
        ("from=DEL&to=BOM&date=01-12-2026".into(), vec!["date"]),
        (format!("{leg}&minPrice=-1"), vec!["minPrice"]),
        (format!("{leg}&maxPrice=cheap"), vec!["maxPrice"]),
        (format!("{leg}&minPrice=500&maxPrice=100"), vec!["minPrice"]),
        (format!("{leg}&seats=0"), vec!["seats"]),
        (format!("{leg}&seats=10"), vec!["seats"]),
        (format!("{leg}&sort=cheapest"), vec!["sort"]),
        (format!("{leg}&limit=101"), vec!["limit"]),
    ];
    for (query, fields) in cases {
        let response = app
            .send(TestRequest::get(format!("/v1/flights?{query}")).anonymous())
            .await;
        assert_eq!(
            error_fields(&assert_problem(&response, 400)),
            fields,
            "{query}"
        );
    }
    // A parameter the search does not declare is ignored, not refused: a shared cache keys the
    // search on its declared parameters only, and would serve such a refusal to everyone.
    let ignored = app
        .send(TestRequest::get(format!("/v1/flights?{leg}&airline=AI")).anonymous())
        .await;
    ignored.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn the_search_date_is_the_local_date_at_the_origin() {
    let app = spawn_app();
    let airplane = fleet(&app).await;
    create_airport(&app, "JFK", "America/New_York").await;
    let day = future_day();
    let next_day = day + Duration::days(1);
    // 20:00 UTC is 01:30 the next morning in Delhi (+05:30).
    let night = schedule(&app, &airplane, &at(day, "20:00:00Z"), 1).await;
    // 02:00 UTC is still the evening before in New York.
    let mut westbound = flight_body(&airplane, &at(next_day, "02:00:00Z"), 1);
    westbound["from"] = json!("JFK");
    westbound["to"] = json!("DEL");
    westbound["arrivalTime"] = json!(at(next_day, "16:00:00Z"));
    let evening = id_of(&create_flight(&app, &westbound).await);

    assert!(
        search_all(&app, &format!("from=DEL&to=BOM&date={day}"))
            .await
            .is_empty()
    );
    assert_eq!(
        search_all(&app, &format!("from=DEL&to=BOM&date={next_day}")).await,
        [night]
    );
    assert_eq!(
        search_all(&app, &format!("from=JFK&to=DEL&date={day}")).await,
        [evening]
    );
    assert!(
        search_all(&app, &format!("from=JFK&to=DEL&date={next_day}"))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn a_patch_changes_only_the_given_fields_and_moves_the_flight_in_search() {
    let app = spawn_app();
    let airplane = fleet(&app).await;
    let day = future_day();
    let next_day = day + Duration::days(1);
    let flight = create_flight(&app, &flight_body(&airplane, &at(day, "10:00:00Z"), 5_000)).await;
    let id = id_of(&flight);

    let repriced = patch_flight(
        &app,
        &id,
        json!({"price": {"amount": "7000", "currency": "INR"}}),
    )
    .await;
    repriced.assert_status(StatusCode::OK);
    assert_eq!(repriced.header("etag"), Some("\"2\""));
    let after = repriced.json()["data"].clone();
    assert_eq!(after["price"], json!({"amount": 7000, "currency": "INR"}));
    assert_eq!(after["departureTime"], flight["departureTime"]);
    assert_eq!(after["createdAt"], flight["createdAt"]);
    let leg = format!("from=DEL&to=BOM&date={day}");
    assert!(
        search_all(&app, &format!("{leg}&sort=price&maxPrice=6000"))
            .await
            .is_empty()
    );
    assert_eq!(
        search_all(&app, &format!("{leg}&sort=price&minPrice=7000")).await,
        [id.as_str()]
    );

    let moved = app
        .send(
            TestRequest::patch(format!("/v1/flights/{id}"))
                .header("if-match", "\"2\"")
                .json(&json!({
                    "departureTime": at(next_day, "10:00:00+05:30"),
                    "arrivalTime": at(next_day, "12:00:00+05:30"),
                })),
        )
        .await;
    moved.assert_status(StatusCode::OK);
    assert_eq!(
        moved.json()["data"]["departureTime"],
        at(next_day, "04:30:00.000Z")
    );
    assert!(search_all(&app, &leg).await.is_empty());
    for sort in ["departure", "price"] {
        assert_eq!(
            search_all(
                &app,
                &format!("from=DEL&to=BOM&date={next_day}&sort={sort}")
            )
            .await,
            [id.as_str()]
        );
    }

    let stale = app
        .send(
            TestRequest::patch(format!("/v1/flights/{id}"))
                .header("if-match", "\"2\"")
                .json(&json!({"price": {"amount": 1, "currency": "INR"}})),
        )
        .await;
    assert_problem(&stale, 412);

    let past = (Utc::now() - Duration::hours(1)).to_rfc3339();
    for (body, field) in [
        (
            json!({"arrivalTime": at(next_day, "03:00:00Z")}),
            "arrivalTime",
        ),
        (
            json!({"departureTime": at(next_day, "23:00:00Z")}),
            "departureTime",
        ),
        (json!({"departureTime": past}), "departureTime"),
        (
            json!({"departureTime": at(next_day, "08:00:00Z"), "arrivalTime": at(next_day, "07:00:00Z")}),
            "arrivalTime",
        ),
        (json!({"price": {"amount": -5, "currency": "INR"}}), "price"),
        (json!({"status": "boarding"}), "status"),
        (json!({"remainingSeats": 3}), "remainingSeats"),
        (json!({"from": "BOM"}), "from"),
    ] {
        let response = patch_flight(&app, &id, body.clone()).await;
        assert_eq!(
            error_fields(&assert_problem(&response, 400)),
            [field],
            "{body}"
        );
    }
    assert_problem(&patch_flight(&app, &id, json!({})).await, 400);

    let (current, etag) = get_flight(&app, &id).await;
    assert_eq!(etag, "\"3\"");
    assert_eq!(current, moved.json()["data"]);
    assert_eq!(
        audit_actions(&app, "flight", &id).await,
        ["update", "update", "create"]
    );
}

#[tokio::test]
async fn statuses_move_scheduled_departed_arrived_and_nothing_else() {
    let app = spawn_app();
    let airplane = fleet(&app).await;
    let day = future_day();
    let leg = format!("from=DEL&to=BOM&date={day}");
    let flight = create_flight(&app, &flight_body(&airplane, &at(day, "10:00:00Z"), 5_000)).await;
    let id = id_of(&flight);

    assert_problem(
        &patch_flight(&app, &id, json!({"status": "arrived"})).await,
        409,
    );
    let departed = patch_flight(&app, &id, json!({"status": "departed"})).await;
    assert_eq!(departed.status, StatusCode::OK);
    assert_eq!(departed.json()["data"]["status"], "departed");
    assert!(
        search_all(&app, &leg).await.is_empty(),
        "only scheduled flights are found"
    );
    for refused in [
        json!({"status": "scheduled"}),
        json!({"status": "cancelled"}),
        json!({"price": {"amount": 1, "currency": "INR"}}),
    ] {
        let response = patch_flight(&app, &id, refused.clone()).await;
        assert_problem(&response, 409);
    }
    let arrived = patch_flight(&app, &id, json!({"status": "arrived"})).await;
    assert_eq!(arrived.status, StatusCode::OK);
    for refused in ["scheduled", "departed", "cancelled"] {
        let response = patch_flight(&app, &id, json!({"status": refused})).await;
        assert_problem(&response, 409);
    }

    let second = create_flight(&app, &flight_body(&airplane, &at(day, "12:00:00Z"), 5_000)).await;
    let second = id_of(&second);
    let cancelled = patch_flight(&app, &second, json!({"status": "cancelled"})).await;
    assert_eq!(cancelled.status, StatusCode::OK);
    assert!(search_all(&app, &leg).await.is_empty());
    for refused in ["scheduled", "departed", "arrived"] {
        let response = patch_flight(&app, &second, json!({"status": refused})).await;
        assert_problem(&response, 409);
    }
    let (flight, _) = get_flight(&app, &second).await;
    assert_eq!(flight["status"], "cancelled");
}

#[tokio::test]
async fn a_patch_keeps_the_seats_bookings_took_and_the_etag_follows_them() {
    let app = spawn_app();
    let airplane = fleet(&app).await;
    let day = future_day();
    let id = schedule(&app, &airplane, &at(day, "10:00:00Z"), 5_000).await;
    book(&app, &id, 4).await;
    let (booked, etag) = get_flight(&app, &id).await;
    assert_eq!(booked["remainingSeats"], 176);
    assert_eq!(booked["totalSeats"], 180);
    assert_eq!(etag, "\"2\"", "a seat change is a new version");

    // Written with the version read before the booking: refused, nothing overwritten.
    let stale = app
        .send(
            TestRequest::patch(format!("/v1/flights/{id}"))
                .header("if-match", "\"1\"")
                .json(&json!({"price": {"amount": 6000, "currency": "INR"}})),
        )
        .await;
    assert_problem(&stale, 412);
    let repriced = patch_flight(
        &app,
        &id,
        json!({"price": {"amount": 6000, "currency": "INR"}}),
    )
    .await;
    assert_eq!(repriced.status, StatusCode::OK);
    assert_eq!(repriced.json()["data"]["remainingSeats"], 176);
    let (current, etag) = get_flight(&app, &id).await;
    assert_eq!(current["remainingSeats"], 176);
    assert_eq!(current["price"]["amount"], 6000);
    assert_eq!(etag, "\"3\"");
}

#[tokio::test]
async fn a_booked_flight_is_cancelled_at_once_stages_its_fan_out_and_frees_the_airplane() {
    let app = spawn_app();
    let airplane = fleet(&app).await;
    let day = future_day();
    let flight = create_flight(&app, &flight_body(&airplane, &at(day, "10:00:00Z"), 5_000)).await;
    let id = id_of(&flight);
    let airplane_path = format!("/v1/airplanes/{airplane}");

    let in_use = app.send(TestRequest::delete(&airplane_path)).await;
    assert_problem(&in_use, 409);

    // Seats are held: the cancellation takes effect at once all the same, and leaves the
    // bookings to the worker through a task staged with it.
    book(&app, &id, 2).await;
    let cancelled = patch_flight(&app, &id, json!({"status": "cancelled"})).await;
    cancelled.assert_status(StatusCode::OK);
    assert_eq!(cancelled.json()["data"]["status"], "cancelled");
    let staged = app
        .store
        .query(itinera::storage::Query::partition(None, "OUTBOX"))
        .await
        .unwrap();
    let fan_outs: Vec<_> = staged
        .items
        .iter()
        .filter(|item| item["kind"] == "cancel-flight-bookings")
        .collect();
    assert_eq!(fan_outs.len(), 1, "{:?}", staged.items);
    assert!(
        fan_outs[0]["body"].as_str().unwrap().contains(&id),
        "{:?}",
        fan_outs[0]
    );

    // The flight still exists, so its airports stay in use, but its airplane is free.
    assert_problem(
        &app.send(TestRequest::delete("/v1/airports/DEL")).await,
        409,
    );
    let retired = app.send(TestRequest::delete(&airplane_path)).await;
    assert_eq!(retired.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn airports_in_use_cannot_be_deleted_or_change_time_zone() {
    let app = spawn_app();
    let airplane = fleet(&app).await;
    let day = future_day();
    let id = schedule(&app, &airplane, &at(day, "10:00:00Z"), 5_000).await;
    for code in ["DEL", "BOM"] {
        let target = format!("/v1/airports/{code}");
        assert_problem(&app.send(TestRequest::delete(&target)).await, 409);
        let moved = app
            .send(TestRequest::patch(&target).json(&json!({"timeZone": "Europe/Berlin"})))
            .await;
        assert_problem(&moved, 409);
        // Other changes, and naming the zone it already has, are fine.
        let renamed = app
            .send(
                TestRequest::patch(&target)
                    .json(&json!({"name": "Renamed", "timeZone": "Asia/Kolkata"})),
            )
            .await;
        renamed.assert_status(StatusCode::OK);
    }
    let deleted = app
        .send(TestRequest::delete(format!("/v1/flights/{id}")))
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let moved = app
        .send(TestRequest::patch("/v1/airports/BOM").json(&json!({"timeZone": "Asia/Dubai"})))
        .await;
    assert_eq!(moved.status, StatusCode::OK);
    for code in ["DEL", "BOM"] {
        let response = app
            .send(TestRequest::delete(format!("/v1/airports/{code}")))
            .await;
        assert_eq!(response.status, StatusCode::NO_CONTENT, "{code}");
    }
}

#[tokio::test]
async fn a_booked_flight_cannot_be_deleted_only_cancelled() {
    let app = spawn_app();
    let airplane = fleet(&app).await;
    let day = future_day();
    let flight = create_flight(&app, &flight_body(&airplane, &at(day, "10:00:00Z"), 5_000)).await;
    let id = id_of(&flight);
    let target = format!("/v1/flights/{id}");
    book(&app, &id, 1).await;
    book(&app, &id, -1).await;
    let refused = app.send(TestRequest::delete(&target)).await;
    let problem = assert_problem(&refused, 409);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("cancel the flight instead"),
        "{problem}"
    );
    let cancelled = patch_flight(&app, &id, json!({"status": "cancelled"})).await;
    assert_eq!(cancelled.status, StatusCode::OK);
    assert_problem(&app.send(TestRequest::delete(&target)).await, 409);
    get_flight(&app, &id).await;
}

#[tokio::test]
async fn deleting_flights_releases_the_airplane_and_the_airports_exactly_once() {
    let app = spawn_app();
    let airplane = fleet(&app).await;
    let day = future_day();
    let first = schedule(&app, &airplane, &at(day, "10:00:00Z"), 1).await;
    let second = schedule(&app, &airplane, &at(day, "14:00:00Z"), 1).await;
    let airplane_path = format!("/v1/airplanes/{airplane}");

    let stale = app
        .send(TestRequest::delete(format!("/v1/flights/{first}")).header("if-match", "\"9\""))
        .await;
    assert_problem(&stale, 412);
    // Cancelled first, then deleted: the airplane is given back its flight only once.
    let cancelled = patch_flight(&app, &first, json!({"status": "cancelled"})).await;
    assert_eq!(cancelled.status, StatusCode::OK);
    let deleted = app
        .send(TestRequest::delete(format!("/v1/flights/{first}")).header("if-match", "\"2\""))
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_problem(
        &app.send(TestRequest::get(format!("/v1/flights/{first}")))
            .await,
        404,
    );
    assert_problem(
        &app.send(TestRequest::delete(format!("/v1/flights/{first}")))
            .await,
        404,
    );
    assert_problem(&app.send(TestRequest::delete(&airplane_path)).await, 409);
    assert_problem(
        &app.send(TestRequest::delete("/v1/airports/BOM")).await,
        409,
    );

    // Deleted while scheduled: airplane and airports are free.
    let deleted = app
        .send(TestRequest::delete(format!("/v1/flights/{second}")))
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert!(
        search_all(&app, &format!("from=DEL&to=BOM&date={day}"))
            .await
            .is_empty()
    );
    for target in [
        airplane_path,
        "/v1/airports/DEL".into(),
        "/v1/airports/BOM".into(),
    ] {
        let response = app.send(TestRequest::delete(&target)).await;
        assert_eq!(response.status, StatusCode::NO_CONTENT, "{target}");
    }
    assert_eq!(
        audit_actions(&app, "flight", &first).await,
        ["delete", "update", "create"]
    );
    assert_eq!(
        audit_actions(&app, "flight", &second).await,
        ["delete", "create"]
    );
}

/// The same requests on the DynamoDB adapter (moto): the conditions, counters, index keys that
/// come and go, and fare ranges are rendered into DynamoDB expressions there.
#[tokio::test]
async fn the_flight_lifecycle_runs_on_dynamodb() {
    let api = api_over(fresh_dynamodb_store().await, Arc::new(UuidV7Ids));
    let staff = token_for(Role::Staff);
    let call = |request: TestRequest| {
        let api = &api;
        let request = request.bearer(&staff);
        async move { send(api, request).await }
    };
    for code in ["DEL", "BOM"] {
        let response = call(
            TestRequest::post("/v1/airports")
                .json(&crate::airports::airport_body(code, "Asia/Kolkata")),
        )
        .await;
        response.assert_status(StatusCode::CREATED);
    }
    let airplane = call(
        TestRequest::post("/v1/airplanes").json(&json!({"modelNumber": "A320", "capacity": 180})),
    )
    .await
    .json()["data"]["id"]
        .as_str()
        .expect("an airplane")
        .to_owned();
    let day = future_day();
    let mut ids = Vec::new();
    for (time, amount) in [("20:00:00Z", 5_000), ("10:00:00Z", 3_000)] {
        let response = call(TestRequest::post("/v1/flights").json(&flight_body(
            &airplane,
            &at(day, time),
            amount,
        )))
        .await;
        response.assert_status(StatusCode::CREATED);
        ids.push(id_of(&response.json()["data"]));
    }
    let (night, morning) = (&ids[0], &ids[1]);
    let found = |query: String| {
        let call = &call;
        async move {
            let response = call(TestRequest::get(format!("/v1/flights?{query}"))).await;
            response.assert_status(StatusCode::OK);
            response.json()["data"]
                .as_array()
                .expect("a page")
                .iter()
                .map(id_of)
                .collect::<Vec<_>>()
        }
    };
    let next_day = day + Duration::days(1);
    assert_eq!(
        found(format!("from=DEL&to=BOM&date={day}")).await,
        [morning.as_str()]
    );
    assert_eq!(
        found(format!("from=DEL&to=BOM&date={next_day}")).await,
        [night.as_str()]
    );
    assert_eq!(
        found(format!(
            "from=DEL&to=BOM&date={day}&sort=price&minPrice=3000&maxPrice=3000"
        ))
        .await,
        [morning.as_str()]
    );
    assert!(
        found(format!("from=DEL&to=BOM&date={day}&minPrice=3001&seats=1"))
            .await
            .is_empty()
    );

    assert_problem(
        &call(TestRequest::delete(format!("/v1/airplanes/{airplane}"))).await,
        409,
    );
    for id in [night, morning] {
        let cancelled = call(
            TestRequest::patch(format!("/v1/flights/{id}")).json(&json!({"status": "cancelled"})),
        )
        .await;
        cancelled.assert_status(StatusCode::OK);
    }
    assert!(
        found(format!("from=DEL&to=BOM&date={day}&sort=price"))
            .await
            .is_empty()
    );
    assert_problem(&call(TestRequest::delete("/v1/airports/DEL")).await, 409);
    for id in [night, morning] {
        let deleted = call(TestRequest::delete(format!("/v1/flights/{id}"))).await;
        deleted.assert_status(StatusCode::NO_CONTENT);
    }
    for target in [
        format!("/v1/airplanes/{airplane}"),
        "/v1/airports/DEL".into(),
        "/v1/airports/BOM".into(),
    ] {
        let response = call(TestRequest::delete(&target)).await;
        assert_eq!(response.status, StatusCode::NO_CONTENT, "{target}");
    }
}
