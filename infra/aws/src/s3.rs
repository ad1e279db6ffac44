//! The blob port on Amazon S3: presigned `PUT` and `GET` URLs, `HeadObject`, and a promotion by
//! `CopyObject` then `DeleteObject`.
//!
//! - **Uploads** are presigned `PutObject` requests that sign the `Content-Type` and the
//!   `Content-Length` headers along with the key and the expiry, so S3 refuses a body of another
//!   type or length, a changed key, a late request or a changed signature with a 403, before it
//!   stores anything. That is why the port's policy is an exact size: a presigned `PUT` cannot
//!   bound a length, only sign one.
//! - **Downloads** are presigned `GetObject` requests.
//! - URLs are signed with the function's own credentials, so they allow no more than its role
//!   does (the template grants each function only its scope's actions), and they stop working
//!   when those credentials expire, even before their own expiry.
//! - **Promotion** copies the object under its new key (S3 keeps its content type and size),
//!   then deletes the source. A source already gone (a repeated confirmation) answers what the
//!   target holds, as the port asks.
//! - **Errors**: throttling (`SlowDown`), S3's own server errors, timeouts and connection failures
//!   are [`BlobError::Unavailable`]; anything else is [`BlobError::Internal`]. The SDK error
//!   travels only as the source, for the log: the HTTP layer answers a generic 503 or 500.

use std::error::Error;
use std::fmt::Debug;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_config::retry::RetryConfig;
use aws_sdk_s3::Client;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use itinera::blobs::{
    BlobError, BlobHead, BlobKey, BlobMethod, BlobStore, PresignedRequest, UploadPolicy,
    check_expiry, check_upload_policy,
};
use itinera::storage::BoxError;

use crate::ConfigError;
use crate::client::{environment_config, failed_call, local_config, timeouts};

/// The variable naming the bucket, set by the template on exactly the functions that handle
/// files.
pub const BLOB_BUCKET: &str = "BLOB_BUCKET";

/// A head, copy or delete is one small request; these keep a confirmation from hanging.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(1000);
const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(3000);
const OPERATION_TIMEOUT: Duration = Duration::from_millis(8000);
const MAX_ATTEMPTS: u32 = 3;

/// Which bucket the files are in, read once from the environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobBucketConfig {
    /// `BLOB_BUCKET` (required): the bucket's name.
    pub bucket: String,
}

impl BlobBucketConfig {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(itinera::config::env)
    }

    /// Reads the settings through `lookup` (variable name -> value).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let bucket = lookup(BLOB_BUCKET)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
            .ok_or(ConfigError::Missing { name: BLOB_BUCKET })?;
        // S3's rule for bucket names: 3 to 63 lowercase letters, digits, '.' and '-'.
        let valid = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-'));
        if !valid {
            return Err(ConfigError::Invalid {
                name: BLOB_BUCKET,
                value: bucket,
                reason: "must be an S3 bucket name (3-63 lowercase letters, digits, '.', '-')"
                    .to_owned(),
            });
        }
        Ok(Self { bucket })
    }
}

/// The client's settings over `shared` (the environment's, or a local server's).
fn client_config(shared: &aws_config::SdkConfig) -> aws_sdk_s3::config::Builder {
    aws_sdk_s3::config::Builder::from(shared)
        .timeout_config(timeouts(
            CONNECT_TIMEOUT,
            ATTEMPT_TIMEOUT,
            OPERATION_TIMEOUT,
        ))
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
}

/// The client for the deployed bucket: region and credentials from the Lambda environment.
/// Build it once, at cold start.
pub async fn build_s3_client() -> Client {
    Client::from_conf(client_config(environment_config().await).build())
}

/// A client for a local S3-compatible server (moto) at `endpoint`, with fixed dummy credentials
/// and path-style URLs (`http://host/bucket/key`: a local server has no bucket subdomains).
pub fn build_local_s3_client(endpoint: &str) -> Client {
    Client::from_conf(
        client_config(&local_config(endpoint))
            .force_path_style(true)
            .build(),
    )
}

/// Why a bucket could not be created.
#[derive(Debug, thiserror::Error)]
#[error("creating the bucket {bucket} failed")]
pub struct BucketSetupError {
    bucket: String,
    #[source]
    source: BoxError,
}

