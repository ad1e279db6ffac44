//! Black-box tests of the airplane API and the pipeline, through the router.

use std::sync::Arc;

use http::{Method, StatusCode};
use itinera::clock::UuidV7Ids;
use itinera::identity::Role;
use itinera::storage::{Delete, Item, Key, Page, Put, Query, Store, StoreError, Update, WriteOp};
use itinera_tests::{
    ALLOWED_ORIGIN, TestRequest, TestResponse, api_over, send, spawn_app, token_for,
};
use serde_json::{Value, json};

const SECURITY_HEADERS: [(&str, &str); 7] = [
    (
        "strict-transport-security",
        "max-age=31536000; includeSubDomains",
    ),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    (
        "content-security-policy",
        "default-src 'none'; frame-ancestors 'none'",
    ),
    ("cross-origin-resource-policy", "same-origin"),
    ("x-xss-protection", "0"),
];

fn assert_problem(response: &TestResponse, status: u16) -> Value {
    assert_eq!(response.status.as_u16(), status, "{:?}", response.json());
    assert_eq!(
        response.header("content-type"),
        Some("application/problem+json")
    );
    let body = response.json();
    assert_eq!(body["status"], status);
    assert!(
        body["type"]
            .as_str()
            .unwrap()
            .starts_with("urn:itinera:problem:")
    );
    assert!(body["title"].is_string() && body["detail"].is_string());
    assert_eq!(body["requestId"].as_str(), response.header("x-request-id"));
    body
}

