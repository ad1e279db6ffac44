//! `/v1/airplanes`: the fleet over HTTP. A read by id and a delete are the shared handlers
//! (`fetch` and `remove` of `AirplaneId`); what is the fleet's own is which fields and filters
//! exist and how they parse.

use std::sync::Arc;

use itinera::airplanes::{
    self, AirplaneChanges, AirplaneFilter, AirplaneId, Capacity, ModelNumber, NewAirplane,
};
use itinera::pagination::PageLimit;

use crate::fields::{CURSOR, Field, LIMIT, Shape, integer_text, text, whole};
use crate::problem::ApiError;
use crate::reply::Reply;
use crate::request::Input;
use crate::services::Services;

pub(crate) const MODEL_NUMBER: Shape = Shape::text(ModelNumber::MAX_CHARS);
pub(crate) const CAPACITY: Shape = crate::fields::integer_shape!(Capacity);

/// The fields a create or an update may carry (an update, any of them).
pub(crate) const FIELDS: &[Field] = &[
    Field::required("modelNumber", MODEL_NUMBER),
    Field::required("capacity", CAPACITY),
];
/// The query parameters of the list.
pub(crate) const LIST_PARAMS: &[Field] = &[
    LIMIT,
    CURSOR,
    Field::optional("minCapacity", CAPACITY),
    Field::optional("maxCapacity", CAPACITY),
    Field::optional("modelNumber", MODEL_NUMBER),
];

pub(crate) async fn create(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    let mut body = input.json_fields(FIELDS)?;
    let model_number = body.required("modelNumber", text(ModelNumber::parse));
    let capacity = body.required("capacity", whole(Capacity::try_from));
    let (model_number, capacity) = body.finish((model_number, capacity))?;
    let new = NewAirplane {
        model_number,
        capacity,
    };
    super::add(&services, &input, "/v1/airplanes", new).await
}

pub(crate) async fn list(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    let mut params = input.query_params(LIST_PARAMS)?;
    let limit = params.optional("limit", |text| PageLimit::try_from(integer_text(text)?));
    let cursor = params.optional("cursor", Ok);
    let capacity = |text| Capacity::try_from(integer_text(text)?);
    let min = params.optional("minCapacity", capacity);
    let max = params.optional("maxCapacity", capacity);
    let model = params.optional("modelNumber", |text| ModelNumber::parse(&text));
    let filter = match (min, max, model) {
        (Some(min), Some(max), Some(model)) => AirplaneFilter::new(min, max, model)
            .map_err(|message| params.reject("minCapacity", message))
            .ok(),
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
    let id = input.entity_id::<AirplaneId>()?;
    input.query_params(&[])?;
    let mut body = input.json_changes(FIELDS)?;
    let model_number = body.optional("modelNumber", text(ModelNumber::parse));
    let capacity = body.optional("capacity", whole(Capacity::try_from));
    let (model_number, capacity) = body.finish((model_number, capacity))?;
    let changes = AirplaneChanges::new(model_number, capacity).ok_or(ApiError::Internal)?;
    super::change(&services, &input, &id, &changes).await
}
