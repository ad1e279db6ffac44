//! `kill -9` of the local API in the middle of a mixed write load loses nothing.
//!
//! The test starts the `local-api` binary itself (its embedded store, queue, blob store and mail
//! outbox on a fresh data directory, a first admin, the rate limits raised as the schemathesis
//! run raises them) and seeds it over HTTP: two flights, a car per customer, customers with
//! accounts and rental profiles. Then several clients write at once, each recording what the
//! server acknowledged (a 2xx answer) and what it had in flight:
//! - each customer books seats (with an `Idempotency-Key`), pays, cancels every third booking,
//!   reserves their car for two days every other round and cancels every fourth reservation;
//! - a staff client files insurance policies and uploads each one's document (start, `PUT` to the
//!   local blob URL, confirm).
//!
//! Once [`KILL_AFTER`] writes are acknowledged, with requests in flight, the server is killed with
//! SIGKILL. The store is checked while the server is down, the server restarted on the same
//! directory, and then, whatever the kill point:
//! - every acknowledged write is there, in the state it was answered with, read back over HTTP
//!   (a write in flight at the kill left the state before it or after it, never another);
//! - nothing is half-written: each flight's sold seats are the seats of the bookings holding
//!   them, each car's busy days are the days of its live contracts, a confirmed document's bytes
//!   are the bytes uploaded, and a booking or contract nobody was answered about is one whole
//!   create;
//! - every job of an acknowledged change is delivered by the restarted server's own worker: the
//!   customer's notification (once) and the email in the outbox, for each payment, cancellation
//!   and reservation; and, with the server down again, nothing sits dead-lettered.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use itinera_embedded::EmbeddedStore;
use itinera_tests::car_body;
use itinera_tests::http_client::{HttpAnswer, HttpClient, NoAnswer};
use itinera_tests::invariants::Invariants;
use itinera_tests::outbox::{message_id_of, outbox_files};
use itinera_tests::snapshot::embedded_messages;
use serde_json::{Value, json};

/// Customers writing at once (each with a car of their own to rent).
const CUSTOMERS: usize = 4;
/// Acknowledged writes before the kill: enough that every kind of write has been answered.
const KILL_AFTER: usize = 80;
/// Seats of each flight's airplane: more than the load can book.
const SEATS: i64 = 600;
/// The first admin the server creates at start.
const ADMIN_EMAIL: &str = "crash-admin@itinera.test";
const ADMIN_PASSWORD: &str = "crash test admin passphrase";
/// Every customer's password.
const CUSTOMER_PASSWORD: &str = "crash test customer passphrase";
/// The most a start of the server may take.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// The most the restarted server's worker may take to deliver the acknowledged changes' jobs: a
/// job its dead predecessor had received comes back after the queue's visibility timeout.
const DELIVERY_TIMEOUT: Duration =
    Duration::from_secs(local_api::background::VISIBILITY.as_secs() + 15);

/// The local API as its own process.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    /// Starts the binary on a free port over `dir`; returns once it listens.
    fn start(dir: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_local-api"))
            .env("PORT", "0")
            .env("DATA_DIR", dir)
            .env("LOG_LEVEL", "error")
            .env("BOOTSTRAP_ADMIN_EMAIL", ADMIN_EMAIL)
            .env("BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD)
            // Cursors stay valid across the restart.
            .env("CURSOR_SIGNING_KEY", "a crash test cursor key of 32+ bytes")
            // Every client comes from one address, far faster than any person: the limiter
            // would answer 429, which tests the limiter and nothing else.
            .env("RATE_MAX", "1000000")
            .env("RATE_WRITE_MAX", "1000000")
            .env("RATE_AUTH_MAX", "1000000")
            .env("RATE_AUTH_ACCOUNT_MAX", "1000000")
            .env("MAX_PENDING_BOOKINGS", "50")
            .env_remove("ITINERA_DEMO")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the local API starts");
        // Read on a thread, to the end, so the wait is bounded and the pipe never fills.
        let stdout = child.stdout.take().expect("the server's stdout is piped");
        let (found, listening) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some((_, rest)) = line.split_once("listening on ") {
                    let base = rest.split_whitespace().next().unwrap_or_default();
                    let _ = found.send(base.to_owned());
                }
            }
        });
        let base = listening
            .recv_timeout(START_TIMEOUT)
            .expect("the local API listens");
        Self { child, base }
    }

    /// SIGKILL: no shutdown, no flushing, nothing but what the server had made durable.
    fn kill(mut self) {
        self.child.kill().expect("SIGKILL reaches the server");
        let status = self.child.wait().expect("the killed server is reaped");
        assert!(
            !status.success(),
            "the server was killed, not stopped: {status}"
        );
    }
}

