//! Metrics: the local API's `GET /metrics` shows the counters moving as requests, bookings,
//! payments and hold expiries go through, in Prometheus' text format with the names the EMF documents use; the worker
//! counts its jobs by kind. Other tests run in the same process and count too, so these check
//! that a figure rose by at least what the test did.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::TimeDelta;
use http::StatusCode;
use itinera::bookings::expire_holds;
use itinera::clock::{Clock, UuidV7Ids};
use itinera::identity::Role;
use itinera::jobs::{Delivery, JobKind, MAX_RECEIVES, process_batch};
use itinera::metrics::{self, Value};
use itinera::payments::TEST_TOKEN_DECLINE;
use itinera::ratelimit::RateLimitConfig;
use itinera::storage::Store;
use itinera_embedded::EmbeddedStore;
use itinera_tests::{
    SettableClock, TestRequest, api_over_with, api_with_clock, principal, seed_flight, send,
    token_for,
};
use serde_json::json;

use super::local_server::{exchange, head, start};
use super::worker::{RecordingMailer, delivery, job_for, raw_delivery, register_customer, worker};

/// `GET /metrics` over the socket: every sample line as `name{labels}` -> value.
async fn scrape(address: std::net::SocketAddr) -> BTreeMap<String, f64> {
    let request = b"GET /metrics HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n";
    let response = exchange(address, request).await;
    let head = head(&response);
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(
        head.contains("content-type: text/plain; version=0.0.4"),
        "{head}"
    );
    assert!(head.contains("x-content-type-options: nosniff"), "{head}");
    let body_start = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let text = String::from_utf8(response[body_start..].to_vec()).expect("UTF-8 text");
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("`series value`");
            (series.to_owned(), value.parse().expect("a number"))
        })
        .collect()
}

fn figure(samples: &BTreeMap<String, f64>, series: &str) -> f64 {
    samples.get(series).copied().unwrap_or(0.0)
}

#[tokio::test]
async fn the_metrics_page_shows_requests_bookings_refusals_declines_and_expiries_rising() {
    let server = start().await;
    let before = scrape(server.address).await;

    // A flight of two seats: one booking holds both, the next finds it sold out.
    let data = tempfile::tempdir().expect("temporary directory");
    let store: Arc<dyn Store> =
        Arc::new(EmbeddedStore::open(data.path()).expect("embedded store opens"));
    let clock = Arc::new(SettableClock::now());
    let departure = clock.now() + TimeDelta::days(7);
    let flight = seed_flight(&*store, &*clock, &UuidV7Ids, 2, 10_000, departure).await;
    let api = api_with_clock(Arc::clone(&store), clock.clone());
    let mut answers = Vec::new();
    for _ in 0..2 {
        let customer = principal(Role::Customer);
        let token = itinera_tests::token_issuer()
            .issue(&customer, clock.now())
            .token;
        let request = TestRequest::post("/v1/bookings")
            .header("Idempotency-Key", &uuid::Uuid::new_v4().to_string())
            .json(&json!({"flightId": flight.id, "seats": 2}))
            .bearer(&token);
        answers.push((token, send(&api, request).await));
    }
    let statuses: Vec<StatusCode> = answers.iter().map(|(_, answer)| answer.status).collect();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT]);
    // The holder's card is declined, and the unpaid hold lapses.
    let (token, created) = &answers[0];
    let booking = created.json()["data"].clone();
    let payment = TestRequest::post(format!(
        "/v1/bookings/{}/payment",
        booking["id"].as_str().unwrap()
    ))
    .json(&json!({"paymentToken": TEST_TOKEN_DECLINE, "amount": booking["total"]}))
    .bearer(token);
    assert_eq!(
        send(&api, payment).await.status,
        StatusCode::PAYMENT_REQUIRED
    );
    clock.advance(TimeDelta::days(1));
    let expired = expire_holds(&*store, &*clock, &UuidV7Ids, None).await;
    assert_eq!(expired.expect("the expiry runs"), 1);
    let health = b"GET /v1/health HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n";
    assert!(head(&exchange(server.address, health).await).starts_with("http/1.1 200"));

    let after = scrape(server.address).await;
    for (series, rise) in [
        (
            r#"itinera_requests_total{route="create-booking",status_class="2xx"}"#,
            1.0,
        ),
        (
            r#"itinera_requests_total{route="create-booking",status_class="4xx"}"#,
            1.0,
        ),
        (
            r#"itinera_requests_total{route="health",status_class="2xx"}"#,
            1.0,
        ),
        (
            r#"itinera_request_duration_milliseconds_count{route="create-booking",status_class="2xx"}"#,
            1.0,
        ),
        ("itinera_bookings_created_total", 1.0),
        ("itinera_sold_out_refusals_total", 1.0),
        ("itinera_payments_declined_total", 1.0),
        ("itinera_holds_expired_total", 1.0),
    ] {
        assert!(
            figure(&after, series) >= figure(&before, series) + rise,
            "{series} should rise by at least {rise}: {} -> {}",
            figure(&before, series),
            figure(&after, series)
        );
    }
    // Buckets are cumulative and end in the count.
    let count = figure(
        &after,
        r#"itinera_request_duration_milliseconds_count{route="create-booking",status_class="2xx"}"#,
    );
    let infinite = figure(
        &after,
        r#"itinera_request_duration_milliseconds_bucket{route="create-booking",status_class="2xx",le="+Inf"}"#,
    );
    assert_eq!(infinite, count);
    server.stop.send(()).unwrap();
    server.stopped.await.unwrap();
}