/// Creates `bucket` (tests and local servers; the template creates the deployed one).
pub async fn create_bucket(client: &Client, bucket: &str) -> Result<(), BucketSetupError> {
    client
        .create_bucket()
        .bucket(bucket)
        .send()
        .await
        .map(|_| ())
        .map_err(|error| BucketSetupError {
            bucket: bucket.to_owned(),
            source: Box::new(error),
        })
}

/// Files in one S3 bucket. Cheap to clone: the client is a handle to shared connections.
#[derive(Clone, Debug)]
pub struct S3Blobs {
    client: Client,
    bucket: String,
}

impl S3Blobs {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }

    pub fn from_config(client: Client, config: &BlobBucketConfig) -> Self {
        Self::new(client, config.bucket.clone())
    }

    /// The object's content type and size, if it exists.
    async fn head_object(&self, key: &BlobKey) -> Result<Option<BlobHead>, BlobError> {
        let output = match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await
        {
            Ok(output) => output,
            Err(error) if error.as_service_error().is_some_and(|e| e.is_not_found()) => {
                return Ok(None);
            }
            Err(error) => return Err(from_sdk("HeadObject", error)),
        };
        let size = output
            .content_length()
            .and_then(|length| u64::try_from(length).ok())
            .ok_or_else(|| internal(Malformed("HeadObject answered without a length")))?;
        Ok(Some(BlobHead {
            // S3 answers `binary/octet-stream` for an object stored without a type; the caller
            // compares the type with the declared one, so the default never passes for one.
            content_type: output
                .content_type()
                .unwrap_or("binary/octet-stream")
                .to_owned(),
            size,
        }))
    }
}

/// Signs now, for `expires_in`; the expiry the URL will state.
fn presigning(expires_in: Duration) -> Result<(PresigningConfig, SystemTime), BlobError> {
    let now = SystemTime::now();
    let config = PresigningConfig::builder()
        .start_time(now)
        .expires_in(expires_in)
        .build()
        .map_err(internal)?;
    Ok((config, now + expires_in))
}

/// The port's answer for a presigned request.
fn presigned(
    method: BlobMethod,
    request: aws_sdk_s3::presigning::PresignedRequest,
    expires_at: SystemTime,
) -> PresignedRequest {
    PresignedRequest {
        method,
        url: request.uri().to_owned(),
        headers: request
            .headers()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect(),
        expires_at: expires_at.into(),
    }
}

#[async_trait]
impl BlobStore for S3Blobs {
    #[tracing::instrument(skip_all, fields(key = %key))]
    async fn presign_upload(
        &self,
        key: &BlobKey,
        policy: &UploadPolicy,
    ) -> Result<PresignedRequest, BlobError> {
        check_upload_policy(policy)?;
        let size = i64::try_from(policy.size)
            .map_err(|_| BlobError::Invalid("the size is out of range"))?;
        let (config, expires_at) = presigning(policy.expires_in)?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .content_type(policy.content_type.as_str())
            .content_length(size)
            .presigned(config)
            .await
            .map_err(|error| from_sdk("PutObject presigning", error))?;
        Ok(presigned(BlobMethod::Put, request, expires_at))
    }

    #[tracing::instrument(skip_all, fields(key = %key))]
    async fn presign_download(
        &self,
        key: &BlobKey,
        expires_in: Duration,
    ) -> Result<PresignedRequest, BlobError> {
        check_expiry(expires_in)?;
        let (config, expires_at) = presigning(expires_in)?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .presigned(config)
            .await
            .map_err(|error| from_sdk("GetObject presigning", error))?;
        Ok(presigned(BlobMethod::Get, request, expires_at))
    }

    #[tracing::instrument(skip_all, fields(key = %key))]
    async fn head(&self, key: &BlobKey) -> Result<Option<BlobHead>, BlobError> {
        self.head_object(key).await
    }

