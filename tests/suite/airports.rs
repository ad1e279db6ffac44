//! Black-box tests of the airport API, through the router; the helpers at the top serve the
//! flight tests too.

use http::StatusCode;
use itinera::identity::Role;
use itinera_tests::{TestApp, TestRequest, TestResponse, spawn_app, token_for};
use serde_json::{Value, json};

/// Checks that `response` is an RFC 9457 problem with `status`, and returns its body.
pub(crate) fn assert_problem(response: &TestResponse, status: u16) -> Value {
    assert_eq!(response.status.as_u16(), status, "{:?}", response.json());
    assert_eq!(
        response.header("content-type"),
        Some("application/problem+json")
    );
    let body = response.json();
    assert_eq!(body["status"], status);
    assert!(body["detail"].is_string());
    body
}

/// The fields a validation problem names.
pub(crate) fn error_fields(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|error| error["field"].as_str().unwrap().to_owned())
        .collect()
}

/// The body of an airport with this code in this time zone.
pub(crate) fn airport_body(code: &str, time_zone: &str) -> Value {
    json!({
        "code": code,
        "name": format!("{code} International"),
        "city": format!("{code} City"),
        "country": "IN",
        "timeZone": time_zone,
    })
}

/// Creates an airport as staff and returns its JSON.
pub(crate) async fn create_airport(app: &TestApp, code: &str, time_zone: &str) -> Value {
    let response = app
        .send(TestRequest::post("/v1/airports").json(&airport_body(code, time_zone)))
        .await;
    response.created()
}

/// The actions of an entity's audit history, newest first, as an admin reads them.
pub(crate) async fn audit_actions(app: &TestApp, entity_type: &str, id: &str) -> Vec<String> {
    let response = app
        .send(
            TestRequest::get(format!(
                "/v1/audit?entityType={entity_type}&entityId={id}&limit=100"
            ))
            .bearer(&token_for(Role::Admin)),
        )
        .await;
    response.assert_status(StatusCode::OK);
    response.json()["data"]
        .as_array()
        .expect("a page")
        .iter()
        .map(|entry| entry["action"].as_str().unwrap().to_owned())
        .collect()
}

/// Every airport code, following cursors, in list order.
async fn all_codes(app: &TestApp, limit: u32) -> Vec<String> {
    let mut codes = Vec::new();
    let mut target = format!("/v1/airports?limit={limit}");
    loop {
        let response = app.send(TestRequest::get(&target).anonymous()).await;
        response.assert_status(StatusCode::OK);
        let body = response.json();
        assert_eq!(body["pagination"]["limit"], limit);
        codes.extend(
            body["data"]
                .as_array()
                .expect("a page")
                .iter()
                .map(|airport| airport["code"].as_str().unwrap().to_owned()),
        );
        match body["pagination"]["nextCursor"].as_str() {
            Some(cursor) => target = format!("/v1/airports?limit={limit}&cursor={cursor}"),
            None => return codes,
        }
    }
}

#[tokio::test]
async fn create_answers_201_with_location_etag_and_the_trimmed_airport() {
    let app = spawn_app();
    let response = app
        .send(TestRequest::post("/v1/airports").json(&json!({
            "code": "DEL",
            "name": "  Indira Gandhi International ",
            "city": " Delhi",
            "country": "IN",
            "timeZone": "Asia/Kolkata",
        })))
        .await;
    assert_eq!(response.status, StatusCode::CREATED);
    assert_eq!(response.header("location"), Some("/v1/airports/DEL"));
    assert_eq!(response.header("etag"), Some("\"1\""));
    let airport = response.json()["data"].clone();
    assert_eq!(airport["code"], "DEL");
    assert_eq!(airport["name"], "Indira Gandhi International");
    assert_eq!(airport["city"], "Delhi");
    assert_eq!(airport["country"], "IN");
    assert_eq!(airport["timeZone"], "Asia/Kolkata");
    assert!(airport.get("version").is_none() && airport.get("flightCount").is_none());

    let fetched = app
        .send(TestRequest::get("/v1/airports/DEL").anonymous())
        .await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.header("etag"), Some("\"1\""));
    assert_eq!(fetched.json()["data"], airport);
}

