//! Black-box tests of the car API through the router, and the proof that plates and VINs stay
//! unique under concurrent creates on both store families.

use std::sync::Arc;

use chrono::Datelike;
use http::StatusCode;
use itinera::cars::{
    CarCategory, CarChanges, CarModel, DailyRate, LicencePlate, Manufacturer, Mileage, ModelYear,
    NewCar, Vin, car_with_plate, create_car, update_car,
};
use itinera::clock::{SystemClock, UuidV7Ids};
use itinera::error::DomainError;
use itinera::identity::Role;
use itinera::money::{Currency, Money};
use itinera::storage::{Key, Store, Update};
use itinera::version::Precondition;
use itinera_tests::faults::{Call, Fault, FaultKind, FaultyStore};
use itinera_tests::{Backend, TestApp, TestRequest, context_of, principal, spawn_app, token_for};
use serde_json::{Value, json};
use tokio::sync::Barrier;

use crate::airports::{assert_problem, audit_actions, error_fields};

pub(crate) use itinera_tests::car_body;

/// A VIN that differs from the others by `n`.
pub(crate) fn vin(n: u32) -> String {
    format!("1HGCM82633A{n:06}")
}

/// Creates a car as staff and returns its JSON.
pub(crate) async fn create(app: &TestApp, body: &Value) -> Value {
    let response = app.send(TestRequest::post("/v1/cars").json(body)).await;
    response.created()
}

/// Sets the count of contracts that name a car, as a contract's reservation would.
async fn count_contracts(store: &dyn Store, id: &str, contracts: i64) {
    let mut update = Update::new(Key::new(format!("CAR#{id}"), "CAR"));
    update.add.push(("contractCount".into(), contracts));
    store.update(update).await.unwrap();
}

#[tokio::test]
async fn create_answers_201_with_the_normalized_car_available() {
    let app = spawn_app();
    let response = app
        .send(
            TestRequest::post("/v1/cars").json(&car_body(" ka-01 ab 1234 ", " 1hgcm82633a004352")),
        )
        .await;
    response.assert_status(StatusCode::CREATED);
    assert_eq!(response.header("etag"), Some("\"1\""));
    let car = response.json()["data"].clone();
    let id = car["id"].as_str().unwrap();
    assert_eq!(
        response.header("location"),
        Some(format!("/v1/cars/{id}").as_str())
    );
    assert_eq!(car["licensePlate"], "KA01AB1234");
    assert_eq!(car["vin"], "1HGCM82633A004352");
    assert_eq!(car["status"], "available");
    assert_eq!(car["dailyRate"], json!({"amount": 4500, "currency": "EUR"}));
    assert!(car.get("version").is_none() && car.get("contractCount").is_none());

    let fetched = app.send(TestRequest::get(format!("/v1/cars/{id}"))).await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.header("etag"), Some("\"1\""));
    assert_eq!(fetched.json()["data"], car);
}

#[tokio::test]
async fn create_refuses_every_invalid_field_at_once() {
    let app = spawn_app();
    let next_year_but_one = chrono::Utc::now().year() + 2;
    let body = json!({
        "licensePlate": "AB_12",
        "vin": "1HGCM82633A00435I",
        "manufacturer": " ",
        "model": "x".repeat(65),
        "year": next_year_but_one,
        "category": "truck",
        "dailyRate": {"amount": 0, "currency": "EUR"},
        "mileage": 2_000_001,
    });
    let response = app.send(TestRequest::post("/v1/cars").json(&body)).await;
    let problem = assert_problem(&response, 400);
    let mut fields = error_fields(&problem);
    fields.sort();
    assert_eq!(
        fields,
        [
            "category",
            "dailyRate",
            "licensePlate",
            "manufacturer",
            "mileage",
            "model",
            "vin",
            "year"
        ]
    );
    let unknown = app
        .send(TestRequest::post("/v1/cars").json(&json!({"status": "rented"})))
        .await;
    assert_problem(&unknown, 400);
    let this_year_and_next = [chrono::Utc::now().year(), chrono::Utc::now().year() + 1];
    for (n, year) in this_year_and_next.into_iter().enumerate() {
        let mut body = car_body(&format!("YR{n}"), &vin(900 + n as u32));
        body["year"] = json!(year);
        create(&app, &body).await;
    }
}

