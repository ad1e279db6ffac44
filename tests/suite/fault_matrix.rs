//! Faults lose nothing: every store call of every write that moves seats, money or a car's days
//! is made to fail in turn, on both store families, and each time the answer is honest and the
//! data stays whole.
//!
//! For each operation (create, pay and cancel a booking, reserve a car, pick it up, return it,
//! cancel a contract) a recording pass first runs it once through the HTTP pipeline, over a
//! [`FaultyStore`] that lists the calls it makes. Then, for each call index `k` and each fault
//! (throttled before the call, unavailable before it, unavailable *after* it, which is a write
//! applied whose answer is lost, and a transaction conflict on a transaction), the operation runs
//! on a fresh subject with exactly the `k`-th call failing, and:
//! - the answer is a 2xx, or a 503 problem document with `Retry-After` that shows nothing of the
//!   store;
//! - the invariant checkers ([`itinera_tests::invariants`]) pass right after;
//! - the client retries the same request with the faults healed, after the idempotency lease a
//!   stale claim holds (`idempotency::LEASE`): it completes with a 2xx, or, for an operation
//!   without an `Idempotency-Key` whose first attempt was applied before its answer was lost, a
//!   409 that says the change is already made; the effect is there exactly once (one booking, one
//!   contract, one charge, one refund, seats and days moved once), and the invariants pass again.
//!
//! Operations that leave work to the worker (a payment or a refund whose settling failed) are
//! recovered after the retry as production recovers them (the outbox relay, then the worker), so
//! that the money is seen to balance, not only to be owed.
//!
//! The embedded store runs every fault at every call. On DynamoDB (moto), to keep the module
//! within a minute there, each call gets one: a write is applied and its answer lost (the fault
//! whose outcome depends on the store family), a read fails before it with a kind rotating from
//! read to read.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use chrono::TimeDelta;
use http::StatusCode;
use itinera::bookings::CREATE_OPERATION;
use itinera::clock::{Clock, UuidV7Ids};
use itinera::contracts::RESERVE_OPERATION;
use itinera::flights::Flight;
use itinera::idempotency::LEASE;
use itinera::identity::{Principal, Role};
use itinera::jobs::{
    Delivery, JobQueue, QueueMessage, Task, TaskJob, Work, WorkerServices, process_batch,
};
use itinera::ratelimit::{RateLimitConfig, RateLimiter};
use itinera::storage::{Key, Store};
use itinera_http::{Api, CorsPolicy, CursorCodec, Services};
use itinera_tests::faults::{Call, Fault, FaultKind, FaultyStore, Timing};
use itinera_tests::invariants::Invariants;
use itinera_tests::ledger::LedgerGateway;
use itinera_tests::{
    ALLOWED_ORIGIN, Backend, SIGNING_KEY, SettableClock, TestRequest, TestResponse, principal,
    seed_flight, send, token_issuer, token_verifier,
};
use serde_json::{Value, json};

use crate::cars::{car_body, vin};
use crate::payment_recovery::{MemoryQueue, NoMail, recover_queued};

/// The faults each call is failed with; a conflict only where a transaction can report one.
const FAULTS: [(FaultKind, Timing); 4] = [
    (FaultKind::Throttled, Timing::Before),
    (FaultKind::Unavailable, Timing::Before),
    (FaultKind::Unavailable, Timing::After),
    (FaultKind::Conflict, Timing::Before),
];

/// Words of the store's and the injected errors that must never reach a client.
const LEAKS: &[&str] = &[
    "injected",
    "outage",
    "throttl",
    "dynamodb",
    "redb",
    "transactionconflict",
    "conditionalcheck",
    "the store",
];

/// The fare per seat, in paise.
const FARE: i64 = 450_000;

/// The operations under the matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Operation {
    CreateBooking,
    PayBooking,
    CancelPendingBooking,
    CancelPaidBooking,
    ReserveCar,
    PickUpCar,
    ReturnCar,
    CancelContract,
    CancelFlight,
    ChangeContractDates,
}

