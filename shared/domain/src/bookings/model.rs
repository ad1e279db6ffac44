//! Booking values: validated newtypes, the entity, its states, and the settings that shape a hold.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::config::ConfigError;
use crate::flights::FlightId;
use crate::identity::UserId;
use crate::money::Money;
use crate::payments::{PaymentId, PaymentToken};

crate::identity::uuid_id!(
    /// A booking's identifier.
    BookingId
);

crate::bounded::bounded_integer!(
    /// How many seats a booking takes: 1 to 9.
    Seats: u8,
    1..=9
);

/// Where a booking is in its life. Pending holds seats until the hold expires; the other three
/// are final except that a confirmed booking may still be cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BookingStatus {
    Pending,
    Confirmed,
    Cancelled,
    Expired,
}

impl BookingStatus {
    pub const ALL: [BookingStatus; 4] = [
        BookingStatus::Pending,
        BookingStatus::Confirmed,
        BookingStatus::Cancelled,
        BookingStatus::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BookingStatus::Pending => "pending",
            BookingStatus::Confirmed => "confirmed",
            BookingStatus::Cancelled => "cancelled",
            BookingStatus::Expired => "expired",
        }
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
            .ok_or_else(|| "must be one of: pending, confirmed, cancelled, expired".into())
    }

    /// Whether the booking still holds its seats.
    pub fn holds_seats(self) -> bool {
        matches!(self, BookingStatus::Pending | BookingStatus::Confirmed)
    }
}

impl std::fmt::Display for BookingStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The flight as it was when the booking was made, so that a booking reads in one request and a
/// later change to the flight does not rewrite what the customer booked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlightSummary {
    pub number: String,
    /// IATA code of the departure airport.
    pub from: String,
    /// IATA code of the arrival airport.
    pub to: String,
    pub departure_time: DateTime<Utc>,
}

/// A booking of seats on one flight by one customer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Booking {
    pub id: BookingId,
    pub flight_id: FlightId,
    pub user_id: UserId,
    pub seats: Seats,
    /// The flight's price times the seats, at booking time.
    pub total: Money,
    pub status: BookingStatus,
    /// Until when a pending booking holds its seats without payment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmed_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expired_at: Option<DateTime<Utc>>,
    /// What was paid back when a confirmed booking was cancelled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refunded_at: Option<DateTime<Utc>>,
    pub flight: FlightSummary,
    /// The provider's charge, kept for the refund; not part of the view.
    #[serde(skip)]
    pub payment_id: Option<PaymentId>,
}

impl Booking {
    /// Whether `user` may see and cancel this booking: its owner, or staff.
    pub fn visible_to(&self, user: &UserId, is_staff: bool) -> bool {
        is_staff || &self.user_id == user
    }
}

/// What a customer asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewBooking {
    pub flight_id: FlightId,
    pub seats: Seats,
}

/// What a customer pays a pending booking with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentDetails {
    pub token: PaymentToken,
    /// Must equal the booking's total: the customer confirms the amount they were shown.
    pub amount: Money,
}

/// Settings of the booking flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BookingSettings {
    /// How long a new booking holds its seats while waiting for payment.
    pub hold: TimeDelta,
    /// How many pending bookings one customer may hold at once, over all flights.
    pub max_pending: u32,
}

/// The hold lengths `BOOKING_HOLD_MINUTES` accepts.
pub const HOLD_MINUTES_RANGE: std::ops::RangeInclusive<i64> = 1..=60;

/// The caps `MAX_PENDING_BOOKINGS` accepts.
pub const MAX_PENDING_RANGE: std::ops::RangeInclusive<i64> = 1..=50;

impl Default for BookingSettings {
    fn default() -> Self {
        Self {
            hold: TimeDelta::minutes(10),
            max_pending: 3,
        }
    }
}

