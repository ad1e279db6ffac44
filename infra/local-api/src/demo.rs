//! The demo data set: something to look at on a first run. Real airports of a few dozen busy
//! routes, a fleet, a flight a day on every route over the next 30 days, a rental fleet of a
//! dozen cars, three rental customers (one of them the demo customer's own profile), and a staff
//! and a customer account whose credentials the server prints.
//!
//! Loaded only by the local API, and only on request (`--demo` or `ITINERA_DEMO=1`); no Lambda
//! function links this module. Everything goes through the same use cases as the API (rules,
//! audit entries, counters), and each record is looked for by its natural key before it is
//! created (an airport by code, an airplane by model number, a flight by number on its route and
//! day, an account by email, a car by plate, a rental customer by email), so loading the set
//! again changes nothing.

use chrono::{DateTime, Days, NaiveTime, TimeDelta, Utc};
use itinera::accounts::{self, Email, NewAccount, Password, PersonName, Username};
use itinera::accounts::{LoginName, Phone};
use itinera::airplanes::{self, AirplaneFilter, AirplaneId, Capacity, ModelNumber, NewAirplane};
use itinera::airports::{self, Airport, AirportCode, CountryCode, NewAirport, PlaceName, TimeZone};
use itinera::calendar::Day;
use itinera::cars::{
    self, CarCategory, CarModel, DailyRate, LicencePlate, Manufacturer, Mileage, ModelYear, NewCar,
    Vin,
};
use itinera::customers::{self, CustomerFilter, LicenceNumber, NewCustomer};
use itinera::error::DomainError;
use itinera::flights::{self, FlightNumber, FlightSearch, Leg, NewFlight, Schedule, SearchOrder};
use itinera::identity::{RequestContext, Role};
use itinera::money::{Currency, Money};
use itinera::pagination::PageLimit;
use itinera_http::Services;

/// How many days ahead the demo schedule reaches, starting tomorrow (a flight must depart in the
/// future, and tomorrow's flights exist whatever the hour of the load).
pub const SCHEDULE_DAYS: u64 = 30;

/// Airports: IATA code, name, city, ISO 3166 country, IANA time zone.
#[rustfmt::skip]
const AIRPORTS: &[(&str, &str, &str, &str, &str)] = &[
    ("DEL", "Indira Gandhi International Airport", "New Delhi", "IN", "Asia/Kolkata"),
    ("BOM", "Chhatrapati Shivaji Maharaj International Airport", "Mumbai", "IN", "Asia/Kolkata"),
    ("BLR", "Kempegowda International Airport", "Bengaluru", "IN", "Asia/Kolkata"),
    ("MAA", "Chennai International Airport", "Chennai", "IN", "Asia/Kolkata"),
    ("HYD", "Rajiv Gandhi International Airport", "Hyderabad", "IN", "Asia/Kolkata"),
    ("CCU", "Netaji Subhas Chandra Bose International Airport", "Kolkata", "IN", "Asia/Kolkata"),
    ("DXB", "Dubai International Airport", "Dubai", "AE", "Asia/Dubai"),
    ("DOH", "Hamad International Airport", "Doha", "QA", "Asia/Qatar"),
    ("LHR", "Heathrow Airport", "London", "GB", "Europe/London"),
    ("CDG", "Paris Charles de Gaulle Airport", "Paris", "FR", "Europe/Paris"),
    ("FRA", "Frankfurt Airport", "Frankfurt am Main", "DE", "Europe/Berlin"),
    ("AMS", "Amsterdam Airport Schiphol", "Amsterdam", "NL", "Europe/Amsterdam"),
    ("MAD", "Adolfo Suárez Madrid-Barajas Airport", "Madrid", "ES", "Europe/Madrid"),
    ("IST", "Istanbul Airport", "Istanbul", "TR", "Europe/Istanbul"),
    ("JFK", "John F. Kennedy International Airport", "New York", "US", "America/New_York"),
    ("LAX", "Los Angeles International Airport", "Los Angeles", "US", "America/Los_Angeles"),
    ("ORD", "O'Hare International Airport", "Chicago", "US", "America/Chicago"),
    ("SFO", "San Francisco International Airport", "San Francisco", "US", "America/Los_Angeles"),
    ("ATL", "Hartsfield-Jackson Atlanta International Airport", "Atlanta", "US", "America/New_York"),
    ("SIN", "Singapore Changi Airport", "Singapore", "SG", "Asia/Singapore"),
    ("HND", "Haneda Airport", "Tokyo", "JP", "Asia/Tokyo"),
    ("HKG", "Hong Kong International Airport", "Hong Kong", "HK", "Asia/Hong_Kong"),
    ("SYD", "Sydney Kingsford Smith Airport", "Sydney", "AU", "Australia/Sydney"),
    ("BKK", "Suvarnabhumi Airport", "Bangkok", "TH", "Asia/Bangkok"),
];

