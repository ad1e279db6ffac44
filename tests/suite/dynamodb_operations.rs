//! What every write route, the hot reads and the background steps cost on DynamoDB, measured.
//!
//! One scenario drives each of them once through the HTTP pipeline (the same `Services` the
//! local API builds, over the embedded store wrapped in the recording store of
//! `itinera_tests::capacity`), and the background steps through the functions their Lambdas run.
//! The recorded operations and capacity units are written to `docs/dynamodb-operations.md` and
//! `docs/capacity/dynamodb-per-route.json`; the test fails when the committed files differ from
//! a fresh run. `ITINERA_WRITE_DOCS=1` rewrites them.
//!
//! The scenario is deterministic: a fixed clock, fixed names and bodies, and keys whose ids and
//! timestamps are shown by kind. The rate limiter runs as in AWS (`RATE_GLOBAL_ENFORCEMENT=edge`:
//! the WAF counts the global tier, the application the write and auth tiers).

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use http::StatusCode;
use itinera::accounts::{Argon2id, Email, Password, PasswordHasher};
use itinera::background::{BACKGROUND_FUNCTIONS, ScheduledServices, Trigger, run_scheduled};
use itinera::clock::{Clock, UuidV7Ids};
use itinera::identity::{Principal, Role, UserId};
use itinera::jobs::{JobSource, Work, WorkerServices, process_batch};
use itinera::payments::TestCardGateway;
use itinera::ratelimit::{GlobalEnforcement, RateLimitConfig};
use itinera::storage::Store;
use itinera_embedded::{EmbeddedQueue, EmbeddedStore, OutboxMailer};
use itinera_http::{Api, CorsPolicy, CursorCodec, Services};
use itinera_tests::capacity::{
    BILLING_RULES, Operation, RecordingStore, format_half_units, half_units, item_size, key_shape,
    value_size,
};
use itinera_tests::files::{embedded_blobs_with_clock, upload_to};
use itinera_tests::{
    ALLOWED_ORIGIN, SIGNING_KEY, SettableClock, TEST_PASSWORD, TestRequest, TestResponse, send,
    token_issuer, token_verifier,
};
use serde_json::{Value, json};

/// The generated document.
const DOCUMENT: &str = "docs/dynamodb-operations.md";
/// The same figures for programs.
const FIGURES: &str = "docs/capacity/dynamodb-per-route.json";
/// Set to rewrite both files from this run.
const WRITE_VARIABLE: &str = "ITINERA_WRITE_DOCS";

/// Reads and writes removed from request paths after they were first measured: route, what it
/// did before, what it does now.
const REMOVED: &[(&str, &str, &str)] = &[
    (
        "POST /v1/auth/login (and a refused one)",
        "3 GetItem (the username or email reservation read once to count the per-account limit and again to sign in, then the user): 3 RCU",
        "2 GetItem (the pipeline hands the account it resolved to the sign-in): 2 RCU",
    ),
    (
        "POST /v1/cars/{id}/insurance/{insuranceId}/document/confirm, the same of registrations",
        "GetItem paper (it exists), GetItem pending upload, GetItem paper again (the versioned change's read), TransactWriteItems: 3 RCU",
        "GetItem paper, GetItem pending upload, TransactWriteItems (the change starts from the first read; its version condition still guards it): 2 RCU",
    ),
    (
        "POST /v1/issues/{id}/photos/confirm",
        "GetItem report (it takes photos), GetItem pending upload, GetItem report again, TransactWriteItems: 3 RCU",
        "GetItem report, GetItem pending upload, TransactWriteItems (the first round starts from the first read): 2 RCU",
    ),
    (
        "PATCH /v1/issues/{id}",
        "GetItem report, GetItem car (its name for the notice), GetItem report again, TransactWriteItems, DeleteItem outbox: 3 RCU",
        "GetItem report, GetItem car, TransactWriteItems, DeleteItem outbox: 2 RCU",
    ),
    (
        "POST /v1/bookings/{id}/payment",
        "GetItem booking (owner, amount), GetItem flight, GetItem booking again (the intent's state), TransactWriteItems intent, GetItem booking, GetItem flight, TransactWriteItems confirm, DeleteItem outbox: 5 RCU",
        "the second GetItem booking is gone (the intent's first attempt decides on the first read; its conditions, pending, held, no intent open, not void, guard the write): 4 RCU",
    ),
    (
        "POST /v1/bookings refused by what it reads (sold out, departed, unknown flight, over the cap) under a new key",
        "PutItem idempotency claim, GetItem flight, GetItem pending count, DeleteItem claim (its release): 1 RCU, 3 WCU with the write-tier counter (the flight gone case)",
        "GetItem idempotency record (is the key used?) beside GetItem flight and GetItem pending count, no write besides the counter: 2 RCU, 1 WCU. A booking that goes through pays one more GetItem (2 -> 3 RCU), and a replay reads the flight and the count before finding its record (1 -> 4 RCU): a rush on a sold-out flight is almost all refusals.",
    ),
    (
        "POST /v1/contracts refused by the car, the licence or a day another contract holds, under a new key",
        "PutItem idempotency claim, GetItem car, TransactWriteItems of the contract and its days failing on the taken day (billed all the same), DeleteItem claim: 3 RCU, 19 WCU",
        "GetItem idempotency record, GetItem car, Query of the car's slots in the period (at most one item): 5 RCU, 1 WCU. A reservation that goes through pays the record read and the slot Query (3 -> 5 RCU) and nothing more.",
    ),
];