#[tokio::test]
async fn invalid_airports_are_400_naming_each_field_and_store_nothing() {
    let app = spawn_app();
    let cases = [
        ("code", json!("del")),
        ("code", json!("DELH")),
        ("code", json!("D1L")),
        ("code", json!(123)),
        ("name", json!("   ")),
        ("name", json!("x".repeat(101))),
        ("city", json!("New\nDelhi")),
        ("country", json!("UK")),
        ("country", json!("XX")),
        ("country", json!("in")),
        ("timeZone", json!("Mars/Olympus_Mons")),
        ("timeZone", json!("asia/kolkata")),
        ("timeZone", json!("+05:30")),
    ];
    for (field, value) in cases {
        let mut body = airport_body("DEL", "Asia/Kolkata");
        body[field] = value.clone();
        let response = app
            .send(TestRequest::post("/v1/airports").json(&body))
            .await;
        let problem = assert_problem(&response, 400);
        assert_eq!(error_fields(&problem), [field], "{field}: {value}");
    }
    let missing = app
        .send(TestRequest::post("/v1/airports").json(&json!({})))
        .await;
    let problem = assert_problem(&missing, 400);
    assert_eq!(
        error_fields(&problem),
        ["code", "name", "city", "country", "timeZone"]
    );
    let unknown = app
        .send(
            TestRequest::post("/v1/airports")
                .json(&json!({"code": "DEL", "flightCount": 3, "name": "x"})),
        )
        .await;
    assert_eq!(
        error_fields(&assert_problem(&unknown, 400)),
        ["flightCount"]
    );
    assert!(all_codes(&app, 10).await.is_empty());
}

#[tokio::test]
async fn a_duplicate_code_is_409_and_keeps_the_first_airport() {
    let app = spawn_app();
    let first = create_airport(&app, "BOM", "Asia/Kolkata").await;
    let mut second = airport_body("BOM", "Europe/Berlin");
    second["name"] = json!("Another");
    let response = app
        .send(TestRequest::post("/v1/airports").json(&second))
        .await;
    let problem = assert_problem(&response, 409);
    assert!(
        problem["detail"].as_str().unwrap().contains("BOM"),
        "{problem}"
    );
    let fetched = app.send(TestRequest::get("/v1/airports/BOM")).await;
    assert_eq!(fetched.json()["data"], first);
    assert_eq!(audit_actions(&app, "airport", "BOM").await, ["create"]);
}

#[tokio::test]
async fn anyone_reads_airports_but_only_staff_change_them() {
    let app = spawn_app();
    create_airport(&app, "DEL", "Asia/Kolkata").await;
    for target in ["/v1/airports", "/v1/airports/DEL"] {
        let response = app.send(TestRequest::get(target).anonymous()).await;
        assert_eq!(response.status, StatusCode::OK, "{target}");
    }
    let customer = token_for(Role::Customer);
    let writes = [
        TestRequest::post("/v1/airports").json(&airport_body("BOM", "Asia/Kolkata")),
        TestRequest::patch("/v1/airports/DEL").json(&json!({"city": "Nowhere"})),
        TestRequest::delete("/v1/airports/DEL"),
    ];
    for request in writes {
        let anonymous = app.send(request.clone().anonymous()).await;
        assert_problem(&anonymous, 401);
        let forbidden = app.send(request.bearer(&customer)).await;
        assert_problem(&forbidden, 403);
    }
    assert_eq!(all_codes(&app, 10).await, ["DEL"]);
    let fetched = app.send(TestRequest::get("/v1/airports/DEL")).await;
    assert_eq!(fetched.json()["data"]["city"], "DEL City");
}

#[tokio::test]
async fn unknown_and_impossible_codes_are_404() {
    let app = spawn_app();
    for target in ["/v1/airports/XYZ", "/v1/airports/del", "/v1/airports/DELHI"] {
        let get = app.send(TestRequest::get(target).anonymous()).await;
        assert_problem(&get, 404);
        let patch = app
            .send(TestRequest::patch(target).json(&json!({"city": "x"})))
            .await;
        assert_problem(&patch, 404);
        let delete = app.send(TestRequest::delete(target)).await;
        assert_problem(&delete, 404);
    }
}

#[tokio::test]
async fn the_list_pages_by_code_without_duplicates_or_gaps() {
    let app = spawn_app();
    let codes = ["MAA", "BOM", "DEL", "BLR", "CCU", "HYD", "GOI"];
    for code in codes {
        create_airport(&app, code, "Asia/Kolkata").await;
    }
    let mut sorted = codes.map(str::to_owned).to_vec();
    sorted.sort();
    assert_eq!(all_codes(&app, 3).await, sorted);
    assert_eq!(all_codes(&app, 100).await, sorted);
}

