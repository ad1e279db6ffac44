//! The blob conformance suite against the embedded (file) blob store, each test in its own
//! temporary directory, with a client that hands requests to the calls the local API serves
//! the URLs with. Below the suite, what only this adapter shows: the parts of its URLs a client
//! could raise, and the temporary files a refused upload must not leave.

use std::sync::Arc;

use async_trait::async_trait;
use itinera::blobs::{BlobContentType, BlobKey, BlobStore, PresignedRequest, UploadPolicy};
use itinera::clock::SystemClock;
use itinera_embedded::{BLOBS_DIR_NAME, BlobRequestError, EmbeddedBlobs};

use super::{BlobClient, BlobsUnderTest, LONG};

const BASE_URL: &str = "http://127.0.0.1:3000";

/// Plays the client by calling the handlers the local API serves presigned URLs with.
struct DirectClient(EmbeddedBlobs);

impl DirectClient {
    fn target(request: &PresignedRequest) -> String {
        request
            .url
            .strip_prefix(BASE_URL)
            .expect("the URL starts with the base URL")
            .to_owned()
    }
}

#[async_trait]
impl BlobClient for DirectClient {
    async fn upload(&self, request: &PresignedRequest, content_type: &str, body: Vec<u8>) -> bool {
        let (blobs, target, content_type) = (
            self.0.clone(),
            Self::target(request),
            content_type.to_owned(),
        );
        tokio::task::spawn_blocking(move || {
            // As an HTTP client does, the request declares the body's length.
            let length = Some(body.len() as u64);
            blobs.receive_upload(&target, Some(&content_type), length, body.as_slice())
        })
        .await
        .expect("the upload runs")
        .is_ok()
    }

    async fn download(&self, request: &PresignedRequest) -> Option<Vec<u8>> {
        let (blobs, target) = (self.0.clone(), Self::target(request));
        tokio::task::spawn_blocking(move || {
            let mut download = blobs.open_download(&target).ok()?;
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut download.body, &mut bytes).expect("the file reads");
            assert_eq!(bytes.len() as u64, download.head.size);
            Some(bytes)
        })
        .await
        .expect("the download runs")
    }
}

fn open(dir: &tempfile::TempDir) -> EmbeddedBlobs {
    EmbeddedBlobs::open(
        dir.path(),
        b"a test signing key".to_vec(),
        BASE_URL,
        Arc::new(SystemClock),
    )
    .expect("the embedded blob store opens")
}

async fn fresh_blobs() -> BlobsUnderTest {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let blobs = open(&dir);
    BlobsUnderTest {
        store: Box::new(blobs.clone()),
        client: Box::new(DirectClient(blobs)),
        _resources: Box::new(dir),
    }
}

crate::blob_conformance::blob_conformance_suite!(fresh_blobs);

fn key() -> BlobKey {
    BlobKey::parse(&format!("issues/{}/photos/1", uuid::Uuid::now_v7())).unwrap()
}

/// Every file under the blobs directory, temporary ones included.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

/// A body no check may read: the request is refused on its declared length alone.
struct Panics;