impl Drop for Server {
    /// A test that fails leaves no server behind (a second kill of a reaped one does nothing).
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Requests to the server at `base`, as the holder of `token`.
#[derive(Clone)]
struct Client {
    http: Arc<HttpClient>,
    base: String,
    token: Option<String>,
}

impl Client {
    fn new(base: &str) -> Self {
        Self {
            http: Arc::new(HttpClient::new()),
            base: base.to_owned(),
            token: None,
        }
    }

    /// The same client, for a server restarted at `base`.
    fn rebased(self, base: &str) -> Self {
        Self {
            base: base.to_owned(),
            ..self
        }
    }

    fn as_holder(&self, token: &str) -> Self {
        Self {
            token: Some(token.to_owned()),
            ..self.clone()
        }
    }

    /// One request: its whole answer, or why there is none.
    async fn try_call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        idempotency_key: Option<&str>,
    ) -> Result<HttpAnswer, NoAnswer> {
        let mut headers = Vec::new();
        if let Some(token) = &self.token {
            headers.push(("authorization".to_owned(), format!("Bearer {token}")));
        }
        if let Some(key) = idempotency_key {
            headers.push(("idempotency-key".to_owned(), key.to_owned()));
        }
        let body = match body {
            Some(body) => {
                headers.push(("content-type".to_owned(), "application/json".to_owned()));
                serde_json::to_vec(body).expect("a JSON body")
            }
            None => Vec::new(),
        };
        let url = format!("{}{path}", self.base);
        self.http.try_exchange(method, &url, &headers, body).await
    }

    /// A write during the load: `data` of its 2xx answer, `None` when the server gave no whole
    /// answer (it died). Any other answer fails the test: nothing in this load may be refused.
    async fn write(
        &self,
        method: &str,
        path: &str,
        body: &Value,
        idempotency_key: Option<&str>,
    ) -> Option<Value> {
        let answer = self
            .try_call(method, path, Some(body), idempotency_key)
            .await
            .ok()?;
        Some(data_of(&answer, method, path))
    }

    /// `data` of a request that must succeed (seeding and reading back, the server up).
    async fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let answer = self
            .try_call(method, path, body, None)
            .await
            .unwrap_or_else(|error| panic!("{method} {path}: {error}"));
        data_of(&answer, method, path)
    }

    async fn get(&self, path: &str) -> Value {
        self.call("GET", path, None).await
    }

    async fn post(&self, path: &str, body: &Value) -> Value {
        self.call("POST", path, Some(body)).await
    }

    /// Every item of a list, following its cursors.
    async fn list(&self, path: &str) -> Vec<Value> {
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page_path = match &cursor {
                Some(cursor) => format!("{path}{separator}limit=100&cursor={cursor}"),
                None => format!("{path}{separator}limit=100"),
            };
            let answer = self
                .try_call("GET", &page_path, None, None)
                .await
                .unwrap_or_else(|error| panic!("GET {page_path}: {error}"));
            assert_eq!(answer.status, 200, "GET {page_path}: {}", text(&answer));
            let page: Value = serde_json::from_slice(&answer.body).expect("a JSON page");
            items.extend(page["data"].as_array().expect("a list").iter().cloned());
            match page["pagination"]["nextCursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return items,
            }
        }
    }
}

