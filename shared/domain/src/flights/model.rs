//! Flight values: validated newtypes that cannot hold an invalid value, the entity, and what
//! creating, changing and searching flights are made of.

use chrono::{DateTime, NaiveDate, SecondsFormat, SubsecRound, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::airplanes::AirplaneId;
use crate::airports::AirportCode;
use crate::money::{MAX_AMOUNT, Money};

crate::identity::uuid_id!(
    /// A flight's identifier.
    FlightId
);

/// A flight number as airlines publish it: the two-character airline designator (letters or
/// digits, not both digits), one to four digits, and an optional operational suffix letter, all
/// uppercase (`AI101`, `6E2041`, `BA9A`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct FlightNumber(String);

impl FlightNumber {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let invalid = || {
            "must be an airline designator (two uppercase letters or digits, not both digits), \
             1 to 4 digits and an optional uppercase letter, such as AI101 or 6E2041"
                .to_owned()
        };
        let bytes = raw.as_bytes();
        if !(3..=7).contains(&bytes.len()) {
            return Err(invalid());
        }
        let (designator, rest) = bytes.split_at(2);
        let designator_valid = designator
            .iter()
            .all(|byte| byte.is_ascii_uppercase() || byte.is_ascii_digit())
            && !designator.iter().all(u8::is_ascii_digit);
        // The optional suffix is one trailing uppercase letter; the digits are what precedes it.
        let digits = match rest.split_last() {
            Some((last, digits)) if last.is_ascii_uppercase() => digits,
            _ => rest,
        };
        let digits_valid = (1..=4).contains(&digits.len()) && digits.iter().all(u8::is_ascii_digit);
        if designator_valid && digits_valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(invalid())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a flight is in its life. `scheduled` flights can be booked and found by search;
/// `cancelled` and `arrived` are final.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FlightStatus {
    Scheduled,
    Departed,
    Arrived,
    Cancelled,
}

impl FlightStatus {
    pub const ALL: [FlightStatus; 4] = [
        FlightStatus::Scheduled,
        FlightStatus::Departed,
        FlightStatus::Arrived,
        FlightStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FlightStatus::Scheduled => "scheduled",
            FlightStatus::Departed => "departed",
            FlightStatus::Arrived => "arrived",
            FlightStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        FlightStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
            .ok_or_else(|| "must be one of: scheduled, departed, arrived, cancelled".into())
    }

    /// Whether a flight in this status may move to `next`: scheduled -> departed -> arrived, or
    /// scheduled -> cancelled. Staying in the same status is no move at all.
    pub fn can_become(self, next: FlightStatus) -> bool {
        use FlightStatus::{Arrived, Cancelled, Departed, Scheduled};
        self == next
            || matches!(
                (self, next),
                (Scheduled, Departed) | (Departed, Arrived) | (Scheduled, Cancelled)
            )
    }
}

crate::storage::parsed_from_string!(
    FlightNumber => FlightNumber::parse,
    FlightStatus => FlightStatus::parse,
);

impl std::fmt::Display for FlightStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Reads an RFC 3339 timestamp with any offset as the UTC instant it names, to the millisecond
/// (the precision flights are stored and shown in).
pub fn parse_time(raw: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(raw)
        .map(|time| time.to_utc().trunc_subsecs(3))
        .map_err(|_| "must be an RFC 3339 timestamp, such as 2026-12-01T09:30:00+05:30".into())
}

/// A UTC instant as flights show and store it: RFC 3339, milliseconds, `Z`.
pub(crate) fn format_time(time: &DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(crate) fn serialize_time<S: Serializer>(
    time: &DateTime<Utc>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format_time(time))
}

/// Reads a stored time through [`parse_time`], the parser requests' times go through.
pub(crate) fn deserialize_time<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<DateTime<Utc>, D::Error> {
    let raw = String::deserialize(deserializer)?;
    parse_time(&raw).map_err(|error| serde::de::Error::custom(format!("{raw:?} {error}")))
}

/// A flight.
///
/// `remaining_seats` moves with bookings, which bump `version` with every seat change, so the
/// entity tag changes whenever the seats do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Flight {
    pub id: FlightId,
    pub flight_number: FlightNumber,
    pub airplane_id: AirplaneId,
    pub from: AirportCode,
    pub to: AirportCode,
    #[serde(serialize_with = "serialize_time")]
    pub departure_time: DateTime<Utc>,
    #[serde(serialize_with = "serialize_time")]
    pub arrival_time: DateTime<Utc>,
    pub price: Money,
    pub total_seats: u16,
    pub remaining_seats: u16,
    pub status: FlightStatus,
    #[serde(skip)]
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The two airports of a flight, which differ.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Leg {
    from: AirportCode,
    to: AirportCode,
}

impl Leg {
    /// Fails when both ends are the same airport.
    pub fn new(from: AirportCode, to: AirportCode) -> Result<Self, String> {
        if from == to {
            return Err("must differ from `from`".into());
        }
        Ok(Self { from, to })
    }

    pub fn from(&self) -> &AirportCode {
        &self.from
    }

    pub fn to(&self) -> &AirportCode {
        &self.to
    }
}

/// When a flight departs and arrives: departure strictly before arrival.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    departure: DateTime<Utc>,
    arrival: DateTime<Utc>,
}

