//! JSON Schema 2020-12 (OpenAPI 3.1's dialect) for the values the API takes and answers.
//!
//! Request values are the handlers' own [`Field`] lists; response entities are declared here as
//! lists of the same [`Field`]s, with the shapes the handlers use where the value is the same
//! (an airplane's `modelNumber` is the shape a create accepts). A test validates real responses of
//! every entity against these, so a field added to an entity and forgotten here fails it.

use serde_json::{Map, Value, json};

use crate::fields::{Field, Shape};
use crate::handlers::{
    accounts, airplanes, airports, bookings, cars, contracts, customers, files, fleet, flights,
    reports,
};
use itinera::reports::CarAction;

/// A `$ref` to the component schema `name`.
pub(crate) fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// The schema of one value.
pub(crate) fn shape(value: &Shape) -> Value {
    match *value {
        Shape::Text {
            min_chars,
            max_chars,
        } => json!({ "type": "string", "minLength": min_chars, "maxLength": max_chars }),
        Shape::Printable { max_chars } => {
            json!({ "type": "string", "pattern": printable(max_chars) })
        }
        Shape::Pattern(pattern) => json!({ "type": "string", "pattern": pattern }),
        Shape::Bounded { pattern, max_chars } => {
            json!({ "type": "string", "pattern": pattern, "maxLength": max_chars })
        }
        Shape::Listed(list) => json!({ "type": "string", "enum": list.words() }),
        Shape::Integer { min, max } => json!({ "type": "integer", "minimum": min, "maximum": max }),
        Shape::Boolean => json!({ "type": "boolean" }),
        Shape::Uuid => json!({ "type": "string", "format": "uuid" }),
        Shape::Email { max_chars } => {
            json!({ "type": "string", "format": "email", "maxLength": max_chars })
        }
        Shape::Date => json!({ "type": "string", "format": "date" }),
        Shape::DateTime => json!({ "type": "string", "format": "date-time" }),
        Shape::Money => reference("Money"),
        Shape::Choice(words) => json!({ "type": "string", "enum": words }),
        Shape::OrNull(inner) => json!({ "anyOf": [shape(inner), { "type": "null" }] }),
        Shape::Opaque => json!({ "type": "string" }),
        Shape::Component(name) => reference(name),
        Shape::ListOf(name) => json!({ "type": "array", "items": reference(name) }),
        Shape::AnyObject => json!({ "type": "object" }),
    }
}

/// White space as Rust's `str::trim` removes it (Unicode's White_Space property), spelled out
/// because a pattern's `\s` differs between regular expression dialects.
const WHITE_SPACE: &str =
    r"\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";
/// Unicode's control characters (`char::is_control`).
const CONTROL: &str = r"\x00-\x1F\x7F-\x9F";

/// The pattern of a `bounded_text!` value exactly as its parser reads it: any white space around
/// it, then 1 to `max_chars` characters with no control character among them, starting and ending
/// with one that is not white space. The length is in the pattern rather than in `maxLength`,
/// because the parser counts the characters left after trimming.
fn printable(max_chars: usize) -> String {
    let edge = format!("[^{WHITE_SPACE}{CONTROL}]");
    let inner = format!("[^{CONTROL}]");
    let around = format!("[{WHITE_SPACE}]*");
    let body = match max_chars {
        0 | 1 => edge,
        _ => format!("{edge}(?:{inner}{{0,{}}}{edge})?", max_chars - 2),
    };
    format!("^{around}{body}{around}$")
}

/// A closed object of `fields`; with `all_optional` none is required (a change).
pub(crate) fn object(fields: &[Field], all_optional: bool) -> Value {
    let properties: Map<String, Value> = fields
        .iter()
        .map(|field| (field.name.to_owned(), shape(&field.shape)))
        .collect();
    let required: Vec<&str> = fields
        .iter()
        .filter(|field| field.required && !all_optional)
        .map(|field| field.name)
        .collect();
    let mut schema = json!({
        "type": "object",
        "properties": properties,
        "additionalProperties": false,
    });
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    schema
}

const CREATED_AT: Field = Field::required("createdAt", Shape::DateTime);
const UPDATED_AT: Field = Field::required("updatedAt", Shape::DateTime);
const ID: Field = Field::required("id", Shape::Uuid);

/// An amount of minor units, never negative.
const AMOUNT: Shape = Shape::Integer {
    min: 0,
    max: itinera::money::MAX_AMOUNT,
};