/// One run of an operation: the request to send, and what it acts on.
struct Subject {
    request: TestRequest,
    /// The booking or contract the operation changes (`None` for a creation: it makes one).
    target: Option<String>,
    /// The customer of a booking, whose bookings a creation is counted among.
    customer: Principal,
    /// The rental customer a reservation is for.
    rental_customer: Option<String>,
    /// The bookings a flight's cancellation cancels: one pending, one paid.
    bookings: Vec<String>,
    /// The last day a change of dates moves a contract to.
    end_date: Option<String>,
    /// The operation and `Idempotency-Key` of a creation, which name its idempotency record.
    idempotency: Option<(&'static str, String)>,
}

/// A world to run one operation's cases in: a store behind faults, the API over it, and a
/// healthy API over the same data for setting up subjects and reading the outcome.
struct Lab {
    faulty: Arc<FaultyStore>,
    store: Arc<dyn Store>,
    clock: Arc<SettableClock>,
    ledger: Arc<LedgerGateway>,
    queue: Arc<MemoryQueue>,
    api: Api,
    healthy: Api,
    flight: Flight,
    /// The bodies of the jobs recovery delivered to the worker: sent, as the queue's are.
    relayed: Mutex<Vec<String>>,
    next: AtomicU32,
    sample: bool,
    _backend: Backend,
}

fn api(
    store: Arc<dyn Store>,
    clock: &Arc<SettableClock>,
    ledger: &Arc<LedgerGateway>,
    queue: &Arc<MemoryQueue>,
) -> Api {
    let clock: Arc<dyn Clock> = clock.clone();
    let mut services = Services::new(Arc::clone(&store), CursorCodec::new(SIGNING_KEY))
        .with_authenticator(Arc::new(token_verifier()))
        .with_token_issuer(token_issuer())
        .with_payment_gateway(ledger.clone())
        .with_job_queue(queue.clone() as Arc<dyn JobQueue>);
    services.clock = Arc::clone(&clock);
    services.limiter = Arc::new(RateLimiter::new(store, clock, RateLimitConfig::default()));
    Api::new(
        services,
        CorsPolicy::from_list(ALLOWED_ORIGIN).expect("valid origin"),
    )
}

impl Lab {
    async fn new(backend: Backend) -> Self {
        let clock = Arc::new(SettableClock::now());
        let departure = clock.now() + TimeDelta::days(3);
        let flight = seed_flight(&*backend.store, &*clock, &UuidV7Ids, 600, FARE, departure).await;
        let faulty = Arc::new(FaultyStore::new(Arc::clone(&backend.store)));
        let ledger = Arc::new(LedgerGateway::default());
        let queue = Arc::new(MemoryQueue::default());
        Self {
            api: api(faulty.clone(), &clock, &ledger, &queue),
            healthy: api(Arc::clone(&backend.store), &clock, &ledger, &queue),
            store: Arc::clone(&backend.store),
            sample: !backend.is_embedded(),
            faulty,
            clock,
            ledger,
            queue,
            flight,
            relayed: Mutex::new(Vec::new()),
            next: AtomicU32::new(1),
            _backend: backend,
        }
    }

    fn fresh(&self) -> u32 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    fn token(&self, who: &Principal) -> String {
        token_issuer().issue(who, self.clock.now()).token
    }

    /// A request from its own client address, as `who`.
    fn request(&self, request: TestRequest, who: &Principal) -> TestRequest {
        let n = self.fresh();
        request
            .bearer(&self.token(who))
            .from_ip(&format!("198.51.{}.{}", n / 250, n % 250 + 1))
    }

    /// Sends a setup or read request on the healthy store.
    async fn setup(&self, request: TestRequest, who: &Principal) -> TestResponse {
        send(&self.healthy, self.request(request, who)).await
    }

    /// Checks every invariant, counting what was sent to the queue as dispatched.
    async fn assert_consistent(&self, when: &str) {
        let relayed = self.relayed.lock().unwrap().clone();
        let violations = Invariants::of(&*self.store)
            .ledger(&self.ledger)
            .dispatched(self.queue.bodies())
            .dispatched(relayed)
            .violations()
            .await;
        assert!(
            violations.is_empty(),
            "{when}: the stored data breaks invariants:\n  {}",
            violations.join("\n  ")
        );
    }

    /// Recovery as production runs it (the worker runs the queue's messages and what the relay
    /// sends from the outbox), noting what it ran as dispatched: the worker drops the notices of
    /// customers who exist only in tokens without writing a record.
    async fn recover(&self) {
        let queued = self.queue.take();
        let ledger = self.ledger.clone();
        let ran = recover_queued(&self.store, &self.clock, ledger, Arc::new(NoMail), queued).await;
        self.relayed.lock().unwrap().extend(ran);
    }

