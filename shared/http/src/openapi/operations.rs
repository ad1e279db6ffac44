//! What each route takes and answers beyond what its [`Route`] says: the body and query it
//! accepts (the very lists its handler checks requests against), what it answers on success, and
//! the problems only some routes answer. The statuses every route of a kind answers (401 and 403
//! from its access, 404 from a path parameter, 412 from `If-Match`, 413 and 415 from a body) are
//! derived in the document builder.

use crate::fields::Field;
use crate::handlers::fleet::PaperForm;
use crate::handlers::{
    accounts, airplanes, airports, audit, auth, bookings, cars, catalogue, contracts, customers,
    files, fleet, flights, notifications, reports,
};
use crate::routes::Route;
use itinera::fleet::{Insurance, Registration};

/// The request body a route reads.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Body {
    /// No body.
    None,
    /// A JSON object with these fields (the required ones required).
    Object(&'static [Field]),
    /// A change: a JSON object with at least one of these fields, none required.
    Changes(&'static [Field]),
    /// No body, or an empty JSON object.
    Empty,
}

/// What a route answers on success.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Success {
    /// 200 with `{"data": <component>}`.
    Ok(&'static str),
    /// 201 with `{"data": <component>}` and a `Location`.
    Created(&'static str),
    /// 200 with `{"data": [<component>...], "pagination": ...}`.
    Page(&'static str),
    /// 204 without a body.
    NoContent,
}

/// One route's operation, as its handler implements it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Operation {
    pub summary: &'static str,
    pub body: Body,
    pub query: &'static [Field],
    pub success: Success,
    /// Whether the answer carries the entity's version as `ETag` (and a `GET` honours
    /// `If-None-Match` with 304).
    pub versioned: bool,
    /// Whether the route honours `If-Match` (412 when the version moved on).
    pub if_match: bool,
    /// Whether the route requires an `Idempotency-Key` header (422 on reuse with another body).
    pub idempotent: bool,
    /// Problem statuses this route answers beyond the derived ones.
    pub problems: &'static [u16],
    /// Body fields of which exactly one must be present (the login's `email` or `username`).
    pub exactly_one_of: &'static [&'static str],
}

const fn op(summary: &'static str, body: Body, success: Success) -> Operation {
    Operation {
        summary,
        body,
        query: &[],
        success,
        versioned: false,
        if_match: false,
        idempotent: false,
        problems: &[],
        exactly_one_of: &[],
    }
}

impl Operation {
    const fn query(mut self, query: &'static [Field]) -> Self {
        self.query = query;
        self
    }

    const fn versioned(mut self) -> Self {
        self.versioned = true;
        self
    }

    /// Versioned, and changed or removed under `If-Match`.
    const fn if_match(mut self) -> Self {
        self.versioned = true;
        self.if_match = true;
        self
    }

    const fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }

    const fn problems(mut self, problems: &'static [u16]) -> Self {
        self.problems = problems;
        self
    }

    const fn exactly_one_of(mut self, fields: &'static [&'static str]) -> Self {
        self.exactly_one_of = fields;
        self
    }
}

