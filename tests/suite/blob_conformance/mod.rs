//! The blob conformance suite: the behaviour every blob store adapter must share, written once
//! and run against each adapter.
//!
//! Uploads and downloads go through presigned URLs, so each adapter comes with a [`BlobClient`]
//! that plays the client's part: a real HTTP client for S3, direct calls to the handlers the
//! local API serves the URLs with for the embedded store. A sibling module instantiates the suite
//! with [`blob_conformance_suite!`] and a function returning a fresh store and its client:
//!
//! ```ignore
//! async fn fresh_blobs() -> crate::blob_conformance::BlobsUnderTest { ... }
//! crate::blob_conformance::blob_conformance_suite!(fresh_blobs);
//! ```
//!
//! Presigned URLs expire in whole seconds on both stores, so the expiry tests wait past a
//! one-second URL rather than moving a clock.

pub mod embedded;

use std::time::Duration;

use async_trait::async_trait;
use itinera::blobs::{
    BlobContentType, BlobHead, BlobKey, BlobMethod, BlobStore, PresignedRequest, UploadPolicy,
};

/// The client's side of presigned requests.
#[async_trait]
pub trait BlobClient: Send + Sync {
    /// Sends `body` with `content_type` as the upload `request` describes (its URL as it is, so
    /// a test may alter it); true when the store accepted it.
    async fn upload(&self, request: &PresignedRequest, content_type: &str, body: Vec<u8>) -> bool;

    /// Fetches the download `request`; the bytes, or `None` when the store refused.
    async fn download(&self, request: &PresignedRequest) -> Option<Vec<u8>>;
}

/// A fresh store, its client, and whatever must live as long as they (a temporary directory).
pub struct BlobsUnderTest {
    pub store: Box<dyn BlobStore>,
    pub client: Box<dyn BlobClient>,
    pub _resources: Box<dyn Send + Sync>,
}

/// Expands to one `#[tokio::test]` per conformance test, each on a store from `$fresh_blobs`
/// (an `async fn() -> BlobsUnderTest` returning an isolated, empty store).
macro_rules! blob_conformance_suite {
    ($fresh_blobs:path) => {
        $crate::blob_conformance::blob_conformance_suite!(@tests $fresh_blobs;
            an_upload_within_its_limits_is_stored_and_downloads_back,
            an_upload_with_another_content_type_is_refused_and_stores_nothing,
            an_upload_over_the_size_limit_is_refused_and_stores_nothing,
            an_expired_upload_url_is_refused_and_stores_nothing,
            an_upload_to_an_altered_url_is_refused_and_stores_nothing,
            a_refused_upload_keeps_what_the_key_held,
            a_download_url_expires,
            nothing_is_stored_under_a_key_never_uploaded,
            requests_outside_the_port_limits_are_refused,
        );
    };
    (@tests $fresh_blobs:path; $($test:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                let under_test = $fresh_blobs().await;
                $crate::blob_conformance::$test(&under_test).await;
            }
        )+
    };
}
pub(crate) use blob_conformance_suite;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Long enough that no test outlives it.
const LONG: Duration = Duration::from_secs(300);
/// The shortest expiry, for the tests that wait for one to pass.
const BRIEF: Duration = Duration::from_secs(1);
/// Past [`BRIEF`] whatever second the URL was signed in.
const PAST_BRIEF: Duration = Duration::from_millis(2100);

/// A key no other test and no earlier run uses, scoped as the domain scopes document keys.
fn fresh_key() -> BlobKey {
    let (car, record) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    BlobKey::parse(&format!("cars/{car}/insurance/{record}/document")).expect("a valid key")
}

fn pdf_policy(max_size: u64, expires_in: Duration) -> UploadPolicy {
    UploadPolicy {
        content_type: BlobContentType::Pdf,
        max_size,
        expires_in,
    }
}

async fn upload_url(
    blobs: &BlobsUnderTest,
    key: &BlobKey,
    policy: UploadPolicy,
) -> PresignedRequest {
    let request = blobs
        .store
        .presign_upload(key, &policy)
        .await
        .expect("the upload URL is signed");
    assert_eq!(request.method, BlobMethod::Put);
    assert!(
        request
            .headers
            .iter()
            .any(|(name, value)| name.eq_ignore_ascii_case("content-type")
                && value == policy.content_type.as_str()),
        "the upload names its content type: {request:?}"
    );
    request
}

async fn download_url(
    blobs: &BlobsUnderTest,
    key: &BlobKey,
    expires_in: Duration,
) -> PresignedRequest {
    let request = blobs
        .store
        .presign_download(key, expires_in)
        .await
        .expect("the download URL is signed");
    assert_eq!(request.method, BlobMethod::Get);
    request
}

async fn head(blobs: &BlobsUnderTest, key: &BlobKey) -> Option<BlobHead> {
    blobs.store.head(key).await.expect("the head succeeds")
}

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