/// Reads and writes that look removable and are kept, with the reason.
const KEPT: &[(&str, &str)] = &[
    (
        "PATCH /v1/users/{id}: GetItem of the acting admin besides the ConditionCheck on them",
        "the read answers 403 to a caller who is no longer an enabled admin before anything about the target (404, 412) is revealed to them; the check in the transaction keeps two admins demoting each other from both succeeding. 1 RCU.",
    ),
    (
        "Sign-in, register, refresh, password change: auth and account tier counted before the handler and refunded after a success (an UpdateItem each way)",
        "counting first keeps the limit exact under parallel guesses, which a read before and a count after a failure cannot (every parallel attempt passes the read); only successes are refunded. The account tier of a sign-in needs the login's reservation (one GetItem), now shared with the sign-in itself.",
    ),
    (
        "Write tier: one UpdateItem on every change",
        "the one counter write a change pays in AWS (the global tier is at the edge, RATE_GLOBAL_ENFORCEMENT=edge); counted per request so the limit holds across every instance.",
    ),
    (
        "POST /v1/bookings, POST /v1/contracts: PutItem of the idempotency record before the transaction (once the reads say the request may succeed)",
        "the claim decides, before the work, that one request of a key runs and a concurrent one with the same key gets the in-progress answer; folded into the transaction, both would do their reads and contend. 1 WCU; the transaction then completes the record.",
    ),
    (
        "DeleteItem of an outbox job after it was sent (every route that stages a job)",
        "without it the relay would send every job a second time and the worker read its record of work done for each; TTL removal would leave them for days in the partition the relay queries. 1 WCU per job.",
    ),
    (
        "POST /v1/bookings/{id}/payment: GetItem booking and flight again after the charge",
        "the gateway call takes time; settling decides between confirming and refunding from the booking and flight as they are after it (hold expired, cancelled, flight departed), so it must read them. 2 RCU.",
    ),
    (
        "Strongly consistent GetItem on the anonymous reads (GET /v1/flights/{id}, the car of an availability)",
        "eventually consistent would be safe there (no write follows from them, and the gateway cache serves them older still) and would halve their RCU (1 -> 0.5), but the Store port has no consistency choice and both store families implement it: left to the capacity model's issue. Reads that a conditional write follows stay strongly consistent: a stale version would only turn into 412s and retries.",
    ),
    (
        "Strongly consistent Query on table partitions by the scheduled sweeps (HOLDS, OUTBOX)",
        "their writes are conditional, so eventually consistent would be safe, for 0.5 RCU per run; same port reason as above.",
    ),
];

/// One measured step: a request or a background run, and what it cost.
struct Measured {
    family: &'static str,
    step: String,
    operations: Vec<Operation>,
}

impl Measured {
    fn read_half_units(&self) -> u64 {
        self.operations.iter().map(|op| op.read_half_units).sum()
    }

    fn table_write_units(&self) -> u64 {
        self.operations.iter().map(|op| op.table_write_units).sum()
    }

    fn index_write_units(&self) -> u64 {
        self.operations.iter().map(|op| op.index_write_units).sum()
    }
}

/// The API, its recording store and everything the scenario drives.
struct Scenario {
    api: Api,
    recorder: Arc<RecordingStore>,
    clock: Arc<SettableClock>,
    queue: Arc<EmbeddedQueue>,
    blobs: itinera_embedded::EmbeddedBlobs,
    worker: WorkerServices,
    scheduled: ScheduledServices,
    staff: String,
    measured: Vec<Measured>,
    family: &'static str,
    _dirs: Vec<tempfile::TempDir>,
}

/// The scenario's "now": a fixed instant with a millisecond part, so every timestamp the code
/// writes has the same length on every run.
fn start() -> DateTime<Utc> {
    "2031-03-04T05:06:07.500Z".parse().expect("a timestamp")
}

impl Scenario {
    fn new() -> Self {
        let data = tempfile::tempdir().expect("a temporary directory");
        let store: Arc<dyn Store> =
            Arc::new(EmbeddedStore::open(&data.path().join("store")).expect("the store opens"));
        let recorder = Arc::new(RecordingStore::new(store));
        let store: Arc<dyn Store> = recorder.clone();
        let clock = Arc::new(SettableClock::at(start()));
        let as_clock: Arc<dyn Clock> = clock.clone();
        let queue = Arc::new(EmbeddedQueue::open(&data.path().join("queue")).expect("queue"));
        let blobs = embedded_blobs_with_clock(&data.path().join("blobs"), Arc::clone(&as_clock));
        let limits = RateLimitConfig {
            global_enforcement: GlobalEnforcement::Edge,
            ..RateLimitConfig::default()
        };
        let mut services = Services::new(Arc::clone(&store), CursorCodec::new(SIGNING_KEY))
            .with_authenticator(Arc::new(token_verifier()))
            .with_token_issuer(token_issuer())
            .with_payment_gateway(Arc::new(TestCardGateway))
            .with_blob_store(Arc::new(blobs.clone()))
            .with_job_queue(queue.clone());
        services.clock = Arc::clone(&as_clock);
        services = services.with_rate_limits(limits);
        let api = Api::new(
            services,
            CorsPolicy::from_list(ALLOWED_ORIGIN).expect("an origin"),
        );
        let sender = Email::parse("noreply@itinera.example").expect("an address");
        let worker = WorkerServices {
            store: Arc::clone(&store),
            clock: Arc::clone(&as_clock),
            ids: Arc::new(UuidV7Ids),
            mailer: Arc::new(OutboxMailer::new(
                data.path().join("outbox"),
                sender.clone(),
            )),
            payments: Arc::new(TestCardGateway),
        };
        let scheduled = ScheduledServices {
            store,
            clock: as_clock,
            ids: Arc::new(UuidV7Ids),
            jobs: queue.clone(),
            fleet_alerts: Some(sender),
        };
        let staff = token_issuer()
            .issue(
                &Principal {
                    user_id: UserId::from(uuid::Uuid::now_v7()),
                    role: Role::Staff,
                },
                start(),
            )
            .token;
        Self {
            api,
            recorder,
            clock,
            queue,
            blobs,
            worker,
            scheduled,
            staff,
            measured: Vec::new(),
            family: "",
            _dirs: vec![data],
        }
    }