#[tokio::test]
async fn a_taken_plate_or_vin_is_a_409_naming_it() {
    let app = spawn_app();
    create(&app, &car_body("AB-12 CD", &vin(1))).await;
    let same_plate = app
        .send(TestRequest::post("/v1/cars").json(&car_body("ab12cd", &vin(2))))
        .await;
    let problem = assert_problem(&same_plate, 409);
    assert!(
        problem["detail"].as_str().unwrap().contains("AB12CD"),
        "{problem}"
    );
    let same_vin = app
        .send(TestRequest::post("/v1/cars").json(&car_body("XY99", &vin(1))))
        .await;
    let problem = assert_problem(&same_vin, 409);
    assert!(
        problem["detail"].as_str().unwrap().contains(&vin(1)),
        "{problem}"
    );
}

#[tokio::test]
async fn a_plate_change_claims_the_new_plate_and_frees_the_old_one() {
    let app = spawn_app();
    let car = create(&app, &car_body("OLD1", &vin(1))).await;
    create(&app, &car_body("TAKEN1", &vin(2))).await;
    let id = car["id"].as_str().unwrap();
    let taken = app
        .send(
            TestRequest::patch(format!("/v1/cars/{id}")).json(&json!({"licensePlate": "taken-1"})),
        )
        .await;
    let problem = assert_problem(&taken, 409);
    assert!(problem["detail"].as_str().unwrap().contains("TAKEN1"));

    let moved = app
        .send(
            TestRequest::patch(format!("/v1/cars/{id}"))
                .header("if-match", "\"1\"")
                .json(&json!({"licensePlate": "new 1"})),
        )
        .await;
    moved.assert_status(StatusCode::OK);
    assert_eq!(moved.header("etag"), Some("\"2\""));
    assert_eq!(moved.json()["data"]["licensePlate"], "NEW1");
    // The old plate is free for another car, the new one is not.
    create(&app, &car_body("OLD1", &vin(3))).await;
    let again = app
        .send(TestRequest::post("/v1/cars").json(&car_body("NEW1", &vin(4))))
        .await;
    assert_problem(&again, 409);
}

#[tokio::test]
async fn an_update_keeps_the_rules_of_status_and_mileage() {
    let app = spawn_app();
    let car = create(&app, &car_body("RULES1", &vin(1))).await;
    let target = format!("/v1/cars/{}", car["id"].as_str().unwrap());
    let patch = |body: Value| TestRequest::patch(&target).json(&body);

    let rented = app.send(patch(json!({"status": "rented"}))).await;
    assert_eq!(error_fields(&assert_problem(&rented, 400)), ["status"]);
    let lower = app.send(patch(json!({"mileage": 11_999}))).await;
    assert!(
        assert_problem(&lower, 409)["detail"]
            .as_str()
            .unwrap()
            .contains("12000")
    );
    let vin_change = app.send(patch(json!({"vin": vin(9)}))).await;
    assert_problem(&vin_change, 400);
    let empty = app.send(patch(json!({}))).await;
    assert_problem(&empty, 400);

    let changed = app
        .send(patch(json!({
            "status": "maintenance",
            "mileage": "15250",
            "category": "suv",
            "dailyRate": {"amount": 6000, "currency": "EUR"},
        })))
        .await;
    changed.assert_status(StatusCode::OK);
    let data = &changed.json()["data"];
    assert_eq!(
        (
            &data["status"],
            &data["mileage"],
            &data["category"],
            &data["dailyRate"]["amount"]
        ),
        (
            &json!("maintenance"),
            &json!(15250),
            &json!("suv"),
            &json!(6000)
        )
    );
    let stale = app
        .send(patch(json!({"status": "available"})).header("if-match", "\"1\""))
        .await;
    assert_problem(&stale, 412);
    let missing = app
        .send(
            TestRequest::patch("/v1/cars/0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f")
                .json(&json!({"mileage": 1})),
        )
        .await;
    assert_problem(&missing, 404);
}