/// The process's running totals: `name{key="value",...}` -> count (counters only).
fn counts() -> BTreeMap<String, u64> {
    metrics::global()
        .totals()
        .into_iter()
        .filter_map(|sample| {
            let Value::Count(count) = sample.value else {
                return None;
            };
            let labels: Vec<String> = sample
                .labels
                .iter()
                .map(|(key, value)| format!("{key}=\"{value}\""))
                .collect();
            Some((
                format!("{}{{{}}}", sample.metric.name, labels.join(",")),
                count,
            ))
        })
        .collect()
}

#[tokio::test]
async fn the_worker_counts_jobs_processed_failed_and_dead_lettered_by_kind() {
    let data = tempfile::tempdir().expect("temporary directory");
    let store: Arc<dyn Store> =
        Arc::new(EmbeddedStore::open(data.path()).expect("embedded store opens"));
    let services = worker(Arc::clone(&store), Arc::new(RecordingMailer::new()));
    let ada = register_customer(&*store, "Ada").await;
    let before = counts();

    let done = delivery(&job_for(&ada.id, JobKind::BookingConfirmed));
    let unreadable = raw_delivery("not a job");
    let last_receive = Delivery {
        receive_count: MAX_RECEIVES,
        ..raw_delivery("not a job either")
    };
    let failed = process_batch(&services, vec![done, unreadable, last_receive]).await;
    assert_eq!(failed.len(), 2);

    let after = counts();
    for (series, rise) in [
        (
            r#"itinera_jobs_processed_total{job_kind="booking-confirmed"}"#,
            1,
        ),
        (r#"itinera_jobs_failed_total{job_kind="unreadable"}"#, 2),
        (
            r#"itinera_jobs_dead_lettered_total{job_kind="unreadable"}"#,
            1,
        ),
    ] {
        let (was, is) = (
            before.get(series).copied().unwrap_or(0),
            after.get(series).copied().unwrap_or(0),
        );
        assert!(
            is >= was + rise,
            "{series} should rise by at least {rise}: {was} -> {is}"
        );
    }
}

#[tokio::test]
async fn a_request_refused_by_a_rate_limit_is_counted_under_its_tier() {
    let data = tempfile::tempdir().expect("temporary directory");
    let store: Arc<dyn Store> =
        Arc::new(EmbeddedStore::open(data.path()).expect("embedded store opens"));
    let limits = RateLimitConfig {
        write_max: 1,
        ..RateLimitConfig::default()
    };
    let api = api_over_with(store, Arc::new(UuidV7Ids), limits);
    let series = r#"itinera_rate_limited_total{tier="write"}"#;
    let before = counts().get(series).copied().unwrap_or(0);
    let mut statuses = Vec::new();
    for model in ["A320neo", "A321neo"] {
        let request = TestRequest::post("/v1/airplanes")
            .json(&json!({"modelNumber": model, "capacity": 180}))
            .bearer(&token_for(Role::Staff));
        statuses.push(send(&api, request).await.status);
    }
    assert_eq!(
        statuses,
        [StatusCode::CREATED, StatusCode::TOO_MANY_REQUESTS]
    );
    let after = counts().get(series).copied().unwrap_or(0);
    assert!(after > before, "{series}: {before} -> {after}");
}

#[tokio::test]
async fn file_uploads_are_counted_as_started_confirmed_and_refused() {
    use itinera::attachments::{self, DOCUMENT, DeclaredFile, FileScope};
    use itinera_tests::files::{embedded_blobs, upload_to};

    let data = tempfile::tempdir().expect("temporary directory");
    let store = EmbeddedStore::open(data.path()).expect("embedded store opens");
    let blobs = embedded_blobs(data.path());
    let scope = FileScope::new("REC#metrics", ["records", "metrics"]).unwrap();
    let before = counts();
    let start = |size: u64| {
        let file = DeclaredFile::parse("application/pdf", size, &DOCUMENT).unwrap();
        attachments::start_upload(
            &store,
            &blobs,
            &itinera::clock::SystemClock,
            &UuidV7Ids,
            &scope,
            file,
        )
    };
    let kept = start(4).await.expect("started");
    upload_to(&blobs, &kept.request.url, "application/pdf", b"%PDF")
        .await
        .unwrap();
    attachments::verify_upload(
        &store,
        &blobs,
        &itinera::clock::SystemClock,
        &scope,
        &kept.upload_id,
    )
    .await
    .expect("confirmed");
    // A store that let a longer file through: confirm refuses it (here, written behind the
    // URL's back through the second ticket's key after the first ticket's file).
    let refused = start(3).await.expect("started");
    let moved =
        itinera::blobs::BlobKey::parse(&format!("uploads/records/metrics/{}", refused.upload_id))
            .unwrap();
    let from = itinera::blobs::BlobKey::parse(&format!("files/records/metrics/{}", kept.upload_id))
        .unwrap();
    itinera::blobs::BlobStore::promote(&blobs, &from, &moved)
        .await
        .unwrap();
    assert!(
        attachments::verify_upload(
            &store,
            &blobs,
            &itinera::clock::SystemClock,
            &scope,
            &refused.upload_id
        )
        .await
        .is_err()
    );
    let after = counts();
    let rose = |outcome: &str| {
        let series = format!("itinera_file_uploads_total{{outcome=\"{outcome}\"}}");
        after.get(&series).copied().unwrap_or(0) - before.get(&series).copied().unwrap_or(0)
    };
    assert!(rose("started") >= 2);
    assert!(rose("confirmed") >= 1);
    assert!(rose("refused") >= 1);
}