    /// An access token for `principal`, valid at the scenario's clock.
    fn token_of(&self, principal: &Principal) -> String {
        token_issuer().issue(principal, self.clock.now()).token
    }

    /// Sends a request without measuring it (setup), which must succeed.
    async fn setup(&self, request: TestRequest) -> TestResponse {
        let response = send(&self.api, request).await;
        self.recorder.take();
        assert!(
            response.status.is_success(),
            "setup: {} {:?}",
            response.status,
            response.json()
        );
        response
    }

    /// The ETag `path` answers staff with now (setup).
    async fn etag(&self, path: &str) -> String {
        let response = self
            .setup(TestRequest::get(path).bearer(&self.staff.clone()))
            .await;
        response.header("etag").expect("an ETag").to_owned()
    }

    /// Sends `request` and records what it cost under `step` (defaults to method and path).
    async fn measure(
        &mut self,
        step: &str,
        request: TestRequest,
        expected: StatusCode,
    ) -> TestResponse {
        self.recorder.take();
        let response = send(&self.api, request).await;
        let operations = self.recorder.take();
        assert_eq!(response.status, expected, "{step}: {:?}", response.json());
        self.measured.push(Measured {
            family: self.family,
            step: step.to_owned(),
            operations,
        });
        response
    }

    /// Sends `request` as staff and records it.
    async fn staff(&mut self, step: &str, request: TestRequest, expected: StatusCode) -> Value {
        let request = request.bearer(&self.staff.clone());
        self.measure(step, request, expected).await.json()["data"].clone()
    }

