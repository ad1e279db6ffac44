//! What the tables do not say of a function and the generator needs: the template's description,
//! the product line whose log group it writes to, and what its sample event carries (query,
//! extra headers, request body; the job of the worker's sample batch).
//!
//! The samples live here, next to the generator, rather than on the route declarations: they are
//! documentation and test input, not behaviour, and every binary links its route's static, so a
//! sample body there would ship in the function. Path parameters need no entry: each takes the
//! sample id of the collection it follows ([`PATH_SAMPLES`]). A function of the tables without an
//! entry here, or an entry for no function, fails the generator and its tests.

/// A product line: its functions share one log group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Line {
    /// Health, accounts, sign-in, the audit log, notifications, the API's own functions and the
    /// jobs worker.
    Platform,
    /// The fleet, airports, flights and bookings.
    Airline,
    /// Cars, customers and rental contracts.
    Rental,
}

impl Line {
    /// Every line, in template order.
    pub const ALL: [Line; 3] = [Line::Platform, Line::Airline, Line::Rental];

    /// The last segment of its log group's name.
    pub fn slug(self) -> &'static str {
        match self {
            Line::Platform => "platform",
            Line::Airline => "airline",
            Line::Rental => "rental",
        }
    }
}

/// The signed-in user of a protected route's sample event, as the authorizer's context names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Principal {
    pub user_id: &'static str,
    pub role: &'static str,
}

/// The sample events' customer (the account `register` creates in the events' story).
pub const CUSTOMER: Principal = Principal {
    user_id: "0190f5d2-7c20-7d4e-8b2f-4a3c9d5e6f71",
    role: "customer",
};
/// The sample events' staff member.
pub const STAFF: Principal = Principal {
    user_id: "0190f5d2-7b10-7c4b-8a1e-3f2b8c4d5e70",
    role: "staff",
};
/// The sample events' admin.
pub const ADMIN: Principal = Principal {
    user_id: "0190f5d2-7d30-7e5f-9c3a-5b4d0e6f7a82",
    role: "admin",
};

/// The value of a path parameter, by the collection segment before it: `/v1/airplanes/{id}`
/// takes the airplane's.
pub const PATH_SAMPLES: &[(&str, &str)] = &[
    ("airplanes", "0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f"),
    ("airports", "DEL"),
    ("flights", "0190f5d2-8c00-7c4b-9a1e-3f2b8c4d5e6f"),
    ("bookings", "0190f5d2-9d00-7c4b-9a1e-3f2b8c4d5e6f"),
    ("users", CUSTOMER.user_id),
    ("notifications", "0190f5d2-8d31-7e5f-9c30-5b4d0e6f7a82"),
    ("cars", "0190f5d2-ae00-7c4b-9a1e-3f2b8c4d5e6f"),
    ("customers", "0190f5d2-af00-7c4b-9a1e-3f2b8c4d5e6f"),
    ("contracts", "0190f5d2-b000-7c4b-9a1e-3f2b8c4d5e6f"),
    ("insurance", "0190f5d2-b100-7c4b-9a1e-3f2b8c4d5e6f"),
    ("registrations", "0190f5d2-b200-7c4b-9a1e-3f2b8c4d5e6f"),
    ("issues", "0190f5d2-b300-7c4b-9a1e-3f2b8c4d5e6f"),
];

/// The route whose request the preflight sample asks about.
pub const PREFLIGHT_SAMPLE_ROUTE: &str = "create-airplane";
/// The protected route whose request the authorizer's sample guards.
pub const AUTHORIZER_SAMPLE_ROUTE: &str = "get-my-profile";

/// What a sample event carries beyond its endpoint.
#[derive(Debug)]
pub struct Sample {
    /// Query parameters, one value each.
    pub query: &'static [(&'static str, &'static str)],
    /// Headers beyond API Gateway's own (and `Content-Type`, which a body brings).
    pub headers: &'static [(&'static str, &'static str)],
    /// The request body (JSON); for the worker, the job its sample batch carries.
    pub body: Option<&'static str>,
}

impl Sample {
    /// Nothing beyond the endpoint.
    pub const NONE: Sample = Sample {
        query: &[],
        headers: &[],
        body: None,
    };
}

/// One function's entry.
#[derive(Debug)]
pub struct Entry {
    pub function: &'static str,
    pub line: Line,
    pub description: &'static str,
    pub sample: Sample,
}

const fn function(function: &'static str, line: Line, description: &'static str) -> Entry {
    Entry {
        function,
        line,
        description,
        sample: Sample::NONE,
    }
}

