//! The blob conformance suite against the S3 adapter, on an S3-compatible server (moto, started
//! by `./infra/test.sh`), each test in a bucket of its own, with a plain HTTP client (the SDK's
//! own connector) playing the browser's part against the presigned URLs.
//!
//! The server is named by `ITINERA_TEST_S3_ENDPOINT`. Without it the tests fail rather than
//! skip: a skipped adapter would look like a passing one.
//!
//! moto stores what a presigned URL is used for without verifying the request: not its
//! signature, not its expiry, not the headers it signs (its S3 checks only a request's
//! `Authorization` header, and presigned requests carry none). So the refusals of a wrong type,
//! a wrong length, an expired or an altered URL cannot be observed on it; the client names them
//! ([`BlobClient::unobservable`]), and those suite tests print so and check that the URL signs
//! the term S3 enforces instead. `moto_stores_what_s3_would_refuse` proves the gap is still
//! there, so the day moto verifies presigned requests that test fails and the refusals are
//! exercised for real. Confirmation checks the stored type and size with `head` in any case.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use itinera::blobs::{BlobContentType, BlobStore, PresignedRequest, UploadPolicy};
use itinera_aws::{S3Blobs, build_local_s3_client, create_bucket};

use super::{
    BlobClient, BlobsUnderTest, HttpClient, LONG, Refusal, Unobservable, fresh_photo_key, query_of,
};

const ENDPOINT_VARIABLE: &str = "ITINERA_TEST_S3_ENDPOINT";

/// Why the refusals cannot be observed on moto.
const MOTO_GAP: &str = "moto does not verify presigned requests: their signature, expiry and \
                        signed headers go unchecked";

/// A bucket name no other test, and no earlier run against the same server, has used.
fn unique_bucket() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "itinera-blobs-{}-{}-{}",
        std::process::id(),
        uuid::Uuid::now_v7()
            .simple()
            .to_string()
            .get(..12)
            .unwrap_or("0"),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Whether a presigned request binds `refusal`'s term into its SigV4 signature, which S3
/// verifies before it stores or serves anything.
fn signs(request: &PresignedRequest, refusal: Refusal) -> bool {
    let query = query_of(&request.url);
    let signed_headers: Vec<&str> = query
        .get("X-Amz-SignedHeaders")
        .map_or_else(Vec::new, |headers| headers.split(';').collect());
    let sends = |name: &str| {
        request
            .headers
            .iter()
            .any(|(header, _)| header.eq_ignore_ascii_case(name))
    };
    let signature = query.get("X-Amz-Algorithm").map(String::as_str) == Some("AWS4-HMAC-SHA256")
        && query
            .get("X-Amz-Signature")
            .is_some_and(|signature| signature.len() == 64);
    signature
        && match refusal {
            Refusal::ContentType => {
                signed_headers.contains(&"content-type") && sends("content-type")
            }
            Refusal::Length => {
                signed_headers.contains(&"content-length") && sends("content-length")
            }
            Refusal::Expiry => query
                .get("X-Amz-Expires")
                .and_then(|seconds| seconds.parse::<u64>().ok())
                .is_some_and(|seconds| seconds > 0),
            Refusal::Signature => signed_headers.contains(&"host"),
        }
}

/// The HTTP client, with the refusals moto cannot show named.
struct MotoClient(HttpClient);

#[async_trait]
impl BlobClient for MotoClient {
    async fn upload(&self, request: &PresignedRequest, content_type: &str, body: Vec<u8>) -> bool {
        self.0.upload(request, content_type, body).await
    }

    async fn download(&self, request: &PresignedRequest) -> Option<Vec<u8>> {
        self.0.download(request).await
    }

    fn unobservable(&self, _: Refusal) -> Option<Unobservable> {
        Some(Unobservable {
            reason: MOTO_GAP,
            signed: signs,
        })
    }
}

fn endpoint() -> String {
    std::env::var(ENDPOINT_VARIABLE).unwrap_or_else(|_| {
        panic!(
            "{ENDPOINT_VARIABLE} is not set: start moto with ./infra/test.sh or set \
             {ENDPOINT_VARIABLE}"
        )
    })
}

/// A store on a new bucket. Each test gets its own client: a client's connection pool is bound
/// to the runtime it was first used on, and every test runs on a runtime of its own.
async fn fresh_s3() -> S3Blobs {
    let endpoint = endpoint();
    let client = build_local_s3_client(&endpoint);
    let bucket = unique_bucket();
    create_bucket(&client, &bucket)
        .await
        .unwrap_or_else(|error| {
            panic!(
                "creating bucket {bucket} on {endpoint}: {}",
                itinera::error::chain(&error)
            )
        });
    S3Blobs::new(client, bucket)
}

async fn fresh_blobs() -> BlobsUnderTest {
    BlobsUnderTest {
        store: Box::new(fresh_s3().await),
        client: Box::new(MotoClient(HttpClient::new())),
        _resources: Box::new(()),
    }
}

crate::blob_conformance::blob_conformance_suite!(fresh_blobs);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_urls_sign_the_type_the_length_and_the_expiry_and_name_the_headers_to_send() {
    let blobs = fresh_s3().await;
    let policy = UploadPolicy {
        content_type: BlobContentType::Png,
        size: 1234,
        expires_in: LONG,
    };
    let request = blobs
        .presign_upload(&fresh_photo_key(), &policy)
        .await
        .unwrap();
    let query = query_of(&request.url);
    assert_eq!(
        query.get("X-Amz-SignedHeaders").map(String::as_str),
        Some("content-length;content-type;host"),
        "{request:?}"
    );
    assert_eq!(query.get("X-Amz-Expires").map(String::as_str), Some("300"));
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    };
    assert_eq!(header("content-type"), Some("image/png"));
    assert_eq!(header("content-length"), Some("1234"));
    for refusal in [
        Refusal::ContentType,
        Refusal::Length,
        Refusal::Expiry,
        Refusal::Signature,
    ] {
        assert!(signs(&request, refusal), "{refusal:?}");
    }
    let download = blobs
        .presign_download(&fresh_photo_key(), LONG)
        .await
        .unwrap();
    assert!(signs(&download, Refusal::Expiry) && signs(&download, Refusal::Signature));
    assert!(!signs(&download, Refusal::ContentType));
}

/// The gap the suite works around: if moto starts verifying presigned requests, this fails,
/// and [`MotoClient`] should name no refusal any more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_stores_what_s3_would_refuse() {
    let blobs = fresh_s3().await;
    let client = MotoClient(HttpClient::new());
    let key = fresh_photo_key();
    let policy = UploadPolicy {
        content_type: BlobContentType::Pdf,
        size: 4,
        expires_in: Duration::from_secs(1),
    };
    let request = blobs.presign_upload(&key, &policy).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(
        client
            .upload(&request, "text/html", b"<script>".to_vec())
            .await,
        "moto refused an expired upload of another type and length: it verifies presigned \
         requests now, so the suite can observe those refusals on it"
    );
    let stored = blobs.head(&key).await.unwrap().expect("moto stored it");
    assert_eq!(
        (stored.content_type.as_str(), stored.size),
        ("text/html", 8)
    );
}