impl Schedule {
    pub fn new(departure: DateTime<Utc>, arrival: DateTime<Utc>) -> Result<Self, String> {
        if departure >= arrival {
            return Err("must be after departureTime".into());
        }
        Ok(Self { departure, arrival })
    }

    pub fn departure(&self) -> DateTime<Utc> {
        self.departure
    }

    pub fn arrival(&self) -> DateTime<Utc> {
        self.arrival
    }
}

/// What a new flight is made of. Its seats come from its airplane's capacity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewFlight {
    pub flight_number: FlightNumber,
    pub airplane_id: AirplaneId,
    pub leg: Leg,
    pub schedule: Schedule,
    pub price: Money,
}

/// A change to a flight: at least one field. Times are checked against each other and against
/// the clock once merged with the flight as it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlightChanges {
    departure_time: Option<DateTime<Utc>>,
    arrival_time: Option<DateTime<Utc>>,
    price: Option<Money>,
    status: Option<FlightStatus>,
}

impl FlightChanges {
    /// `None` when nothing would change.
    pub fn new(
        departure_time: Option<DateTime<Utc>>,
        arrival_time: Option<DateTime<Utc>>,
        price: Option<Money>,
        status: Option<FlightStatus>,
    ) -> Option<Self> {
        let any = departure_time.is_some()
            || arrival_time.is_some()
            || price.is_some()
            || status.is_some();
        any.then_some(Self {
            departure_time,
            arrival_time,
            price,
            status,
        })
    }

    pub fn departure_time(&self) -> Option<DateTime<Utc>> {
        self.departure_time
    }

    pub fn arrival_time(&self) -> Option<DateTime<Utc>> {
        self.arrival_time
    }

    pub fn price(&self) -> Option<&Money> {
        self.price.as_ref()
    }

    pub fn status(&self) -> Option<FlightStatus> {
        self.status
    }

    /// Whether the change touches the schedule or the fare (not only the status).
    pub fn reschedules_or_reprices(&self) -> bool {
        self.departure_time.is_some() || self.arrival_time.is_some() || self.price.is_some()
    }
}

crate::bounded::bounded_integer!(
    /// How many free seats a search asks for: 1 to 9, as one booking may hold.
    SeatsWanted: u16,
    1..=9
);

/// A fare bound of a search, in minor units: 0 to [`MAX_AMOUNT`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct PriceBound(i64);

impl PriceBound {
    pub fn get(self) -> i64 {
        self.0
    }
}

impl TryFrom<i64> for PriceBound {
    type Error = String;

    fn try_from(value: i64) -> Result<Self, Self::Error> {
        if (0..=MAX_AMOUNT).contains(&value) {
            Ok(Self(value))
        } else {
            Err(format!(
                "must be a whole number of minor units between 0 and {MAX_AMOUNT}"
            ))
        }
    }
}

/// The order of search results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum SearchOrder {
    /// Earliest departure first.
    #[default]
    Departure,
    /// Cheapest fare first.
    Price,
}