impl Entry {
    const fn query(mut self, query: &'static [(&'static str, &'static str)]) -> Self {
        self.sample.query = query;
        self
    }

    const fn headers(mut self, headers: &'static [(&'static str, &'static str)]) -> Self {
        self.sample.headers = headers;
        self
    }

    const fn body(mut self, body: &'static str) -> Self {
        self.sample.body = Some(body);
        self
    }
}

use Line::{Airline, Platform, Rental};

/// Every function's entry.
pub static ENTRIES: &[Entry] = &[
    function("health", Platform, "Liveness and storage reachability."),
    function("create-airplane", Airline, "Adds an airplane to the fleet.")
        .body(r#"{"modelNumber": "A320neo", "capacity": 180}"#),
    function("list-airplanes", Airline, "Lists the fleet, one page at a time.")
        .query(&[("limit", "10")]),
    function("get-airplane", Airline, "Reads one airplane."),
    function("update-airplane", Airline, "Changes an airplane's whitelisted fields.")
        .body(r#"{"capacity": 186}"#),
    function("delete-airplane", Airline, "Removes an airplane from the fleet."),
    function("create-airport", Airline, "Adds an airport.").body(
        r#"{"code": "DEL", "name": "Indira Gandhi International", "city": "Delhi", "country": "IN", "timeZone": "Asia/Kolkata"}"#,
    ),
    function("list-airports", Airline, "Lists every airport by code.").query(&[("limit", "10")]),
    function("get-airport", Airline, "Reads one airport."),
    function(
        "update-airport",
        Airline,
        "Changes an airport's name, city, country or time zone.",
    )
    .body(r#"{"city": "New Delhi"}"#),
    function("delete-airport", Airline, "Removes an airport that no flight uses."),
    function(
        "create-flight",
        Airline,
        "Schedules a flight on an airplane between two airports.",
    )
    .body(
        r#"{"flightNumber": "AI101", "airplaneId": "0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f", "from": "DEL", "to": "BOM", "departureTime": "2099-12-01T09:30:00+05:30", "arrivalTime": "2099-12-01T11:45:00+05:30", "price": {"amount": 450000, "currency": "INR"}}"#,
    ),
    function(
        "search-flights",
        Airline,
        "Finds the scheduled flights of a leg on a local day.",
    )
    .query(&[
        ("from", "DEL"),
        ("to", "BOM"),
        ("date", "2099-12-01"),
        ("seats", "2"),
        ("sort", "price"),
    ]),
    function("get-flight", Airline, "Reads one flight with its free seats."),
    function(
        "update-flight",
        Airline,
        "Reschedules, reprices or moves a flight through its statuses; cancelling a booked \
         flight sends the task that cancels its bookings.",
    )
    .body(r#"{"price": {"amount": "475000", "currency": "INR"}}"#),
    function("delete-flight", Airline, "Removes a flight that was never booked."),
    function("register", Platform, "Opens a customer account.").body(
        r#"{"email": "ada.lovelace@example.com", "username": "ada.lovelace", "password": "Analytical-Engine-1843", "name": "Ada Lovelace"}"#,
    ),
    function(
        "login",
        Platform,
        "Signs a user in; answers an access token and a refresh token.",
    )
    .body(r#"{"email": "ada.lovelace@example.com", "password": "Analytical-Engine-1843"}"#),
    function(
        "refresh",
        Platform,
        "Trades a refresh token for a new access token and a rotated refresh token.",
    )
    .body(r#"{"refreshToken": "2f6Yb0kQm9WcV3xR8tLpZ1nHs4uJd7eAq5gKiOwTyBv"}"#),
    function("logout", Platform, "Ends the session of a refresh token.")
        .body(r#"{"refreshToken": "2f6Yb0kQm9WcV3xR8tLpZ1nHs4uJd7eAq5gKiOwTyBv"}"#),
    function("get-my-profile", Platform, "Reads the caller's own account."),
    function("update-my-profile", Platform, "Changes the caller's name and phone.")
        .body(r#"{"name": "Augusta Ada King"}"#),
    function(
        "change-my-password",
        Platform,
        "Changes the caller's password, ends their other sessions and starts a new one.",
    )
    .body(r#"{"currentPassword": "Analytical-Engine-1843", "newPassword": "Difference-Engine-No-2-1849"}"#),
    function(
        "list-my-activity",
        Platform,
        "Lists the audit entries of the caller's own actions.",
    )
    .query(&[("limit", "20")]),
    function("list-users", Platform, "Lists the accounts (admins only).")
        .query(&[("role", "customer"), ("limit", "20")]),
    function("get-user", Platform, "Reads one account (admins only)."),
    function(
        "update-user",
        Platform,
        "Changes an account's role or disabled flag (admins only).",
    )
    .body(r#"{"role": "staff"}"#),
    function("list-audit-entries", Platform, "Lists the audit log (admins only).").query(&[
        ("entityType", "airplane"),
        ("entityId", "0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f"),
        ("limit", "20"),
    ]),
    function(
        "list-notifications",
        Platform,
        "Lists the caller's notifications, newest first (all or unread only).",
    )
    .query(&[("unread", "true"), ("limit", "20")]),
    function(
        "read-notification",
        Platform,
        "Marks one of the caller's notifications read.",
    ),
    function(
        "create-booking",
        Airline,
        "Books seats on a flight and holds them until payment (Idempotency-Key required).",
    )
    .headers(&[("Idempotency-Key", "5b1d0c7e-2f4a-4c8e-9d3b-7a6e1f2c3d4e")])
    .body(r#"{"flightId": "0190f5d2-8c00-7c4b-9a1e-3f2b8c4d5e6f", "seats": 2}"#),
    function(
        "list-bookings",
        Airline,
        "Lists the caller's bookings, or every booking (or one flight's) for staff.",
    )
    .query(&[("status", "pending"), ("limit", "10")]),
    function("get-booking", Airline, "Reads one booking, for its owner or staff."),
    function(
        "pay-booking",
        Airline,
        "Charges a pending booking through the payment gateway and confirms it.",
    )
    .body(r#"{"paymentToken": "tok_test_approve", "amount": {"amount": 900000, "currency": "INR"}}"#),
    function(
        "cancel-booking",
        Airline,
        "Cancels a booking, returning its seats and refunding a paid one.",
    ),
    function("create-car", Rental, "Adds a car to the rental fleet.").body(
        r#"{"licensePlate": "KA-01 AB 1234", "vin": "1HGCM82633A004352", "manufacturer": "Toyota", "model": "Corolla", "year": 2024, "category": "compact", "dailyRate": {"amount": 250000, "currency": "INR"}, "mileage": 12000}"#,
    ),
    function(
        "list-cars",
        Rental,
        "Lists the rental fleet by status, manufacturer or category, one page at a time.",
    )
    .query(&[("status", "available"), ("manufacturer", "toyota"), ("limit", "20")]),
    function("get-car", Rental, "Reads one car."),
    function(
        "update-car",
        Rental,
        "Changes a car's plate, rate, category, status or mileage.",
    )
    .body(r#"{"status": "maintenance", "mileage": 15250}"#),
    function("delete-car", Rental, "Removes a car that no contract names."),
    function(
        "get-car-availability",
        Rental,
        "Answers the ranges of days a car is taken within at most 180 days.",
    )
    .query(&[("from", "2027-06-01"), ("to", "2027-08-31")]),
    function("create-insurance", Rental, "Adds an insurance policy to a car.").body(
        r#"{"provider": "Allianz", "policyNumber": "AZ-2027-0042", "coverage": "comprehensive", "validFrom": "2027-01-01", "validTo": "2027-12-31"}"#,
    ),
    function("list-insurance", Rental, "Lists a car's insurance policies, newest first.")
        .query(&[("limit", "20")]),
    function("get-insurance", Rental, "Reads one insurance policy of a car."),
    function(
        "update-insurance",
        Rental,
        "Changes an insurance policy's provider, number, coverage or days.",
    )
    .body(r#"{"validTo": "2028-01-31"}"#),
    function("delete-insurance", Rental, "Removes an insurance policy of a car."),
    function(
        "upload-insurance-document",
        Rental,
        "Starts the upload of an insurance policy's document: a presigned URL for one PDF or image.",
    )
    .body(r#"{"contentType": "application/pdf", "size": 482133}"#),
    function(
        "confirm-insurance-document",
        Rental,
        "Records an uploaded file as an insurance policy's document once it is checked.",
    )
    .body(r#"{"uploadId": "0190f5d2-b300-7c4b-9a1e-3f2b8c4d5e6f"}"#),
    function(
        "get-insurance-document",
        Rental,
        "Hands out a short-lived download URL of an insurance policy's document.",
    ),
    function(
        "list-expiring-insurance",
        Rental,
        "Lists the fleet's insurance policies expiring within a number of days, soonest first.",
    )
    .query(&[("expiringWithinDays", "30"), ("limit", "20")]),
    function("create-registration", Rental, "Adds a registration to a car.").body(
        r#"{"authority": "DVLA", "registrationNumber": "KA01AB1234", "validFrom": "2027-01-01", "validTo": "2027-12-31"}"#,
    ),
    function("list-registrations", Rental, "Lists a car's registrations, newest first.")
        .query(&[("limit", "20")]),
    function("get-registration", Rental, "Reads one registration of a car."),
    function(
        "update-registration",
        Rental,
        "Changes a registration's authority, number or days.",
    )
    .body(r#"{"validTo": "2028-01-31"}"#),
    function("delete-registration", Rental, "Removes a registration of a car."),
    function(
        "upload-registration-document",
        Rental,
        "Starts the upload of a registration's document: a presigned URL for one PDF or image.",
    )
    .body(r#"{"contentType": "application/pdf", "size": 482133}"#),
    function(
        "confirm-registration-document",
        Rental,
        "Records an uploaded file as a registration's document once it is checked.",
    )
    .body(r#"{"uploadId": "0190f5d2-b300-7c4b-9a1e-3f2b8c4d5e6f"}"#),
    function(
        "get-registration-document",
        Rental,
        "Hands out a short-lived download URL of a registration's document.",
    ),
    function(
        "list-expiring-registrations",
        Rental,
        "Lists the fleet's registrations expiring within a number of days, soonest first.",
    )
    .query(&[("expiringWithinDays", "30"), ("limit", "20")]),
    function(
        "create-service-record",
        Rental,
        "Records a service of a car, raising the car's mileage to the record's when higher.",
    )
    .body(
        r#"{"date": "2027-03-02", "mileage": 15250, "description": "Oil and filter change", "cost": {"amount": 1250000, "currency": "INR"}, "garage": "Garage Nord"}"#,
    ),
    function(
        "list-service-records",
        Rental,
        "Lists a car's service history, newest first.",
    )
    .query(&[("limit", "20")]),
    function(
        "search-catalogue",
        Rental,
        "Finds the cars free on every day of a range, with their price for it.",
    )
    .query(&[
        ("from", "2027-06-01"),
        ("to", "2027-06-07"),
        ("category", "suv"),
        ("limit", "20"),
    ]),
    function("create-customer", Rental, "Adds a customer profile.").body(
        r#"{"name": "Ada Lovelace", "email": "ada.lovelace@example.com", "phone": "+44 20 7946 0958", "licenceNumber": "LOVEL815120A99", "licenceExpiry": "2031-12-10"}"#,
    ),
    function(
        "list-customers",
        Rental,
        "Lists customers newest first, or finds the one of an email.",
    )
    .query(&[("email", "ada.lovelace@example.com")]),
    function("get-customer", Rental, "Reads one customer."),
    function(
        "update-customer",
        Rental,
        "Changes a customer's name, phone or driving licence.",
    )
    .body(r#"{"licenceExpiry": "2036-12-10"}"#),
    function("delete-customer", Rental, "Removes a customer with no open contract."),
    function(
        "create-my-customer",
        Rental,
        "Creates the caller's own customer profile with their account's email.",
    )
    .body(r#"{"phone": "+44 20 7946 0958", "licenceNumber": "LOVEL815120A99", "licenceExpiry": "2031-12-10"}"#),
    function("get-my-customer", Rental, "Reads the caller's own customer profile."),
    function(
        "update-my-customer",
        Rental,
        "Changes the caller's phone or driving licence on their customer profile.",
    )
    .body(r#"{"phone": "+44 20 7946 0000"}"#),
    function(
        "create-contract",
        Rental,
        "Reserves a car for whole days; no two contracts of a car share a day.",
    )
    .body(r#"{"carId": "0190f5d2-ae00-7c4b-9a1e-3f2b8c4d5e6f", "startDate": "2030-06-01", "endDate": "2030-06-07"}"#),
    function(
        "list-contracts",
        Rental,
        "Lists the caller's contracts, or anyone's by customer, car and status for staff.",
    )
    .query(&[("status", "reserved"), ("limit", "20")]),
    function("get-contract", Rental, "Reads one contract, for its owner or staff."),
    function(
        "update-contract",
        Rental,
        "Moves a reserved contract's dates, taking the new days and freeing the old at once.",
    )
    .body(r#"{"endDate": "2030-06-09"}"#),
    function(
        "cancel-contract",
        Rental,
        "Cancels a reserved contract and frees its days.",
    ),
    function(
        "pick-up-contract",
        Rental,
        "Hands the car of a reserved contract over: the contract active, the car rented.",
    )
    .body(r#"{"mileage": 12050}"#),
    function(
        "return-contract",
        Rental,
        "Takes the car back: the contract completed and priced, the car available.",
    )
    .body(r#"{"mileage": 12900, "fuelLevel": 80}"#),
    function(
        "create-issue",
        Rental,
        "Reports an issue with a car: a customer on a car they rent or rented, staff on any car; \
         a critical one takes the car out of service.",
    )
    .body(r#"{"severity": "high", "description": "The brakes squeal when cold."}"#),
    function(
        "list-issues",
        Rental,
        "Lists the caller's issue reports, or every report by status, car and severity for staff.",
    )
    .query(&[("status", "open"), ("limit", "20")]),
    function(
        "get-issue",
        Rental,
        "Reads one issue report, for its reporter or staff.",
    ),
    function(
        "update-issue",
        Rental,
        "Moves an issue report's status forward (staff) and tells its reporter.",
    )
    .body(r#"{"status": "in_progress"}"#),
    function(
        "start-issue-photo",
        Rental,
        "Starts the upload of a photo to an issue report (its reporter or staff): a presigned \
         upload URL for a JPEG, PNG or WebP of at most 10 MiB.",
    )
    .body(r#"{"contentType": "image/jpeg", "size": 482113}"#),
    function(
        "confirm-issue-photo",
        Rental,
        "Confirms a photo upload and records it on its issue report (at most 10 photos).",
    )
    .body(r#"{"uploadId": "0190f5d2-b200-7c4b-9a1e-3f2b8c4d5e6f"}"#),
    function(
        "preflight",
        Platform,
        "Answers CORS preflight requests for the configured origins.",
    ),
    function(
        "authorizer",
        Platform,
        "Verifies the bearer access token in front of every protected route.",
    ),
    function(
        "process-jobs",
        Platform,
        "Writes the in-app notification and sends the email of each job on the jobs queue, \
         settles payments and refunds that requests left behind, and cancels the bookings of a \
         cancelled flight.",
    )
    .body(
        r#"{"id":"0193a1f0-7b2c-7d4e-9f10-2a3b4c5d6e7f","userId":"0193a1f0-0000-7000-8000-000000000001","kind":{"type":"bookingConfirmed"},"booking":{"bookingId":"0193a1f0-5555-7555-8555-555555555555","flightId":"0193a1f0-4444-7444-8444-444444444444","flightNumber":"AI101","from":"DEL","to":"BOM","departureTime":"2026-12-01T06:30:00.000Z","seats":2,"total":{"amount":1250000,"currency":"INR"}},"createdAt":"2026-11-21T08:00:00.000Z"}"#,
    ),
    function(
        "relay-outbox",
        Platform,
        "Sends the jobs a failed or interrupted dispatch left in the outbox.",
    ),
    function(
        "expire-holds",
        Airline,
        "Expires unpaid booking holds and gives their seats back.",
    ),
    function(
        "queue-departure-reminders",
        Airline,
        "Queues a reminder for each confirmed booking of a flight departing within a day.",
    ),
    function(
        "queue-rental-reminders",
        Rental,
        "Queues a pickup reminder for each reserved rental starting within a day and a return reminder for each active rental ending today.",
    ),
    function(
        "queue-fleet-reminders",
        Rental,
        "Queues the staff's reminder of each car's insurance policy and registration ending in 30, 7 or 1 days.",
    ),
];

/// The entry of `function`.
pub fn entry(function: &str) -> Option<&'static Entry> {
    ENTRIES.iter().find(|entry| entry.function == function)
}

/// The sample value of the path parameter that follows `collection`.
pub fn path_sample(collection: &str) -> Option<&'static str> {
    PATH_SAMPLES
        .iter()
        .find(|(name, _)| *name == collection)
        .map(|(_, value)| *value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_is_a_function_of_the_tables_and_appears_once() {
        let functions = crate::tables::functions().expect("every function has an entry");
        for entry in ENTRIES {
            assert!(
                functions
                    .iter()
                    .any(|function| function.name == entry.function),
                "{} has a catalog entry but is no function of the tables",
                entry.function
            );
            assert_eq!(
                ENTRIES
                    .iter()
                    .filter(|other| other.function == entry.function)
                    .count(),
                1,
                "{} has two catalog entries",
                entry.function
            );
        }
    }

    #[test]
    fn sample_bodies_are_json() {
        for entry in ENTRIES {
            if let Some(body) = entry.sample.body {
                serde_json::from_str::<serde_json::Value>(body)
                    .unwrap_or_else(|error| panic!("{}: {error}", entry.function));
            }
        }
    }
}
