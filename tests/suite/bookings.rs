//! Bookings: the HTTP routes (idempotent creation, payment, cancellation, reads, lists) through the
//! router, and the scheduled jobs (hold expiry, departure reminders) at the use-case level, on the
//! embedded store with a clock the tests move instead of sleeping.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::TimeDelta;
use http::StatusCode;
use itinera::bookings::{
    Booking, BookingSettings, CREATE_OPERATION, CreateOutcome, NewBooking, Seats, create_booking,
    expire_holds, queue_departure_reminders,
};
use itinera::clock::{Clock, UuidV7Ids};
use itinera::flights::{Flight, FlightChanges, FlightStatus, get_flight, update_flight};
use itinera::idempotency::{
    self, Begin, Fingerprint, IdempotencyKey, IdempotencyScope, StoredResponse,
};
use itinera::identity::{Principal, Role};
use itinera::jobs::{Job, JobKind, JobQueue, QueueError, QueueMessage};
use itinera::payments::{TEST_TOKEN_APPROVE, TEST_TOKEN_DECLINE};
use itinera::storage::{Query, Store, StoreError};
use itinera::version::Precondition;
use itinera_embedded::EmbeddedStore;
use itinera_http::Api;
use itinera_tests::faults::{Call, Fault, FaultyStore};
use itinera_tests::{
    SettableClock, TestRequest, TestResponse, api_with_clock, context_of, pay_approved, principal,
    seed_flight, send, token_issuer,
};
use serde_json::{Value, json};
use tempfile::TempDir;

/// The fare per seat of the test flight, in paise.
const FARE: i64 = 450_000;

/// An API over its own embedded store and clock, with one scheduled flight.
struct Fixture {
    api: Api,
    store: Arc<dyn Store>,
    /// The same store, through which a test can make calls fail.
    faults: Arc<FaultyStore>,
    clock: Arc<SettableClock>,
    flight: Flight,
    _data: TempDir,
}

impl Fixture {
    /// A flight of `seats` seats departing in a week.
    async fn new(seats: u16) -> Self {
        let data = tempfile::tempdir().expect("temporary directory");
        let faults = Arc::new(FaultyStore::new(Arc::new(
            EmbeddedStore::open(data.path()).expect("embedded store opens"),
        )));
        let store: Arc<dyn Store> = faults.clone();
        let clock = Arc::new(SettableClock::now());
        let departure = clock.now() + TimeDelta::days(7);
        let flight = seed_flight(&*store, &*clock, &UuidV7Ids, seats, FARE, departure).await;
        let api = api_with_clock(Arc::clone(&store), clock.clone());
        Self {
            api,
            store,
            faults,
            clock,
            flight,
            _data: data,
        }
    }

    /// Sends `request` as `who`, with a token issued at the fixture's time.
    async fn send_as(&self, who: &Principal, request: TestRequest) -> TestResponse {
        let token = token_issuer().issue(who, self.clock.now()).token;
        send(&self.api, request.bearer(&token)).await
    }

    async fn book(&self, who: &Principal, key: &str, body: &Value) -> TestResponse {
        let request = TestRequest::post("/v1/bookings")
            .header("Idempotency-Key", key)
            .json(body);
        self.send_as(who, request).await
    }

    /// Books `seats` seats on the fixture's flight and returns the booking.
    async fn book_seats(&self, who: &Principal, seats: u8) -> Value {
        let key = uuid::Uuid::new_v4().to_string();
        let response = self
            .book(
                who,
                &key,
                &json!({"flightId": self.flight.id, "seats": seats}),
            )
            .await;
        response.created()
    }

    async fn pay(&self, who: &Principal, booking: &Value, token: &str) -> TestResponse {
        let request = TestRequest::post(format!(
            "/v1/bookings/{}/payment",
            booking["id"].as_str().unwrap()
        ))
        .json(&json!({"paymentToken": token, "amount": booking["total"]}));
        self.send_as(who, request).await
    }

    async fn cancel(&self, who: &Principal, id: &str) -> TestResponse {
        self.send_as(who, TestRequest::post(format!("/v1/bookings/{id}/cancel")))
            .await
    }

    async fn get(&self, who: &Principal, id: &str) -> TestResponse {
        self.send_as(who, TestRequest::get(format!("/v1/bookings/{id}")))
            .await
    }

    async fn remaining_seats(&self) -> u16 {
        get_flight(&*self.store, &self.flight.id)
            .await
            .expect("the flight")
            .remaining_seats
    }
}

fn customer() -> Principal {
    principal(Role::Customer)
}

fn assert_problem(response: &TestResponse, status: u16) -> Value {
    assert_eq!(response.status.as_u16(), status, "{:?}", response.json());
    assert_eq!(
        response.header("content-type"),
        Some("application/problem+json")
    );
    response.json()
}

fn error_fields(problem: &Value) -> Vec<&str> {
    problem["errors"]
        .as_array()
        .expect("field errors")
        .iter()
        .map(|error| error["field"].as_str().expect("a field name"))
        .collect()
}

