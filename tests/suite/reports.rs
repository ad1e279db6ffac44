//! Issue reports through the API, on both store families: who may report on which car (a
//! customer only on a car they rent or rented, a 404 otherwise), who may read and list which
//! reports, staff's triage (forward only, a note to resolve, `If-Match`) with the reporter told
//! exactly once per status, and what a critical report does to its car.

use std::sync::Arc;

use chrono::Utc;
use http::StatusCode;
use itinera::identity::{Principal, Role, UserId};
use itinera::jobs::{JobKind, Recipient, process_batch};
use itinera::notifications::NotificationKind;
use itinera::storage::{Query, Store};
use itinera_embedded::EmbeddedBlobs;
use itinera_http::Api;
use itinera_tests::files::{download_from, upload_to};
use itinera_tests::{
    Backend, TestRequest, TestResponse, principal, register_customer, send, stored_admin, token_of,
};
use serde_json::{Value, json};

use crate::airports::assert_problem;
use crate::cars::{car_body, vin};
use crate::rental_jobs::staged;
use crate::worker::{RecordingMailer, notifications_of, raw_delivery, worker};

/// An API over one store and an embedded blob store, with a staff member who exists only in
/// tokens.
struct Fleet {
    api: Api,
    store: Arc<dyn Store>,
    blobs: EmbeddedBlobs,
    staff: String,
    _files: tempfile::TempDir,
}

/// A customer with a profile of their own.
struct Customer {
    token: String,
    user_id: UserId,
}

fn fleet(backend: &Backend) -> Fleet {
    let (api, blobs, files) = backend.api_with_files();
    Fleet {
        api,
        store: Arc::clone(&backend.store),
        blobs,
        staff: token_of(&principal(Role::Staff)),
        _files: files,
    }
}

/// Today (UTC), as the API writes days.
fn today() -> String {
    Utc::now().date_naive().format("%Y-%m-%d").to_string()
}

impl Fleet {
    async fn send(&self, request: TestRequest) -> TestResponse {
        send(&self.api, request).await
    }

    /// `request` answered with `status`; its `data`.
    async fn expect(&self, request: TestRequest, status: StatusCode) -> Value {
        let response = self.send(request).await;
        assert_eq!(response.status, status, "{:?}", response.json());
        response.json()["data"].clone()
    }

    /// A new car (staff), by the number of its plate and VIN.
    async fn car(&self, n: u32) -> String {
        let body = car_body(&format!("ISS {n}"), &vin(n));
        let car = self
            .expect(
                TestRequest::post("/v1/cars")
                    .bearer(&self.staff)
                    .json(&body),
                StatusCode::CREATED,
            )
            .await;
        car["id"].as_str().unwrap().to_owned()
    }

    /// A registered customer with a profile.
    async fn customer(&self, username: &str) -> Customer {
        let user_id = register_customer(&self.api, username).await;
        let token = token_of(&Principal {
            user_id: user_id.clone(),
            role: Role::Customer,
        });
        let profile = json!({
            "phone": "+44 20 7946 0958",
            "licenceNumber": "LOVEL815120A99",
            "licenceExpiry": "2040-01-01",
        });
        let request = TestRequest::post("/v1/customers/me")
            .bearer(&token)
            .json(&profile);
        self.expect(request, StatusCode::CREATED).await;
        Customer { token, user_id }
    }

    /// A contract of `car` for `customer` from today, reserved by them, and (when `pick_up`)
    /// picked up by staff; its id.
    async fn rental(&self, customer: &Customer, car: &str, pick_up: bool) -> String {
        let body = json!({"carId": car, "startDate": today(), "endDate": today()});
        let request = TestRequest::post("/v1/contracts")
            .header("Idempotency-Key", &uuid::Uuid::new_v4().to_string())
            .bearer(&customer.token)
            .json(&body);
        let contract = self.expect(request, StatusCode::CREATED).await;
        let id = contract["id"].as_str().unwrap().to_owned();
        if pick_up {
            let request = TestRequest::post(format!("/v1/contracts/{id}/pickup"))
                .bearer(&self.staff)
                .json(&json!({"mileage": 12000}));
            self.expect(request, StatusCode::OK).await;
        }
        id
    }

