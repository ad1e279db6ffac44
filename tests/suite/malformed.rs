//! A corpus of malformed requests against every route of the table, on the embedded store: each
//! answer is a 4xx problem document, and nothing stored changed.
//!
//! The store is seeded through the API with one entity of each kind (an airplane, airports, a
//! flight and a booking, a car with its papers, a rental customer, a contract picked up, an issue
//! report), so the path of every route names something that exists and the request gets past the
//! lookups to the parsers. Each request carries a token of a role the route admits (the owner's
//! for a customer's own resources). Then, per route, the corpus sends: truncated JSON, nesting
//! 10,000 deep, numbers out of every range (`1e400`, a 40-digit integer, `-0`) in every declared
//! field, invalid UTF-8 in the body and in each declared query parameter, duplicated keys (in
//! garbage and in an otherwise valid body), the wrong content types, a body where the route takes
//! none, an oversized body, and oversized headers (`If-Match`, `Idempotency-Key`, `If-None-Match`,
//! `Authorization`) on otherwise valid requests.
//!
//! The answer must be a 4xx `application/problem+json` whose `status` is the HTTP status. The one
//! exception is a `GET`, which takes no body: it may ignore what a body or an unused header holds
//! (a cacheable read must, see `Input::shared`), and then answers as it does without them. The
//! store is closed and read whole before and after (`itinera_tests::snapshot`): apart from the
//! rate limiter's counters, which every request counts in, it must be unchanged.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use chrono::{TimeDelta, Utc};
use http::{Method, StatusCode};
use itinera::clock::UuidV7Ids;
use itinera::identity::{Principal, Role};
use itinera::ratelimit::RateLimitConfig;
use itinera_embedded::EmbeddedStore;
use itinera_http::{Access, Api, MAX_BODY_BYTES, ROUTES, Route};
use itinera_tests::snapshot::{embedded_items, without_rate_counters};
use itinera_tests::{
    TestRequest, TestResponse, api_with_blobs, files, principal_of, register_customer, send,
    stored_admin, token_for, token_of,
};
use serde_json::{Value, json};

/// How deep the nesting probes go.
const NESTING: usize = 10_000;

/// An API over the embedded store in `dir`, with limits no probe reaches: a 429 would answer
/// before the parsers the corpus is aimed at.
fn open_api(dir: &Path) -> Api {
    let store = Arc::new(EmbeddedStore::open(dir).expect("the embedded store opens"));
    let limits = RateLimitConfig {
        global_max: 1_000_000,
        write_max: 1_000_000,
        auth_max: 1_000_000,
        account_max: 1_000_000,
        ..RateLimitConfig::default()
    };
    let blobs = files::embedded_blobs(&dir.join("files"));
    api_with_blobs(store, Arc::new(UuidV7Ids), limits, Arc::new(blobs))
}

/// A calendar day `offset` days from today (UTC).
fn day(offset: i64) -> String {
    (Utc::now() + TimeDelta::days(offset))
        .format("%Y-%m-%d")
        .to_string()
}

/// What the seeding created, and the tokens of the callers.
struct Seeded {
    staff: String,
    admin: String,
    /// The customer who owns the booking, the rental profile, the contract and the report.
    ada: String,
    ada_id: String,
    ids: BTreeMap<&'static str, String>,
}

impl Seeded {
    fn id(&self, kind: &str) -> &str {
        self.ids
            .get(kind)
            .unwrap_or_else(|| panic!("no {kind} was seeded"))
    }

    /// The token of a caller `access` admits.
    fn token(&self, access: Access) -> Option<&str> {
        match access {
            Access::Anonymous => None,
            Access::Customer => Some(&self.ada),
            Access::Staff => Some(&self.staff),
            Access::Admin => Some(&self.admin),
        }
    }

    /// `route`'s path with every parameter naming the seeded entity of its kind (a fresh id for
    /// a notification, which only the worker writes).
    fn path(&self, route: &Route) -> String {
        let collection = route.path.split('/').nth(2).unwrap_or_default();
        let id = match collection {
            "airplanes" => self.id("airplane").to_owned(),
            "airports" => "DEL".to_owned(),
            "flights" => self.id("flight").to_owned(),
            "bookings" => self.id("booking").to_owned(),
            "cars" => self.id("car").to_owned(),
            "customers" => self.id("customer").to_owned(),
            "contracts" => self.id("contract").to_owned(),
            "issues" => self.id("issue").to_owned(),
            "users" => self.ada_id.clone(),
            _ => uuid::Uuid::now_v7().to_string(),
        };
        route
            .path
            .replace("{id}", &id)
            .replace("{code}", &id)
            .replace("{insuranceId}", self.id("insurance"))
            .replace("{registrationId}", self.id("registration"))
    }