/// Accepts every job and remembers it.
#[derive(Default)]
pub(crate) struct RecordingQueue(Mutex<Vec<Job>>);

#[async_trait]
impl JobQueue for RecordingQueue {
    async fn send(&self, messages: Vec<QueueMessage>) -> Result<(), QueueError> {
        let jobs = messages
            .iter()
            .map(|message| Job::from_body(&message.body).expect("a job"));
        self.0.lock().unwrap().extend(jobs);
        Ok(())
    }
}

impl RecordingQueue {
    pub(crate) fn jobs(&self) -> Vec<Job> {
        self.0.lock().unwrap().clone()
    }
}

#[tokio::test]
async fn booking_without_an_idempotency_key_is_a_400_naming_the_header() {
    let app = Fixture::new(10).await;
    let body = json!({"flightId": app.flight.id, "seats": 1});
    let request = TestRequest::post("/v1/bookings").json(&body);
    let problem = assert_problem(&app.send_as(&customer(), request).await, 400);
    assert_eq!(error_fields(&problem), ["Idempotency-Key"]);
    for invalid in ["k".repeat(256), "tab\tinside".to_owned()] {
        let problem = assert_problem(&app.book(&customer(), &invalid, &body).await, 400);
        assert_eq!(error_fields(&problem), ["Idempotency-Key"], "{invalid:?}");
    }
    assert_eq!(app.remaining_seats().await, 10, "no seat was taken");
}

#[tokio::test]
async fn a_booking_holds_its_seats_at_the_fare_times_the_seats_until_the_hold_ends() {
    let app = Fixture::new(10).await;
    let ann = customer();
    let response = app
        .book(
            &ann,
            "first",
            &json!({"flightId": app.flight.id, "seats": "3"}),
        )
        .await;
    let booking = response.created();
    let id = booking["id"].as_str().expect("an id");
    assert_eq!(
        response.header("location"),
        Some(format!("/v1/bookings/{id}").as_str())
    );
    assert_eq!(booking["status"], "pending");
    assert_eq!(booking["seats"], 3);
    assert_eq!(booking["userId"], ann.user_id.as_str());
    assert_eq!(booking["flightId"], app.flight.id.as_str());
    assert_eq!(
        booking["total"],
        json!({"amount": 3 * FARE, "currency": "INR"})
    );
    let hold: chrono::DateTime<chrono::Utc> = booking["holdExpiresAt"]
        .as_str()
        .expect("a hold expiry")
        .parse()
        .expect("an RFC 3339 time");
    assert_eq!(hold, app.clock.now() + TimeDelta::minutes(10));
    assert_eq!(booking["flight"]["number"], "AI101");
    assert_eq!(booking["flight"]["from"], "DEL");
    assert_eq!(booking["flight"]["to"], "BOM");
    assert!(booking.get("confirmedAt").is_none() && booking.get("refund").is_none());
    assert_eq!(app.remaining_seats().await, 7);
}

#[tokio::test]
async fn a_retry_with_the_same_key_and_body_replays_the_first_response_exactly() {
    let app = Fixture::new(10).await;
    let ann = customer();
    let body = json!({"flightId": app.flight.id, "seats": 2});
    let first = app.book(&ann, "retry-me", &body).await;
    assert_eq!(first.status, StatusCode::CREATED);
    app.clock.advance(TimeDelta::seconds(5));
    // The same request, with the seats as a numeric string: the same command.
    let same = json!({"flightId": app.flight.id, "seats": "2"});
    let replay = app.book(&ann, "retry-me", &same).await;
    assert_eq!(replay.status, StatusCode::CREATED);
    assert_eq!(
        replay.body, first.body,
        "the body is byte for byte the first"
    );
    assert_eq!(replay.header("location"), first.header("location"));
    assert_eq!(app.remaining_seats().await, 8, "the seats were taken once");
    // Another user's identical key is another request.
    let bob = app.book(&customer(), "retry-me", &body).await;
    assert_eq!(bob.status, StatusCode::CREATED);
    assert_ne!(bob.json()["data"]["id"], first.json()["data"]["id"]);
}

#[tokio::test]
async fn the_same_key_with_another_body_is_a_422_and_changes_nothing() {
    let app = Fixture::new(10).await;
    let ann = customer();
    let key = "one-key";
    let first = app
        .book(&ann, key, &json!({"flightId": app.flight.id, "seats": 1}))
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    let other = app
        .book(&ann, key, &json!({"flightId": app.flight.id, "seats": 2}))
        .await;
    let problem = assert_problem(&other, 422);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("Idempotency-Key")
    );
    assert_eq!(app.remaining_seats().await, 9);
}