/// The fleet: model number and seats, one airplane of each.
const FLEET: &[(&str, i64)] = &[
    ("A320neo", 180),
    ("A321neo", 220),
    ("B737-8", 189),
    ("B787-9", 290),
    ("A350-900", 325),
    ("ATR 72-600", 70),
    ("E190", 100),
];

/// One daily flight per route: number, from, to, local departure (`HH:MM` at the origin),
/// minutes in the air, model number, fare in minor units and its currency.
type Route = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    i64,
    &'static str,
    i64,
    &'static str,
);

#[rustfmt::skip]
const ROUTES: &[Route] = &[
    ("IT101", "DEL", "BOM", "06:00", 130, "A320neo", 549_900, "INR"),
    ("IT102", "BOM", "DEL", "09:00", 135, "A320neo", 549_900, "INR"),
    ("IT103", "DEL", "BLR", "07:30", 165, "A321neo", 649_900, "INR"),
    ("IT104", "BLR", "DEL", "11:00", 170, "A321neo", 649_900, "INR"),
    ("IT105", "BOM", "BLR", "08:15", 100, "A320neo", 429_900, "INR"),
    ("IT106", "BLR", "BOM", "13:45", 100, "A320neo", 429_900, "INR"),
    ("IT107", "DEL", "HYD", "10:20", 130, "B737-8", 499_900, "INR"),
    ("IT108", "HYD", "DEL", "15:10", 135, "B737-8", 499_900, "INR"),
    ("IT109", "MAA", "DEL", "06:45", 170, "A321neo", 629_900, "INR"),
    ("IT110", "CCU", "BOM", "17:30", 165, "A320neo", 579_900, "INR"),
    ("IT111", "BLR", "MAA", "19:00", 60, "ATR 72-600", 299_900, "INR"),
    ("IT112", "HYD", "BLR", "20:15", 75, "ATR 72-600", 329_900, "INR"),
    ("IT201", "DEL", "DXB", "09:45", 215, "A321neo", 1_899_900, "INR"),
    ("IT202", "DXB", "DEL", "14:30", 190, "A321neo", 95_000, "AED"),
    ("IT203", "BOM", "LHR", "02:10", 580, "B787-9", 5_200_000, "INR"),
    ("IT204", "LHR", "BOM", "11:15", 560, "B787-9", 52_000, "GBP"),
    ("IT205", "DEL", "SIN", "23:00", 340, "A350-900", 2_450_000, "INR"),
    ("IT206", "SIN", "HND", "08:30", 410, "A350-900", 78_000, "SGD"),
    ("IT301", "LHR", "JFK", "08:00", 480, "B787-9", 45_000, "GBP"),
    ("IT302", "JFK", "LHR", "18:30", 420, "B787-9", 59_900, "USD"),
    ("IT303", "CDG", "JFK", "10:30", 510, "A350-900", 54_900, "EUR"),
    ("IT304", "FRA", "ORD", "13:15", 560, "A350-900", 61_900, "EUR"),
    ("IT305", "AMS", "ATL", "10:05", 590, "B787-9", 57_900, "EUR"),
    ("IT306", "MAD", "CDG", "07:10", 125, "A320neo", 12_900, "EUR"),
    ("IT307", "CDG", "FRA", "08:40", 75, "E190", 9_900, "EUR"),
    ("IT308", "IST", "DOH", "01:35", 240, "A321neo", 24_900, "EUR"),
    ("IT309", "DOH", "SYD", "20:10", 840, "A350-900", 149_900, "USD"),
    ("IT401", "JFK", "LAX", "07:00", 380, "B737-8", 32_900, "USD"),
    ("IT402", "LAX", "SFO", "12:00", 85, "E190", 11_900, "USD"),
    ("IT403", "SFO", "ORD", "09:30", 255, "B737-8", 24_900, "USD"),
    ("IT404", "ORD", "ATL", "16:45", 120, "A320neo", 15_900, "USD"),
    ("IT405", "HKG", "BKK", "10:00", 170, "A321neo", 249_900, "HKD"),
    ("IT406", "BKK", "SIN", "15:30", 145, "A320neo", 689_900, "THB"),
];

