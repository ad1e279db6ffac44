//! `/v1/contracts`: rental contracts over HTTP. A customer reserves, reads, lists, re-dates and
//! cancels their own (another's is a 404); staff do so for anyone and hand cars over and take
//! them back.

use std::sync::Arc;

use itinera::calendar::Day;
use itinera::cars::{CarId, Mileage};
use itinera::contracts::{
    self, Contract, ContractFilter, ContractId, ContractStatus, Damages, FuelLevel, NewDates,
    Reservation, Return,
};
use itinera::customers::{self, CustomerId};
use itinera::error::DomainError;
use itinera::idempotency::StoredResponse;
use itinera::pagination::PageLimit;
use itinera::storage::StoreError;

use super::bookings::{idempotency_key, replay};
use super::cars::MILEAGE;
use crate::fields::{CURSOR, Field, LIMIT, Shape, integer_shape, integer_text, text, whole};
use crate::problem::ApiError;
use crate::reply::Reply;
use crate::request::Input;
use crate::services::Services;

/// What a contract's `status` may be.
pub(crate) const STATUS: Shape = Shape::Choice(ContractStatus::WORDS);
/// How full the tank is on return, in percent.
pub(crate) const FUEL_LEVEL: Shape = integer_shape!(FuelLevel);
pub(crate) const DAMAGES: Shape = Shape::text(Damages::MAX_CHARS);

/// The fields of a reservation: `customerId` is staff's (a customer reserves for themselves).
pub(crate) const CREATE_FIELDS: &[Field] = &[
    Field::required("carId", Shape::Uuid),
    Field::optional("customerId", Shape::Uuid),
    Field::required("startDate", Shape::Date),
    Field::required("endDate", Shape::Date),
];
/// The fields of a date change (at least one).
pub(crate) const UPDATE_FIELDS: &[Field] = &[
    Field::optional("startDate", Shape::Date),
    Field::optional("endDate", Shape::Date),
];
/// The fields of a pickup.
pub(crate) const PICKUP_FIELDS: &[Field] = &[Field::required("mileage", MILEAGE)];
/// The fields of a return.
pub(crate) const RETURN_FIELDS: &[Field] = &[
    Field::required("mileage", MILEAGE),
    Field::required("fuelLevel", FUEL_LEVEL),
    Field::optional("damages", DAMAGES),
];
/// The query parameters of the list (`customerId` counts for staff only).
pub(crate) const LIST_PARAMS: &[Field] = &[
    LIMIT,
    CURSOR,
    Field::optional("customerId", Shape::Uuid),
    Field::optional("carId", Shape::Uuid),
    Field::optional("status", STATUS),
];

fn car_id(text: &str) -> Result<CarId, String> {
    CarId::parse(text).ok_or_else(|| "must be a car id (a UUID)".into())
}

fn customer_id(text: &str) -> Result<CustomerId, String> {
    CustomerId::parse(text).ok_or_else(|| "must be a customer id (a UUID)".into())
}

fn location(id: &ContractId) -> String {
    format!("/v1/contracts/{id}")
}

/// What a reservation answers, recorded with the contract so that retries answer exactly this.
fn created_response(contract: &Contract) -> Result<StoredResponse, StoreError> {
    Ok(StoredResponse {
        status: 201,
        body: serde_json::to_value(contract).map_err(StoreError::internal)?,
        location: Some(location(&contract.id)),
    })
}

/// A contract with its version as `ETag`.
fn answer(contract: &Contract) -> Result<Reply, ApiError> {
    Ok(Reply::ok(contract)?.with_version(contract.version))
}

/// `POST /v1/contracts`, with `Idempotency-Key`.
pub(crate) async fn create(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    input.query_params(&[])?;
    let key = idempotency_key(&input)?;
    let mut body = input.json_fields(CREATE_FIELDS)?;
    let car = body.required("carId", text(car_id));
    let customer = body.optional("customerId", text(customer_id));
    let start = body.required("startDate", text(Day::parse));
    let end = body.required("endDate", text(Day::parse));
    let (car_id, customer_id, start_date, end_date) = body.finish((car, customer, start, end))?;
    let reservation = Reservation {
        car_id,
        customer_id,
        start_date,
        end_date,
    };
    let (store, clock, ids) = services.ports();
    let outcome = contracts::reserve_contract(
        store,
        clock,
        ids,
        services.jobs.as_deref(),
        &input.context,
        &key,
        &reservation,
        created_response,
    )
    .await?;
    replay(outcome.response())
}