#[tokio::test]
async fn a_key_whose_request_is_in_progress_is_a_409_until_its_lease_lapses() {
    let app = Fixture::new(10).await;
    let ann = customer();
    let key = "slow-request";
    let new = NewBooking {
        flight_id: app.flight.id.clone(),
        seats: Seats::try_from(1).unwrap(),
    };
    // Another instance claimed the key for the same request and is still working on it.
    let claimed = idempotency::begin(
        &*app.store,
        &*app.clock,
        &IdempotencyScope::new(CREATE_OPERATION, &ann.user_id),
        &IdempotencyKey::parse(key).unwrap(),
        &Fingerprint::of(&new).unwrap(),
    )
    .await
    .unwrap();
    assert!(matches!(claimed, Begin::Proceed(_)));
    let body = json!({"flightId": app.flight.id, "seats": 1});
    let problem = assert_problem(&app.book(&ann, key, &body).await, 409);
    assert!(problem["detail"].as_str().unwrap().contains("in progress"));
    assert_eq!(app.remaining_seats().await, 10);
    // Its holder never finished: once the lease lapses, the key is taken over.
    app.clock.advance(idempotency::LEASE);
    let response = app.book(&ann, key, &body).await;
    response.assert_status(StatusCode::CREATED);
    assert_eq!(app.remaining_seats().await, 9);
}