pub async fn an_upload_within_its_limits_is_stored_and_downloads_back(blobs: &BlobsUnderTest) {
    let key = fresh_key();
    let body = b"%PDF-1.7 a policy document".to_vec();
    // Exactly at the limit is within it.
    let request = upload_url(blobs, &key, pdf_policy(body.len() as u64, LONG)).await;
    assert!(
        request.expires_at > chrono::Utc::now() + chrono::TimeDelta::seconds(200),
        "the URL works for the policy's expiry: {request:?}"
    );
    assert!(
        blobs
            .client
            .upload(&request, "application/pdf", body.clone())
            .await
    );
    assert_eq!(
        head(blobs, &key).await,
        Some(BlobHead {
            content_type: "application/pdf".to_owned(),
            size: body.len() as u64,
        })
    );
    let download = download_url(blobs, &key, LONG).await;
    assert_eq!(blobs.client.download(&download).await, Some(body));
}

pub async fn an_upload_with_another_content_type_is_refused_and_stores_nothing(
    blobs: &BlobsUnderTest,
) {
    let key = fresh_key();
    let request = upload_url(blobs, &key, pdf_policy(1024, LONG)).await;
    assert!(
        !blobs
            .client
            .upload(&request, "text/html", b"<script>".to_vec())
            .await
    );
    assert!(
        !blobs
            .client
            .upload(&request, "image/png", b"\x89PNG".to_vec())
            .await
    );
    assert_eq!(head(blobs, &key).await, None);
}

pub async fn an_upload_over_the_size_limit_is_refused_and_stores_nothing(blobs: &BlobsUnderTest) {
    let key = fresh_key();
    let request = upload_url(blobs, &key, pdf_policy(16, LONG)).await;
    assert!(
        !blobs
            .client
            .upload(&request, "application/pdf", vec![b'x'; 17])
            .await
    );
    assert_eq!(head(blobs, &key).await, None);
}

pub async fn an_expired_upload_url_is_refused_and_stores_nothing(blobs: &BlobsUnderTest) {
    let key = fresh_key();
    let request = upload_url(blobs, &key, pdf_policy(1024, BRIEF)).await;
    tokio::time::sleep(PAST_BRIEF).await;
    assert!(
        !blobs
            .client
            .upload(&request, "application/pdf", b"%PDF".to_vec())
            .await
    );
    assert_eq!(head(blobs, &key).await, None);
}

pub async fn an_upload_to_an_altered_url_is_refused_and_stores_nothing(blobs: &BlobsUnderTest) {
    let (signed_for, other) = (fresh_key(), fresh_key());
    let mut request = upload_url(blobs, &signed_for, pdf_policy(1024, LONG)).await;
    request.url = request.url.replace(signed_for.as_str(), other.as_str());
    assert!(
        request.url.contains(other.as_str()),
        "the key appears in the URL"
    );
    assert!(
        !blobs
            .client
            .upload(&request, "application/pdf", b"%PDF".to_vec())
            .await
    );
    assert_eq!(head(blobs, &other).await, None);
    assert_eq!(head(blobs, &signed_for).await, None);
}

pub async fn a_refused_upload_keeps_what_the_key_held(blobs: &BlobsUnderTest) {
    let key = fresh_key();
    let first = b"%PDF first".to_vec();
    let request = upload_url(blobs, &key, pdf_policy(16, LONG)).await;
    assert!(
        blobs
            .client
            .upload(&request, "application/pdf", first.clone())
            .await
    );
    assert!(
        !blobs
            .client
            .upload(&request, "application/pdf", vec![b'y'; 17])
            .await
    );
    let download = download_url(blobs, &key, LONG).await;
    assert_eq!(blobs.client.download(&download).await, Some(first));
}

pub async fn a_download_url_expires(blobs: &BlobsUnderTest) {
    let key = fresh_key();
    let request = upload_url(blobs, &key, pdf_policy(1024, LONG)).await;
    assert!(
        blobs
            .client
            .upload(&request, "application/pdf", b"%PDF".to_vec())
            .await
    );
    let download = download_url(blobs, &key, BRIEF).await;
    // It works at once (an expiry rounded down to the second would already have passed)...
    assert_eq!(
        blobs.client.download(&download).await,
        Some(b"%PDF".to_vec())
    );
    // ...and no longer once its second is over.
    tokio::time::sleep(PAST_BRIEF).await;
    assert_eq!(blobs.client.download(&download).await, None);
}

pub async fn nothing_is_stored_under_a_key_never_uploaded(blobs: &BlobsUnderTest) {
    let key = fresh_key();
    assert_eq!(head(blobs, &key).await, None);
    let download = download_url(blobs, &key, LONG).await;
    assert_eq!(blobs.client.download(&download).await, None);
}

pub async fn requests_outside_the_port_limits_are_refused(blobs: &BlobsUnderTest) {
    let key = fresh_key();
    assert!(
        blobs
            .store
            .presign_upload(&key, &pdf_policy(0, LONG))
            .await
            .is_err()
    );
    assert!(
        blobs
            .store
            .presign_upload(&key, &pdf_policy(1, Duration::ZERO))
            .await
            .is_err()
    );
    assert!(
        blobs
            .store
            .presign_download(&key, itinera::blobs::MAX_EXPIRY + BRIEF)
            .await
            .is_err()
    );
}
