//! The blob port: S3 semantics for uploaded files, in typed terms.
//!
//! Files (insurance documents, issue photos) never travel through the API: the domain hands the
//! client a presigned URL and the client talks to the blob store directly. That keeps Lambda
//! payload limits out of the way and the bytes off the functions. The domain keeps the rules:
//! it chooses every object key ([`BlobKey`], scoped under the record it belongs to, never taken
//! from a client), fixes the content type and the largest size an upload may have, and bounds how
//! long a URL works. Once the client says it uploaded, [`BlobStore::head`] tells whether the
//! object is there with the declared type and size before the record names it.
//!
//! S3 implements this in AWS (its presigned requests); the embedded adapter keeps files under
//! the local data directory and signs its URLs with a key of its own.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::storage::BoxError;

/// The longest a key may be (S3 allows 1024 bytes; the domain's keys are far shorter).
pub const MAX_KEY_LEN: usize = 512;

/// The longest a presigned URL may work (S3's limit for signatures: seven days).
pub const MAX_EXPIRY: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// An object key the domain chose: `/`-separated segments of ASCII letters, digits, `-`, `_`
/// and `.`, none empty and none starting with `.` (so no `.` or `..` and no hidden files on a
/// disk), at most [`MAX_KEY_LEN`] bytes. Keys are scoped to the record they belong to, as in
/// `cars/{carId}/insurance/{id}/document`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlobKey(String);

/// Why a string is no [`BlobKey`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid blob key: {0}")]
pub struct InvalidBlobKey(&'static str);

impl BlobKey {
    /// Joins `segments` with `/` into a key, validating each.
    pub fn from_segments<'a>(
        segments: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, InvalidBlobKey> {
        Self::parse(&segments.into_iter().collect::<Vec<_>>().join("/"))
    }

    /// Validates a whole key, as [`BlobKey`] describes.
    pub fn parse(key: &str) -> Result<Self, InvalidBlobKey> {
        if key.is_empty() {
            return Err(InvalidBlobKey("empty"));
        }
        if key.len() > MAX_KEY_LEN {
            return Err(InvalidBlobKey("too long"));
        }
        for segment in key.split('/') {
            if segment.is_empty() {
                return Err(InvalidBlobKey("an empty segment"));
            }
            if segment.starts_with('.') {
                return Err(InvalidBlobKey("a segment starting with '.'"));
            }
            if !segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            {
                return Err(InvalidBlobKey(
                    "a character other than letters, digits, '-', '_' or '.'",
                ));
            }
        }
        Ok(Self(key.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key's segments, in order.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }
}

impl fmt::Display for BlobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The content types uploads may have: documents and photos.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BlobContentType {
    Pdf,
    Jpeg,
    Png,
    Webp,
}

impl BlobContentType {
    pub const ALL: [Self; 4] = [Self::Pdf, Self::Jpeg, Self::Png, Self::Webp];

    /// The MIME type, as sent in `Content-Type`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
        }
    }

    /// The content type a MIME type names, if uploads may have it.
    pub fn parse(mime: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == mime)
    }
}

impl fmt::Display for BlobContentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an upload URL allows: one content type, at most `max_size` bytes, for `expires_in`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UploadPolicy {
    pub content_type: BlobContentType,
    pub max_size: u64,
    pub expires_in: Duration,
}

/// The HTTP method a presigned request is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlobMethod {
    Put,
    Get,
}

impl BlobMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Put => "PUT",
            Self::Get => "GET",
        }
    }
}

/// A request the client makes directly to the blob store: the method, the URL and the headers
/// it must send as they are (an upload's `Content-Type`), until `expires_at`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PresignedRequest {
    pub method: BlobMethod,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub expires_at: DateTime<Utc>,
}

/// What the store holds under a key: the content type it was uploaded with and its size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobHead {
    pub content_type: String,
    pub size: u64,
}