#[tokio::test]
async fn a_rented_car_changes_status_only_through_its_contract() {
    let app = spawn_app();
    let car = create(&app, &car_body("RENT1", &vin(1))).await;
    let id = car["id"].as_str().unwrap();
    let mut update = Update::new(Key::new(format!("CAR#{id}"), "CAR"));
    update.set.push(("status".into(), json!("rented")));
    app.store.update(update).await.unwrap();
    let response = app
        .send(TestRequest::patch(format!("/v1/cars/{id}")).json(&json!({"status": "available"})))
        .await;
    assert_problem(&response, 409);
    let mileage = app
        .send(TestRequest::patch(format!("/v1/cars/{id}")).json(&json!({"mileage": 13_000})))
        .await;
    assert_eq!(
        mileage.status,
        StatusCode::OK,
        "mileage is still recorded while rented"
    );
}

#[tokio::test]
async fn delete_frees_plate_and_vin_and_is_refused_while_contracts_name_the_car() {
    let app = spawn_app();
    let car = create(&app, &car_body("DEL1", &vin(1))).await;
    let id = car["id"].as_str().unwrap();
    count_contracts(&*app.store, id, 1).await;
    let refused = app
        .send(TestRequest::delete(format!("/v1/cars/{id}")))
        .await;
    assert!(
        assert_problem(&refused, 409)["detail"]
            .as_str()
            .unwrap()
            .contains("retire")
    );
    count_contracts(&*app.store, id, -1).await;

    let stale = app
        .send(TestRequest::delete(format!("/v1/cars/{id}")).header("if-match", "\"5\""))
        .await;
    assert_problem(&stale, 412);
    let deleted = app
        .send(TestRequest::delete(format!("/v1/cars/{id}")).header("if-match", "\"1\""))
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_problem(
        &app.send(TestRequest::get(format!("/v1/cars/{id}"))).await,
        404,
    );
    assert_problem(
        &app.send(TestRequest::delete(format!("/v1/cars/{id}")))
            .await,
        404,
    );
    create(&app, &car_body("DEL1", &vin(1))).await;
    assert_eq!(audit_actions(&app, "car", id).await, ["delete", "create"]);
}

/// The plates of every car a list target gives, following cursors.
async fn plates(app: &TestApp, target: &str) -> Vec<String> {
    let mut plates = Vec::new();
    let mut next = format!("{target}&limit=2");
    loop {
        let response = app.send(TestRequest::get(&next)).await;
        response.assert_status(StatusCode::OK);
        let body = response.json();
        plates.extend(
            body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|car| car["licensePlate"].as_str().unwrap().to_owned()),
        );
        match body["pagination"]["nextCursor"].as_str() {
            Some(cursor) => next = format!("{target}&limit=2&cursor={cursor}"),
            None => return plates,
        }
    }
}

