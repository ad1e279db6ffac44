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
//!
//! A test double may not check everything the real store does (moto verifies no presigned
//! signature). Its client then names each refusal it cannot show ([`BlobClient::unobservable`]),
//! and the test of that refusal says so on its output and checks instead that the URL binds the
//! term the real store enforces: never a silent pass.

pub mod embedded;
pub mod local_api;
pub mod s3;

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use itinera::blobs::{
    BlobContentType, BlobHead, BlobKey, BlobMethod, BlobStore, PresignedRequest, UploadPolicy,
};
pub use itinera_tests::http_client::{HttpAnswer, HttpClient};

/// A term of a presigned request the store must enforce by refusing requests that break it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The upload's `Content-Type` is the signed one.
    ContentType,
    /// The upload's length is the signed size.
    Length,
    /// The URL is used before its expiry.
    Expiry,
    /// The URL is used as it was signed (key, method, parameters).
    Signature,
}

/// Why a store under test cannot show a refusal, and how to check the URL binds its term instead.
pub struct Unobservable {
    /// Printed by the test that would exercise the refusal.
    pub reason: &'static str,
    /// Whether a presigned request binds the term into what the real store verifies.
    pub signed: fn(&PresignedRequest, Refusal) -> bool,
}

/// The client's side of presigned requests.
#[async_trait]
pub trait BlobClient: Send + Sync {
    /// Sends `body` with `content_type` as the upload `request` describes (its URL as it is, so
    /// a test may alter it); true when the store accepted it.
    async fn upload(&self, request: &PresignedRequest, content_type: &str, body: Vec<u8>) -> bool;

    /// Fetches the download `request`; the bytes, or `None` when the store refused.
    async fn download(&self, request: &PresignedRequest) -> Option<Vec<u8>>;

    /// `None` when the store refuses requests that break `refusal`'s term; otherwise why the
    /// store under test cannot show it.
    fn unobservable(&self, refusal: Refusal) -> Option<Unobservable> {
        let _ = refusal;
        None
    }
}

/// A fresh store, its client, and whatever must live as long as they (a temporary directory).
pub struct BlobsUnderTest {
    pub store: Box<dyn BlobStore>,
    pub client: Box<dyn BlobClient>,
    pub _resources: Box<dyn Send + Sync>,
}

#[async_trait]
impl BlobClient for HttpClient {
    async fn upload(&self, request: &PresignedRequest, content_type: &str, body: Vec<u8>) -> bool {
        let mut headers: Vec<(String, String)> = request
            .headers
            .iter()
            .filter(|(name, _)| !name.eq_ignore_ascii_case("content-type"))
            .cloned()
            .collect();
        headers.push(("content-type".to_owned(), content_type.to_owned()));
        let (status, _) = self.send("PUT", &request.url, &headers, body).await;
        status == 200
    }

    async fn download(&self, request: &PresignedRequest) -> Option<Vec<u8>> {
        let (status, body) = self
            .send("GET", &request.url, &request.headers, Vec::new())
            .await;
        (status == 200).then_some(body)
    }
}

