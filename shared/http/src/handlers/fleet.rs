//! `/v1/cars/{id}/insurance`, `/v1/cars/{id}/registrations`, `/v1/cars/{id}/service-records`,
//! and the fleet's expiring papers at `/v1/insurance` and `/v1/registrations`: the records staff
//! keep per car, over HTTP.
//!
//! Insurance policies and registrations are one shape, so their handlers are written once,
//! generic over the kind; a route names the kind (`fleet::create_paper::<Insurance>`), and
//! [`PaperForm`] says what is each kind's own on the wire: its path, its fields and how they
//! parse.

use std::sync::Arc;

use itinera::attachments::DOCUMENT;
use itinera::calendar::Day;
use itinera::cars::{CarId, Mileage};
use itinera::entity;
use itinera::entity::Page;
use itinera::error::DomainError;
use itinera::fleet::{
    self, Coverage, ExpiryWindow, Garage, Insurance, InsuranceChanges, Issuer, NewPaper,
    NewServiceRecord, PaperChanges, PaperId, PaperKind, PaperNumber, PaperRef, Registration,
    RegistrationChanges, ServiceDescription, Validity,
};
use itinera::pagination::PageLimit;
use itinera::storage::Item;
use serde::Serialize;

use super::cars::MILEAGE;
use super::files;
use crate::cursor::Pager;
use crate::fields::{
    CURSOR, Field, JsonFields, LIMIT, QueryParams, Shape, integer_shape, integer_text, text, whole,
};
use crate::problem::ApiError;
use crate::reply::Reply;
use crate::request::Input;
use crate::services::Services;

pub(crate) const ISSUER: Shape = Shape::text(Issuer::MAX_CHARS);
pub(crate) const PAPER_NUMBER: Shape = Shape::text(PaperNumber::MAX_CHARS);
pub(crate) const COVERAGE: Shape = Shape::Choice(Coverage::WORDS);
pub(crate) const DESCRIPTION: Shape = Shape::text(ServiceDescription::MAX_CHARS);
pub(crate) const GARAGE: Shape = Shape::text(Garage::MAX_CHARS);
/// The days a paper is valid; `validTo` after `validFrom` (a rule between the two fields, which a
/// schema cannot state).
const VALID_FROM: Field = Field::required("validFrom", Shape::Date);
const VALID_TO: Field = Field::required("validTo", Shape::Date);
/// The days a change may move (against the stored other one).
const NEW_VALID_FROM: Field = Field::optional("validFrom", Shape::Date);
const NEW_VALID_TO: Field = Field::optional("validTo", Shape::Date);

/// The query parameters of a car's list of papers or service records.
pub(crate) const PAGE_PARAMS: &[Field] = &[LIMIT, CURSOR];
/// The query parameters of the fleet's expiring papers.
pub(crate) const EXPIRING_PARAMS: &[Field] = &[
    Field::required("expiringWithinDays", integer_shape!(ExpiryWindow)),
    LIMIT,
    CURSOR,
];

/// What each kind of paper is on the wire.
pub(crate) trait PaperForm: PaperKind {
    /// The path parameter naming one paper (`insuranceId`).
    const ID_PARAM: &'static str;
    /// The fields a create carries.
    const CREATE_FIELDS: &'static [Field];
    /// The fields an update may carry (at least one).
    const UPDATE_FIELDS: &'static [Field];

    /// The kind's own fields of a create; `None` once an error is recorded.
    fn details(body: &mut JsonFields) -> Option<Self>;

    /// The kind's own fields of an update; `None` once an error is recorded.
    fn changes(body: &mut JsonFields) -> Option<Self::Changes>;
}