    /// A pending booking of one seat on the lab's flight, by a fresh customer.
    async fn pending_booking(&self) -> (Principal, Value) {
        self.booking_on(&self.flight).await
    }

    /// A pending booking of one seat on `flight`, by a fresh customer.
    async fn booking_on(&self, flight: &Flight) -> (Principal, Value) {
        let customer = principal(Role::Customer);
        let response = self.setup(book(flight, self.fresh()), &customer).await;
        (customer, response.created())
    }

    /// A booking of a fresh customer on the lab's flight, paid.
    async fn paid_booking(&self) -> (Principal, Value) {
        self.paid_booking_on(&self.flight).await
    }

    /// A booking of a fresh customer on `flight`, paid.
    async fn paid_booking_on(&self, flight: &Flight) -> (Principal, Value) {
        let (customer, booking) = self.booking_on(flight).await;
        let paid = self.setup(pay(&booking), &customer).await;
        paid.assert_status(StatusCode::OK);
        (customer, paid.json()["data"].clone())
    }

    /// A car and a rental customer of their own, and the reservation of the car for the customer
    /// from today, for two days.
    async fn reservation(&self) -> (Value, String) {
        let staff = principal(Role::Staff);
        let n = self.fresh();
        let car = self
            .setup(
                TestRequest::post("/v1/cars").json(&car_body(&format!("FM {n}"), &vin(n))),
                &staff,
            )
            .await
            .created();
        let customer = self
            .setup(
                TestRequest::post("/v1/customers").json(&json!({
                    "name": "Ada Lovelace",
                    "email": format!("renter{n}@example.com"),
                    "phone": "+44 20 7946 0958",
                    "licenceNumber": "LOVEL815120A99",
                    "licenceExpiry": "2031-12-10",
                })),
                &staff,
            )
            .await
            .created();
        let customer_id = customer["id"].as_str().expect("a customer id").to_owned();
        let body = json!({
            "carId": car["id"],
            "customerId": customer_id,
            "startDate": self.day(0),
            "endDate": self.day(1),
        });
        (body, customer_id)
    }

    /// A reserved contract of a fresh car and customer.
    async fn contract(&self) -> Value {
        let (body, _) = self.reservation().await;
        let staff = principal(Role::Staff);
        self.setup(reserve(&body, self.fresh()), &staff)
            .await
            .created()
    }

    /// A contract whose car is out.
    async fn active_contract(&self) -> Value {
        let contract = self.contract().await;
        let staff = principal(Role::Staff);
        let picked = self.setup(pick_up(&contract), &staff).await;
        picked.assert_status(StatusCode::OK);
        picked.json()["data"].clone()
    }

