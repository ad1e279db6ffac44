//! The attachments flow on both store families with the embedded blob store: an upload is
//! recorded once, only as declared, only in its own scope, and only within its time.

use std::sync::Arc;

use chrono::TimeDelta;
use itinera::attachments::{
    self, DOCUMENT, DeclaredFile, FileScope, PHOTO, UploadId, UploadTicket, VerifiedUpload,
};
use itinera::blobs::{BlobContentType, BlobKey, BlobStore};
use itinera::clock::{Clock, UuidV7Ids};
use itinera::error::DomainError;
use itinera::storage::{Key, Put, Store, WriteOp};
use itinera_embedded::{BlobRequestError, EmbeddedBlobs};
use itinera_tests::Backend;
use itinera_tests::SettableClock;
use itinera_tests::files::{download_from, embedded_blobs_with_clock, upload_to};
use serde_json::Value;

const PDF: &[u8] = b"%PDF-1.7 a small policy document";

/// A backend, a blob store and a clock the test moves.
struct Desk {
    backend: Backend,
    blobs: EmbeddedBlobs,
    clock: Arc<SettableClock>,
    _dir: tempfile::TempDir,
}

impl Desk {
    fn new(backend: Backend) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let clock = Arc::new(SettableClock::now());
        let blobs = embedded_blobs_with_clock(dir.path(), Arc::clone(&clock) as Arc<dyn Clock>);
        Self {
            backend,
            blobs,
            clock,
            _dir: dir,
        }
    }

    fn store(&self) -> &dyn Store {
        &*self.backend.store
    }

    async fn start(&self, scope: &FileScope, file: DeclaredFile) -> UploadTicket {
        attachments::start_upload(
            self.store(),
            &self.blobs,
            &*self.clock,
            &UuidV7Ids,
            scope,
            file,
        )
        .await
        .expect("the upload starts")
    }

    async fn verify(
        &self,
        scope: &FileScope,
        id: &UploadId,
    ) -> Result<VerifiedUpload, DomainError> {
        attachments::verify_upload(self.store(), &self.blobs, &*self.clock, scope, id).await
    }

    /// Records `verified` on a stand-in record in the scope's partition, consuming the upload.
    async fn record(
        &self,
        scope_partition: &str,
        verified: &VerifiedUpload,
    ) -> Result<(), DomainError> {
        let mut item = itinera::storage::Item::new();
        Key::new(scope_partition, "RECORD").write_into(&mut item);
        item.insert(
            "document".into(),
            serde_json::to_value(&verified.attachment).expect("an attachment serializes"),
        );
        self.store()
            .transact(vec![
                WriteOp::Put(Put {
                    item,
                    condition: None,
                }),
                verified.consume.clone(),
            ])
            .await
            .map_err(DomainError::from)
    }
}

fn scope(record: &str) -> FileScope {
    FileScope::new(format!("REC#{record}"), ["records", record]).expect("a valid scope")
}

fn pdf_file() -> DeclaredFile {
    DeclaredFile::parse("application/pdf", PDF.len() as u64, &DOCUMENT).expect("a valid file")
}

async fn a_confirmed_upload_is_moved_recorded_once_and_downloads_back(backend: Backend) {
    let desk = Desk::new(backend);
    let scope = scope("r-1");
    let ticket = desk.start(&scope, pdf_file()).await;
    assert!(ticket.request.url.contains("/uploads/records/r-1/"));
    upload_to(&desk.blobs, &ticket.request.url, "application/pdf", PDF)
        .await
        .expect("the upload is accepted");

    let verified = desk
        .verify(&scope, &ticket.upload_id)
        .await
        .expect("confirmed");
    assert_eq!(verified.attachment.id, ticket.upload_id);
    assert_eq!(verified.attachment.content_type, BlobContentType::Pdf);
    assert_eq!(verified.attachment.size, PDF.len() as u64);
    let uploaded = BlobKey::parse(&format!("uploads/records/r-1/{}", ticket.upload_id)).unwrap();
    let kept = BlobKey::parse(&format!("files/records/r-1/{}", ticket.upload_id)).unwrap();
    assert_eq!(
        desk.blobs.head(&uploaded).await.unwrap(),
        None,
        "moved out of uploads/"
    );
    assert!(desk.blobs.head(&kept).await.unwrap().is_some());

    // A confirm repeated before the record was written (its transaction failed) answers the same.
    let again = desk
        .verify(&scope, &ticket.upload_id)
        .await
        .expect("repeatable");
    assert_eq!(again.attachment.id, verified.attachment.id);

    desk.record("REC#r-1", &verified).await.expect("recorded");
    // Of two confirms, only one may record: the pending upload is gone.
    assert!(matches!(
        desk.record("REC#r-1", &again).await,
        Err(DomainError::Store(_))
    ));
    assert!(matches!(
        desk.verify(&scope, &ticket.upload_id).await,
        Err(DomainError::NotFound { .. })
    ));

    let download = attachments::download_url(&desk.blobs, &scope, &verified.attachment)
        .await
        .expect("a download URL");
    assert_eq!(
        download_from(&desk.blobs, &download.request.url)
            .await
            .expect("downloads"),
        PDF
    );
}