/// Declares a paper kind's form from one list of its own fields (JSON name, shape, parser, domain
/// field): a create reads each as required and an update as optional, so the two never drift
/// apart; both end with the validity dates every paper carries.
macro_rules! paper_form {
    (
        $kind:ident, $changes:ident, $id_param:literal,
        [$(($json:literal, $shape:expr, $parse:path, $field:ident)),+ $(,)?]
    ) => {
        impl PaperForm for $kind {
            const ID_PARAM: &'static str = $id_param;
            const CREATE_FIELDS: &'static [Field] =
                &[$(Field::required($json, $shape),)+ VALID_FROM, VALID_TO];
            const UPDATE_FIELDS: &'static [Field] =
                &[$(Field::optional($json, $shape),)+ NEW_VALID_FROM, NEW_VALID_TO];

            fn details(body: &mut JsonFields) -> Option<Self> {
                $(let $field = body.required($json, text($parse));)+
                Some($kind { $($field: $field?,)+ })
            }

            fn changes(body: &mut JsonFields) -> Option<$changes> {
                $(let $field = body.optional($json, text($parse));)+
                Some($changes { $($field: $field?,)+ })
            }
        }
    };
}

paper_form!(
    Insurance,
    InsuranceChanges,
    "insuranceId",
    [
        ("provider", ISSUER, Issuer::parse, provider),
        (
            "policyNumber",
            PAPER_NUMBER,
            PaperNumber::parse,
            policy_number
        ),
        ("coverage", COVERAGE, Coverage::parse, coverage),
    ]
);

paper_form!(
    Registration,
    RegistrationChanges,
    "registrationId",
    [
        ("authority", ISSUER, Issuer::parse, authority),
        (
            "registrationNumber",
            PAPER_NUMBER,
            PaperNumber::parse,
            registration_number
        ),
    ]
);

/// The fields a service record carries.
pub(crate) const SERVICE_FIELDS: &[Field] = &[
    Field::required("date", Shape::Date),
    Field::required("mileage", MILEAGE),
    Field::required("description", DESCRIPTION),
    Field::required("cost", Shape::Money),
    Field::required("garage", GARAGE),
];

/// The car the path names; text that cannot be a car id names no car (404).
fn car_id(input: &Input) -> Result<CarId, ApiError> {
    CarId::parse(input.param("id")).ok_or_else(|| {
        DomainError::NotFound {
            entity: entity::EntityKind::Car,
        }
        .into()
    })
}

/// The paper the path names: its car and its id.
fn paper_ref<K: PaperForm>(input: &Input) -> Result<PaperRef<K>, ApiError> {
    let id = PaperId::parse(input.param(K::ID_PARAM))
        .ok_or(DomainError::NotFound { entity: K::ENTITY })?;
    Ok(PaperRef::new(car_id(input)?, id))
}

/// A list's limit and cursor.
fn page(params: &mut QueryParams) -> (Option<Option<PageLimit>>, Option<Option<String>>) {
    let limit = params.optional("limit", |text| PageLimit::try_from(integer_text(text)?));
    let cursor = params.optional("cursor", Ok);
    (limit, cursor)
}

/// A request for one page of a list under a car (its papers, its service history): the car, the
/// limit, and where the page starts, its cursors bound to the list and the car.
struct CarPage<'a> {
    car_id: CarId,
    limit: PageLimit,
    pager: Pager<'a>,
    start_after: Option<Item>,
}

impl<'a> CarPage<'a> {
    /// Reads the car from the path and the limit and cursor from the query, for the list `list`.
    fn read(services: &'a Services, input: &Input, list: &str) -> Result<Self, ApiError> {
        let car_id = car_id(input)?;
        let mut params = input.query_params(PAGE_PARAMS)?;
        let (limit, cursor) = page(&mut params);
        let (limit, cursor) = params.finish((limit, cursor))?;
        let pager = services.cursors.pager(list, &car_id)?;
        let start_after = pager.start_after(cursor.as_deref())?;
        Ok(Self {
            car_id,
            limit: limit.unwrap_or_default(),
            pager,
            start_after,
        })
    }

    /// The car, the limit and the key the page starts after, for the domain's list (the key is
    /// handed over once).
    fn position(&mut self) -> (&CarId, PageLimit, Option<Item>) {
        (&self.car_id, self.limit, self.start_after.take())
    }