    #[tracing::instrument(skip_all, fields(from = %from, to = %to))]
    async fn promote(&self, from: &BlobKey, to: &BlobKey) -> Result<Option<BlobHead>, BlobError> {
        // Keys hold only letters, digits, '-', '_', '.' and '/', none of which needs encoding in
        // the copy source.
        let copied = self
            .client
            .copy_object()
            .bucket(&self.bucket)
            .key(to.as_str())
            .copy_source(format!("{}/{from}", self.bucket))
            .send()
            .await;
        match copied {
            Ok(_) => {
                self.client
                    .delete_object()
                    .bucket(&self.bucket)
                    .key(from.as_str())
                    .send()
                    .await
                    .map_err(|error| from_sdk("DeleteObject", error))?;
            }
            // Nothing to move: moved already (a repeated confirmation), or never uploaded.
            Err(error) if error.code() == Some("NoSuchKey") => {}
            Err(error) => return Err(from_sdk("CopyObject", error)),
        }
        self.head_object(to).await
    }
}

/// An answer of S3 the adapter cannot use.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Malformed(&'static str);

fn internal(error: impl Error + Send + Sync + 'static) -> BlobError {
    BlobError::Internal(Box::new(error))
}

/// Error codes after which waiting may help: throttling and S3's own server errors.
const TRANSIENT_CODES: &[&str] = &[
    "SlowDown",
    "ServiceUnavailable",
    "InternalError",
    "RequestTimeout",
    "Throttling",
    "ThrottlingException",
];

/// The port's error for a failed SDK call.
fn from_sdk<E, R>(operation: &'static str, error: SdkError<E, R>) -> BlobError
where
    E: ProvideErrorMetadata + Error + Send + Sync + 'static,
    R: Debug + Send + Sync + 'static,
{
    match failed_call("S3", operation, error, TRANSIENT_CODES) {
        (call, true) => BlobError::Unavailable(Box::new(call)),
        (call, false) => BlobError::Internal(Box::new(call)),
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_s3::error::ErrorMetadata;
    use aws_sdk_s3::operation::head_object::HeadObjectError;

    use super::*;
    use crate::client::test_settings::lookup;

    #[test]
    fn the_bucket_is_required_and_must_be_a_bucket_name() {
        assert_eq!(
            BlobBucketConfig::from_lookup(lookup(&[(BLOB_BUCKET, " itinera-files-1 ")])).unwrap(),
            BlobBucketConfig {
                bucket: "itinera-files-1".to_owned()
            }
        );
        assert!(matches!(
            BlobBucketConfig::from_lookup(lookup(&[])),
            Err(ConfigError::Missing { .. })
        ));
        assert!(matches!(
            BlobBucketConfig::from_lookup(lookup(&[(BLOB_BUCKET, "")])),
            Err(ConfigError::Missing { .. })
        ));
        for bad in ["ab", "Upper", "has space", "a/b", &"a".repeat(64)] {
            assert!(
                matches!(
                    BlobBucketConfig::from_lookup(lookup(&[(BLOB_BUCKET, bad)])),
                    Err(ConfigError::Invalid { .. })
                ),
                "{bad:?} was accepted"
            );
        }
    }

    fn service_error(code: &str) -> SdkError<HeadObjectError, ()> {
        SdkError::service_error(
            HeadObjectError::generic(
                ErrorMetadata::builder()
                    .code(code)
                    .message("an SDK message")
                    .build(),
            ),
            (),
        )
    }

    #[test]
    fn throttling_and_server_errors_are_unavailable_and_the_rest_internal_without_sdk_text() {
        for code in ["SlowDown", "ServiceUnavailable", "InternalError"] {
            assert!(matches!(
                from_sdk("HeadObject", service_error(code)),
                BlobError::Unavailable(_)
            ));
        }
        let refused = from_sdk("HeadObject", service_error("AccessDenied"));
        assert!(matches!(refused, BlobError::Internal(_)));
        // What a caller may show names no SDK code or message; the chain keeps them for the log.
        assert!(!refused.to_string().contains("AccessDenied"));
        assert!(!refused.to_string().contains("an SDK message"));
        let timeout: SdkError<HeadObjectError, ()> =
            SdkError::timeout_error(Box::new(std::io::Error::other("slow")));
        assert!(matches!(
            from_sdk("HeadObject", timeout),
            BlobError::Unavailable(_)
        ));
    }
}
