//! The local API's demo data set: loaded through the use cases, complete, and loaded once.

use std::sync::Arc;

use chrono::{Days, Utc};
use itinera::identity::Role;
use itinera::storage::Store;
use itinera_embedded::EmbeddedStore;
use itinera_tests::faults::{Call, Fault, FaultKind, FaultyStore};
use itinera_tests::{TestRequest, api_over, login_request, send};
use local_api::demo;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_data_loads_whole_and_a_second_load_writes_nothing() {
    let data = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(EmbeddedStore::open(data.path()).unwrap());
    let faulty = Arc::new(FaultyStore::new(Arc::clone(&store)));
    let api = api_over(faulty.clone(), Arc::new(itinera::clock::UuidV7Ids));
    let now = Utc::now();

    let first = demo::load(api.services(), now).await.unwrap();
    assert_eq!(first.airports_created, 24);
    assert_eq!(first.airplanes_created, 7);
    assert_eq!(first.accounts_created, 2);
    assert_eq!(first.cars_created, 12);
    assert_eq!(first.customers_created, 3);
    // One flight a day on each of 33 routes; a departure in a daylight-saving gap is left out,
    // and none of the demo departures falls in one.
    assert_eq!(first.flights_created, 33 * demo::SCHEDULE_DAYS as usize);

    // Every write the second load could make fails, so a single write would fail the load.
    for call in [Call::Put, Call::Update, Call::Delete, Call::Transact] {
        faulty.inject(
            Fault::on(call)
                .with(FaultKind::Unavailable)
                .times(usize::MAX),
        );
    }
    let second = demo::load(api.services(), now).await.unwrap();
    assert_eq!(
        (
            second.airports_created,
            second.airplanes_created,
            second.flights_created,
            second.accounts_created
        ),
        (0, 0, 0, 0)
    );
    assert_eq!((second.cars_created, second.customers_created), (0, 0));
    assert_eq!(faulty.injected(), 0, "the second load wrote");
    assert_eq!(second.accounts, first.accounts);
    faulty.heal();

    // What a newcomer does next: sign in as the demo customer and find tomorrow's IT101.
    let (_, email, password) = first
        .accounts
        .iter()
        .find(|(role, _, _)| *role == Role::Customer)
        .copied()
        .unwrap();
    let login = send(
        &api,
        login_request(&serde_json::json!({"email": email, "password": password})),
    )
    .await;
    assert_eq!(login.status, 200, "{}", login.json());
    assert!(login.json()["data"]["accessToken"].is_string());
    let token = login.json()["data"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let profile = send(&api, TestRequest::get("/v1/customers/me").bearer(&token)).await;
    assert_eq!(profile.status, 200, "{}", profile.json());
    assert_eq!(
        profile.json()["data"]["email"],
        email,
        "the demo customer rents as themselves"
    );
    let india = chrono::FixedOffset::east_opt(5 * 3600 + 1800).unwrap();
    let tomorrow = now
        .with_timezone(&india)
        .date_naive()
        .checked_add_days(Days::new(1))
        .unwrap();
    let search = send(
        &api,
        TestRequest::get(format!("/v1/flights?from=DEL&to=BOM&date={tomorrow}")).anonymous(),
    )
    .await;
    assert_eq!(search.status, 200, "{}", search.json());
    let flights = search.json()["data"].as_array().unwrap().clone();
    assert_eq!(flights.len(), 1);
    assert_eq!(flights[0]["flightNumber"], "IT101");
    assert_eq!(flights[0]["remainingSeats"], 180);
}

#[test]
fn the_demo_is_loaded_only_on_request() {
    let args = |list: &[&str]| list.iter().map(|arg| arg.to_string()).collect::<Vec<_>>();
    assert!(demo::requested(
        args(&["local-api", "--demo"]).into_iter(),
        None
    ));
    assert!(demo::requested(
        args(&["local-api"]).into_iter(),
        Some("1".into())
    ));
    assert!(!demo::requested(args(&["local-api"]).into_iter(), None));
    assert!(!demo::requested(
        args(&["local-api"]).into_iter(),
        Some("0".into())
    ));
}