#[tokio::test]
async fn a_key_is_remembered_for_a_day_and_then_names_a_new_request() {
    let app = Fixture::new(10).await;
    let ann = customer();
    let first = app
        .book(
            &ann,
            "daily",
            &json!({"flightId": app.flight.id, "seats": 1}),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    // Paid, so that the pending booking does not stand in the way of the next one.
    let paid = app
        .pay(&ann, &first.json()["data"], TEST_TOKEN_APPROVE)
        .await;
    paid.assert_status(StatusCode::OK);
    let other = json!({"flightId": app.flight.id, "seats": 2});
    app.clock
        .advance(idempotency::RECORD_TTL - TimeDelta::seconds(1));
    assert_problem(&app.book(&ann, "daily", &other).await, 422);
    // Past its time to live the record counts as gone, even before DynamoDB deletes it.
    app.clock.advance(TimeDelta::seconds(1));
    let second = app.book(&ann, "daily", &other).await;
    second.assert_status(StatusCode::CREATED);
    assert_ne!(second.json()["data"]["id"], first.json()["data"]["id"]);
    assert_eq!(app.remaining_seats().await, 7);
}

#[tokio::test]
async fn of_two_requests_taking_over_a_lapsed_claim_exactly_one_proceeds() {
    let app = Fixture::new(10).await;
    let scope = IdempotencyScope::new(CREATE_OPERATION, &customer().user_id);
    let key = IdempotencyKey::parse("contested").unwrap();
    let fingerprint = Fingerprint::of(&"the same request").unwrap();
    let begin = || idempotency::begin(&*app.store, &*app.clock, &scope, &key, &fingerprint);
    assert!(matches!(begin().await.unwrap(), Begin::Proceed(_)));
    app.clock.advance(idempotency::LEASE);
    let (one, other) = tokio::join!(begin(), begin());
    let proceeded = [one, other]
        .into_iter()
        .filter(|outcome| match outcome {
            Ok(Begin::Proceed(_)) => true,
            Err(itinera::error::DomainError::Conflict { .. }) => false,
            unexpected => panic!("{unexpected:?}"),
        })
        .count();
    assert_eq!(proceeded, 1);
}

#[tokio::test]
async fn a_failed_booking_releases_its_key_for_a_retry() {
    let app = Fixture::new(2).await;
    let (ann, bob) = (customer(), customer());
    let taken = app.book_seats(&ann, 2).await;
    let body = json!({"flightId": app.flight.id, "seats": 1});
    let sold_out = assert_problem(&app.book(&bob, "bobs-key", &body).await, 409);
    assert!(
        sold_out["detail"].as_str().unwrap().contains("sold out"),
        "{sold_out}"
    );
    let cancelled = app.cancel(&ann, taken["id"].as_str().unwrap()).await;
    assert_eq!(cancelled.status, StatusCode::OK);
    // The failure was not remembered: the same key now books.
    let retry = app.book(&bob, "bobs-key", &body).await;
    retry.assert_status(StatusCode::CREATED);
    assert_eq!(app.remaining_seats().await, 1);
}

#[tokio::test]
async fn a_booking_the_flight_refuses_writes_nothing_and_a_used_key_still_replays() {
    let app = Fixture::new(1).await;
    let (ann, bob) = (customer(), customer());
    let body = json!({"flightId": app.flight.id, "seats": 1});
    let first = app.book(&ann, "anns-key", &body).await;
    first.assert_status(StatusCode::CREATED);

    // Every write fails from here on: a refusal that claimed its key (or released it) would
    // answer 503 instead of 409.
    for call in [Call::Put, Call::Update, Call::Delete, Call::Transact] {
        app.faults
            .inject(Fault::on(call).touching("IDEMPOTENCY#").times(usize::MAX));
    }
    let sold_out = assert_problem(&app.book(&bob, "bobs-key", &body).await, 409);
    assert!(
        sold_out["detail"].as_str().unwrap().contains("sold out"),
        "{sold_out}"
    );
    let unknown = json!({"flightId": uuid::Uuid::now_v7().to_string(), "seats": 1});
    assert_problem(&app.book(&bob, "bobs-other-key", &unknown).await, 404);
    assert_eq!(app.faults.injected(), 0, "no write was attempted");

    // A used key still goes through its record: the first answer again, sold out or not.
    app.faults.heal();
    let replay = app.book(&ann, "anns-key", &body).await;
    replay.assert_status(StatusCode::CREATED);
    assert_eq!(replay.json()["data"]["id"], first.json()["data"]["id"]);
    assert_eq!(app.remaining_seats().await, 0);
}

#[tokio::test]
async fn bad_bookings_are_refused_and_take_no_seats() {
    let app = Fixture::new(4).await;
    let ann = customer();
    for (body, field) in [
        (json!({"flightId": app.flight.id, "seats": 0}), "seats"),
        (json!({"flightId": app.flight.id, "seats": 10}), "seats"),
        (json!({"flightId": app.flight.id, "seats": "two"}), "seats"),
        (json!({"flightId": "not-a-flight", "seats": 1}), "flightId"),
        (json!({"seats": 1}), "flightId"),
        (
            json!({"flightId": app.flight.id, "seats": 1, "price": 1}),
            "price",
        ),
    ] {
        let key = uuid::Uuid::new_v4().to_string();
        let problem = assert_problem(&app.book(&ann, &key, &body).await, 400);
        assert!(error_fields(&problem).contains(&field), "{body}: {problem}");
    }
    let unknown = json!({"flightId": uuid::Uuid::now_v7().to_string(), "seats": 1});
    assert_problem(&app.book(&ann, "unknown", &unknown).await, 404);
    let too_many = json!({"flightId": app.flight.id, "seats": 5});
    let problem = assert_problem(&app.book(&ann, "too-many", &too_many).await, 409);
    assert!(problem["detail"].as_str().unwrap().contains("Only 4"));
    assert_eq!(app.remaining_seats().await, 4);
}

#[tokio::test]
async fn a_flight_that_is_not_scheduled_cannot_be_booked() {
    let app = Fixture::new(4).await;
    let cancel = FlightChanges::new(None, None, None, Some(FlightStatus::Cancelled)).unwrap();
    update_flight(
        &*app.store,
        &*app.clock,
        &UuidV7Ids,
        None,
        &context_of(&principal(Role::Staff)),
        &app.flight.id,
        &cancel,
        &Precondition::None,
    )
    .await
    .expect("the flight is cancelled");
    let body = json!({"flightId": app.flight.id, "seats": 1});
    let problem = assert_problem(&app.book(&customer(), "k", &body).await, 409);
    assert!(
        problem["detail"].as_str().unwrap().contains("cancelled"),
        "{problem}"
    );
}

#[tokio::test]
async fn paying_confirms_the_booking_and_a_decline_leaves_it_pending() {
    let app = Fixture::new(10).await;
    let ann = customer();
    let booking = app.book_seats(&ann, 2).await;
    let id = booking["id"].as_str().unwrap();

    let declined = assert_problem(&app.pay(&ann, &booking, TEST_TOKEN_DECLINE).await, 402);
    assert!(declined["detail"].as_str().unwrap().contains("declined"));
    assert_problem(&app.pay(&ann, &booking, "tok_nobody_knows").await, 402);
    let still = app.get(&ann, id).await.json()["data"].clone();
    assert_eq!(still["status"], "pending");

    let paid = app.pay(&ann, &booking, TEST_TOKEN_APPROVE).await;
    paid.assert_status(StatusCode::OK);
    let confirmed = paid.json()["data"].clone();
    assert_eq!(confirmed["status"], "confirmed");
    assert!(confirmed["confirmedAt"].is_string());
    assert!(confirmed.get("holdExpiresAt").is_none());
    assert_eq!(app.get(&ann, id).await.json()["data"], confirmed);
    assert_eq!(app.remaining_seats().await, 8);

    let again = assert_problem(&app.pay(&ann, &booking, TEST_TOKEN_APPROVE).await, 409);
    assert!(again["detail"].as_str().unwrap().contains("confirmed"));
}

#[tokio::test]
async fn a_payment_must_name_the_bookings_total_and_a_token() {
    let app = Fixture::new(10).await;
    let ann = customer();
    let booking = app.book_seats(&ann, 2).await;
    let path = format!("/v1/bookings/{}/payment", booking["id"].as_str().unwrap());
    let one_seat = json!({"amount": FARE, "currency": "INR"});
    let in_euros = json!({"amount": 2 * FARE, "currency": "EUR"});
    for (body, field) in [
        (
            json!({"paymentToken": TEST_TOKEN_APPROVE, "amount": one_seat}),
            "amount",
        ),
        (
            json!({"paymentToken": TEST_TOKEN_APPROVE, "amount": in_euros}),
            "amount",
        ),
        (
            json!({"paymentToken": "4242424242424242", "amount": booking["total"]}),
            "paymentToken",
        ),
        (json!({"amount": booking["total"]}), "paymentToken"),
        (
            json!({
                "paymentToken": TEST_TOKEN_APPROVE,
                "amount": booking["total"],
                "cardNumber": "4242",
            }),
            "cardNumber",
        ),
    ] {
        let response = app
            .send_as(&ann, TestRequest::post(&path).json(&body))
            .await;
        let problem = assert_problem(&response, 400);
        assert_eq!(error_fields(&problem), [field], "{body}");
    }
    let unchanged = app.get(&ann, booking["id"].as_str().unwrap()).await;
    assert_eq!(unchanged.json()["data"]["status"], "pending");
}

#[tokio::test]
async fn a_lapsed_hold_cannot_be_paid_and_expiry_returns_its_seats() {
    let app = Fixture::new(10).await;
    let ann = customer();
    let booking = app.book_seats(&ann, 3).await;
    app.clock.advance(TimeDelta::minutes(10));
    let problem = assert_problem(&app.pay(&ann, &booking, TEST_TOKEN_APPROVE).await, 409);
    assert!(problem["detail"].as_str().unwrap().contains("expired"));
    assert_eq!(
        app.remaining_seats().await,
        7,
        "not expired until the job runs"
    );

    let queue = RecordingQueue::default();
    let expired = expire_holds(&*app.store, &*app.clock, &UuidV7Ids, Some(&queue))
        .await
        .unwrap();
    assert_eq!(expired, 1);
    assert_eq!(app.remaining_seats().await, 10);
    let id = booking["id"].as_str().unwrap();
    let after = app.get(&ann, id).await.json()["data"].clone();
    assert_eq!(after["status"], "expired");
    assert!(after["expiredAt"].is_string() && after.get("holdExpiresAt").is_none());
    let jobs = queue.jobs();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].kind, JobKind::BookingExpired);
    assert_eq!(jobs[0].subject.id(), id);
    assert_eq!(jobs[0].user_id(), Some(&ann.user_id));
    // Nothing is due any more: a second run expires nothing and gives back no seats.
    let again = expire_holds(&*app.store, &*app.clock, &UuidV7Ids, None)
        .await
        .unwrap();
    assert_eq!(again, 0);
    assert_eq!(app.remaining_seats().await, 10);
    assert_problem(&app.cancel(&ann, id).await, 409);
}

