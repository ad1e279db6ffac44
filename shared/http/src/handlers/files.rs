//! What every route that takes or hands out files shares over HTTP (see `itinera::attachments`
//! for the flow): the body that starts an upload, the body that confirms one, and the shapes of
//! an upload ticket and of a file with its download URL. Record handlers call these around their
//! own use cases, so every file route reads and answers alike.

use itinera::attachments::{
    AttachmentDownload, AttachmentRules, DOCUMENT, DeclaredFile, PHOTO, UploadId, UploadTicket,
};
use serde_json::{Map, Value, json};

use crate::fields::{Field, Shape, string, whole};
use crate::problem::ApiError;
use crate::reply::Reply;
use crate::request::Input;

/// The content types a document may have, as [`DOCUMENT`] says.
const DOCUMENT_TYPES: &[&str] = &["application/pdf", "image/jpeg", "image/png", "image/webp"];
/// The content types a photo may have, as [`PHOTO`] says.
const PHOTO_TYPES: &[&str] = &["image/jpeg", "image/png", "image/webp"];

/// A document's content type, as the body that starts an upload and every answer name it.
const DOCUMENT_TYPE: Field = Field::required("contentType", Shape::Choice(DOCUMENT_TYPES));
/// A document's exact size in bytes.
const DOCUMENT_SIZE: Field = Field::required(
    "size",
    Shape::Integer {
        min: 1,
        max: DOCUMENT.max_size as i64,
    },
);

/// The body that starts a document upload.
pub(crate) const DOCUMENT_UPLOAD_FIELDS: &[Field] = &[DOCUMENT_TYPE, DOCUMENT_SIZE];

/// The body that starts a photo upload.
pub(crate) const PHOTO_UPLOAD_FIELDS: &[Field] = &[
    Field::required("contentType", Shape::Choice(PHOTO_TYPES)),
    Field::required(
        "size",
        Shape::Integer {
            min: 1,
            max: PHOTO.max_size as i64,
        },
    ),
];

/// The body that confirms an upload.
pub(crate) const CONFIRM_FIELDS: &[Field] = &[Field::required("uploadId", Shape::Uuid)];

/// The file a start-upload body declares, checked against `rules` (and the body against
/// `fields`, the matching list above).
pub(crate) fn declared_file(
    input: &Input,
    fields: &[Field],
    rules: &AttachmentRules,
) -> Result<DeclaredFile, ApiError> {
    input.query_params(&[])?;
    let mut body = input.json_fields(fields)?;
    let content_type = body.required("contentType", string);
    let size = body.required(
        "size",
        whole(|size| u64::try_from(size).map_err(|_| "must be at least 1".to_owned())),
    );
    let (content_type, size) = body.finish((content_type, size))?;
    Ok(DeclaredFile::parse(&content_type, size, rules)?)
}

/// The upload a confirm body names.
pub(crate) fn confirmed_upload(input: &Input) -> Result<UploadId, ApiError> {
    input.query_params(&[])?;
    let mut body = input.json_fields(CONFIRM_FIELDS)?;
    let id = body.required("uploadId", |value| {
        UploadId::parse(&string(value)?).ok_or_else(|| "must be an upload id (a UUID)".into())
    });
    body.finish((id,)).map(|(id,)| id)
}

/// 201 with the upload ticket: where to send the bytes, with which method and headers, until
/// when, and the id to confirm it with (the `Upload` component).
pub(crate) fn upload_reply(ticket: &UploadTicket) -> Result<Reply, ApiError> {
    let headers: Map<String, Value> = ticket
        .request
        .headers
        .iter()
        .map(|(name, value)| (name.clone(), Value::from(value.clone())))
        .collect();
    Ok(Reply::ok(&json!({
        "uploadId": ticket.upload_id.as_str(),
        "contentType": ticket.file.content_type.as_str(),
        "size": ticket.file.size,
        "method": ticket.request.method.as_str(),
        "url": ticket.request.url,
        "headers": headers,
        "expiresAt": ticket.request.expires_at,
    }))?
    .with_status(http::StatusCode::CREATED))
}

/// A confirmed file with a download URL (the `FileDownload` component).
pub(crate) fn download_json(download: &AttachmentDownload) -> Value {
    let attachment = &download.attachment;
    json!({
        "id": attachment.id.as_str(),
        "contentType": attachment.content_type.as_str(),
        "size": attachment.size,
        "uploadedAt": attachment.uploaded_at,
        "url": download.request.url,
        "expiresAt": download.request.expires_at,
    })
}

/// A confirmed file's id (its upload's id).
const FILE_ID: Field = Field::required("id", Shape::Uuid);
/// When a file was confirmed.
const UPLOADED_AT: Field = Field::required("uploadedAt", Shape::DateTime);
/// Until when a presigned URL works.
const EXPIRES_AT: Field = Field::required("expiresAt", Shape::DateTime);
/// A presigned URL.
const URL: Field = Field::required("url", Shape::Opaque);

/// The `Upload` component: what [`upload_reply`] answers.
pub(crate) const UPLOAD: &[Field] = &[
    Field::required("uploadId", Shape::Uuid),
    DOCUMENT_TYPE,
    DOCUMENT_SIZE,
    Field::required("method", Shape::Choice(&["PUT"])),
    URL,
    Field::required("headers", Shape::AnyObject),
    EXPIRES_AT,
];

/// The `Attachment` component: a confirmed file as a record shows it.
pub(crate) const ATTACHMENT: &[Field] = &[FILE_ID, DOCUMENT_TYPE, DOCUMENT_SIZE, UPLOADED_AT];

/// The `FileDownload` component: what [`download_json`] answers.
pub(crate) const FILE_DOWNLOAD: &[Field] = &[
    FILE_ID,
    DOCUMENT_TYPE,
    DOCUMENT_SIZE,
    UPLOADED_AT,
    URL,
    EXPIRES_AT,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_declared_content_types_are_the_rules_own() {
        assert_eq!(DOCUMENT_TYPES, DOCUMENT.mime_types().as_slice());
        assert_eq!(PHOTO_TYPES, PHOTO.mime_types().as_slice());
    }
}
