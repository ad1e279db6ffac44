//! The embedded blob store's URLs as the local API serves them, over a real socket: the whole
//! conformance suite again with an HTTP client in the browser's place, then what only the
//! server shows: the status of each refusal, streamed downloads with their type and length,
//! CORS for the configured origins.

use std::sync::Arc;

use itinera::blobs::{BlobContentType, BlobStore, PresignedRequest, UploadPolicy};
use itinera::clock::{SystemClock, UuidV7Ids};
use itinera_embedded::EmbeddedBlobs;
use itinera_http::CorsPolicy;
use local_api::blobs::BlobUrls;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::{BRIEF, BlobsUnderTest, HttpAnswer, HttpClient, LONG, PAST_BRIEF, fresh_photo_key};

const ORIGIN: &str = "https://app.itinera.test";

/// A local server answering one blob store's URLs, stopped when dropped.
struct Served {
    blobs: EmbeddedBlobs,
    _stop: oneshot::Sender<()>,
    _dir: tempfile::TempDir,
    _app: Arc<itinera_tests::TestApp>,
}

async fn serve() -> Served {
    let app = Arc::new(itinera_tests::spawn_app());
    let dir = tempfile::tempdir().expect("a temporary directory");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let blobs = EmbeddedBlobs::open(
        dir.path(),
        b"a test signing key".to_vec(),
        &format!("http://{address}"),
        Arc::new(SystemClock),
    )
    .expect("the blob store opens");
    let api = Arc::new(itinera_tests::api_over(
        Arc::clone(&app.store),
        Arc::new(UuidV7Ids),
    ));
    let urls = BlobUrls::new(blobs.clone(), CorsPolicy::from_list(ORIGIN).unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(local_api::serve(listener, api, Some(urls), async move {
        let _ = stopped.await;
    }));
    Served {
        blobs,
        _stop: stop,
        _dir: dir,
        _app: app,
    }
}

async fn fresh_blobs() -> BlobsUnderTest {
    let served = serve().await;
    BlobsUnderTest {
        store: Box::new(served.blobs.clone()),
        client: Box::new(HttpClient::new()),
        _resources: Box::new(served),
    }
}

crate::blob_conformance::blob_conformance_suite!(fresh_blobs);

fn png(size: u64) -> UploadPolicy {
    UploadPolicy {
        content_type: BlobContentType::Png,
        size,
        expires_in: LONG,
    }
}

fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

async fn put(request: &PresignedRequest, content_type: &str, body: Vec<u8>) -> HttpAnswer {
    HttpClient::new()
        .exchange(
            "PUT",
            &request.url,
            &headers(&[("content-type", content_type)]),
            body,
        )
        .await
}

/// Asserts a problem response of `status` with the server's usual headers.
fn assert_problem(answer: &HttpAnswer, status: u16) {
    let body = String::from_utf8_lossy(&answer.body);
    assert_eq!(answer.status, status, "{body}");
    assert_eq!(
        answer.header("content-type"),
        Some("application/problem+json")
    );
    let problem: serde_json::Value = serde_json::from_slice(&answer.body).expect("a JSON problem");
    assert_eq!(problem["status"], status);
    assert!(
        problem["type"]
            .as_str()
            .unwrap()
            .starts_with("urn:itinera:problem:")
    );
    assert_eq!(
        problem["requestId"].as_str(),
        answer.header("x-request-id"),
        "the problem names the request"
    );
    assert_eq!(answer.header("x-content-type-options"), Some("nosniff"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_refusal_has_its_status_and_stores_nothing() {
    let served = serve().await;
    let blobs = &served.blobs;
    let key = fresh_photo_key();
    let request = blobs.presign_upload(&key, &png(8)).await.unwrap();

    assert_problem(&put(&request, "text/html", vec![0; 8]).await, 415);
    assert_problem(&put(&request, "image/png", vec![0; 9]).await, 413);
    assert_problem(&put(&request, "image/png", vec![0; 7]).await, 400);
    let mut altered = request.clone();
    altered.url = altered.url.replace("Size=8", "Size=9");
    assert_problem(&put(&altered, "image/png", vec![0; 9]).await, 403);
    let mut unsigned = request.clone();
    unsigned.url = unsigned.url.split('?').next().unwrap().to_owned();
    assert_problem(&put(&unsigned, "image/png", vec![0; 8]).await, 400);
    assert_eq!(blobs.head(&key).await.unwrap(), None);

    let missing = blobs.presign_download(&key, LONG).await.unwrap();
    let client = HttpClient::new();
    assert_problem(
        &client.exchange("GET", &missing.url, &[], Vec::new()).await,
        404,
    );
    let deleted = client
        .exchange("DELETE", &missing.url, &[], Vec::new())
        .await;
    assert_problem(&deleted, 405);
    assert_eq!(deleted.header("allow"), Some("GET, PUT, OPTIONS"));

    let brief = UploadPolicy {
        expires_in: BRIEF,
        ..png(8)
    };
    let expiring = blobs.presign_upload(&key, &brief).await.unwrap();
    tokio::time::sleep(PAST_BRIEF).await;
    assert_problem(&put(&expiring, "image/png", vec![0; 8]).await, 403);
    assert_eq!(blobs.head(&key).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_file_streams_both_ways_with_its_type_and_length_and_uncompressed() {
    let served = serve().await;
    let blobs = &served.blobs;
    let key = fresh_photo_key();
    // Several chunks each way, and far over the API's 64 KiB body limit.
    let body: Vec<u8> = (0..700_000u32).map(|i| (i % 251) as u8).collect();
    let request = blobs
        .presign_upload(&key, &png(body.len() as u64))
        .await
        .unwrap();
    let stored = put(&request, "image/png", body.clone()).await;
    assert_eq!(
        stored.status,
        200,
        "{}",
        String::from_utf8_lossy(&stored.body)
    );

    let download = blobs.presign_download(&key, LONG).await.unwrap();
    let answer = HttpClient::new()
        .exchange(
            "GET",
            &download.url,
            &headers(&[("accept-encoding", "gzip")]),
            Vec::new(),
        )
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("content-type"), Some("image/png"));
    assert_eq!(
        answer.header("content-length"),
        Some(body.len().to_string().as_str())
    );
    assert_eq!(answer.header("content-encoding"), None);
    assert!(answer.body == body, "the download is the upload");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browsers_on_a_configured_origin_may_upload_and_others_get_no_cors_headers() {
    let served = serve().await;
    let key = fresh_photo_key();
    let request = served.blobs.presign_upload(&key, &png(4)).await.unwrap();
    let client = HttpClient::new();
    let preflight = |origin: &'static str| {
        headers(&[
            ("origin", origin),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", "content-type"),
        ])
    };
    let allowed = client
        .exchange("OPTIONS", &request.url, &preflight(ORIGIN), Vec::new())
        .await;
    assert_eq!(allowed.status, 204);
    assert_eq!(allowed.header("access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(
        allowed.header("access-control-allow-methods"),
        Some("GET, PUT")
    );
    assert!(
        allowed
            .header("access-control-allow-headers")
            .is_some_and(|headers| headers.contains("Content-Type"))
    );
    let stranger = client
        .exchange(
            "OPTIONS",
            &request.url,
            &preflight("https://elsewhere.test"),
            Vec::new(),
        )
        .await;
    assert_eq!(stranger.header("access-control-allow-origin"), None);

    let uploaded = client
        .exchange(
            "PUT",
            &request.url,
            &headers(&[("content-type", "image/png"), ("origin", ORIGIN)]),
            b"\x89PNG".to_vec(),
        )
        .await;
    assert_eq!(uploaded.status, 200);
    assert_eq!(uploaded.header("access-control-allow-origin"), Some(ORIGIN));
}
