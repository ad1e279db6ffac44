//! The route table: the single source of truth for the API's surface.
//!
//! Every route is a `static` of its own, and [`ROUTES`] lists them by reference. The local API
//! and the preflight function route by the whole table; each Lambda binary names its one route
//! directly, so it links that route's handler and no other. A test proves that `template.yaml`
//! declares exactly these functions, paths, methods and store permissions, and gives the cursor
//! key and the payment gateway to exactly the routes that page and that move money. Adding an
//! endpoint means one handler (with the `Field` lists it accepts), one static here (listed in
//! [`ROUTES`]), its entry in `infra/xtask/src/catalog.rs` and its line in
//! `openapi/operations.rs`; `cargo run -p xtask -- generate` writes its binary, its sample event
//! and its function in the template, and `cargo run -p xtask -- openapi` its operation in
//! `docs/openapi.json`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use http::Method;
use itinera::identity::Principal;
pub use itinera::storage::StoreAccess;

use super::caching::Caching;
use super::handlers::{
    self, accounts, airplanes, airports, audit, auth, bookings, cars, catalogue, contracts,
    customers, fleet, flights, health, notifications, reports,
};
use super::problem::ApiError;
use super::reply::Reply;
use super::request::Input;
use super::services::Services;
use itinera::airplanes::AirplaneId;
use itinera::airports::AirportCode;
use itinera::cars::CarId;
use itinera::customers::CustomerId;
use itinera::fleet::{Insurance, Registration};
use itinera::flights::FlightId;

/// The future a handler returns.
pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<Reply, ApiError>> + Send>>;
/// A handler: decode the input, run one use case, shape the reply.
pub type Handler = fn(Arc<Services>, Input) -> HandlerFuture;

/// Who may call a route. Roles nest: an admin may call every staff route, staff every customer
/// route. Ownership (a customer reaching only their own bookings, contracts, profile) is checked
/// by the use cases, which answer 404 for another user's resource so ids cannot be probed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without credentials.
    Anonymous,
    /// Any signed-in user: customer, staff or admin.
    Customer,
    /// Staff or admin.
    Staff,
    /// Admins only.
    Admin,
}

/// Why a caller may not use a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Denial {
    /// Nobody is signed in (401).
    Unauthenticated,
    /// Signed in with a role below the route's (403).
    Forbidden,
}

impl Access {
    /// Whether `principal` (or an anonymous caller) may call a route with this access.
    pub fn admits(self, principal: Option<&Principal>) -> Result<(), Denial> {
        let Some(principal) = principal else {
            return match self {
                Access::Anonymous => Ok(()),
                _ => Err(Denial::Unauthenticated),
            };
        };
        let allowed = match self {
            Access::Anonymous | Access::Customer => true,
            Access::Staff => principal.is_staff(),
            Access::Admin => principal.is_admin(),
        };
        if allowed {
            Ok(())
        } else {
            Err(Denial::Forbidden)
        }
    }
}

/// Which rate-limit tier a route counts against (besides the global one every request counts in).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateTier {
    /// Only the global per-client tier.
    Global,
    /// The tier for requests that change data.
    Write,
    /// Sign-in, registration, token refresh and password change (a current-password check is a
    /// sign-in attempt): counted per client and per account, failures only; also counted in the
    /// write tier.
    Auth,
}

/// One endpoint.
#[derive(Debug)]
pub struct Route {
    /// The Lambda function and binary name (kebab-case).
    pub function: &'static str,
    pub method: Method,
    /// The path template, with `{name}` parameters (the syntax API Gateway uses too).
    pub path: &'static str,
    pub access: Access,
    pub rate_tier: RateTier,
    pub store_access: StoreAccess,
    /// Whether the function signs access tokens, and so holds the private signing key.
    pub signs_tokens: bool,
    /// Whether the function sends jobs to the queue; the template grants `sqs:SendMessage` to
    /// exactly these.
    pub enqueues_jobs: bool,
    /// Whether the function charges or refunds through the payment gateway. Exactly these get
    /// `PAYMENT_GATEWAY` from the template, and refuse to start without a valid one; every other
    /// function holds a gateway that refuses all payments.
    pub moves_money: bool,
    /// Whether the function answers a list one page at a time, and so signs and verifies cursors.
    /// Exactly these get `CURSOR_SIGNING_KEY`; the others never see it.
    pub pages: bool,
    /// What the function does with uploaded files, if anything. Exactly these get `BLOB_BUCKET`
    /// and the S3 grants their [`FileAccess`] names; the others hold a blob store that refuses
    /// every request.
    pub files: Option<FileAccess>,
    /// Whether, and how long, shared caches may keep the route's successful answers: only
    /// anonymous `GET`s (a test enforces it), whose answers are the same for every caller. The
    /// template gives exactly these a stage cache entry, keyed on
    /// [`cache_key`](crate::caching::cache_key).
    pub caching: Option<Caching>,
    pub handler: Handler,
}