#[tokio::test]
async fn expiry_leaves_holds_that_are_still_running_and_paid_bookings_alone() {
    let app = Fixture::new(10).await;
    let ann = customer();
    let paid = app.book_seats(&ann, 1).await;
    assert_eq!(
        app.pay(&ann, &paid, TEST_TOKEN_APPROVE).await.status,
        StatusCode::OK
    );
    app.clock.advance(TimeDelta::minutes(5));
    let later = app.book_seats(&ann, 2).await;
    app.clock
        .advance(TimeDelta::minutes(5) + TimeDelta::milliseconds(1));
    // The first hold would have lapsed, but it was paid; the second runs for 5 more minutes.
    let expired = expire_holds(&*app.store, &*app.clock, &UuidV7Ids, None)
        .await
        .unwrap();
    assert_eq!(expired, 0);
    assert_eq!(app.remaining_seats().await, 7);
    let id = later["id"].as_str().unwrap();
    assert_eq!(app.get(&ann, id).await.json()["data"]["status"], "pending");
}

#[tokio::test]
async fn only_the_owner_and_staff_see_a_booking_and_only_the_owner_pays() {
    let app = Fixture::new(10).await;
    let (ann, eve, staff) = (customer(), customer(), principal(Role::Staff));
    let booking = app.book_seats(&ann, 1).await;
    let id = booking["id"].as_str().unwrap();
    assert_eq!(app.get(&ann, id).await.status, StatusCode::OK);
    assert_eq!(app.get(&staff, id).await.status, StatusCode::OK);
    assert_eq!(
        app.get(&principal(Role::Admin), id).await.status,
        StatusCode::OK
    );
    assert_problem(&app.get(&eve, id).await, 404);
    assert_problem(&app.pay(&eve, &booking, TEST_TOKEN_APPROVE).await, 404);
    assert_problem(&app.pay(&staff, &booking, TEST_TOKEN_APPROVE).await, 404);
    assert_problem(&app.cancel(&eve, id).await, 404);
    let anonymous = send(
        &app.api,
        TestRequest::get(format!("/v1/bookings/{id}")).anonymous(),
    )
    .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_problem(&app.get(&ann, "not-a-uuid").await, 404);
    assert_problem(&app.get(&ann, &uuid::Uuid::now_v7().to_string()).await, 404);
    assert_eq!(app.get(&ann, id).await.json()["data"]["status"], "pending");
    assert_eq!(app.remaining_seats().await, 9);
}

