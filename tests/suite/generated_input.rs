//! Generated requests against every route of the table, through the whole pipeline on the
//! embedded store: whatever the body, query and path hold, the answer is a success or a clear
//! problem response, never a server error. `PROPTEST_CASES` sets how many request sets run (each
//! goes to every route); the test command runs the default, README gives the longer run.

use std::sync::LazyLock;

use http::StatusCode;
use itinera::identity::Role;
use itinera_http::ROUTES;
use itinera_tests::{TestApp, TestRequest, spawn_app, token_for};
use proptest::prelude::*;
use serde_json::{Map, Value};

/// The body field and query parameter names the API declares (from its OpenAPI document, which
/// reads the handlers' own declarations), so generated requests reach the field parsers and not
/// only the unknown-field check.
static NAMES: LazyLock<(Vec<String>, Vec<String>)> = LazyLock::new(|| {
    let document = itinera_http::openapi::document();
    let mut fields = Vec::new();
    let mut params = Vec::new();
    collect_names(&document, &mut fields, &mut params);
    for names in [&mut fields, &mut params] {
        names.sort();
        names.dedup();
    }
    (fields, params)
});

/// Every property name the document's schemas declare (request bodies and entities alike: the
/// entities' own names probe the unknown-field check), and every query parameter name, in `value`.
fn collect_names(value: &Value, fields: &mut Vec<String>, params: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if map.get("in").and_then(Value::as_str) == Some("query")
                && let Some(name) = map.get("name").and_then(Value::as_str)
            {
                params.push(name.to_owned());
            }
            if let Some(Value::Object(properties)) = map.get("properties") {
                fields.extend(properties.keys().cloned());
            }
            for inner in map.values() {
                collect_names(inner, fields, params);
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|item| collect_names(item, fields, params)),
        _ => {}
    }
}

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
});

static APP: LazyLock<TestApp> = LazyLock::new(spawn_app);

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1_000i64..2_000).prop_map(Value::from),
        any::<f64>()
            .prop_filter_map("finite", serde_json::Number::from_f64)
            .prop_map(Value::Number),
        "\\PC{0,30}".prop_map(Value::String),
        "[A-Z]{2,3}[0-9]{0,4}".prop_map(Value::String),
        "20[0-9]{2}-[01][0-9]-[0-3][0-9](T[0-2][0-9]:[0-5][0-9]:[0-5][0-9](Z|\\+05:30))?"
            .prop_map(Value::String),
    ]
}

fn json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,8}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// A body: an object of known and unknown fields, any other JSON, or bytes that are not JSON.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let field = prop_oneof![
        4 => prop::sample::select(NAMES.0.clone()),
        1 => "\\PC{0,12}",
    ];
    prop_oneof![
        6 => prop::collection::vec((field, json()), 0..6).prop_map(|fields| {
            serde_json::to_vec(&Value::Object(fields.into_iter().collect::<Map<_, _>>())).unwrap()
        }),
        1 => json().prop_map(|value| serde_json::to_vec(&value).unwrap()),
        1 => prop::collection::vec(any::<u8>(), 0..64),
    ]
}

/// A query string of known and unknown parameters, values percent-encoded.
fn query() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        4 => prop::sample::select(NAMES.1.clone()),
        1 => "[a-zA-Z]{1,8}",
    ];
    prop::collection::vec((name, "\\PC{0,24}"), 0..4).prop_map(|pairs| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in pairs {
            query.append_pair(&name, &value);
        }
        query.finish()
    })
}

/// The value of a path parameter: an id, a code, or any segment.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(uuid::Uuid::now_v7().to_string()),
        "[A-Z]{3}",
        "[A-Za-z0-9_.~-]{1,40}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(24),
        ..ProptestConfig::default()
    })]

    #[test]
    fn no_route_answers_a_generated_request_with_a_server_error(
        body in body(),
        query in query(),
        segment in segment(),
        client in any::<u32>(),
        role in prop::sample::select(&[Role::Customer, Role::Staff, Role::Admin][..]),
    ) {
        let token = token_for(role);
        for route in ROUTES {
            let path = route.path.replace("{id}", &segment).replace("{code}", &segment);
            let target = if query.is_empty() { path } else { format!("{path}?{query}") };
            let ip = std::net::Ipv4Addr::from(client).to_string();
            let request = TestRequest::new(route.method.clone(), target)
                .bearer(&token)
                .from_ip(&ip)
                .raw_body("application/json", body.clone());
            let response = RUNTIME.block_on(APP.send(request));
            prop_assert!(
                !response.status.is_server_error(),
                "{} {} answered {} to {:?}: {:?}",
                route.method, route.path, response.status,
                String::from_utf8_lossy(&body), response.body
            );
            if !response.status.is_success() && response.status != StatusCode::NOT_MODIFIED {
                prop_assert_eq!(
                    response.header("content-type"),
                    Some("application/problem+json"),
                    "{} {}", route.method, route.path
                );
            }
        }
    }
}
