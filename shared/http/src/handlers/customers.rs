//! `/v1/customers`: customer profiles over HTTP. Staff keep anyone's (a read by id and a delete
//! are the shared handlers of `CustomerId`); a signed-in user keeps their own at
//! `/v1/customers/me`, with their account's email.

use std::sync::Arc;

use itinera::accounts::{Email, PersonName, Phone};
use itinera::calendar::Day;
use itinera::customers::{
    self, CustomerChanges, CustomerFilter, CustomerId, LicenceNumber, MyNewCustomer, NewCustomer,
};
use itinera::error::DomainError;
use itinera::identity::UserId;
use itinera::pagination::PageLimit;

use super::accounts::{EMAIL, PERSON_NAME, PHONE_NUMBER};
use crate::fields::{CURSOR, Field, LIMIT, Shape, integer_text, text};
use crate::problem::ApiError;
use crate::reply::Reply;
use crate::request::Input;
use crate::services::Services;

pub(crate) const LICENCE_NUMBER: Shape = Shape::text(LicenceNumber::MAX_CHARS);

/// The fields a staff create carries.
pub(crate) const CREATE_FIELDS: &[Field] = &[
    Field::required("name", PERSON_NAME),
    Field::required("email", EMAIL),
    Field::required("phone", PHONE_NUMBER),
    Field::required("licenceNumber", LICENCE_NUMBER),
    Field::required("licenceExpiry", Shape::Date),
    Field::optional("userId", Shape::Uuid),
];
/// The fields a staff update may carry (at least one).
pub(crate) const UPDATE_FIELDS: &[Field] = &[
    Field::optional("name", PERSON_NAME),
    Field::optional("phone", PHONE_NUMBER),
    Field::optional("licenceNumber", LICENCE_NUMBER),
    Field::optional("licenceExpiry", Shape::Date),
];
/// The fields of a signed-in user's own new profile (the email is their account's).
pub(crate) const MY_CREATE_FIELDS: &[Field] = &[
    Field::optional("name", PERSON_NAME),
    Field::required("phone", PHONE_NUMBER),
    Field::required("licenceNumber", LICENCE_NUMBER),
    Field::required("licenceExpiry", Shape::Date),
];
/// The fields a signed-in user may change on their own profile (at least one).
pub(crate) const MY_UPDATE_FIELDS: &[Field] = &[
    Field::optional("phone", PHONE_NUMBER),
    Field::optional("licenceNumber", LICENCE_NUMBER),
    Field::optional("licenceExpiry", Shape::Date),
];
/// The query parameters of the list.
pub(crate) const LIST_PARAMS: &[Field] = &[Field::optional("email", EMAIL), LIMIT, CURSOR];

fn user_id(raw: &str) -> Result<UserId, String> {
    UserId::parse(raw).ok_or_else(|| "must be a user id (a UUID)".into())
}

/// `POST /v1/customers` (staff).
pub(crate) async fn create(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    input.query_params(&[])?;
    let mut body = input.json_fields(CREATE_FIELDS)?;
    let name = body.required("name", text(PersonName::parse));
    let email = body.required("email", text(Email::parse));
    let phone = body.required("phone", text(Phone::parse));
    let licence_number = body.required("licenceNumber", text(LicenceNumber::parse));
    let licence_expiry = body.required("licenceExpiry", text(Day::parse));
    let user = body.optional("userId", text(user_id));
    let (name, email, phone, licence_number, licence_expiry, user_id) =
        body.finish((name, email, phone, licence_number, licence_expiry, user))?;
    let new = NewCustomer {
        name,
        email,
        phone,
        licence_number,
        licence_expiry,
        user_id,
    };
    let (store, clock, ids) = services.ports();
    let customer = customers::create_customer(store, clock, ids, &input.context, new).await?;
    super::created(&customer, "/v1/customers")
}