    /// Car `n` in the hands of a new customer `username`: reserved by them from today and picked
    /// up; the car and the customer.
    async fn rented_car(&self, n: u32, username: &str) -> (String, Customer) {
        let car = self.car(n).await;
        let renter = self.customer(username).await;
        self.rental(&renter, &car, true).await;
        (car, renter)
    }

    /// Files a report on `car` as `token`.
    async fn report(&self, token: &str, car: &str, body: &Value) -> TestResponse {
        let request = TestRequest::post(format!("/v1/cars/{car}/issues"))
            .bearer(token)
            .json(body);
        self.send(request).await
    }

    async fn car_status(&self, car: &str) -> Value {
        let request = TestRequest::get(format!("/v1/cars/{car}")).bearer(&self.staff);
        self.expect(request, StatusCode::OK).await["status"].clone()
    }

    /// Starts a photo upload of `body` to `report` as `token`.
    async fn start_photo(&self, token: &str, report: &str, body: &Value) -> TestResponse {
        let request = TestRequest::post(format!("/v1/issues/{report}/photos"))
            .bearer(token)
            .json(body);
        self.send(request).await
    }

    /// Starts a JPEG upload of `bytes` to `report` as `token` and sends the bytes; the upload's
    /// id.
    async fn upload_photo(&self, token: &str, report: &str, bytes: &[u8]) -> String {
        let body = json!({"contentType": "image/jpeg", "size": bytes.len()});
        let response = self.start_photo(token, report, &body).await;
        let ticket = response.created();
        let url = ticket["url"].as_str().unwrap();
        upload_to(&self.blobs, url, "image/jpeg", bytes)
            .await
            .unwrap();
        ticket["uploadId"].as_str().unwrap().to_owned()
    }

    /// Confirms upload `upload` onto `report` as `token`.
    async fn confirm_photo(&self, token: &str, report: &str, upload: &str) -> TestResponse {
        let request = TestRequest::post(format!("/v1/issues/{report}/photos/confirm"))
            .bearer(token)
            .json(&json!({"uploadId": upload}));
        self.send(request).await
    }

    /// The items stored in `report`'s partition: the report and its pending uploads.
    async fn partition_of(&self, report: &str) -> usize {
        let query = Query::partition(None, format!("REPORT#{report}"));
        self.store.query(query).await.unwrap().items.len()
    }

    async fn list(&self, token: &str, query: &str) -> Vec<Value> {
        let request = TestRequest::get(format!("/v1/issues{query}")).bearer(token);
        let page = self.expect(request, StatusCode::OK).await;
        page.as_array().unwrap().clone()
    }
}

fn issue(severity: &str) -> Value {
    json!({"severity": severity, "description": "The brakes squeal when cold."})
}