    /// 200 with `page` and the cursor of the page after it.
    fn reply<T: Serialize>(&self, page: Page<T>) -> Result<Reply, ApiError> {
        let next = self.pager.next(page.next);
        Reply::list(&page.items, self.limit.get(), next.as_deref())
    }
}

/// `POST /v1/cars/{id}/insurance` and `/registrations`: 201 with the paper.
pub(crate) async fn create_paper<K: PaperForm>(
    services: Arc<Services>,
    input: Input,
) -> Result<Reply, ApiError> {
    let car_id = car_id(&input)?;
    input.query_params(&[])?;
    let mut body = input.json_fields(K::CREATE_FIELDS)?;
    let details = K::details(&mut body);
    let valid_from = body.required("validFrom", text(Day::parse));
    let valid_to = body.required("validTo", text(Day::parse));
    let (details, valid_from, valid_to) = body.finish((details, valid_from, valid_to))?;
    let new = NewPaper {
        validity: Validity::new(valid_from, valid_to)?,
        car_id,
        details,
    };
    let (store, clock, ids) = services.ports();
    let paper = fleet::add_paper(store, clock, ids, &input.context, new).await?;
    let location = format!("/v1/cars/{}/{}/{}", paper.car_id, K::COLLECTION, paper.id);
    Ok(Reply::created(&paper, location)?.with_version(paper.version))
}

/// `GET /v1/cars/{id}/insurance` and `/registrations`: the car's papers, newest first.
pub(crate) async fn list_papers<K: PaperForm>(
    services: Arc<Services>,
    input: Input,
) -> Result<Reply, ApiError> {
    let mut request = CarPage::read(&services, &input, K::COLLECTION)?;
    let (car_id, limit, start_after) = request.position();
    let page = fleet::list_papers::<K>(&*services.store, car_id, limit, start_after).await?;
    request.reply(page)
}

/// `GET /v1/cars/{id}/insurance/{insuranceId}` and the registration's: the paper, its version as
/// `ETag`.
pub(crate) async fn get_paper<K: PaperForm>(
    services: Arc<Services>,
    input: Input,
) -> Result<Reply, ApiError> {
    input.query_params(&[])?;
    let paper = fleet::get_paper(&*services.store, &paper_ref::<K>(&input)?).await?;
    Ok(Reply::ok(&paper)?.with_version(paper.version))
}

/// `PATCH` of one paper under `If-Match`.
pub(crate) async fn update_paper<K: PaperForm>(
    services: Arc<Services>,
    input: Input,
) -> Result<Reply, ApiError> {
    input.query_params(&[])?;
    let mut body = input.json_changes(K::UPDATE_FIELDS)?;
    let details = K::changes(&mut body);
    let valid_from = body.optional("validFrom", text(Day::parse));
    let valid_to = body.optional("validTo", text(Day::parse));
    let (details, valid_from, valid_to) = body.finish((details, valid_from, valid_to))?;
    let changes = PaperChanges {
        details,
        valid_from,
        valid_to,
    };
    let id = paper_ref::<K>(&input)?;
    super::change(&services, &input, &id, &changes).await
}

/// `DELETE` of one paper under `If-Match`: 204.
pub(crate) async fn delete_paper<K: PaperForm>(
    services: Arc<Services>,
    input: Input,
) -> Result<Reply, ApiError> {
    input.query_params(&[])?;
    input.no_body()?;
    let id = paper_ref::<K>(&input)?;
    let (store, clock, ids) = services.ports();
    let precondition = input.precondition();
    fleet::delete_paper(store, clock, ids, &input.context, &id, &precondition).await?;
    Ok(Reply::no_content())
}

