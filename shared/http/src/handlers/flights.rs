//! `/v1/flights`: flights over HTTP. Anyone may search and read them; staff schedule, change and
//! remove them.

use std::sync::Arc;

use itinera::airplanes::AirplaneId;
use itinera::airports::AirportCode;
use itinera::flights::{
    self, FlightChanges, FlightId, FlightNumber, FlightSearch, FlightStatus, Leg, NewFlight,
    PriceBound, Schedule, SearchOrder, SeatsWanted, parse_date, parse_time,
};
use itinera::money::{Currency, Money};
use itinera::pagination::PageLimit;
use serde_json::Value;

use crate::fields::{CURSOR, Field, LIMIT, Shape, integer, integer_text, string};
use crate::handlers::airports::AIRPORT_CODE;
use crate::problem::ApiError;
use crate::reply::Reply;
use crate::request::Input;
use crate::services::Services;

/// A flight number: an airline designator, 1 to 4 digits, an optional letter.
pub(crate) const FLIGHT_NUMBER: Shape =
    Shape::Pattern("^(?:[A-Z][A-Z0-9]|[0-9][A-Z])[0-9]{1,4}[A-Z]?$");
/// What a flight's `status` may be.
pub(crate) const FLIGHT_STATUS: Shape =
    Shape::Choice(&["scheduled", "departed", "arrived", "cancelled"]);
/// A price bound in minor units.
const PRICE_BOUND: Shape = Shape::Integer {
    min: 0,
    max: itinera::money::MAX_AMOUNT,
};

/// The fields a create may carry.
pub(crate) const CREATE_FIELDS: &[Field] = &[
    Field::required("flightNumber", FLIGHT_NUMBER),
    Field::required("airplaneId", Shape::Uuid),
    Field::required("from", AIRPORT_CODE),
    Field::required("to", AIRPORT_CODE),
    Field::required("departureTime", Shape::DateTime),
    Field::required("arrivalTime", Shape::DateTime),
    Field::required("price", Shape::Money),
];
/// The fields an update may carry.
pub(crate) const UPDATE_FIELDS: &[Field] = &[
    Field::optional("departureTime", Shape::DateTime),
    Field::optional("arrivalTime", Shape::DateTime),
    Field::optional("price", Shape::Money),
    Field::optional("status", FLIGHT_STATUS),
];
/// The query parameters of the search.
pub(crate) const SEARCH_PARAMS: &[Field] = &[
    Field::required("from", AIRPORT_CODE),
    Field::required("to", AIRPORT_CODE),
    Field::required("date", Shape::Date),
    Field::optional("minPrice", PRICE_BOUND),
    Field::optional("maxPrice", PRICE_BOUND),
    Field::optional("seats", crate::fields::integer_shape!(SeatsWanted)),
    Field::optional("sort", Shape::Choice(&["departure", "price"])),
    LIMIT,
    CURSOR,
];

fn flight_number(value: Value) -> Result<FlightNumber, String> {
    FlightNumber::parse(&string(value)?)
}

fn airplane_id(value: Value) -> Result<AirplaneId, String> {
    AirplaneId::parse(&string(value)?).ok_or_else(|| "must be an airplane id (a UUID)".into())
}

fn airport(value: Value) -> Result<AirportCode, String> {
    AirportCode::parse(&string(value)?)
}

fn time(value: Value) -> Result<chrono::DateTime<chrono::Utc>, String> {
    parse_time(&string(value)?)
}

fn status(value: Value) -> Result<FlightStatus, String> {
    FlightStatus::parse(&string(value)?)
}

/// `{"amount": <minor units>, "currency": "<ISO 4217>"}`; the amount may be a numeric string.
pub(crate) fn price(value: Value) -> Result<Money, String> {
    let shape = || "must be an object with `amount` (minor units) and `currency`".to_owned();
    let Value::Object(mut fields) = value else {
        return Err(shape());
    };
    let (Some(amount), Some(currency)) = (fields.remove("amount"), fields.remove("currency"))
    else {
        return Err(shape());
    };
    if !fields.is_empty() {
        return Err(shape());
    }
    let amount = integer(amount).map_err(|message| format!("amount {message}"))?;
    let currency = string(currency)
        .and_then(|code| Currency::parse(&code))
        .map_err(|message| format!("currency {message}"))?;
    Money::new(amount, currency).map_err(|message| format!("amount {message}"))
}