#[tokio::test]
async fn cancelling_returns_the_seats_once_and_a_second_cancel_is_a_409() {
    let app = Fixture::new(10).await;
    let ann = customer();
    let booking = app.book_seats(&ann, 3).await;
    let id = booking["id"].as_str().unwrap();
    assert_eq!(app.remaining_seats().await, 7);
    let cancelled = app.cancel(&ann, id).await;
    cancelled.assert_status(StatusCode::OK);
    let cancelled = cancelled.json()["data"].clone();
    assert_eq!(cancelled["status"], "cancelled");
    assert!(cancelled["cancelledAt"].is_string());
    assert!(cancelled.get("refund").is_none(), "nothing was paid");
    assert_eq!(app.remaining_seats().await, 10);
    let again = assert_problem(&app.cancel(&ann, id).await, 409);
    assert!(
        again["detail"]
            .as_str()
            .unwrap()
            .contains("already cancelled")
    );
    assert_eq!(app.remaining_seats().await, 10, "the seats came back once");
    // The expiry job finds no hold left behind by the cancellation.
    app.clock.advance(TimeDelta::hours(1));
    let expired = expire_holds(&*app.store, &*app.clock, &UuidV7Ids, None)
        .await
        .unwrap();
    assert_eq!(expired, 0);
    assert_eq!(app.remaining_seats().await, 10);
}

#[tokio::test]
async fn cancelling_a_paid_booking_refunds_it_and_records_the_refund() {
    let app = Fixture::new(10).await;
    let ann = customer();
    let booking = app.book_seats(&ann, 2).await;
    assert_eq!(
        app.pay(&ann, &booking, TEST_TOKEN_APPROVE).await.status,
        StatusCode::OK
    );
    // Staff may cancel a customer's booking.
    let cancelled = app
        .cancel(&principal(Role::Staff), booking["id"].as_str().unwrap())
        .await;
    cancelled.assert_status(StatusCode::OK);
    let cancelled = cancelled.json()["data"].clone();
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(
        cancelled["refund"],
        json!({"amount": 2 * FARE, "currency": "INR"})
    );
    assert!(cancelled["refundedAt"].is_string());
    assert!(cancelled["confirmedAt"].is_string());
    assert_eq!(app.remaining_seats().await, 10);
    let stored = app.get(&ann, booking["id"].as_str().unwrap()).await;
    assert_eq!(stored.json()["data"], cancelled);
}