/// The operation of `route`, by its function name; `None` for a route this table misses, which a
/// test forbids.
pub(crate) fn operation(route: &Route) -> Option<Operation> {
    use Body::{Changes, Empty, None as NoBody, Object};
    use Success::{Created, NoContent, Ok, Page};
    let operation = match route.function {
        "health" => op("The service and its store answer", NoBody, Ok("Health")),
        "create-airplane" => op(
            "Add an airplane to the fleet",
            Object(airplanes::FIELDS),
            Created("Airplane"),
        )
        .versioned(),
        "list-airplanes" => {
            op("List the fleet", NoBody, Page("Airplane")).query(airplanes::LIST_PARAMS)
        }
        "get-airplane" => op("Read an airplane", NoBody, Ok("Airplane")).versioned(),
        "update-airplane" => op(
            "Change an airplane",
            Changes(airplanes::FIELDS),
            Ok("Airplane"),
        )
        .if_match(),
        "delete-airplane" => op("Remove an airplane", NoBody, NoContent).if_match(),
        "create-airport" => op(
            "Add an airport",
            Object(airports::CREATE_FIELDS),
            Created("Airport"),
        )
        .versioned(),
        "list-airports" => {
            op("List the airports", NoBody, Page("Airport")).query(airports::LIST_PARAMS)
        }
        "get-airport" => op("Read an airport", NoBody, Ok("Airport")).versioned(),
        "update-airport" => op(
            "Change an airport",
            Changes(airports::UPDATE_FIELDS),
            Ok("Airport"),
        )
        .if_match(),
        "delete-airport" => op("Remove an airport", NoBody, NoContent).if_match(),
        "create-flight" => op(
            "Schedule a flight",
            Object(flights::CREATE_FIELDS),
            Created("Flight"),
        )
        .versioned()
        .problems(&[404]),
        "search-flights" => op(
            "Search the flights of a route on a day",
            NoBody,
            Page("Flight"),
        )
        .query(flights::SEARCH_PARAMS),
        "get-flight" => op("Read a flight", NoBody, Ok("Flight")).versioned(),
        "update-flight" => op(
            "Reschedule, reprice or cancel a flight",
            Changes(flights::UPDATE_FIELDS),
            Ok("Flight"),
        )
        .if_match(),
        "delete-flight" => op("Remove a flight", NoBody, NoContent).if_match(),
        "register" => op(
            "Create a customer account",
            Object(accounts::REGISTER_FIELDS),
            Created("User"),
        )
        .versioned(),
        "login" => op(
            "Sign in with email or username, and password",
            Object(auth::LOGIN_FIELDS),
            Ok("Tokens"),
        )
        .exactly_one_of(&["email", "username"])
        .problems(&[401]),
        "refresh" => op(
            "Exchange a refresh token for a new token pair",
            Object(auth::REFRESH_FIELDS),
            Ok("Tokens"),
        )
        .problems(&[401]),
        "logout" => op(
            "End the session of a refresh token",
            Object(auth::REFRESH_FIELDS),
            NoContent,
        ),
        "get-my-profile" => op("Read your profile", NoBody, Ok("User"))
            .versioned()
            .problems(&[404]),
        "update-my-profile" => op(
            "Change your name or phone",
            Changes(accounts::PROFILE_FIELDS),
            Ok("User"),
        )
        .if_match()
        .problems(&[404]),
        "change-my-password" => op(
            "Change your password; every other session ends",
            Object(accounts::PASSWORD_FIELDS),
            Ok("Tokens"),
        ),
        "list-my-activity" => {
            op("List your own activity", NoBody, Page("AuditEntry")).query(audit::ACTIVITY_PARAMS)
        }
        "list-users" => op("List the users", NoBody, Page("User")).query(accounts::LIST_PARAMS),
        "get-user" => op("Read a user", NoBody, Ok("User")).versioned(),
        "update-user" => op(
            "Change a user's role or disable them",
            Changes(accounts::ADMIN_FIELDS),
            Ok("User"),
        )
        .if_match(),
        "list-audit-entries" => op(
            "One entity's history or one actor's activity",
            NoBody,
            Page("AuditEntry"),
        )
        .query(audit::LIST_PARAMS),
        "list-notifications" => op("List your notifications", NoBody, Page("Notification"))
            .query(notifications::LIST_PARAMS),
        "read-notification" => op("Mark a notification read", Empty, Ok("Notification")),
        "create-booking" => op(
            "Hold seats on a flight",
            Object(bookings::CREATE_FIELDS),
            Created("Booking"),
        )
        .idempotent()
        .problems(&[404]),
        "list-bookings" => {
            op("List bookings", NoBody, Page("Booking")).query(bookings::LIST_PARAMS)
        }
        "get-booking" => op("Read a booking", NoBody, Ok("Booking")),
        "pay-booking" => op(
            "Pay a held booking",
            Object(bookings::PAY_FIELDS),
            Ok("Booking"),
        )
        .problems(&[402]),
        "cancel-booking" => op("Cancel a booking", Empty, Ok("Booking")),
        "create-car" => op(
            "Add a car to the rental fleet",
            Object(cars::CREATE_FIELDS),
            Created("Car"),
        )
        .versioned(),
        "list-cars" => op("List the rental fleet", NoBody, Page("Car")).query(cars::LIST_PARAMS),
        "get-car" => op("Read a car", NoBody, Ok("Car")).versioned(),
        "update-car" => op("Change a car", Changes(cars::UPDATE_FIELDS), Ok("Car")).if_match(),
        "delete-car" => op("Remove a car with no contract", NoBody, NoContent).if_match(),
        "get-car-availability" => op(
            "Read the days a car is taken",
            NoBody,
            Ok("CarAvailability"),
        )
        .query(catalogue::AVAILABILITY_PARAMS),
        "create-insurance" => op(
            "Add an insurance policy to a car",
            Object(Insurance::CREATE_FIELDS),
            Created("Insurance"),
        )
        .versioned(),
        "list-insurance" => op(
            "List a car's insurance policies, newest first",
            NoBody,
            Page("Insurance"),
        )
        .query(fleet::PAGE_PARAMS),
        "get-insurance" => op("Read an insurance policy", NoBody, Ok("Insurance")).versioned(),
        "update-insurance" => op(
            "Change an insurance policy",
            Changes(Insurance::UPDATE_FIELDS),
            Ok("Insurance"),
        )
        .if_match(),
        "delete-insurance" => op("Remove an insurance policy", NoBody, NoContent).if_match(),
        "upload-insurance-document" => op(
            "Start the upload of an insurance policy's document (PDF or image, at most 10 MiB)",
            Object(files::DOCUMENT_UPLOAD_FIELDS),
            Created("Upload"),
        ),
        "confirm-insurance-document" => op(
            "Confirm an uploaded document as the insurance policy's, replacing any earlier one",
            Object(files::CONFIRM_FIELDS),
            Ok("Insurance"),
        )
        .versioned(),
        "get-insurance-document" => op(
            "Read an insurance policy's document, with a short-lived download URL",
            NoBody,
            Ok("FileDownload"),
        ),
        "list-expiring-insurance" => op(
            "List the fleet's insurance policies expiring within N days, soonest first",
            NoBody,
            Page("Insurance"),
        )
        .query(fleet::EXPIRING_PARAMS),
        "create-registration" => op(
            "Add a registration to a car",
            Object(Registration::CREATE_FIELDS),
            Created("Registration"),
        )
        .versioned(),
        "list-registrations" => op(
            "List a car's registrations, newest first",
            NoBody,
            Page("Registration"),
        )
        .query(fleet::PAGE_PARAMS),
        "get-registration" => op("Read a registration", NoBody, Ok("Registration")).versioned(),
        "update-registration" => op(
            "Change a registration",
            Changes(Registration::UPDATE_FIELDS),
            Ok("Registration"),
        )
        .if_match(),
        "delete-registration" => op("Remove a registration", NoBody, NoContent).if_match(),
        "upload-registration-document" => op(
            "Start the upload of a registration's document (PDF or image, at most 10 MiB)",
            Object(files::DOCUMENT_UPLOAD_FIELDS),
            Created("Upload"),
        ),
        "confirm-registration-document" => op(
            "Confirm an uploaded document as the registration's, replacing any earlier one",
            Object(files::CONFIRM_FIELDS),
            Ok("Registration"),
        )
        .versioned(),
        "get-registration-document" => op(
            "Read a registration's document, with a short-lived download URL",
            NoBody,
            Ok("FileDownload"),
        ),
        "list-expiring-registrations" => op(
            "List the fleet's registrations expiring within N days, soonest first",
            NoBody,
            Page("Registration"),
        )
        .query(fleet::EXPIRING_PARAMS),
        "create-service-record" => op(
            "Record a service of a car, raising its mileage to the record's",
            Object(fleet::SERVICE_FIELDS),
            Created("ServiceRecord"),
        ),
        "list-service-records" => op(
            "List a car's service history, newest first",
            NoBody,
            Page("ServiceRecord"),
        )
        .query(fleet::PAGE_PARAMS),
        "search-catalogue" => op(
            "Find the cars free on every day of a range, priced for it",
            NoBody,
            Page("CatalogueCar"),
        )
        .query(catalogue::SEARCH_PARAMS),
        "create-customer" => op(
            "Add a customer",
            Object(customers::CREATE_FIELDS),
            Created("Customer"),
        )
        .versioned(),
        "list-customers" => op(
            "List customers, or find one by email",
            NoBody,
            Page("Customer"),
        )
        .query(customers::LIST_PARAMS),
        "get-customer" => op("Read a customer", NoBody, Ok("Customer")).versioned(),
        "update-customer" => op(
            "Change a customer",
            Changes(customers::UPDATE_FIELDS),
            Ok("Customer"),
        )
        .if_match(),
        "delete-customer" => {
            op("Remove a customer with no open contract", NoBody, NoContent).if_match()
        }
        "create-my-customer" => op(
            "Create your customer profile",
            Object(customers::MY_CREATE_FIELDS),
            Created("Customer"),
        )
        .versioned(),
        "get-my-customer" => op("Read your customer profile", NoBody, Ok("Customer"))
            .versioned()
            .problems(&[404]),
        "update-my-customer" => op(
            "Change your customer profile",
            Changes(customers::MY_UPDATE_FIELDS),
            Ok("Customer"),
        )
        .if_match()
        .problems(&[404]),
        "create-contract" => op(
            "Reserve a car for whole days",
            Object(contracts::CREATE_FIELDS),
            Created("Contract"),
        )
        .idempotent()
        .problems(&[404]),
        "list-contracts" => op(
            "List your contracts, or (staff) anyone's by customer, car and status",
            NoBody,
            Page("Contract"),
        )
        .query(contracts::LIST_PARAMS),
        "get-contract" => op("Read a contract", NoBody, Ok("Contract")).versioned(),
        "update-contract" => op(
            "Move a reserved contract's dates",
            Changes(contracts::UPDATE_FIELDS),
            Ok("Contract"),
        )
        .if_match(),
        "cancel-contract" => op("Cancel a reserved contract", Empty, Ok("Contract")),
        "pick-up-contract" => op(
            "Hand the car of a reserved contract over",
            Object(contracts::PICKUP_FIELDS),
            Ok("Contract"),
        ),
        "return-contract" => op(
            "Take the car of an active contract back",
            Object(contracts::RETURN_FIELDS),
            Ok("Contract"),
        ),
        "create-issue" => op(
            "Report an issue with a car you rent or rented, or (staff) any car",
            Object(reports::CREATE_FIELDS),
            Created("IssueReport"),
        )
        .versioned(),
        "list-issues" => op(
            "List your issue reports, or (staff) every report by status, car and severity",
            NoBody,
            Page("IssueReport"),
        )
        .query(reports::LIST_PARAMS),
        "get-issue" => op(
            "Read an issue report, each photo with a download URL",
            NoBody,
            Ok("IssueReportDetail"),
        )
        .versioned(),
        "update-issue" => op(
            "Move an issue report's status forward",
            Changes(reports::UPDATE_FIELDS),
            Ok("IssueReport"),
        )
        .if_match(),
        "start-issue-photo" => op(
            "Start the upload of a photo to an issue report",
            Object(files::PHOTO_UPLOAD_FIELDS),
            Created("Upload"),
        ),
        "confirm-issue-photo" => op(
            "Confirm a photo upload onto its issue report",
            Object(files::CONFIRM_FIELDS),
            Ok("IssueReport"),
        )
        .versioned(),
        _ => return None,
    };
    Some(operation)
}
