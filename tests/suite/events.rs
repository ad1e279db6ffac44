//! Every sample event in `events/` deserializes as API Gateway would send it and runs through its
//! function's handler in-process, so `cargo lambda invoke --data-file events/<fn>.json` and
//! `sam local invoke` get events that really work.

use std::sync::Arc;

use itinera_functions::{Target, handle_event};
use itinera_tests::{FixedId, spawn_app_with_ids};
use lambda_http::Body;
use lambda_http::request::LambdaRequest;

/// The airplane id the sample events use.
const SAMPLE_AIRPLANE_ID: &str = "0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f";

/// The functions in the order their events make sense (create before get, delete last), with the
/// status each event must produce.
const EVENTS: [(&str, u16); 7] = [
    ("health", 200),
    ("create-airplane", 201),
    ("list-airplanes", 200),
    ("get-airplane", 200),
    ("update-airplane", 200),
    ("delete-airplane", 204),
    ("preflight", 204),
];

fn event(function: &str) -> lambda_http::Request {
    let path = format!("{}/../events/{function}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"));
    let request: LambdaRequest = serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("{path} is not an API Gateway event: {error}"));
    request.into()
}

#[tokio::test]
async fn every_sample_event_runs_through_its_function_with_the_expected_status() {
    let id = uuid::Uuid::parse_str(SAMPLE_AIRPLANE_ID).unwrap();
    let app = spawn_app_with_ids(Arc::new(FixedId(id)));
    for (function, status) in EVENTS {
        let target = Target::of(function).unwrap_or_else(|| panic!("{function} has no target"));
        let response = handle_event(&app.api, target, event(function)).await;
        let body = match response.body() {
            Body::Text(text) => text.clone(),
            Body::Empty => String::new(),
            other => panic!("{function}: unexpected body {other:?}"),
        };
        assert_eq!(response.status().as_u16(), status, "{function}: {body}");
        assert!(
            response.headers().contains_key("x-request-id"),
            "{function}"
        );
    }
}

#[tokio::test]
async fn the_request_id_and_client_ip_come_from_the_request_context() {
    let app = spawn_app_with_ids(Arc::new(FixedId(uuid::Uuid::now_v7())));
    let request = event("health");
    let expected = match lambda_http::RequestExt::request_context_ref(&request) {
        Some(lambda_http::request::RequestContext::ApiGatewayV1(context)) => {
            context.request_id.clone().unwrap()
        }
        _ => panic!("the health event has a REST API request context"),
    };
    let response = handle_event(&app.api, Target::of("health").unwrap(), request).await;
    assert_eq!(
        response.headers()["x-request-id"].to_str().unwrap(),
        expected
    );
}