#[tokio::test]
async fn list_parameters_out_of_range_unknown_or_tampered_are_400() {
    let app = spawn_app();
    for code in ["AAA", "BBB", "CCC"] {
        create_airport(&app, code, "UTC").await;
    }
    let first = app.send(TestRequest::get("/v1/airports?limit=1")).await;
    let cursor = first.json()["pagination"]["nextCursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let mut tampered: Vec<char> = cursor.chars().collect();
    tampered[2] = if tampered[2] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        (&*format!("cursor={tampered}"), "cursor"),
        ("cursor=garbage", "cursor"),
    ] {
        let response = app
            .send(TestRequest::get(format!("/v1/airports?{query}")).anonymous())
            .await;
        let problem = assert_problem(&response, 400);
        assert_eq!(error_fields(&problem), [field], "{query}");
    }
    // A parameter the list does not declare is ignored, not refused: a shared cache keys the
    // list on its declared parameters only, and would serve such a refusal to every caller.
    let ignored = app
        .send(TestRequest::get("/v1/airports?limit=1&sort=name").anonymous())
        .await;
    ignored.assert_status(StatusCode::OK);
    assert_eq!(ignored.header("etag"), first.header("etag"));
    // A cursor of another list does not resume this one.
    app.create_airplane("A320", 180).await;
    app.create_airplane("A321", 200).await;
    let airplanes = app.send(TestRequest::get("/v1/airplanes?limit=1")).await;
    let foreign = airplanes.json()["pagination"]["nextCursor"]
        .as_str()
        .expect("a next page of airplanes")
        .to_owned();
    let crossed = app
        .send(TestRequest::get(format!(
            "/v1/airports?limit=1&cursor={foreign}"
        )))
        .await;
    assert_eq!(error_fields(&assert_problem(&crossed, 400)), ["cursor"]);
    let second = app
        .send(TestRequest::get(format!(
            "/v1/airports?limit=1&cursor={cursor}"
        )))
        .await;
    assert_eq!(second.json()["data"][0]["code"], "BBB");
}

#[tokio::test]
async fn a_patch_changes_only_whitelisted_fields_under_if_match() {
    let app = spawn_app();
    let original = create_airport(&app, "DEL", "Asia/Kolkata").await;

    let stale = app
        .send(
            TestRequest::patch("/v1/airports/DEL")
                .header("if-match", "\"7\"")
                .json(&json!({"city": "New Delhi"})),
        )
        .await;
    assert_problem(&stale, 412);

    let updated = app
        .send(
            TestRequest::patch("/v1/airports/DEL")
                .header("if-match", "\"1\"")
                .json(&json!({"city": " New Delhi ", "timeZone": "Asia/Calcutta"})),
        )
        .await;
    updated.assert_status(StatusCode::OK);
    assert_eq!(updated.header("etag"), Some("\"2\""));
    let airport = updated.json()["data"].clone();
    assert_eq!(airport["city"], "New Delhi");
    assert_eq!(airport["timeZone"], "Asia/Calcutta");
    assert_eq!(airport["name"], original["name"]);
    assert_eq!(airport["createdAt"], original["createdAt"]);

    for (body, field) in [
        (json!({"code": "BOM"}), "code"),
        (json!({"country": "ZZ"}), "country"),
        (json!({"timeZone": "Nowhere/Special"}), "timeZone"),
        (json!({"name": ""}), "name"),
    ] {
        let response = app
            .send(TestRequest::patch("/v1/airports/DEL").json(&body))
            .await;
        let problem = assert_problem(&response, 400);
        assert_eq!(error_fields(&problem), [field], "{body}");
    }
    let empty = app
        .send(TestRequest::patch("/v1/airports/DEL").json(&json!({})))
        .await;
    assert_problem(&empty, 400);

    let fetched = app.send(TestRequest::get("/v1/airports/DEL")).await;
    assert_eq!(fetched.json()["data"], airport);
    assert_eq!(fetched.header("etag"), Some("\"2\""));
}

#[tokio::test]
async fn delete_is_204_then_404_and_every_change_is_audited() {
    let app = spawn_app();
    create_airport(&app, "GOI", "Asia/Kolkata").await;
    let stale = app
        .send(TestRequest::delete("/v1/airports/GOI").header("if-match", "\"3\""))
        .await;
    assert_problem(&stale, 412);
    let renamed = app
        .send(TestRequest::patch("/v1/airports/GOI").json(&json!({"name": "Dabolim"})))
        .await;
    assert_eq!(renamed.status, StatusCode::OK);
    let deleted = app
        .send(TestRequest::delete("/v1/airports/GOI").header("if-match", "\"2\""))
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = app.send(TestRequest::get("/v1/airports/GOI")).await;
    assert_problem(&gone, 404);
    let again = app.send(TestRequest::delete("/v1/airports/GOI")).await;
    assert_problem(&again, 404);
    assert_eq!(
        audit_actions(&app, "airport", "GOI").await,
        ["delete", "update", "create"]
    );
    // The code is free again.
    create_airport(&app, "GOI", "Asia/Kolkata").await;
}
