//! `/v1/airports`: airports over HTTP. Anyone may read them (flight search needs their codes);
//! staff change them.

use std::sync::Arc;

use itinera::airports::{
    self, AirportChanges, AirportCode, CountryCode, NewAirport, PlaceName, TimeZone,
};
use itinera::pagination::PageLimit;

use crate::fields::{CURSOR, Field, LIMIT, Listed, Shape, integer_text, text};
use crate::problem::ApiError;
use crate::reply::Reply;
use crate::request::Input;
use crate::services::Services;

/// An IATA airport code: three uppercase letters.
pub(crate) const AIRPORT_CODE: Shape = Shape::Pattern("^[A-Z]{3}$");
pub(crate) const PLACE_NAME: Shape = Shape::text(PlaceName::MAX_CHARS);
/// An assigned ISO 3166-1 alpha-2 country code.
pub(crate) const COUNTRY: Shape = Shape::Listed(Listed::CountryCode);
/// An IANA time zone name, such as Asia/Kolkata.
pub(crate) const TIME_ZONE: Shape = Shape::Listed(Listed::TimeZone);

/// The fields a create may carry.
pub(crate) const CREATE_FIELDS: &[Field] = &[
    Field::required("code", AIRPORT_CODE),
    Field::required("name", PLACE_NAME),
    Field::required("city", PLACE_NAME),
    Field::required("country", COUNTRY),
    Field::required("timeZone", TIME_ZONE),
];
/// The fields an update may carry: everything but the code, which is the airport's id.
pub(crate) const UPDATE_FIELDS: &[Field] = &[
    Field::optional("name", PLACE_NAME),
    Field::optional("city", PLACE_NAME),
    Field::optional("country", COUNTRY),
    Field::optional("timeZone", TIME_ZONE),
];
/// The query parameters of the list.
pub(crate) const LIST_PARAMS: &[Field] = &[LIMIT, CURSOR];

pub(crate) async fn create(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    input.query_params(&[])?;
    let mut body = input.json_fields(CREATE_FIELDS)?;
    let code = body.required("code", text(AirportCode::parse));
    let name = body.required("name", text(PlaceName::parse));
    let city = body.required("city", text(PlaceName::parse));
    let country = body.required("country", text(CountryCode::parse));
    let time_zone = body.required("timeZone", text(TimeZone::parse));
    let (code, name, city, country, time_zone) =
        body.finish((code, name, city, country, time_zone))?;
    let new = NewAirport {
        code,
        name,
        city,
        country,
        time_zone,
    };
    super::add(&services, &input, "/v1/airports", new).await
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
    let code = input.entity_id::<AirportCode>()?;
    input.query_params(&[])?;
    let mut body = input.json_changes(UPDATE_FIELDS)?;
    let name = body.optional("name", text(PlaceName::parse));
    let city = body.optional("city", text(PlaceName::parse));
    let country = body.optional("country", text(CountryCode::parse));
    let time_zone = body.optional("timeZone", text(TimeZone::parse));
    let (name, city, country, time_zone) = body.finish((name, city, country, time_zone))?;
    let changes = AirportChanges::new(name, city, country, time_zone).ok_or(ApiError::Internal)?;
    super::change(&services, &input, &code, &changes).await
}