/// Why a blob operation failed.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// A request the port refuses before asking the store: an expiry of zero or over
    /// [`MAX_EXPIRY`], a maximum size of zero.
    #[error("invalid blob request: {0}")]
    Invalid(&'static str),
    /// The store could not be reached, or refused the request for now.
    #[error("the blob store could not be reached")]
    Unavailable(#[source] BoxError),
    /// Anything else.
    #[error("the blob store failed unexpectedly")]
    Internal(#[source] BoxError),
}

/// Checks what every adapter refuses alike: an expiry of zero or over [`MAX_EXPIRY`].
pub fn check_expiry(expires_in: Duration) -> Result<(), BlobError> {
    if expires_in.is_zero() || expires_in > MAX_EXPIRY {
        return Err(BlobError::Invalid(
            "the expiry must be between 1 second and 7 days",
        ));
    }
    Ok(())
}

/// Checks an upload policy: its expiry, and a maximum size of at least one byte.
pub fn check_upload_policy(policy: &UploadPolicy) -> Result<(), BlobError> {
    check_expiry(policy.expires_in)?;
    if policy.max_size == 0 {
        return Err(BlobError::Invalid(
            "the maximum size must be at least 1 byte",
        ));
    }
    Ok(())
}

/// The blob store port.
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// A URL the client uploads one object to with `PUT`, sending the policy's content type. An
    /// upload with another type, over the maximum size, after the expiry or to an altered URL is
    /// refused and stores nothing; a refused upload never replaces what was under the key.
    async fn presign_upload(
        &self,
        key: &BlobKey,
        policy: &UploadPolicy,
    ) -> Result<PresignedRequest, BlobError>;

    /// A URL the client downloads the object under `key` from with `GET`, until the expiry.
    async fn presign_download(
        &self,
        key: &BlobKey,
        expires_in: Duration,
    ) -> Result<PresignedRequest, BlobError>;

    /// What is stored under `key`, if anything.
    async fn head(&self, key: &BlobKey) -> Result<Option<BlobHead>, BlobError>;

    /// Moves the object under `from` to `to` (replacing anything there) and tells what `to` now
    /// holds. If `from` holds nothing, `to` is left as it is and its head is returned, so a
    /// move repeated after it succeeded answers as the first did; `None` when neither holds an
    /// object. Confirming an upload moves it out of the prefix that unconfirmed uploads expire
    /// from.
    async fn promote(&self, from: &BlobKey, to: &BlobKey) -> Result<Option<BlobHead>, BlobError>;
}

/// The blob store of a process that has none configured: every request fails as the store being
/// unavailable (a 503, nothing recorded), and the log says why. Processes start with it; the
/// functions whose routes handle files replace it at start from their `BLOB_BUCKET` setting, so in
/// a correctly declared deployment it never answers a request.
#[derive(Clone, Copy, Debug, Default)]
pub struct UnconfiguredBlobStore;

/// Why no URL was signed, for the error chain and the log.
#[derive(Debug, thiserror::Error)]
#[error(
    "this process has no blob store configured: set BLOB_BUCKET and declare the route as handling \
     files"
)]
struct NoBlobStore;

impl UnconfiguredBlobStore {
    fn refuse(operation: &str) -> BlobError {
        tracing::error!(
            operation,
            "a file operation was attempted in a process without a blob store"
        );
        BlobError::Unavailable(Box::new(NoBlobStore))
    }
}

#[async_trait]
impl BlobStore for UnconfiguredBlobStore {
    async fn presign_upload(
        &self,
        _: &BlobKey,
        _: &UploadPolicy,
    ) -> Result<PresignedRequest, BlobError> {
        Err(Self::refuse("presign upload"))
    }

    async fn presign_download(
        &self,
        _: &BlobKey,
        _: Duration,
    ) -> Result<PresignedRequest, BlobError> {
        Err(Self::refuse("presign download"))
    }

    async fn head(&self, _: &BlobKey) -> Result<Option<BlobHead>, BlobError> {
        Err(Self::refuse("head"))
    }

    async fn promote(&self, _: &BlobKey, _: &BlobKey) -> Result<Option<BlobHead>, BlobError> {
        Err(Self::refuse("promote"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scoped_key_is_built_from_its_segments() {
        let key = BlobKey::from_segments(["cars", "c-1", "insurance", "i-2", "document"]).unwrap();
        assert_eq!(key.as_str(), "cars/c-1/insurance/i-2/document");
        assert_eq!(key.segments().count(), 5);
    }

    #[test]
    fn keys_that_could_escape_their_scope_or_confuse_a_disk_are_refused() {
        for bad in [
            "",
            "/cars/1",
            "cars/1/",
            "cars//1",
            "cars/../secrets",
            "cars/./1",
            "cars/.hidden",
            "cars/1 2",
            "cars\\1",
            "cars/1?x=y",
            "cars/é",
        ] {
            assert!(BlobKey::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(BlobKey::parse(&"a".repeat(MAX_KEY_LEN + 1)).is_err());
        assert!(BlobKey::parse(&"a".repeat(MAX_KEY_LEN)).is_ok());
        assert!(BlobKey::parse("issues/0192-ab_c/photos/p.1").is_ok());
    }

    #[test]
    fn content_types_round_trip_and_others_are_refused() {
        for t in BlobContentType::ALL {
            assert_eq!(BlobContentType::parse(t.as_str()), Some(t));
        }
        assert_eq!(BlobContentType::parse("text/html"), None);
        assert_eq!(BlobContentType::parse("IMAGE/PNG"), None);
    }

    #[test]
    fn expiries_and_sizes_outside_the_limits_are_refused() {
        let policy = UploadPolicy {
            content_type: BlobContentType::Pdf,
            max_size: 10,
            expires_in: Duration::from_secs(60),
        };
        assert!(check_upload_policy(&policy).is_ok());
        assert!(
            check_upload_policy(&UploadPolicy {
                max_size: 0,
                ..policy
            })
            .is_err()
        );
        assert!(
            check_upload_policy(&UploadPolicy {
                expires_in: Duration::ZERO,
                ..policy
            })
            .is_err()
        );
        assert!(check_expiry(MAX_EXPIRY).is_ok());
        assert!(check_expiry(MAX_EXPIRY + Duration::from_secs(1)).is_err());
    }
}