    /// A request to `route` as a caller it admits, with nothing else.
    fn request(&self, route: &Route) -> TestRequest {
        self.request_to(route, self.path(route))
    }

    /// A request to `route` at `target` (its path and a query) as a caller it admits.
    fn request_to(&self, route: &Route, target: String) -> TestRequest {
        let request = TestRequest::new(route.method.clone(), target);
        match self.token(route.access) {
            Some(token) => request.bearer(token),
            None => request.anonymous(),
        }
    }

    /// A body `route` would accept, for the routes whose headers the corpus probes on an
    /// otherwise valid request (every update, and the creates that spend inventory), and a few
    /// more whose duplicated keys it probes.
    fn valid_body(&self, route: &Route) -> Option<Value> {
        let body = match route.function {
            "update-airplane" => json!({"modelNumber": "A321neo"}),
            "update-airport" => json!({"name": "Palam"}),
            "update-flight" => json!({"price": {"amount": 700_000, "currency": "INR"}}),
            "update-my-profile" => json!({"name": "Ada King"}),
            "update-user" => json!({"role": "staff"}),
            "update-car" => json!({"mileage": 12_700}),
            "update-insurance" => json!({"policyNumber": "AZ-9"}),
            "update-registration" => json!({"registrationNumber": "KA09"}),
            "update-customer" | "update-my-customer" => json!({"phone": "+44 20 7946 0000"}),
            "update-contract" => json!({"endDate": day(3)}),
            "update-issue" => json!({"status": "in_progress"}),
            "create-airplane" => json!({"modelNumber": "ATR 72", "capacity": 70}),
            "create-booking" => json!({"flightId": self.id("flight"), "seats": 1}),
            "create-contract" => {
                json!({"carId": self.id("car"), "startDate": day(40), "endDate": day(41)})
            }
            "pick-up-contract" => json!({"mileage": 12_650}),
            "register" => json!({
                "email": "grace@example.com", "username": "grace",
                "password": "a long enough passphrase", "name": "Grace Hopper",
            }),
            _ => return None,
        };
        Some(body)
    }
}

/// Sends `request` through `api`, asserting the seed step it is worked.
async fn seed(api: &Api, request: TestRequest) -> Value {
    let response = send(api, request).await;
    assert!(
        response.status.is_success(),
        "seeding: {} {:?}",
        response.status,
        String::from_utf8_lossy(&response.body)
    );
    response.json()["data"].clone()
}

fn id_of(data: &Value) -> String {
    data["id"].as_str().expect("an id").to_owned()
}