/// `GET /v1/insurance?expiringWithinDays=N` and `/v1/registrations?...`: the fleet's papers
/// whose last day is today to N days ahead, soonest first.
pub(crate) async fn list_expiring<K: PaperForm>(
    services: Arc<Services>,
    input: Input,
) -> Result<Reply, ApiError> {
    let mut params = input.query_params(EXPIRING_PARAMS)?;
    let window = params.required("expiringWithinDays", |text| {
        ExpiryWindow::try_from(integer_text(text)?)
    });
    let (limit, cursor) = page(&mut params);
    let (window, limit, cursor) = params.finish((window, limit, cursor))?;
    let limit = limit.unwrap_or_default();
    let pager = services
        .cursors
        .pager(&format!("expiring-{}", K::COLLECTION), &window.get())?;
    let start_after = pager.start_after(cursor.as_deref())?;
    let (store, clock, _) = services.ports();
    let page = fleet::expiring_papers::<K>(store, clock, window, limit, start_after).await?;
    Reply::list(&page.items, limit.get(), pager.next(page.next).as_deref())
}

/// `POST .../{insuranceId}/document` and the registration's: 201 with the upload ticket for the
/// paper's document (a PDF or an image of at most 10 MiB).
pub(crate) async fn start_document<K: PaperForm>(
    services: Arc<Services>,
    input: Input,
) -> Result<Reply, ApiError> {
    let file = files::declared_file(&input, files::DOCUMENT_UPLOAD_FIELDS, &DOCUMENT)?;
    let paper = paper_ref::<K>(&input)?;
    let (store, clock, ids) = services.ports();
    let blobs = &*services.blobs;
    let ticket = fleet::start_document(store, blobs, clock, ids, &paper, file).await?;
    files::upload_reply(&ticket)
}

/// `POST .../{insuranceId}/document/confirm` and the registration's: the paper with its new
/// document.
pub(crate) async fn confirm_document<K: PaperForm>(
    services: Arc<Services>,
    input: Input,
) -> Result<Reply, ApiError> {
    let upload = files::confirmed_upload(&input)?;
    let paper = paper_ref::<K>(&input)?;
    let (store, clock, ids) = services.ports();
    let blobs = &*services.blobs;
    let context = &input.context;
    let paper = fleet::confirm_document(store, blobs, clock, ids, context, &paper, &upload).await?;
    Ok(Reply::ok(&paper)?.with_version(paper.version))
}

/// `GET .../{insuranceId}/document` and the registration's: the document with a short-lived
/// download URL, or 404 while none is confirmed.
pub(crate) async fn get_document<K: PaperForm>(
    services: Arc<Services>,
    input: Input,
) -> Result<Reply, ApiError> {
    input.query_params(&[])?;
    let paper = paper_ref::<K>(&input)?;
    let download = fleet::document_download(&*services.store, &*services.blobs, &paper).await?;
    Reply::ok(&files::download_json(&download))
}

/// `POST /v1/cars/{id}/service-records`: 201 with the record, located at the car's history (a
/// record has no address of its own: it is read in the history, never alone).
pub(crate) async fn create_service_record(
    services: Arc<Services>,
    input: Input,
) -> Result<Reply, ApiError> {
    let car_id = car_id(&input)?;
    input.query_params(&[])?;
    let mut body = input.json_fields(SERVICE_FIELDS)?;
    let date = body.required("date", text(Day::parse));
    let mileage = body.required("mileage", whole(Mileage::try_from));
    let description = body.required("description", text(ServiceDescription::parse));
    let cost = body.required("cost", super::flights::price);
    let garage = body.required("garage", text(Garage::parse));
    let (date, mileage, description, cost, garage) =
        body.finish((date, mileage, description, cost, garage))?;
    let new = NewServiceRecord {
        car_id,
        date,
        mileage,
        description,
        cost,
        garage,
    };
    let (store, clock, ids) = services.ports();
    let record = fleet::record_service(store, clock, ids, &input.context, new).await?;
    let location = format!("/v1/cars/{}/service-records", record.car_id);
    Reply::created(&record, location)
}

/// `GET /v1/cars/{id}/service-records`: the car's history, newest first.
pub(crate) async fn list_service_records(
    services: Arc<Services>,
    input: Input,
) -> Result<Reply, ApiError> {
    let mut request = CarPage::read(&services, &input, "service-records")?;
    let (car_id, limit, start_after) = request.position();
    let page = fleet::service_history(&*services.store, car_id, limit, start_after).await?;
    request.reply(page)
}
