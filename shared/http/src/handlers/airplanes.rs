//! `/v1/airplanes`: the fleet over HTTP.

use std::sync::Arc;

use itinera::airplanes::{
    self, AirplaneChanges, AirplaneFilter, AirplaneId, Capacity, ModelNumber, NewAirplane,
};
use itinera::pagination::PageLimit;
use serde_json::Value;

use crate::fields::{integer, integer_text, string};
use crate::problem::ApiError;
use crate::reply::Reply;
use crate::request::Input;
use crate::services::Services;

/// The fields a create or an update may carry.
const FIELDS: &[&str] = &["modelNumber", "capacity"];
/// The query parameters of the list.
const LIST_PARAMS: &[&str] = &[
    "limit",
    "cursor",
    "minCapacity",
    "maxCapacity",
    "modelNumber",
];

fn model_number(value: Value) -> Result<ModelNumber, String> {
    ModelNumber::parse(&string(value)?)
}

fn capacity(value: Value) -> Result<Capacity, String> {
    Capacity::try_from(integer(value)?)
}

fn airplane_id(input: &Input) -> Result<AirplaneId, ApiError> {
    AirplaneId::parse(input.param("id")).ok_or_else(|| ApiError::NotFound {
        detail: "No airplane exists with this id.".into(),
    })
}

fn location(id: &AirplaneId) -> String {
    format!("/v1/airplanes/{id}")
}

pub(crate) async fn create(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    let mut body = input.json_fields(FIELDS)?;
    let model_number = body.required("modelNumber", model_number);
    let capacity = body.required("capacity", capacity);
    let (model_number, capacity) = body.finish((model_number, capacity))?;
    let new = NewAirplane {
        model_number,
        capacity,
    };
    let airplane = airplanes::create_airplane(
        &*services.store,
        &*services.clock,
        &*services.ids,
        &input.context,
        new,
    )
    .await?;
    Ok(Reply::created(&airplane, location(&airplane.id))?.with_version(airplane.version))
}

pub(crate) async fn get(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    input.query_params(&[])?;
    let id = airplane_id(&input)?;
    let airplane = airplanes::get_airplane(&*services.store, &id).await?;
    Ok(Reply::ok(&airplane)?.with_version(airplane.version))
}

pub(crate) async fn list(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    let mut params = input.query_params(LIST_PARAMS)?;
    let limit = params.optional("limit", |text| PageLimit::try_from(integer_text(text)?));
    let cursor = params.optional("cursor", Ok);
    let min = params.optional("minCapacity", |text| {
        Capacity::try_from(integer_text(text)?)
    });
    let max = params.optional("maxCapacity", |text| {
        Capacity::try_from(integer_text(text)?)
    });
    let model = params.optional("modelNumber", |text| ModelNumber::parse(&text));
    let filter = match (min, max, model) {
        (Some(min), Some(max), Some(model)) => match AirplaneFilter::new(min, max, model) {
            Ok(filter) => Some(filter),
            Err(message) => {
                params.reject("minCapacity", message);
                None
            }
        },
        _ => None,
    };
    let (limit, cursor, filter) = params.finish((limit, cursor, filter))?;
    let limit = limit.unwrap_or_default();
    let pager = services.cursors.pager("airplanes", &filter)?;
    let start_after = pager.start_after(cursor.as_deref())?;
    let page = airplanes::list_airplanes(&*services.store, &filter, limit, start_after).await?;
    Reply::list(&page.items, limit.get(), pager.next(page.next).as_deref())
}

pub(crate) async fn update(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    let id = airplane_id(&input)?;
    input.query_params(&[])?;
    let mut body = input.json_changes(FIELDS)?;
    let model_number = body.optional("modelNumber", model_number);
    let capacity = body.optional("capacity", capacity);
    let (model_number, capacity) = body.finish((model_number, capacity))?;
    let changes = AirplaneChanges::new(model_number, capacity).ok_or(ApiError::Internal)?;
    super::change(&services, &input, &id, &changes).await
}

pub(crate) async fn delete(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    super::remove(&services, &input, &airplane_id(&input)?).await
}