/// One entity of each kind, created through the API; the store is closed when this returns.
async fn seed_store(dir: &Path) -> Seeded {
    let api = open_api(dir);
    let staff = token_for(Role::Staff);
    let admin = token_of(&principal_of(&stored_admin(&*api.services().store).await));
    let ada_id = register_customer(&api, "ada").await;
    let ada = token_of(&Principal {
        user_id: ada_id.clone(),
        role: Role::Customer,
    });
    let as_staff = |request: TestRequest| request.bearer(&staff);
    let mut ids = BTreeMap::new();

    let airplane = seed(
        &api,
        as_staff(TestRequest::post("/v1/airplanes"))
            .json(&json!({"modelNumber": "A320neo", "capacity": 180})),
    )
    .await;
    for (code, name, city) in [
        ("DEL", "Indira Gandhi", "Delhi"),
        ("BOM", "Shivaji", "Mumbai"),
    ] {
        seed(
            &api,
            as_staff(TestRequest::post("/v1/airports")).json(&json!({
                "code": code, "name": name, "city": city, "country": "IN",
                "timeZone": "Asia/Kolkata",
            })),
        )
        .await;
    }
    let departure = Utc::now() + TimeDelta::days(10);
    let flight = seed(
        &api,
        as_staff(TestRequest::post("/v1/flights")).json(&json!({
            "flightNumber": "AI101", "airplaneId": id_of(&airplane), "from": "DEL", "to": "BOM",
            "departureTime": departure.to_rfc3339(),
            "arrivalTime": (departure + TimeDelta::hours(2)).to_rfc3339(),
            "price": {"amount": 650_000, "currency": "INR"},
        })),
    )
    .await;
    let booking = seed(
        &api,
        TestRequest::post("/v1/bookings")
            .bearer(&ada)
            .header("idempotency-key", "seed-booking")
            .json(&json!({"flightId": id_of(&flight), "seats": 2})),
    )
    .await;
    let car = seed(
        &api,
        as_staff(TestRequest::post("/v1/cars")).json(&json!({
            "licensePlate": "KA01AB1234", "vin": "1HGCM82633A004352", "manufacturer": "Toyota",
            "model": "Corolla", "year": 2024, "category": "compact",
            "dailyRate": {"amount": 4500, "currency": "EUR"}, "mileage": 12_000,
        })),
    )
    .await;
    let car_id = id_of(&car);
    let insurance = seed(
        &api,
        as_staff(TestRequest::post(format!("/v1/cars/{car_id}/insurance"))).json(&json!({
            "provider": "Allianz", "policyNumber": "AZ-1", "coverage": "partial",
            "validFrom": day(-300), "validTo": day(60),
        })),
    )
    .await;
    let registration = seed(
        &api,
        as_staff(TestRequest::post(format!(
            "/v1/cars/{car_id}/registrations"
        )))
        .json(&json!({
            "authority": "DVLA", "registrationNumber": "KA01",
            "validFrom": day(-300), "validTo": day(60),
        })),
    )
    .await;
    let customer = seed(
        &api,
        as_staff(TestRequest::post("/v1/customers")).json(&json!({
            "name": "Mary Somerville", "email": "mary@example.com", "phone": "+44 20 7946 0958",
            "licenceNumber": "SOMER780226M99", "licenceExpiry": day(2000),
        })),
    )
    .await;
    seed(
        &api,
        TestRequest::post("/v1/customers/me")
            .bearer(&ada)
            .json(&json!({
                "phone": "+44 20 7946 0958", "licenceNumber": "LOVEL815120A99",
                "licenceExpiry": day(2000),
            })),
    )
    .await;
    let contract = seed(
        &api,
        TestRequest::post("/v1/contracts")
            .bearer(&ada)
            .header("idempotency-key", "seed-contract")
            .json(&json!({"carId": car_id, "startDate": day(0), "endDate": day(2)})),
    )
    .await;
    let contract_id = id_of(&contract);
    seed(
        &api,
        as_staff(TestRequest::post(format!(
            "/v1/contracts/{contract_id}/pickup"
        )))
        .json(&json!({"mileage": 12_600})),
    )
    .await;
    let issue = seed(
        &api,
        TestRequest::post(format!("/v1/cars/{car_id}/issues"))
            .bearer(&ada)
            .json(&json!({"severity": "high", "description": "The brakes squeal when cold."})),
    )
    .await;

    ids.insert("airplane", id_of(&airplane));
    ids.insert("flight", id_of(&flight));
    ids.insert("booking", id_of(&booking));
    ids.insert("car", car_id);
    ids.insert("insurance", id_of(&insurance));
    ids.insert("registration", id_of(&registration));
    ids.insert("customer", id_of(&customer));
    ids.insert("contract", contract_id);
    ids.insert("issue", id_of(&issue));
    Seeded {
        staff,
        admin,
        ada,
        ada_id: ada_id.as_str().to_owned(),
        ids,
    }
}

/// What an operation of the API description declares: its body fields (`None` when it takes
/// no body), its query parameters and its header parameters.
struct Declared {
    fields: Option<Vec<String>>,
    query: Vec<String>,
    headers: Vec<String>,
}

fn declared(document: &Value, route: &Route) -> Declared {
    let operation = &document["paths"][route.path][route.method.as_str().to_ascii_lowercase()];
    let fields = operation["requestBody"]["content"]["application/json"]["schema"]
        .as_object()
        .map(|schema| {
            schema
                .get("properties")
                .and_then(Value::as_object)
                .map(|properties| properties.keys().cloned().collect())
                .unwrap_or_default()
        });
    let parameters = |place: &str| -> Vec<String> {
        operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|parameter| parameter["in"] == place)
            .filter_map(|parameter| parameter["name"].as_str().map(str::to_ascii_lowercase))
            .collect()
    };
    Declared {
        fields,
        query: parameters("query"),
        headers: parameters("header"),
    }
}

/// How a probe must be answered.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// A 4xx problem document.
    Refused,
    /// A 4xx problem document, or (a `GET` ignoring what it does not read) the status the same
    /// request has without the malformed part.
    RefusedOrIgnored,
}

struct Probe {
    name: String,
    request: TestRequest,
    expect: Expect,
}