fn price_bound(text: String) -> Result<PriceBound, String> {
    PriceBound::try_from(integer_text(text)?)
}

pub(crate) async fn create(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    input.query_params(&[])?;
    let mut body = input.json_fields(CREATE_FIELDS)?;
    let flight_number = body.required("flightNumber", flight_number);
    let airplane_id = body.required("airplaneId", airplane_id);
    let from = body.required("from", airport);
    let to = body.required("to", airport);
    let departure = body.required("departureTime", time);
    let arrival = body.required("arrivalTime", time);
    let price = body.required("price", price);
    let leg = match (from, to) {
        (Some(from), Some(to)) => Leg::new(from, to)
            .map_err(|message| body.reject("to", message))
            .ok(),
        _ => None,
    };
    let schedule = match (departure, arrival) {
        (Some(departure), Some(arrival)) => Schedule::new(departure, arrival)
            .map_err(|message| body.reject("arrivalTime", message))
            .ok(),
        _ => None,
    };
    let (flight_number, airplane_id, leg, schedule, price) =
        body.finish((flight_number, airplane_id, leg, schedule, price))?;
    let new = NewFlight {
        flight_number,
        airplane_id,
        leg,
        schedule,
        price,
    };
    let (store, clock, ids) = services.ports();
    let flight = flights::create_flight(store, clock, ids, &input.context, new).await?;
    super::created(&flight, "/v1/flights")
}

pub(crate) async fn search(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    let mut params = input.query_params(SEARCH_PARAMS)?;
    let from = params.required("from", |text| AirportCode::parse(&text));
    let to = params.required("to", |text| AirportCode::parse(&text));
    let date = params.required("date", |text| parse_date(&text));
    let min_price = params.optional("minPrice", price_bound);
    let max_price = params.optional("maxPrice", price_bound);
    let seats = params.optional("seats", |text| SeatsWanted::try_from(integer_text(text)?));
    let order = params.optional("sort", |text| SearchOrder::parse(&text));
    let limit = params.optional("limit", |text| PageLimit::try_from(integer_text(text)?));
    let cursor = params.optional("cursor", Ok);
    let leg = match (from, to) {
        (Some(from), Some(to)) => Leg::new(from, to)
            .map_err(|message| params.reject("to", message))
            .ok(),
        _ => None,
    };
    let search = match (leg, date, min_price, max_price, seats, order) {
        (Some(leg), Some(date), Some(min), Some(max), Some(seats), Some(order)) => {
            FlightSearch::new(leg, date, min, max, seats, order.unwrap_or_default())
                .map_err(|message| params.reject("minPrice", message))
                .ok()
        }
        _ => None,
    };
    let (search, limit, cursor) = params.finish((search, limit, cursor))?;
    let limit = limit.unwrap_or_default();
    // Bound to every parameter of the search but the page size.
    let pager = services.cursors.pager("flights", &search)?;
    let start_after = pager.start_after(cursor.as_deref())?;
    let page = flights::search_flights(&*services.store, &search, limit, start_after).await?;
    Reply::list(&page.items, limit.get(), pager.next(page.next).as_deref())
}

pub(crate) async fn update(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    let id = input.entity_id::<FlightId>()?;
    input.query_params(&[])?;
    let mut body = input.json_changes(UPDATE_FIELDS)?;
    let departure = body.optional("departureTime", time);
    let arrival = body.optional("arrivalTime", time);
    let price = body.optional("price", price);
    let status = body.optional("status", status);
    if let (Some(Some(departure)), Some(Some(arrival))) = (departure, arrival)
        && let Err(message) = Schedule::new(departure, arrival)
    {
        body.reject("arrivalTime", message);
    }
    let (departure, arrival, price, status) = body.finish((departure, arrival, price, status))?;
    let changes =
        FlightChanges::new(departure, arrival, price, status).ok_or(ApiError::Internal)?;
    let flight = flights::update_flight(
        &*services.store,
        &*services.clock,
        &*services.ids,
        services.jobs.as_deref(),
        &input.context,
        &id,
        &changes,
        &input.precondition(),
    )
    .await?;
    Ok(Reply::ok(&flight)?.with_version(flight.version))
}