impl SearchOrder {
    pub fn as_str(self) -> &'static str {
        match self {
            SearchOrder::Departure => "departure",
            SearchOrder::Price => "price",
        }
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        [SearchOrder::Departure, SearchOrder::Price]
            .into_iter()
            .find(|order| order.as_str() == text)
            .ok_or_else(|| "must be one of: departure, price".into())
    }
}

/// Which flights a search lists: the scheduled flights of one leg departing on one local date at
/// the origin, optionally within fare bounds and with enough free seats. Serialized whole, it is
/// what a search's cursors are bound to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FlightSearch {
    leg: Leg,
    date: NaiveDate,
    min_price: Option<PriceBound>,
    max_price: Option<PriceBound>,
    seats: Option<SeatsWanted>,
    order: SearchOrder,
}

impl FlightSearch {
    /// Fails when the fare bounds leave no possible fare.
    pub fn new(
        leg: Leg,
        date: NaiveDate,
        min_price: Option<PriceBound>,
        max_price: Option<PriceBound>,
        seats: Option<SeatsWanted>,
        order: SearchOrder,
    ) -> Result<Self, String> {
        if let (Some(min), Some(max)) = (min_price, max_price)
            && min > max
        {
            return Err("must not be greater than maxPrice".into());
        }
        Ok(Self {
            leg,
            date,
            min_price,
            max_price,
            seats,
            order,
        })
    }

    pub fn leg(&self) -> &Leg {
        &self.leg
    }

    pub fn date(&self) -> NaiveDate {
        self.date
    }

    pub fn min_price(&self) -> Option<PriceBound> {
        self.min_price
    }

    pub fn max_price(&self) -> Option<PriceBound> {
        self.max_price
    }

    pub fn seats(&self) -> Option<SeatsWanted> {
        self.seats
    }

    pub fn order(&self) -> SearchOrder {
        self.order
    }
}