    /// The day `offset` days from the lab's today (UTC), as the API writes it.
    fn day(&self, offset: i64) -> String {
        (self.clock.now() + TimeDelta::days(offset))
            .date_naive()
            .format("%Y-%m-%d")
            .to_string()
    }
}

fn booking_key(n: u32) -> String {
    format!("fault-matrix-booking-{n}")
}

fn contract_key(n: u32) -> String {
    format!("fault-matrix-contract-{n}")
}

fn book(flight: &Flight, key: u32) -> TestRequest {
    TestRequest::post("/v1/bookings")
        .header("Idempotency-Key", &booking_key(key))
        .json(&json!({"flightId": flight.id, "seats": 1}))
}

fn pay(booking: &Value) -> TestRequest {
    TestRequest::post(format!("/v1/bookings/{}/payment", id_of(booking))).json(&json!({
        "paymentToken": itinera::payments::TEST_TOKEN_APPROVE,
        "amount": booking["total"],
    }))
}

fn reserve(body: &Value, key: u32) -> TestRequest {
    TestRequest::post("/v1/contracts")
        .header("Idempotency-Key", &contract_key(key))
        .json(body)
}

fn pick_up(contract: &Value) -> TestRequest {
    TestRequest::post(format!("/v1/contracts/{}/pickup", id_of(contract)))
        .json(&json!({"mileage": 12_100}))
}

fn id_of(entity: &Value) -> String {
    entity["id"].as_str().expect("an id").to_owned()
}

impl Operation {
    /// A fresh subject to run the operation on, set up on the healthy store.
    async fn prepare(self, lab: &Lab) -> Subject {
        let staff = principal(Role::Staff);
        let mut bookings = Vec::new();
        let mut end_date = None;
        let mut idempotency = None;
        let (request, target, customer, rental_customer) = match self {
            Self::CreateBooking => {
                let customer = principal(Role::Customer);
                let n = lab.fresh();
                idempotency = Some((CREATE_OPERATION, booking_key(n)));
                (book(&lab.flight, n), None, customer, None)
            }
            Self::PayBooking => {
                let (customer, booking) = lab.pending_booking().await;
                (pay(&booking), Some(id_of(&booking)), customer, None)
            }
            Self::CancelPendingBooking | Self::CancelPaidBooking => {
                let (customer, booking) = if self == Self::CancelPendingBooking {
                    lab.pending_booking().await
                } else {
                    lab.paid_booking().await
                };
                let id = id_of(&booking);
                let request = TestRequest::post(format!("/v1/bookings/{id}/cancel"));
                (request, Some(id), customer, None)
            }
            Self::ReserveCar => {
                let (body, customer_id) = lab.reservation().await;
                let n = lab.fresh();
                idempotency = Some((RESERVE_OPERATION, contract_key(n)));
                (reserve(&body, n), None, staff, Some(customer_id))
            }
            Self::PickUpCar => {
                let contract = lab.contract().await;
                (pick_up(&contract), Some(id_of(&contract)), staff, None)
            }
            Self::ReturnCar => {
                let contract = lab.active_contract().await;
                let request =
                    TestRequest::post(format!("/v1/contracts/{}/return", id_of(&contract)))
                        .json(&json!({"mileage": 12_400, "fuelLevel": 90}));
                (request, Some(id_of(&contract)), staff, None)
            }
            Self::CancelContract => {
                let contract = lab.contract().await;
                let id = id_of(&contract);
                let request = TestRequest::post(format!("/v1/contracts/{id}/cancel"));
                (request, Some(id), staff, None)
            }
            Self::CancelFlight => {
                let departure = lab.clock.now() + TimeDelta::days(3);
                let flight =
                    seed_flight(&*lab.store, &*lab.clock, &UuidV7Ids, 10, FARE, departure).await;
                let (_, pending) = lab.booking_on(&flight).await;
                let (_, paid) = lab.paid_booking_on(&flight).await;
                bookings = vec![id_of(&pending), id_of(&paid)];
                let request = TestRequest::patch(format!("/v1/flights/{}", flight.id))
                    .json(&json!({"status": "cancelled"}));
                (request, Some(flight.id.to_string()), staff, None)
            }
            Self::ChangeContractDates => {
                let contract = lab.contract().await;
                let end = lab.day(3);
                let request = TestRequest::patch(format!("/v1/contracts/{}", id_of(&contract)))
                    .header("If-Match", "\"1\"")
                    .json(&json!({"endDate": end}));
                end_date = Some(end);
                (request, Some(id_of(&contract)), staff, None)
            }
        };
        Subject {
            request: lab.request(request, &customer),
            target,
            customer,
            rental_customer,
            bookings,
            end_date,
            idempotency,
        }
    }

    /// The status the target has once the operation took effect.
    fn done_status(self) -> &'static str {
        match self {
            Self::CreateBooking => "pending",
            Self::PayBooking => "confirmed",
            Self::CancelPendingBooking
            | Self::CancelPaidBooking
            | Self::CancelContract
            | Self::CancelFlight => "cancelled",
            Self::ReserveCar | Self::ChangeContractDates => "reserved",
            Self::PickUpCar => "active",
            Self::ReturnCar => "completed",
        }
    }

    fn path(self, id: &str) -> String {
        match self {
            Self::CreateBooking
            | Self::PayBooking
            | Self::CancelPendingBooking
            | Self::CancelPaidBooking => format!("/v1/bookings/{id}"),
            Self::CancelFlight => format!("/v1/flights/{id}"),
            _ => format!("/v1/contracts/{id}"),
        }
    }

    /// How a retry is refused when the first attempt's change was made: a conditional request
    /// (`If-Match`) finds the version moved on, any other the status it would move to.
    fn already_made(self) -> StatusCode {
        match self {
            Self::ChangeContractDates => StatusCode::PRECONDITION_FAILED,
            _ => StatusCode::CONFLICT,
        }
    }

    fn moves_money(self) -> bool {
        matches!(
            self,
            Self::PayBooking | Self::CancelPaidBooking | Self::CancelFlight
        )
    }

