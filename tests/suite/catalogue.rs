//! The car catalogue and a car's availability, black-box through the router as an anonymous
//! client: the cars free on every day of a range (rentable statuses only, public fields only,
//! priced), one car's busy ranges, their 400s and 404s, and pagination. The scenarios where the
//! store matters run on both store families, with day slots written straight into the store as a
//! contract's reservation writes them.

use std::sync::Arc;

use chrono::{Days, Utc};
use http::StatusCode;
use itinera::calendar::Day;
use itinera::cars::days::{CONTRACT_ID, day_key};
use itinera::cars::{
    Car, CarCategory, CarChanges, CarId, CarModel, CarStatus, DailyRate, LicencePlate,
    Manufacturer, Mileage, ModelYear, NewCar, Vin, create_car, update_car,
};
use itinera::clock::{SystemClock, UuidV7Ids};
use itinera::identity::Role;
use itinera::money::{Currency, Money};
use itinera::storage::{Key, Put, Store, Update};
use itinera::version::Precondition;
use itinera_http::Api;
use itinera_tests::{Backend, TestRequest, api_over, context_of, principal, send, spawn_app};
use serde_json::{Value, json};

use crate::airports::{assert_problem, error_fields};
use crate::cars::{car_body, create, vin};
use crate::contracts::{customer_with_profile, reserve};

/// The day `offset` days after today (UTC), as the API's clock reads today.
fn day(offset: u64) -> Day {
    Day::from(Utc::now().date_naive() + Days::new(offset))
}

/// The catalogue's target for the days `from` to `to` (offsets from today) and extra parameters.
fn catalogue(from: u64, to: u64, extra: &str) -> String {
    format!("/v1/catalogue?from={}&to={}{extra}", day(from), day(to))
}

/// A car's availability target for the days `from` to `to` (offsets from today).
fn availability(id: &str, from: u64, to: u64) -> String {
    format!(
        "/v1/cars/{id}/availability?from={}&to={}",
        day(from),
        day(to)
    )
}

/// A fleet on one store: cars made through the use cases, read through the API anonymously.
struct Fleet {
    api: Api,
    store: Arc<dyn Store>,
}

impl Fleet {
    fn on(backend: &Backend) -> Self {
        Self {
            api: api_over(Arc::clone(&backend.store), Arc::new(UuidV7Ids)),
            store: Arc::clone(&backend.store),
        }
    }

    /// A new car `n` of `category` at `rate` cents a day.
    async fn car(&self, n: u32, category: CarCategory, rate: i64) -> Car {
        let new = NewCar {
            license_plate: LicencePlate::parse(&format!("CAT{n}")).unwrap(),
            vin: Vin::parse(&vin(n)).unwrap(),
            manufacturer: Manufacturer::parse("Toyota").unwrap(),
            model: CarModel::parse("Corolla").unwrap(),
            year: ModelYear::try_from(2024).unwrap(),
            category,
            daily_rate: DailyRate::new(Money::new(rate, Currency::parse("EUR").unwrap()).unwrap())
                .unwrap(),
            mileage: Mileage::try_from(12_000).unwrap(),
        };
        let context = context_of(&principal(Role::Staff));
        create_car(&*self.store, &SystemClock, &UuidV7Ids, &context, new)
            .await
            .unwrap()
    }

    /// Marks `car` rented, as a contract's pickup does (an update may not).
    async fn rent_out(&self, car: &Car) {
        let mut update = Update::new(Key::new(format!("CAR#{}", car.id), "CAR"));
        update.set = vec![
            ("status".into(), json!("rented")),
            ("gsi2pk".into(), json!("CARS#STATUS#rented")),
        ];
        self.store.update(update).await.unwrap();
    }

    /// Moves `car` to `status` (not `rented`), as staff do.
    async fn set_status(&self, car: &Car, status: CarStatus) {
        let changes = CarChanges {
            status: Some(status),
            ..CarChanges::default()
        };
        let context = context_of(&principal(Role::Staff));
        update_car(
            &*self.store,
            &SystemClock,
            &UuidV7Ids,
            &context,
            &car.id,
            &changes,
            &Precondition::None,
        )
        .await
        .unwrap();
    }

    /// Takes the days `from` to `to` (offsets from today) of `car` for `contract`, one slot item
    /// per day, as a contract's reservation does.
    async fn take(&self, car: &CarId, from: u64, to: u64, contract: &str) {
        for offset in from..=to {
            let mut item = serde_json::Map::new();
            day_key(car, day(offset)).write_into(&mut item);
            item.insert(CONTRACT_ID.into(), json!(contract));
            let put = Put {
                item,
                condition: None,
            };
            self.store.put(put).await.unwrap();
        }
    }

    /// The answer to an anonymous GET of `target`.
    async fn get(&self, target: &str) -> (StatusCode, Value) {
        let response = send(&self.api, TestRequest::get(target).anonymous()).await;
        (response.status, response.json())
    }

