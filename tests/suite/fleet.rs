//! A car's papers (insurance policies and registrations) and service history through the API, on
//! both store families: the records and their rules, the fleet's expiring papers by index, the
//! car held in maintenance without current papers, and service records that raise the car's
//! mileage without ever lowering it under concurrency.

use std::sync::Arc;

use chrono::TimeDelta;
use http::StatusCode;
use itinera::calendar::Day;
use itinera::cars::{CarId, Mileage, get_car};
use itinera::clock::{Clock, UuidV7Ids};
use itinera::fleet::{
    Garage, NewServiceRecord, ServiceDescription, record_service, service_history,
};
use itinera::identity::Role;
use itinera::money::{Currency, Money};
use itinera::pagination::PageLimit;
use itinera::storage::{Query, Store, query_all};
use itinera_http::Api;
use itinera_tests::{
    Backend, SettableClock, TestRequest, TestResponse, api_with_clock, context_of, principal, send,
    token_for,
};
use serde_json::{Value, json};
use tokio::sync::Barrier;

use crate::airports::assert_problem;
use crate::cars::{car_body, vin};

/// An API over a backend's store, with a clock the test reads "today" from, called as staff.
pub(crate) struct Fleet {
    pub(crate) api: Arc<Api>,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<SettableClock>,
    pub(crate) staff: String,
}

impl Fleet {
    pub(crate) fn over(backend: &Backend) -> Self {
        let clock = Arc::new(SettableClock::now());
        Self {
            api: Arc::new(api_with_clock(Arc::clone(&backend.store), clock.clone())),
            store: Arc::clone(&backend.store),
            clock,
            staff: token_for(Role::Staff),
        }
    }

    pub(crate) async fn send(&self, request: TestRequest) -> TestResponse {
        send(&self.api, request.bearer(&self.staff)).await
    }

    /// The day `days` from the clock's today, as the API writes it.
    pub(crate) fn day(&self, days: i64) -> String {
        Day::today(self.clock.now() + TimeDelta::days(days)).to_string()
    }

    /// A new car (its plate and VIN numbered `n`); its id.
    pub(crate) async fn car(&self, n: u32) -> String {
        let body = car_body(&format!("FLEET{n}"), &vin(n));
        let response = self.send(TestRequest::post("/v1/cars").json(&body)).await;
        response.assert_status(StatusCode::CREATED);
        response.json()["data"]["id"].as_str().unwrap().to_owned()
    }

    /// Adds a paper of `collection` (`insurance` or `registrations`) to `car`, valid from `from`
    /// to `to` days from today; the paper.
    pub(crate) async fn paper(&self, car: &str, collection: &str, from: i64, to: i64) -> Value {
        let body = paper_body(collection, &self.day(from), &self.day(to));
        let response = self
            .send(TestRequest::post(format!("/v1/cars/{car}/{collection}")).json(&body))
            .await;
        response.created()
    }