const CURRENCY: Field = Field::required("currency", Shape::Pattern("^[A-Z]{3}$"));
const MONEY: &[Field] = &[Field::required("amount", AMOUNT), CURRENCY];
/// A price that cannot be free (a car's daily rate).
const POSITIVE_MONEY: &[Field] = &[
    Field::required(
        "amount",
        Shape::Integer {
            min: 1,
            max: itinera::money::MAX_AMOUNT,
        },
    ),
    CURRENCY,
];

const AIRPLANE: &[Field] = &[
    ID,
    Field::required("modelNumber", airplanes::MODEL_NUMBER),
    Field::required("capacity", airplanes::CAPACITY),
    CREATED_AT,
    UPDATED_AT,
];

const AIRPORT: &[Field] = &[
    Field::required("code", airports::AIRPORT_CODE),
    Field::required("name", airports::PLACE_NAME),
    Field::required("city", airports::PLACE_NAME),
    Field::required("country", airports::COUNTRY),
    Field::required("timeZone", airports::TIME_ZONE),
    CREATED_AT,
    UPDATED_AT,
];

const CAR: &[Field] = &[
    ID,
    Field::required(
        "licensePlate",
        Shape::Pattern(itinera::cars::LicencePlate::NORMAL_PATTERN),
    ),
    Field::required("vin", Shape::Pattern(itinera::cars::Vin::NORMAL_PATTERN)),
    Field::required("manufacturer", cars::MANUFACTURER),
    Field::required("model", cars::MODEL),
    Field::required("year", cars::YEAR),
    Field::required("category", cars::CATEGORY),
    Field::required("dailyRate", cars::DAILY_RATE),
    Field::required("status", cars::STATUS),
    Field::required("mileage", cars::MILEAGE),
    CREATED_AT,
    UPDATED_AT,
];

const CATALOGUE_CAR: &[Field] = &[
    ID,
    Field::required("manufacturer", cars::MANUFACTURER),
    Field::required("model", cars::MODEL),
    Field::required("year", cars::YEAR),
    Field::required("category", cars::CATEGORY),
    Field::required("dailyRate", Shape::Money),
    Field::required("days", RENTAL_DAYS),
    Field::required("price", Shape::Money),
];

/// How many days the catalogue prices: a rental's.
const RENTAL_DAYS: Shape = Shape::Integer {
    min: 1,
    max: itinera::catalogue::MAX_RENTAL_DAYS as i64,
};

const DAY_RANGE: &[Field] = &[
    Field::required("startDate", Shape::Date),
    Field::required("endDate", Shape::Date),
];

const CAR_AVAILABILITY: &[Field] = &[
    Field::required("carId", Shape::Uuid),
    Field::required("from", Shape::Date),
    Field::required("to", Shape::Date),
    Field::required("busy", Shape::ListOf("DayRange")),
];

const CUSTOMER: &[Field] = &[
    ID,
    Field::required("name", accounts::PERSON_NAME),
    Field::required("email", accounts::EMAIL),
    Field::required("phone", Shape::Pattern("^[+][1-9][0-9]{6,14}$")),
    Field::required("licenceNumber", customers::LICENCE_NUMBER),
    Field::required("licenceExpiry", Shape::Date),
    Field::optional("userId", Shape::Uuid),
    CREATED_AT,
    UPDATED_AT,
];

const INSURANCE: &[Field] = &[
    ID,
    Field::required("carId", Shape::Uuid),
    Field::required("provider", fleet::ISSUER),
    Field::required("policyNumber", fleet::PAPER_NUMBER),
    Field::required("coverage", fleet::COVERAGE),
    Field::required("validFrom", Shape::Date),
    Field::required("validTo", Shape::Date),
    Field::optional("document", Shape::Component("Attachment")),
    CREATED_AT,
    UPDATED_AT,
];

const REGISTRATION: &[Field] = &[
    ID,
    Field::required("carId", Shape::Uuid),
    Field::required("authority", fleet::ISSUER),
    Field::required("registrationNumber", fleet::PAPER_NUMBER),
    Field::required("validFrom", Shape::Date),
    Field::required("validTo", Shape::Date),
    Field::optional("document", Shape::Component("Attachment")),
    CREATED_AT,
    UPDATED_AT,
];

const SERVICE_RECORD: &[Field] = &[
    ID,
    Field::required("carId", Shape::Uuid),
    Field::required("date", Shape::Date),
    Field::required("mileage", cars::MILEAGE),
    Field::required("description", fleet::DESCRIPTION),
    Field::required("cost", Shape::Money),
    Field::required("garage", fleet::GARAGE),
    CREATED_AT,
];

