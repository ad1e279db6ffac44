//! The client's side of file uploads in tests: an embedded blob store in a test's directory, and
//! calls that send to and fetch from the URLs the API hands out, as the local API serves them.

use std::path::Path;
use std::sync::Arc;

use itinera::clock::{Clock, SystemClock};
use itinera_embedded::{BlobRequestError, EmbeddedBlobs};

/// The base of the blob URLs test stores sign (no server listens there: [`upload_to`] and
/// [`download_from`] call the adapter directly).
pub const TEST_BLOBS_URL: &str = "http://127.0.0.1:3000";

/// An embedded blob store under `dir` with the system clock.
pub fn embedded_blobs(dir: &Path) -> EmbeddedBlobs {
    embedded_blobs_with_clock(dir, Arc::new(SystemClock))
}

/// An embedded blob store under `dir` whose URLs expire by `clock`.
pub fn embedded_blobs_with_clock(dir: &Path, clock: Arc<dyn Clock>) -> EmbeddedBlobs {
    EmbeddedBlobs::open(
        dir,
        b"a test blob signing key".to_vec(),
        TEST_BLOBS_URL,
        clock,
    )
    .expect("the embedded blob store opens")
}

fn target(url: &str) -> &str {
    url.strip_prefix(TEST_BLOBS_URL)
        .expect("a URL of a test blob store")
}

/// Sends `body` with `content_type` to the upload `url`, as a client would.
pub async fn upload_to(
    blobs: &EmbeddedBlobs,
    url: &str,
    content_type: &str,
    body: &[u8],
) -> Result<(), BlobRequestError> {
    let (blobs, target, content_type, body) = (
        blobs.clone(),
        target(url).to_owned(),
        content_type.to_owned(),
        body.to_vec(),
    );
    tokio::task::spawn_blocking(move || {
        blobs
            .receive_upload(&target, Some(&content_type), body.as_slice())
            .map(drop)
    })
    .await
    .expect("the upload runs")
}

/// Fetches the download `url`, as a client would.
pub async fn download_from(blobs: &EmbeddedBlobs, url: &str) -> Result<Vec<u8>, BlobRequestError> {
    let (blobs, target) = (blobs.clone(), target(url).to_owned());
    tokio::task::spawn_blocking(move || {
        let mut download = blobs.open_download(&target)?;
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut download.body, &mut bytes)?;
        Ok(bytes)
    })
    .await
    .expect("the download runs")
}