impl BookingSettings {
    /// Reads `BOOKING_HOLD_MINUTES` (1-60, 10 when unset) and `MAX_PENDING_BOOKINGS` (1-50, 3
    /// when unset) through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        let hold = match whole_number(
            &lookup,
            "BOOKING_HOLD_MINUTES",
            HOLD_MINUTES_RANGE,
            "minutes",
        )? {
            Some(minutes) => TimeDelta::minutes(minutes),
            None => defaults.hold,
        };
        let max_pending = match whole_number(
            &lookup,
            "MAX_PENDING_BOOKINGS",
            MAX_PENDING_RANGE,
            "bookings",
        )? {
            Some(cap) => u32::try_from(cap).expect("the range is positive and small"),
            None => defaults.max_pending,
        };
        Ok(Self { hold, max_pending })
    }

    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(crate::config::env)
    }
}

/// The whole number `variable` holds, within `range`; `None` when it is unset.
fn whole_number(
    lookup: impl Fn(&str) -> Option<String>,
    variable: &'static str,
    range: std::ops::RangeInclusive<i64>,
    unit: &str,
) -> Result<Option<i64>, ConfigError> {
    let Some(text) = lookup(variable) else {
        return Ok(None);
    };
    text.trim()
        .parse::<i64>()
        .ok()
        .filter(|value| range.contains(value))
        .map(Some)
        .ok_or_else(|| {
            ConfigError::new(
                variable,
                format!(
                    "must be a whole number of {unit} between {} and {}",
                    range.start(),
                    range.end()
                ),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seats_are_1_to_9() {
        for valid in 1..=9 {
            assert_eq!(i64::from(Seats::try_from(valid).unwrap().get()), valid);
        }
        for invalid in [0, -1, 10, 256, i64::MAX] {
            assert!(Seats::try_from(invalid).is_err(), "{invalid}");
        }
    }

    #[test]
    fn statuses_read_back_from_their_names_only() {
        for status in BookingStatus::ALL {
            assert_eq!(BookingStatus::parse(status.as_str()), Ok(status));
        }
        assert!(BookingStatus::parse("Pending").is_err());
        assert!(BookingStatus::Confirmed.holds_seats());
        assert!(!BookingStatus::Expired.holds_seats());
    }

    /// The settings read with `variable` set to `value` and nothing else set.
    fn with(variable: &str, value: Option<&str>) -> Result<BookingSettings, ConfigError> {
        BookingSettings::from_lookup(|name| value.filter(|_| name == variable).map(str::to_owned))
    }

    #[test]
    fn the_hold_defaults_to_10_minutes_and_accepts_1_to_60() {
        let read = |value: Option<&str>| with("BOOKING_HOLD_MINUTES", value);
        assert_eq!(read(None).unwrap().hold, TimeDelta::minutes(10));
        assert_eq!(read(Some("1")).unwrap().hold, TimeDelta::minutes(1));
        assert_eq!(read(Some("60")).unwrap().hold, TimeDelta::minutes(60));
        for invalid in ["0", "61", "-5", "ten", "1.5"] {
            let error = read(Some(invalid)).unwrap_err();
            assert_eq!(error.variable, "BOOKING_HOLD_MINUTES", "{invalid}");
        }
    }

    #[test]
    fn the_pending_cap_defaults_to_3_and_accepts_1_to_50() {
        let read = |value: Option<&str>| with("MAX_PENDING_BOOKINGS", value);
        assert_eq!(read(None).unwrap().max_pending, 3);
        assert_eq!(read(Some("1")).unwrap().max_pending, 1);
        assert_eq!(read(Some(" 50 ")).unwrap().max_pending, 50);
        assert_eq!(read(Some("7")).unwrap().hold, TimeDelta::minutes(10));
        for invalid in ["0", "51", "-1", "three", "2.5"] {
            let error = read(Some(invalid)).unwrap_err();
            assert_eq!(error.variable, "MAX_PENDING_BOOKINGS", "{invalid}");
        }
    }
}