/// `GET /v1/contracts/{id}`: for its owner or staff.
pub(crate) async fn get(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    input.query_params(&[])?;
    let id = input.entity_id::<ContractId>()?;
    let contract = contracts::get_contract(&*services.store, input.caller()?, &id).await?;
    answer(&contract)
}

/// `GET /v1/contracts`: a customer's own, or (staff) any, by customer, car and status.
pub(crate) async fn list(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    let mut params = input.query_params(LIST_PARAMS)?;
    let limit = params.optional("limit", |text| PageLimit::try_from(integer_text(text)?));
    let cursor = params.optional("cursor", Ok);
    let customer = params.optional("customerId", |text| customer_id(&text));
    let car = params.optional("carId", |text| car_id(&text));
    let status = params.optional("status", |text| ContractStatus::parse(&text));
    let (limit, cursor, customer_id, car_id, status) =
        params.finish((limit, cursor, customer, car, status))?;
    let limit = limit.unwrap_or_default();
    let customer_id = if input.caller()?.is_staff() {
        customer_id
    } else {
        // A customer lists their own contracts, whatever customer they name; no profile yet is
        // no contract yet.
        match customers::get_my_customer(&*services.store, &input.context).await {
            Ok(own) => Some(own.id),
            Err(DomainError::NotFound { .. }) => {
                return Reply::list(&[] as &[Contract], limit.get(), None);
            }
            Err(other) => return Err(other.into()),
        }
    };
    let filter = ContractFilter {
        customer_id,
        car_id,
        status,
    };
    let pager = services.cursors.pager("contracts", &filter)?;
    let start_after = pager.start_after(cursor.as_deref())?;
    let page = contracts::list_contracts(&*services.store, &filter, limit, start_after).await?;
    Reply::list(&page.items, limit.get(), pager.next(page.next).as_deref())
}

/// `PATCH /v1/contracts/{id}`: new dates under `If-Match`, while reserved.
pub(crate) async fn update(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    let id = input.entity_id::<ContractId>()?;
    input.query_params(&[])?;
    let mut body = input.json_changes(UPDATE_FIELDS)?;
    let start = body.optional("startDate", text(Day::parse));
    let end = body.optional("endDate", text(Day::parse));
    let (start_date, end_date) = body.finish((start, end))?;
    let dates = NewDates {
        start_date,
        end_date,
    };
    let (store, clock, ids) = services.ports();
    let contract = contracts::reschedule_contract(
        store,
        clock,
        ids,
        &input.context,
        &id,
        dates,
        &input.precondition(),
    )
    .await?;
    answer(&contract)
}

/// `POST /v1/contracts/{id}/cancel`: by its owner or staff, while reserved.
pub(crate) async fn cancel(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    let id = input.entity_id::<ContractId>()?;
    input.query_params(&[])?;
    input.no_body()?;
    let (store, clock, ids) = services.ports();
    let contract = contracts::cancel_contract(store, clock, ids, &input.context, &id).await?;
    answer(&contract)
}

/// `POST /v1/contracts/{id}/pickup` (staff): `{mileage}`.
pub(crate) async fn pickup(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    let id = input.entity_id::<ContractId>()?;
    input.query_params(&[])?;
    let mut body = input.json_fields(PICKUP_FIELDS)?;
    let mileage = body.required("mileage", whole(Mileage::try_from));
    let (mileage,) = body.finish((mileage,))?;
    let (store, clock, ids) = services.ports();
    let contract =
        contracts::pick_up_contract(store, clock, ids, &input.context, &id, mileage).await?;
    answer(&contract)
}

/// `POST /v1/contracts/{id}/return` (staff): `{mileage, fuelLevel, damages?}`.
pub(crate) async fn give_back(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    let id = input.entity_id::<ContractId>()?;
    input.query_params(&[])?;
    let mut body = input.json_fields(RETURN_FIELDS)?;
    let mileage = body.required("mileage", whole(Mileage::try_from));
    let fuel_level = body.required("fuelLevel", whole(FuelLevel::try_from));
    let damages = body.optional("damages", text(Damages::parse));
    let (mileage, fuel_level, damages) = body.finish((mileage, fuel_level, damages))?;
    let returned = Return {
        mileage,
        fuel_level,
        damages,
    };
    let (store, clock, ids) = services.ports();
    let contract =
        contracts::return_contract(store, clock, ids, &input.context, &id, &returned).await?;
    answer(&contract)
}