/// The demo accounts: role, email, username, name, password. Local data only: anyone who reads
/// this file knows them, which is the point.
const ACCOUNTS: &[(Role, &str, &str, &str, &str)] = &[
    (
        Role::Staff,
        "staff@demo.itinera.test",
        "demo-staff",
        "Demo Staff",
        "harbour-lantern-staff-7",
    ),
    (
        Role::Customer,
        "customer@demo.itinera.test",
        "demo-customer",
        "Demo Customer",
        "harbour-lantern-guest-7",
    ),
];

/// The rental fleet: plate, VIN, manufacturer, model, year, category, daily rate in euro cents,
/// mileage.
type Car = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    i64,
    &'static str,
    i64,
    i64,
);

#[rustfmt::skip]
const CARS: &[Car] = &[
    ("B-IT 1001", "WVWZZZAUZLW000101", "Volkswagen", "Polo", 2023, "economy", 3_900, 18_250),
    ("B-IT 1002", "VF1RJA00066000102", "Renault", "Clio", 2024, "economy", 3_700, 9_400),
    ("B-IT 1003", "WVWZZZ1KZCW000103", "Volkswagen", "Golf", 2024, "compact", 4_900, 12_100),
    ("B-IT 1004", "JTDKB20U093000104", "Toyota", "Corolla", 2023, "compact", 4_700, 31_800),
    ("B-IT 1005", "TMBJJ7NE8L0000105", "Skoda", "Octavia", 2025, "midsize", 5_900, 2_300),
    ("B-IT 1006", "WBA5R11070FH00106", "BMW", "3 Series", 2024, "midsize", 7_900, 14_600),
    ("B-IT 1007", "JTMRWRFV10D000107", "Toyota", "RAV4", 2024, "suv", 8_400, 22_700),
    ("B-IT 1008", "WVGZZZ5NZMW000108", "Volkswagen", "Tiguan", 2025, "suv", 8_900, 4_100),
    ("B-IT 1009", "WDB9066331S000109", "Mercedes-Benz", "Sprinter", 2022, "van", 11_900, 58_900),
    ("B-IT 1010", "VF3VEAHXKHZ000110", "Peugeot", "Traveller", 2023, "van", 10_500, 40_200),
    ("B-IT 1011", "WDD2130041A000111", "Mercedes-Benz", "E-Class", 2025, "luxury", 15_900, 3_500),
    ("B-IT 1012", "WBA7T21020C000112", "BMW", "7 Series", 2024, "luxury", 19_900, 8_800),
];

/// Rental customers: name, email, phone, licence number, licence expiry; the demo customer's
/// account gets the profile of its own email, linked to it.
#[rustfmt::skip]
const CUSTOMERS: &[(&str, &str, &str, &str, &str)] = &[
    ("Demo Customer", "customer@demo.itinera.test", "+49 30 901820", "B072RRE2I55", "2032-06-30"),
    ("Ingrid Bergman", "ingrid.bergman@example.com", "+46 8 555 010 20", "SE-19850829-4711", "2030-08-29"),
    ("Mahmoud Darwish", "mahmoud.darwish@example.com", "+970 2 555 0142", "PS-0313-1941", "2029-03-13"),
];

/// What a load did: how many records it created, and the accounts to sign in with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DemoReport {
    pub airports_created: usize,
    pub airplanes_created: usize,
    pub flights_created: usize,
    pub accounts_created: usize,
    pub cars_created: usize,
    pub customers_created: usize,
    /// Role, email and password of every demo account, created now or before.
    pub accounts: Vec<(Role, &'static str, &'static str)>,
}

/// Why the demo data could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A value of the data set does not parse: a mistake in this file.
    #[error("the demo data set holds an invalid {what} ({value}): {problem}")]
    Data {
        what: &'static str,
        value: String,
        problem: String,
    },
    #[error("the store refused the demo data")]
    Domain(#[from] DomainError),
}

/// `result`, the check of the data set's `value`, or the error naming what of the set is wrong.
fn checked<T>(
    what: &'static str,
    value: impl std::fmt::Display,
    result: Result<T, String>,
) -> Result<T, DemoError> {
    result.map_err(|problem| DemoError::Data {
        what,
        value: value.to_string(),
        problem,
    })
}