async fn a_customer_reports_only_on_a_car_they_rent_or_rented(backend: Backend) {
    let fleet = fleet(&backend);
    let (car, other_car) = (fleet.car(1).await, fleet.car(2).await);
    let renter = fleet.customer("renter").await;
    let contract = fleet.rental(&renter, &car, true).await;

    let response = fleet.report(&renter.token, &car, &issue("high")).await;
    let report = response.created();
    let id = report["id"].as_str().unwrap().to_owned();
    assert_eq!(
        response.header("location"),
        Some(format!("/v1/issues/{id}").as_str())
    );
    assert_eq!(response.header("etag"), Some("\"1\""));
    assert_eq!(report["status"], "open");
    assert_eq!(report["severity"], "high");
    assert_eq!(report["reporterId"], renter.user_id.as_str());
    assert!(report.get("carAction").is_none(), "{report}");
    let audit = fleet
        .store
        .query(Query::partition(None, format!("AUDIT#issue-report#{id}")))
        .await
        .unwrap();
    assert_eq!(audit.items.len(), 1, "the report is audited");
    // Naming the rental is fine when it is theirs and of this car.
    let named = json!({"severity": "low", "description": "A scratch", "contractId": contract});
    let response = fleet.report(&renter.token, &car, &named).await;
    response.assert_status(StatusCode::CREATED);
    assert_eq!(response.json()["data"]["contractId"], contract.as_str());

    // A car they never rented, a car that does not exist, a contract of another car: 404s.
    assert_problem(
        &fleet.report(&renter.token, &other_car, &issue("low")).await,
        404,
    );
    let nowhere = uuid::Uuid::now_v7().to_string();
    assert_problem(
        &fleet.report(&renter.token, &nowhere, &issue("low")).await,
        404,
    );
    let elsewhere = json!({"severity": "low", "description": "x", "contractId": contract});
    assert_problem(
        &fleet.report(&renter.token, &other_car, &elsewhere).await,
        404,
    );
    // Another customer on the renter's car, even naming the renter's contract: 404s.
    let stranger = fleet.customer("stranger").await;
    assert_problem(
        &fleet.report(&stranger.token, &car, &issue("low")).await,
        404,
    );
    assert_problem(&fleet.report(&stranger.token, &car, &named).await, 404);
    // A reservation not yet picked up never put the car in their hands.
    let waiting = fleet.customer("waiting").await;
    fleet.rental(&waiting, &other_car, false).await;
    assert_problem(
        &fleet
            .report(&waiting.token, &other_car, &issue("low"))
            .await,
        404,
    );
    // A customer with no profile at all.
    let bare = token_of(&principal(Role::Customer));
    assert_problem(&fleet.report(&bare, &car, &issue("low")).await, 404);

    // Staff report on any car; a contract they name must be of that car.
    let response = fleet
        .report(&fleet.staff, &other_car, &issue("medium"))
        .await;
    response.assert_status(StatusCode::CREATED);
    assert_problem(&fleet.report(&fleet.staff, &other_car, &named).await, 404);

    // The reporter and staff read it; anyone else is told it does not exist.
    let read = TestRequest::get(format!("/v1/issues/{id}"));
    assert_eq!(
        fleet.send(read.clone().bearer(&renter.token)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        fleet.send(read.clone().bearer(&fleet.staff)).await.status,
        StatusCode::OK
    );
    assert_problem(&fleet.send(read.bearer(&stranger.token)).await, 404);

    // A customer lists their own, whatever they filter by; staff list all, by filter.
    assert_eq!(fleet.list(&renter.token, "").await.len(), 2);
    assert_eq!(
        fleet
            .list(&renter.token, &format!("?carId={other_car}"))
            .await
            .len(),
        0
    );
    assert!(fleet.list(&stranger.token, "").await.is_empty());
    let all = fleet.list(&fleet.staff, "").await;
    assert_eq!(all.len(), 3);
    let created: Vec<&str> = all
        .iter()
        .map(|r| r["createdAt"].as_str().unwrap())
        .collect();
    assert!(
        created.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {created:?}"
    );
    assert_eq!(
        fleet
            .list(&fleet.staff, &format!("?carId={car}"))
            .await
            .len(),
        2
    );
    let high = fleet.list(&fleet.staff, "?severity=high").await;
    assert_eq!(high.len(), 1);
    assert_eq!(high[0]["id"], id.as_str());
    assert_eq!(
        fleet
            .list(&fleet.staff, "?status=open&severity=medium")
            .await
            .len(),
        1
    );
    assert!(
        fleet
            .list(&fleet.staff, "?status=resolved")
            .await
            .is_empty()
    );
    let paged = TestRequest::get("/v1/issues?limit=2").bearer(&fleet.staff);
    let first = fleet.send(paged).await.json();
    let cursor = first["pagination"]["nextCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let rest = fleet
        .list(&fleet.staff, &format!("?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(rest.len(), 1);
}

async fn staff_triage_moves_forward_and_tells_the_reporter_once_per_status(backend: Backend) {
    let fleet = fleet(&backend);
    let (car, renter) = fleet.rented_car(3, "reporter").await;
    let report = fleet
        .report(&renter.token, &car, &issue("medium"))
        .await
        .json()["data"]
        .clone();
    let id = report["id"].as_str().unwrap();
    let patch = |body: Value| TestRequest::patch(format!("/v1/issues/{id}")).json(&body);
    let outbox_before = staged(&*fleet.store).await.len();

    let customer_try = fleet.send(patch(json!({"status": "in_progress"})).bearer(&renter.token));
    assert_problem(&customer_try.await, 403);
    let started = patch(json!({"status": "in_progress"}))
        .bearer(&fleet.staff)
        .header("If-Match", "\"1\"");
    let started = fleet.expect(started, StatusCode::OK).await;
    assert_eq!(started["status"], "in_progress");
    let stale = patch(json!({"status": "resolved", "resolution": "x"}))
        .bearer(&fleet.staff)
        .header("If-Match", "\"1\"");
    assert_problem(&fleet.send(stale).await, 412);
    let back = fleet
        .send(patch(json!({"status": "open"})).bearer(&fleet.staff))
        .await;
    let problem = assert_problem(&back, 409);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("only moves forward"),
        "{problem}"
    );
    let unexplained = fleet
        .send(patch(json!({"status": "resolved"})).bearer(&fleet.staff))
        .await;
    let problem = assert_problem(&unexplained, 400);
    assert_eq!(problem["errors"][0]["field"], "resolution", "{problem}");
    let resolved = patch(json!({"status": "resolved", "resolution": "Brake pads replaced"}))
        .bearer(&fleet.staff)
        .header("If-Match", "\"2\"");
    let resolved = fleet.expect(resolved, StatusCode::OK).await;
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(resolved["resolution"], "Brake pads replaced");
    assert!(resolved["resolvedAt"].is_string());
    let again = patch(json!({"status": "resolved", "resolution": "again"})).bearer(&fleet.staff);
    assert_problem(&fleet.send(again).await, 409);
    assert_eq!(fleet.list(&fleet.staff, "?status=resolved").await.len(), 1);

    // One notice per status change, staged with it; refused changes staged nothing.
    let jobs = staged(&*fleet.store).await;
    let notices: Vec<_> = jobs
        .iter()
        .filter(|job| job.kind == JobKind::IssueStatusChanged)
        .collect();
    assert_eq!(jobs.len() - outbox_before, 2, "{jobs:?}");
    assert_eq!(notices.len(), 2);
    assert!(
        notices
            .iter()
            .all(|job| job.recipient == Recipient::UserId(renter.user_id.clone()))
    );

    // Delivered twice over, they notify and email the reporter once each.
    let mailer = Arc::new(RecordingMailer::new());
    let services = worker(Arc::clone(&fleet.store), mailer.clone());
    for _ in 0..2 {
        let deliveries = notices
            .iter()
            .map(|job| raw_delivery(&job.to_body().unwrap()))
            .collect();
        assert!(process_batch(&services, deliveries).await.is_empty());
    }
    let notified: Vec<_> = notifications_of(&*fleet.store, &renter.user_id)
        .await
        .into_iter()
        .filter(|n| n.kind == NotificationKind::IssueStatusChanged)
        .collect();
    assert_eq!(notified.len(), 2, "{notified:?}");
    assert!(notified.iter().all(|n| n.issue_id.as_deref() == Some(id)));
    let mut titles: Vec<String> = mailer
        .sent()
        .iter()
        .map(|m| m.subject().to_owned())
        .collect();
    titles.sort();
    assert_eq!(
        titles,
        [
            "Issue report in_progress: Toyota Corolla (ISS3)",
            "Issue report resolved: Toyota Corolla (ISS3)"
        ]
    );
    assert!(
        mailer
            .sent()
            .iter()
            .any(|m| m.text_body().contains("Brake pads replaced"))
    );
}

async fn a_critical_report_takes_an_available_car_out_of_service(backend: Backend) {
    let fleet = fleet(&backend);
    let car = fleet.car(4).await;
    let response = fleet.report(&fleet.staff, &car, &issue("critical")).await;
    response.assert_status(StatusCode::CREATED);
    assert_eq!(response.json()["data"]["carAction"], "moved_to_maintenance");
    assert_eq!(fleet.car_status(&car).await, "maintenance");
    let audit = fleet
        .store
        .query(Query::partition(None, format!("AUDIT#car#{car}")))
        .await
        .unwrap();
    assert_eq!(
        audit.items.len(),
        2,
        "the car's creation and its move to maintenance"
    );
    let read = TestRequest::get(format!("/v1/cars/{car}")).bearer(&fleet.staff);
    assert_eq!(fleet.send(read).await.header("etag"), Some("\"2\""));
    // Reserving it is refused now.
    let customer = fleet.customer("hopeful").await;
    let body = json!({"carId": car, "startDate": today(), "endDate": today()});
    let reserve = TestRequest::post("/v1/contracts")
        .header("Idempotency-Key", &uuid::Uuid::new_v4().to_string())
        .bearer(&customer.token)
        .json(&body);
    assert_problem(&fleet.send(reserve).await, 409);

    // In maintenance already, it stays; a retired car stays retired.
    let again = fleet.report(&fleet.staff, &car, &issue("critical")).await;
    assert_eq!(again.json()["data"]["carAction"], "already_in_maintenance");
    let retired = fleet.car(5).await;
    let retire = TestRequest::patch(format!("/v1/cars/{retired}"))
        .bearer(&fleet.staff)
        .json(&json!({"status": "retired"}));
    fleet.expect(retire, StatusCode::OK).await;
    let report = fleet
        .report(&fleet.staff, &retired, &issue("critical"))
        .await;
    assert_eq!(report.json()["data"]["carAction"], "car_retired");
    assert_eq!(fleet.car_status(&retired).await, "retired");
    // A report below critical leaves the car alone.
    let fine = fleet.car(6).await;
    fleet.report(&fleet.staff, &fine, &issue("high")).await;
    assert_eq!(fleet.car_status(&fine).await, "available");
}

async fn a_critical_report_on_a_rented_car_alerts_every_staff_user_once(backend: Backend) {
    let fleet = fleet(&backend);
    let admin = stored_admin(&*fleet.store).await;
    let (car, renter) = fleet.rented_car(7, "driver").await;

    let response = fleet.report(&renter.token, &car, &issue("critical")).await;
    let report = response.created();
    assert_eq!(report["carAction"], "staff_notified");
    assert_eq!(
        fleet.car_status(&car).await,
        "rented",
        "the renter keeps the car"
    );

    let alerts: Vec<_> = staged(&*fleet.store)
        .await
        .into_iter()
        .filter(|job| job.kind == JobKind::CriticalIssueOnRental)
        .collect();
    assert_eq!(alerts.len(), 1, "one stored staff user: {alerts:?}");
    assert_eq!(alerts[0].recipient, Recipient::UserId(admin.id.clone()));
    let mailer = Arc::new(RecordingMailer::new());
    let services = worker(Arc::clone(&fleet.store), mailer.clone());
    for _ in 0..2 {
        let delivery = raw_delivery(&alerts[0].to_body().unwrap());
        assert!(process_batch(&services, vec![delivery]).await.is_empty());
    }
    let notified = notifications_of(&*fleet.store, &admin.id).await;
    assert_eq!(notified.len(), 1, "{notified:?}");
    assert_eq!(notified[0].kind, NotificationKind::CriticalIssueOnRental);
    assert_eq!(notified[0].issue_id.as_deref(), report["id"].as_str());
    assert_eq!(mailer.sent().len(), 1);
}

async fn photos_are_confirmed_onto_a_report_at_most_ten_and_shown_with_download_urls(
    backend: Backend,
) {
    let fleet = fleet(&backend);
    let (car, renter) = fleet.rented_car(8, "photographer").await;
    let report = fleet
        .report(&renter.token, &car, &issue("high"))
        .await
        .json()["data"]
        .clone();
    let id = report["id"].as_str().unwrap().to_owned();
    assert_eq!(report["photos"], json!([]));

    // A type or size outside the rules is refused and records nothing.
    let gif = json!({"contentType": "image/gif", "size": 100});
    let problem = assert_problem(&fleet.start_photo(&renter.token, &id, &gif).await, 400);
    assert_eq!(problem["errors"][0]["field"], "contentType", "{problem}");
    let pdf = json!({"contentType": "application/pdf", "size": 100});
    assert_problem(&fleet.start_photo(&renter.token, &id, &pdf).await, 400);
    let huge = json!({"contentType": "image/png", "size": 10 * 1024 * 1024 + 1});
    let problem = assert_problem(&fleet.start_photo(&renter.token, &id, &huge).await, 400);
    assert_eq!(problem["errors"][0]["field"], "size", "{problem}");
    assert_eq!(fleet.partition_of(&id).await, 1, "the report alone");
    // Nobody but the reporter and staff adds photos; anyone else is told there is no report.
    let stranger = fleet.customer("onlooker").await;
    let jpeg = json!({"contentType": "image/jpeg", "size": 3});
    assert_problem(&fleet.start_photo(&stranger.token, &id, &jpeg).await, 404);

    // The reporter's photo: uploaded, confirmed, then shown with a URL that serves it.
    let upload = fleet
        .upload_photo(&renter.token, &id, b"\xff\xd8\xffone")
        .await;
    let confirmed = fleet.confirm_photo(&renter.token, &id, &upload).await;
    confirmed.assert_status(StatusCode::OK);
    let photos = confirmed.json()["data"]["photos"].clone();
    assert_eq!(photos.as_array().unwrap().len(), 1);
    assert_eq!(photos[0]["id"], upload.as_str());
    assert_eq!(photos[0]["contentType"], "image/jpeg");
    assert_eq!(confirmed.header("etag"), Some("\"2\""));
    let again = fleet.confirm_photo(&renter.token, &id, &upload).await;
    assert_problem(&again, 404);
    let read = TestRequest::get(format!("/v1/issues/{id}")).bearer(&renter.token);
    let shown = fleet.expect(read, StatusCode::OK).await;
    let url = shown["photos"][0]["url"].as_str().unwrap();
    assert_eq!(
        download_from(&fleet.blobs, url).await.unwrap(),
        b"\xff\xd8\xffone"
    );
    assert!(shown["photos"][0]["expiresAt"].is_string());
    // An upload never confirmed is not shown.
    fleet.upload_photo(&renter.token, &id, b"pending").await;
    let read = TestRequest::get(format!("/v1/issues/{id}")).bearer(&fleet.staff);
    assert_eq!(
        fleet.expect(read, StatusCode::OK).await["photos"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Staff fill it to nine; two confirms racing for the tenth: exactly one is recorded.
    for n in 2..=9u8 {
        let upload = fleet.upload_photo(&fleet.staff, &id, &[n; 16]).await;
        let confirmed = fleet.confirm_photo(&fleet.staff, &id, &upload).await;
        confirmed.assert_status(StatusCode::OK);
    }
    let tenth = fleet.upload_photo(&fleet.staff, &id, b"tenth").await;
    let eleventh = fleet.upload_photo(&renter.token, &id, b"eleventh").await;
    let (a, b) = tokio::join!(
        fleet.confirm_photo(&fleet.staff, &id, &tenth),
        fleet.confirm_photo(&renter.token, &id, &eleventh),
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{:?} {:?}", a.json(), b.json());
    let read = TestRequest::get(format!("/v1/issues/{id}")).bearer(&fleet.staff);
    let full = fleet.expect(read, StatusCode::OK).await;
    assert_eq!(full["photos"].as_array().unwrap().len(), 10);
    // The eleventh is refused from the start now.
    let refused = fleet.start_photo(&renter.token, &id, &jpeg).await;
    let problem = assert_problem(&refused, 409);
    assert!(
        problem["detail"].as_str().unwrap().contains("10 photos"),
        "{problem}"
    );
    // Lists show the photos without URLs.
    let listed = fleet.list(&renter.token, "").await;
    assert_eq!(listed[0]["photos"].as_array().unwrap().len(), 10);
    assert!(listed[0]["photos"][0].get("url").is_none());
}

on_both_families!(
    photos_are_confirmed_onto_a_report_at_most_ten_and_shown_with_download_urls,
    a_customer_reports_only_on_a_car_they_rent_or_rented,
    staff_triage_moves_forward_and_tells_the_reporter_once_per_status,
    a_critical_report_takes_an_available_car_out_of_service,
    a_critical_report_on_a_rented_car_alerts_every_staff_user_once,
);