#[tokio::test]
async fn cancellations_and_payments_stage_their_jobs_in_the_outbox() {
    let app = Fixture::new(10).await;
    let ann = customer();
    let booking = app.book_seats(&ann, 1).await;
    app.clock.advance(TimeDelta::milliseconds(1));
    app.pay(&ann, &booking, TEST_TOKEN_APPROVE).await;
    app.clock.advance(TimeDelta::milliseconds(1));
    app.cancel(&ann, booking["id"].as_str().unwrap()).await;
    // The test API has no queue: the jobs wait in the outbox for the relay.
    let outbox = app
        .store
        .query(Query::partition(None, "OUTBOX"))
        .await
        .unwrap();
    let kinds: Vec<String> = outbox
        .items
        .iter()
        .map(|item| item["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["booking-confirmed", "booking-cancelled"]);
}

#[tokio::test]
async fn customers_list_their_own_bookings_newest_first_and_staff_list_all() {
    let app = Fixture::new(20).await;
    let (ann, bob) = (customer(), customer());
    // One pending booking per customer and flight: Ann's first is paid and her second cancelled
    // before she books the third.
    let mut anns = Vec::new();
    for _ in 0..3 {
        anns.push(app.book_seats(&ann, 1).await);
        app.clock.advance(TimeDelta::milliseconds(5));
        match anns.len() {
            1 => assert_eq!(
                app.pay(&ann, &anns[0], TEST_TOKEN_APPROVE).await.status,
                StatusCode::OK
            ),
            2 => assert_eq!(
                app.cancel(&ann, anns[1]["id"].as_str().unwrap())
                    .await
                    .status,
                StatusCode::OK
            ),
            _ => {}
        }
    }
    let bobs = app.book_seats(&bob, 2).await;

    let ids = |response: &TestResponse| -> Vec<String> {
        response.assert_status(StatusCode::OK);
        response.json()["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|booking| booking["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let id = |booking: &Value| booking["id"].as_str().unwrap().to_owned();
    let own = app.send_as(&ann, TestRequest::get("/v1/bookings")).await;
    assert_eq!(ids(&own), [id(&anns[2]), id(&anns[1]), id(&anns[0])]);
    // A customer's flight filter stays within their own bookings.
    let flight = format!("/v1/bookings?flightId={}", app.flight.id);
    let own_on_flight = app.send_as(&ann, TestRequest::get(&flight)).await;
    assert_eq!(ids(&own_on_flight).len(), 3);
    let confirmed = app
        .send_as(&ann, TestRequest::get("/v1/bookings?status=confirmed"))
        .await;
    assert_eq!(ids(&confirmed), [id(&anns[0])]);

    let staff = principal(Role::Staff);
    let all = app.send_as(&staff, TestRequest::get("/v1/bookings")).await;
    assert_eq!(
        ids(&all),
        [id(&bobs), id(&anns[2]), id(&anns[1]), id(&anns[0])]
    );
    let by_flight = app.send_as(&staff, TestRequest::get(&flight)).await;
    assert_eq!(ids(&by_flight).len(), 4);
    let other_flight = format!("/v1/bookings?flightId={}", uuid::Uuid::now_v7());
    assert!(ids(&app.send_as(&staff, TestRequest::get(&other_flight)).await).is_empty());
    assert_problem(
        &app.send_as(&staff, TestRequest::get("/v1/bookings?status=held"))
            .await,
        400,
    );
}

#[tokio::test]
async fn list_pages_follow_signed_cursors_bound_to_their_list() {
    let app = Fixture::new(20).await;
    let ann = customer();
    for _ in 0..5 {
        // Paid, as one customer holds at most one pending booking per flight.
        let booking = app.book_seats(&ann, 1).await;
        assert_eq!(
            app.pay(&ann, &booking, TEST_TOKEN_APPROVE).await.status,
            StatusCode::OK
        );
        app.clock.advance(TimeDelta::milliseconds(5));
    }
    let first = app
        .send_as(&ann, TestRequest::get("/v1/bookings?limit=2"))
        .await
        .json();
    assert_eq!(first["data"].as_array().unwrap().len(), 2);
    let cursor = first["pagination"]["nextCursor"]
        .as_str()
        .expect("a cursor");
    let second = app
        .send_as(
            &ann,
            TestRequest::get(format!("/v1/bookings?limit=2&cursor={cursor}")),
        )
        .await
        .json();
    assert_eq!(second["data"].as_array().unwrap().len(), 2);
    assert_ne!(second["data"][0]["id"], first["data"][0]["id"]);
    // The cursor belongs to Ann's list: not to another user's, nor to a filtered one.
    let elsewhere = [
        (customer(), format!("/v1/bookings?limit=2&cursor={cursor}")),
        (
            ann.clone(),
            format!("/v1/bookings?limit=2&status=pending&cursor={cursor}"),
        ),
    ];
    for (who, target) in elsewhere {
        let problem = assert_problem(&app.send_as(&who, TestRequest::get(target)).await, 400);
        assert_eq!(error_fields(&problem), ["cursor"]);
    }
}

#[tokio::test]
async fn every_booking_change_shows_in_the_actors_activity() {
    let app = Fixture::new(10).await;
    let ann = customer();
    let booking = app.book_seats(&ann, 1).await;
    app.clock.advance(TimeDelta::milliseconds(1));
    app.pay(&ann, &booking, TEST_TOKEN_APPROVE).await;
    app.clock.advance(TimeDelta::milliseconds(1));
    app.cancel(&ann, booking["id"].as_str().unwrap()).await;
    let activity = app
        .send_as(&ann, TestRequest::get("/v1/users/me/activity"))
        .await;
    assert_eq!(activity.status, StatusCode::OK);
    let entries = activity.json()["data"].as_array().unwrap().clone();
    let of_booking: Vec<&Value> = entries
        .iter()
        .filter(|entry| entry["entityType"] == "booking" && entry["entityId"] == booking["id"])
        .collect();
    assert_eq!(of_booking.len(), 3, "{entries:?}");
    assert_eq!(of_booking[2]["action"], "create");
    assert_eq!(of_booking[2]["after"]["status"], "pending");
    assert_eq!(of_booking[1]["after"]["status"], "confirmed");
    assert_eq!(of_booking[0]["before"]["status"], "confirmed");
    assert_eq!(of_booking[0]["after"]["status"], "cancelled");
}

/// What the use-case tests record as a creation's response.
fn respond(booking: &Booking) -> Result<StoredResponse, StoreError> {
    Ok(StoredResponse {
        status: 201,
        body: serde_json::to_value(booking).expect("a booking serializes"),
        location: None,
    })
}

/// Books `seats` for `who` through the use cases (no rate limit in the way), and pays for the
/// booking when `pay` says so.
async fn booked(app: &Fixture, who: &Principal, seats: u8, pay: bool) -> Booking {
    let context = context_of(who);
    let key = IdempotencyKey::parse(&uuid::Uuid::new_v4().to_string()).unwrap();
    let new = NewBooking {
        flight_id: app.flight.id.clone(),
        seats: Seats::try_from(i64::from(seats)).unwrap(),
    };
    let outcome = create_booking(
        &*app.store,
        &*app.clock,
        &UuidV7Ids,
        &BookingSettings::default(),
        &context,
        &key,
        &new,
        respond,
    )
    .await
    .expect("the booking is created");
    let CreateOutcome::Created { booking, .. } = outcome else {
        panic!("a new key creates a booking");
    };
    if !pay {
        return *booking;
    }
    pay_approved(&*app.store, &*app.clock, who, &booking)
        .await
        .expect("the booking is paid")
}

#[tokio::test]
async fn departure_reminders_go_once_to_each_confirmed_booking_of_flights_leaving_within_a_day() {
    let app = Fixture::new(10).await;
    let ann = customer();
    let confirmed = [
        booked(&app, &ann, 1, true).await,
        booked(&app, &customer(), 2, true).await,
    ];
    booked(&app, &customer(), 1, false).await;
    let queue = RecordingQueue::default();
    // A week before departure, nothing is due.
    let early = queue_departure_reminders(&*app.store, &*app.clock, &UuidV7Ids, Some(&queue))
        .await
        .unwrap();
    assert_eq!(early, 0);
    app.clock
        .set(app.flight.departure_time - TimeDelta::hours(23));
    let queued = queue_departure_reminders(&*app.store, &*app.clock, &UuidV7Ids, Some(&queue))
        .await
        .unwrap();
    assert_eq!(queued, 2);
    let jobs = queue.jobs();
    assert!(
        jobs.iter()
            .all(|job| job.kind == JobKind::DepartureReminder)
    );
    let mut reminded: Vec<&str> = jobs.iter().map(|job| job.subject.id()).collect();
    reminded.sort_unstable();
    let mut expected: Vec<&str> = confirmed
        .iter()
        .map(|booking| booking.id.as_str())
        .collect();
    expected.sort_unstable();
    assert_eq!(reminded, expected);
    let again = queue_departure_reminders(&*app.store, &*app.clock, &UuidV7Ids, Some(&queue))
        .await
        .unwrap();
    assert_eq!(again, 0, "a flight's reminders are queued once");
}

#[tokio::test]
async fn a_flight_with_more_bookings_than_one_transaction_holds_is_reminded_in_chunks() {
    const BOOKINGS: usize = 130;
    let app = Fixture::new(200).await;
    for _ in 0..BOOKINGS {
        booked(&app, &customer(), 1, true).await;
    }
    app.clock
        .set(app.flight.departure_time - TimeDelta::hours(2));
    let queue = RecordingQueue::default();
    // Two runs at once: between them, every booking is reminded exactly once.
    let (first, second) = tokio::join!(
        queue_departure_reminders(&*app.store, &*app.clock, &UuidV7Ids, Some(&queue)),
        queue_departure_reminders(&*app.store, &*app.clock, &UuidV7Ids, Some(&queue)),
    );
    assert_eq!(first.unwrap() + second.unwrap(), BOOKINGS);
    let mut reminded: Vec<String> = queue
        .jobs()
        .into_iter()
        .map(|job| job.dedup_key())
        .collect();
    reminded.sort_unstable();
    reminded.dedup();
    assert_eq!(reminded.len(), BOOKINGS);
    let again = queue_departure_reminders(&*app.store, &*app.clock, &UuidV7Ids, None)
        .await
        .unwrap();
    assert_eq!(again, 0);
}

#[tokio::test]
async fn flights_departing_later_than_a_day_or_already_gone_get_no_reminders() {
    let app = Fixture::new(10).await;
    booked(&app, &customer(), 1, true).await;
    app.clock
        .set(app.flight.departure_time - TimeDelta::hours(24) - TimeDelta::seconds(1));
    let early = queue_departure_reminders(&*app.store, &*app.clock, &UuidV7Ids, None)
        .await
        .unwrap();
    assert_eq!(early, 0);
    app.clock
        .set(app.flight.departure_time + TimeDelta::minutes(1));
    let late = queue_departure_reminders(&*app.store, &*app.clock, &UuidV7Ids, None)
        .await
        .unwrap();
    assert_eq!(late, 0);
}

#[tokio::test]
async fn a_second_pending_booking_on_the_same_flight_is_a_409_naming_the_first() {
    let app = Fixture::new(10).await;
    let ann = customer();
    let first = app.book_seats(&ann, 1).await;
    let body = json!({"flightId": app.flight.id, "seats": 2});
    let problem = assert_problem(&app.book(&ann, "second", &body).await, 409);
    let detail = problem["detail"].as_str().expect("a detail");
    assert!(
        detail.contains(first["id"].as_str().unwrap()),
        "the 409 names the pending booking: {detail}"
    );
    assert_eq!(app.remaining_seats().await, 9, "the refusal took no seats");
    // The refusal released its key: once the first booking is cancelled, the same request
    // under the same key books.
    assert_eq!(
        app.cancel(&ann, first["id"].as_str().unwrap()).await.status,
        StatusCode::OK
    );
    let response = app.book(&ann, "second", &body).await;
    response.assert_status(StatusCode::CREATED);
    assert_eq!(app.remaining_seats().await, 8);
}