#[tokio::test]
async fn the_list_filters_by_status_manufacturer_and_category_page_by_page() {
    let app = spawn_app();
    let cars = [
        ("L1", "Toyota", "compact"),
        ("L2", "toyota", "suv"),
        ("L3", "Honda", "suv"),
        ("L4", "TOYOTA", "compact"),
        ("L5", "Honda", "economy"),
    ];
    for (n, (plate, manufacturer, category)) in cars.into_iter().enumerate() {
        let mut body = car_body(plate, &vin(n as u32));
        body["manufacturer"] = json!(manufacturer);
        body["category"] = json!(category);
        create(&app, &body).await;
    }
    let l2 = app
        .send(TestRequest::get(
            "/v1/cars?category=suv&manufacturer=Toyota",
        ))
        .await;
    let id = l2.json()["data"][0]["id"].as_str().unwrap().to_owned();
    let retire = app
        .send(TestRequest::patch(format!("/v1/cars/{id}")).json(&json!({"status": "retired"})))
        .await;
    assert_eq!(retire.status, StatusCode::OK);

    assert_eq!(
        plates(&app, "/v1/cars?manufacturer=toyota").await,
        ["L4", "L2", "L1"]
    );
    assert_eq!(plates(&app, "/v1/cars?category=suv").await, ["L3", "L2"]);
    assert_eq!(plates(&app, "/v1/cars?status=retired").await, ["L2"]);
    assert_eq!(
        plates(&app, "/v1/cars?status=available").await,
        ["L5", "L4", "L3", "L1"]
    );
    assert_eq!(
        plates(&app, "/v1/cars?status=available&manufacturer=TOYOTA").await,
        ["L4", "L1"]
    );
    assert_eq!(
        plates(&app, "/v1/cars?status=available&category=suv").await,
        ["L3"]
    );
    // The whole fleet: by category, then newest first.
    assert_eq!(
        plates(&app, "/v1/cars?").await,
        ["L3", "L2", "L5", "L4", "L1"]
    );

    let bad = app
        .send(TestRequest::get("/v1/cars?status=lost&category=truck"))
        .await;
    let mut fields = error_fields(&assert_problem(&bad, 400));
    fields.sort();
    assert_eq!(fields, ["category", "status"]);
    let first = app
        .send(TestRequest::get("/v1/cars?category=suv&limit=1"))
        .await;
    let cursor = first.json()["pagination"]["nextCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let other_filter = app
        .send(TestRequest::get(format!(
            "/v1/cars?category=van&limit=1&cursor={cursor}"
        )))
        .await;
    assert_problem(&other_filter, 400);
}

#[tokio::test]
async fn customers_and_anonymous_callers_cannot_reach_the_fleet() {
    let app = spawn_app();
    let car = create(&app, &car_body("PRIV1", &vin(1))).await;
    let target = format!("/v1/cars/{}", car["id"].as_str().unwrap());
    let as_customer = app
        .send(TestRequest::get(&target).bearer(&token_for(Role::Customer)))
        .await;
    assert_problem(&as_customer, 403);
    let anonymous = app.send(TestRequest::get(&target).anonymous()).await;
    assert_problem(&anonymous, 401);
}

/// A new car with `plate` and `vin`.
fn new_car(plate: &str, vin: &str) -> NewCar {
    NewCar {
        license_plate: LicencePlate::parse(plate).unwrap(),
        vin: Vin::parse(vin).unwrap(),
        manufacturer: Manufacturer::parse("Skoda").unwrap(),
        model: CarModel::parse("Octavia").unwrap(),
        year: ModelYear::try_from(2025).unwrap(),
        category: CarCategory::Midsize,
        daily_rate: DailyRate::new(Money::new(5_000, Currency::parse("EUR").unwrap()).unwrap())
            .unwrap(),
        mileage: Mileage::try_from(0).unwrap(),
    }
}

/// Creates the cars `cars` describes all at once, released together by a barrier, and answers
/// how many were created and the refusals of the others.
async fn create_together(store: &Arc<dyn Store>, cars: Vec<NewCar>) -> (usize, Vec<String>) {
    let barrier = Arc::new(Barrier::new(cars.len()));
    let staff = principal(Role::Staff);
    let tasks: Vec<_> = cars
        .into_iter()
        .map(|car| {
            let (store, barrier, context) =
                (Arc::clone(store), Arc::clone(&barrier), context_of(&staff));
            tokio::spawn(async move {
                barrier.wait().await;
                create_car(&*store, &SystemClock, &UuidV7Ids, &context, car).await
            })
        })
        .collect();
    let (mut created, mut refusals) = (0, Vec::new());
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => created += 1,
            Err(DomainError::Conflict { detail }) => refusals.push(detail),
            Err(other) => panic!("a create failed otherwise: {other:?}"),
        }
    }
    (created, refusals)
}

/// Every car of the fleet (the tests' fleets fit one page).
async fn all_cars(store: &Arc<dyn Store>) -> Vec<itinera::cars::Car> {
    let filter = itinera::cars::CarFilter::default();
    let limit = itinera::pagination::PageLimit::try_from(100).unwrap();
    let page = itinera::cars::list_cars(&**store, &filter, limit, None)
        .await
        .unwrap();
    assert!(page.next.is_none());
    page.items
}

/// The number of cars in the fleet.
async fn fleet_size(store: &Arc<dyn Store>) -> usize {
    all_cars(store).await.len()
}

async fn twenty_concurrent_creates_with_one_plate_make_one_car(backend: Backend) {
    let cars = (0..20).map(|n| new_car("B-RACE 1", &vin(n))).collect();
    let (created, refusals) = create_together(&backend.store, cars).await;
    assert_eq!(created, 1);
    assert_eq!(refusals.len(), 19);
    assert!(
        refusals.iter().all(|detail| detail.contains("BRACE1")),
        "{refusals:?}"
    );
    assert_eq!(fleet_size(&backend.store).await, 1);
}