fn error_fields(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|error| error["field"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn create_answers_201_with_location_etag_and_the_airplane() {
    let app = spawn_app();
    let response = app
        .send(
            TestRequest::post("/v1/airplanes")
                .json(&json!({"modelNumber": "  A320neo ", "capacity": 180})),
        )
        .await;
    assert_eq!(response.status, StatusCode::CREATED);
    let airplane = &response.json()["data"];
    assert_eq!(airplane["modelNumber"], "A320neo");
    assert_eq!(airplane["capacity"], 180);
    let id = airplane["id"].as_str().unwrap();
    assert_eq!(
        response.header("location"),
        Some(format!("/v1/airplanes/{id}").as_str())
    );
    assert_eq!(response.header("etag"), Some("\"1\""));
    let fetched = app
        .send(TestRequest::get(format!("/v1/airplanes/{id}")))
        .await;
    assert_eq!(fetched.json()["data"], *airplane);
}

#[tokio::test]
async fn numeric_strings_are_coerced_to_capacities() {
    let app = spawn_app();
    let response = app
        .send(
            TestRequest::post("/v1/airplanes")
                .json(&json!({"modelNumber": "B737", "capacity": "150"})),
        )
        .await;
    assert_eq!(response.status, StatusCode::CREATED);
    assert_eq!(response.json()["data"]["capacity"], 150);
}

/// JSON Schema's `integer` (the document's type for whole numbers) includes `24.0`; so does the
/// API, exactly when the number is whole and exact.
#[tokio::test]
async fn a_whole_number_written_with_a_fraction_is_accepted() {
    let app = spawn_app();
    let response = app
        .send(
            TestRequest::post("/v1/airplanes")
                .json(&json!({"modelNumber": "B737", "capacity": 24.0})),
        )
        .await;
    assert_eq!(response.status, 201, "{}", response.json());
    assert_eq!(response.json()["data"]["capacity"], 24);
    for capacity in [
        json!(24.5),
        json!(1e300),
        json!(9_007_199_254_740_993.0_f64),
    ] {
        let response = app
            .send(
                TestRequest::post("/v1/airplanes")
                    .json(&json!({"modelNumber": "B737", "capacity": capacity})),
            )
            .await;
        assert_problem(&response, 400);
    }
}

#[tokio::test]
async fn invalid_capacities_are_400_with_a_field_error_and_store_nothing() {
    let app = spawn_app();
    for capacity in [
        json!("abc"),
        json!(1.5),
        json!(0),
        json!(-3),
        json!(1001),
        json!(null),
        json!(""),
    ] {
        let response = app
            .send(
                TestRequest::post("/v1/airplanes")
                    .json(&json!({"modelNumber": "B737", "capacity": capacity})),
            )
            .await;
        let body = assert_problem(&response, 400);
        assert_eq!(error_fields(&body), ["capacity"], "{capacity}");
    }
    assert!(app.all_airplanes().await.is_empty());
}

#[tokio::test]
async fn invalid_model_numbers_are_400_with_a_field_error() {
    let app = spawn_app();
    for model_number in [
        json!(""),
        json!("   "),
        json!("x".repeat(65)),
        json!("A3\u{7}20"),
        json!(320),
    ] {
        let response = app
            .send(
                TestRequest::post("/v1/airplanes")
                    .json(&json!({"modelNumber": model_number, "capacity": 10})),
            )
            .await;
        let body = assert_problem(&response, 400);
        assert_eq!(error_fields(&body), ["modelNumber"], "{model_number}");
    }
}

#[tokio::test]
async fn missing_fields_are_all_reported_at_once() {
    let app = spawn_app();
    let response = app
        .send(TestRequest::post("/v1/airplanes").json(&json!({})))
        .await;
    let body = assert_problem(&response, 400);
    assert_eq!(error_fields(&body), ["modelNumber", "capacity"]);
}

#[tokio::test]
async fn fields_outside_the_whitelist_are_400_naming_them_and_the_allowed_set() {
    let app = spawn_app();
    let (airplane, _) = app.create_airplane("A321", 200).await;
    let id = airplane["id"].as_str().unwrap();
    for field in ["id", "createdAt", "isAdmin"] {
        let create = app
            .send(
                TestRequest::post("/v1/airplanes")
                    .json(&json!({"modelNumber": "A", "capacity": 1, field: "x"})),
            )
            .await;
        let update = app
            .send(
                TestRequest::patch(format!("/v1/airplanes/{id}"))
                    .json(&json!({"capacity": 2, field: "x"})),
            )
            .await;
        for response in [create, update] {
            let body = assert_problem(&response, 400);
            let detail = body["detail"].as_str().unwrap();
            assert!(
                detail.contains(field) && detail.contains("modelNumber, capacity"),
                "{detail}"
            );
            assert_eq!(error_fields(&body), [field]);
        }
    }
    assert_eq!(app.all_airplanes().await, vec![airplane]);
}

#[tokio::test]
async fn an_empty_patch_is_400() {
    let app = spawn_app();
    let (airplane, _) = app.create_airplane("A321", 200).await;
    let response = app
        .send(
            TestRequest::patch(format!(
                "/v1/airplanes/{}",
                airplane["id"].as_str().unwrap()
            ))
            .json(&json!({})),
        )
        .await;
    assert_problem(&response, 400);
}

#[tokio::test]
async fn malformed_json_is_400_saying_where_it_broke() {
    let app = spawn_app();
    let response = app
        .send(TestRequest::post("/v1/airplanes").raw_body(
            "application/json",
            "{\"modelNumber\": \"A\",\n \"capacity\": }",
        ))
        .await;
    let body = assert_problem(&response, 400);
    assert!(
        body["detail"].as_str().unwrap().contains("line 2"),
        "{body}"
    );
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415_and_an_oversized_body_is_413() {
    let app = spawn_app();
    let form = app
        .send(
            TestRequest::post("/v1/airplanes")
                .raw_body("application/x-www-form-urlencoded", "capacity=1"),
        )
        .await;
    assert_problem(&form, 415);
    let large = format!(
        "{{\"modelNumber\": \"{}\", \"capacity\": 1}}",
        "x".repeat(70 * 1024)
    );
    let oversized = app
        .send(TestRequest::post("/v1/airplanes").raw_body("application/json", large))
        .await;
    assert_problem(&oversized, 413);
    assert!(app.all_airplanes().await.is_empty());
}

#[tokio::test]
async fn a_get_answers_304_when_if_none_match_names_the_current_etag() {
    let app = spawn_app();
    let (airplane, etag) = app.create_airplane("E190", 100).await;
    let path = format!("/v1/airplanes/{}", airplane["id"].as_str().unwrap());
    let fresh = app
        .send(TestRequest::get(&path).header("if-none-match", &etag))
        .await;
    assert_eq!(fresh.status, StatusCode::NOT_MODIFIED);
    assert!(fresh.body.is_empty());
    let stale = app
        .send(TestRequest::get(&path).header("if-none-match", "\"99\""))
        .await;
    assert_eq!(stale.status, StatusCode::OK);
    assert_eq!(stale.header("etag"), Some(etag.as_str()));
}

#[tokio::test]
async fn a_patch_with_a_stale_if_match_is_412_and_changes_nothing() {
    let app = spawn_app();
    let (airplane, first) = app.create_airplane("E190", 100).await;
    let path = format!("/v1/airplanes/{}", airplane["id"].as_str().unwrap());
    let updated = app
        .send(
            TestRequest::patch(&path)
                .header("if-match", &first)
                .json(&json!({"capacity": "110"})),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK);
    assert_eq!(updated.json()["data"]["capacity"], 110);
    let second = updated.header("etag").unwrap().to_owned();
    assert_ne!(second, first);

    let stale = app
        .send(
            TestRequest::patch(&path)
                .header("if-match", &first)
                .json(&json!({"capacity": 120})),
        )
        .await;
    assert_problem(&stale, 412);
    let current = app.send(TestRequest::get(&path)).await;
    assert_eq!(current.json()["data"]["capacity"], 110);
    assert_eq!(current.header("etag"), Some(second.as_str()));
}

#[tokio::test]
async fn a_patch_changes_only_the_given_fields_and_lists_follow_a_model_change() {
    let app = spawn_app();
    let (airplane, _) = app.create_airplane("E190", 100).await;
    let path = format!("/v1/airplanes/{}", airplane["id"].as_str().unwrap());
    let response = app
        .send(TestRequest::patch(&path).json(&json!({"modelNumber": "E195-E2"})))
        .await;
    assert_eq!(response.status, StatusCode::OK);
    let body = response.json();
    assert_eq!(body["data"]["modelNumber"], "E195-E2");
    assert_eq!(body["data"]["capacity"], 100);
    assert_eq!(body["data"]["createdAt"], airplane["createdAt"]);
    let old = app
        .send(TestRequest::get("/v1/airplanes?modelNumber=E190"))
        .await;
    assert!(old.json()["data"].as_array().unwrap().is_empty());
    let new = app
        .send(TestRequest::get("/v1/airplanes?modelNumber=e195-e2"))
        .await;
    assert_eq!(new.json()["data"][0]["id"], airplane["id"]);
}

#[tokio::test]
async fn concurrent_patches_with_one_if_match_let_exactly_one_win() {
    let app = Arc::new(spawn_app());
    let (airplane, etag) = app.create_airplane("A350", 300).await;
    let path = format!("/v1/airplanes/{}", airplane["id"].as_str().unwrap());
    let mut tasks = Vec::new();
    for capacity in 301..321 {
        let (app, path, etag) = (Arc::clone(&app), path.clone(), etag.clone());
        tasks.push(tokio::spawn(async move {
            app.send(
                TestRequest::patch(&path)
                    .header("if-match", &etag)
                    .json(&json!({"capacity": capacity})),
            )
            .await
            .status
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(
        statuses
            .iter()
            .filter(|status| **status == StatusCode::OK)
            .count(),
        1
    );
    assert!(
        statuses
            .iter()
            .all(|status| *status == StatusCode::OK || *status == StatusCode::PRECONDITION_FAILED)
    );
    let current = app.send(TestRequest::get(&path)).await;
    assert_eq!(current.header("etag"), Some("\"2\""));
}

#[tokio::test]
async fn delete_is_204_then_get_and_a_second_delete_are_404() {
    let app = spawn_app();
    let (airplane, _) = app.create_airplane("ATR72", 70).await;
    let path = format!("/v1/airplanes/{}", airplane["id"].as_str().unwrap());
    let deleted = app.send(TestRequest::delete(&path)).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert!(deleted.body.is_empty());
    assert_problem(&app.send(TestRequest::get(&path)).await, 404);
    assert_problem(&app.send(TestRequest::delete(&path)).await, 404);
}

#[tokio::test]
async fn a_delete_with_a_stale_if_match_is_412_and_keeps_the_airplane() {
    let app = spawn_app();
    let (airplane, _) = app.create_airplane("ATR72", 70).await;
    let path = format!("/v1/airplanes/{}", airplane["id"].as_str().unwrap());
    let response = app
        .send(TestRequest::delete(&path).header("if-match", "\"7\""))
        .await;
    assert_problem(&response, 412);
    assert_eq!(
        app.send(TestRequest::get(&path)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn ids_that_are_not_uuids_are_404() {
    let app = spawn_app();
    for path in ["/v1/airplanes/not-a-uuid", "/v1/airplanes/%2E%2E"] {
        assert_problem(&app.send(TestRequest::get(path)).await, 404);
        assert_problem(&app.send(TestRequest::delete(path)).await, 404);
    }
}

#[tokio::test]
async fn the_list_pages_newest_first_without_duplicates_or_gaps() {
    let app = spawn_app();
    let mut created = Vec::new();
    for n in 0..45 {
        let (airplane, _) = app.create_airplane(&format!("M{n}"), 100 + n).await;
        created.push(airplane["id"].as_str().unwrap().to_owned());
    }
    let first = app.send(TestRequest::get("/v1/airplanes")).await;
    let body = first.json();
    assert_eq!(body["pagination"]["limit"], 20);
    assert_eq!(body["data"].as_array().unwrap().len(), 20);

    let mut seen = Vec::new();
    let mut target = "/v1/airplanes?limit=7".to_owned();
    loop {
        let body = app.send(TestRequest::get(&target)).await.json();
        let page = body["data"].as_array().unwrap();
        assert!(page.len() <= 7);
        seen.extend(
            page.iter()
                .map(|airplane| airplane["id"].as_str().unwrap().to_owned()),
        );
        match body["pagination"]["nextCursor"].as_str() {
            Some(cursor) => target = format!("/v1/airplanes?limit=7&cursor={cursor}"),
            None => break,
        }
    }
    created.reverse();
    assert_eq!(seen, created);
}

#[tokio::test]
async fn list_parameters_out_of_range_unknown_or_tampered_are_400() {
    let app = spawn_app();
    for n in 0..3 {
        app.create_airplane("A220", 120 + n).await;
    }
    for query in [
        "limit=0",
        "limit=101",
        "limit=abc",
        "limit=1.5",
        "minCapacity=0",
        "maxCapacity=x",
        "sort=id",
        "limit=1&limit=2",
        "minCapacity=200&maxCapacity=100",
    ] {
        assert_problem(
            &app.send(TestRequest::get(format!("/v1/airplanes?{query}")))
                .await,
            400,
        );
    }
    let body = app
        .send(TestRequest::get("/v1/airplanes?limit=1"))
        .await
        .json();
    let cursor = body["pagination"]["nextCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut tampered = cursor.clone().into_bytes();
    tampered[2] = if tampered[2] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let response = app
        .send(TestRequest::get(format!(
            "/v1/airplanes?limit=1&cursor={tampered}"
        )))
        .await;
    assert_eq!(error_fields(&assert_problem(&response, 400)), ["cursor"]);
    let other_query = app
        .send(TestRequest::get(format!(
            "/v1/airplanes?limit=1&minCapacity=1&cursor={cursor}"
        )))
        .await;
    assert_problem(&other_query, 400);
    let genuine = app
        .send(TestRequest::get(format!(
            "/v1/airplanes?limit=1&cursor={cursor}"
        )))
        .await;
    assert_eq!(genuine.status, StatusCode::OK);
}

#[tokio::test]
async fn the_list_filters_by_capacity_range_and_model_number() {
    let app = spawn_app();
    for (model, capacity) in [
        ("A320", 150),
        ("A320", 180),
        ("B737", 160),
        ("B737", 189),
        ("E175", 76),
    ] {
        app.create_airplane(model, capacity).await;
    }
    let capacities = |body: Value| -> Vec<u64> {
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["capacity"].as_u64().unwrap())
            .collect()
    };
    let ranged = app
        .send(TestRequest::get(
            "/v1/airplanes?minCapacity=155&maxCapacity=185",
        ))
        .await;
    assert_eq!(capacities(ranged.json()), [160, 180]);
    let model = app
        .send(TestRequest::get("/v1/airplanes?modelNumber=a320"))
        .await;
    assert_eq!(capacities(model.json()), [180, 150]);
    let both = app
        .send(TestRequest::get(
            "/v1/airplanes?modelNumber=B737&minCapacity=170",
        ))
        .await;
    assert_eq!(capacities(both.json()), [189]);
    let sparse = app
        .send(TestRequest::get("/v1/airplanes?maxCapacity=100&limit=1"))
        .await;
    assert_eq!(capacities(sparse.json()), [76]);
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_are_405_with_allow() {
    let app = spawn_app();
    assert_problem(&app.send(TestRequest::get("/v1/nothing-here")).await, 404);
    assert_problem(&app.send(TestRequest::get("/airplanes")).await, 404);
    let wrong = app
        .send(TestRequest::new(
            Method::PUT,
            "/v1/airplanes/0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f",
        ))
        .await;
    assert_problem(&wrong, 405);
    assert_eq!(wrong.header("allow"), Some("GET, PATCH, DELETE"));
}

#[tokio::test]
async fn every_response_carries_the_security_headers_and_a_request_id() {
    let app = spawn_app();
    let (airplane, _) = app.create_airplane("A330", 250).await;
    let requests = [
        TestRequest::get(format!(
            "/v1/airplanes/{}",
            airplane["id"].as_str().unwrap()
        )),
        TestRequest::get("/v1/airplanes"),
        TestRequest::get("/v1/health"),
        TestRequest::get("/v1/missing"),
        TestRequest::new(Method::PUT, "/v1/airplanes"),
        TestRequest::post("/v1/airplanes").raw_body("text/plain", "x"),
        TestRequest::new(Method::OPTIONS, "/v1/airplanes"),
    ];
    for request in requests {
        let response = app.send(request).await;
        for (name, value) in SECURITY_HEADERS {
            assert_eq!(
                response.header(name),
                Some(value),
                "{name} on {}",
                response.status
            );
        }
        assert!(response.header("server").is_none() && response.header("x-powered-by").is_none());
        assert!(uuid::Uuid::parse_str(response.header("x-request-id").unwrap()).is_ok());
    }
}

#[tokio::test]
async fn an_allowed_origin_is_echoed_with_credentials_and_an_unknown_one_gets_no_cors_headers() {
    let app = spawn_app();
    let allowed = app
        .send(TestRequest::get("/v1/health").header("origin", ALLOWED_ORIGIN))
        .await;
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some(ALLOWED_ORIGIN)
    );
    assert_eq!(
        allowed.header("access-control-allow-credentials"),
        Some("true")
    );
    assert_eq!(allowed.header("vary"), Some("Origin"));
    let unknown = app
        .send(TestRequest::get("/v1/health").header("origin", "https://evil.example"))
        .await;
    assert!(
        unknown
            .headers
            .keys()
            .all(|name| !name.as_str().starts_with("access-control-"))
    );
}

/// A store that is down: every call fails as unreachable.
struct UnreachableStore;

#[async_trait::async_trait]
impl Store for UnreachableStore {
    async fn get(&self, _: &Key) -> Result<Option<Item>, StoreError> {
        Err(unreachable_error())
    }
    async fn put(&self, _: Put) -> Result<(), StoreError> {
        Err(unreachable_error())
    }
    async fn update(&self, _: Update) -> Result<Item, StoreError> {
        Err(unreachable_error())
    }
    async fn delete(&self, _: Delete) -> Result<Option<Item>, StoreError> {
        Err(unreachable_error())
    }
    async fn transact(&self, _: Vec<WriteOp>) -> Result<(), StoreError> {
        Err(unreachable_error())
    }
    async fn query(&self, _: Query) -> Result<Page, StoreError> {
        Err(unreachable_error())
    }
    async fn check_health(&self) -> Result<(), StoreError> {
        Err(unreachable_error())
    }
}

fn unreachable_error() -> StoreError {
    StoreError::Unavailable(
        "dispatch failure: connect to dynamodb.eu-west-1.amazonaws.com table itinera-prod".into(),
    )
}

#[tokio::test]
async fn preflight_is_answered_without_touching_the_store() {
    let api = api_over(Arc::new(UnreachableStore), Arc::new(UuidV7Ids));
    let preflight = TestRequest::new(Method::OPTIONS, "/v1/airplanes")
        .header("origin", ALLOWED_ORIGIN)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type");
    let response = send(&api, preflight).await;
    assert_eq!(response.status, StatusCode::NO_CONTENT);
    assert_eq!(
        response.header("access-control-allow-origin"),
        Some(ALLOWED_ORIGIN)
    );
    assert_eq!(
        response.header("access-control-allow-methods"),
        Some("POST, GET, OPTIONS")
    );
    assert!(
        response
            .header("access-control-allow-headers")
            .unwrap()
            .contains("Content-Type")
    );
    let unknown = TestRequest::new(Method::OPTIONS, "/v1/airplanes")
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST");
    let response = send(&api, unknown).await;
    assert_eq!(response.status, StatusCode::NO_CONTENT);
    assert!(response.header("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn a_store_outage_is_a_generic_503_with_retry_after() {
    let api = api_over(Arc::new(UnreachableStore), Arc::new(UuidV7Ids));
    let staff = token_for(Role::Staff);
    for request in [
        TestRequest::get("/v1/health"),
        TestRequest::get("/v1/airplanes").bearer(&staff),
        TestRequest::post("/v1/airplanes")
            .bearer(&staff)
            .json(&json!({"modelNumber": "A", "capacity": 1})),
    ] {
        let response = send(&api, request).await;
        let body = assert_problem(&response, 503);
        assert!(response.header("retry-after").is_some());
        let text = String::from_utf8(response.body.to_vec()).unwrap();
        assert!(
            !text.contains("dynamodb")
                && !text.contains("itinera-prod")
                && !text.contains("dispatch"),
            "{text}"
        );
        assert!(body.get("errors").is_none());
    }
}

#[tokio::test]
async fn invalid_requests_leave_stored_data_exactly_as_it_was() {
    let app = spawn_app();
    let (airplane, etag) = app.create_airplane("Q400", 78).await;
    let path = format!("/v1/airplanes/{}", airplane["id"].as_str().unwrap());
    let before = app.all_airplanes().await;
    let invalid = [
        TestRequest::post("/v1/airplanes").json(&json!({"modelNumber": "X", "capacity": 0})),
        TestRequest::post("/v1/airplanes")
            .json(&json!({"modelNumber": "X", "capacity": 5, "id": "mine"})),
        TestRequest::post("/v1/airplanes").raw_body("application/json", "{"),
        TestRequest::patch(&path).json(&json!({"capacity": 1001})),
        TestRequest::patch(&path).json(&json!({"modelNumber": ""})),
        TestRequest::patch(&path).json(&json!({"version": 9})),
        TestRequest::patch(&path).json(&json!({})),
        TestRequest::patch(&path)
            .header("if-match", "\"5\"")
            .json(&json!({"capacity": 80})),
        TestRequest::delete(&path).header("if-match", "W/\"1\""),
        TestRequest::delete("/v1/airplanes/0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f"),
    ];
    for request in invalid {
        let response = app.send(request).await;
        assert!(response.status.is_client_error(), "{}", response.status);
    }
    assert_eq!(app.all_airplanes().await, before);
    let current = app.send(TestRequest::get(&path)).await;
    assert_eq!(current.header("etag"), Some(etag.as_str()));
}