    /// The entities the operation made or changed: exactly one, in its done status.
    async fn outcome(self, lab: &Lab, subject: &Subject) -> Vec<Value> {
        let staff = principal(Role::Staff);
        let list = match (self, &subject.target) {
            (_, Some(id)) => {
                let read = lab
                    .setup(TestRequest::get(self.path(id)), &subject.customer)
                    .await;
                read.assert_status(StatusCode::OK);
                return vec![read.json()["data"].clone()];
            }
            (Self::CreateBooking, None) => {
                lab.setup(TestRequest::get("/v1/bookings"), &subject.customer)
                    .await
            }
            (_, None) => {
                let customer = subject.rental_customer.as_deref().expect("a customer");
                lab.setup(
                    TestRequest::get(format!("/v1/contracts?customerId={customer}")),
                    &staff,
                )
                .await
            }
        };
        list.assert_status(StatusCode::OK);
        list.json()["data"].as_array().expect("a list").clone()
    }
}

/// Asserts a first answer under a fault: a success, or a 503 with `Retry-After` that tells
/// nothing of the store.
fn assert_honest(response: &TestResponse, case: &str) {
    if response.status.is_success() {
        return;
    }
    assert_eq!(
        response.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{case}: {:?}",
        response.json()
    );
    assert!(
        response.header("retry-after").is_some(),
        "{case}: a 503 without Retry-After"
    );
    assert_eq!(
        response.header("content-type"),
        Some("application/problem+json"),
        "{case}"
    );
    let body = String::from_utf8_lossy(&response.body).to_lowercase();
    for leak in LEAKS {
        assert!(
            !body.contains(leak),
            "{case}: the answer shows {leak:?}: {body}"
        );
    }
}

/// The faults to run at call `index` of kind `call`: every kind, or on a sampled family one. A
/// fault before a call never reaches the store, so what follows it depends on the family only
/// through the use case's logic, which the embedded family runs in full; a write applied with its
/// answer lost is where the family itself matters. So a sampled family fails each write after
/// applying it, and each read with one of the kinds before it, rotating from read to read.
fn faults_at(lab: &Lab, index: usize, call: Call) -> Vec<(FaultKind, Timing)> {
    let applicable: Vec<_> = FAULTS
        .into_iter()
        .filter(|(kind, _)| *kind != FaultKind::Conflict || call == Call::Transact)
        .collect();
    if !lab.sample {
        return applicable;
    }
    let lost_answer = (FaultKind::Unavailable, Timing::After);
    if matches!(call, Call::Get | Call::Query) {
        let before: Vec<_> = applicable
            .into_iter()
            .filter(|(_, timing)| *timing == Timing::Before)
            .collect();
        vec![before[index % before.len()]]
    } else {
        vec![lost_answer]
    }
}

/// Runs `operation` once healthy to learn its calls, then once per call and fault.
async fn run_matrix(backend: Backend, operation: Operation) {
    let lab = Lab::new(backend).await;
    let subject = operation.prepare(&lab).await;
    lab.faulty.take_calls();
    let response = send(&lab.api, subject.request.clone()).await;
    assert!(
        response.status.is_success(),
        "{operation:?} healthy: {:?}",
        response.json()
    );
    let calls = lab.faulty.take_calls();
    assert!(!calls.is_empty(), "{operation:?} makes store calls");
    for (index, call) in calls.iter().enumerate() {
        let nth = calls[..index].iter().filter(|seen| *seen == call).count();
        for (kind, timing) in faults_at(&lab, index, *call) {
            let case =
                format!("{operation:?}, call {index} ({call:?} #{nth}), {kind:?} {timing:?}");
            run_case(&lab, operation, *call, nth, kind, timing, &case).await;
        }
    }
}

