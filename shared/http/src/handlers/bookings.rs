//! `/v1/bookings`: seat bookings over HTTP.

use std::sync::Arc;

use itinera::bookings::{
    self, Booking, BookingFilter, BookingId, BookingScope, BookingStatus, NewBooking,
    PaymentDetails, Seats,
};
use itinera::flights::FlightId;
use itinera::idempotency::{IdempotencyKey, StoredResponse};
use itinera::money::{Currency, Money};
use itinera::pagination::PageLimit;
use itinera::payments::PaymentToken;
use itinera::storage::StoreError;
use serde_json::Value;

use crate::cursor::{CursorCodec, Pager};
use crate::fields::{CURSOR, Field, LIMIT, Shape, integer, integer_text, string};
use crate::problem::ApiError;
use crate::reply::Reply;
use crate::request::Input;
use crate::services::Services;

/// The request header that carries a booking's idempotency key.
pub(crate) const IDEMPOTENCY_KEY_HEADER: &str = "Idempotency-Key";

/// How many seats a booking takes.
pub(crate) const SEATS: Shape = crate::fields::integer_shape!(Seats);
/// What a booking's `status` may be.
pub(crate) const BOOKING_STATUS: Shape =
    Shape::Choice(&["pending", "confirmed", "cancelled", "expired"]);

/// The fields of a new booking.
pub(crate) const CREATE_FIELDS: &[Field] = &[
    Field::required("flightId", Shape::Uuid),
    Field::required("seats", SEATS),
];
/// The fields of a payment.
pub(crate) const PAY_FIELDS: &[Field] = &[
    Field::required(
        "paymentToken",
        // Letters, digits, `_` and `-`, with at least one letter or `_`: digits alone would be
        // a card number.
        Shape::Bounded {
            pattern: "^[0-9-]*[A-Za-z_][A-Za-z0-9_-]*$",
            max_chars: itinera::payments::TOKEN_MAX_CHARS,
        },
    ),
    Field::required("amount", Shape::Money),
];
/// The fields of an amount of money.
const MONEY_FIELDS: &[&str] = &["amount", "currency"];
/// The query parameters of the list.
pub(crate) const LIST_PARAMS: &[Field] = &[
    LIMIT,
    CURSOR,
    Field::optional("status", BOOKING_STATUS),
    Field::optional("flightId", Shape::Uuid),
];

fn flight_id(text: String) -> Result<FlightId, String> {
    FlightId::parse(&text).ok_or_else(|| "must be a flight id (a UUID)".into())
}

fn seats(value: Value) -> Result<Seats, String> {
    Seats::try_from(integer(value)?)
}

fn payment_token(value: Value) -> Result<PaymentToken, String> {
    PaymentToken::parse(&string(value)?)
}

/// `{"amount": <minor units>, "currency": "EUR"}`; a numeric string amount is coerced.
fn money(value: Value) -> Result<Money, String> {
    let Value::Object(fields) = value else {
        return Err("must be an object with `amount` (minor units) and `currency`".into());
    };
    if let Some(unknown) = fields
        .keys()
        .find(|name| !MONEY_FIELDS.contains(&name.as_str()))
    {
        return Err(format!(
            "has an unknown field `{unknown}`; accepted: amount, currency"
        ));
    }
    let amount = fields
        .get("amount")
        .cloned()
        .ok_or("needs `amount` in minor units")
        .and_then(|amount| {
            integer(amount).map_err(|_| "`amount` must be a whole number of minor units")
        })?;
    let currency = fields
        .get("currency")
        .and_then(Value::as_str)
        .ok_or_else(|| "needs `currency`, an ISO 4217 code".to_owned())
        .and_then(|code| {
            Currency::parse(code).map_err(|message| format!("`currency` {message}"))
        })?;
    Money::new(amount, currency).map_err(|message| format!("`amount` {message}"))
}

fn booking_id(input: &Input) -> Result<BookingId, ApiError> {
    BookingId::parse(input.param("id")).ok_or_else(|| ApiError::NotFound {
        detail: "No booking exists with this id.".into(),
    })
}

fn location(id: &BookingId) -> String {
    format!("/v1/bookings/{id}")
}

/// The request's `Idempotency-Key`, which creating a booking or a contract requires.
pub(crate) fn idempotency_key(input: &Input) -> Result<IdempotencyKey, ApiError> {
    let invalid = |message: &str| ApiError::invalid_field(IDEMPOTENCY_KEY_HEADER, message);
    let mut values = input.headers.get_all(IDEMPOTENCY_KEY_HEADER).iter();
    let Some(value) = values.next() else {
        return Err(invalid(
            "is required: send a new unique key (such as a UUID) with each new booking or \
             contract, and the same key when retrying it",
        ));
    };
    if values.next().is_some() {
        return Err(invalid("must be sent once"));
    }
    let text = value
        .to_str()
        .map_err(|_| invalid("must contain only printable ASCII characters"))?;
    IdempotencyKey::parse(text).map_err(|message| invalid(&message))
}

/// What a new booking answers, recorded with the booking so that retries answer exactly this:
/// the body every read shows.
fn created_response(booking: &Booking) -> Result<StoredResponse, StoreError> {
    Ok(StoredResponse {
        status: 201,
        body: serde_json::to_value(booking).map_err(StoreError::internal)?,
        location: Some(location(&booking.id)),
    })
}