/// The query parameters of a URL, decoded.
pub fn query_of(url: &str) -> HashMap<String, String> {
    let query = url.split_once('?').map_or("", |(_, query)| query);
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// Expands to one `#[tokio::test]` per conformance test, each on a store from `$fresh_blobs`
/// (an `async fn() -> BlobsUnderTest` returning an isolated, empty store).
macro_rules! blob_conformance_suite {
    ($fresh_blobs:path) => {
        $crate::blob_conformance::blob_conformance_suite!(@tests $fresh_blobs;
            an_upload_within_its_limits_is_stored_and_downloads_back,
            an_upload_with_another_content_type_is_refused_and_stores_nothing,
            an_upload_longer_than_its_size_is_refused_and_stores_nothing,
            an_upload_shorter_than_its_size_is_refused_and_stores_nothing,
            an_expired_upload_url_is_refused_and_stores_nothing,
            an_upload_to_an_altered_url_is_refused_and_stores_nothing,
            a_refused_upload_keeps_what_the_key_held,
            a_download_url_expires,
            nothing_is_stored_under_a_key_never_uploaded,
            requests_outside_the_port_limits_are_refused,
            promote_moves_an_upload_and_leaves_nothing_at_its_source,
            promote_repeated_after_it_succeeded_answers_the_same,
            promote_with_nothing_at_either_key_is_none,
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

/// A key no other test uses, under the pending uploads of an issue's photos.
fn fresh_photo_key() -> BlobKey {
    BlobKey::parse(&format!(
        "uploads/issues/{}/photos/p1",
        uuid::Uuid::now_v7()
    ))
    .expect("a valid key")
}

/// A pending upload's key and the key confirming it moves the object to, laid out as the
/// attachments module lays them out (`uploads/<scope>/<id>`, `files/<scope>/<id>`).
fn fresh_upload_keys() -> (BlobKey, BlobKey) {
    let (car, record, upload) = (
        uuid::Uuid::now_v7(),
        uuid::Uuid::now_v7(),
        uuid::Uuid::now_v7(),
    );
    let scoped = format!("cars/{car}/insurance/{record}/{upload}");
    (
        BlobKey::parse(&format!("uploads/{scoped}")).expect("a valid key"),
        BlobKey::parse(&format!("files/{scoped}")).expect("a valid key"),
    )
}

fn pdf_policy(size: u64, expires_in: Duration) -> UploadPolicy {
    UploadPolicy {
        content_type: BlobContentType::Pdf,
        size,
        expires_in,
    }
}

/// Whether the store under test can show `refusal`. When it cannot, says so on the test's
/// output and checks that `request` binds the term for the real store to enforce.
fn observable(blobs: &BlobsUnderTest, refusal: Refusal, request: &PresignedRequest) -> bool {
    match blobs.client.unobservable(refusal) {
        None => true,
        Some(gap) => {
            println!(
                "{refusal:?}: not observable on this store ({}); checked that the URL binds it \
                 instead",
                gap.reason
            );
            assert!(
                (gap.signed)(request, refusal),
                "the URL does not bind {refusal:?}: {request:?}"
            );
            false
        }
    }
}

/// Uploads `body` as a PDF of exactly its length under `key`, within a long expiry.
async fn stored_pdf(blobs: &BlobsUnderTest, key: &BlobKey, body: &[u8]) {
    let request = upload_url(blobs, key, pdf_policy(body.len() as u64, LONG)).await;
    assert!(
        blobs
            .client
            .upload(&request, "application/pdf", body.to_vec())
            .await,
        "the upload is accepted"
    );
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
    let request = upload_url(blobs, &key, pdf_policy(8, LONG)).await;
    if !observable(blobs, Refusal::ContentType, &request) {
        return;
    }
    assert!(
        !blobs
            .client
            .upload(&request, "text/html", b"<script>".to_vec())
            .await
    );
    assert!(
        !blobs
            .client
            .upload(&request, "image/png", b"\x89PNG\r\n\x1a\n".to_vec())
            .await
    );
    assert_eq!(head(blobs, &key).await, None);
}

/// An upload URL for 16 bytes refuses `length` bytes and stores nothing.
async fn assert_length_refused(blobs: &BlobsUnderTest, length: usize) {
    let key = fresh_key();
    let request = upload_url(blobs, &key, pdf_policy(16, LONG)).await;
    if !observable(blobs, Refusal::Length, &request) {
        return;
    }
    assert!(
        !blobs
            .client
            .upload(&request, "application/pdf", vec![b'x'; length])
            .await,
        "{length} bytes were accepted for 16"
    );
    assert_eq!(head(blobs, &key).await, None);
}

pub async fn an_upload_longer_than_its_size_is_refused_and_stores_nothing(blobs: &BlobsUnderTest) {
    assert_length_refused(blobs, 17).await;
}

pub async fn an_upload_shorter_than_its_size_is_refused_and_stores_nothing(blobs: &BlobsUnderTest) {
    assert_length_refused(blobs, 15).await;
}

pub async fn an_expired_upload_url_is_refused_and_stores_nothing(blobs: &BlobsUnderTest) {
    let key = fresh_key();
    let request = upload_url(blobs, &key, pdf_policy(4, BRIEF)).await;
    if !observable(blobs, Refusal::Expiry, &request) {
        return;
    }
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
    let mut request = upload_url(blobs, &signed_for, pdf_policy(4, LONG)).await;
    if !observable(blobs, Refusal::Signature, &request) {
        return;
    }
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
    let request = upload_url(blobs, &key, pdf_policy(first.len() as u64, LONG)).await;
    assert!(
        blobs
            .client
            .upload(&request, "application/pdf", first.clone())
            .await
    );
    if observable(blobs, Refusal::Length, &request) {
        assert!(
            !blobs
                .client
                .upload(&request, "application/pdf", vec![b'y'; first.len() + 1])
                .await
        );
    }
    let download = download_url(blobs, &key, LONG).await;
    assert_eq!(blobs.client.download(&download).await, Some(first));
}

pub async fn a_download_url_expires(blobs: &BlobsUnderTest) {
    let key = fresh_key();
    stored_pdf(blobs, &key, b"%PDF").await;
    let download = download_url(blobs, &key, BRIEF).await;
    // It works at once (an expiry rounded down to the second would already have passed)...
    assert_eq!(
        blobs.client.download(&download).await,
        Some(b"%PDF".to_vec())
    );
    if !observable(blobs, Refusal::Expiry, &download) {
        return;
    }
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

async fn promote(blobs: &BlobsUnderTest, from: &BlobKey, to: &BlobKey) -> Option<BlobHead> {
    blobs
        .store
        .promote(from, to)
        .await
        .expect("the promotion succeeds")
}

pub async fn promote_moves_an_upload_and_leaves_nothing_at_its_source(blobs: &BlobsUnderTest) {
    let (upload, file) = fresh_upload_keys();
    let body = b"%PDF-1.7 confirmed".to_vec();
    stored_pdf(blobs, &upload, &body).await;
    let moved = promote(blobs, &upload, &file).await;
    let expected = BlobHead {
        content_type: "application/pdf".to_owned(),
        size: body.len() as u64,
    };
    assert_eq!(moved, Some(expected.clone()));
    assert_eq!(head(blobs, &file).await, Some(expected));
    assert_eq!(head(blobs, &upload).await, None, "the source is gone");
    let download = download_url(blobs, &file, LONG).await;
    assert_eq!(blobs.client.download(&download).await, Some(body));
}

pub async fn promote_repeated_after_it_succeeded_answers_the_same(blobs: &BlobsUnderTest) {
    let (upload, file) = fresh_upload_keys();
    stored_pdf(blobs, &upload, b"%PDF once").await;
    let first = promote(blobs, &upload, &file).await;
    assert!(first.is_some());
    assert_eq!(promote(blobs, &upload, &file).await, first);
    assert_eq!(head(blobs, &file).await, first);
    assert_eq!(head(blobs, &upload).await, None);
}

pub async fn promote_with_nothing_at_either_key_is_none(blobs: &BlobsUnderTest) {
    let (upload, file) = fresh_upload_keys();
    assert_eq!(promote(blobs, &upload, &file).await, None);
    assert_eq!(head(blobs, &upload).await, None);
    assert_eq!(head(blobs, &file).await, None);
}