async fn run_case(
    lab: &Lab,
    operation: Operation,
    call: Call,
    nth: usize,
    kind: FaultKind,
    timing: Timing,
    case: &str,
) {
    let subject = operation.prepare(lab).await;
    let before = lab.faulty.injected();
    lab.faulty
        .inject(Fault::on(call).after(nth).with(kind).timing(timing));
    let first = send(&lab.api, subject.request.clone()).await;
    let fired = lab.faulty.injected() - before;
    lab.faulty.heal();
    assert_eq!(fired, 1, "{case}: the fault fired");
    assert_honest(&first, case);
    lab.assert_consistent(&format!("{case}, after the fault"))
        .await;

    // The client retries once the stale claim a lost release left has lapsed.
    lab.clock.advance(LEASE + TimeDelta::seconds(1));
    let retry = send(&lab.api, subject.request.clone()).await;
    let outcome = operation.outcome(lab, &subject).await;
    assert_eq!(outcome.len(), 1, "{case}: made once: {outcome:?}");
    let made = &outcome[0];
    assert_eq!(made["status"], operation.done_status(), "{case}: {made}");
    if let Some(end) = &subject.end_date {
        assert_eq!(made["endDate"], end.as_str(), "{case}: {made}");
    }
    if retry.status.is_success() {
        if subject.target.is_none() {
            assert_eq!(
                retry.json()["data"]["id"],
                made["id"],
                "{case}: the retry replays"
            );
        }
    } else {
        assert_eq!(
            retry.status,
            operation.already_made(),
            "{case}: retry {:?}",
            retry.json()
        );
        assert!(
            subject.target.is_some(),
            "{case}: a request under an Idempotency-Key replays: {:?}",
            retry.json()
        );
        let detail = retry.json()["detail"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            retry.status != StatusCode::CONFLICT || detail.contains(operation.done_status()),
            "{case}: the refusal says the change is made: {detail}"
        );
    }
    lab.assert_consistent(&format!("{case}, after the retry"))
        .await;
    if let Some((name, key)) = &subject.idempotency {
        // The key's record holds the one outcome, completed: no stale claim is left to refuse or
        // to take over a later request.
        let record = Key::new(
            format!("IDEMPOTENCY#{name}#{}#{key}", subject.customer.user_id),
            "IDEMPOTENCY",
        );
        let record = lab.store.get(&record).await.unwrap().expect("the record");
        assert_eq!(record["status"], "completed", "{case}: {record:?}");
        let response = record["responseBody"].as_str().unwrap_or_default();
        assert!(
            response.contains(made["id"].as_str().expect("an id")),
            "{case}: the record replays what was made: {response}"
        );
    }

    if operation.moves_money() {
        lab.recover().await;
        lab.assert_consistent(&format!("{case}, after recovery"))
            .await;
        assert_money_moved_once(lab, operation, &subject, case).await;
    }
}

/// After recovery, each booking the operation paid or cancelled was charged once and, if it was
/// cancelled after it was paid, refunded once; a flight's cancellation cancelled every booking.
async fn assert_money_moved_once(lab: &Lab, operation: Operation, subject: &Subject, case: &str) {
    let staff = principal(Role::Staff);
    let paid = match operation {
        Operation::CancelFlight => {
            for id in &subject.bookings {
                let booking = lab
                    .setup(TestRequest::get(format!("/v1/bookings/{id}")), &staff)
                    .await;
                assert_eq!(
                    booking.json()["data"]["status"],
                    "cancelled",
                    "{case}: {id}"
                );
            }
            assert_eq!(lab.ledger.entry(&subject.bookings[0]).charges, 0, "{case}");
            subject.bookings[1].clone()
        }
        _ => subject.target.clone().expect("a booking"),
    };
    let entry = lab.ledger.entry(&paid);
    assert_eq!(entry.charges, 1, "{case}: charged once");
    let refunds = u32::from(operation != Operation::PayBooking);
    assert_eq!(entry.refunds, refunds, "{case}: refunded {refunds} time(s)");
}

/// One scenario per operation, each `run_matrix` of it, named as the tests are.
macro_rules! matrix_scenarios {
    ($($scenario:ident => $operation:ident),* $(,)?) => {
        $(
            async fn $scenario(backend: Backend) {
                run_matrix(backend, Operation::$operation).await;
            }
        )*
    };
}

matrix_scenarios!(
    create_booking => CreateBooking,
    pay_booking => PayBooking,
    cancel_pending_booking => CancelPendingBooking,
    cancel_paid_booking => CancelPaidBooking,
    reserve_car => ReserveCar,
    pick_up_car => PickUpCar,
    return_car => ReturnCar,
    cancel_contract => CancelContract,
    cancel_flight => CancelFlight,
    change_contract_dates => ChangeContractDates,
);

