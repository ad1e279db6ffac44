//! Files attached to records (an insurance policy's document, an issue report's photos): the
//! one way every record takes a file, in three steps, so no record restates the rules.
//!
//! 1. **Start** ([`start_upload`]): the client declares the file's type and exact size; the rules
//!    of the record's slot ([`DOCUMENT`], [`PHOTO`]) accept or refuse them before anything is
//!    stored. A pending-upload item is written in the record's own partition, and the client gets
//!    a presigned `PUT` for `uploads/<scope>/<uploadId>`, signed for that type and size.
//! 2. **Upload**: the client sends the bytes to the blob store directly; the API never sees them.
//! 3. **Confirm** ([`verify_upload`]): the object must be there with the declared type and size;
//!    it is then moved to `files/<scope>/<uploadId>`, and the caller records the [`Attachment`] on
//!    its record in one transaction with [`VerifiedUpload::consume`], which removes the pending
//!    item, so an upload is recorded at most once.
//!
//! The scope is built from the record's ids ([`FileScope`]), never from client text. Nothing
//! under `uploads/` is ever shown: an upload exists for clients only once a record names it. What
//! is never confirmed expires: the pending item by the table's TTL, the object by the bucket's
//! lifecycle rule on `uploads/` (the embedded store keeps it; nothing refers to it). A file the
//! client sent with another type or size than declared is refused at the blob store already (the
//! signature covers both); confirm checks again, so a store that did not enforce it changes
//! nothing. Downloads are presigned `GET`s of `files/` keys, short-lived ([`DOWNLOAD_EXPIRY`]).

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::blobs::{
    BlobContentType, BlobError, BlobHead, BlobKey, BlobStore, PresignedRequest, UploadPolicy,
};
use crate::clock::{Clock, IdGenerator};
use crate::entity::EntityKind;
use crate::error::DomainError;
use crate::metrics;
use crate::storage::{Condition, Delete, Item, Key, Store, StoreError, WriteOp, timestamp};

/// The prefix every unconfirmed upload lives under; the bucket expires it after a day.
pub const UPLOADS_PREFIX: &str = "uploads";
/// The prefix confirmed files live under.
pub const FILES_PREFIX: &str = "files";
/// How long an upload URL works.
pub const UPLOAD_EXPIRY: Duration = Duration::from_secs(15 * 60);
/// How long after starting an upload it may be confirmed: the upload URL's life plus time for a
/// slow client, well inside the day after which the bucket drops unconfirmed objects.
pub const CONFIRM_WITHIN: Duration = Duration::from_secs(60 * 60);
/// How long a download URL works.
pub const DOWNLOAD_EXPIRY: Duration = Duration::from_secs(5 * 60);
/// One mebibyte.
const MIB: u64 = 1024 * 1024;

/// What files one slot of a record takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttachmentRules {
    /// The content types it takes.
    pub content_types: &'static [BlobContentType],
    /// The largest file, in bytes.
    pub max_size: u64,
}

/// A record's document: a PDF or an image, up to 10 MiB.
pub const DOCUMENT: AttachmentRules = AttachmentRules {
    content_types: &BlobContentType::ALL,
    max_size: 10 * MIB,
};

/// A photo: JPEG, PNG or WebP, up to 10 MiB.
pub const PHOTO: AttachmentRules = AttachmentRules {
    content_types: &[
        BlobContentType::Jpeg,
        BlobContentType::Png,
        BlobContentType::Webp,
    ],
    max_size: 10 * MIB,
};

impl AttachmentRules {
    /// The MIME types it takes, as the API spells them.
    pub fn mime_types(&self) -> Vec<&'static str> {
        self.content_types.iter().map(|t| t.as_str()).collect()
    }
}

/// A file a client says it will upload, accepted by a slot's rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeclaredFile {
    pub content_type: BlobContentType,
    /// The exact size in bytes.
    pub size: u64,
}

impl DeclaredFile {
    /// The declared `content_type` and `size`, if `rules` take them; otherwise which field is
    /// wrong and why.
    pub fn parse(
        content_type: &str,
        size: u64,
        rules: &AttachmentRules,
    ) -> Result<Self, DomainError> {
        let content_type = BlobContentType::parse(content_type)
            .filter(|parsed| rules.content_types.contains(parsed))
            .ok_or_else(|| DomainError::Invalid {
                field: "contentType",
                message: format!("must be one of {}", rules.mime_types().join(", ")),
            })?;
        if size == 0 || size > rules.max_size {
            return Err(DomainError::Invalid {
                field: "size",
                message: format!("must be from 1 to {} bytes", rules.max_size),
            });
        }
        Ok(Self { content_type, size })
    }

    fn matches(&self, head: &BlobHead) -> bool {
        head.content_type == self.content_type.as_str() && head.size == self.size
    }
}

/// Where one record keeps its files: its partition (pending uploads are items there, so they
/// go with the record) and the key segments that scope its objects, such as
/// `cars/<carId>/insurance/<insuranceId>`. Built by the record's module from its ids.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileScope {
    partition: String,
    segments: String,
}

