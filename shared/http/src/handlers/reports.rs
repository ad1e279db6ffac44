//! `/v1/cars/{id}/issues` and `/v1/issues`: issue reports over HTTP. A customer files on a car
//! they rent or rented and reads their own (another's is a 404); staff file on any car, read
//! and list every report, and triage them.

use std::sync::Arc;

use itinera::cars::CarId;
use itinera::contracts::ContractId;
use itinera::error::DomainError;
use itinera::pagination::PageLimit;
use itinera::reports::{
    self, Description, IssueReport, NewReport, ReportFilter, ReportId, ReportStatus, Resolution,
    Severity, Triage,
};

use itinera::attachments::PHOTO;

use super::files;
use crate::fields::{CURSOR, Field, LIMIT, Shape, integer_text, text};
use crate::problem::ApiError;
use crate::reply::Reply;
use crate::request::Input;
use crate::services::Services;

/// What a report's `severity` may be.
pub(crate) const SEVERITY: Shape = Shape::Choice(Severity::WORDS);
/// What a report's `status` may be.
pub(crate) const STATUS: Shape = Shape::Choice(ReportStatus::WORDS);
pub(crate) const DESCRIPTION: Shape = Shape::text(Description::MAX_CHARS);
pub(crate) const RESOLUTION: Shape = Shape::text(Resolution::MAX_CHARS);

/// The fields of a new report (the car is the path's).
pub(crate) const CREATE_FIELDS: &[Field] = &[
    Field::required("severity", SEVERITY),
    Field::required("description", DESCRIPTION),
    Field::optional("contractId", Shape::Uuid),
];
/// The fields of a triage (at least one; `resolution` only with `status: resolved`).
pub(crate) const UPDATE_FIELDS: &[Field] = &[
    Field::optional("status", STATUS),
    Field::optional("resolution", RESOLUTION),
];
/// The query parameters of the list (a customer's list is their own whatever they filter).
pub(crate) const LIST_PARAMS: &[Field] = &[
    LIMIT,
    CURSOR,
    Field::optional("status", STATUS),
    Field::optional("carId", Shape::Uuid),
    Field::optional("severity", SEVERITY),
];

fn contract_id(text: &str) -> Result<ContractId, String> {
    ContractId::parse(text).ok_or_else(|| "must be a contract id (a UUID)".into())
}

fn car_id(text: &str) -> Result<CarId, String> {
    CarId::parse(text).ok_or_else(|| "must be a car id (a UUID)".into())
}

/// A report with its version as `ETag`.
fn answer(report: &IssueReport) -> Result<Reply, ApiError> {
    Ok(Reply::ok(report)?.with_version(report.version))
}

/// `POST /v1/cars/{id}/issues`: `{severity, description, contractId?}`.
pub(crate) async fn create(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    let car_id = input.entity_id::<CarId>()?;
    input.query_params(&[])?;
    let mut body = input.json_fields(CREATE_FIELDS)?;
    let severity = body.required("severity", text(Severity::parse));
    let description = body.required("description", text(Description::parse));
    let contract = body.optional("contractId", text(contract_id));
    let (severity, description, contract_id) = body.finish((severity, description, contract))?;
    let new = NewReport {
        car_id,
        severity,
        description,
        contract_id,
    };
    let (store, clock, ids) = services.ports();
    let report = reports::file_report(
        store,
        clock,
        ids,
        services.jobs.as_deref(),
        &input.context,
        &new,
    )
    .await?;
    super::created(&report, "/v1/issues")
}

/// `GET /v1/issues/{id}`: for its reporter or staff, each confirmed photo with a download URL.
pub(crate) async fn get(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    input.query_params(&[])?;
    let id = input.entity_id::<ReportId>()?;
    let (report, downloads) =
        reports::report_with_photos(&*services.store, &*services.blobs, input.caller()?, &id)
            .await?;
    let mut body = itinera::storage::to_item(&report).map_err(DomainError::from)?;
    let photos = downloads.iter().map(files::download_json).collect();
    body.insert("photos".into(), photos);
    Ok(Reply::ok(&body)?.with_version(report.version))
}

/// `POST /v1/issues/{id}/photos` (the reporter or staff): `{contentType, size}` -> an upload.
pub(crate) async fn start_photo(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    let id = input.entity_id::<ReportId>()?;
    let file = files::declared_file(&input, files::PHOTO_UPLOAD_FIELDS, &PHOTO)?;
    let (store, clock, ids) = services.ports();
    let ticket = reports::start_photo_upload(
        store,
        &*services.blobs,
        (clock, ids),
        input.caller()?,
        &id,
        file,
    )
    .await?;
    files::upload_reply(&ticket)
}

/// `POST /v1/issues/{id}/photos/confirm` (the reporter or staff): `{uploadId}` -> the report
/// with the photo.
pub(crate) async fn confirm_photo(
    services: Arc<Services>,
    input: Input,
) -> Result<Reply, ApiError> {
    let id = input.entity_id::<ReportId>()?;
    let upload = files::confirmed_upload(&input)?;
    let (store, clock, ids) = services.ports();
    let report = reports::confirm_photo(
        store,
        &*services.blobs,
        (clock, ids),
        &input.context,
        &id,
        &upload,
    )
    .await?;
    answer(&report)
}

/// `GET /v1/issues`: a customer's own, or (staff) every report, by status, car and severity.
pub(crate) async fn list(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    let mut params = input.query_params(LIST_PARAMS)?;
    let limit = params.optional("limit", |text| PageLimit::try_from(integer_text(text)?));
    let cursor = params.optional("cursor", Ok);
    let status = params.optional("status", |text| ReportStatus::parse(&text));
    let car = params.optional("carId", |text| car_id(&text));
    let severity = params.optional("severity", |text| Severity::parse(&text));
    let (limit, cursor, status, car_id, severity) =
        params.finish((limit, cursor, status, car, severity))?;
    let limit = limit.unwrap_or_default();
    let caller = input.caller()?;
    let filter = ReportFilter {
        reporter_id: (!caller.is_staff()).then(|| caller.user_id.clone()),
        car_id,
        status,
        severity,
    };
    let pager = services.cursors.pager("issues", &filter)?;
    let start_after = pager.start_after(cursor.as_deref())?;
    let page = reports::list_reports(&*services.store, &filter, limit, start_after).await?;
    Reply::list(&page.items, limit.get(), pager.next(page.next).as_deref())
}

/// `PATCH /v1/issues/{id}` (staff): `{status?, resolution?}` under `If-Match`.
pub(crate) async fn update(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    let id = input.entity_id::<ReportId>()?;
    input.query_params(&[])?;
    let mut body = input.json_changes(UPDATE_FIELDS)?;
    let status = body.optional("status", text(ReportStatus::parse));
    let resolution = body.optional("resolution", text(Resolution::parse));
    let (status, resolution) = body.finish((status, resolution))?;
    let triage = Triage { status, resolution };
    let (store, clock, ids) = services.ports();
    let report = reports::triage_report(
        store,
        clock,
        ids,
        services.jobs.as_deref(),
        &input.context,
        &id,
        &triage,
        &input.precondition(),
    )
    .await?;
    answer(&report)
}