/// A flight cancelled (healthy) with a pending and a paid booking, and the message of the task
/// that cancels its bookings, taken from the queue; the other messages the setup sent count as
/// dispatched.
async fn cancelled_flight(lab: &Lab) -> (QueueMessage, Vec<String>) {
    let subject = Operation::CancelFlight.prepare(lab).await;
    let cancelled = send(&lab.healthy, subject.request).await;
    cancelled.assert_status(StatusCode::OK);
    let (task, others): (Vec<_>, Vec<_>) = lab.queue.take().into_iter().partition(|message| {
        matches!(
            Work::from_body(&message.body),
            Ok(Work::Task(TaskJob {
                task: Task::CancelFlightBookings { .. },
                ..
            }))
        )
    });
    let mut relayed = lab.relayed.lock().unwrap();
    relayed.extend(others.into_iter().map(|message| message.body));
    let [task] = <[QueueMessage; 1]>::try_from(task).expect("one fan-out task");
    relayed.push(task.body.clone());
    (task, subject.bookings)
}

/// The worker's half of a flight's cancellation under faults: the task that cancels and refunds
/// the flight's bookings runs with each of its store calls failing in turn, then is delivered again
/// with the faults healed (as the queue redelivers a failed message) and recovery runs; each
/// booking ends cancelled, the paid one refunded once, and the checkers pass at every step.
async fn cancel_flight_bookings_in_the_worker(backend: Backend) {
    let lab = Lab::new(backend).await;
    let worker = WorkerServices {
        store: lab.faulty.clone(),
        clock: lab.clock.clone(),
        ids: Arc::new(UuidV7Ids),
        mailer: Arc::new(NoMail),
        payments: lab.ledger.clone(),
    };
    let (task, _) = cancelled_flight(&lab).await;
    lab.faulty.take_calls();
    let failed = process_batch(&worker, vec![delivery(&task)]).await;
    assert!(failed.is_empty(), "the healthy fan-out completes");
    let calls = lab.faulty.take_calls();
    assert!(!calls.is_empty(), "the fan-out makes store calls");
    for (index, call) in calls.iter().enumerate() {
        let nth = calls[..index].iter().filter(|seen| *seen == call).count();
        for (kind, timing) in faults_at(&lab, index, *call) {
            let case = format!("fan-out, call {index} ({call:?} #{nth}), {kind:?} {timing:?}");
            let (task, bookings) = cancelled_flight(&lab).await;
            let before = lab.faulty.injected();
            lab.faulty
                .inject(Fault::on(*call).after(nth).with(kind).timing(timing));
            let failed = process_batch(&worker, vec![delivery(&task)]).await;
            let fired = lab.faulty.injected() - before;
            lab.faulty.heal();
            assert_eq!(fired, 1, "{case}: the fault fired");
            lab.assert_consistent(&format!("{case}, after the fault"))
                .await;
            let redelivered = if failed.is_empty() {
                Vec::new()
            } else {
                vec![task]
            };
            let ledger = lab.ledger.clone();
            let ran = recover_queued(
                &lab.store,
                &lab.clock,
                ledger,
                Arc::new(NoMail),
                redelivered,
            )
            .await;
            lab.relayed.lock().unwrap().extend(ran);
            lab.assert_consistent(&format!("{case}, after recovery"))
                .await;
            let subject = Subject {
                request: TestRequest::get("/"),
                target: None,
                customer: principal(Role::Staff),
                rental_customer: None,
                bookings,
                end_date: None,
                idempotency: None,
            };
            assert_money_moved_once(&lab, Operation::CancelFlight, &subject, &case).await;
        }
    }
}

/// A queue message as the worker receives it, on its first delivery.
fn delivery(message: &QueueMessage) -> Delivery {
    Delivery {
        message_id: message.id.clone(),
        receipt: message.id.clone(),
        body: message.body.clone(),
        receive_count: 1,
    }
}

on_both_families!(
    create_booking,
    pay_booking,
    cancel_pending_booking,
    cancel_paid_booking,
    reserve_car,
    pick_up_car,
    return_car,
    cancel_contract,
    cancel_flight,
    change_contract_dates,
    cancel_flight_bookings_in_the_worker,
);

