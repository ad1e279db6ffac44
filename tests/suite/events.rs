//! Every sample event in `events/` deserializes as API Gateway would send it and runs through its
//! function's handler in-process, so `cargo lambda invoke --data-file events/<fn>.json` and
//! `sam local invoke` get events that really work.
//!
//! The events chain as a client's requests would: the account `register` creates is the one
//! `login` signs in; `refresh` and `logout` present the refresh tokens the previous answers gave;
//! the protected routes carry the context the authorizer answers for a real access token. What an
//! event file cannot know in advance (tokens, the new user's id) is filled in here, into the
//! event as written, so the files themselves stay what the tests run.

use std::collections::BTreeMap;
use std::sync::Arc;

use itinera::clock::SystemClock;
use itinera::identity::Role;
use itinera_functions::authorizer::{Unauthorized, authorize};
use itinera_functions::{Target, handle_event};
use itinera_http::{Api, CorsPolicy, CursorCodec, Services};
use itinera_tests::{
    FixedId, SIGNING_KEY, api_over, principal, principal_of, spawn_app, stored_admin, token_of,
    token_verifier,
};
use lambda_http::Body;
use lambda_http::aws_lambda_events::apigw::ApiGatewayCustomAuthorizerRequestTypeRequest;
use lambda_http::request::LambdaRequest;
use serde_json::{Value, json};

/// The airplane id the sample events use.
const SAMPLE_AIRPLANE_ID: &str = "0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f";

/// The JSON of `events/<function>.json`.
fn event_json(function: &str) -> Value {
    let path = format!("{}/../events/{function}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{path} is not JSON: {error}"))
}

/// An event's JSON as the request `lambda_http` hands a function.
fn request(function: &str, event: Value) -> lambda_http::Request {
    let request: LambdaRequest = serde_json::from_value(event).unwrap_or_else(|error| {
        panic!("events/{function}.json is not an API Gateway event: {error}")
    });
    request.into()
}

fn event(function: &str) -> lambda_http::Request {
    request(function, event_json(function))
}

/// Runs `event` through `function`'s handler, checks the status, and returns the JSON body
/// (`Null` when empty).
async fn run(api: &Api, function: &str, event: Value, status: u16) -> Value {
    let target = Target::of(function).unwrap_or_else(|| panic!("{function} has no target"));
    let response = handle_event(api, target, request(function, event)).await;
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
    if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&body).unwrap_or_else(|error| panic!("{function}: {error}: {body}"))
    }
}

/// The event with another JSON body.
fn with_body(mut event: Value, body: &Value) -> Value {
    assert!(event["body"].is_string(), "the event has a body to replace");
    event["body"] = Value::String(body.to_string());
    event
}

/// The event with the principal of `context` (the authorizer's answer) in place of the one
/// written in its `requestContext.authorizer`.
fn with_principal(mut event: Value, context: &Value) -> Value {
    let authorizer = event["requestContext"]["authorizer"]
        .as_object_mut()
        .expect("a protected route's event carries the authorizer context");
    for key in ["principalId", "userId", "role"] {
        assert!(authorizer.contains_key(key), "the context has {key}");
        authorizer.insert(key.into(), context[key].clone());
    }
    event
}

/// The event addressed to the user `id` (`/v1/users/{id}`).
fn for_user(mut event: Value, id: &str) -> Value {
    let path = event["resource"]
        .as_str()
        .expect("a resource")
        .replace("{id}", id);
    let stage = event["requestContext"]["stage"]
        .as_str()
        .expect("a stage")
        .to_owned();
    event["pathParameters"]["id"] = json!(id);
    event["requestContext"]["path"] = json!(format!("/{stage}{path}"));
    event["path"] = json!(path);
    event
}

/// The authorizer's sample event, sending `token` as its bearer token.
fn authorizer_event(token: Option<&str>) -> ApiGatewayCustomAuthorizerRequestTypeRequest {
    let mut event = event_json("authorizer");
    for headers in ["headers", "multiValueHeaders"] {
        let headers = event[headers].as_object_mut().expect("headers");
        let written = headers
            .remove("Authorization")
            .expect("the sample sends an Authorization header");
        let Some(token) = token else { continue };
        let value = json!(format!("Bearer {token}"));
        headers.insert(
            "Authorization".into(),
            if written.is_array() {
                json!([value])
            } else {
                value
            },
        );
    }
    serde_json::from_value(event).expect("an API Gateway REQUEST authorizer event")
}

