//! The OpenAPI document describes what the API does: each route's accepted body fields and query
//! parameters are the ones its handler accepts (read from the 400 that names them), and real
//! responses of every kind conform to the schemas, statuses and headers the document declares.

use std::collections::BTreeSet;

use http::{Method, StatusCode};
use itinera::identity::Role;
use itinera::payments::TEST_TOKEN_APPROVE;
use itinera_http::ROUTES;
use itinera_http::openapi::{document, violations};
use itinera_tests::{
    TEST_PASSWORD, TestApp, TestRequest, TestResponse, principal_of, register_customer, sign_in,
    spawn_app, spawn_app_without_shared_cache, stored_admin, token_for, token_of,
};
use serde_json::{Value, json};

/// The operation of `method` on `template` in the document.
fn operation<'d>(document: &'d Value, method: &Method, template: &str) -> &'d Value {
    let operation = &document["paths"][template][method.as_str().to_ascii_lowercase()];
    assert!(
        operation.is_object(),
        "{method} {template} is not described"
    );
    operation
}

/// The names of an operation's parameters in `location`.
fn parameters(operation: &Value, location: &str) -> BTreeSet<String> {
    operation["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|parameter| parameter["in"] == location)
        .map(|parameter| parameter["name"].as_str().unwrap().to_owned())
        .collect()
}

/// The property names of an operation's JSON body (`None` without a body).
fn body_properties(operation: &Value) -> Option<BTreeSet<String>> {
    let schema = operation
        .get("requestBody")?
        .pointer("/content/application~1json/schema")?;
    Some(
        schema["properties"]
            .as_object()
            .map(|properties| properties.keys().cloned().collect())
            .unwrap_or_default(),
    )
}

/// The names a 400 lists after `Accepted:` in its detail.
fn accepted(response: &TestResponse, kind: &str) -> Option<BTreeSet<String>> {
    if response.status != StatusCode::BAD_REQUEST {
        return None;
    }
    let detail = response.json()["detail"].as_str()?.to_owned();
    let rest = detail.strip_prefix(&format!("Unknown {kind}(s): zzUnknown. Accepted: "))?;
    Some(
        rest.trim_end_matches('.')
            .split(", ")
            .filter(|name| !name.is_empty())
            .map(str::to_owned)
            .collect(),
    )
}

/// A request to `target` for `route` as an admin (every route admits one), with the header
/// create-booking reads before its body.
/// Each from its own client address, so that the failures it provokes stay under the sign-in
/// tier's limit.
fn as_admin(route: &itinera_http::Route, target: &str, admin: &str, client: usize) -> TestRequest {
    TestRequest::new(route.method.clone(), target)
        .from_ip(&format!("10.0.{}.{}", client / 250, client % 250 + 1))
        .bearer(admin)
        .header("Idempotency-Key", &uuid::Uuid::new_v4().to_string())
}

#[tokio::test]
async fn each_routes_body_fields_and_query_parameters_are_the_ones_its_handler_accepts() {
    // Without a shared cache in front, cacheable routes name what they accept in refusals too.
    let app = spawn_app_without_shared_cache();
    let admin = token_for(Role::Admin);
    let document = document();
    for (index, route) in ROUTES.iter().enumerate() {
        let described = operation(&document, &route.method, route.path);

        let target = request_target(route);
        let query = format!("{target}?zzUnknown=1");
        let response = app.send(as_admin(route, &query, &admin, 2 * index)).await;
        match accepted(&response, "query parameter") {
            Some(names) => assert_eq!(
                names,
                parameters(described, "query"),
                "{}: the query parameters",
                route.function
            ),
            // The handler reads no query: the document declares none.
            None => assert_eq!(
                parameters(described, "query"),
                BTreeSet::new(),
                "{} answered {} to an unknown query parameter",
                route.function,
                response.status
            ),
        }

        let Some(properties) = body_properties(described) else {
            continue;
        };
        let request =
            as_admin(route, &target, &admin, 2 * index + 1).json(&json!({ "zzUnknown": 1 }));
        let response = app.send(request).await;
        assert_eq!(
            accepted(&response, "field"),
            Some(properties),
            "{}: the body fields ({} {})",
            route.function,
            response.status,
            response.json()
        );
    }
}

/// The path of a plausible request for `route`: a fresh id, or an airport code.
fn request_target(route: &itinera_http::Route) -> String {
    route
        .path
        .replace("{id}", &uuid::Uuid::now_v7().to_string())
        .replace("{code}", "DEL")
}

/// Holds `response` to what the document declares for `method template`: a declared status, the
/// declared body schema, and the declared `ETag` and `Location`.
fn conforms(document: &Value, method: &Method, template: &str, response: &TestResponse) {
    let described = operation(document, method, template);
    let status = response.status.as_str();
    let mut declared = described["responses"]
        .get(status)
        .unwrap_or_else(|| panic!("{method} {template} answered undeclared {status}"));
    if let Some(reference) = declared["$ref"].as_str() {
        declared = document.pointer(reference.trim_start_matches('#')).unwrap();
    }
    let content = declared["content"].as_object();
    match content.and_then(|content| content.values().next()) {
        Some(media) => {
            let problems = violations(document, &media["schema"], &response.json());
            assert!(
                problems.is_empty(),
                "{method} {template} {status}: {problems:?}\n{}",
                response.json()
            );
            let content_type = content.unwrap().keys().next().unwrap();
            assert_eq!(
                response.header("content-type"),
                Some(content_type.as_str()),
                "{method} {template}"
            );
        }
        None => assert!(response.body.is_empty(), "{method} {template} {status}"),
    }
    let headers = declared["headers"].as_object();
    for name in headers.into_iter().flat_map(|headers| headers.keys()) {
        assert!(
            response.header(name).is_some(),
            "{method} {template} {status}: {name} is declared and missing"
        );
    }
    for name in ["ETag", "Location"] {
        let expected = headers.is_some_and(|headers| headers.contains_key(name));
        assert_eq!(
            response.header(name).is_some(),
            expected,
            "{method} {template} {status}: {name}"
        );
    }
}

async fn checked(
    app: &TestApp,
    document: &Value,
    template: &str,
    request: TestRequest,
    method: Method,
) -> Value {
    let response = app.send(request).await;
    conforms(document, &method, template, &response);
    response.json()["data"].clone()
}

#[tokio::test]
async fn real_responses_conform_to_the_declared_schemas() {
    let app = spawn_app();
    let document = document();
    let admin = principal_of(&stored_admin(&*app.store).await);
    let admin = token_of(&admin);
    let (get, post, patch, delete) = (Method::GET, Method::POST, Method::PATCH, Method::DELETE);

    checked(
        &app,
        &document,
        "/v1/health",
        TestRequest::get("/v1/health"),
        get.clone(),
    )
    .await;
    for (code, city) in [("DEL", "Delhi"), ("BOM", "Mumbai")] {
        let airport = json!({
            "code": code, "name": format!("{city} airport"), "city": city,
            "country": "IN", "timeZone": "Asia/Kolkata",
        });
        let request = TestRequest::post("/v1/airports").json(&airport);
        checked(&app, &document, "/v1/airports", request, post.clone()).await;
    }
    let request = TestRequest::get("/v1/airports/DEL").anonymous();
    checked(&app, &document, "/v1/airports/{code}", request, get.clone()).await;
    let request = TestRequest::get("/v1/airports?limit=1").anonymous();
    checked(&app, &document, "/v1/airports", request, get.clone()).await;
    let request = TestRequest::patch("/v1/airports/BOM").json(&json!({ "name": "Mumbai" }));
    checked(
        &app,
        &document,
        "/v1/airports/{code}",
        request,
        patch.clone(),
    )
    .await;

    let request = TestRequest::post("/v1/airplanes")
        .json(&json!({ "modelNumber": "A320neo", "capacity": 180 }));
    let airplane = checked(&app, &document, "/v1/airplanes", request, post.clone()).await;
    let airplane_id = airplane["id"].as_str().unwrap().to_owned();
    let request = TestRequest::get(format!("/v1/airplanes/{airplane_id}"));
    checked(&app, &document, "/v1/airplanes/{id}", request, get.clone()).await;
    let request = TestRequest::get("/v1/airplanes?minCapacity=1&maxCapacity=200");
    checked(&app, &document, "/v1/airplanes", request, get.clone()).await;
    let request = TestRequest::patch(format!("/v1/airplanes/{airplane_id}"))
        .header("If-Match", "\"1\"")
        .json(&json!({ "capacity": 186 }));
    checked(
        &app,
        &document,
        "/v1/airplanes/{id}",
        request,
        patch.clone(),
    )
    .await;

    let departure = chrono::Utc::now() + chrono::TimeDelta::days(3);
    let flight = json!({
        "flightNumber": "IT101", "airplaneId": airplane_id, "from": "DEL", "to": "BOM",
        "departureTime": departure.to_rfc3339(),
        "arrivalTime": (departure + chrono::TimeDelta::hours(2)).to_rfc3339(),
        "price": { "amount": 450_000, "currency": "INR" },
    });
    let request = TestRequest::post("/v1/flights").json(&flight);
    let flight = checked(&app, &document, "/v1/flights", request, post.clone()).await;
    let flight_id = flight["id"].as_str().unwrap().to_owned();
    let request = TestRequest::get(format!("/v1/flights/{flight_id}")).anonymous();
    checked(&app, &document, "/v1/flights/{id}", request, get.clone()).await;
    let india = chrono::FixedOffset::east_opt(5 * 3600 + 1800).unwrap();
    let date = departure.with_timezone(&india).date_naive();
    let request = TestRequest::get(format!("/v1/flights?from=DEL&to=BOM&date={date}")).anonymous();
    let found = checked(&app, &document, "/v1/flights", request, get.clone()).await;
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{found}");

    let request = TestRequest::post("/v1/auth/register").anonymous().json(&json!({
        "email": "asha@example.com", "username": "asha", "password": TEST_PASSWORD, "name": "Asha",
    }));
    checked(&app, &document, "/v1/auth/register", request, post.clone()).await;
    register_customer(&app.api, "ravi").await;
    let tokens = sign_in(&app.api, "asha", TEST_PASSWORD).await;
    let customer = tokens["accessToken"].as_str().unwrap().to_owned();
    let request = TestRequest::post("/v1/auth/login")
        .anonymous()
        .json(&json!({ "username": "asha", "password": TEST_PASSWORD }));
    checked(&app, &document, "/v1/auth/login", request, post.clone()).await;
    let request = TestRequest::post("/v1/auth/refresh")
        .anonymous()
        .json(&json!({ "refreshToken": tokens["refreshToken"] }));
    let refreshed = checked(&app, &document, "/v1/auth/refresh", request, post.clone()).await;
    let request = TestRequest::get("/v1/users/me").bearer(&customer);
    let me = checked(&app, &document, "/v1/users/me", request, get.clone()).await;
    let request = TestRequest::patch("/v1/users/me")
        .bearer(&customer)
        .json(&json!({ "phone": "+44 20 7946 0958" }));
    checked(&app, &document, "/v1/users/me", request, patch.clone()).await;
    let user_path = format!("/v1/users/{}", me["id"].as_str().unwrap());
    let request = TestRequest::get(&user_path).bearer(&admin);
    checked(&app, &document, "/v1/users/{id}", request, get.clone()).await;
    let request = TestRequest::get("/v1/users").bearer(&admin);
    checked(&app, &document, "/v1/users", request, get.clone()).await;

    let ravi = sign_in(&app.api, "ravi", TEST_PASSWORD).await;
    let ravi = ravi["accessToken"].as_str().unwrap().to_owned();
    let request = TestRequest::post("/v1/users/me/password")
        .bearer(&ravi)
        .json(
            &json!({ "currentPassword": TEST_PASSWORD, "newPassword": "another long passphrase" }),
        );
    let ravi = checked(
        &app,
        &document,
        "/v1/users/me/password",
        request,
        post.clone(),
    )
    .await;
    let request = TestRequest::get("/v1/users/me").bearer(ravi["accessToken"].as_str().unwrap());
    let ravi = checked(&app, &document, "/v1/users/me", request, get.clone()).await;
    let request = TestRequest::patch(format!("/v1/users/{}", ravi["id"].as_str().unwrap()))
        .bearer(&admin)
        .json(&json!({ "role": "staff" }));
    checked(&app, &document, "/v1/users/{id}", request, patch.clone()).await;

    let request = TestRequest::post("/v1/bookings")
        .bearer(&customer)
        .header("Idempotency-Key", "openapi-sample-1")
        .json(&json!({ "flightId": flight_id, "seats": 2 }));
    let booking = checked(&app, &document, "/v1/bookings", request, post.clone()).await;
    let booking_path = format!("/v1/bookings/{}", booking["id"].as_str().unwrap());
    let request = TestRequest::post(format!("{booking_path}/payment"))
        .bearer(&customer)
        .json(&json!({ "paymentToken": TEST_TOKEN_APPROVE, "amount": booking["total"] }));
    checked(
        &app,
        &document,
        "/v1/bookings/{id}/payment",
        request,
        post.clone(),
    )
    .await;
    let request = TestRequest::get(&booking_path).bearer(&customer);
    checked(&app, &document, "/v1/bookings/{id}", request, get.clone()).await;
    let request = TestRequest::get("/v1/bookings").bearer(&customer);
    checked(&app, &document, "/v1/bookings", request, get.clone()).await;
    let request = TestRequest::post(format!("{booking_path}/cancel")).bearer(&customer);
    checked(
        &app,
        &document,
        "/v1/bookings/{id}/cancel",
        request,
        post.clone(),
    )
    .await;

    let request = TestRequest::get("/v1/notifications").bearer(&customer);
    checked(&app, &document, "/v1/notifications", request, get.clone()).await;
    let request = TestRequest::post(format!("/v1/notifications/{}/read", uuid::Uuid::now_v7()))
        .bearer(&customer);
    checked(
        &app,
        &document,
        "/v1/notifications/{id}/read",
        request,
        post.clone(),
    )
    .await;
    let request = TestRequest::get("/v1/users/me/activity").bearer(&customer);
    let activity = checked(
        &app,
        &document,
        "/v1/users/me/activity",
        request,
        get.clone(),
    )
    .await;
    assert!(!activity.as_array().unwrap().is_empty());
    let request = TestRequest::get(format!("/v1/audit?entityType=flight&entityId={flight_id}"))
        .bearer(&admin);
    checked(&app, &document, "/v1/audit", request, get.clone()).await;

    let request = TestRequest::post("/v1/auth/logout")
        .anonymous()
        .json(&json!({ "refreshToken": refreshed["refreshToken"] }));
    checked(&app, &document, "/v1/auth/logout", request, post.clone()).await;
    let request =
        TestRequest::delete(format!("/v1/airplanes/{airplane_id}")).header("If-Match", "\"1\"");
    checked(
        &app,
        &document,
        "/v1/airplanes/{id}",
        request,
        delete.clone(),
    )
    .await;

    let request = TestRequest::patch(format!("/v1/flights/{flight_id}"))
        .json(&json!({ "price": { "amount": 460_000, "currency": "INR" } }));
    checked(&app, &document, "/v1/flights/{id}", request, patch.clone()).await;
    // Once booked, a flight is cancelled, not deleted: 409, a declared problem.
    let request = TestRequest::delete(format!("/v1/flights/{flight_id}"));
    let response = app.send(request).await;
    assert_eq!(response.status, StatusCode::CONFLICT, "{}", response.json());
    conforms(&document, &delete, "/v1/flights/{id}", &response);
    let airport = json!({
        "code": "GOI", "name": "Goa airport", "city": "Goa", "country": "IN",
        "timeZone": "Asia/Kolkata",
    });
    let request = TestRequest::post("/v1/airports").json(&airport);
    checked(&app, &document, "/v1/airports", request, post.clone()).await;
    let request = TestRequest::delete("/v1/airports/GOI");
    checked(
        &app,
        &document,
        "/v1/airports/{code}",
        request,
        delete.clone(),
    )
    .await;

    // Problems: each answered status is declared, with the problem schema.
    let request = TestRequest::post("/v1/airplanes").json(&json!({ "capacity": 0 }));
    checked(&app, &document, "/v1/airplanes", request, post.clone()).await;
    let request = TestRequest::get("/v1/bookings").anonymous();
    checked(&app, &document, "/v1/bookings", request, get.clone()).await;
    let request = TestRequest::get("/v1/users").bearer(&customer);
    checked(&app, &document, "/v1/users", request, get.clone()).await;
    let request = TestRequest::get(format!("/v1/flights/{}", uuid::Uuid::now_v7())).anonymous();
    checked(&app, &document, "/v1/flights/{id}", request, get.clone()).await;
    let request = TestRequest::patch("/v1/airports/DEL")
        .header("If-Match", "\"9\"")
        .json(&json!({ "city": "New Delhi" }));
    checked(
        &app,
        &document,
        "/v1/airports/{code}",
        request,
        patch.clone(),
    )
    .await;
}

/// The repository root (the tests crate lives one level below it).
fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the repository root")
        .to_path_buf()
}

/// The committed document and the template's API events name the same operations. (CORS
/// preflights, `OPTIONS` on every path, are the template's alone: they are no operation.)
#[test]
fn the_committed_document_and_the_template_declare_the_same_paths_and_methods() {
    let root = repo_root();
    let text = std::fs::read_to_string(root.join("docs/openapi.json")).unwrap();
    let committed: Value = serde_json::from_str(&text).unwrap();
    let documented = itinera_http::openapi::operations(&committed);
    let text = std::fs::read_to_string(root.join("template.yaml")).unwrap();
    let template: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    let events = template["Resources"]
        .as_mapping()
        .unwrap()
        .values()
        .filter_map(|resource| resource["Properties"]["Events"].as_mapping())
        .flat_map(|events| events.values())
        .filter(|event| event["Type"].as_str() == Some("Api"));
    let deployed: BTreeSet<(String, String)> = events
        .map(|event| {
            let properties = &event["Properties"];
            (
                properties["Method"].as_str().unwrap().to_ascii_uppercase(),
                properties["Path"].as_str().unwrap().to_owned(),
            )
        })
        .filter(|(method, _)| method != "OPTIONS")
        .collect();
    assert_eq!(documented, deployed);
    assert_eq!(documented.len(), ROUTES.len());
}