    /// Runs the scheduled function `function` and records what it cost.
    async fn schedule(&mut self, function: &str) -> usize {
        let task = BACKGROUND_FUNCTIONS
            .iter()
            .find(|background| background.function == function)
            .and_then(|background| match background.trigger {
                Trigger::Schedule { task, .. } => Some(task),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no scheduled function {function}"));
        self.recorder.take();
        let processed = run_scheduled(task, &self.scheduled)
            .await
            .unwrap_or_else(|error| panic!("{function}: {error}"));
        let operations = self.recorder.take();
        self.measured.push(Measured {
            family: "Background",
            step: format!("schedule `{function}` ({processed} processed)"),
            operations,
        });
        processed
    }

    /// Drains the job queue through the worker one job at a time, recording each by its kind.
    async fn drain(&mut self) {
        loop {
            let deliveries = self
                .queue
                .receive(1, Duration::from_secs(30))
                .await
                .expect("the queue answers");
            let Some(delivery) = deliveries.into_iter().next() else {
                return;
            };
            let kind = match Work::from_body(&delivery.body).expect("a job") {
                Work::Task(job) => job.task.name(),
                Work::Notice(job) => job.kind.name(),
            };
            let receipt = delivery.receipt.clone();
            self.recorder.take();
            let failed = process_batch(&self.worker, vec![delivery]).await;
            let operations = self.recorder.take();
            assert!(failed.is_empty(), "the {kind} job failed");
            self.queue.delete(&receipt).await.expect("deleted");
            self.measured.push(Measured {
                family: "Background",
                step: format!("worker: `{kind}` job"),
                operations,
            });
        }
    }
}

/// `YYYY-MM-DD` of the scenario's day `offset` days from the start.
fn day(offset: i64) -> String {
    (start() + TimeDelta::days(offset)).date_naive().to_string()
}

fn id_of(data: &Value) -> String {
    data["id"].as_str().expect("an id").to_owned()
}

fn with_key(request: TestRequest, key: &str) -> TestRequest {
    request.header("Idempotency-Key", key)
}

fn if_match(request: TestRequest, version: u64) -> TestRequest {
    request.header("If-Match", &format!("\"{version}\""))
}

/// Runs the whole scenario and answers what each step cost.
async fn run_scenario() -> Vec<Measured> {
    use TestRequest as R;
    let mut s = Scenario::new();
    let hasher: Arc<dyn PasswordHasher> = Arc::new(Argon2id::owasp_minimum());
    let admin = itinera::accounts::bootstrap_admin(
        &*s.recorder,
        &*s.clock,
        &UuidV7Ids,
        &hasher,
        Email::parse("root@example.com").expect("an email"),
        Password::parse(TEST_PASSWORD).expect("a password"),
    )
    .await
    .expect("bootstrap")
    .expect("the first admin");
    let admin = s.token_of(&Principal {
        user_id: admin.id.clone(),
        role: admin.role,
    });
    s.recorder.take();

    // Identity.
    s.family = "Identity";
    let register = |name: &str| {
        R::post("/v1/auth/register").anonymous().json(&json!({
            "email": format!("{name}@example.com"),
            "username": name,
            "password": TEST_PASSWORD,
            "name": name,
        }))
    };
    let ada = s
        .measure(
            "POST /v1/auth/register",
            register("ada"),
            StatusCode::CREATED,
        )
        .await
        .json()["data"]
        .clone();
    let ada_id = UserId::parse(ada["id"].as_str().expect("an id")).expect("a user id");
    let login = |name: &str, password: &str| {
        R::post("/v1/auth/login")
            .anonymous()
            .json(&json!({"username": name, "password": password}))
    };
    let session = s
        .measure(
            "POST /v1/auth/login",
            login("ada", TEST_PASSWORD),
            StatusCode::OK,
        )
        .await
        .json()["data"]
        .clone();
    s.measure(
        "POST /v1/auth/login (wrong password)",
        login("ada", "not the passphrase at all"),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let refreshed = s
        .measure(
            "POST /v1/auth/refresh",
            R::post("/v1/auth/refresh")
                .anonymous()
                .json(&json!({"refreshToken": session["refreshToken"]})),
            StatusCode::OK,
        )
        .await
        .json()["data"]
        .clone();
    let ada_token = refreshed["accessToken"]
        .as_str()
        .expect("a token")
        .to_owned();
    s.measure(
        "PATCH /v1/users/me",
        R::patch("/v1/users/me")
            .bearer(&ada_token)
            .header("If-Match", "\"1\"")
            .json(&json!({"name": "Ada Lovelace"})),
        StatusCode::OK,
    )
    .await;
    // Answers a new session: every other one of the user's sessions ends.
    let session = s
        .measure(
            "POST /v1/users/me/password",
            R::post("/v1/users/me/password")
                .bearer(&ada_token)
                .json(&json!({"currentPassword": TEST_PASSWORD, "newPassword": "another long passphrase"})),
            StatusCode::OK,
        )
        .await
        .json()["data"]
        .clone();
    let ada_token = session["accessToken"].as_str().expect("a token").to_owned();
    let grace = s.setup(register("grace")).await.json()["data"].clone();
    s.measure(
        "PATCH /v1/users/{id}",
        if_match(R::patch(format!("/v1/users/{}", id_of(&grace))), 1)
            .bearer(&admin)
            .json(&json!({"role": "staff"})),
        StatusCode::OK,
    )
    .await;

    // Airline: fleet, airports, flights.
    s.family = "Flights";
    let airplane = s
        .staff(
            "POST /v1/airplanes",
            R::post("/v1/airplanes").json(&json!({"modelNumber": "A320neo", "capacity": 180})),
            StatusCode::CREATED,
        )
        .await;
    let airplane_id = id_of(&airplane);
    s.staff(
        "PATCH /v1/airplanes/{id}",
        if_match(R::patch(format!("/v1/airplanes/{airplane_id}")), 1)
            .json(&json!({"modelNumber": "A320neo LR"})),
        StatusCode::OK,
    )
    .await;
    let spare = s
        .setup(
            R::post("/v1/airplanes")
                .bearer(&s.staff.clone())
                .json(&json!({"modelNumber": "ATR 72", "capacity": 70})),
        )
        .await
        .json()["data"]
        .clone();
    s.staff(
        "DELETE /v1/airplanes/{id}",
        if_match(R::delete(format!("/v1/airplanes/{}", id_of(&spare))), 1),
        StatusCode::NO_CONTENT,
    )
    .await;
    let airport = |code: &str, name: &str, city: &str| json!({"code": code, "name": name, "city": city, "country": "IN", "timeZone": "Asia/Kolkata"});
    s.staff(
        "POST /v1/airports",
        R::post("/v1/airports").json(&airport("DEL", "Indira Gandhi International", "Delhi")),
        StatusCode::CREATED,
    )
    .await;
    s.setup(
        R::post("/v1/airports")
            .bearer(&s.staff.clone())
            .json(&airport(
                "BOM",
                "Chhatrapati Shivaji Maharaj International",
                "Mumbai",
            )),
    )
    .await;
    s.setup(
        R::post("/v1/airports")
            .bearer(&s.staff.clone())
            .json(&airport("GOI", "Goa International", "Goa")),
    )
    .await;
    s.staff(
        "PATCH /v1/airports/{code}",
        if_match(R::patch("/v1/airports/GOI"), 1).json(&json!({"name": "Dabolim"})),
        StatusCode::OK,
    )
    .await;
    s.staff(
        "DELETE /v1/airports/{code}",
        if_match(R::delete("/v1/airports/GOI"), 2),
        StatusCode::NO_CONTENT,
    )
    .await;
    let departure = start() + TimeDelta::days(10);
    let flight_body = |departure: DateTime<Utc>| {
        json!({
            "flightNumber": "AI101",
            "airplaneId": airplane_id,
            "from": "DEL",
            "to": "BOM",
            "departureTime": departure.to_rfc3339(),
            "arrivalTime": (departure + TimeDelta::hours(2)).to_rfc3339(),
            "price": {"amount": 650_000, "currency": "INR"},
        })
    };
    let flight = s
        .staff(
            "POST /v1/flights",
            R::post("/v1/flights").json(&flight_body(departure)),
            StatusCode::CREATED,
        )
        .await;
    let flight_id = id_of(&flight);
    s.staff(
        "PATCH /v1/flights/{id}",
        if_match(R::patch(format!("/v1/flights/{flight_id}")), 1)
            .json(&json!({"price": {"amount": 620_000, "currency": "INR"}})),
        StatusCode::OK,
    )
    .await;
    let other = s
        .setup(
            R::post("/v1/flights")
                .bearer(&s.staff.clone())
                .json(&flight_body(departure + TimeDelta::days(1))),
        )
        .await
        .json()["data"]
        .clone();
    s.staff(
        "DELETE /v1/flights/{id}",
        if_match(R::delete(format!("/v1/flights/{}", id_of(&other))), 1),
        StatusCode::NO_CONTENT,
    )
    .await;
    s.measure(
        "GET /v1/flights (search)",
        R::get(format!("/v1/flights?from=DEL&to=BOM&date={}", day(10))).anonymous(),
        StatusCode::OK,
    )
    .await;
    s.measure(
        "GET /v1/flights/{id}",
        R::get(format!("/v1/flights/{flight_id}")).anonymous(),
        StatusCode::OK,
    )
    .await;
    s.measure(
        "GET /v1/airports",
        R::get("/v1/airports").anonymous(),
        StatusCode::OK,
    )
    .await;

    // Bookings.
    s.family = "Bookings";
    let book = |key: &str| {
        with_key(R::post("/v1/bookings"), key)
            .bearer(&ada_token)
            .json(&json!({"flightId": flight_id, "seats": 2}))
    };
    let booking = s
        .measure("POST /v1/bookings", book("booking-1"), StatusCode::CREATED)
        .await
        .json()["data"]
        .clone();
    let booking_id = id_of(&booking);
    s.measure(
        "POST /v1/bookings (replayed key)",
        book("booking-1"),
        StatusCode::CREATED,
    )
    .await;
    s.measure(
        "POST /v1/bookings/{id}/payment",
        R::post(format!("/v1/bookings/{booking_id}/payment"))
            .bearer(&ada_token)
            .json(&json!({"paymentToken": itinera::payments::TEST_TOKEN_APPROVE, "amount": booking["total"]})),
        StatusCode::OK,
    )
    .await;
    s.measure(
        "POST /v1/bookings/{id}/cancel",
        R::post(format!("/v1/bookings/{booking_id}/cancel")).bearer(&ada_token),
        StatusCode::OK,
    )
    .await;
    s.setup(book("booking-2")).await;
    s.measure(
        "POST /v1/bookings (flight gone, new key)",
        with_key(R::post("/v1/bookings"), "booking-3")
            .bearer(&ada_token)
            .json(&json!({"flightId": id_of(&other), "seats": 2})),
        StatusCode::NOT_FOUND,
    )
    .await;

    // Background steps of the airline.
    s.family = "Background";
    s.drain().await;
    s.clock.advance(TimeDelta::hours(1));
    s.schedule("expire-holds").await;
    s.schedule("relay-outbox").await;
    s.drain().await;
    s.clock.set(departure - TimeDelta::hours(12));
    let ada_token = s.token_of(&Principal {
        user_id: ada_id.clone(),
        role: Role::Customer,
    });
    let later = s
        .setup(
            with_key(R::post("/v1/bookings"), "booking-3")
                .bearer(&ada_token)
                .json(&json!({"flightId": flight_id, "seats": 1})),
        )
        .await
        .json()["data"]
        .clone();
    s.setup(
        R::post(format!("/v1/bookings/{}/payment", id_of(&later)))
            .bearer(&ada_token)
            .json(&json!({"paymentToken": itinera::payments::TEST_TOKEN_APPROVE, "amount": later["total"]})),
    )
    .await;
    s.schedule("queue-departure-reminders").await;
    s.drain().await;
    let ada_token = s.token_of(&Principal {
        user_id: ada_id.clone(),
        role: Role::Customer,
    });
    let staff = s.token_of(&Principal {
        user_id: UserId::from(uuid::Uuid::now_v7()),
        role: Role::Staff,
    });
    s.staff = staff;
    let notifications = s
        .setup(R::get("/v1/notifications").bearer(&ada_token))
        .await
        .json()["data"]
        .clone();
    let notification = id_of(&notifications[0]);
    s.family = "Notifications";
    s.measure(
        "POST /v1/notifications/{id}/read",
        R::post(format!("/v1/notifications/{notification}/read")).bearer(&ada_token),
        StatusCode::OK,
    )
    .await;
    s.family = "Flights";
    let etag = s.etag(&format!("/v1/flights/{flight_id}")).await;
    s.staff(
        "PATCH /v1/flights/{id} (cancel, with 1 confirmed booking)",
        R::patch(format!("/v1/flights/{flight_id}"))
            .header("If-Match", &etag)
            .json(&json!({"status": "cancelled"})),
        StatusCode::OK,
    )
    .await;
    s.family = "Background";
    s.drain().await;

    // Car rental.
    s.clock.set(start());
    s.staff = s.token_of(&Principal {
        user_id: UserId::from(uuid::Uuid::now_v7()),
        role: Role::Staff,
    });
    let ada_token = s.token_of(&Principal {
        user_id: ada_id.clone(),
        role: Role::Customer,
    });
    s.family = "Cars";
    let car_body = |plate: &str, vin: &str| {
        json!({
            "licensePlate": plate, "vin": vin, "manufacturer": "Toyota", "model": "Corolla",
            "year": 2030, "category": "compact",
            "dailyRate": {"amount": 4500, "currency": "EUR"}, "mileage": 12000,
        })
    };
    let car = s
        .staff(
            "POST /v1/cars",
            R::post("/v1/cars").json(&car_body("KA01AB1234", "1HGCM82633A004352")),
            StatusCode::CREATED,
        )
        .await;
    let car_id = id_of(&car);
    s.staff(
        "PATCH /v1/cars/{id}",
        if_match(R::patch(format!("/v1/cars/{car_id}")), 1).json(&json!({"mileage": 12500})),
        StatusCode::OK,
    )
    .await;
    let spare = s
        .setup(
            R::post("/v1/cars")
                .bearer(&s.staff.clone())
                .json(&car_body("KA01AB9999", "1HGCM82633A004353")),
        )
        .await
        .json()["data"]
        .clone();
    s.staff(
        "DELETE /v1/cars/{id}",
        if_match(R::delete(format!("/v1/cars/{}", id_of(&spare))), 1),
        StatusCode::NO_CONTENT,
    )
    .await;
    s.measure(
        "GET /v1/catalogue (search)",
        R::get(format!("/v1/catalogue?from={}&to={}", day(3), day(5))).anonymous(),
        StatusCode::OK,
    )
    .await;
    s.measure(
        "GET /v1/cars/{id}/availability",
        R::get(format!(
            "/v1/cars/{car_id}/availability?from={}&to={}",
            day(0),
            day(30)
        ))
        .anonymous(),
        StatusCode::OK,
    )
    .await;

    // Car papers and service history.
    s.family = "Car records";
    let papers = [
        (
            "insurance",
            json!({"provider": "Allianz", "policyNumber": "AZ-1", "coverage": "partial",
                "validFrom": day(-300), "validTo": day(30)}),
            json!({"policyNumber": "AZ-2"}),
        ),
        (
            "registrations",
            json!({"authority": "DVLA", "registrationNumber": "KA01",
                "validFrom": day(-300), "validTo": day(7)}),
            json!({"registrationNumber": "KA02"}),
        ),
    ];
    for (collection, body, change) in papers {
        let base = format!("/v1/cars/{car_id}/{collection}");
        let paper = s
            .staff(
                &format!("POST /v1/cars/{{id}}/{collection}"),
                R::post(&base).json(&body),
                StatusCode::CREATED,
            )
            .await;
        let id = id_of(&paper);
        let item = if collection == "insurance" {
            "insuranceId"
        } else {
            "registrationId"
        };
        s.staff(
            &format!("PATCH /v1/cars/{{id}}/{collection}/{{{item}}}"),
            if_match(R::patch(format!("{base}/{id}")), 1).json(&change),
            StatusCode::OK,
        )
        .await;
        let bytes = b"%PDF-1.7 the paper".as_slice();
        let ticket = s
            .staff(
                &format!("POST /v1/cars/{{id}}/{collection}/{{{item}}}/document"),
                R::post(format!("{base}/{id}/document"))
                    .json(&json!({"contentType": "application/pdf", "size": bytes.len()})),
                StatusCode::CREATED,
            )
            .await;
        upload_to(
            &s.blobs,
            ticket["url"].as_str().expect("a URL"),
            "application/pdf",
            bytes,
        )
        .await
        .expect("uploaded");
        s.staff(
            &format!("POST /v1/cars/{{id}}/{collection}/{{{item}}}/document/confirm"),
            R::post(format!("{base}/{id}/document/confirm"))
                .json(&json!({"uploadId": ticket["uploadId"]})),
            StatusCode::OK,
        )
        .await;
        let extra = s
            .setup(R::post(&base).bearer(&s.staff.clone()).json(&body))
            .await
            .json()["data"]
            .clone();
        s.staff(
            &format!("DELETE /v1/cars/{{id}}/{collection}/{{{item}}}"),
            if_match(R::delete(format!("{base}/{}", id_of(&extra))), 1),
            StatusCode::NO_CONTENT,
        )
        .await;
    }
    s.staff(
        "POST /v1/cars/{id}/service-records",
        R::post(format!("/v1/cars/{car_id}/service-records")).json(&json!({
            "date": day(-1), "mileage": 12600, "description": "Oil and filter change",
            "cost": {"amount": 12_500, "currency": "EUR"}, "garage": "Garage Nord",
        })),
        StatusCode::CREATED,
    )
    .await;
    s.schedule("queue-fleet-reminders").await;
    s.drain().await;

    // Customers.
    s.family = "Customers";
    let customer = |name: &str, email: &str| {
        json!({"name": name, "email": email, "phone": "+44 20 7946 0958",
            "licenceNumber": "LOVEL815120A99", "licenceExpiry": day(2000)})
    };
    let walk_in = s
        .staff(
            "POST /v1/customers",
            R::post("/v1/customers").json(&customer("Mary Somerville", "mary@example.com")),
            StatusCode::CREATED,
        )
        .await;
    let walk_in = id_of(&walk_in);
    s.staff(
        "PATCH /v1/customers/{id}",
        if_match(R::patch(format!("/v1/customers/{walk_in}")), 1)
            .json(&json!({"phone": "+44 20 7946 0000"})),
        StatusCode::OK,
    )
    .await;
    s.staff(
        "DELETE /v1/customers/{id}",
        if_match(R::delete(format!("/v1/customers/{walk_in}")), 2),
        StatusCode::NO_CONTENT,
    )
    .await;
    s.measure(
        "POST /v1/customers/me",
        R::post("/v1/customers/me").bearer(&ada_token).json(&json!({
            "phone": "+44 20 7946 0958", "licenceNumber": "LOVEL815120A99",
            "licenceExpiry": day(2000),
        })),
        StatusCode::CREATED,
    )
    .await;
    s.measure(
        "PATCH /v1/customers/me",
        if_match(R::patch("/v1/customers/me"), 1)
            .bearer(&ada_token)
            .json(&json!({"phone": "+44 20 7946 1111"})),
        StatusCode::OK,
    )
    .await;

    // Contracts.
    s.family = "Contracts";
    let reserve = |key: &str, from: i64, to: i64| {
        with_key(R::post("/v1/contracts"), key)
            .bearer(&ada_token)
            .json(&json!({"carId": car_id, "startDate": day(from), "endDate": day(to)}))
    };
    let contract = s
        .measure(
            "POST /v1/contracts",
            reserve("contract-1", 0, 2),
            StatusCode::CREATED,
        )
        .await
        .json()["data"]
        .clone();
    let contract_id = id_of(&contract);
    s.measure(
        "POST /v1/contracts (a day taken, new key)",
        reserve("contract-taken", 1, 2),
        StatusCode::CONFLICT,
    )
    .await;
    s.measure(
        "PATCH /v1/contracts/{id}",
        if_match(R::patch(format!("/v1/contracts/{contract_id}")), 1)
            .bearer(&ada_token)
            .json(&json!({"endDate": day(3)})),
        StatusCode::OK,
    )
    .await;
    s.family = "Background";
    s.schedule("queue-rental-reminders").await;
    s.drain().await;
    s.family = "Contracts";
    s.staff(
        "POST /v1/contracts/{id}/pickup",
        R::post(format!("/v1/contracts/{contract_id}/pickup")).json(&json!({"mileage": 12600})),
        StatusCode::OK,
    )
    .await;

    // Issue reports, on the rented car.
    s.family = "Issues";
    let report = s
        .measure(
            "POST /v1/cars/{id}/issues",
            R::post(format!("/v1/cars/{car_id}/issues"))
                .bearer(&ada_token)
                .json(&json!({"severity": "high", "description": "The brakes squeal when cold."})),
            StatusCode::CREATED,
        )
        .await
        .json()["data"]
        .clone();
    let report_id = id_of(&report);
    let photo = b"\xff\xd8\xff a photo".as_slice();
    let ticket = s
        .measure(
            "POST /v1/issues/{id}/photos",
            R::post(format!("/v1/issues/{report_id}/photos"))
                .bearer(&ada_token)
                .json(&json!({"contentType": "image/jpeg", "size": photo.len()})),
            StatusCode::CREATED,
        )
        .await
        .json()["data"]
        .clone();
    upload_to(
        &s.blobs,
        ticket["url"].as_str().expect("a URL"),
        "image/jpeg",
        photo,
    )
    .await
    .expect("uploaded");
    s.measure(
        "POST /v1/issues/{id}/photos/confirm",
        R::post(format!("/v1/issues/{report_id}/photos/confirm"))
            .bearer(&ada_token)
            .json(&json!({"uploadId": ticket["uploadId"]})),
        StatusCode::OK,
    )
    .await;
    s.staff(
        "PATCH /v1/issues/{id}",
        if_match(R::patch(format!("/v1/issues/{report_id}")), 2)
            .json(&json!({"status": "in_progress"})),
        StatusCode::OK,
    )
    .await;

    s.family = "Contracts";
    s.staff(
        "POST /v1/contracts/{id}/return",
        R::post(format!("/v1/contracts/{contract_id}/return"))
            .json(&json!({"mileage": 12900, "fuelLevel": 80})),
        StatusCode::OK,
    )
    .await;
    let second = s.setup(reserve("contract-2", 10, 12)).await.json()["data"].clone();
    s.measure(
        "POST /v1/contracts/{id}/cancel",
        R::post(format!("/v1/contracts/{}/cancel", id_of(&second))).bearer(&ada_token),
        StatusCode::OK,
    )
    .await;
    s.family = "Background";
    s.drain().await;

    s.family = "Identity";
    s.measure(
        "POST /v1/auth/logout",
        R::post("/v1/auth/logout")
            .anonymous()
            .json(&json!({"refreshToken": session["refreshToken"]})),
        StatusCode::NO_CONTENT,
    )
    .await;
    s.measured
}

/// The document, from the measured steps.
fn document(measured: &[Measured]) -> String {
    let mut out = String::new();
    out.push_str(
        "# DynamoDB operations and capacity per route\n\n\
         Generated by `tests/suite/dynamodb_operations.rs`; do not edit by hand. Regenerate with\n\n\
         ```sh\n\
         ITINERA_WRITE_DOCS=1 cargo test -p itinera-tests --test suite -- dynamodb_operations::\n\
         ```\n\n\
         The test drives every write route, the hot public reads, sign-in and the background steps\n\
         once, in one scenario, through the HTTP pipeline the local API runs (rate limits, audit,\n\
         idempotency records and the outbox included), over a store that records each call as the\n\
         DynamoDB request the adapter (`infra/aws/src/dynamodb/store.rs`) makes of it, and fails when\n\
         this file or [`capacity/dynamodb-per-route.json`](capacity/dynamodb-per-route.json) (the same\n\
         figures for the capacity model) differ from a fresh run. The rate limiter runs as in AWS,\n\
         with `RATE_GLOBAL_ENFORCEMENT=edge`: the WAF counts the global tier, the application counts\n\
         the write tier on every change and the auth tier on sign-in attempts\n\
         ([rate-limits.md](rate-limits.md)). Keys show ids as `{id}`, timestamps as `{at}`, numbers\n\
         as `{n}` and digests as `{hash}`; a query names `table` or its index, `gsi1`..`gsi3`\n\
         ([data-model.md](data-model.md)).\n\n\
         ## Billing rules applied\n\n",
    );
    for rule in BILLING_RULES {
        let _ = writeln!(out, "- {rule}");
    }
    out.push_str(
        "\nRCU are read capacity units, WCU write capacity units on the table, index WCU those the\n\
         indexes add. On demand, each unit is one billed request unit.\n",
    );
    let mut families: Vec<&str> = Vec::new();
    for step in measured {
        if !families.contains(&step.family) {
            families.push(step.family);
        }
    }
    for family in families {
        let _ = write!(
            out,
            "\n## {family}\n\n| step | operations, in order | RCU | WCU | index WCU |\n|---|---|---|---|---|\n"
        );
        for step in measured.iter().filter(|step| step.family == family) {
            let operations = if step.operations.is_empty() {
                "none".to_owned()
            } else {
                step.operations
                    .iter()
                    .enumerate()
                    .map(|(n, op)| format!("{}. `{}`", n + 1, op.summary()))
                    .collect::<Vec<_>>()
                    .join("<br>")
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                step.step,
                operations.replace('|', "\\|"),
                format_half_units(step.read_half_units()),
                step.table_write_units(),
                step.index_write_units(),
            );
        }
    }
    out.push_str(
        "\n## Removed\n\nReads and writes a request did not need, as first measured and now:\n\n",
    );
    if REMOVED.is_empty() {
        out.push_str("None yet.\n");
    } else {
        out.push_str("| route | before | after |\n|---|---|---|\n");
        for (route, before, after) in REMOVED {
            let _ = writeln!(out, "| {route} | {before} | {after} |");
        }
    }
    out.push_str("\n## Kept on purpose\n\n");
    if KEPT.is_empty() {
        out.push_str("Nothing that looks removable is kept.\n");
    }
    for (what, why) in KEPT {
        let _ = writeln!(out, "- **{what}**: {why}");
    }
    out
}

/// The machine-readable figures.
fn figures(measured: &[Measured]) -> String {
    let steps: Vec<Value> = measured
        .iter()
        .map(|step| {
            json!({
                "family": step.family,
                "step": step.step,
                "rcu": half_units(step.read_half_units()),
                "wcu": step.table_write_units(),
                "indexWcu": step.index_write_units(),
                "operations": step.operations.iter().map(Operation::to_json).collect::<Vec<_>>(),
            })
        })
        .collect();
    let document = json!({
        "description": "DynamoDB requests and capacity units per route and background step, measured by tests/suite/dynamodb_operations.rs (see docs/dynamodb-operations.md)",
        "rules": BILLING_RULES,
        "steps": steps,
    });
    let mut text = serde_json::to_string_pretty(&document).expect("JSON");
    text.push('\n');
    text
}

fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the repository root")
        .to_path_buf()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_committed_operations_document_matches_a_fresh_measurement() {
    let measured = run_scenario().await;
    // Every write route is measured: a new one joins the scenario, or this fails.
    for route in itinera_http::ROUTES
        .iter()
        .filter(|route| route.method != http::Method::GET)
    {
        let step = format!("{} {}", route.method, route.path);
        assert!(
            measured
                .iter()
                .any(|measured| measured.step.split(" (").next() == Some(step.as_str())),
            "{step} is not measured: add it to the scenario"
        );
    }
    let root = repo_root();
    let files = [
        (DOCUMENT, document(&measured)),
        (FIGURES, figures(&measured)),
    ];
    if std::env::var_os(WRITE_VARIABLE).is_some() {
        for (path, text) in &files {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().expect("a folder")).expect("the folder");
            std::fs::write(&path, text).expect("written");
        }
        return;
    }
    for (path, text) in &files {
        let committed = std::fs::read_to_string(root.join(path)).unwrap_or_default();
        assert!(
            committed == *text,
            "{path} differs from a fresh measurement: run {WRITE_VARIABLE}=1 cargo test -p \
             itinera-tests --test suite -- dynamodb_operations:: and commit the result"
        );
    }
}

#[test]
fn item_sizes_follow_dynamodbs_rules() {
    // Strings by their UTF-8 bytes, names included.
    let item: itinera::storage::Item =
        serde_json::from_value(json!({"pk": "AB", "name": "é"})).expect("an item");
    assert_eq!(item_size(&item), 2 + 2 + 4 + 2);
    // Numbers: one byte per two significant digits, plus one; zeros at either end are free.
    assert_eq!(value_size(&json!(7)), 2);
    assert_eq!(value_size(&json!(123)), 3);
    assert_eq!(value_size(&json!(1_000_000)), 2);
    assert_eq!(value_size(&json!(-12.5)), 3);
    // Booleans and null one byte; lists and maps 3 bytes plus 1 per element.
    assert_eq!(value_size(&json!(true)), 1);
    assert_eq!(value_size(&Value::Null), 1);
    assert_eq!(value_size(&json!(["ab", 7])), 3 + (1 + 2) + (1 + 2));
    assert_eq!(value_size(&json!({"a": "xy"})), 3 + 1 + 1 + 2);
}

#[test]
fn keys_show_ids_and_times_by_kind() {
    let key = itinera::storage::Key::new(
        "AUDIT#booking#0193c0de-0000-7000-8000-000000000001",
        "2031-03-04T05:06:07.500Z#0193c0de-0000-7000-8000-000000000002",
    );
    assert_eq!(key_shape(&key), "AUDIT#booking#{id}|{at}#{id}");
    let counter = itinera::storage::Key::new("RATE#write#ip:203.0.113.7", "1930000000000");
    assert_eq!(key_shape(&counter), "RATE#write#ip:203.0.113.7|{n}");
    let account = itinera::storage::Key::new(
        "RATE#account#account:user:0193c0de-0000-7000-8000-000000000001",
        "1930000000000",
    );
    assert_eq!(key_shape(&account), "RATE#account#account:user:{id}|{n}");
}

#[tokio::test]
async fn a_write_is_billed_on_the_larger_of_its_item_before_and_after_and_its_indexes() {
    use itinera::storage::{Condition, Put, Update};
    let data = tempfile::tempdir().expect("a temporary directory");
    let store: Arc<dyn Store> = Arc::new(EmbeddedStore::open(data.path()).expect("opens"));
    let recorder = RecordingStore::new(store);
    let mut item: itinera::storage::Item = serde_json::from_value(
        json!({"pk": "A#1", "sk": "A", "gsi1pk": "AS", "gsi1sk": "1",
            "body": "x".repeat(1500)}),
    )
    .expect("an item");
    recorder
        .put(Put {
            item: item.clone(),
            condition: Some(Condition::ItemNotExists),
        })
        .await
        .expect("put");
    // A failed condition still costs the write, and no index write.
    item.insert("body".into(), json!("y"));
    let refused = recorder
        .put(Put {
            item,
            condition: Some(Condition::ItemNotExists),
        })
        .await;
    assert!(refused.is_err());
    let mut update = Update::new(itinera::storage::Key::new("A#1", "A"));
    update.set.push(("gsi1sk".into(), json!("2")));
    recorder.update(update).await.expect("update");
    recorder
        .get(&itinera::storage::Key::new("A#1", "A"))
        .await
        .expect("get");
    let recorded = recorder.take();
    let units: Vec<(u64, u64, u64, bool)> = recorded
        .iter()
        .map(|op| {
            (
                op.read_half_units,
                op.table_write_units,
                op.index_write_units,
                op.condition_failed,
            )
        })
        .collect();
    // 1.5 KB: 2 WCU, the index entry (+100 bytes) 2 more; the refused put is billed on the
    // larger, stored item; the index key change is a delete and a put in the index; the read
    // is under 4 KB.
    assert_eq!(
        units,
        vec![
            (0, 2, 2, false),
            (0, 2, 0, true),
            (0, 2, 4, false),
            (2, 0, 0, false)
        ]
    );
}