/// What API Gateway puts in a route's `requestContext.authorizer` once the authorizer allowed
/// `token`: the principal id next to the context the authorizer answered.
fn context_for(token: &str) -> Value {
    let response = authorize(
        &token_verifier(),
        &SystemClock,
        authorizer_event(Some(token)),
    )
    .expect("the authorizer allows a valid token");
    let mut context = serde_json::to_value(&response.context).expect("a JSON context");
    context["principalId"] = json!(response.principal_id);
    context
}

#[tokio::test]
async fn every_sample_event_runs_through_its_function_with_the_expected_status() {
    let app = spawn_app();
    // The fleet events name their airplane, so its creation must give it that id; the same
    // store, as one deployment's functions share one table.
    let fleet = api_over(
        Arc::clone(&app.store),
        Arc::new(FixedId(uuid::Uuid::parse_str(SAMPLE_AIRPLANE_ID).unwrap())),
    );

    run(&app.api, "health", event_json("health"), 200).await;

    // The events' account: registered, then signed in with the same credentials.
    let user = run(&app.api, "register", event_json("register"), 201).await;
    let user_id = user["data"]["id"]
        .as_str()
        .expect("the new user's id")
        .to_owned();
    let session = run(&app.api, "login", event_json("login"), 200).await;
    let access_token = session["data"]["accessToken"]
        .as_str()
        .expect("an access token");
    let login_refresh = session["data"]["refreshToken"]
        .as_str()
        .expect("a refresh token");

    let refreshed = run(
        &app.api,
        "refresh",
        with_body(
            event_json("refresh"),
            &json!({"refreshToken": login_refresh}),
        ),
        200,
    )
    .await;
    let rotated = refreshed["data"]["refreshToken"]
        .as_str()
        .expect("a rotated refresh token");
    assert_ne!(rotated, login_refresh, "refresh rotates the token");
    let logout = with_body(event_json("logout"), &json!({"refreshToken": rotated}));
    run(&app.api, "logout", logout, 204).await;
    // The session really ended: its token no longer refreshes.
    let ended = with_body(event_json("refresh"), &json!({"refreshToken": rotated}));
    run(&app.api, "refresh", ended, 401).await;

    // The user's own routes, with the context the authorizer answers for the login's token.
    let customer = context_for(access_token);
    assert_eq!(customer["userId"], user_id.as_str());
    assert_eq!(customer["role"], "customer");
    let me = with_principal(event_json("get-my-profile"), &customer);
    let profile = run(&app.api, "get-my-profile", me, 200).await;
    assert_eq!(profile["data"]["id"], user_id.as_str());
    let update = with_principal(event_json("update-my-profile"), &customer);
    let updated = run(&app.api, "update-my-profile", update, 200).await;
    assert_eq!(updated["data"]["name"], "Augusta Ada King");
    let change = with_principal(event_json("change-my-password"), &customer);
    let fresh = run(&app.api, "change-my-password", change, 200).await;
    assert!(fresh["data"]["accessToken"].is_string(), "{fresh}");
    let activity = with_principal(event_json("list-my-activity"), &customer);
    let activity = run(&app.api, "list-my-activity", activity, 200).await;
    assert!(
        !activity["data"].as_array().expect("a page").is_empty(),
        "the user's registration and changes are their activity: {activity}"
    );

    // The admin routes, as an admin other than the user (an admin cannot demote themselves).
    let admin = context_for(&token_of(&principal_of(&stored_admin(&*app.store).await)));
    let listed = with_principal(event_json("list-users"), &admin);
    let users = run(&app.api, "list-users", listed, 200).await;
    assert!(
        users["data"]
            .as_array()
            .expect("a page")
            .iter()
            .any(|listed| listed["id"] == user_id.as_str()),
        "{users}"
    );
    let get = for_user(with_principal(event_json("get-user"), &admin), &user_id);
    let got = run(&app.api, "get-user", get, 200).await;
    assert_eq!(got["data"]["id"], user_id.as_str());
    let promote = for_user(with_principal(event_json("update-user"), &admin), &user_id);
    let promoted = run(&app.api, "update-user", promote, 200).await;
    assert_eq!(promoted["data"]["role"], "staff");
    // The fleet, as the staff member the events' context names.
    for (function, status) in [
        ("create-airplane", 201),
        ("list-airplanes", 200),
        ("get-airplane", 200),
        ("update-airplane", 200),
        ("delete-airplane", 204),
    ] {
        run(&fleet, function, event_json(function), status).await;
    }
    // The airplane's history, as the admin reads it: created, changed, removed.
    let audit = with_principal(event_json("list-audit-entries"), &admin);
    let history = run(&app.api, "list-audit-entries", audit, 200).await;
    assert_eq!(
        history["data"].as_array().expect("a page").len(),
        3,
        "{history}"
    );
    assert!(
        history["data"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|entry| entry["entityType"] == "airplane"),
        "{history}"
    );

    run(&app.api, "preflight", event_json("preflight"), 204).await;
}