/// What a route does with uploaded files, under one scope: a key pattern relative to the
/// prefixes of the attachments module, with `*` for each id (`cars/*/insurance/*`). The template
/// grants each function exactly the S3 actions its access needs on exactly those keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileAccess {
    /// Hands out upload URLs for keys under `uploads/<scope>/`.
    Upload(&'static str),
    /// Confirms uploads: reads them under `uploads/<scope>/` and moves them to `files/<scope>/`.
    Confirm(&'static str),
    /// Hands out download URLs for keys under `files/<scope>/`.
    Download(&'static str),
}

impl Route {
    /// A route that signs no tokens, sends no jobs, moves no money and answers no pages; the
    /// flag methods below turn those on. Const, so that routes stay statics the linker can drop.
    #[allow(clippy::too_many_arguments)]
    pub const fn new(
        function: &'static str,
        method: Method,
        path: &'static str,
        access: Access,
        rate_tier: RateTier,
        store_access: StoreAccess,
        handler: Handler,
    ) -> Self {
        Self {
            function,
            method,
            path,
            access,
            rate_tier,
            store_access,
            signs_tokens: false,
            enqueues_jobs: false,
            moves_money: false,
            pages: false,
            files: None,
            caching: None,
            handler,
        }
    }

    /// The route signs access tokens ([`Route::signs_tokens`]).
    pub const fn signs_tokens(mut self) -> Self {
        self.signs_tokens = true;
        self
    }

    /// The route sends jobs to the queue ([`Route::enqueues_jobs`]).
    pub const fn enqueues_jobs(mut self) -> Self {
        self.enqueues_jobs = true;
        self
    }

    /// The route charges or refunds ([`Route::moves_money`]).
    pub const fn moves_money(mut self) -> Self {
        self.moves_money = true;
        self
    }

    /// The route answers a list in pages ([`Route::pages`]).
    pub const fn pages(mut self) -> Self {
        self.pages = true;
        self
    }

    /// The route hands out upload URLs for files under `scope` ([`FileAccess::Upload`]).
    pub const fn files_upload(mut self, scope: &'static str) -> Self {
        self.files = Some(FileAccess::Upload(scope));
        self
    }

    /// The route confirms uploads of files under `scope` ([`FileAccess::Confirm`]).
    pub const fn files_confirm(mut self, scope: &'static str) -> Self {
        self.files = Some(FileAccess::Confirm(scope));
        self
    }

    /// The route hands out download URLs for files under `scope` ([`FileAccess::Download`]).
    pub const fn files_download(mut self, scope: &'static str) -> Self {
        self.files = Some(FileAccess::Download(scope));
        self
    }

    /// Shared caches may keep the route's successful answers `ttl_seconds` ([`Route::caching`]).
    pub const fn cacheable(mut self, ttl_seconds: u32) -> Self {
        self.caching = Some(Caching { ttl_seconds });
        self
    }
}

// How long shared caches keep the anonymous reads. A cached answer is at most this old; nothing
// is decided on it: a booking or a rental contract checks seats and days inside its own
// transaction, so a stale count can mislead a search for this long but never oversell. An
// entity's own change does not shorten the wait: a cache has no way to hear of it.

/// Flight search: seat counts and prices change with every booking, and a search is the most
/// repeated read (many clients ask the same route on the same day). Thirty seconds keeps the
/// counts close enough that a sold-out flight is rarely offered for long, while one popular
/// query costs the functions two invocations a minute however many clients repeat it.
pub const FLIGHT_SEARCH_TTL_SECONDS: u32 = 30;
/// One flight: its seat count moves as its search results do, so it ages as they do.
pub const FLIGHT_TTL_SECONDS: u32 = 30;
/// Airports: staff edit them a few times a year, and every search form lists them, so even five
/// minutes serves nearly every read from the cache (99 % at a few requests a second). Not longer:
/// API Gateway keeps whatever the function answers, a 503 of a store hiccup included, for the
/// whole TTL, and a renamed airport shows its old name that long.
pub const AIRPORTS_TTL_SECONDS: u32 = 300;
/// The car catalogue: which cars are free for some days changes only when a contract is
/// reserved, re-dated or cancelled, far less often than seats; a minute.
pub const CATALOGUE_TTL_SECONDS: u32 = 60;
/// One car's taken days: asked right before reserving it, so as short as flight search.
pub const CAR_AVAILABILITY_TTL_SECONDS: u32 = 30;

/// Declares one route as a static, documented by its method and path:
/// `route! { NAME: METHOD "/path" -> "function-name", Access, RateTier, StoreAccess, handler; flags }`,
/// where the flags (any of `signs_tokens`, `enqueues_jobs`, `moves_money`, `pages`, and at most
/// one of `files_upload("scope")`, `files_confirm("scope")`, `files_download("scope")`, and
/// `cacheable(TTL_SECONDS)`) are optional.
macro_rules! route {
    (
        $name:ident: $method:ident $path:literal -> $function:literal,
        $access:ident, $tier:ident, $store:ident, $handler:path
        $(; $($flag:ident $(($argument:expr))?),+)?
    ) => {
        #[doc = concat!("`", stringify!($method), " ", $path, "`.")]
        pub static $name: Route = Route::new(
            $function,
            Method::$method,
            $path,
            Access::$access,
            RateTier::$tier,
            StoreAccess::$store,
            |services, input| Box::pin($handler(services, input)),
        )
        $($(.$flag($($argument)?))+)?;
    };
}

/// The function that answers CORS preflight requests for every path, which API Gateway's static
/// CORS support cannot do for a list of origins.
pub const PREFLIGHT_FUNCTION: &str = "preflight";
/// The Lambda authorizer that verifies access tokens in front of every non-anonymous route.
pub const AUTHORIZER_FUNCTION: &str = "authorizer";
/// Functions in the template that are not routes.
pub const PLATFORM_FUNCTIONS: &[&str] = &[PREFLIGHT_FUNCTION, AUTHORIZER_FUNCTION];

/// Every route of the API. Each is a static of its own, which its function's binary names
/// directly, so that a binary links its own handler and no other.
pub static ROUTES: &[&Route] = &[
    &HEALTH,
    &CREATE_AIRPLANE,
    &LIST_AIRPLANES,
    &GET_AIRPLANE,
    &UPDATE_AIRPLANE,
    &DELETE_AIRPLANE,
    &CREATE_AIRPORT,
    &LIST_AIRPORTS,
    &GET_AIRPORT,
    &UPDATE_AIRPORT,
    &DELETE_AIRPORT,
    &CREATE_FLIGHT,
    &SEARCH_FLIGHTS,
    &GET_FLIGHT,
    &UPDATE_FLIGHT,
    &DELETE_FLIGHT,
    &REGISTER,
    &LOGIN,
    &REFRESH,
    &LOGOUT,
    &GET_MY_PROFILE,
    &UPDATE_MY_PROFILE,
    &CHANGE_MY_PASSWORD,
    &LIST_MY_ACTIVITY,
    &LIST_USERS,
    &GET_USER,
    &UPDATE_USER,
    &LIST_AUDIT_ENTRIES,
    &LIST_NOTIFICATIONS,
    &READ_NOTIFICATION,
    &CREATE_BOOKING,
    &LIST_BOOKINGS,
    &GET_BOOKING,
    &PAY_BOOKING,
    &CANCEL_BOOKING,
    &CREATE_CAR,
    &LIST_CARS,
    &GET_CAR,
    &UPDATE_CAR,
    &DELETE_CAR,
    &GET_CAR_AVAILABILITY,
    &CREATE_INSURANCE,
    &LIST_INSURANCE,
    &GET_INSURANCE,
    &UPDATE_INSURANCE,
    &DELETE_INSURANCE,
    &UPLOAD_INSURANCE_DOCUMENT,
    &CONFIRM_INSURANCE_DOCUMENT,
    &GET_INSURANCE_DOCUMENT,
    &LIST_EXPIRING_INSURANCE,
    &CREATE_REGISTRATION,
    &LIST_REGISTRATIONS,
    &GET_REGISTRATION,
    &UPDATE_REGISTRATION,
    &DELETE_REGISTRATION,
    &UPLOAD_REGISTRATION_DOCUMENT,
    &CONFIRM_REGISTRATION_DOCUMENT,
    &GET_REGISTRATION_DOCUMENT,
    &LIST_EXPIRING_REGISTRATIONS,
    &CREATE_SERVICE_RECORD,
    &LIST_SERVICE_RECORDS,
    &SEARCH_CATALOGUE,
    &CREATE_CUSTOMER,
    &LIST_CUSTOMERS,
    &GET_CUSTOMER,
    &UPDATE_CUSTOMER,
    &DELETE_CUSTOMER,
    &CREATE_MY_CUSTOMER,
    &GET_MY_CUSTOMER,
    &UPDATE_MY_CUSTOMER,
    &CREATE_CONTRACT,
    &LIST_CONTRACTS,
    &GET_CONTRACT,
    &UPDATE_CONTRACT,
    &CANCEL_CONTRACT,
    &PICK_UP_CONTRACT,
    &RETURN_CONTRACT,
    &CREATE_ISSUE,
    &LIST_ISSUES,
    &GET_ISSUE,
    &UPDATE_ISSUE,
    &START_ISSUE_PHOTO,
    &CONFIRM_ISSUE_PHOTO,
];

route!(HEALTH: GET "/v1/health" -> "health", Anonymous, Global, Read, health::check);

route!(
    CREATE_AIRPLANE: POST "/v1/airplanes" -> "create-airplane",
    Staff, Write, ReadWrite, airplanes::create
);

route!(
    LIST_AIRPLANES: GET "/v1/airplanes" -> "list-airplanes",
    Customer, Global, Read, airplanes::list; pages
);

route!(
    GET_AIRPLANE: GET "/v1/airplanes/{id}" -> "get-airplane",
    Customer, Global, Read, handlers::fetch::<AirplaneId>
);

route!(
    UPDATE_AIRPLANE: PATCH "/v1/airplanes/{id}" -> "update-airplane",
    Staff, Write, ReadWrite, airplanes::update
);

route!(
    DELETE_AIRPLANE: DELETE "/v1/airplanes/{id}" -> "delete-airplane",
    Staff, Write, ReadWrite, handlers::remove::<AirplaneId>
);

route!(
    CREATE_AIRPORT: POST "/v1/airports" -> "create-airport",
    Staff, Write, ReadWrite, airports::create
);

route!(
    LIST_AIRPORTS: GET "/v1/airports" -> "list-airports",
    Anonymous, Global, Read, airports::list; pages, cacheable(AIRPORTS_TTL_SECONDS)
);

route!(
    GET_AIRPORT: GET "/v1/airports/{code}" -> "get-airport",
    Anonymous, Global, Read, handlers::fetch::<AirportCode>; cacheable(AIRPORTS_TTL_SECONDS)
);

route!(
    UPDATE_AIRPORT: PATCH "/v1/airports/{code}" -> "update-airport",
    Staff, Write, ReadWrite, airports::update
);

route!(
    DELETE_AIRPORT: DELETE "/v1/airports/{code}" -> "delete-airport",
    Staff, Write, ReadWrite, handlers::remove::<AirportCode>
);

route!(CREATE_CAR: POST "/v1/cars" -> "create-car", Staff, Write, ReadWrite, cars::create);

route!(LIST_CARS: GET "/v1/cars" -> "list-cars", Staff, Global, Read, cars::list; pages);

route!(GET_CAR: GET "/v1/cars/{id}" -> "get-car", Staff, Global, Read, handlers::fetch::<CarId>);

route!(UPDATE_CAR: PATCH "/v1/cars/{id}" -> "update-car", Staff, Write, ReadWrite, cars::update);

route!(
    DELETE_CAR: DELETE "/v1/cars/{id}" -> "delete-car",
    Staff, Write, ReadWrite, handlers::remove::<CarId>
);

route!(
    GET_CAR_AVAILABILITY: GET "/v1/cars/{id}/availability" -> "get-car-availability",
    Anonymous, Global, Read, catalogue::availability; cacheable(CAR_AVAILABILITY_TTL_SECONDS)
);

// A car's papers and service history, and the fleet's papers expiring soon: staff only. The
// paper handlers are written once and named here with their kind.
route!(
    CREATE_INSURANCE: POST "/v1/cars/{id}/insurance" -> "create-insurance",
    Staff, Write, ReadWrite, fleet::create_paper::<Insurance>
);
route!(
    LIST_INSURANCE: GET "/v1/cars/{id}/insurance" -> "list-insurance",
    Staff, Global, Read, fleet::list_papers::<Insurance>; pages
);
route!(
    GET_INSURANCE: GET "/v1/cars/{id}/insurance/{insuranceId}" -> "get-insurance",
    Staff, Global, Read, fleet::get_paper::<Insurance>
);
route!(
    UPDATE_INSURANCE: PATCH "/v1/cars/{id}/insurance/{insuranceId}" -> "update-insurance",
    Staff, Write, ReadWrite, fleet::update_paper::<Insurance>
);
route!(
    DELETE_INSURANCE: DELETE "/v1/cars/{id}/insurance/{insuranceId}" -> "delete-insurance",
    Staff, Write, ReadWrite, fleet::delete_paper::<Insurance>
);
route!(
    UPLOAD_INSURANCE_DOCUMENT: POST "/v1/cars/{id}/insurance/{insuranceId}/document" -> "upload-insurance-document",
    Staff, Write, ReadWrite, fleet::start_document::<Insurance>; files_upload("cars/*/insurance/*")
);
route!(
    CONFIRM_INSURANCE_DOCUMENT: POST "/v1/cars/{id}/insurance/{insuranceId}/document/confirm" -> "confirm-insurance-document",
    Staff, Write, ReadWrite, fleet::confirm_document::<Insurance>; files_confirm("cars/*/insurance/*")
);
route!(
    GET_INSURANCE_DOCUMENT: GET "/v1/cars/{id}/insurance/{insuranceId}/document" -> "get-insurance-document",
    Staff, Global, Read, fleet::get_document::<Insurance>; files_download("cars/*/insurance/*")
);
route!(
    LIST_EXPIRING_INSURANCE: GET "/v1/insurance" -> "list-expiring-insurance",
    Staff, Global, Read, fleet::list_expiring::<Insurance>; pages
);
route!(
    CREATE_REGISTRATION: POST "/v1/cars/{id}/registrations" -> "create-registration",
    Staff, Write, ReadWrite, fleet::create_paper::<Registration>
);
route!(
    LIST_REGISTRATIONS: GET "/v1/cars/{id}/registrations" -> "list-registrations",
    Staff, Global, Read, fleet::list_papers::<Registration>; pages
);
route!(
    GET_REGISTRATION: GET "/v1/cars/{id}/registrations/{registrationId}" -> "get-registration",
    Staff, Global, Read, fleet::get_paper::<Registration>
);
route!(
    UPDATE_REGISTRATION: PATCH "/v1/cars/{id}/registrations/{registrationId}" -> "update-registration",
    Staff, Write, ReadWrite, fleet::update_paper::<Registration>
);
route!(
    DELETE_REGISTRATION: DELETE "/v1/cars/{id}/registrations/{registrationId}" -> "delete-registration",
    Staff, Write, ReadWrite, fleet::delete_paper::<Registration>
);
route!(
    UPLOAD_REGISTRATION_DOCUMENT: POST "/v1/cars/{id}/registrations/{registrationId}/document" -> "upload-registration-document",
    Staff, Write, ReadWrite, fleet::start_document::<Registration>; files_upload("cars/*/registrations/*")
);
route!(
    CONFIRM_REGISTRATION_DOCUMENT: POST "/v1/cars/{id}/registrations/{registrationId}/document/confirm" -> "confirm-registration-document",
    Staff, Write, ReadWrite, fleet::confirm_document::<Registration>; files_confirm("cars/*/registrations/*")
);
route!(
    GET_REGISTRATION_DOCUMENT: GET "/v1/cars/{id}/registrations/{registrationId}/document" -> "get-registration-document",
    Staff, Global, Read, fleet::get_document::<Registration>; files_download("cars/*/registrations/*")
);
route!(
    LIST_EXPIRING_REGISTRATIONS: GET "/v1/registrations" -> "list-expiring-registrations",
    Staff, Global, Read, fleet::list_expiring::<Registration>; pages
);
route!(
    CREATE_SERVICE_RECORD: POST "/v1/cars/{id}/service-records" -> "create-service-record",
    Staff, Write, ReadWrite, fleet::create_service_record
);
route!(
    LIST_SERVICE_RECORDS: GET "/v1/cars/{id}/service-records" -> "list-service-records",
    Staff, Global, Read, fleet::list_service_records; pages
);
route!(
    SEARCH_CATALOGUE: GET "/v1/catalogue" -> "search-catalogue",
    Anonymous, Global, Read, catalogue::search; pages, cacheable(CATALOGUE_TTL_SECONDS)
);

route!(
    CREATE_CUSTOMER: POST "/v1/customers" -> "create-customer",
    Staff, Write, ReadWrite, customers::create
);

route!(
    LIST_CUSTOMERS: GET "/v1/customers" -> "list-customers",
    Staff, Global, Read, customers::list; pages
);

route!(
    GET_CUSTOMER: GET "/v1/customers/{id}" -> "get-customer",
    Staff, Global, Read, handlers::fetch::<CustomerId>
);

route!(
    UPDATE_CUSTOMER: PATCH "/v1/customers/{id}" -> "update-customer",
    Staff, Write, ReadWrite, customers::update
);

route!(
    DELETE_CUSTOMER: DELETE "/v1/customers/{id}" -> "delete-customer",
    Staff, Write, ReadWrite, handlers::remove::<CustomerId>
);

route!(
    CREATE_MY_CUSTOMER: POST "/v1/customers/me" -> "create-my-customer",
    Customer, Write, ReadWrite, customers::create_mine
);

route!(
    GET_MY_CUSTOMER: GET "/v1/customers/me" -> "get-my-customer",
    Customer, Global, Read, customers::get_mine
);

route!(
    UPDATE_MY_CUSTOMER: PATCH "/v1/customers/me" -> "update-my-customer",
    Customer, Write, ReadWrite, customers::update_mine
);

// Customers reserve, read, re-date and cancel their own contracts (others' are 404s); staff
// anyone's, and only staff hand cars over and take them back.
route!(
    CREATE_CONTRACT: POST "/v1/contracts" -> "create-contract",
    Customer, Write, ReadWrite, contracts::create; enqueues_jobs
);

route!(
    LIST_CONTRACTS: GET "/v1/contracts" -> "list-contracts",
    Customer, Global, Read, contracts::list; pages
);

route!(
    GET_CONTRACT: GET "/v1/contracts/{id}" -> "get-contract",
    Customer, Global, Read, contracts::get
);

route!(
    UPDATE_CONTRACT: PATCH "/v1/contracts/{id}" -> "update-contract",
    Customer, Write, ReadWrite, contracts::update
);

route!(
    CANCEL_CONTRACT: POST "/v1/contracts/{id}/cancel" -> "cancel-contract",
    Customer, Write, ReadWrite, contracts::cancel
);

route!(
    PICK_UP_CONTRACT: POST "/v1/contracts/{id}/pickup" -> "pick-up-contract",
    Staff, Write, ReadWrite, contracts::pickup
);

route!(
    RETURN_CONTRACT: POST "/v1/contracts/{id}/return" -> "return-contract",
    Staff, Write, ReadWrite, contracts::give_back
);

// Customers report issues on cars they rent or rented and read their own reports (others' are
// 404s); staff report on any car, see every report and triage them. Filing a critical report on a
// rented car, and every status change, stage notices for the worker.
route!(
    CREATE_ISSUE: POST "/v1/cars/{id}/issues" -> "create-issue",
    Customer, Write, ReadWrite, reports::create; enqueues_jobs
);

route!(
    LIST_ISSUES: GET "/v1/issues" -> "list-issues",
    Customer, Global, Read, reports::list; pages
);

route!(
    GET_ISSUE: GET "/v1/issues/{id}" -> "get-issue",
    Customer, Global, Read, reports::get; files_download("issues/*/photos")
);

route!(
    UPDATE_ISSUE: PATCH "/v1/issues/{id}" -> "update-issue",
    Staff, Write, ReadWrite, reports::update; enqueues_jobs
);

// The reporter and staff add photos to a report: an upload URL, then the confirm.
route!(
    START_ISSUE_PHOTO: POST "/v1/issues/{id}/photos" -> "start-issue-photo",
    Customer, Write, ReadWrite, reports::start_photo; files_upload("issues/*/photos")
);

route!(
    CONFIRM_ISSUE_PHOTO: POST "/v1/issues/{id}/photos/confirm" -> "confirm-issue-photo",
    Customer, Write, ReadWrite, reports::confirm_photo; files_confirm("issues/*/photos")
);

route!(
    CREATE_FLIGHT: POST "/v1/flights" -> "create-flight",
    Staff, Write, ReadWrite, flights::create
);

route!(
    SEARCH_FLIGHTS: GET "/v1/flights" -> "search-flights",
    Anonymous, Global, Read, flights::search; pages, cacheable(FLIGHT_SEARCH_TTL_SECONDS)
);

route!(
    GET_FLIGHT: GET "/v1/flights/{id}" -> "get-flight",
    Anonymous, Global, Read, handlers::fetch::<FlightId>; cacheable(FLIGHT_TTL_SECONDS)
);

// Cancelling a booked flight sends the task that cancels its bookings.
route!(
    UPDATE_FLIGHT: PATCH "/v1/flights/{id}" -> "update-flight",
    Staff, Write, ReadWrite, flights::update; enqueues_jobs
);

route!(
    DELETE_FLIGHT: DELETE "/v1/flights/{id}" -> "delete-flight",
    Staff, Write, ReadWrite, handlers::remove::<FlightId>
);

route!(
    REGISTER: POST "/v1/auth/register" -> "register",
    Anonymous, Auth, ReadWrite, accounts::register
);

route!(
    LOGIN: POST "/v1/auth/login" -> "login",
    Anonymous, Auth, ReadWrite, auth::login; signs_tokens
);

route!(
    REFRESH: POST "/v1/auth/refresh" -> "refresh",
    Anonymous, Auth, ReadWrite, auth::refresh; signs_tokens
);

route!(LOGOUT: POST "/v1/auth/logout" -> "logout", Anonymous, Write, ReadWrite, auth::logout);

route!(
    GET_MY_PROFILE: GET "/v1/users/me" -> "get-my-profile",
    Customer, Global, Read, accounts::me
);

route!(
    UPDATE_MY_PROFILE: PATCH "/v1/users/me" -> "update-my-profile",
    Customer, Write, ReadWrite, accounts::update_me
);

route!(
    CHANGE_MY_PASSWORD: POST "/v1/users/me/password" -> "change-my-password",
    Customer, Auth, ReadWrite, accounts::change_password; signs_tokens
);

route!(
    LIST_MY_ACTIVITY: GET "/v1/users/me/activity" -> "list-my-activity",
    Customer, Global, Read, audit::my_activity; pages
);

route!(LIST_USERS: GET "/v1/users" -> "list-users", Admin, Global, Read, accounts::list; pages);

route!(GET_USER: GET "/v1/users/{id}" -> "get-user", Admin, Global, Read, accounts::get);

route!(
    UPDATE_USER: PATCH "/v1/users/{id}" -> "update-user",
    Admin, Write, ReadWrite, accounts::update
);

route!(
    LIST_AUDIT_ENTRIES: GET "/v1/audit" -> "list-audit-entries",
    Admin, Global, Read, audit::list; pages
);

route!(
    LIST_NOTIFICATIONS: GET "/v1/notifications" -> "list-notifications",
    Customer, Global, Read, notifications::list; pages
);

route!(
    READ_NOTIFICATION: POST "/v1/notifications/{id}/read" -> "read-notification",
    Customer, Write, ReadWrite, notifications::read
);

route!(
    CREATE_BOOKING: POST "/v1/bookings" -> "create-booking",
    Customer, Write, ReadWrite, bookings::create
);

route!(
    LIST_BOOKINGS: GET "/v1/bookings" -> "list-bookings",
    Customer, Global, Read, bookings::list; pages
);

route!(
    GET_BOOKING: GET "/v1/bookings/{id}" -> "get-booking",
    Customer, Global, Read, bookings::get
);

route!(
    PAY_BOOKING: POST "/v1/bookings/{id}/payment" -> "pay-booking",
    Customer, Write, ReadWrite, bookings::pay; enqueues_jobs, moves_money
);

route!(
    CANCEL_BOOKING: POST "/v1/bookings/{id}/cancel" -> "cancel-booking",
    Customer, Write, ReadWrite, bookings::cancel; enqueues_jobs, moves_money
);

/// The route a function serves.
pub fn route_of_function(function: &str) -> Option<&'static Route> {
    ROUTES
        .iter()
        .find(|route| route.function == function)
        .copied()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn function_names_and_method_path_pairs_are_unique() {
        let functions: HashSet<_> = ROUTES.iter().map(|route| route.function).collect();
        assert_eq!(functions.len(), ROUTES.len());
        let endpoints: HashSet<_> = ROUTES
            .iter()
            .map(|route| (&route.method, route.path))
            .collect();
        assert_eq!(endpoints.len(), ROUTES.len());
        assert!(
            PLATFORM_FUNCTIONS
                .iter()
                .all(|name| route_of_function(name).is_none())
        );
    }

    #[test]
    fn background_functions_are_not_routes() {
        for background in itinera::background::BACKGROUND_FUNCTIONS {
            assert!(
                ROUTES
                    .iter()
                    .all(|route| route.function != background.function),
                "{}",
                background.function
            );
        }
    }

    /// The static a binary names must be the route of that binary's function: each static is
    /// named after its function (`get-airplane` is `GET_AIRPLANE`), and the functions crate checks
    /// that each binary names the static of its own file name.
    #[test]
    fn each_route_static_is_named_after_its_function() {
        let source = include_str!("routes.rs");
        for route in ROUTES {
            let name = route.function.to_ascii_uppercase().replace('-', "_");
            let declaration = format!(
                "{name}: {} \"{}\" -> \"{}\",",
                route.method.as_str(),
                route.path,
                route.function
            );
            assert!(
                source.contains(&declaration),
                "{} is not declared as `pub static {name}`",
                route.function
            );
        }
    }

    #[test]
    fn function_names_are_kebab_case_and_paths_are_versioned() {
        for route in ROUTES {
            assert!(
                route
                    .function
                    .bytes()
                    .all(|byte| byte.is_ascii_lowercase() || byte == b'-'),
                "{}",
                route.function
            );
            assert!(route.path.starts_with("/v1/"), "{}", route.path);
        }
    }

    #[test]
    fn routes_that_page_read_collections_and_routes_that_move_money_write() {
        for route in ROUTES {
            if route.pages {
                assert_eq!(route.method, Method::GET, "{}", route.function);
                assert!(
                    !route.path.ends_with('}'),
                    "{} pages a collection",
                    route.function
                );
            }
            if route.moves_money {
                assert_eq!(
                    route.store_access,
                    StoreAccess::ReadWrite,
                    "{}",
                    route.function
                );
                assert_eq!(route.method, Method::POST, "{}", route.function);
            }
        }
    }

    #[test]
    fn access_nests_roles_and_needs_a_principal_beyond_anonymous() {
        use itinera::identity::{Role, UserId};
        let principal = |role| Principal {
            user_id: UserId::from(uuid::Uuid::nil()),
            role,
        };
        let (customer, staff, admin) = (
            principal(Role::Customer),
            principal(Role::Staff),
            principal(Role::Admin),
        );
        assert_eq!(Access::Anonymous.admits(None), Ok(()));
        for access in [Access::Customer, Access::Staff, Access::Admin] {
            assert_eq!(access.admits(None), Err(Denial::Unauthenticated));
        }
        assert_eq!(Access::Customer.admits(Some(&customer)), Ok(()));
        assert_eq!(
            Access::Staff.admits(Some(&customer)),
            Err(Denial::Forbidden)
        );
        assert_eq!(Access::Staff.admits(Some(&staff)), Ok(()));
        assert_eq!(Access::Admin.admits(Some(&staff)), Err(Denial::Forbidden));
        assert_eq!(Access::Admin.admits(Some(&admin)), Ok(()));
        assert_eq!(Access::Staff.admits(Some(&admin)), Ok(()));
    }

    /// A shared cache replays one caller's answer to every other: only answers that are the same
    /// for every caller may be kept, so only anonymous reads, and every one of them but health
    /// (which reports the store's state right now, to load balancers and probes).
    #[test]
    fn exactly_the_anonymous_reads_but_health_are_cacheable_within_the_gateways_ttl() {
        for route in ROUTES {
            let anonymous_read = route.access == Access::Anonymous && route.method == Method::GET;
            let expected = anonymous_read && route.function != HEALTH.function;
            assert_eq!(route.caching.is_some(), expected, "{}", route.function);
            if let Some(caching) = route.caching {
                assert_eq!(route.access, Access::Anonymous, "{}", route.function);
                assert_eq!(route.method, Method::GET, "{}", route.function);
                assert!(
                    (1..=crate::caching::MAX_TTL_SECONDS).contains(&caching.ttl_seconds),
                    "{}",
                    route.function
                );
            }
        }
    }

    #[test]
    fn routes_that_change_data_count_in_the_write_tier_and_may_write() {
        for route in ROUTES {
            let writes = !matches!(route.method, Method::GET | Method::HEAD);
            let write_tier = matches!(route.rate_tier, RateTier::Write | RateTier::Auth);
            assert_eq!(write_tier, writes, "{}", route.function);
            if !writes {
                assert_ne!(
                    route.store_access,
                    StoreAccess::ReadWrite,
                    "{}",
                    route.function
                );
            }
        }
    }
}
