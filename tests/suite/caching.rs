//! What shared caches are told, through the whole pipeline on both store families: a cacheable
//! read is public for its route's TTL, dated, tagged and answered 304 while it is unchanged, and
//! 200 with a new tag once a booking has moved its seats; it carries no client's rate-limit
//! headers. Authenticated answers and refusals are never stored.

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use http::StatusCode;
use itinera::clock::{SystemClock, UuidV7Ids};
use itinera::flights::Flight;
use itinera::identity::Role;
use itinera_http::Api;
use itinera_http::routes::{FLIGHT_SEARCH_TTL_SECONDS, FLIGHT_TTL_SECONDS};
use itinera_tests::{
    Backend, TestRequest, TestResponse, api_over, book_seats, principal, seed_flight, send,
    token_for,
};

const RATE_LIMIT_HEADERS: [&str; 3] = [
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
];

/// An anonymous `GET` of `target`, with `If-None-Match: tag` when a tag is given.
async fn read(api: &Api, target: &str, tag: Option<&str>) -> TestResponse {
    let mut request = TestRequest::get(target).anonymous();
    if let Some(tag) = tag {
        request = request.header("if-none-match", tag);
    }
    send(api, request).await
}

/// Asserts `response` is what a shared cache may keep `ttl` seconds, and returns its tag.
fn shareable(response: &TestResponse, ttl: u32) -> String {
    assert_eq!(
        response.header("cache-control"),
        Some(format!("public, max-age={ttl}").as_str())
    );
    let date = response
        .header("date")
        .expect("a cacheable answer is dated");
    chrono::DateTime::parse_from_rfc2822(date).expect("an HTTP date");
    for name in RATE_LIMIT_HEADERS {
        assert_eq!(response.header(name), None, "{name} is one client's");
    }
    response
        .header("etag")
        .expect("a cacheable answer is tagged")
        .to_owned()
}

/// An API over `backend` with one flight of 180 seats in 30 days, and the search that finds it.
async fn searched_flight(backend: &Backend) -> (Api, Flight, String) {
    let api = api_over(Arc::clone(&backend.store), Arc::new(UuidV7Ids));
    let day = (Utc::now() + Duration::days(30)).date_naive();
    // 06:00 UTC is 11:30 in Delhi: the same local day.
    let departure = Utc.from_utc_datetime(&day.and_hms_opt(6, 0, 0).unwrap());
    let flight = seed_flight(
        &*backend.store,
        &SystemClock,
        &UuidV7Ids,
        180,
        549_900,
        departure,
    )
    .await;
    (
        api,
        flight,
        format!("/v1/flights?from=DEL&to=BOM&date={day}"),
    )
}

async fn a_search_answers_304_while_unchanged_and_200_once_a_booking_moves_its_seats(
    backend: Backend,
) {
    let (api, flight, search) = searched_flight(&backend).await;
    let detail = format!("/v1/flights/{}", flight.id);

    let first = read(&api, &search, None).await;
    first.assert_status(StatusCode::OK);
    assert_eq!(first.json()["data"][0]["remainingSeats"], 180);
    let tag = shareable(&first, FLIGHT_SEARCH_TTL_SECONDS);
    let flight_tag = shareable(&read(&api, &detail, None).await, FLIGHT_TTL_SECONDS);

    let unchanged = read(&api, &search, Some(&tag)).await;
    unchanged.assert_status(StatusCode::NOT_MODIFIED);
    assert!(unchanged.body.is_empty());
    assert_eq!(shareable(&unchanged, FLIGHT_SEARCH_TTL_SECONDS), tag);
    read(&api, &detail, Some(&flight_tag))
        .await
        .assert_status(StatusCode::NOT_MODIFIED);

    book_seats(
        &*backend.store,
        &SystemClock,
        &principal(Role::Customer),
        &flight,
        2,
    )
    .await
    .expect("the booking holds two seats");

    let changed = read(&api, &search, Some(&tag)).await;
    changed.assert_status(StatusCode::OK);
    assert_eq!(changed.json()["data"][0]["remainingSeats"], 178);
    assert_ne!(shareable(&changed, FLIGHT_SEARCH_TTL_SECONDS), tag);
    let changed = read(&api, &detail, Some(&flight_tag)).await;
    changed.assert_status(StatusCode::OK);
    assert_ne!(shareable(&changed, FLIGHT_TTL_SECONDS), flight_tag);
}

async fn authenticated_answers_and_refusals_are_never_stored(backend: Backend) {
    let api = api_over(Arc::clone(&backend.store), Arc::new(UuidV7Ids));
    let bookings = send(
        &api,
        TestRequest::get("/v1/bookings").bearer(&token_for(Role::Customer)),
    )
    .await;
    bookings.assert_status(StatusCode::OK);
    assert_eq!(bookings.header("cache-control"), Some("no-store"));
    assert_eq!(bookings.header("date"), None);
    // Not shared, so the client's own budget is reported as ever.
    for name in RATE_LIMIT_HEADERS {
        assert!(bookings.header(name).is_some(), "{name}");
    }

    // A cacheable route's refusal: not the representation, so not for a cache.
    let refused = read(&api, "/v1/flights?from=DEL", None).await;
    refused.assert_status(StatusCode::BAD_REQUEST);
    assert_eq!(refused.header("cache-control"), Some("no-store"));
    assert_eq!(refused.header("etag"), None);
    let unknown = read(&api, "/v1/nowhere", None).await;
    assert_eq!(unknown.header("cache-control"), Some("no-store"));
}

async fn a_cacheable_answer_depends_on_its_cache_key_alone(backend: Backend) {
    // A stage cache keys a search on its declared parameters only. Were anything else able to
    // change the answer, one request could plant a refusal that the cache then serves to every
    // caller of the same search for the route's TTL.
    let (api, flight, search) = searched_flight(&backend).await;
    let day = flight.departure_time.date_naive();
    let plain = read(&api, &search, None).await;
    plain.assert_status(StatusCode::OK);
    let tag = shareable(&plain, FLIGHT_SEARCH_TTL_SECONDS);

    // A parameter outside the key, a key parameter repeated (its last value counts, as the
    // gateway keys it), a body of any type and size: the same answer.
    let variants = [
        read(&api, &format!("{search}&utm_source=mail&x=1"), None).await,
        read(
            &api,
            &format!("/v1/flights?from=BOM&from=DEL&to=BOM&date={day}"),
            None,
        )
        .await,
        send(
            &api,
            TestRequest::get(&search)
                .anonymous()
                .raw_body("text/plain", vec![b'x'; 2 << 20]),
        )
        .await,
    ];
    for variant in variants {
        variant.assert_status(StatusCode::OK);
        assert_eq!(shareable(&variant, FLIGHT_SEARCH_TTL_SECONDS), tag);
    }

    // A bad value of a key parameter is keyed on that value, so its refusal stays an answer to
    // exactly that request.
    read(&api, "/v1/flights?from=DEL&to=BOM&date=tomorrow", None)
        .await
        .assert_status(StatusCode::BAD_REQUEST);
    // Routes no cache shares still refuse what they do not know.
    let bookings = send(
        &api,
        TestRequest::get("/v1/bookings?x=1").bearer(&token_for(Role::Customer)),
    )
    .await;
    bookings.assert_status(StatusCode::BAD_REQUEST);
}

on_both_families!(
    a_search_answers_304_while_unchanged_and_200_once_a_booking_moves_its_seats,
    authenticated_answers_and_refusals_are_never_stored,
    a_cacheable_answer_depends_on_its_cache_key_alone,
);