async fn twenty_concurrent_creates_with_one_vin_make_one_car(backend: Backend) {
    let cars = (0..20)
        .map(|n| new_car(&format!("VIN{n}"), &vin(77)))
        .collect();
    let (created, refusals) = create_together(&backend.store, cars).await;
    assert_eq!(created, 1);
    assert!(
        refusals.iter().all(|detail| detail.contains(&vin(77))),
        "{refusals:?}"
    );
    assert_eq!(fleet_size(&backend.store).await, 1);
}

async fn creates_colliding_in_the_store_are_retried_into_one_car(backend: Backend) {
    // Every third car transaction is cancelled as DynamoDB cancels colliding ones; the retries
    // still leave exactly one car with the plate.
    let faulty = Arc::new(FaultyStore::new(backend.store));
    faulty.inject(
        Fault::on(Call::Transact)
            .touching("CAR#")
            .with(FaultKind::Conflict)
            .every(3),
    );
    let store: Arc<dyn Store> = faulty.clone();
    let cars = (0..20).map(|n| new_car("CONFLICT1", &vin(n))).collect();
    let (created, refusals) = create_together(&store, cars).await;
    assert!(faulty.injected() > 0, "the conflicts fired");
    assert_eq!((created, refusals.len()), (1, 19));
    assert_eq!(fleet_size(&store).await, 1);
}

async fn racing_plate_changes_and_creates_leave_one_holder(backend: Backend) {
    let store = &backend.store;
    let staff = principal(Role::Staff);
    let context = context_of(&staff);
    let first = create_car(
        &**store,
        &SystemClock,
        &UuidV7Ids,
        &context,
        new_car("FIRST1", &vin(1)),
    )
    .await
    .unwrap();
    let second = create_car(
        &**store,
        &SystemClock,
        &UuidV7Ids,
        &context,
        new_car("SECOND1", &vin(2)),
    )
    .await
    .unwrap();
    let wanted = LicencePlate::parse("WANTED1").unwrap();
    let barrier = Arc::new(Barrier::new(25));
    let mut tasks = Vec::new();
    for n in 0..25u32 {
        let (store, barrier, context) =
            (Arc::clone(store), Arc::clone(&barrier), context_of(&staff));
        let (ids, wanted) = ([first.id.clone(), second.id.clone()], wanted.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            if n < 20 {
                let changes = CarChanges {
                    license_plate: Some(wanted),
                    ..CarChanges::default()
                };
                let id = &ids[n as usize % 2];
                update_car(
                    &*store,
                    &SystemClock,
                    &UuidV7Ids,
                    &context,
                    id,
                    &changes,
                    &Precondition::None,
                )
                .await
                .map(|_| ())
            } else {
                let car = new_car("WANTED1", &vin(100 + n));
                create_car(&*store, &SystemClock, &UuidV7Ids, &context, car)
                    .await
                    .map(|_| ())
            }
        }));
    }
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) | Err(DomainError::Conflict { .. }) => {}
            Err(other) => panic!("a change or create failed otherwise: {other:?}"),
        }
    }
    let cars = all_cars(store).await;
    let holders: Vec<_> = cars
        .iter()
        .filter(|car| car.license_plate == wanted)
        .collect();
    assert_eq!(holders.len(), 1, "exactly one car has the plate");
    let holder = car_with_plate(&**store, &wanted).await.unwrap();
    assert_eq!(
        holder.as_ref(),
        Some(&holders[0].id),
        "and it holds the claim"
    );
    // Every car holds the claim of its own plate, and no claim outlives its plate.
    for car in &cars {
        let claimed = car_with_plate(&**store, &car.license_plate).await.unwrap();
        assert_eq!(claimed.as_ref(), Some(&car.id));
    }
    for (old, car) in [("FIRST1", &first), ("SECOND1", &second)] {
        let old = LicencePlate::parse(old).unwrap();
        let claimed = car_with_plate(&**store, &old).await.unwrap();
        let kept = cars
            .iter()
            .any(|stored| stored.id == car.id && stored.license_plate == old);
        assert_eq!(
            claimed.is_some(),
            kept,
            "{old:?} is claimed exactly while its car keeps it"
        );
    }
}

on_both_families!(
    twenty_concurrent_creates_with_one_plate_make_one_car,
    twenty_concurrent_creates_with_one_vin_make_one_car,
    creates_colliding_in_the_store_are_retried_into_one_car,
    racing_plate_changes_and_creates_leave_one_holder,
);