const CONTRACT: &[Field] = &[
    ID,
    Field::required("carId", Shape::Uuid),
    Field::required("customerId", Shape::Uuid),
    Field::optional("userId", Shape::Uuid),
    Field::required("startDate", Shape::Date),
    Field::required("endDate", Shape::Date),
    Field::required("status", contracts::STATUS),
    Field::required("dailyRate", Shape::Money),
    Field::required("total", Shape::Money),
    Field::optional("pickupMileage", cars::MILEAGE),
    Field::optional("returnMileage", cars::MILEAGE),
    Field::optional("fuelLevel", contracts::FUEL_LEVEL),
    Field::optional("damages", contracts::DAMAGES),
    Field::optional(
        "lateDays",
        Shape::Integer {
            min: 1,
            max: u32::MAX as i64,
        },
    ),
    Field::optional("overrunConflictFrom", Shape::Date),
    CREATED_AT,
    UPDATED_AT,
    Field::optional("pickedUpAt", Shape::DateTime),
    Field::optional("returnedAt", Shape::DateTime),
    Field::optional("cancelledAt", Shape::DateTime),
];

/// An issue report's fields, its photos as the component `photos` names: confirmed files
/// (`Attachment`) everywhere, with download URLs (`FileDownload`) where one report is read.
macro_rules! issue_report {
    ($photos:literal) => {
        &[
            ID,
            Field::required("carId", Shape::Uuid),
            Field::optional("contractId", Shape::Uuid),
            Field::required("reporterId", Shape::Uuid),
            Field::required("severity", reports::SEVERITY),
            Field::required("description", reports::DESCRIPTION),
            Field::required("status", reports::STATUS),
            Field::optional("resolution", reports::RESOLUTION),
            Field::optional("carAction", Shape::Choice(CarAction::WORDS)),
            Field::required("photos", Shape::ListOf($photos)),
            CREATED_AT,
            UPDATED_AT,
            Field::optional("resolvedAt", Shape::DateTime),
        ]
    };
}
const ISSUE_REPORT: &[Field] = issue_report!("Attachment");
const ISSUE_REPORT_DETAIL: &[Field] = issue_report!("FileDownload");

const SEATS_LEFT: Shape = Shape::Integer {
    min: 0,
    max: u16::MAX as i64,
};

const FLIGHT: &[Field] = &[
    ID,
    Field::required("flightNumber", flights::FLIGHT_NUMBER),
    Field::required("airplaneId", Shape::Uuid),
    Field::required("from", airports::AIRPORT_CODE),
    Field::required("to", airports::AIRPORT_CODE),
    Field::required("departureTime", Shape::DateTime),
    Field::required("arrivalTime", Shape::DateTime),
    Field::required("price", Shape::Money),
    Field::required("totalSeats", SEATS_LEFT),
    Field::required("remainingSeats", SEATS_LEFT),
    Field::required("status", flights::FLIGHT_STATUS),
    CREATED_AT,
    UPDATED_AT,
];

const FLIGHT_SUMMARY: &[Field] = &[
    Field::required("number", Shape::Opaque),
    Field::required("from", Shape::Opaque),
    Field::required("to", Shape::Opaque),
    Field::required("departureTime", Shape::DateTime),
];

const BOOKING: &[Field] = &[
    ID,
    Field::required("flightId", Shape::Uuid),
    Field::required("userId", Shape::Uuid),
    Field::required("seats", bookings::SEATS),
    Field::required("total", Shape::Money),
    Field::required("status", bookings::BOOKING_STATUS),
    Field::optional("holdExpiresAt", Shape::DateTime),
    CREATED_AT,
    UPDATED_AT,
    Field::optional("confirmedAt", Shape::DateTime),
    Field::optional("cancelledAt", Shape::DateTime),
    Field::optional("expiredAt", Shape::DateTime),
    Field::optional("refund", Shape::Money),
    Field::optional("refundedAt", Shape::DateTime),
    Field::required("flight", Shape::Component("FlightSummary")),
];

const USER: &[Field] = &[
    ID,
    Field::required("email", accounts::EMAIL),
    Field::required("username", accounts::USERNAME),
    Field::required("name", accounts::PERSON_NAME),
    Field::required("phone", accounts::PHONE),
    Field::required("role", accounts::ROLE),
    Field::required("disabled", Shape::Boolean),
    CREATED_AT,
    UPDATED_AT,
];

