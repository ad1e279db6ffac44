//! Photos of an issue report, through the attachments flow: the reporter or staff start an
//! upload (a JPEG, PNG or WebP of at most 10 MiB, under `issues/<reportId>/photos/`), send the
//! bytes to the blob store, and confirm; the confirmed photo is appended to the report in one
//! transaction with the pending upload's removal and the audit entry. A report holds at most
//! [`MAX_PHOTOS`], kept by a condition on its `photoCount` in that transaction, so concurrent
//! confirms cannot pass it.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::model::{IssueReport, ReportId, ReportStatus};
use super::read::get_report;
use super::records::{self, PHOTO_COUNT};
use crate::attachments::{
    self, AttachmentDownload, DeclaredFile, FileScope, UploadId, UploadTicket, VerifiedUpload,
};
use crate::audit::{self, Action, Change};
use crate::blobs::BlobStore;
use crate::clock::{Clock, IdGenerator};
use crate::contention::{ATTEMPTS, Rounds};
use crate::entity::{EntityKind, Versioned};
use crate::error::DomainError;
use crate::identity::{Principal, RequestContext};
use crate::storage::{
    Comparison, Condition, Store, StoreError, Update, VERSION_ATTRIBUTE, WriteOp, timestamp,
    to_item,
};

/// The most photos one report holds.
pub const MAX_PHOTOS: usize = 10;

/// The positions of the confirm transaction's writes: the report, then the pending upload.
const REPORT_OPERATION: usize = 0;
const UPLOAD_OPERATION: usize = 1;

/// Where a report's photos are kept: pending uploads in the report's partition, objects under
/// `issues/<reportId>/photos/`.
fn scope(id: &ReportId) -> Result<FileScope, StoreError> {
    FileScope::new(records::key(id).pk, ["issues", id.as_str(), "photos"])
}

/// The report `id`, for a caller who may add photos to it (its reporter or staff; anyone else is
/// told it does not exist), while it takes more: not resolved, and not full.
async fn open_for_photos(
    store: &dyn Store,
    caller: &Principal,
    id: &ReportId,
) -> Result<IssueReport, DomainError> {
    let report = get_report(store, caller, id).await?;
    if report.status == ReportStatus::Resolved {
        return Err(DomainError::Conflict {
            detail: "The report is resolved and takes no more photos.".into(),
        });
    }
    if report.photos.len() >= MAX_PHOTOS {
        return Err(full());
    }
    Ok(report)
}

fn full() -> DomainError {
    DomainError::Conflict {
        detail: format!("The report holds {MAX_PHOTOS} photos, the most it takes."),
    }
}

/// Starts the upload of a photo of `file`'s type and size to the report `id`, for its reporter
/// or staff. Costs one read and one write (the pending upload).
#[tracing::instrument(skip_all, fields(report_id = %id))]
pub async fn start_photo_upload(
    store: &dyn Store,
    blobs: &dyn BlobStore,
    (clock, ids): (&dyn Clock, &dyn IdGenerator),
    caller: &Principal,
    id: &ReportId,
    file: DeclaredFile,
) -> Result<UploadTicket, DomainError> {
    open_for_photos(store, caller, id).await?;
    attachments::start_upload(store, blobs, clock, ids, &scope(id)?, file).await
}

/// Confirms the photo upload `upload_id` of the report `id` (its reporter or staff): the object
/// must be what was declared (see [`attachments::verify_upload`]); the report gets the photo,
/// one version on, in one transaction with the pending upload's removal and the audit entry, on
/// condition that its version is the one read and its `photoCount` below [`MAX_PHOTOS`]. A
/// concurrent change makes the next round read it again; a report that filled up meanwhile
/// refuses the photo (409). Costs two reads (the report, the pending upload), the blob store's
/// check and move, and one transaction, then one read and one transaction per further round.
#[tracing::instrument(skip_all, fields(report_id = %id, request_id = %context.request_id))]
pub async fn confirm_photo(
    store: &dyn Store,
    blobs: &dyn BlobStore,
    (clock, ids): (&dyn Clock, &dyn IdGenerator),
    context: &RequestContext,
    id: &ReportId,
    upload_id: &UploadId,
) -> Result<IssueReport, DomainError> {
    let caller = context.caller()?;
    // The report must take photos before the upload is looked at; the first round starts from
    // this read (its version condition catches a change in between, and the next round reads).
    let mut read = Some(open_for_photos(store, caller, id).await?);
    let verified = attachments::verify_upload(store, blobs, clock, &scope(id)?, upload_id).await?;
    let mut rounds = Rounds::default();
    for attempt in 0..ATTEMPTS {
        let current = match read.take() {
            Some(current) => current,
            None => open_for_photos(store, caller, id).await?,
        };
        let now = clock.now();
        let (changed, operations) = with_photo(&current, &verified, context, ids, now)?;
        match store.transact(operations).await {
            Ok(()) => return Ok(changed),
            Err(StoreError::TransactionConditionFailed {
                index: REPORT_OPERATION,
            }) => {}
            Err(StoreError::TransactionConditionFailed {
                index: UPLOAD_OPERATION,
            }) => {
                return Err(DomainError::Conflict {
                    detail: "This upload is confirmed already.".into(),
                });
            }
            Err(error) => rounds.wait_after(attempt, error).await?,
        }
    }
    Err(rounds.exhausted("The report is changing right now; retry the request."))
}

/// The report with the verified photo appended, and the transaction that records it.
fn with_photo(
    current: &IssueReport,
    verified: &VerifiedUpload,
    context: &RequestContext,
    ids: &dyn IdGenerator,
    now: DateTime<Utc>,
) -> Result<(IssueReport, Vec<WriteOp>), StoreError> {
    let mut changed = current.clone();
    changed.photos.push(verified.attachment.clone());
    changed.advance(current.version + 1, now);
    let photos = to_item(&PhotoList {
        photos: &changed.photos,
    })?;
    let mut update = Update::new(records::key(&current.id));
    update.set.extend(photos);
    update
        .set
        .push(("updatedAt".into(), Value::from(timestamp(now))));
    update
        .set
        .push((VERSION_ATTRIBUTE.into(), Value::from(changed.version)));
    update.add.push((PHOTO_COUNT.into(), 1));
    update.condition = Some(Condition::And(vec![
        Condition::version_is(current.version),
        Condition::compare(PHOTO_COUNT, Comparison::Less, MAX_PHOTOS as u64),
    ]));
    let (before, after) = Change::diff(&current.view()?, &changed.view()?);
    let change = Change {
        entity_type: EntityKind::IssueReport,
        entity_id: current.id.to_string(),
        action: Action::Update,
        before,
        after,
    };
    let operations = vec![
        WriteOp::Update(update),
        verified.consume.clone(),
        audit::entry(&change, context, now, ids.new_id()),
    ];
    Ok((changed, operations))
}

/// The `photos` attribute as the item codec writes it.
#[derive(serde::Serialize)]
struct PhotoList<'a> {
    photos: &'a [attachments::Attachment],
}

/// The report `id` for its reporter or staff, with a presigned download of each confirmed
/// photo, in the order they were added. One read; the URLs are signed without a call.
#[tracing::instrument(skip(store, blobs, caller), fields(report_id = %id))]
pub async fn report_with_photos(
    store: &dyn Store,
    blobs: &dyn BlobStore,
    caller: &Principal,
    id: &ReportId,
) -> Result<(IssueReport, Vec<AttachmentDownload>), DomainError> {
    let report = get_report(store, caller, id).await?;
    let downloads = attachments::download_urls(blobs, &scope(id)?, &report.photos).await?;
    Ok((report, downloads))
}
