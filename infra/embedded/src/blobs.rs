//! The blob port on local files, with URLs signed like S3's presigned ones.
//!
//! Objects live under `DATA_DIR/blobs/`, one file per key at the key's path. Each file starts
//! with one line holding the content type it was uploaded with, so an object and its type appear
//! together in one rename: an upload is streamed into a hidden temporary file under
//! `blobs/.uploads/` (no key segment may start with `.`), synced, then renamed over the key, so a
//! crash never leaves half a file under a real key and a refused upload leaves nothing behind.
//!
//! A URL carries its own authority, as S3's do: an HMAC-SHA256, under a key only this adapter
//! and the local API hold, over the method, the object key, the content type, the size limit and
//! the expiry. Changing any of them, or using the URL after its expiry, makes it worthless.
//! The local API serves the URLs with [`EmbeddedBlobs::receive_upload`] and
//! [`EmbeddedBlobs::open_download`], which do the checking; they block on file I/O, so callers
//! on an async runtime run them on its blocking threads.

use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta};
use hmac::{Hmac, KeyInit, Mac};
use itinera::blobs::{
    BlobContentType, BlobError, BlobHead, BlobKey, BlobMethod, BlobStore, PresignedRequest,
    UploadPolicy, check_expiry, check_upload_policy,
};
use itinera::clock::Clock;
use sha2::Sha256;

/// The directory under the data directory that holds the objects.
pub const BLOBS_DIR_NAME: &str = "blobs";
/// Where uploads are written before they are renamed over their key.
const UPLOADS_DIR_NAME: &str = ".uploads";
/// The path every URL of this adapter starts with, after the base URL.
pub const BLOBS_PATH: &str = "/blobs/";

const TYPE_PARAM: &str = "X-Itinera-Content-Type";
const MAX_PARAM: &str = "X-Itinera-Max-Size";
const EXPIRES_PARAM: &str = "X-Itinera-Expires";
const SIGNATURE_PARAM: &str = "X-Itinera-Signature";

static NEXT_TEMPORARY: AtomicU64 = AtomicU64::new(0);

/// Why a request to a presigned URL was refused. The local API answers each with a 4xx (the
/// last with a 5xx); none says more than that the URL does not allow the request.
#[derive(Debug, thiserror::Error)]
pub enum BlobRequestError {
    /// The target is no URL of this adapter, or lacks a part.
    #[error("the URL is not a presigned blob URL")]
    Malformed,
    /// The signature does not match what the URL claims (tampered, or for another method).
    #[error("the URL's signature does not match")]
    BadSignature,
    /// The URL's expiry has passed.
    #[error("the URL has expired")]
    Expired,
    /// The upload's `Content-Type` is not the one the URL was signed for.
    #[error("the content type is not the one the URL allows")]
    WrongContentType,
    /// The upload is longer than the URL allows.
    #[error("the upload is larger than the URL allows")]
    TooLarge,
    /// Nothing is stored under the key.
    #[error("no object under the key")]
    NotFound,
    /// Reading or writing the files failed.
    #[error("reading or writing a blob file")]
    Io(#[from] io::Error),
}

/// An object being downloaded: its type and size, and its bytes to read.
pub struct BlobDownload {
    pub head: BlobHead,
    /// The object's bytes, exactly `head.size` of them.
    pub body: io::Take<BufReader<fs::File>>,
}

/// The embedded blob store. Cheap to clone: clones share the directory, key and clock.
#[derive(Clone)]
pub struct EmbeddedBlobs {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    signing_key: Vec<u8>,
    base_url: String,
    clock: Arc<dyn Clock>,
}

impl EmbeddedBlobs {
    /// Opens (creating it if need be) `data_dir/blobs/`. URLs start with `base_url` (the local
    /// API's address, no trailing `/`) and are signed with `signing_key`.
    pub fn open(
        data_dir: &Path,
        signing_key: Vec<u8>,
        base_url: &str,
        clock: Arc<dyn Clock>,
    ) -> io::Result<Self> {
        let dir = data_dir.join(BLOBS_DIR_NAME);
        fs::create_dir_all(dir.join(UPLOADS_DIR_NAME))?;
        Ok(Self {
            inner: Arc::new(Inner {
                dir,
                signing_key,
                base_url: base_url.trim_end_matches('/').to_owned(),
                clock,
            }),
        })
    }