/// `GET /v1/customers`: newest first, or the one of `email`.
pub(crate) async fn list(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    let mut params = input.query_params(LIST_PARAMS)?;
    let limit = params.optional("limit", |text| PageLimit::try_from(integer_text(text)?));
    let cursor = params.optional("cursor", Ok);
    let email = params.optional("email", |text| Email::parse(&text));
    let (limit, cursor, email) = params.finish((limit, cursor, email))?;
    let filter = CustomerFilter { email };
    let limit = limit.unwrap_or_default();
    let pager = services.cursors.pager("customers", &filter)?;
    let start_after = pager.start_after(cursor.as_deref())?;
    let page = customers::list_customers(&*services.store, &filter, limit, start_after).await?;
    Reply::list(&page.items, limit.get(), pager.next(page.next).as_deref())
}

/// `PATCH /v1/customers/{id}` (staff).
pub(crate) async fn update(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    let id = input.entity_id::<CustomerId>()?;
    input.query_params(&[])?;
    let changes = changes(&input, UPDATE_FIELDS)?;
    super::change(&services, &input, &id, &changes).await
}

/// The changes of a body restricted to `allowed` (a subset of [`UPDATE_FIELDS`]).
fn changes(input: &Input, allowed: &[Field]) -> Result<CustomerChanges, ApiError> {
    let mut body = input.json_changes(allowed)?;
    let name = body.optional("name", text(PersonName::parse));
    let phone = body.optional("phone", text(Phone::parse));
    let licence_number = body.optional("licenceNumber", text(LicenceNumber::parse));
    let licence_expiry = body.optional("licenceExpiry", text(Day::parse));
    let (name, phone, licence_number, licence_expiry) =
        body.finish((name, phone, licence_number, licence_expiry))?;
    Ok(CustomerChanges {
        name,
        phone,
        licence_number,
        licence_expiry,
    })
}

/// `POST /v1/customers/me`: the caller's own profile, with their account's email.
pub(crate) async fn create_mine(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    input.query_params(&[])?;
    let mut body = input.json_fields(MY_CREATE_FIELDS)?;
    let name = body.optional("name", text(PersonName::parse));
    let phone = body.required("phone", text(Phone::parse));
    let licence_number = body.required("licenceNumber", text(LicenceNumber::parse));
    let licence_expiry = body.required("licenceExpiry", text(Day::parse));
    let (name, phone, licence_number, licence_expiry) =
        body.finish((name, phone, licence_number, licence_expiry))?;
    let mine = MyNewCustomer {
        name,
        phone,
        licence_number,
        licence_expiry,
    };
    let (store, clock, ids) = services.ports();
    let customer = customers::create_my_customer(store, clock, ids, &input.context, mine).await?;
    super::created(&customer, "/v1/customers")
}

/// `GET /v1/customers/me`: 404 until the caller has created their profile.
pub(crate) async fn get_mine(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    input.query_params(&[])?;
    let customer = customers::get_my_customer(&*services.store, &input.context)
        .await
        .map_err(no_profile_yet)?;
    Ok(Reply::ok(&customer)?.with_version(customer.version))
}

/// `PATCH /v1/customers/me`: phone and licence, under `If-Match`.
pub(crate) async fn update_mine(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    input.query_params(&[])?;
    let changes = changes(&input, MY_UPDATE_FIELDS)?;
    let (store, clock, ids) = services.ports();
    let customer = customers::update_my_customer(
        store,
        clock,
        ids,
        &input.context,
        &changes,
        &input.precondition(),
    )
    .await
    .map_err(no_profile_yet)?;
    Ok(Reply::ok(&customer)?.with_version(customer.version))
}

/// A caller without a profile of their own is told how to make one, rather than that an id they
/// never gave names nothing.
fn no_profile_yet(error: DomainError) -> ApiError {
    match error {
        DomainError::NotFound { .. } => ApiError::NotFound {
            detail: "You have no customer profile yet; create it with POST /v1/customers/me."
                .into(),
        },
        other => other.into(),
    }
}
