//! A paper's document: the policy or the registration certificate, a PDF or an image of at most
//! 10 MiB ([`attachments::DOCUMENT`]), through the attachments flow. Its files live under
//! `cars/<carId>/<insurance|registrations>/<paperId>` (built from the ids here, never from
//! client text), its pending uploads in the car's partition.
//!
//! Confirming records the file as the paper's `document` in one transaction with the pending
//! upload's removal and the paper's audit entry, under the paper's version (the shared versioned
//! update), so an upload is recorded at most once, and a later document replaces the earlier one
//! on the paper. The replaced file stays in the bucket, unreferenced: nothing shows it again.

use super::paper::{Paper, PaperKind, PaperRef};
use crate::attachments::{
    self, AttachmentDownload, DeclaredFile, FileScope, UploadId, UploadTicket,
};
use crate::blobs::BlobStore;
use crate::cars::car_key;
use crate::clock::{Clock, IdGenerator};
use crate::entity::{self, EntityId, EntityKind, Read, Revision, Stored};
use crate::error::DomainError;
use crate::identity::RequestContext;
use crate::storage::{Store, StoreError};
use crate::version::Precondition;

/// Where `paper`'s files live: its car's partition, and `cars/<carId>/<kind>/<paperId>`.
fn scope<K: PaperKind>(paper: &PaperRef<K>) -> Result<FileScope, StoreError> {
    let (car, id) = (paper.car_id.to_string(), paper.id.to_string());
    FileScope::new(
        car_key(&paper.car_id).pk,
        ["cars", &car, K::COLLECTION, &id],
    )
}

/// Starts the upload of a document for the paper `paper` names (its 404 when there is none).
/// Costs one read and one write, and a presigned URL.
#[tracing::instrument(skip_all, fields(entity = K::ENTITY.as_str(), id = %paper))]
pub async fn start_document<K: PaperKind>(
    store: &dyn Store,
    blobs: &dyn BlobStore,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    paper: &PaperRef<K>,
    file: DeclaredFile,
) -> Result<UploadTicket, DomainError> {
    let _: Paper<K> = entity::find(store, paper).await?;
    attachments::start_upload(store, blobs, clock, ids, &scope(paper)?, file).await
}

/// Confirms upload `upload` as the document of the paper `paper` names, replacing any earlier
/// one: the paper as it is now. Refused with nothing recorded when the upload is unknown or
/// already recorded (404), not uploaded yet (409), or not the declared file (400).
#[tracing::instrument(
    skip_all,
    fields(entity = K::ENTITY.as_str(), id = %paper, request_id = %context.request_id)
)]
pub async fn confirm_document<K: PaperKind>(
    store: &dyn Store,
    blobs: &dyn BlobStore,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    context: &RequestContext,
    paper: &PaperRef<K>,
    upload: &UploadId,
) -> Result<Paper<K>, DomainError> {
    // The paper must exist before the upload is looked at; the change starts from this read.
    let key = paper.key();
    let item = entity::read::<Paper<K>>(store, &key).await?;
    Paper::<K>::from_item(item.clone())?;
    let verified = attachments::verify_upload(store, blobs, clock, &scope(paper)?, upload).await?;
    let document = serde_json::to_value(&verified.attachment).map_err(StoreError::internal)?;
    let revise = |current: &Paper<K>, _: &_, _| {
        let changed = Paper {
            document: Some(verified.attachment.clone()),
            ..current.clone()
        };
        let mut revision = Revision::new(changed, vec![("document".to_owned(), document.clone())]);
        revision.writes.push(verified.consume.clone());
        Ok(revision)
    };
    match entity::update_read(
        store,
        clock,
        ids,
        context,
        &key,
        &Precondition::None,
        Read::Already(item),
        revise,
    )
    .await
    {
        // The pending upload is gone: a concurrent confirm of the same upload recorded it.
        Err(DomainError::Store(StoreError::TransactionConditionFailed { index: 1 })) => {
            Err(DomainError::NotFound {
                entity: EntityKind::PendingUpload,
            })
        }
        other => other,
    }
}

/// A presigned download of the document of the paper `paper` names: 404 for the paper, or for
/// its document while none is confirmed.
pub async fn document_download<K: PaperKind>(
    store: &dyn Store,
    blobs: &dyn BlobStore,
    paper: &PaperRef<K>,
) -> Result<AttachmentDownload, DomainError> {
    let found: Paper<K> = entity::find(store, paper).await?;
    let document = found.document.ok_or(DomainError::NotFound {
        entity: EntityKind::Document,
    })?;
    attachments::download_url(blobs, &scope(paper)?, &document).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::Insurance;
    use crate::fleet::paper::tests::insurance;

    #[test]
    fn a_papers_files_are_scoped_by_its_car_kind_and_id() {
        let paper = insurance("2026-01-01", "2026-12-31");
        let reference = PaperRef::<Insurance>::new(paper.car_id.clone(), paper.id.clone());
        let scope = scope(&reference).unwrap();
        let expected = FileScope::new(
            format!("CAR#{}", paper.car_id),
            [
                "cars",
                paper.car_id.as_str(),
                "insurance",
                paper.id.as_str(),
            ],
        )
        .unwrap();
        assert_eq!(scope, expected);
    }
}