#[test]
fn the_authorizer_event_allows_a_valid_token_and_refuses_a_missing_one() {
    let staff = principal(Role::Staff);
    let event = authorizer_event(Some(&token_of(&staff)));
    let method_arn = event.method_arn.clone().expect("a method ARN");
    let response = authorize(&token_verifier(), &SystemClock, event).expect("allowed");
    assert_eq!(
        response.principal_id.as_deref(),
        Some(staff.user_id.as_str())
    );
    assert_eq!(response.context.user_id, staff.user_id.as_str());
    assert_eq!(response.context.role, "staff");
    // Allowed on the whole stage of the event's API, so the cached answer serves every route.
    let stage = method_arn
        .splitn(3, '/')
        .take(2)
        .collect::<Vec<_>>()
        .join("/");
    let policy = serde_json::to_value(&response.policy_document).unwrap();
    assert_eq!(
        policy["Statement"][0]["Resource"],
        json!([format!("{stage}/*")])
    );
    assert_eq!(policy["Statement"][0]["Effect"], "Allow");

    assert_eq!(
        authorize(&token_verifier(), &SystemClock, authorizer_event(None)),
        Err(Unauthorized)
    );
}

#[tokio::test]
async fn the_request_id_and_client_ip_come_from_the_request_context() {
    let app = spawn_app();
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

/// The flight id the sample flight events use.
const SAMPLE_FLIGHT_ID: &str = "0190f5d2-8c00-7c4b-9a1e-3f2b8c4d5e6f";

#[tokio::test]
async fn the_airport_and_flight_sample_events_run_through_their_functions() {
    let app = spawn_app();
    // The sample flight names the sample airplane, and the flight events name the flight, so
    // each is created with the id its events use; one store, as one deployment's functions share
    // one table.
    let fleet = api_over(
        Arc::clone(&app.store),
        Arc::new(FixedId(uuid::Uuid::parse_str(SAMPLE_AIRPLANE_ID).unwrap())),
    );
    let schedule = api_over(
        Arc::clone(&app.store),
        Arc::new(FixedId(uuid::Uuid::parse_str(SAMPLE_FLIGHT_ID).unwrap())),
    );
    run(
        &fleet,
        "create-airplane",
        event_json("create-airplane"),
        201,
    )
    .await;

    let created = run(
        &app.api,
        "create-airport",
        event_json("create-airport"),
        201,
    )
    .await;
    let origin = created["data"]["code"].as_str().expect("a code").to_owned();
    // The flight's destination, which no sample creates.
    let destination = with_body(
        event_json("create-airport"),
        &json!({
            "code": "BOM",
            "name": "Chhatrapati Shivaji Maharaj International",
            "city": "Mumbai",
            "country": "IN",
            "timeZone": "Asia/Kolkata",
        }),
    );
    run(&app.api, "create-airport", destination, 201).await;
    let listed = run(&app.api, "list-airports", event_json("list-airports"), 200).await;
    let codes: Vec<&str> = listed["data"]
        .as_array()
        .expect("a page")
        .iter()
        .filter_map(|airport| airport["code"].as_str())
        .collect();
    assert_eq!(codes, ["BOM", origin.as_str()]);
    let airport = run(&app.api, "get-airport", event_json("get-airport"), 200).await;
    assert_eq!(airport["data"]["code"], origin.as_str());
    run(
        &app.api,
        "update-airport",
        event_json("update-airport"),
        200,
    )
    .await;

    let flight = run(&schedule, "create-flight", event_json("create-flight"), 201).await;
    assert_eq!(flight["data"]["id"], SAMPLE_FLIGHT_ID);
    assert_eq!(flight["data"]["from"], origin.as_str());
    let found = run(
        &app.api,
        "search-flights",
        event_json("search-flights"),
        200,
    )
    .await;
    assert_eq!(found["data"][0]["id"], SAMPLE_FLIGHT_ID, "{found}");
    let fetched = run(&app.api, "get-flight", event_json("get-flight"), 200).await;
    assert_eq!(
        fetched["data"]["remainingSeats"],
        fetched["data"]["totalSeats"]
    );
    run(&app.api, "update-flight", event_json("update-flight"), 200).await;
    // The flight goes first: its airport is in use until then.
    run(&app.api, "delete-flight", event_json("delete-flight"), 204).await;
    run(
        &app.api,
        "delete-airport",
        event_json("delete-airport"),
        204,
    )
    .await;
}

/// The notification id the sample notification events use.
const SAMPLE_NOTIFICATION_ID: &str = "0190f5d2-8d31-7e5f-9c30-5b4d0e6f7a82";

#[tokio::test]
async fn the_notification_sample_events_list_and_read_what_the_worker_wrote() {
    use itinera::jobs::{JobKind, Processed, WorkerServices, process_job};
    use itinera_embedded::OutboxMailer;

    let app = spawn_app();
    let user = run(&app.api, "register", event_json("register"), 201).await;
    let user_id = itinera::identity::UserId::parse(user["data"]["id"].as_str().expect("an id"))
        .expect("a user id");
    let session = run(&app.api, "login", event_json("login"), 200).await;
    let customer = context_for(session["data"]["accessToken"].as_str().expect("a token"));

    // The worker writes the notification the read event names, so it gets that id; its email
    // goes to a local outbox.
    let outbox = tempfile::tempdir().expect("a temporary directory");
    let sender = itinera::accounts::Email::parse("noreply@itinera.example").expect("an address");
    let services = WorkerServices {
        store: Arc::clone(&app.store),
        clock: Arc::new(SystemClock),
        ids: Arc::new(FixedId(
            uuid::Uuid::parse_str(SAMPLE_NOTIFICATION_ID).unwrap(),
        )),
        mailer: Arc::new(OutboxMailer::new(outbox.path().to_path_buf(), sender)),
        payments: Arc::new(itinera::payments::TestCardGateway),
    };
    let job = crate::worker::job_for(&user_id, JobKind::BookingConfirmed);
    assert_eq!(
        process_job(&services, &job).await.unwrap(),
        Processed::Emailed
    );

    let list = with_principal(event_json("list-notifications"), &customer);
    let unread = run(&app.api, "list-notifications", list.clone(), 200).await;
    assert_eq!(unread["data"][0]["id"], SAMPLE_NOTIFICATION_ID, "{unread}");
    assert_eq!(unread["data"][0]["read"], false);
    let read = with_principal(event_json("read-notification"), &customer);
    let marked = run(&app.api, "read-notification", read, 200).await;
    assert_eq!(marked["data"]["id"], SAMPLE_NOTIFICATION_ID);
    assert_eq!(marked["data"]["read"], true);
    // The list event asks for unread notifications only: there are none left.
    let after = run(&app.api, "list-notifications", list, 200).await;
    assert_eq!(after["data"], json!([]), "{after}");
}

/// The booking id the sample booking events use.
const SAMPLE_BOOKING_ID: &str = "0190f5d2-9d00-7c4b-9a1e-3f2b8c4d5e6f";

/// Seeds the sample flight in `app`'s store and answers the API the booking events run through,
/// which gives the next booking the id the events name.
async fn sample_booking_api(app: &itinera_tests::TestApp) -> Api {
    // The booking events book the sample flight and then name the booking: each is created with
    // the id its events use, in one store as one deployment's functions share one table.
    let flight_id = uuid::Uuid::parse_str(SAMPLE_FLIGHT_ID).unwrap();
    let departure = chrono::Utc::now() + chrono::TimeDelta::days(30);
    let flight = itinera_tests::seed_flight(
        &*app.store,
        &SystemClock,
        &itinera_tests::ScriptedIds::new([flight_id]),
        180,
        450_000,
        departure,
    )
    .await;
    assert_eq!(flight.id.as_str(), SAMPLE_FLIGHT_ID);
    let booking_id = uuid::Uuid::parse_str(SAMPLE_BOOKING_ID).unwrap();
    api_over(
        Arc::clone(&app.store),
        Arc::new(itinera_tests::ScriptedIds::new([booking_id])),
    )
}

#[tokio::test]
async fn the_booking_sample_events_run_through_their_functions() {
    let app = spawn_app();
    let bookings = sample_booking_api(&app).await;

    let created = run(
        &bookings,
        "create-booking",
        event_json("create-booking"),
        201,
    )
    .await;
    assert_eq!(created["data"]["id"], SAMPLE_BOOKING_ID, "{created}");
    assert_eq!(created["data"]["status"], "pending");
    // The payment event pays exactly this total.
    let paying = event_json("pay-booking");
    let payment: Value = serde_json::from_str(paying["body"].as_str().unwrap()).unwrap();
    assert_eq!(created["data"]["total"], payment["amount"]);
    // The same event again is a retry with the same Idempotency-Key: the first answer, again.
    let replayed = run(
        &bookings,
        "create-booking",
        event_json("create-booking"),
        201,
    )
    .await;
    assert_eq!(replayed, created);

    let listed = run(&bookings, "list-bookings", event_json("list-bookings"), 200).await;
    assert_eq!(listed["data"][0]["id"], SAMPLE_BOOKING_ID, "{listed}");
    let got = run(&bookings, "get-booking", event_json("get-booking"), 200).await;
    assert_eq!(got["data"], created["data"]);
    let paid = run(&bookings, "pay-booking", paying, 200).await;
    assert_eq!(paid["data"]["status"], "confirmed", "{paid}");
    let cancelled = run(
        &bookings,
        "cancel-booking",
        event_json("cancel-booking"),
        200,
    )
    .await;
    assert_eq!(cancelled["data"]["status"], "cancelled", "{cancelled}");
    assert_eq!(cancelled["data"]["refund"], payment["amount"]);
}

/// A function whose services were built without a gateway setting (every process but the ones
/// that move money) charges nothing: the payment event is a 503, and the booking stays pending.
#[tokio::test]
async fn the_payment_event_without_a_gateway_setting_is_503_and_leaves_the_booking_pending() {
    let app = spawn_app();
    let bookings = sample_booking_api(&app).await;
    run(
        &bookings,
        "create-booking",
        event_json("create-booking"),
        201,
    )
    .await;
    let unconfigured = Api::new(
        Services::new(Arc::clone(&app.store), CursorCodec::new(SIGNING_KEY)),
        CorsPolicy::default(),
    );
    let refused = run(&unconfigured, "pay-booking", event_json("pay-booking"), 503).await;
    assert_eq!(refused["status"], 503, "{refused}");
    let got = run(&bookings, "get-booking", event_json("get-booking"), 200).await;
    assert_eq!(got["data"]["status"], "pending", "{got}");
}

/// The user the sample job in `events/process-jobs.json` is for.
const SAMPLE_JOB_USER_ID: &str = "0193a1f0-0000-7000-8000-000000000001";

#[tokio::test]
async fn the_background_sample_events_run_through_their_functions() {
    use aws_lambda_events::sqs::SqsEvent;
    use itinera::background::{BACKGROUND_FUNCTIONS, ScheduledServices, Trigger};
    use itinera::clock::UuidV7Ids;
    use itinera::jobs::WorkerServices;
    use itinera_embedded::EmbeddedQueue;
    use itinera_functions::background::{handle_batch, handle_schedule};

    // The job's user exists: registered with the id the sample job names.
    let app = itinera_tests::spawn_app_with_ids(Arc::new(FixedId(
        uuid::Uuid::parse_str(SAMPLE_JOB_USER_ID).unwrap(),
    )));
    run(&app.api, "register", event_json("register"), 201).await;
    let mailer = Arc::new(crate::worker::RecordingMailer::new());
    let worker = WorkerServices {
        store: Arc::clone(&app.store),
        clock: Arc::new(SystemClock),
        ids: Arc::new(UuidV7Ids),
        mailer: mailer.clone(),
        payments: Arc::new(itinera::payments::TestCardGateway),
    };

    let batch = || -> SqsEvent { serde_json::from_value(event_json("process-jobs")).unwrap() };
    let answer = handle_batch(&worker, batch()).await;
    assert!(answer.batch_item_failures.is_empty(), "{answer:?}");
    assert_eq!(mailer.sent().len(), 1, "the job's email went out");
    // SQS delivers at least once: the same batch again sends nothing more.
    let again = handle_batch(&worker, batch()).await;
    assert!(again.batch_item_failures.is_empty(), "{again:?}");
    assert_eq!(
        mailer.sent().len(),
        1,
        "a redelivered job sends no second email"
    );

    // A poisoned message is the one failure reported, so SQS retries only it.
    let mut poisoned = event_json("process-jobs");
    poisoned["Records"][0]["messageId"] = json!("poisoned-message");
    poisoned["Records"][0]["body"] = json!("{\"not\": \"a job\"}");
    let poisoned: SqsEvent = serde_json::from_value(poisoned).unwrap();
    let answer = handle_batch(&worker, poisoned).await;
    assert_eq!(
        serde_json::to_value(&answer).unwrap(),
        json!({"batchItemFailures": [{"itemIdentifier": "poisoned-message"}]})
    );

    let data = tempfile::tempdir().unwrap();
    let scheduled = ScheduledServices {
        store: Arc::clone(&app.store),
        clock: Arc::new(SystemClock),
        ids: Arc::new(UuidV7Ids),
        jobs: Arc::new(EmbeddedQueue::open(data.path()).unwrap()),
        fleet_alerts: Some(itinera::accounts::Email::parse("fleet@example.com").unwrap()),
    };
    for background in BACKGROUND_FUNCTIONS {
        let Trigger::Schedule { task, .. } = background.trigger else {
            continue;
        };
        let event = event_json(background.function);
        assert_eq!(event["detail-type"], "Scheduled Event");
        let report = handle_schedule(task, &scheduled)
            .await
            .unwrap_or_else(|error| panic!("{}: {error}", background.function));
        assert_eq!(
            report.processed, 0,
            "{}: nothing was due",
            background.function
        );
    }
}

/// The only test that takes the process's metrics window: another would take figures this one
/// looks for. It finds its own request among whatever else the suite recorded meanwhile.
#[tokio::test]
async fn an_invocation_writes_its_figures_as_an_emf_document_of_its_product_line() {
    let app = spawn_app();
    let publisher = itinera_functions::metrics::Publisher::of_line("platform");
    let response = handle_event(&app.api, Target::of("health").unwrap(), event("health")).await;
    assert_eq!(response.status().as_u16(), 200);
    let documents = publisher.take_documents();
    let document = documents
        .iter()
        .find(|document| document["route"] == "health" && document["status_class"] == "2xx")
        .expect("a document for the health route's 2xx answers");
    assert!(document["itinera_requests_total"].as_u64() >= Some(1));
    let latencies = document["itinera_request_duration_milliseconds"]
        .as_array()
        .expect("the latency is the list of observed values");
    assert!(!latencies.is_empty() && latencies.iter().all(Value::is_f64));
    assert_eq!(document["product_line"], "platform");
    let aws = &document["_aws"];
    assert!(
        aws["Timestamp"]
            .as_i64()
            .is_some_and(|ms| ms > 1_600_000_000_000)
    );
    let directives = aws["CloudWatchMetrics"].as_array().expect("directives");
    assert_eq!(directives.len(), 1);
    let directive = &directives[0];
    assert_eq!(directive["Namespace"], "Itinera");
    let sets = directive["Dimensions"].as_array().expect("dimension sets");
    assert!(
        sets.contains(&json!(["product_line"])),
        "p99 per product line needs it alone"
    );
    assert!(
        sets.contains(&json!(["product_line", "status_class"])),
        "5xx per line needs it"
    );
    for set in sets {
        for key in set.as_array().expect("a dimension set") {
            let key = key.as_str().expect("a dimension name");
            assert!(
                document[key].is_string(),
                "dimension {key} is a key of the document"
            );
            assert!(
                !["request_id", "user_id"].contains(&key),
                "unbounded dimension {key}"
            );
        }
    }
    let units: BTreeMap<&str, &str> = directive["Metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .map(|metric| {
            (
                metric["Name"].as_str().unwrap(),
                metric["Unit"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(units["itinera_requests_total"], "Count");
    assert_eq!(
        units["itinera_request_duration_milliseconds"],
        "Milliseconds"
    );
    for name in units.keys() {
        assert!(
            !document[*name].is_null(),
            "metric {name} has its value in the document"
        );
    }
}