const NOTIFICATION: &[Field] = &[
    ID,
    Field::required(
        "kind",
        Shape::Choice(&[
            "booking-confirmed",
            "booking-cancelled",
            "booking-expired",
            "flight-cancelled",
            "departure-reminder",
            "contract-reserved",
            "pickup-reminder",
            "return-reminder",
            "issue-status-changed",
            "critical-issue-on-rental",
        ]),
    ),
    Field::required("title", Shape::Opaque),
    Field::required("body", Shape::Opaque),
    Field::optional("bookingId", Shape::Opaque),
    Field::optional("contractId", Shape::Opaque),
    Field::optional("issueId", Shape::Opaque),
    Field::required("read", Shape::Boolean),
    CREATED_AT,
    Field::optional("readAt", Shape::DateTime),
];

const AUDIT_ENTRY: &[Field] = &[
    Field::required("id", Shape::Opaque),
    Field::required("entityType", Shape::Opaque),
    Field::required("entityId", Shape::Opaque),
    Field::required("action", Shape::Choice(&["create", "update", "delete"])),
    Field::required("actor", Shape::Opaque),
    Field::required("requestId", Shape::Opaque),
    Field::required("at", Shape::DateTime),
    Field::required("before", Shape::AnyObject),
    Field::required("after", Shape::AnyObject),
];

const TOKENS: &[Field] = &[
    Field::required("accessToken", Shape::Opaque),
    Field::required("refreshToken", Shape::Opaque),
    Field::required(
        "expiresIn",
        Shape::Integer {
            min: 1,
            max: u32::MAX as i64,
        },
    ),
    Field::required("tokenType", Shape::Choice(&["Bearer"])),
];

const HEALTH: &[Field] = &[
    Field::required("status", Shape::Choice(&["ok"])),
    Field::required("checks", Shape::Component("HealthChecks")),
];

const HEALTH_CHECKS: &[Field] = &[Field::required("store", Shape::Choice(&["ok"]))];

const PAGINATION: &[Field] = &[
    Field::required(
        "limit",
        Shape::Integer {
            min: 1,
            max: itinera::pagination::PageLimit::MAX as i64,
        },
    ),
    Field::required("nextCursor", Shape::OrNull(&Shape::Opaque)),
];

const FIELD_ERROR: &[Field] = &[
    Field::required("field", Shape::Opaque),
    Field::required("message", Shape::Opaque),
];

/// The entities and envelopes, by component name.
const COMPONENTS: &[(&str, &[Field])] = &[
    ("Airplane", AIRPLANE),
    ("Airport", AIRPORT),
    ("Flight", FLIGHT),
    ("FlightSummary", FLIGHT_SUMMARY),
    ("Booking", BOOKING),
    ("Car", CAR),
    ("CatalogueCar", CATALOGUE_CAR),
    ("CarAvailability", CAR_AVAILABILITY),
    ("DayRange", DAY_RANGE),
    ("Insurance", INSURANCE),
    ("Registration", REGISTRATION),
    ("ServiceRecord", SERVICE_RECORD),
    ("Customer", CUSTOMER),
    ("Contract", CONTRACT),
    ("Upload", files::UPLOAD),
    ("Attachment", files::ATTACHMENT),
    ("FileDownload", files::FILE_DOWNLOAD),
    ("IssueReport", ISSUE_REPORT),
    ("IssueReportDetail", ISSUE_REPORT_DETAIL),
    ("User", USER),
    ("Notification", NOTIFICATION),
    ("AuditEntry", AUDIT_ENTRY),
    ("Tokens", TOKENS),
    ("Health", HEALTH),
    ("HealthChecks", HEALTH_CHECKS),
    ("Money", MONEY),
    ("PositiveMoney", POSITIVE_MONEY),
    ("Pagination", PAGINATION),
    ("FieldError", FIELD_ERROR),
];

/// Every component schema: the entities, the envelopes and the problem body.
pub(crate) fn components() -> Map<String, Value> {
    let mut schemas: Map<String, Value> = COMPONENTS
        .iter()
        .map(|(name, fields)| ((*name).to_owned(), object(fields, false)))
        .collect();
    schemas.insert("Problem".into(), problem());
    schemas
}

/// The RFC 9457 problem body every failure answers (`application/problem+json`).
fn problem() -> Value {
    json!({
        "type": "object",
        "description": "An RFC 9457 problem. `errors` lists every invalid field of a 400.",
        "properties": {
            "type": { "type": "string", "pattern": "^urn:itinera:problem:[a-z-]+$" },
            "title": { "type": "string" },
            "status": { "type": "integer", "minimum": 400, "maximum": 599 },
            "detail": { "type": "string" },
            "requestId": { "type": "string" },
            "errors": { "type": "array", "items": reference("FieldError") },
        },
        "required": ["type", "title", "status", "detail", "requestId"],
        "additionalProperties": false,
    })
}