/// The reply for a recorded response.
pub(crate) fn replay(response: &StoredResponse) -> Result<Reply, ApiError> {
    match (response.status, &response.location) {
        (201, Some(location)) => Reply::created(&response.body, location.clone()),
        (200, _) => Reply::ok(&response.body),
        (status, _) => {
            tracing::error!(
                status,
                "an idempotency record holds a response it cannot replay"
            );
            Err(ApiError::Internal)
        }
    }
}

pub(crate) async fn create(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    input.query_params(&[])?;
    let key = idempotency_key(&input)?;
    let mut body = input.json_fields(CREATE_FIELDS)?;
    let flight = body.required("flightId", |value| flight_id(string(value)?));
    let seats = body.required("seats", seats);
    let (flight_id, seats) = body.finish((flight, seats))?;
    let new = NewBooking { flight_id, seats };
    let outcome = bookings::create_booking(
        &*services.store,
        &*services.clock,
        &*services.ids,
        &services.bookings,
        &input.context,
        &key,
        &new,
        created_response,
    )
    .await?;
    replay(outcome.response())
}

pub(crate) async fn get(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    input.query_params(&[])?;
    let id = booking_id(&input)?;
    let booking = bookings::get_booking(&*services.store, input.caller()?, &id).await?;
    Reply::ok(&booking)
}

pub(crate) async fn list(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    let caller = input.caller()?;
    let mut params = input.query_params(LIST_PARAMS)?;
    let limit = params.optional("limit", |text| PageLimit::try_from(integer_text(text)?));
    let cursor = params.optional("cursor", Ok);
    let status = params.optional("status", |text| BookingStatus::parse(&text));
    let flight = params.optional("flightId", flight_id);
    let (limit, cursor, status, flight_id) = params.finish((limit, cursor, status, flight))?;
    let limit = limit.unwrap_or_default();
    // Customers read their own bookings; staff every booking, or one flight's.
    let filter = match (caller.is_staff(), flight_id) {
        (true, Some(flight)) => BookingFilter {
            scope: BookingScope::Flight(flight),
            status,
            flight_id: None,
        },
        (true, None) => BookingFilter {
            scope: BookingScope::All,
            status,
            flight_id: None,
        },
        (false, flight_id) => BookingFilter {
            scope: BookingScope::User(caller.user_id.clone()),
            status,
            flight_id,
        },
    };
    let pager = pager(&services.cursors, &filter)?;
    let start_after = pager.start_after(cursor.as_deref())?;
    let page = bookings::list_bookings(&*services.store, &filter, limit, start_after).await?;
    let next = pager.next(page.next);
    Reply::list(&page.bookings, limit.get(), next.as_deref())
}

/// The list's cursors, bound to the partition read (the caller's own, for a customer) and the
/// filters, so a cursor cannot cross into another query's results.
fn pager<'c>(cursors: &'c CursorCodec, filter: &BookingFilter) -> Result<Pager<'c>, ApiError> {
    cursors.pager("bookings", filter)
}

pub(crate) async fn pay(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    let id = booking_id(&input)?;
    input.query_params(&[])?;
    let mut body = input.json_fields(PAY_FIELDS)?;
    let token = body.required("paymentToken", payment_token);
    let amount = body.required("amount", money);
    let (token, amount) = body.finish((token, amount))?;
    let booking = bookings::pay_booking(
        &*services.store,
        &*services.clock,
        &*services.ids,
        &*services.payments,
        services.jobs.as_deref(),
        &input.context,
        &id,
        &PaymentDetails { token, amount },
    )
    .await?;
    Reply::ok(&booking)
}

pub(crate) async fn cancel(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    let id = booking_id(&input)?;
    input.query_params(&[])?;
    input.no_body()?;
    let booking = bookings::cancel_booking(
        &*services.store,
        &*services.clock,
        &*services.ids,
        &*services.payments,
        services.jobs.as_deref(),
        &input.context,
        &id,
    )
    .await?;
    Reply::ok(&booking)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn money_takes_minor_units_and_a_currency_and_coerces_numeric_strings() {
        let eur = Money::new(12_500, Currency::parse("EUR").unwrap()).unwrap();
        assert_eq!(
            money(json!({"amount": 12500, "currency": "EUR"})),
            Ok(eur.clone())
        );
        assert_eq!(
            money(json!({"amount": "12500", "currency": "EUR"})),
            Ok(eur)
        );
        for invalid in [
            json!(12500),
            json!({"amount": 1.5, "currency": "EUR"}),
            json!({"amount": -1, "currency": "EUR"}),
            json!({"amount": 1, "currency": "eur"}),
            json!({"amount": 1}),
            json!({"amount": 1, "currency": "EUR", "fee": 2}),
        ] {
            assert!(money(invalid.clone()).is_err(), "{invalid}");
        }
    }

    #[test]
    fn list_cursors_are_bound_to_the_partition_and_filters() {
        let user = itinera::identity::UserId::from(uuid::Uuid::nil());
        let own = BookingFilter {
            scope: BookingScope::User(user),
            status: None,
            flight_id: None,
        };
        let all = BookingFilter {
            scope: BookingScope::All,
            ..own.clone()
        };
        let confirmed = BookingFilter {
            status: Some(BookingStatus::Confirmed),
            ..own.clone()
        };
        let codec = CursorCodec::new(b"0123456789abcdef0123456789abcdef");
        let list_scope = |filter| pager(&codec, filter).unwrap().scope().to_owned();
        assert_ne!(list_scope(&own), list_scope(&all));
        assert_ne!(list_scope(&own), list_scope(&confirmed));
    }
}