pub use crate::calendar::parse_date;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    fn code(text: &str) -> AirportCode {
        AirportCode::parse(text).unwrap()
    }

    fn time(text: &str) -> DateTime<Utc> {
        parse_time(text).unwrap()
    }

    #[test]
    fn flight_numbers_are_designator_digits_and_an_optional_suffix() {
        for valid in ["AI101", "6E2041", "BA9", "BA9A", "U21234", "9W1", "AA1234Z"] {
            assert_eq!(FlightNumber::parse(valid).unwrap().as_str(), valid);
        }
        for invalid in [
            "ai101", "AI", "AI12345", "12345", "A-101", "AI101ZZ", "AI 101", "AIX101", "", "AIZ",
            "AI101z", "ÄI101",
        ] {
            assert!(FlightNumber::parse(invalid).is_err(), "{invalid}");
        }
    }

    #[test]
    fn statuses_move_forward_only_and_end_when_cancelled_or_arrived() {
        use FlightStatus::{Arrived, Cancelled, Departed, Scheduled};
        for (from, to) in [
            (Scheduled, Departed),
            (Departed, Arrived),
            (Scheduled, Cancelled),
        ] {
            assert!(from.can_become(to), "{from} -> {to}");
        }
        for (from, to) in [
            (Departed, Scheduled),
            (Departed, Cancelled),
            (Scheduled, Arrived),
            (Arrived, Scheduled),
            (Arrived, Departed),
            (Arrived, Cancelled),
            (Cancelled, Scheduled),
            (Cancelled, Departed),
            (Cancelled, Arrived),
        ] {
            assert!(!from.can_become(to), "{from} -> {to}");
        }
        for status in FlightStatus::ALL {
            assert_eq!(FlightStatus::parse(status.as_str()), Ok(status));
            assert!(status.can_become(status));
        }
        assert!(FlightStatus::parse("Scheduled").is_err());
        assert!(FlightStatus::parse("boarding").is_err());
    }

    #[test]
    fn times_are_read_with_any_offset_as_utc_milliseconds() {
        assert_eq!(
            format_time(&time("2026-12-01T09:30:00.123456+05:30")),
            "2026-12-01T04:00:00.123Z"
        );
        for invalid in ["2026-12-01", "2026-12-01T09:30:00", "tomorrow", ""] {
            assert!(parse_time(invalid).is_err(), "{invalid}");
        }
    }

    #[test]
    fn a_leg_joins_two_different_airports() {
        assert!(Leg::new(code("DEL"), code("BOM")).is_ok());
        assert!(Leg::new(code("DEL"), code("DEL")).is_err());
    }

    #[test]
    fn a_schedule_departs_before_it_arrives() {
        let early = time("2026-12-01T04:00:00Z");
        let late = time("2026-12-01T06:00:00Z");
        assert!(Schedule::new(early, late).is_ok());
        assert!(Schedule::new(late, early).is_err());
        assert!(Schedule::new(early, early).is_err());
    }

    #[test]
    fn changes_need_at_least_one_field() {
        assert!(FlightChanges::new(None, None, None, None).is_none());
        let status_only = FlightChanges::new(None, None, None, Some(FlightStatus::Departed));
        assert!(!status_only.unwrap().reschedules_or_reprices());
        let fare = Money::new(100, Currency::parse("INR").unwrap()).ok();
        assert!(
            FlightChanges::new(None, None, fare, None)
                .unwrap()
                .reschedules_or_reprices()
        );
    }

    #[test]
    fn search_bounds_are_checked() {
        assert!(SeatsWanted::try_from(1).is_ok() && SeatsWanted::try_from(9).is_ok());
        for invalid in [0, 10, -1] {
            assert!(SeatsWanted::try_from(invalid).is_err());
        }
        assert!(PriceBound::try_from(0).is_ok() && PriceBound::try_from(MAX_AMOUNT).is_ok());
        assert!(PriceBound::try_from(-1).is_err() && PriceBound::try_from(MAX_AMOUNT + 1).is_err());
        let leg = Leg::new(code("DEL"), code("BOM")).unwrap();
        let date = parse_date("2026-12-01").unwrap();
        let low = PriceBound::try_from(10).ok();
        let high = PriceBound::try_from(20).ok();
        let search =
            |min, max| FlightSearch::new(leg.clone(), date, min, max, None, SearchOrder::default());
        assert!(search(high, low).is_err());
        assert!(search(low, high).is_ok() && search(low, low).is_ok());
        assert_eq!(SearchOrder::parse("price"), Ok(SearchOrder::Price));
        assert!(SearchOrder::parse("cheapest").is_err());
    }

    #[test]
    fn dates_are_written_yyyy_mm_dd_only() {
        assert_eq!(
            parse_date("2026-12-01").unwrap(),
            NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
        );
        for invalid in [
            "2026-2-01",
            "2026-02-30",
            "+2026-12-01",
            "01-12-2026",
            "2026/12/01",
        ] {
            assert!(parse_date(invalid).is_err(), "{invalid}");
        }
    }

    #[test]
    fn a_flight_shows_its_times_in_utc_with_milliseconds() {
        let fare = Money::new(450_000, Currency::parse("INR").unwrap()).unwrap();
        let flight = Flight {
            id: FlightId::from(uuid::Uuid::nil()),
            flight_number: FlightNumber::parse("AI101").unwrap(),
            airplane_id: AirplaneId::from(uuid::Uuid::nil()),
            from: code("DEL"),
            to: code("BOM"),
            departure_time: time("2026-12-01T09:30:00+05:30"),
            arrival_time: time("2026-12-01T11:45:00+05:30"),
            price: fare,
            total_seats: 180,
            remaining_seats: 180,
            status: FlightStatus::Scheduled,
            version: 1,
            created_at: time("2026-11-01T00:00:00Z"),
            updated_at: time("2026-11-01T00:00:00Z"),
        };
        let json = serde_json::to_value(&flight).unwrap();
        assert_eq!(json["departureTime"], "2026-12-01T04:00:00.000Z");
        assert_eq!(json["arrivalTime"], "2026-12-01T06:15:00.000Z");
        assert_eq!(
            json["price"],
            serde_json::json!({"amount": 450000, "currency": "INR"})
        );
        assert_eq!(json["status"], "scheduled");
        assert!(json.get("version").is_none());
    }
}