    /// Stores the upload `body` sent with `content_type` to `target` (the request's path and
    /// query), if the URL allows it: signed by this adapter for a `PUT` of this key with this
    /// type, not expired, and the body within its size limit. A refused upload stores nothing.
    pub fn receive_upload(
        &self,
        target: &str,
        content_type: Option<&str>,
        body: impl Read,
    ) -> Result<BlobHead, BlobRequestError> {
        let request = self.verify(BlobMethod::Put, target)?;
        let (Some(allowed), Some(max_size)) = (request.content_type, request.max_size) else {
            return Err(BlobRequestError::Malformed);
        };
        if content_type != Some(allowed.as_str()) {
            return Err(BlobRequestError::WrongContentType);
        }
        let temporary = self.inner.dir.join(UPLOADS_DIR_NAME).join(format!(
            "{}-{}.tmp",
            std::process::id(),
            NEXT_TEMPORARY.fetch_add(1, Ordering::Relaxed)
        ));
        let stored = write_then_rename(
            &temporary,
            &self.path_of(&request.key),
            allowed,
            max_size,
            body,
        );
        if stored.is_err() {
            // Best effort: a leftover temporary file is hidden and under no key.
            let _ = fs::remove_file(&temporary);
        }
        stored
    }

    /// Opens the object a download URL (`target`: the request's path and query) names, if the
    /// URL allows it: signed by this adapter for a `GET` of this key, and not expired.
    pub fn open_download(&self, target: &str) -> Result<BlobDownload, BlobRequestError> {
        let request = self.verify(BlobMethod::Get, target)?;
        match read_object(&self.path_of(&request.key))? {
            Some(download) => Ok(download),
            None => Err(BlobRequestError::NotFound),
        }
    }

    fn path_of(&self, key: &BlobKey) -> PathBuf {
        key.segments()
            .fold(self.inner.dir.clone(), |path, segment| path.join(segment))
    }

    fn presign(
        &self,
        method: BlobMethod,
        key: &BlobKey,
        content_type: Option<&str>,
        max_size: Option<u64>,
        expires_in: Duration,
    ) -> Result<PresignedRequest, BlobError> {
        let expires_in = TimeDelta::from_std(expires_in)
            .map_err(|_| BlobError::Invalid("the expiry is out of range"))?;
        let expires_at = self.inner.clock.now() + expires_in;
        // Whole seconds, rounded up: a URL works for at least the expiry asked for.
        let expires = expires_at.timestamp() + i64::from(expires_at.timestamp_subsec_nanos() > 0);
        let signature = hex(&self
            .mac(method, key, content_type, max_size, expires)
            .finalize()
            .into_bytes());
        let mut query = Vec::new();
        if let Some(content_type) = content_type {
            query.push(format!("{TYPE_PARAM}={content_type}"));
        }
        if let Some(max_size) = max_size {
            query.push(format!("{MAX_PARAM}={max_size}"));
        }
        query.push(format!("{EXPIRES_PARAM}={expires}"));
        query.push(format!("{SIGNATURE_PARAM}={signature}"));
        Ok(PresignedRequest {
            method,
            url: format!(
                "{}{BLOBS_PATH}{key}?{}",
                self.inner.base_url,
                query.join("&")
            ),
            headers: content_type
                .map(|t| ("Content-Type".to_owned(), t.to_owned()))
                .into_iter()
                .collect(),
            expires_at: DateTime::from_timestamp(expires, 0).unwrap_or(expires_at),
        })
    }

    fn mac(
        &self,
        method: BlobMethod,
        key: &BlobKey,
        content_type: Option<&str>,
        max_size: Option<u64>,
        expires: i64,
    ) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.inner.signing_key)
            .expect("HMAC takes a key of any length");
        // One field per line; no field can hold a newline, so no two requests sign alike.
        let signed = format!(
            "itinera-blob-v1\n{}\n{key}\n{}\n{}\n{expires}",
            method.as_str(),
            content_type.unwrap_or(""),
            max_size.map(|m| m.to_string()).unwrap_or_default(),
        );
        mac.update(signed.as_bytes());
        mac
    }

    /// Checks a request to `target` for `method`: an URL of this adapter, signed, not expired.
    fn verify(
        &self,
        method: BlobMethod,
        target: &str,
    ) -> Result<VerifiedRequest, BlobRequestError> {
        let (path, query) = target.split_once('?').ok_or(BlobRequestError::Malformed)?;
        let key = path
            .strip_prefix(BLOBS_PATH)
            .and_then(|key| BlobKey::parse(key).ok())
            .ok_or(BlobRequestError::Malformed)?;
        let (mut content_type, mut max_size, mut expires, mut signature) = (None, None, None, None);
        for pair in query.split('&') {
            let (name, value) = pair.split_once('=').ok_or(BlobRequestError::Malformed)?;
            let slot = match name {
                TYPE_PARAM => &mut content_type,
                MAX_PARAM => &mut max_size,
                EXPIRES_PARAM => &mut expires,
                SIGNATURE_PARAM => &mut signature,
                _ => return Err(BlobRequestError::Malformed),
            };
            if slot.replace(value).is_some() {
                return Err(BlobRequestError::Malformed);
            }
        }
        let expires: i64 = expires
            .and_then(|e| e.parse().ok())
            .ok_or(BlobRequestError::Malformed)?;
        let max_size: Option<u64> = max_size
            .map(|m| m.parse().map_err(|_| BlobRequestError::Malformed))
            .transpose()?;
        let signature = signature
            .and_then(unhex)
            .ok_or(BlobRequestError::Malformed)?;
        // `verify_slice` compares in constant time: where a guess differs must not leak.
        self.mac(method, &key, content_type, max_size, expires)
            .verify_slice(&signature)
            .map_err(|_| BlobRequestError::BadSignature)?;
        if self.inner.clock.now().timestamp() >= expires {
            return Err(BlobRequestError::Expired);
        }
        let content_type = match content_type {
            Some(t) => Some(BlobContentType::parse(t).ok_or(BlobRequestError::Malformed)?),
            None => None,
        };
        Ok(VerifiedRequest {
            key,
            content_type,
            max_size,
        })
    }
}