/// The checkers are only worth their silence if they speak up: each kind of damage a fault could
/// do, made by hand to a healthy data set, is reported.
#[tokio::test]
async fn the_invariant_checkers_report_each_kind_of_damage() {
    use itinera::storage::{Delete, Put, Update};

    let lab = Lab::new(Backend::embedded()).await;
    let (_, pending) = lab.pending_booking().await;
    let (_, paid) = lab.paid_booking().await;
    let contract = lab.contract().await;
    lab.assert_consistent("a healthy data set").await;

    let flight = Key::new(format!("FLIGHT#{}", lab.flight.id), "FLIGHT");
    let car = Key::new(
        format!("CAR#{}", contract["carId"].as_str().unwrap()),
        "CAR",
    );
    let customer = Key::new(
        format!("CUSTOMER#{}", contract["customerId"].as_str().unwrap()),
        "CUSTOMER",
    );
    let hold = lab
        .store
        .query(itinera::storage::Query::partition(None, "HOLDS"))
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|marker| marker["bookingId"] == pending["id"])
        .and_then(|marker| Key::of(&marker))
        .expect("the pending booking's hold marker");
    let slot = Key::new(
        format!("CAR#{}", contract["carId"].as_str().unwrap()),
        format!("DAY#{}", contract["startDate"].as_str().unwrap()),
    );
    let payment = Key::new(format!("BOOKING#{}", id_of(&paid)), "PAYMENT");
    /// What a case breaks: a counter moved by one, or an item lost.
    enum Damage {
        Count(Key, &'static str),
        Lose(Key),
    }
    let add = |key: &Key, attribute: &str, by: i64| {
        let mut update = Update::new(key.clone());
        update.add.push((attribute.into(), by));
        update
    };
    let cases = [
        (
            Damage::Count(flight.clone(), "remainingSeats"),
            "remainingSeats is",
        ),
        (Damage::Count(flight, "bookingCount"), "bookingCount is"),
        (Damage::Count(car, "contractCount"), "contractCount is"),
        (Damage::Count(customer, "openContracts"), "openContracts is"),
        (Damage::Lose(hold), "HOLDS has no marker"),
        (Damage::Lose(slot), "does not own the slot"),
        (Damage::Lose(payment), "has no PAYMENT record"),
    ];
    for (damage, report) in cases {
        let lost = match &damage {
            Damage::Count(key, attribute) => {
                lab.store.update(add(key, attribute, 1)).await.unwrap();
                None
            }
            Damage::Lose(key) => {
                let delete = Delete {
                    key: key.clone(),
                    condition: None,
                };
                lab.store.delete(delete).await.unwrap()
            }
        };
        let violations = Invariants::of(&*lab.store)
            .ledger(&lab.ledger)
            .dispatched(lab.queue.bodies())
            .violations()
            .await;
        assert!(
            violations
                .iter()
                .any(|violation| violation.contains(report)),
            "{report}: {violations:?}"
        );
        // Mend it for the next case.
        match (damage, lost) {
            (Damage::Count(key, attribute), _) => {
                lab.store.update(add(&key, attribute, -1)).await.unwrap();
            }
            (Damage::Lose(_), Some(item)) => {
                let put = Put {
                    item,
                    condition: None,
                };
                lab.store.put(put).await.unwrap();
            }
            (Damage::Lose(key), None) => panic!("{key} did not exist"),
        }
        lab.assert_consistent(&format!("mended after {report}"))
            .await;
    }

    // A charge the provider kept for a booking that is not confirmed, with no intent open.
    let total = &pending["total"];
    let amount = itinera::money::Money::new(
        total["amount"].as_i64().unwrap(),
        itinera::money::Currency::parse(total["currency"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    let charge = itinera::payments::ChargeRequest {
        idempotency_key: id_of(&pending),
        token: itinera::payments::PaymentToken::parse(itinera::payments::TEST_TOKEN_APPROVE)
            .unwrap(),
        amount,
        description: "a charge nobody settles".into(),
    };
    itinera::payments::PaymentGateway::charge(&*lab.ledger, &charge)
        .await
        .unwrap();
    let unsettled = Invariants::of(&*lab.store)
        .ledger(&lab.ledger)
        .dispatched(lab.queue.bodies())
        .violations()
        .await;
    assert!(
        unsettled
            .iter()
            .any(|violation| violation.contains("(pending) kept 1 charge")),
        "{unsettled:?}"
    );

    // The jobs were dispatched (the lab's queue holds them, the outbox no longer does): without
    // that evidence, nothing shows the changes' jobs exist.
    let without_queue = Invariants::of(&*lab.store).violations().await;
    assert!(
        without_queue
            .iter()
            .any(|violation| violation.contains("contract-reserved job is not staged")),
        "{without_queue:?}"
    );
}