fn text(answer: &HttpAnswer) -> String {
    String::from_utf8_lossy(&answer.body).into_owned()
}

/// `data` of a 2xx answer; fails the test on any other.
fn data_of(answer: &HttpAnswer, method: &str, path: &str) -> Value {
    assert!(
        (200..300).contains(&answer.status),
        "{method} {path} answered {}: {}",
        answer.status,
        text(answer)
    );
    let body: Value = serde_json::from_slice(&answer.body).expect("a JSON answer");
    body["data"].clone()
}

fn id(value: &Value) -> String {
    value["id"].as_str().expect("an id").to_owned()
}

fn day(days_ahead: i64) -> NaiveDate {
    (Utc::now() + chrono::TimeDelta::days(days_ahead)).date_naive()
}

/// What the server answered about one entity: the state it acknowledged last, and the state a
/// change in flight at the kill would leave (the entity may be found in either).
#[derive(Clone, Debug)]
struct Tracked {
    acknowledged: &'static str,
    in_flight: Option<&'static str>,
}

impl Tracked {
    fn new(state: &'static str) -> Self {
        Self {
            acknowledged: state,
            in_flight: None,
        }
    }

    fn allows(&self, state: &str) -> bool {
        self.acknowledged == state || self.in_flight == Some(state)
    }
}

#[derive(Clone, Debug)]
struct Booking {
    customer: usize,
    flight: String,
    seats: i64,
    state: Tracked,
}

#[derive(Clone, Debug)]
struct Contract {
    customer: usize,
    car: String,
    state: Tracked,
}

/// An insurance policy's document: the upload and whether its confirmation was answered.
#[derive(Clone, Debug)]
struct Document {
    paper: String,
    upload_id: String,
    bytes: Vec<u8>,
    confirmed: Tracked,
}

/// Everything the clients were answered, and what they had in flight when the server died.
#[derive(Debug, Default)]
struct Ledger {
    bookings: BTreeMap<String, Booking>,
    contracts: BTreeMap<String, Contract>,
    documents: Vec<Document>,
    /// Creates sent without an answer, so without an id: each may or may not be there, whole.
    bookings_in_flight: usize,
    contracts_in_flight: usize,
}