    /// Every car of the catalogue for `target`, following cursors, and how many pages it took.
    async fn walk(&self, target: &str) -> (Vec<Value>, usize) {
        let (mut cars, mut pages, mut next) = (Vec::new(), 0, target.to_owned());
        loop {
            let (status, body) = self.get(&next).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            pages += 1;
            cars.extend(body["data"].as_array().expect("a page").iter().cloned());
            match body["pagination"]["nextCursor"].as_str() {
                Some(cursor) => next = format!("{target}&cursor={cursor}"),
                None => return (cars, pages),
            }
        }
    }
}

/// The ids of a page's cars.
fn ids(cars: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = cars
        .iter()
        .map(|car| car["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn sorted(ids: &[&CarId]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
    ids.sort();
    ids
}

async fn the_catalogue_shows_rentable_cars_free_on_every_day_priced_for_the_range(
    backend: Backend,
) {
    let fleet = Fleet::on(&backend);
    let free = fleet.car(1, CarCategory::Compact, 4_500).await;
    let rented = fleet.car(2, CarCategory::Suv, 9_000).await;
    let overlapping = fleet.car(3, CarCategory::Compact, 4_000).await;
    let before = fleet.car(4, CarCategory::Compact, 4_000).await;
    let maintenance = fleet.car(5, CarCategory::Compact, 4_000).await;
    let retired = fleet.car(6, CarCategory::Suv, 4_000).await;
    // Searched: days 10 to 13. A rented car free on those days is offered; a car taken on one of
    // them is not; one taken up to the day before is.
    fleet.rent_out(&rented).await;
    fleet.take(&rented.id, 2, 9, "contract-a").await;
    fleet.take(&overlapping.id, 13, 15, "contract-b").await;
    fleet.take(&before.id, 5, 9, "contract-c").await;
    fleet.set_status(&maintenance, CarStatus::Maintenance).await;
    fleet.set_status(&retired, CarStatus::Retired).await;

    let (status, body) = fleet.get(&catalogue(10, 13, "")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let cars = body["data"].as_array().unwrap();
    assert_eq!(
        ids(cars),
        sorted(&[&free.id, &rented.id, &before.id]),
        "{body}"
    );
    assert_eq!(body["pagination"]["nextCursor"], Value::Null);
    let offered = cars
        .iter()
        .find(|car| car["id"] == free.id.to_string())
        .unwrap();
    assert_eq!(
        offered,
        &json!({
            "id": free.id.to_string(),
            "manufacturer": "Toyota",
            "model": "Corolla",
            "year": 2024,
            "category": "compact",
            "dailyRate": {"amount": 4500, "currency": "EUR"},
            "days": 4,
            "price": {"amount": 18000, "currency": "EUR"},
        })
    );
    // Public fields only, on every car.
    for car in cars {
        for private in [
            "vin",
            "licensePlate",
            "mileage",
            "status",
            "contractCount",
            "version",
        ] {
            assert!(car.get(private).is_none(), "{private} shown: {car}");
        }
    }

    // One category.
    let (_, suvs) = fleet.get(&catalogue(10, 13, "&category=suv")).await;
    assert_eq!(ids(suvs["data"].as_array().unwrap()), sorted(&[&rented.id]));
    // The overlapping car's days 13 to 15 keep it out of any range touching them.
    let (_, later) = fleet.get(&catalogue(14, 14, "&category=compact")).await;
    assert_eq!(
        ids(later["data"].as_array().unwrap()),
        sorted(&[&free.id, &before.id])
    );
    let (_, after) = fleet.get(&catalogue(16, 20, "&category=compact")).await;
    assert_eq!(
        ids(after["data"].as_array().unwrap()),
        sorted(&[&free.id, &overlapping.id, &before.id])
    );
}

async fn a_cars_busy_days_merge_into_ranges_without_contract_ids(backend: Backend) {
    let fleet = Fleet::on(&backend);
    let car = fleet.car(11, CarCategory::Van, 7_000).await;
    // Two contracts that touch ([3, 5] and [6, 8]), one apart ([12, 12]), one outside the window.
    fleet.take(&car.id, 3, 5, "contract-one").await;
    fleet.take(&car.id, 6, 8, "contract-two").await;
    fleet.take(&car.id, 12, 12, "contract-three").await;
    fleet.take(&car.id, 40, 41, "contract-four").await;

    let (status, body) = fleet.get(&availability(&car.id.to_string(), 4, 30)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["data"],
        json!({
            "carId": car.id.to_string(),
            "from": day(4).to_string(),
            "to": day(30).to_string(),
            "busy": [
                {"startDate": day(4).to_string(), "endDate": day(8).to_string()},
                {"startDate": day(12).to_string(), "endDate": day(12).to_string()},
            ],
        })
    );
    assert!(!body.to_string().contains("contract-"), "{body}");

    let (_, free) = fleet.get(&availability(&car.id.to_string(), 13, 39)).await;
    assert_eq!(free["data"]["busy"], json!([]));

    // A car in maintenance answers its calendar; a retired one is gone.
    fleet.set_status(&car, CarStatus::Maintenance).await;
    let (status, _) = fleet.get(&availability(&car.id.to_string(), 0, 10)).await;
    assert_eq!(status, StatusCode::OK);
    fleet.set_status(&car, CarStatus::Retired).await;
    let (status, body) = fleet.get(&availability(&car.id.to_string(), 0, 10)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

async fn a_180_day_window_reads_every_busy_day(backend: Backend) {
    let fleet = Fleet::on(&backend);
    let car = fleet.car(21, CarCategory::Luxury, 30_000).await;
    // Every other day of 180 taken: 90 slots, 90 ranges.
    for offset in (0..180).step_by(2) {
        fleet
            .take(&car.id, offset, offset, &format!("contract-{offset}"))
            .await;
    }
    let (status, body) = fleet.get(&availability(&car.id.to_string(), 0, 179)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let busy = body["data"]["busy"].as_array().unwrap();
    assert_eq!(busy.len(), 90);
    assert_eq!(busy[89]["startDate"], day(178).to_string());
}

async fn the_catalogue_pages_through_the_fleet_with_cursors(backend: Backend) {
    let fleet = Fleet::on(&backend);
    let mut free = Vec::new();
    for n in 0..7 {
        let car = fleet.car(30 + n, CarCategory::Economy, 2_500).await;
        if n % 3 == 0 {
            fleet.take(&car.id, 20, 20, "contract").await;
        } else {
            free.push(car.id);
        }
    }
    let target = catalogue(18, 22, "&limit=2");
    let (cars, pages) = fleet.walk(&target).await;
    assert_eq!(ids(&cars), sorted(&free.iter().collect::<Vec<_>>()));
    assert_eq!(
        pages, 3,
        "four free cars, two a page, and a last page to say so"
    );
}

on_both_families!(
    the_catalogue_shows_rentable_cars_free_on_every_day_priced_for_the_range,
    a_cars_busy_days_merge_into_ranges_without_contract_ids,
    a_180_day_window_reads_every_busy_day,
    the_catalogue_pages_through_the_fleet_with_cursors,
);

#[tokio::test]
async fn a_page_checks_a_bounded_number_of_cars_and_hands_on_a_cursor() {
    let backend = Backend::embedded();
    let fleet = Fleet::on(&backend);
    // 60 cars, all taken on day 5 but the two created first (listed last: newest first).
    let mut free = Vec::new();
    for n in 0..60 {
        let car = fleet.car(100 + n, CarCategory::Midsize, 3_000).await;
        if n < 2 {
            free.push(car.id);
        } else {
            fleet.take(&car.id, 5, 5, "contract").await;
        }
    }
    let target = catalogue(5, 5, "&limit=20");
    let (status, first) = fleet.get(&target).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first["data"], json!([]), "the first 50 cars are all taken");
    assert!(first["pagination"]["nextCursor"].is_string(), "{first}");
    let (cars, pages) = fleet.walk(&target).await;
    assert_eq!(ids(&cars), sorted(&free.iter().collect::<Vec<_>>()));
    assert_eq!(pages, 2);
}

#[tokio::test]
async fn a_catalogue_cursor_belongs_to_its_search() {
    let app = spawn_app();
    for n in 0..3 {
        create(&app, &car_body(&format!("CUR{n}"), &vin(200 + n))).await;
    }
    let first = app
        .send(TestRequest::get(catalogue(3, 4, "&limit=1")).anonymous())
        .await;
    let cursor = first.json()["pagination"]["nextCursor"]
        .as_str()
        .expect("a cursor")
        .to_owned();
    let other_days = catalogue(3, 5, &format!("&limit=1&cursor={cursor}"));
    let response = app.send(TestRequest::get(other_days).anonymous()).await;
    assert_problem(&response, 400);
    let tampered = format!("{}x", &cursor[..cursor.len() - 1]);
    let response = app
        .send(TestRequest::get(catalogue(3, 4, &format!("&limit=1&cursor={tampered}"))).anonymous())
        .await;
    assert_problem(&response, 400);
}

#[tokio::test]
async fn bad_ranges_are_400s_naming_the_field() {
    let app = spawn_app();
    let too_long = format!("/v1/catalogue?from={}&to={}", day(1), day(91));
    let past = format!(
        "/v1/catalogue?from={}&to={}",
        day(0).date().pred_opt().unwrap(),
        day(2)
    );
    let backwards = format!("/v1/catalogue?from={}&to={}", day(5), day(4));
    for (target, field) in [
        (too_long.as_str(), "to"),
        (past.as_str(), "from"),
        (backwards.as_str(), "to"),
        ("/v1/catalogue?from=2027-13-01&to=2027-12-02", "from"),
        ("/v1/catalogue?from=2027-12-01", "to"),
        (
            "/v1/catalogue?from=2027-12-01&to=2027-12-02&category=bus",
            "category",
        ),
        (
            "/v1/catalogue?from=2027-12-01&to=2027-12-02&limit=0",
            "limit",
        ),
    ] {
        let response = app.send(TestRequest::get(target).anonymous()).await;
        let body = assert_problem(&response, 400);
        assert!(
            error_fields(&body).contains(&field.to_owned()),
            "{target}: {body}"
        );
    }
    // A parameter the catalogue does not declare is ignored, not refused: a shared cache keys
    // the search on its declared parameters only, and would serve such a refusal to everyone.
    let ignored = app
        .send(TestRequest::get("/v1/catalogue?from=2027-12-01&to=2027-12-02&vin=x").anonymous())
        .await;
    ignored.assert_status(StatusCode::OK);
    let car = create(&app, &car_body("AVAIL1", &vin(300))).await;
    let id = car["id"].as_str().unwrap();
    let long = format!("/v1/cars/{id}/availability?from=2027-01-01&to=2027-06-30");
    let backwards = format!("/v1/cars/{id}/availability?from=2027-01-02&to=2027-01-01");
    let missing = format!("/v1/cars/{id}/availability?to=2027-01-01");
    for (target, field) in [(long, "to"), (backwards, "to"), (missing, "from")] {
        let response = app.send(TestRequest::get(&target).anonymous()).await;
        let body = assert_problem(&response, 400);
        assert_eq!(error_fields(&body), [field], "{target}: {body}");
    }
    // 180 days, in the past too, are fine.
    let longest = format!("/v1/cars/{id}/availability?from=2020-01-01&to=2020-06-28");
    let response = app.send(TestRequest::get(&longest).anonymous()).await;
    response.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn an_unknown_car_has_no_availability() {
    let app = spawn_app();
    let unknown = uuid::Uuid::now_v7();
    let target = format!("/v1/cars/{unknown}/availability?from=2027-01-01&to=2027-01-31");
    let response = app.send(TestRequest::get(&target).anonymous()).await;
    assert_problem(&response, 404);
}

#[tokio::test]
async fn a_reserved_car_leaves_the_catalogue_for_its_days_and_shows_them_busy() {
    let app = spawn_app();
    let car = create(&app, &car_body("E2E1", &vin(400))).await;
    let other = create(&app, &car_body("E2E2", &vin(401))).await;
    let (id, other_id) = (car["id"].as_str().unwrap(), other["id"].as_str().unwrap());
    let (token, _) = customer_with_profile(&app, "renter").await;
    let body =
        json!({"carId": id, "startDate": day(10).to_string(), "endDate": day(12).to_string()});
    let response = app
        .send(reserve(&body, "catalogue-e2e").bearer(&token))
        .await;
    response.assert_status(StatusCode::CREATED);
    let contract = response.json()["data"]["id"].as_str().unwrap().to_owned();

    let offered = |from: u64, to: u64| {
        let app = &app;
        async move {
            let response = app
                .send(TestRequest::get(catalogue(from, to, "")).anonymous())
                .await;
            assert_eq!(response.status, StatusCode::OK);
            let mut ids: Vec<String> = response.json()["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|car| car["id"].as_str().unwrap().to_owned())
                .collect();
            ids.sort();
            ids
        }
    };
    let both = {
        let mut both = vec![id.to_owned(), other_id.to_owned()];
        both.sort();
        both
    };
    for (from, to) in [(8, 10), (11, 11), (12, 20), (1, 30)] {
        assert_eq!(offered(from, to).await, [other_id], "days {from} to {to}");
    }
    assert_eq!(offered(13, 20).await, both);
    assert_eq!(offered(1, 9).await, both);

    let response = app
        .send(TestRequest::get(availability(id, 0, 30)).anonymous())
        .await;
    let body = response.json();
    assert_eq!(
        body["data"]["busy"],
        json!([{"startDate": day(10).to_string(), "endDate": day(12).to_string()}])
    );
    assert!(!body.to_string().contains(&contract), "{body}");

    // Cancelled, the days are free again, in the catalogue and in the calendar.
    let cancel = TestRequest::post(format!("/v1/contracts/{contract}/cancel")).bearer(&token);
    let response = app.send(cancel).await;
    response.assert_status(StatusCode::OK);
    assert_eq!(offered(11, 11).await, both);
    let response = app
        .send(TestRequest::get(availability(id, 0, 30)).anonymous())
        .await;
    assert_eq!(response.json()["data"]["busy"], json!([]));
}