/// What a signed URL allows, once checked.
struct VerifiedRequest {
    key: BlobKey,
    content_type: Option<BlobContentType>,
    max_size: Option<u64>,
}

/// Streams `body` (at most `max_size` bytes) behind the content-type line into `temporary`,
/// syncs it, and renames it to `path`.
fn write_then_rename(
    temporary: &Path,
    path: &Path,
    content_type: BlobContentType,
    max_size: u64,
    body: impl Read,
) -> Result<BlobHead, BlobRequestError> {
    let mut file = fs::File::create(temporary)?;
    writeln!(file, "{}", content_type.as_str())?;
    // One byte past the limit is enough to know the body is too large.
    let size = io::copy(&mut body.take(max_size + 1), &mut file)?;
    if size > max_size {
        return Err(BlobRequestError::TooLarge);
    }
    file.sync_all()?;
    let parent = path
        .parent()
        .expect("a key's path is under the blobs directory");
    fs::create_dir_all(parent)?;
    fs::rename(temporary, path)?;
    // The rename is durable once the directory is synced too.
    fs::File::open(parent)?.sync_all()?;
    Ok(BlobHead {
        content_type: content_type.as_str().to_owned(),
        size,
    })
}

/// The object at `path`, if there is one.
fn read_object(path: &Path) -> io::Result<Option<BlobDownload>> {
    let file = match fs::File::open(path) {
        Ok(file) => file,
        // A shorter key holds an object where this key's path needs a directory: nothing here.
        Err(error)
            if matches!(
                error.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(None);
        }
        Err(error) => return Err(error),
    };
    let metadata = file.metadata()?;
    // A key's path that is a directory (a longer key under it exists) holds no object.
    if metadata.is_dir() {
        return Ok(None);
    }
    let total = metadata.len();
    let mut reader = BufReader::new(file);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let content_type = line
        .strip_suffix('\n')
        .ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidData, "a blob file without its header")
        })?
        .to_owned();
    let size = total - line.len() as u64;
    Ok(Some(BlobDownload {
        head: BlobHead { content_type, size },
        body: reader.take(size),
    }))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

fn internal(error: impl std::error::Error + Send + Sync + 'static) -> BlobError {
    BlobError::Internal(Box::new(error))
}

#[async_trait]
impl BlobStore for EmbeddedBlobs {
    async fn presign_upload(
        &self,
        key: &BlobKey,
        policy: &UploadPolicy,
    ) -> Result<PresignedRequest, BlobError> {
        check_upload_policy(policy)?;
        self.presign(
            BlobMethod::Put,
            key,
            Some(policy.content_type.as_str()),
            Some(policy.max_size),
            policy.expires_in,
        )
    }

    async fn presign_download(
        &self,
        key: &BlobKey,
        expires_in: Duration,
    ) -> Result<PresignedRequest, BlobError> {
        check_expiry(expires_in)?;
        self.presign(BlobMethod::Get, key, None, None, expires_in)
    }

    async fn head(&self, key: &BlobKey) -> Result<Option<BlobHead>, BlobError> {
        let path = self.path_of(key);
        tokio::task::spawn_blocking(move || read_object(&path))
            .await
            .map_err(internal)?
            .map(|object| object.map(|download| download.head))
            .map_err(internal)
    }

    async fn promote(&self, from: &BlobKey, to: &BlobKey) -> Result<Option<BlobHead>, BlobError> {
        let (from, to) = (self.path_of(from), self.path_of(to));
        tokio::task::spawn_blocking(move || move_object(&from, &to))
            .await
            .map_err(internal)?
            .map_err(internal)
    }
}

/// Renames the object at `from` to `to` (durably), or, with nothing at `from`, leaves `to` as it
/// is; either way answers what `to` holds.
fn move_object(from: &Path, to: &Path) -> io::Result<Option<BlobHead>> {
    if read_object(from)?.is_some() {
        let parent = to
            .parent()
            .expect("a key's path is under the blobs directory");
        fs::create_dir_all(parent)?;
        fs::rename(from, to)?;
        fs::File::open(parent)?.sync_all()?;
    }
    Ok(read_object(to)?.map(|download| download.head))
}
