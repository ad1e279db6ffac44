//! `/v1/airports`: airports over HTTP. Anyone may read them (flight search needs their codes);
//! staff change them.

use std::sync::Arc;

use itinera::airports::{
    self, AirportChanges, AirportCode, CountryCode, NewAirport, PlaceName, TimeZone,
};
use itinera::pagination::PageLimit;
use serde_json::Value;

use crate::fields::{integer_text, string};
use crate::problem::ApiError;
use crate::reply::Reply;
use crate::request::Input;
use crate::services::Services;

/// The fields a create may carry.
const CREATE_FIELDS: &[&str] = &["code", "name", "city", "country", "timeZone"];
/// The fields an update may carry: everything but the code, which is the airport's id.
const UPDATE_FIELDS: &[&str] = &["name", "city", "country", "timeZone"];
/// The query parameters of the list.
const LIST_PARAMS: &[&str] = &["limit", "cursor"];

fn code(value: Value) -> Result<AirportCode, String> {
    AirportCode::parse(&string(value)?)
}

fn place_name(value: Value) -> Result<PlaceName, String> {
    PlaceName::parse(&string(value)?)
}

fn country(value: Value) -> Result<CountryCode, String> {
    CountryCode::parse(&string(value)?)
}

fn time_zone(value: Value) -> Result<TimeZone, String> {
    TimeZone::parse(&string(value)?)
}

/// The airport the path names; a code that cannot exist names no airport (404, as an unknown one).
fn airport_code(input: &Input) -> Result<AirportCode, ApiError> {
    AirportCode::parse(input.param("code")).map_err(|_| ApiError::NotFound {
        detail: "No airport exists with this code.".into(),
    })
}

fn location(code: &AirportCode) -> String {
    format!("/v1/airports/{code}")
}

pub(crate) async fn create(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    input.query_params(&[])?;
    let mut body = input.json_fields(CREATE_FIELDS)?;
    let code = body.required("code", code);
    let name = body.required("name", place_name);
    let city = body.required("city", place_name);
    let country = body.required("country", country);
    let time_zone = body.required("timeZone", time_zone);
    let (code, name, city, country, time_zone) =
        body.finish((code, name, city, country, time_zone))?;
    let new = NewAirport {
        code,
        name,
        city,
        country,
        time_zone,
    };
    let airport = airports::create_airport(
        &*services.store,
        &*services.clock,
        &*services.ids,
        &input.context,
        new,
    )
    .await?;
    Ok(Reply::created(&airport, location(&airport.code))?.with_version(airport.version))
}

pub(crate) async fn get(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    input.query_params(&[])?;
    let code = airport_code(&input)?;
    let airport = airports::get_airport(&*services.store, &code).await?;
    Ok(Reply::ok(&airport)?.with_version(airport.version))
}

pub(crate) async fn list(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    let mut params = input.query_params(LIST_PARAMS)?;
    let limit = params.optional("limit", |text| PageLimit::try_from(integer_text(text)?));
    let cursor = params.optional("cursor", Ok);
    let (limit, cursor) = params.finish((limit, cursor))?;
    let limit = limit.unwrap_or_default();
    // One list without filters: its cursors are bound to the list alone.
    let pager = services.cursors.pager("airports", &())?;
    let start_after = pager.start_after(cursor.as_deref())?;
    let page = airports::list_airports(&*services.store, limit, start_after).await?;
    Reply::list(&page.items, limit.get(), pager.next(page.next).as_deref())
}

pub(crate) async fn update(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    let code = airport_code(&input)?;
    input.query_params(&[])?;
    let mut body = input.json_changes(UPDATE_FIELDS)?;
    let name = body.optional("name", place_name);
    let city = body.optional("city", place_name);
    let country = body.optional("country", country);
    let time_zone = body.optional("timeZone", time_zone);
    let (name, city, country, time_zone) = body.finish((name, city, country, time_zone))?;
    let changes = AirportChanges::new(name, city, country, time_zone).ok_or(ApiError::Internal)?;
    super::change(&services, &input, &code, &changes).await
}

pub(crate) async fn delete(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    super::remove(&services, &input, &airport_code(&input)?).await
}