/// A JSON object of `names` (or `n` when there are none), each holding the raw JSON `value`.
fn every_field(names: &[String], value: &str) -> Vec<u8> {
    let fallback = ["n".to_owned()];
    let names = if names.is_empty() {
        &fallback[..]
    } else {
        names
    };
    let members: Vec<String> = names
        .iter()
        .map(|name| format!("{}: {value}", Value::from(name.as_str())))
        .collect();
    format!("{{{}}}", members.join(", ")).into_bytes()
}

/// `body` with its first member written a second time in front of it: a duplicated key in an
/// otherwise valid document.
fn duplicated_first_key(body: &Value) -> Vec<u8> {
    let object = body.as_object().expect("an object body");
    let (name, value) = object.iter().next().expect("a member");
    let text = body.to_string();
    format!("{{{}: {value}, {}", Value::from(name.as_str()), &text[1..]).into_bytes()
}

/// Every probe of the corpus for `route`.
fn probes(route: &Route, declared: &Declared, seeded: &Seeded) -> Vec<Probe> {
    let takes_body = declared
        .fields
        .as_ref()
        .is_some_and(|fields| !fields.is_empty());
    // A body sent where the route takes none must be refused, except by a `GET`, which ignores it.
    let body_expect = if route.method == Method::GET {
        Expect::RefusedOrIgnored
    } else {
        Expect::Refused
    };
    let fields = declared.fields.clone().unwrap_or_default();
    let base = || seeded.request(route);
    let mut probes = Vec::new();
    let mut body = |name: &str, content_type: &str, bytes: Vec<u8>| {
        probes.push(Probe {
            name: name.to_owned(),
            request: base().raw_body(content_type, bytes),
            expect: body_expect,
        });
    };
    let json = "application/json";
    body(
        "truncated JSON",
        json,
        br#"{"modelNumber": "A320", "capacity": 18"#.to_vec(),
    );
    body(
        "truncated JSON inside a string",
        json,
        br#"{"name": "Ada Lovel"#.to_vec(),
    );
    body(
        "arrays nested 10,000 deep",
        json,
        format!("{}{}", "[".repeat(NESTING), "]".repeat(NESTING)).into_bytes(),
    );
    body(
        "objects nested 10,000 deep",
        json,
        format!("{}1{}", r#"{"a":"#.repeat(NESTING), "}".repeat(NESTING)).into_bytes(),
    );
    body("1e400 in every field", json, every_field(&fields, "1e400"));
    body(
        "a 40-digit integer in every field",
        json,
        every_field(&fields, "1234567890123456789012345678901234567890"),
    );
    body("-0 in every field", json, every_field(&fields, "-0"));
    let mut invalid_utf8 = every_field(&fields, "\"\u{1}\"");
    for byte in &mut invalid_utf8 {
        if *byte == 1 {
            *byte = 0xff;
        }
    }
    body("invalid UTF-8 in every field", json, invalid_utf8);
    body("duplicated keys", json, br#"{"a": 1, "a": 2}"#.to_vec());
    let json_looking = br#"{"modelNumber": "A320neo", "capacity": 180}"#.to_vec();
    body("text/plain", "text/plain", json_looking.clone());
    body(
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded",
        b"modelNumber=A320neo&capacity=180".to_vec(),
    );
    body(
        "multipart/form-data with a JSON-looking body",
        "multipart/form-data; boundary=x",
        json_looking,
    );
    body(
        "a body one byte over the limit",
        json,
        format!("{{\"a\": \"{}\"}}", "x".repeat(MAX_BODY_BYTES)).into_bytes(),
    );
    if !takes_body {
        body(
            "a body on a route that takes none",
            json,
            br#"{"reason": "none"}"#.to_vec(),
        );
    }

    // Invalid UTF-8 in each declared query parameter, or in one it does not declare.
    let parameters = if declared.query.is_empty() {
        vec!["q".to_owned()]
    } else {
        declared.query.clone()
    };
    for parameter in parameters {
        let ignored = declared.query.is_empty() && route.caching.is_some();
        probes.push(Probe {
            name: format!("invalid UTF-8 in the query parameter {parameter}"),
            request: seeded.request_to(
                route,
                format!("{}?{parameter}=%FF%FEab%C3", seeded.path(route)),
            ),
            expect: if ignored {
                Expect::RefusedOrIgnored
            } else {
                Expect::Refused
            },
        });
    }

    // Oversized headers, on a request that is otherwise valid where the corpus has a valid body.
    let valid = |request: TestRequest| match seeded.valid_body(route) {
        Some(body) => request.json(&body),
        None => request,
    };
    let oversized_tags = format!("\"{}\"", "9".repeat(9 * 1024));
    let many_tags = vec!["\"1x\""; 2_000].join(", ");
    if declared.headers.iter().any(|name| name == "if-match") {
        for (name, value) in [
            ("a 9 KiB If-Match of one tag", &oversized_tags),
            ("an If-Match of 2,000 malformed tags", &many_tags),
        ] {
            probes.push(Probe {
                name: name.to_owned(),
                request: valid(base()).header("if-match", value),
                expect: Expect::Refused,
            });
        }
    }
    if declared
        .headers
        .iter()
        .any(|name| name == "idempotency-key")
    {
        probes.push(Probe {
            name: "a 10 KiB Idempotency-Key".to_owned(),
            request: valid(base()).header("idempotency-key", &"k".repeat(10 * 1024)),
            expect: Expect::Refused,
        });
    }
    if declared.headers.iter().any(|name| name == "if-none-match") {
        probes.push(Probe {
            name: "a 9 KiB If-None-Match".to_owned(),
            request: base().header("if-none-match", &oversized_tags),
            expect: Expect::RefusedOrIgnored,
        });
    }
    if route.access != Access::Anonymous {
        probes.push(Probe {
            name: "a 16 KiB bearer token".to_owned(),
            request: valid(TestRequest::new(route.method.clone(), seeded.path(route))).header(
                "authorization",
                &format!("Bearer {}", "A".repeat(16 * 1024)),
            ),
            expect: Expect::Refused,
        });
    }
    if let Some(body) = seeded.valid_body(route) {
        probes.push(Probe {
            name: "a duplicated key in an otherwise valid body".to_owned(),
            request: base()
                .header("idempotency-key", &uuid::Uuid::now_v7().to_string())
                .raw_body(json, duplicated_first_key(&body)),
            expect: Expect::Refused,
        });
    }
    probes
}

/// Why `response` is not the answer `expect` allows, if it is not.
fn violation(
    response: &TestResponse,
    expect: Expect,
    ignored_status: Option<StatusCode>,
) -> Option<String> {
    let status = response.status;
    if matches!(expect, Expect::RefusedOrIgnored) && Some(status) == ignored_status {
        return None;
    }
    if !status.is_client_error() {
        return Some(format!("answered {status}"));
    }
    if response.header("content-type") != Some("application/problem+json") {
        return Some(format!(
            "answered {status} with content type {:?}",
            response.header("content-type")
        ));
    }
    let problem: Value = match serde_json::from_slice(&response.body) {
        Ok(problem) => problem,
        Err(error) => {
            return Some(format!(
                "answered {status} with a body that is not JSON: {error}"
            ));
        }
    };
    if problem["status"] != json!(status.as_u16()) {
        return Some(format!(
            "answered {status} with a problem of status {}",
            problem["status"]
        ));
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_refuses_the_malformed_corpus_and_stores_nothing() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let seeded = seed_store(dir.path()).await;
    let before = without_rate_counters(embedded_items(dir.path()));

    let started = Instant::now();
    let api = open_api(dir.path());
    let document = itinera_http::openapi::document();
    let mut violations = Vec::new();
    let mut sent = 0;
    for route in ROUTES {
        // What a `GET` answers with nothing malformed, as it must when it ignores a probe. (Other
        // routes are not sent a plain request: it would change what it names.)
        let plain = if route.method == Method::GET {
            Some(send(&api, seeded.request(route)).await.status)
        } else {
            None
        };
        for probe in probes(route, &declared(&document, route), &seeded) {
            let response = send(&api, probe.request).await;
            sent += 1;
            if let Some(violation) = violation(&response, probe.expect, plain) {
                violations.push(format!(
                    "{} {} ({}): {}: {violation}: {}",
                    route.method,
                    route.path,
                    route.function,
                    probe.name,
                    String::from_utf8_lossy(&response.body)
                ));
            }
        }
    }
    drop(api);
    let elapsed = started.elapsed();
    println!(
        "{sent} malformed requests to {} routes in {elapsed:?}",
        ROUTES.len()
    );
    assert!(
        violations.is_empty(),
        "{} of {sent} malformed requests were not refused as a problem:\n{}",
        violations.len(),
        violations.join("\n")
    );

    let after = without_rate_counters(embedded_items(dir.path()));
    let changed: Vec<String> = before
        .keys()
        .chain(after.keys())
        .filter(|key| before.get(*key) != after.get(*key))
        .map(|(pk, sk)| format!("{pk} / {sk}"))
        .collect();
    assert!(
        changed.is_empty(),
        "malformed requests changed stored items:\n{}",
        changed.join("\n")
    );
}