/// The data set's text `value` read by `parser`.
fn parse<T>(
    what: &'static str,
    value: &str,
    parser: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, DemoError> {
    checked(what, value, parser(value))
}

/// Loads the demo data set through `services`, scheduling flights for the days after `today`'s
/// date; what exists already is left as it is.
pub async fn load(services: &Services, now: DateTime<Utc>) -> Result<DemoReport, DemoError> {
    let mut report = DemoReport::default();
    let context = RequestContext {
        request_id: format!("demo-{}", services.ids.new_id()),
        principal: None,
    };
    let mut airports = Vec::new();
    for &(code, name, city, country, zone) in AIRPORTS {
        let code = parse("airport code", code, AirportCode::parse)?;
        let airport = match airports::get_airport(&*services.store, &code).await {
            Ok(airport) => airport,
            Err(DomainError::NotFound { .. }) => {
                let new = NewAirport {
                    code,
                    name: parse("airport name", name, PlaceName::parse)?,
                    city: parse("city", city, PlaceName::parse)?,
                    country: parse("country", country, CountryCode::parse)?,
                    time_zone: parse("time zone", zone, TimeZone::parse)?,
                };
                report.airports_created += 1;
                let (store, clock, ids) = services.ports();
                airports::create_airport(store, clock, ids, &context, new).await?
            }
            Err(other) => return Err(other.into()),
        };
        airports.push(airport);
    }
    let mut fleet = Vec::new();
    for &(model, seats) in FLEET {
        let model_number = parse("model number", model, ModelNumber::parse)?;
        let (id, created) = airplane(services, &context, model_number.clone(), seats).await?;
        report.airplanes_created += usize::from(created);
        fleet.push((model_number, id));
    }
    for route in ROUTES {
        report.flights_created +=
            schedule(services, &context, route, &airports, &fleet, now).await?;
    }
    for &(role, email, username, name, password) in ACCOUNTS {
        let new = NewAccount {
            email: parse("email", email, Email::parse)?,
            username: parse("username", username, Username::parse)?,
            password: parse("password", password, Password::parse)?,
            name: parse("name", name, PersonName::parse)?,
        };
        let (store, clock, ids) = services.ports();
        let created =
            accounts::provision_user(store, clock, ids, &services.passwords, new, role).await?;
        report.accounts_created += usize::from(created.is_some());
        report.accounts.push((role, email, password));
    }
    for car in CARS {
        report.cars_created += usize::from(rental_car(services, &context, car, now).await?);
    }
    for customer in CUSTOMERS {
        report.customers_created += usize::from(customer_of(services, &context, customer).await?);
    }
    Ok(report)
}

/// Creates the car of `car` unless its plate is taken; `true` when it was created now.
async fn rental_car(
    services: &Services,
    context: &RequestContext,
    car: &Car,
    now: DateTime<Utc>,
) -> Result<bool, DemoError> {
    let &(plate, vin, manufacturer, model, year, category, rate, mileage) = car;
    let license_plate = parse("licence plate", plate, LicencePlate::parse)?;
    if cars::car_with_plate(&*services.store, &license_plate)
        .await?
        .is_some()
    {
        return Ok(false);
    }
    let euro = parse("currency", "EUR", Currency::parse)?;
    let rate = checked(
        "daily rate",
        rate,
        Money::new(rate, euro).and_then(DailyRate::new),
    )?;
    let new = NewCar {
        license_plate,
        vin: parse("VIN", vin, Vin::parse)?,
        manufacturer: parse("manufacturer", manufacturer, Manufacturer::parse)?,
        model: parse("car model", model, CarModel::parse)?,
        year: checked("model year", year, ModelYear::new(year, now))?,
        category: parse("category", category, CarCategory::parse)?,
        daily_rate: rate,
        mileage: checked("mileage", mileage, Mileage::try_from(mileage))?,
    };
    let (store, clock, ids) = services.ports();
    cars::create_car(store, clock, ids, context, new).await?;
    Ok(true)
}

/// Creates the rental customer of `customer` unless one has the email, linked to the account of
/// the same email if there is one; `true` when it was created now.
async fn customer_of(
    services: &Services,
    context: &RequestContext,
    customer: &(&str, &str, &str, &str, &str),
) -> Result<bool, DemoError> {
    let &(name, email, phone, licence, expiry) = customer;
    let email = parse("email", email, Email::parse)?;
    let filter = CustomerFilter {
        email: Some(email.clone()),
    };
    let page =
        customers::list_customers(&*services.store, &filter, PageLimit::default(), None).await?;
    if !page.items.is_empty() {
        return Ok(false);
    }
    let login = LoginName::Email(email.clone());
    let new = NewCustomer {
        name: parse("name", name, PersonName::parse)?,
        user_id: accounts::account_of(&*services.store, &login).await?,
        email,
        phone: parse("phone", phone, Phone::parse)?,
        licence_number: parse("licence number", licence, LicenceNumber::parse)?,
        licence_expiry: parse("licence expiry", expiry, Day::parse)?,
    };
    let (store, clock, ids) = services.ports();
    customers::create_customer(store, clock, ids, context, new).await?;
    Ok(true)
}

/// The fleet's airplane of `model_number` (the first listed under it), created when there is
/// none; `true` when it was created now.
async fn airplane(
    services: &Services,
    context: &RequestContext,
    model_number: ModelNumber,
    seats: i64,
) -> Result<(AirplaneId, bool), DemoError> {
    let filter = AirplaneFilter::new(None, None, Some(model_number.clone()))
        .expect("a filter without capacity bounds is valid");
    let page =
        airplanes::list_airplanes(&*services.store, &filter, PageLimit::default(), None).await?;
    if let Some(existing) = page.items.into_iter().next() {
        return Ok((existing.id, false));
    }
    let new = NewAirplane {
        model_number,
        capacity: checked("capacity", seats, Capacity::try_from(seats))?,
    };
    let (store, clock, ids) = services.ports();
    let created = airplanes::create_airplane(store, clock, ids, context, new).await?;
    Ok((created.id, true))
}

/// Creates the daily flights of `route` that do not exist yet over the schedule's days; returns
/// how many it created.
async fn schedule(
    services: &Services,
    context: &RequestContext,
    route: &Route,
    airports: &[Airport],
    fleet: &[(ModelNumber, AirplaneId)],
    now: DateTime<Utc>,
) -> Result<usize, DemoError> {
    let &(number, from, to, departs, minutes, model, fare, currency) = route;
    let number = parse("flight number", number, FlightNumber::parse)?;
    let origin = airports
        .iter()
        .find(|airport| airport.code.as_str() == from)
        .ok_or_else(|| missing("origin", from))?;
    let leg = Leg::new(
        parse("airport code", from, AirportCode::parse)?,
        parse("airport code", to, AirportCode::parse)?,
    );
    let leg = checked("route", format!("{from}-{to}"), leg)?;
    let departs = parse("departure time", departs, |text| {
        NaiveTime::parse_from_str(text, "%H:%M").map_err(|error| error.to_string())
    })?;
    let airplane_id = fleet
        .iter()
        .find(|(model_number, _)| model_number.as_str() == model)
        .map(|(_, id)| id.clone())
        .ok_or_else(|| missing("model number", model))?;
    let currency = parse("currency", currency, Currency::parse)?;
    let price = checked("fare", fare, Money::new(fare, currency))?;
    let today = origin.time_zone.local_date(now);
    let mut created = 0;
    for day in 1..=SCHEDULE_DAYS {
        let date = today + Days::new(day);
        // A departure in a daylight-saving gap leaves that day out.
        let Some(departure) = origin.time_zone.instant(date, departs) else {
            continue;
        };
        let search = FlightSearch::new(leg.clone(), date, None, None, None, SearchOrder::Departure)
            .expect("a search without fare bounds is valid");
        if scheduled(services, &search, &number).await? {
            continue;
        }
        let schedule = Schedule::new(departure, departure + TimeDelta::minutes(minutes))
            .expect("a positive flight time arrives after it departs");
        let new = NewFlight {
            flight_number: number.clone(),
            airplane_id: airplane_id.clone(),
            leg: leg.clone(),
            schedule,
            price: price.clone(),
        };
        let (store, clock, ids) = services.ports();
        flights::create_flight(store, clock, ids, context, new).await?;
        created += 1;
    }
    Ok(created)
}

/// Whether a flight numbered `number` departs on the search's route and day: every page is
/// looked at, so flights added by hand on the same route cannot hide it.
async fn scheduled(
    services: &Services,
    search: &FlightSearch,
    number: &FlightNumber,
) -> Result<bool, DomainError> {
    let mut start_after = None;
    loop {
        let page =
            flights::search_flights(&*services.store, search, PageLimit::default(), start_after)
                .await?;
        if page
            .items
            .iter()
            .any(|flight| &flight.flight_number == number)
        {
            return Ok(true);
        }
        match page.next {
            Some(next) => start_after = Some(next),
            None => return Ok(false),
        }
    }
}

fn missing(what: &'static str, value: &str) -> DemoError {
    DemoError::Data {
        what,
        value: value.to_owned(),
        problem: "is not in the data set".into(),
    }
}

/// Whether the demo data set was asked for: the `--demo` argument or `ITINERA_DEMO=1`.
pub fn requested(mut args: impl Iterator<Item = String>, variable: Option<String>) -> bool {
    args.any(|arg| arg == "--demo") || variable.is_some_and(|value| value == "1")
}

/// The sign-in lines the server prints after a load.
pub fn credentials(report: &DemoReport) -> String {
    report
        .accounts
        .iter()
        .map(|(role, email, password)| {
            format!("  {:<9} {email}  password: {password}\n", role.as_str())
        })
        .collect()
}