/// What a state change is of: an acknowledged booking or contract, by id.
#[derive(Clone, Copy)]
enum Subject<'a> {
    Booking(&'a str),
    Contract(&'a str),
}

impl Ledger {
    fn tracked(&mut self, subject: Subject<'_>) -> &mut Tracked {
        match subject {
            Subject::Booking(id) => &mut self.bookings.get_mut(id).expect("recorded").state,
            Subject::Contract(id) => &mut self.contracts.get_mut(id).expect("recorded").state,
        }
    }
}

/// The ledger the clients share, and the count of acknowledged writes the kill waits for.
#[derive(Clone, Default)]
struct Shared {
    ledger: Arc<Mutex<Ledger>>,
    acknowledged: Arc<AtomicUsize>,
}

impl Shared {
    fn record(&self, change: impl FnOnce(&mut Ledger)) {
        change(&mut self.ledger.lock().expect("the ledger"));
    }

    fn acknowledge(&self, change: impl FnOnce(&mut Ledger)) {
        self.record(change);
        self.acknowledged.fetch_add(1, Ordering::SeqCst);
    }
}

/// The seeded world: the clients' tokens, the flights and each customer's car.
struct World {
    admin: Client,
    customers: Vec<Client>,
    flights: Vec<String>,
    cars: Vec<String>,
}

async fn sign_in(client: &Client, email: &str, password: &str) -> String {
    let session = client
        .post(
            "/v1/auth/login",
            &json!({"email": email, "password": password}),
        )
        .await;
    session["accessToken"]
        .as_str()
        .expect("an access token")
        .to_owned()
}

async fn seed(base: &str) -> World {
    let anonymous = Client::new(base);
    let admin = anonymous.as_holder(&sign_in(&anonymous, ADMIN_EMAIL, ADMIN_PASSWORD).await);
    for (code, name, city) in [
        ("DEL", "Indira Gandhi International", "Delhi"),
        ("BOM", "Chhatrapati Shivaji Maharaj International", "Mumbai"),
    ] {
        admin
            .post(
                "/v1/airports",
                &json!({"code": code, "name": name, "city": city, "country": "IN",
                        "timeZone": "Asia/Kolkata"}),
            )
            .await;
    }
    let airplane = admin
        .post(
            "/v1/airplanes",
            &json!({"modelNumber": "A350-900", "capacity": SEATS}),
        )
        .await;
    let mut flights = Vec::new();
    for (n, number) in ["IT201", "IT202"].into_iter().enumerate() {
        let departure = Utc::now() + chrono::TimeDelta::days(10 + n as i64);
        let flight = admin
            .post(
                "/v1/flights",
                &json!({
                    "flightNumber": number,
                    "airplaneId": id(&airplane),
                    "from": "DEL",
                    "to": "BOM",
                    "departureTime": departure.to_rfc3339(),
                    "arrivalTime": (departure + chrono::TimeDelta::hours(2)).to_rfc3339(),
                    "price": {"amount": 549_900, "currency": "INR"},
                }),
            )
            .await;
        flights.push(id(&flight));
    }
    let mut cars = Vec::new();
    let mut customers = Vec::new();
    for n in 0..CUSTOMERS {
        let car = admin
            .post(
                "/v1/cars",
                &car_body(&format!("KA01CR{n:04}"), &format!("1HGCM82633A{n:06}")),
            )
            .await;
        cars.push(id(&car));
        let email = format!("traveller{n}@crash.itinera.test");
        anonymous
            .post(
                "/v1/auth/register",
                &json!({"email": email, "username": format!("traveller{n}"),
                        "password": CUSTOMER_PASSWORD, "name": format!("Traveller {n}")}),
            )
            .await;
        let customer = anonymous.as_holder(&sign_in(&anonymous, &email, CUSTOMER_PASSWORD).await);
        customer
            .post(
                "/v1/customers/me",
                &json!({"phone": "+44 20 7946 0958", "licenceNumber": format!("LOVEL8151{n:02}A99"),
                        "licenceExpiry": day(800).to_string()}),
            )
            .await;
        customers.push(customer);
    }
    World {
        admin,
        customers,
        flights,
        cars,
    }
}

/// One customer's load, until the server stops answering: book, pay, sometimes cancel; every
/// other round reserve their car for two days, and cancel every fourth reservation.
async fn customer_load(
    client: Client,
    customer: usize,
    flights: Vec<String>,
    car: String,
    shared: Shared,
) {
    for round in 0usize.. {
        let flight = flights[round % flights.len()].clone();
        let seats = 1 + (round % 3) as i64;
        shared.record(|ledger| ledger.bookings_in_flight += 1);
        let Some(booking) = client
            .write(
                "POST",
                "/v1/bookings",
                &json!({"flightId": flight, "seats": seats}),
                Some(&format!("crash-{customer}-{round}")),
            )
            .await
        else {
            return;
        };
        let booking_id = id(&booking);
        assert_eq!(booking["status"], "pending");
        shared.acknowledge(|ledger| {
            ledger.bookings_in_flight -= 1;
            ledger.bookings.insert(
                booking_id.clone(),
                Booking {
                    customer,
                    flight: flight.clone(),
                    seats,
                    state: Tracked::new("pending"),
                },
            );
        });

        let mut changes = vec![(
            format!("/v1/bookings/{booking_id}/payment"),
            json!({"paymentToken": "tok_test_approve", "amount": booking["total"]}),
            "confirmed",
        )];
        if round % 3 == 0 {
            changes.push((
                format!("/v1/bookings/{booking_id}/cancel"),
                json!({}),
                "cancelled",
            ));
        }
        for (path, body, state) in changes {
            let booking = Subject::Booking(&booking_id);
            if !change_state(&client, &shared, &path, &body, state, booking).await {
                return;
            }
        }

        if round % 2 == 0 {
            let start = day(5 + 3 * round as i64);
            let reservation = json!({"carId": car, "startDate": start.to_string(),
                                     "endDate": start.succ_opt().expect("a day").to_string()});
            shared.record(|ledger| ledger.contracts_in_flight += 1);
            let Some(contract) = client
                .write(
                    "POST",
                    "/v1/contracts",
                    &reservation,
                    Some(&format!("crash-contract-{customer}-{round}")),
                )
                .await
            else {
                return;
            };
            let contract_id = id(&contract);
            assert_eq!(contract["status"], "reserved");
            shared.acknowledge(|ledger| {
                ledger.contracts_in_flight -= 1;
                ledger.contracts.insert(
                    contract_id.clone(),
                    Contract {
                        customer,
                        car: car.clone(),
                        state: Tracked::new("reserved"),
                    },
                );
            });
            if round % 4 == 0 {
                let path = format!("/v1/contracts/{contract_id}/cancel");
                let contract = Subject::Contract(&contract_id);
                if !change_state(&client, &shared, &path, &json!({}), "cancelled", contract).await {
                    return;
                }
            }
        }
    }
}

/// One state change of something already acknowledged: recorded in flight before it is sent (so
/// the checks after the kill accept either state), answered with `state`, then acknowledged.
/// False when the server stopped answering.
async fn change_state(
    client: &Client,
    shared: &Shared,
    path: &str,
    body: &Value,
    state: &'static str,
    subject: Subject<'_>,
) -> bool {
    shared.record(|ledger| ledger.tracked(subject).in_flight = Some(state));
    let Some(changed) = client.write("POST", path, body, None).await else {
        return false;
    };
    assert_eq!(changed["status"], state, "{path}");
    shared.acknowledge(|ledger| *ledger.tracked(subject) = Tracked::new(state));
    true
}

/// Staff's load, until the server stops answering: an insurance policy on each car in turn, and
/// its document uploaded (start, `PUT` to the blob URL, confirm).
async fn upload_load(client: Client, cars: Vec<String>, shared: Shared) {
    for round in 0usize.. {
        let car = &cars[round % cars.len()];
        let policy = json!({"provider": "Allianz", "policyNumber": format!("AZ-{round}"),
                            "coverage": "partial", "validFrom": day(-30).to_string(),
                            "validTo": day(335).to_string()});
        let Some(paper) = client
            .write("POST", &format!("/v1/cars/{car}/insurance"), &policy, None)
            .await
        else {
            return;
        };
        shared.acknowledge(|_| {});
        let paper = format!("/v1/cars/{car}/insurance/{}", id(&paper));
        let bytes = format!(
            "%PDF-1.7 policy AZ-{round} {}",
            "x".repeat(round * 37 % 900)
        )
        .into_bytes();
        let Some(ticket) = client
            .write(
                "POST",
                &format!("{paper}/document"),
                &json!({"contentType": "application/pdf", "size": bytes.len()}),
                None,
            )
            .await
        else {
            return;
        };
        let upload_id = ticket["uploadId"]
            .as_str()
            .expect("an upload id")
            .to_owned();
        let url = ticket["url"].as_str().expect("an upload URL");
        let mut headers: Vec<(String, String)> = ticket["headers"]
            .as_object()
            .expect("the upload's headers")
            .iter()
            .map(|(name, value)| (name.clone(), value.as_str().unwrap_or_default().to_owned()))
            .collect();
        headers.retain(|(name, _)| !name.eq_ignore_ascii_case("content-type"));
        headers.push(("content-type".to_owned(), "application/pdf".to_owned()));
        let Ok(put) = client
            .http
            .try_exchange("PUT", url, &headers, bytes.clone())
            .await
        else {
            return;
        };
        assert_eq!(put.status, 200, "the upload: {}", text(&put));
        shared.acknowledge(|ledger| {
            ledger.documents.push(Document {
                paper: paper.clone(),
                upload_id: upload_id.clone(),
                bytes: bytes.clone(),
                confirmed: Tracked {
                    acknowledged: "unconfirmed",
                    in_flight: Some("confirmed"),
                },
            });
        });
        let Some(confirmed) = client
            .write(
                "POST",
                &format!("{paper}/document/confirm"),
                &json!({"uploadId": upload_id}),
                None,
            )
            .await
        else {
            return;
        };
        assert_eq!(confirmed["document"]["id"], upload_id.as_str());
        shared.acknowledge(|ledger| {
            ledger.documents.last_mut().expect("recorded").confirmed = Tracked::new("confirmed");
        });
    }
}

/// Runs the load until [`KILL_AFTER`] writes are acknowledged, kills the server while the
/// clients still write, and waits for every client to notice; the ledger.
async fn load_and_kill(server: Server, world: &World) -> Ledger {
    let shared = Shared::default();
    let mut clients = tokio::task::JoinSet::new();
    for (customer, client) in world.customers.iter().enumerate() {
        clients.spawn(customer_load(
            client.clone(),
            customer,
            world.flights.clone(),
            world.cars[customer].clone(),
            shared.clone(),
        ));
    }
    clients.spawn(upload_load(
        world.admin.clone(),
        world.cars.clone(),
        shared.clone(),
    ));
    let deadline = Instant::now() + Duration::from_secs(60);
    while shared.acknowledged.load(Ordering::SeqCst) < KILL_AFTER {
        assert!(
            Instant::now() < deadline,
            "the load made too little progress"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    server.kill();
    while let Some(client) = clients.join_next().await {
        client.expect("a client ends when the server dies");
    }
    Arc::try_unwrap(shared.ledger)
        .expect("the clients are done")
        .into_inner()
        .expect("the ledger")
}

/// Every acknowledged write is there in its answered state (or the state a change in flight
/// left), and nothing is half-written.
async fn assert_nothing_lost_or_half_written(world: &World, ledger: &Ledger) {
    let admin = &world.admin;
    for (booking_id, booking) in &ledger.bookings {
        let read = world.customers[booking.customer]
            .get(&format!("/v1/bookings/{booking_id}"))
            .await;
        let status = read["status"].as_str().expect("a status");
        assert!(
            booking.state.allows(status),
            "booking {booking_id}: {status}, answered {booking:?}"
        );
        assert_eq!(
            (read["flightId"].as_str(), read["seats"].as_i64()),
            (Some(booking.flight.as_str()), Some(booking.seats)),
            "booking {booking_id}"
        );
    }
    for (contract_id, contract) in &ledger.contracts {
        let read = world.customers[contract.customer]
            .get(&format!("/v1/contracts/{contract_id}"))
            .await;
        let status = read["status"].as_str().expect("a status");
        assert!(
            contract.state.allows(status),
            "contract {contract_id}: {status}, answered {contract:?}"
        );
        assert_eq!(
            read["carId"].as_str(),
            Some(contract.car.as_str()),
            "contract {contract_id}"
        );
    }
    for document in &ledger.documents {
        let paper = admin.get(&document.paper).await;
        let shown = paper["document"]["id"].as_str();
        if shown == Some(document.upload_id.as_str()) {
            assert!(document.confirmed.allows("confirmed"));
            let read = admin.get(&format!("{}/document", document.paper)).await;
            let url = read["url"].as_str().expect("a download URL");
            let download = admin.http.exchange("GET", url, &[], Vec::new()).await;
            assert_eq!(download.status, 200);
            assert_eq!(
                download.body, document.bytes,
                "the document of {}",
                document.paper
            );
        } else {
            assert!(
                shown.is_none(),
                "{}: another document {shown:?}",
                document.paper
            );
            assert!(
                document.confirmed.allows("unconfirmed"),
                "{document:?} lost its confirmation"
            );
        }
    }

    // Seats: each flight has sold exactly the seats of the bookings holding them.
    let mut unknown_bookings = 0;
    for flight_id in &world.flights {
        let flight = admin.get(&format!("/v1/flights/{flight_id}")).await;
        let sold = flight["totalSeats"].as_i64().expect("seats")
            - flight["remainingSeats"].as_i64().expect("seats");
        let bookings = admin
            .list(&format!("/v1/bookings?flightId={flight_id}"))
            .await;
        let mut held = 0;
        for booking in &bookings {
            let status = booking["status"].as_str().expect("a status");
            if matches!(status, "pending" | "confirmed") {
                held += booking["seats"].as_i64().expect("seats");
            }
            match ledger.bookings.get(&id(booking)) {
                Some(known) => assert_eq!(&known.flight, flight_id),
                None => {
                    assert_eq!(status, "pending", "an unanswered booking: {booking}");
                    unknown_bookings += 1;
                }
            }
        }
        assert_eq!(
            sold, held,
            "flight {flight_id}: seats sold and seats held by bookings"
        );
    }
    assert!(
        unknown_bookings <= ledger.bookings_in_flight,
        "{unknown_bookings} bookings nobody was answered about, {} creates in flight",
        ledger.bookings_in_flight
    );

    // Days: each car is busy exactly on the days of its live contracts.
    let mut unknown_contracts = 0;
    for car in &world.cars {
        let contracts = admin.list(&format!("/v1/contracts?carId={car}")).await;
        let mut days = BTreeSet::new();
        for contract in &contracts {
            let status = contract["status"].as_str().expect("a status");
            if !ledger.contracts.contains_key(&id(contract)) {
                assert_eq!(status, "reserved", "an unanswered contract: {contract}");
                unknown_contracts += 1;
            }
            if status != "cancelled" {
                let start: NaiveDate = contract["startDate"].as_str().unwrap().parse().unwrap();
                let end: NaiveDate = contract["endDate"].as_str().unwrap().parse().unwrap();
                for day in start.iter_days().take_while(|day| *day <= end) {
                    assert!(days.insert(day), "car {car}: two contracts on {day}");
                }
            }
        }
        // The widest range the availability route answers (180 days) holds every contract.
        let (from, to) = (day(0), day(179));
        assert!(
            days.iter().all(|day| (from..=to).contains(day)),
            "car {car}: a contract outside {from}..{to}"
        );
        let availability = admin
            .get(&format!("/v1/cars/{car}/availability?from={from}&to={to}"))
            .await;
        let mut busy = BTreeSet::new();
        for range in availability["busy"].as_array().expect("busy days") {
            let start: NaiveDate = range["startDate"].as_str().unwrap().parse().unwrap();
            let end: NaiveDate = range["endDate"].as_str().unwrap().parse().unwrap();
            busy.extend(start.iter_days().take_while(|day| *day <= end));
        }
        assert_eq!(
            busy, days,
            "car {car}: busy days and the days of its contracts"
        );
    }
    assert!(
        unknown_contracts <= ledger.contracts_in_flight,
        "{unknown_contracts} contracts nobody was answered about"
    );
}

/// The jobs acknowledged changes owe: (customer, notification kind, booking or contract id).
fn owed_jobs(ledger: &Ledger) -> Vec<(usize, &'static str, String)> {
    let mut owed = Vec::new();
    for (booking_id, booking) in &ledger.bookings {
        match booking.state.acknowledged {
            "confirmed" => owed.push((booking.customer, "booking-confirmed", booking_id.clone())),
            "cancelled" => {
                owed.push((booking.customer, "booking-confirmed", booking_id.clone()));
                owed.push((booking.customer, "booking-cancelled", booking_id.clone()));
            }
            _ => {}
        }
    }
    for (contract_id, contract) in &ledger.contracts {
        owed.push((contract.customer, "contract-reserved", contract_id.clone()));
    }
    owed
}

/// Waits (bounded) until every owed job has its notification, once, and its email.
async fn assert_jobs_delivered(world: &World, dir: &Path, owed: &[(usize, &'static str, String)]) {
    let deadline = Instant::now() + DELIVERY_TIMEOUT;
    loop {
        let emails = outbox_files(dir).into_values().collect::<Vec<_>>();
        let mut missing = Vec::new();
        let mut notifications: Vec<Vec<Value>> = Vec::new();
        for customer in &world.customers {
            notifications.push(customer.list("/v1/notifications").await);
        }
        for (customer, kind, subject) in owed {
            let count = notifications[*customer]
                .iter()
                .filter(|notification| {
                    notification["kind"] == *kind
                        && (notification["bookingId"] == subject.as_str()
                            || notification["contractId"] == subject.as_str())
                })
                .count();
            assert!(count <= 1, "{kind} for {subject}: {count} notifications");
            // The email carries the message id its job's key gives (`Message-ID`).
            let message_id = message_id_of(&format!("{kind}#{subject}"));
            let emailed = emails.iter().any(|text| text.contains(&message_id));
            if count == 0 || !emailed {
                missing.push(format!(
                    "{kind}#{subject} (notified: {count}, emailed: {emailed})"
                ));
            }
        }
        if missing.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "jobs of acknowledged changes not delivered within {DELIVERY_TIMEOUT:?}: {missing:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// With the server down (its files are its own while it runs): the invariant checkers over the
/// store, counting what sits in the queue as dispatched, and nothing dead-lettered.
async fn assert_stored_data_consistent(dir: &Path) {
    let messages = embedded_messages(dir);
    let dead: Vec<_> = messages
        .iter()
        .filter(|message| message.lane != "main")
        .collect();
    assert!(dead.is_empty(), "dead-lettered: {dead:?}");
    let store = EmbeddedStore::open(dir).expect("the store opens");
    Invariants::of(&store)
        .dispatched(messages.iter().map(|message| message.body.as_str()))
        .assert_hold()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_api_killed_mid_load_keeps_every_acknowledged_write_whole_and_delivers_its_jobs() {
    let data = tempfile::tempdir().expect("a temporary directory");
    let dir: PathBuf = data.path().join("data");
    let started = Instant::now();

    let server = Server::start(&dir);
    let world = seed(&server.base).await;
    let ledger = load_and_kill(server, &world).await;
    let killed_at = started.elapsed();
    assert_stored_data_consistent(&dir).await;

    let server = Server::start(&dir);
    let world = World {
        admin: world.admin.rebased(&server.base),
        customers: world
            .customers
            .into_iter()
            .map(|customer| customer.rebased(&server.base))
            .collect(),
        ..world
    };
    assert_nothing_lost_or_half_written(&world, &ledger).await;
    let owed = owed_jobs(&ledger);
    assert_jobs_delivered(&world, &dir, &owed).await;
    server.kill();
    assert_stored_data_consistent(&dir).await;
    println!(
        "killed after {killed_at:?} with {} bookings, {} contracts and {} documents answered \
         ({} booking and {} contract creates in flight); {} jobs delivered; {:?} in all",
        ledger.bookings.len(),
        ledger.contracts.len(),
        ledger.documents.len(),
        ledger.bookings_in_flight,
        ledger.contracts_in_flight,
        owed.len(),
        started.elapsed(),
    );
}