impl FileScope {
    /// The scope of a record stored in `partition`, its objects under `segments` (validated as
    /// a blob key: ids are letters, digits and `-`).
    pub fn new<'a>(
        partition: impl Into<String>,
        segments: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, StoreError> {
        let segments = BlobKey::from_segments(segments).map_err(StoreError::internal)?;
        Ok(Self {
            partition: partition.into(),
            segments: segments.as_str().to_owned(),
        })
    }

    fn key(&self, prefix: &str, id: &UploadId) -> Result<BlobKey, StoreError> {
        BlobKey::from_segments([prefix, &self.segments, &id.0]).map_err(StoreError::internal)
    }

    fn pending_key(&self, id: &UploadId) -> Key {
        Key::new(self.partition.clone(), format!("{PENDING_PREFIX}{}", id.0))
    }
}

/// The sort-key prefix of pending-upload items.
const PENDING_PREFIX: &str = "UPLOAD#";

/// An upload's id: the last segment of its object keys, chosen by the server.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UploadId(String);

impl UploadId {
    /// An id as a client sends it back: a UUID, in its canonical spelling.
    pub fn parse(text: &str) -> Option<Self> {
        uuid::Uuid::parse_str(text)
            .ok()
            .map(|id| Self(id.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for UploadId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A confirmed file, as its record keeps and shows it. Its object key follows from the record's
/// [`FileScope`] and the id, so it is not stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    pub id: UploadId,
    #[serde(with = "content_type_text")]
    pub content_type: BlobContentType,
    pub size: u64,
    pub uploaded_at: DateTime<Utc>,
}

/// Content types as their MIME text.
mod content_type_text {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    use crate::blobs::BlobContentType;

    pub fn serialize<S: Serializer>(
        value: &BlobContentType,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(value.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BlobContentType, D::Error> {
        let text = String::deserialize(deserializer)?;
        BlobContentType::parse(&text)
            .ok_or_else(|| D::Error::custom(format!("not an upload content type: {text}")))
    }
}

/// What starting an upload answers: the id to confirm it with and the request to send the
/// bytes with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadTicket {
    pub upload_id: UploadId,
    pub file: DeclaredFile,
    pub request: PresignedRequest,
}

/// A confirmed upload, ready to be recorded: put [`VerifiedUpload::consume`] in the same
/// transaction that records [`VerifiedUpload::attachment`] on the record.
#[derive(Clone, Debug, PartialEq)]
pub struct VerifiedUpload {
    pub attachment: Attachment,
    /// Removes the pending-upload item, on condition that it is still there: of two concurrent
    /// confirms of one upload, one transaction commits.
    pub consume: WriteOp,
}

/// A presigned download of one attachment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachmentDownload {
    pub attachment: Attachment,
    pub request: PresignedRequest,
}

/// A failure of the blob store, as the use cases report it: unreachable is a 503 like a store
/// outage; anything else is internal. The cause stays in the chain for the log.
pub fn blob_failure(error: BlobError) -> DomainError {
    let store = match error {
        BlobError::Unavailable(_) => StoreError::Unavailable(Box::new(error)),
        BlobError::Invalid(_) | BlobError::Internal(_) => StoreError::Internal(Box::new(error)),
    };
    DomainError::Store(store)
}

/// Starts an upload of `file` into `scope`: records what was declared, and answers the presigned
/// `PUT`. The caller has checked that the record exists and that the caller may add to it.
pub async fn start_upload(
    store: &dyn Store,
    blobs: &dyn BlobStore,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    scope: &FileScope,
    file: DeclaredFile,
) -> Result<UploadTicket, DomainError> {
    let upload_id = UploadId(ids.new_id().to_string());
    let now = clock.now();
    let key = scope.key(UPLOADS_PREFIX, &upload_id)?;
    let policy = UploadPolicy {
        content_type: file.content_type,
        size: file.size,
        expires_in: UPLOAD_EXPIRY,
    };
    let request = blobs
        .presign_upload(&key, &policy)
        .await
        .map_err(blob_failure)?;
    store
        .put(crate::storage::Put {
            item: pending_item(scope, &upload_id, file, now),
            condition: Some(Condition::ItemNotExists),
        })
        .await?;
    metrics::FILE_UPLOADS.increment(&[("outcome", "started")]);
    Ok(UploadTicket {
        upload_id,
        file,
        request,
    })
}

/// Confirms upload `upload_id` of `scope`: the object is there with the declared type and size
/// and is moved to its lasting key. A confirm repeated after the move (its transaction failed)
/// finds the moved object and answers the same. Refused, with nothing recorded: an id with no
/// pending upload in this scope (404), one past [`CONFIRM_WITHIN`] (409), nothing uploaded yet
/// (409), a file that is not what was declared (a field error on `uploadId`; the object is left
/// to expire).
pub async fn verify_upload(
    store: &dyn Store,
    blobs: &dyn BlobStore,
    clock: &dyn Clock,
    scope: &FileScope,
    upload_id: &UploadId,
) -> Result<VerifiedUpload, DomainError> {
    let pending_key = scope.pending_key(upload_id);
    let pending = store
        .get(&pending_key)
        .await?
        .map(|item| Pending::read(&item))
        .transpose()?
        .ok_or(DomainError::NotFound {
            entity: EntityKind::PendingUpload,
        })?;
    let now = clock.now();
    if now > pending.confirm_by {
        return Err(DomainError::Conflict {
            detail: "The upload was started too long ago to be confirmed; start a new one.".into(),
        });
    }
    let uploaded = scope.key(UPLOADS_PREFIX, upload_id)?;
    let lasting = scope.key(FILES_PREFIX, upload_id)?;
    if let Some(head) = blobs.head(&uploaded).await.map_err(blob_failure)? {
        refuse_mismatch(&pending.file, &head)?;
    }
    let head = blobs
        .promote(&uploaded, &lasting)
        .await
        .map_err(blob_failure)?
        .ok_or_else(|| DomainError::Conflict {
            detail: "Nothing was uploaded for this upload yet: send the file to the upload URL \
                     first."
                .into(),
        })?;
    refuse_mismatch(&pending.file, &head)?;
    metrics::FILE_UPLOADS.increment(&[("outcome", "confirmed")]);
    Ok(VerifiedUpload {
        attachment: Attachment {
            id: upload_id.clone(),
            content_type: pending.file.content_type,
            size: pending.file.size,
            uploaded_at: now,
        },
        consume: WriteOp::Delete(Delete {
            key: pending_key,
            condition: Some(Condition::ItemExists),
        }),
    })
}

/// A presigned `GET` of `attachment`, which the record in `scope` names.
pub async fn download_url(
    blobs: &dyn BlobStore,
    scope: &FileScope,
    attachment: &Attachment,
) -> Result<AttachmentDownload, DomainError> {
    let key = scope.key(FILES_PREFIX, &attachment.id)?;
    let request = blobs
        .presign_download(&key, DOWNLOAD_EXPIRY)
        .await
        .map_err(blob_failure)?;
    Ok(AttachmentDownload {
        attachment: attachment.clone(),
        request,
    })
}

/// Presigned `GET`s of several attachments of one record, in their order.
pub async fn download_urls(
    blobs: &dyn BlobStore,
    scope: &FileScope,
    attachments: &[Attachment],
) -> Result<Vec<AttachmentDownload>, DomainError> {
    let mut downloads = Vec::with_capacity(attachments.len());
    for attachment in attachments {
        downloads.push(download_url(blobs, scope, attachment).await?);
    }
    Ok(downloads)
}

fn refuse_mismatch(declared: &DeclaredFile, head: &BlobHead) -> Result<(), DomainError> {
    if declared.matches(head) {
        return Ok(());
    }
    metrics::FILE_UPLOADS.increment(&[("outcome", "refused")]);
    Err(DomainError::Invalid {
        field: "uploadId",
        message: format!(
            "the uploaded file is {} of {} bytes, not the declared {} of {} bytes",
            head.content_type,
            head.size,
            declared.content_type.as_str(),
            declared.size
        ),
    })
}

const CONTENT_TYPE: &str = "contentType";
const SIZE: &str = "size";
const CONFIRM_BY: &str = "confirmBy";

fn pending_item(
    scope: &FileScope,
    upload_id: &UploadId,
    file: DeclaredFile,
    now: DateTime<Utc>,
) -> Item {
    let confirm_by = now + TimeDelta::from_std(CONFIRM_WITHIN).expect("an hour fits");
    let mut item = Item::new();
    scope.pending_key(upload_id).write_into(&mut item);
    item.insert("entity".into(), Value::from(EntityKind::PendingUpload));
    item.insert(CONTENT_TYPE.into(), Value::from(file.content_type.as_str()));
    item.insert(SIZE.into(), Value::from(file.size));
    item.insert(CONFIRM_BY.into(), Value::from(timestamp(confirm_by)));
    // The table's TTL attribute (epoch seconds): the item goes some time after it is useless.
    item.insert("expiresAt".into(), Value::from(confirm_by.timestamp()));
    item
}

/// A pending upload as [`verify_upload`] reads it.
struct Pending {
    file: DeclaredFile,
    confirm_by: DateTime<Utc>,
}

impl Pending {
    fn read(item: &Item) -> Result<Self, StoreError> {
        let corrupt =
            |what: &str| StoreError::internal(format!("pending upload has no valid {what}"));
        let content_type = item
            .get(CONTENT_TYPE)
            .and_then(Value::as_str)
            .and_then(BlobContentType::parse)
            .ok_or_else(|| corrupt("content type"))?;
        let size = item
            .get(SIZE)
            .and_then(Value::as_u64)
            .ok_or_else(|| corrupt("size"))?;
        let confirm_by = item
            .get(CONFIRM_BY)
            .and_then(Value::as_str)
            .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
            .map(|at| at.with_timezone(&Utc))
            .ok_or_else(|| corrupt("confirmation deadline"))?;
        Ok(Self {
            file: DeclaredFile { content_type, size },
            confirm_by,
        })
    }
}