async fn files_outside_a_slots_rules_are_refused_before_anything_is_stored(_: Backend) {
    let refused = |content_type: &str, size: u64, rules| {
        DeclaredFile::parse(content_type, size, rules).expect_err("refused")
    };
    assert!(matches!(
        refused("application/pdf", 10, &PHOTO),
        DomainError::Invalid {
            field: "contentType",
            ..
        }
    ));
    assert!(matches!(
        refused("text/html", 10, &DOCUMENT),
        DomainError::Invalid {
            field: "contentType",
            ..
        }
    ));
    assert!(matches!(
        refused("image/png", 0, &PHOTO),
        DomainError::Invalid { field: "size", .. }
    ));
    assert!(matches!(
        refused("image/png", 10 * 1024 * 1024 + 1, &PHOTO),
        DomainError::Invalid { field: "size", .. }
    ));
    DeclaredFile::parse("image/webp", 10 * 1024 * 1024, &PHOTO).expect("the largest photo");
}

async fn an_upload_of_another_type_or_size_is_refused_and_nothing_is_recorded(backend: Backend) {
    let desk = Desk::new(backend);
    let scope = scope("r-2");
    let ticket = desk.start(&scope, pdf_file()).await;
    let wrong_type = upload_to(&desk.blobs, &ticket.request.url, "image/png", PDF).await;
    assert!(matches!(
        wrong_type,
        Err(BlobRequestError::WrongContentType)
    ));
    let mut longer = PDF.to_vec();
    longer.extend_from_slice(b" and more");
    assert!(
        upload_to(&desk.blobs, &ticket.request.url, "application/pdf", &longer)
            .await
            .is_err()
    );
    // Nothing arrived, so nothing can be confirmed, and the upload stays pending.
    assert!(matches!(
        desk.verify(&scope, &ticket.upload_id).await,
        Err(DomainError::Conflict { .. })
    ));
    let kept = BlobKey::parse(&format!("files/records/r-2/{}", ticket.upload_id)).unwrap();
    assert_eq!(desk.blobs.head(&kept).await.unwrap(), None);
    // The right file still goes through.
    upload_to(&desk.blobs, &ticket.request.url, "application/pdf", PDF)
        .await
        .expect("accepted");
    desk.verify(&scope, &ticket.upload_id)
        .await
        .expect("confirmed");
}

async fn an_upload_is_confirmed_only_in_its_own_scope_and_in_time(backend: Backend) {
    let desk = Desk::new(backend);
    let (mine, theirs) = (scope("r-3"), scope("r-4"));
    let ticket = desk.start(&mine, pdf_file()).await;
    upload_to(&desk.blobs, &ticket.request.url, "application/pdf", PDF)
        .await
        .expect("accepted");
    assert!(matches!(
        desk.verify(&theirs, &ticket.upload_id).await,
        Err(DomainError::NotFound { .. })
    ));
    let unknown = UploadId::parse(&uuid::Uuid::now_v7().to_string()).unwrap();
    assert!(matches!(
        desk.verify(&mine, &unknown).await,
        Err(DomainError::NotFound { .. })
    ));
    desk.clock
        .advance(TimeDelta::from_std(attachments::CONFIRM_WITHIN).unwrap() + TimeDelta::seconds(1));
    assert!(matches!(
        desk.verify(&mine, &ticket.upload_id).await,
        Err(DomainError::Conflict { .. })
    ));
    let kept = BlobKey::parse(&format!("files/records/r-3/{}", ticket.upload_id)).unwrap();
    assert_eq!(desk.blobs.head(&kept).await.unwrap(), None);
}

async fn an_attachment_reads_back_from_its_record(backend: Backend) {
    let desk = Desk::new(backend);
    let scope = scope("r-5");
    let ticket = desk.start(&scope, pdf_file()).await;
    upload_to(&desk.blobs, &ticket.request.url, "application/pdf", PDF)
        .await
        .expect("accepted");
    let verified = desk
        .verify(&scope, &ticket.upload_id)
        .await
        .expect("confirmed");
    desk.record("REC#r-5", &verified).await.expect("recorded");
    let item = desk
        .store()
        .get(&Key::new("REC#r-5", "RECORD"))
        .await
        .unwrap()
        .expect("the record");
    let stored: attachments::Attachment =
        serde_json::from_value(item.get("document").cloned().unwrap_or(Value::Null))
            .expect("the attachment reads back");
    assert_eq!(stored, verified.attachment);
}

on_both_families!(
    a_confirmed_upload_is_moved_recorded_once_and_downloads_back,
    files_outside_a_slots_rules_are_refused_before_anything_is_stored,
    an_upload_of_another_type_or_size_is_refused_and_nothing_is_recorded,
    an_upload_is_confirmed_only_in_its_own_scope_and_in_time,
    an_attachment_reads_back_from_its_record,
);