impl std::io::Read for Panics {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        panic!("the body was read")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raising_a_urls_size_or_changing_its_type_breaks_its_signature() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = open(&dir);
    let key = key();
    let policy = UploadPolicy {
        content_type: BlobContentType::Jpeg,
        size: 4,
        expires_in: LONG,
    };
    let request = blobs.presign_upload(&key, &policy).await.unwrap();
    let target = DirectClient::target(&request);
    let raised = target.replace("Size=4&", "Size=4000&");
    let retyped = target.replace("image/jpeg", "text/html");
    let later = {
        let (head, expires) = target.split_once("Expires=").unwrap();
        let (stamp, rest) = expires.split_once('&').unwrap();
        let stamp: i64 = stamp.parse().unwrap();
        format!("{head}Expires={}&{rest}", stamp + 3600)
    };
    for (altered, content_type) in [
        (&raised, "image/jpeg"),
        (&retyped, "text/html"),
        (&later, "image/jpeg"),
    ] {
        assert_ne!(altered, &target);
        let refused = blobs.receive_upload(altered, Some(content_type), Some(8), &b"12345678"[..]);
        assert!(
            matches!(refused, Err(BlobRequestError::BadSignature)),
            "{altered}: {refused:?}"
        );
    }
    // The download URL of the same key is no upload URL.
    let download = blobs.presign_download(&key, LONG).await.unwrap();
    let refused = blobs.receive_upload(
        &DirectClient::target(&download),
        Some("image/jpeg"),
        Some(4),
        &b"1234"[..],
    );
    assert!(refused.is_err(), "{refused:?}");
    assert!(files_under(&dir.path().join(BLOBS_DIR_NAME)).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_uploads_leave_no_temporary_file_and_a_stored_one_is_the_only_file() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = open(&dir);
    let key = key();
    let policy = UploadPolicy {
        content_type: BlobContentType::Png,
        size: 8,
        expires_in: LONG,
    };
    let target = DirectClient::target(&blobs.presign_upload(&key, &policy).await.unwrap());
    // Streamed without a declared length, a body is measured as it arrives.
    let too_large = blobs.receive_upload(&target, Some("image/png"), None, &[0u8; 9][..]);
    assert!(
        matches!(too_large, Err(BlobRequestError::TooLarge)),
        "{too_large:?}"
    );
    let too_short = blobs.receive_upload(&target, Some("image/png"), None, &[0u8; 7][..]);
    assert!(
        matches!(too_short, Err(BlobRequestError::Incomplete)),
        "{too_short:?}"
    );
    // A body that ends before the length its request declared is incomplete too.
    let cut_off = blobs.receive_upload(&target, Some("image/png"), Some(8), &[0u8; 5][..]);
    assert!(
        matches!(cut_off, Err(BlobRequestError::Incomplete)),
        "{cut_off:?}"
    );
    // A declared length other than the URL's size is refused before the body is read.
    let declared_larger = blobs.receive_upload(&target, Some("image/png"), Some(9), Panics);
    assert!(
        matches!(declared_larger, Err(BlobRequestError::TooLarge)),
        "{declared_larger:?}"
    );
    let no_type = blobs.receive_upload(&target, None, Some(8), &[0u8; 8][..]);
    assert!(
        matches!(no_type, Err(BlobRequestError::WrongContentType)),
        "{no_type:?}"
    );
    let root = dir.path().join(BLOBS_DIR_NAME);
    assert!(files_under(&root).is_empty(), "{:?}", files_under(&root));

    let stored = blobs
        .receive_upload(&target, Some("image/png"), Some(8), &[7u8; 8][..])
        .unwrap();
    assert_eq!(stored.size, 8);
    assert_eq!(blobs.head(&key).await.unwrap(), Some(stored));
    let files = files_under(&root);
    assert_eq!(files, vec![root.join(key.as_str())]);
    // Keys above and below a stored one hold nothing, whichever way the paths nest.
    let below = BlobKey::parse(&format!("{key}/more")).unwrap();
    let above = BlobKey::from_segments(key.segments().take(2)).unwrap();
    assert_eq!(blobs.head(&below).await.unwrap(), None);
    assert_eq!(blobs.head(&above).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_survive_reopening_and_urls_signed_with_another_key_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let key = key();
    let policy = UploadPolicy {
        content_type: BlobContentType::Webp,
        size: 4,
        expires_in: LONG,
    };
    {
        let blobs = open(&dir);
        let target = DirectClient::target(&blobs.presign_upload(&key, &policy).await.unwrap());
        blobs
            .receive_upload(&target, Some("image/webp"), Some(4), &b"RIFF"[..])
            .unwrap();
    }
    let reopened = open(&dir);
    assert_eq!(
        reopened.head(&key).await.unwrap().map(|head| head.size),
        Some(4)
    );

    let stranger = EmbeddedBlobs::open(
        dir.path(),
        b"another key".to_vec(),
        BASE_URL,
        Arc::new(SystemClock),
    )
    .unwrap();
    let download = stranger.presign_download(&key, LONG).await.unwrap();
    let refused = reopened.open_download(&DirectClient::target(&download));
    assert!(matches!(refused, Err(BlobRequestError::BadSignature)));
}

#[test]
fn targets_that_are_no_presigned_url_are_malformed() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = open(&dir);
    for target in [
        "/blobs/cars/1/insurance/2/document",
        "/blobs/../etc/passwd?X-Itinera-Expires=1&X-Itinera-Signature=00",
        "/other/cars/1?X-Itinera-Expires=1&X-Itinera-Signature=00",
        "/blobs/cars/1?X-Itinera-Expires=1&X-Itinera-Expires=2&X-Itinera-Signature=00",
        "/blobs/cars/1?X-Itinera-Expires=1&X-Itinera-Signature=zz",
        "/blobs/cars/1?X-Itinera-Expires=1&X-Itinera-Signature=00&extra=1",
    ] {
        let refused = blobs.open_download(target);
        assert!(
            matches!(refused, Err(BlobRequestError::Malformed)),
            "{target}: {:?}",
            refused.err()
        );
    }
}