    /// Every audit action recorded for `kind` `id`, oldest first, read from the store.
    pub(crate) async fn audit_actions(&self, kind: &str, id: &str) -> Vec<String> {
        let query = Query::partition(None, format!("AUDIT#{kind}#{id}"));
        query_all(&*self.store, query)
            .await
            .unwrap()
            .iter()
            .map(|entry| entry["action"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// The body of a new paper of `collection` valid `from` to `to`.
fn paper_body(collection: &str, from: &str, to: &str) -> Value {
    match collection {
        "insurance" => json!({
            "provider": "Allianz",
            "policyNumber": "AZ-1",
            "coverage": "comprehensive",
            "validFrom": from,
            "validTo": to,
        }),
        _ => json!({
            "authority": "DVLA",
            "registrationNumber": "KA01AB1234",
            "validFrom": from,
            "validTo": to,
        }),
    }
}

/// The `data` of a list answer.
fn items(response: &TestResponse) -> Vec<Value> {
    response.assert_status(StatusCode::OK);
    response.json()["data"].as_array().unwrap().clone()
}

/// Create, list, read, change under `If-Match`, delete: one kind of paper, audited.
async fn a_papers_life(backend: Backend, collection: &str, kind: &str) {
    let fleet = Fleet::over(&backend);
    let car = fleet.car(1).await;
    let base = format!("/v1/cars/{car}/{collection}");
    let created = fleet
        .send(TestRequest::post(&base).json(&paper_body(collection, "2026-01-01", "2026-12-31")))
        .await;
    created.assert_status(StatusCode::CREATED);
    assert_eq!(created.header("etag"), Some("\"1\""));
    let paper = created.json()["data"].clone();
    let id = paper["id"].as_str().unwrap();
    assert_eq!(
        created.header("location"),
        Some(format!("{base}/{id}").as_str())
    );
    assert_eq!(
        (&paper["carId"], &paper["validTo"]),
        (&json!(car), &json!("2026-12-31"))
    );
    let newer = fleet.paper(&car, collection, 0, 365).await;
    let listed = items(&fleet.send(TestRequest::get(&base)).await);
    assert_eq!(listed, [newer.clone(), paper.clone()], "newest first");
    let read = fleet.send(TestRequest::get(format!("{base}/{id}"))).await;
    assert_eq!(
        (read.status, read.header("etag")),
        (StatusCode::OK, Some("\"1\""))
    );
    assert_eq!(read.json()["data"], paper);

    let patch = |body: Value| TestRequest::patch(format!("{base}/{id}")).json(&body);
    let inverted = fleet.send(patch(json!({"validTo": "2025-06-30"}))).await;
    let problem = assert_problem(&inverted, 400);
    assert_eq!(problem["errors"][0]["field"], "validTo");
    let changed = fleet
        .send(patch(json!({"validTo": "2027-01-31"})).header("if-match", "\"1\""))
        .await;
    changed.assert_status(StatusCode::OK);
    assert_eq!(changed.header("etag"), Some("\"2\""));
    assert_eq!(changed.json()["data"]["validTo"], "2027-01-31");
    let stale = fleet
        .send(patch(json!({"validFrom": "2026-02-01"})).header("if-match", "\"1\""))
        .await;
    assert_problem(&stale, 412);
    let removed = fleet
        .send(TestRequest::delete(format!("{base}/{id}")).header("if-match", "\"2\""))
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    assert_problem(
        &fleet.send(TestRequest::get(format!("{base}/{id}"))).await,
        404,
    );
    assert_eq!(
        fleet.audit_actions(kind, id).await,
        ["create", "update", "delete"]
    );
}

async fn insurance_is_created_listed_changed_and_deleted(backend: Backend) {
    a_papers_life(backend, "insurance", "insurance").await;
}

async fn registrations_are_created_listed_changed_and_deleted(backend: Backend) {
    a_papers_life(backend, "registrations", "registration").await;
}

async fn a_paper_needs_a_car_and_a_last_day_after_its_first(backend: Backend) {
    let fleet = Fleet::over(&backend);
    let car = fleet.car(2).await;
    for collection in ["insurance", "registrations"] {
        let nobody = CarId::from(uuid::Uuid::now_v7());
        let body = paper_body(collection, "2026-01-01", "2026-12-31");
        let missing = fleet
            .send(TestRequest::post(format!("/v1/cars/{nobody}/{collection}")).json(&body))
            .await;
        assert_problem(&missing, 404);
        assert_problem(
            &fleet
                .send(TestRequest::get(format!("/v1/cars/{nobody}/{collection}")))
                .await,
            404,
        );
        for to in ["2026-01-01", "2025-12-31"] {
            let body = paper_body(collection, "2026-01-01", to);
            let refused = fleet
                .send(TestRequest::post(format!("/v1/cars/{car}/{collection}")).json(&body))
                .await;
            let problem = assert_problem(&refused, 400);
            assert_eq!(problem["errors"][0]["field"], "validTo");
        }
        let none = fleet
            .send(TestRequest::get(format!("/v1/cars/{car}/{collection}")))
            .await;
        assert!(items(&none).is_empty(), "nothing was recorded");
        let customer = fleet
            .send(
                TestRequest::get(format!("/v1/cars/{car}/{collection}"))
                    .bearer(&token_for(Role::Customer)),
            )
            .await;
        assert_problem(&customer, 403);
    }
}

async fn the_fleets_expiring_papers_are_the_window_from_today_soonest_first(backend: Backend) {
    let fleet = Fleet::over(&backend);
    let (first, second) = (fleet.car(3).await, fleet.car(4).await);
    for collection in ["insurance", "registrations"] {
        // Expired yesterday, today, in 5, 30 and 31 days, on two cars.
        let yesterday = fleet.paper(&first, collection, -300, -1).await;
        let today = fleet.paper(&second, collection, -300, 0).await;
        let in_30 = fleet.paper(&first, collection, -10, 30).await;
        let in_5 = fleet.paper(&second, collection, -10, 5).await;
        let in_31 = fleet.paper(&first, collection, 1, 31).await;
        let window = |days: &str| format!("/v1/{collection}?expiringWithinDays={days}");
        let ids = |papers: &[Value]| -> Vec<Value> {
            papers.iter().map(|paper| paper["id"].clone()).collect()
        };
        let listed = items(&fleet.send(TestRequest::get(window("30"))).await);
        assert_eq!(
            ids(&listed),
            ids(&[today.clone(), in_5.clone(), in_30.clone()])
        );
        assert!(!ids(&listed).contains(&yesterday["id"]) && !ids(&listed).contains(&in_31["id"]));
        let mut paged = Vec::new();
        let mut target = format!("{}&limit=1", window("31"));
        loop {
            let response = fleet.send(TestRequest::get(&target)).await;
            paged.extend(items(&response));
            match response.json()["pagination"]["nextCursor"].as_str() {
                Some(cursor) => target = format!("{}&limit=1&cursor={cursor}", window("31")),
                None => break,
            }
        }
        assert_eq!(ids(&paged), ids(&[today, in_5, in_30, in_31]));
        for invalid in ["0", "366", "soon"] {
            let problem = assert_problem(&fleet.send(TestRequest::get(window(invalid))).await, 400);
            assert_eq!(problem["errors"][0]["field"], "expiringWithinDays");
        }
        assert_problem(
            &fleet
                .send(TestRequest::get(format!("/v1/{collection}")))
                .await,
            400,
        );
    }
}

async fn a_car_leaves_maintenance_only_with_a_current_insurance_and_registration(backend: Backend) {
    let fleet = Fleet::over(&backend);
    let car = fleet.car(5).await;
    let status = |status: &str| {
        TestRequest::patch(format!("/v1/cars/{car}")).json(&json!({ "status": status }))
    };
    let to_maintenance = fleet.send(status("maintenance")).await;
    assert_eq!(to_maintenance.status, StatusCode::OK);
    let detail = |response: &TestResponse| {
        assert_problem(response, 409)["detail"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let none = detail(&fleet.send(status("available")).await);
    assert!(
        none.contains("no insurance valid today") && none.contains("no registration valid today"),
        "{none}"
    );
    fleet.paper(&car, "insurance", -30, 0).await;
    fleet.paper(&car, "registrations", -400, -2).await;
    let expired = detail(&fleet.send(status("available")).await);
    assert!(!expired.contains("insurance"), "{expired}");
    assert!(
        expired.contains(&format!("its registration expired on {}", fleet.day(-2))),
        "{expired}"
    );
    fleet.paper(&car, "registrations", 1, 365).await;
    let later = detail(&fleet.send(status("available")).await);
    assert!(later.contains("no registration valid today"), "{later}");
    let renewed = fleet.paper(&car, "registrations", -1, 364).await;
    let back = fleet.send(status("available")).await;
    back.assert_status(StatusCode::OK);
    assert_eq!(back.json()["data"]["status"], "available");
    // The rule is about leaving maintenance: an available car stays free to change otherwise.
    let id = renewed["id"].as_str().unwrap();
    let gone = fleet
        .send(TestRequest::delete(format!(
            "/v1/cars/{car}/registrations/{id}"
        )))
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let mileage = fleet
        .send(TestRequest::patch(format!("/v1/cars/{car}")).json(&json!({"mileage": 12_500})))
        .await;
    assert_eq!(mileage.status, StatusCode::OK);
}

/// A service record's body at `mileage` on `date`.
fn service_body(date: &str, mileage: u32) -> Value {
    json!({
        "date": date,
        "mileage": mileage,
        "description": "Oil and filter change",
        "cost": {"amount": 12_500, "currency": "EUR"},
        "garage": "Garage Nord",
    })
}

async fn service_records_come_newest_first_and_raise_the_cars_mileage(backend: Backend) {
    let fleet = Fleet::over(&backend);
    let car = fleet.car(6).await;
    let base = format!("/v1/cars/{car}/service-records");
    let mut created = Vec::new();
    for (date, mileage) in [
        ("2026-03-01", 11_000),
        ("2026-09-01", 14_000),
        ("2026-06-01", 13_000),
    ] {
        let response = fleet
            .send(TestRequest::post(&base).json(&service_body(date, mileage)))
            .await;
        response.assert_status(StatusCode::CREATED);
        assert_eq!(response.header("location"), Some(base.as_str()));
        created.push(response.json()["data"].clone());
    }
    assert_eq!(
        created[0]["cost"],
        json!({"amount": 12_500, "currency": "EUR"})
    );
    let history = items(&fleet.send(TestRequest::get(&base)).await);
    let dates: Vec<&Value> = history.iter().map(|record| &record["date"]).collect();
    assert_eq!(dates, ["2026-09-01", "2026-06-01", "2026-03-01"]);
    let read = fleet
        .send(TestRequest::get(format!("/v1/cars/{car}")))
        .await;
    assert_eq!(
        read.json()["data"]["mileage"],
        14_000,
        "raised, never lowered"
    );
    assert_eq!(read.header("etag"), Some("\"2\""), "one raise, one version");
    assert_eq!(fleet.audit_actions("car", &car).await, ["create", "update"]);
    let record_id = created[1]["id"].as_str().unwrap();
    assert_eq!(
        fleet.audit_actions("service-record", record_id).await,
        ["create"]
    );
    let invalid = fleet
        .send(TestRequest::post(&base).json(&json!({
            "date": "2026-13-01", "mileage": -1, "description": " ",
            "cost": {"amount": -5, "currency": "EUR"}, "garage": "G",
        })))
        .await;
    let problem = assert_problem(&invalid, 400);
    assert_eq!(problem["errors"].as_array().unwrap().len(), 4);
    let nobody = CarId::from(uuid::Uuid::now_v7());
    let missing = fleet
        .send(
            TestRequest::post(format!("/v1/cars/{nobody}/service-records"))
                .json(&service_body("2026-01-01", 1)),
        )
        .await;
    assert_problem(&missing, 404);
    assert_eq!(items(&fleet.send(TestRequest::get(&base)).await).len(), 3);
}

async fn concurrent_service_records_and_mileage_changes_never_lower_the_mileage(backend: Backend) {
    let fleet = Fleet::over(&backend);
    let car = CarId::parse(&fleet.car(7).await).unwrap();
    let staff = principal(Role::Staff);
    let barrier = Arc::new(Barrier::new(16));
    let mut tasks = Vec::new();
    for n in 0..16u32 {
        let (store, barrier, context, car) = (
            Arc::clone(&fleet.store),
            Arc::clone(&barrier),
            context_of(&staff),
            car.clone(),
        );
        let api = (n % 4 == 3).then(|| Arc::clone(&fleet.api));
        let token = fleet.staff.clone();
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let mileage = 12_100 + n * 100;
            match api {
                // Every fourth task sets the car's mileage through the API as a pickup would.
                Some(api) => {
                    let response = send(
                        &api,
                        TestRequest::patch(format!("/v1/cars/{car}"))
                            .json(&json!({ "mileage": mileage }))
                            .bearer(&token),
                    )
                    .await;
                    assert!(
                        matches!(response.status.as_u16(), 200 | 409),
                        "{:?}",
                        response.json()
                    );
                    (response.status == StatusCode::OK).then_some(mileage)
                }
                None => {
                    let new = NewServiceRecord {
                        car_id: car,
                        date: Day::parse("2026-11-01").unwrap(),
                        mileage: Mileage::try_from(i64::from(mileage)).unwrap(),
                        description: ServiceDescription::parse("Inspection").unwrap(),
                        cost: Money::new(5_000, Currency::parse("EUR").unwrap()).unwrap(),
                        garage: Garage::parse("Garage Nord").unwrap(),
                    };
                    let clock = itinera::clock::SystemClock;
                    match record_service(&*store, &clock, &UuidV7Ids, &context, new).await {
                        Ok(_) => Some(mileage),
                        Err(itinera::error::DomainError::Conflict { .. }) => None,
                        Err(other) => panic!("a record failed otherwise: {other:?}"),
                    }
                }
            }
        }));
    }
    let mut committed = Vec::new();
    for task in tasks {
        committed.extend(task.await.unwrap());
    }
    let history = service_history(&*fleet.store, &car, PageLimit::try_from(100).unwrap(), None)
        .await
        .unwrap();
    let records = history.items.len();
    assert!(records > 0, "some records committed");
    // Whatever order they committed in, the car ends at the highest reading that committed: a
    // record or a change that committed after a higher one never lowered it.
    let stored = get_car(&*fleet.store, &car).await.unwrap();
    assert_eq!(Some(stored.mileage.get()), committed.iter().copied().max());
    assert!(
        history
            .items
            .iter()
            .all(|record| record.mileage <= stored.mileage)
    );
}

on_both_families!(
    insurance_is_created_listed_changed_and_deleted,
    registrations_are_created_listed_changed_and_deleted,
    a_paper_needs_a_car_and_a_last_day_after_its_first,
    the_fleets_expiring_papers_are_the_window_from_today_soonest_first,
    a_car_leaves_maintenance_only_with_a_current_insurance_and_registration,
    service_records_come_newest_first_and_raise_the_cars_mileage,
    concurrent_service_records_and_mileage_changes_never_lower_the_mileage,
);
