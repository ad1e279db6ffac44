//! The route table: the single source of truth for the API's surface.
//!
//! Every route is a `static` of its own, and [`ROUTES`] lists them by reference. The local API
//! and the preflight function route by the whole table; each Lambda binary names its one route
//! directly, so it links that route's handler and no other. A test proves that `template.yaml`
//! declares exactly these functions, paths, methods and store permissions, and gives the cursor
//! key and the payment gateway to exactly the routes that page and that move money. Adding an
//! endpoint means one handler, one static here (listed in [`ROUTES`]), one binary in
//! `functions/src/bin/` naming that static, and one function in the template.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use http::Method;

use super::handlers::{
    accounts, airplanes, airports, audit, auth, bookings, flights, health, notifications,
};
use super::pipeline::Services;
use super::problem::ApiError;
use super::reply::Reply;
use super::request::Input;
use crate::identity::Principal;

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

/// What a route's function may do to the table; the template grants exactly this.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreAccess {
    None,
    /// `GetItem` and `Query`.
    Read,
    /// Reads plus `PutItem`, `UpdateItem`, `DeleteItem` and `ConditionCheckItem`.
    ReadWrite,
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
    pub handler: Handler,
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
];

/// `GET /v1/health`.
pub static HEALTH: Route = Route {
    function: "health",
    method: Method::GET,
    path: "/v1/health",
    access: Access::Anonymous,
    rate_tier: RateTier::Global,
    store_access: StoreAccess::Read,
    signs_tokens: false,
    enqueues_jobs: false,
    moves_money: false,
    pages: false,
    handler: |services, input| Box::pin(health::check(services, input)),
};

/// `POST /v1/airplanes`.
pub static CREATE_AIRPLANE: Route = Route {
    function: "create-airplane",
    method: Method::POST,
    path: "/v1/airplanes",
    access: Access::Staff,
    rate_tier: RateTier::Write,
    store_access: StoreAccess::ReadWrite,
    signs_tokens: false,
    enqueues_jobs: false,
    moves_money: false,
    pages: false,
    handler: |services, input| Box::pin(airplanes::create(services, input)),
};

/// `GET /v1/airplanes`.
pub static LIST_AIRPLANES: Route = Route {
    function: "list-airplanes",
    method: Method::GET,
    path: "/v1/airplanes",
    access: Access::Customer,
    rate_tier: RateTier::Global,
    store_access: StoreAccess::Read,
    signs_tokens: false,
    enqueues_jobs: false,
    moves_money: false,
    pages: true,
    handler: |services, input| Box::pin(airplanes::list(services, input)),
};

/// `GET /v1/airplanes/{id}`.
pub static GET_AIRPLANE: Route = Route {
    function: "get-airplane",
    method: Method::GET,
    path: "/v1/airplanes/{id}",
    access: Access::Customer,
    rate_tier: RateTier::Global,
    store_access: StoreAccess::Read,
    signs_tokens: false,
    enqueues_jobs: false,
    moves_money: false,
    pages: false,
    handler: |services, input| Box::pin(airplanes::get(services, input)),
};

/// `PATCH /v1/airplanes/{id}`.
pub static UPDATE_AIRPLANE: Route = Route {
    function: "update-airplane",
    method: Method::PATCH,
    path: "/v1/airplanes/{id}",
    access: Access::Staff,
    rate_tier: RateTier::Write,
    store_access: StoreAccess::ReadWrite,
    signs_tokens: false,
    enqueues_jobs: false,
    moves_money: false,
    pages: false,
    handler: |services, input| Box::pin(airplanes::update(services, input)),
};

/// `DELETE /v1/airplanes/{id}`.
pub static DELETE_AIRPLANE: Route = Route {
    function: "delete-airplane",
    method: Method::DELETE,
    path: "/v1/airplanes/{id}",
    access: Access::Staff,
    rate_tier: RateTier::Write,
    store_access: StoreAccess::ReadWrite,
    signs_tokens: false,
    enqueues_jobs: false,
    moves_money: false,
    pages: false,
    handler: |services, input| Box::pin(airplanes::delete(services, input)),
};

/// `POST /v1/airports`.
pub static CREATE_AIRPORT: Route = Route {
    function: "create-airport",
    method: Method::POST,
    path: "/v1/airports",
    access: Access::Staff,
    rate_tier: RateTier::Write,
    store_access: StoreAccess::ReadWrite,
    signs_tokens: false,
    enqueues_jobs: false,
    moves_money: false,
    pages: false,
    handler: |services, input| Box::pin(airports::create(services, input)),
};

/// `GET /v1/airports`.
pub static LIST_AIRPORTS: Route = Route {
    function: "list-airports",
    method: Method::GET,
    path: "/v1/airports",
    access: Access::Anonymous,
    rate_tier: RateTier::Global,
    store_access: StoreAccess::Read,
    signs_tokens: false,
    enqueues_jobs: false,
    moves_money: false,
    pages: true,
    handler: |services, input| Box::pin(airports::list(services, input)),
};

/// `GET /v1/airports/{code}`.
pub static GET_AIRPORT: Route = Route {
    function: "get-airport",
    method: Method::GET,
    path: "/v1/airports/{code}",
    access: Access::Anonymous,
    rate_tier: RateTier::Global,
    store_access: StoreAccess::Read,
    signs_tokens: false,
    enqueues_jobs: false,
    moves_money: false,
    pages: false,
    handler: |services, input| Box::pin(airports::get(services, input)),
};

/// `PATCH /v1/airports/{code}`.
pub static UPDATE_AIRPORT: Route = Route {
    function: "update-airport",
    method: Method::PATCH,
    path: "/v1/airports/{code}",
    access: Access::Staff,
    rate_tier: RateTier::Write,
    store_access: StoreAccess::ReadWrite,
    signs_tokens: false,
    enqueues_jobs: false,
    moves_money: false,
    pages: false,
    handler: |services, input| Box::pin(airports::update(services, input)),
};

/// `DELETE /v1/airports/{code}`.
pub static DELETE_AIRPORT: Route = Route {
    function: "delete-airport",
    method: Method::DELETE,
    path: "/v1/airports/{code}",
    access: Access::Staff,
    rate_tier: RateTier::Write,
    store_access: StoreAccess::ReadWrite,
    signs_tokens: false,
    enqueues_jobs: false,
    moves_money: false,
    pages: false,
    handler: |services, input| Box::pin(airports::delete(services, input)),
};

/// `POST /v1/flights`.
pub static CREATE_FLIGHT: Route = Route {
    function: "create-flight",
    method: Method::POST,
    path: "/v1/flights",
    access: Access::Staff,
    rate_tier: RateTier::Write,
    store_access: StoreAccess::ReadWrite,
    signs_tokens: false,
    enqueues_jobs: false,
    moves_money: false,
    pages: false,
    handler: |services, input| Box::pin(flights::create(services, input)),
};

/// `GET /v1/flights`.
pub static SEARCH_FLIGHTS: Route = Route {
    function: "search-flights",
    method: Method::GET,
    path: "/v1/flights",
    access: Access::Anonymous,
    rate_tier: RateTier::Global,
    store_access: StoreAccess::Read,
    signs_tokens: false,
    enqueues_jobs: false,
    moves_money: false,
    pages: true,
    handler: |services, input| Box::pin(flights::search(services, input)),
};

/// `GET /v1/flights/{id}`.
pub static GET_FLIGHT: Route = Route {
    function: "get-flight",
    method: Method::GET,
    path: "/v1/flights/{id}",
    access: Access::Anonymous,
    rate_tier: RateTier::Global,
    store_access: StoreAccess::Read,
    signs_tokens: false,
    enqueues_jobs: false,
    moves_money: false,
    pages: false,
    handler: |services, input| Box::pin(flights::get(services, input)),
};

/// `PATCH /v1/flights/{id}`.
pub static UPDATE_FLIGHT: Route = Route {
    function: "update-flight",
    method: Method::PATCH,
    path: "/v1/flights/{id}",
    access: Access::Staff,
    rate_tier: RateTier::Write,
    store_access: StoreAccess::ReadWrite,
    signs_tokens: false,
    // Cancelling a booked flight sends the task that cancels its bookings.
    enqueues_jobs: true,
    moves_money: false,
    pages: false,
    handler: |services, input| Box::pin(flights::update(services, input)),
};

/// `DELETE /v1/flights/{id}`.
pub static DELETE_FLIGHT: Route = Route {
    function: "delete-flight",
    method: Method::DELETE,
    path: "/v1/flights/{id}",
    access: Access::Staff,
    rate_tier: RateTier::Write,
    store_access: StoreAccess::ReadWrite,
    signs_tokens: false,
    enqueues_jobs: false,
    moves_money: false,
    pages: false,
    handler: |services, input| Box::pin(flights::delete(services, input)),
};

/// `POST /v1/auth/register`.
pub static REGISTER: Route = Route {
    function: "register",
    method: Method::POST,
    path: "/v1/auth/register",
    access: Access::Anonymous,
    rate_tier: RateTier::Auth,
    store_access: StoreAccess::ReadWrite,
    signs_tokens: false,
    enqueues_jobs: false,
    moves_money: false,
    pages: false,
    handler: |services, input| Box::pin(accounts::register(services, input)),
};

/// `POST /v1/auth/login`.
pub static LOGIN: Route = Route {
    function: "login",
    method: Method::POST,
    path: "/v1/auth/login",
    access: Access::Anonymous,
    rate_tier: RateTier::Auth,
    store_access: StoreAccess::ReadWrite,
    signs_tokens: true,
    enqueues_jobs: false,
    moves_money: false,
    pages: false,
    handler: |services, input| Box::pin(auth::login(services, input)),
};

/// `POST /v1/auth/refresh`.
pub static REFRESH: Route = Route {
    function: "refresh",
    method: Method::POST,
    path: "/v1/auth/refresh",
    access: Access::Anonymous,
    rate_tier: RateTier::Auth,
    store_access: StoreAccess::ReadWrite,
    signs_tokens: true,
    enqueues_jobs: false,
    moves_money: false,
    pages: false,
    handler: |services, input| Box::pin(auth::refresh(services, input)),
};

/// `POST /v1/auth/logout`.
pub static LOGOUT: Route = Route {
    function: "logout",
    method: Method::POST,
    path: "/v1/auth/logout",
    access: Access::Anonymous,
    rate_tier: RateTier::Write,
    store_access: StoreAccess::ReadWrite,
    signs_tokens: false,
    enqueues_jobs: false,
    moves_money: false,
    pages: false,
    handler: |services, input| Box::pin(auth::logout(services, input)),
};

/// `GET /v1/users/me`.
pub static GET_MY_PROFILE: Route = Route {
    function: "get-my-profile",
    method: Method::GET,
    path: "/v1/users/me",
    access: Access::Customer,
    rate_tier: RateTier::Global,
    store_access: StoreAccess::Read,
    signs_tokens: false,
    enqueues_jobs: false,
    moves_money: false,
    pages: false,
    handler: |services, input| Box::pin(accounts::me(services, input)),
};

/// `PATCH /v1/users/me`.
pub static UPDATE_MY_PROFILE: Route = Route {
    function: "update-my-profile",
    method: Method::PATCH,
    path: "/v1/users/me",
    access: Access::Customer,
    rate_tier: RateTier::Write,
    store_access: StoreAccess::ReadWrite,
    signs_tokens: false,
    enqueues_jobs: false,
    moves_money: false,
    pages: false,
    handler: |services, input| Box::pin(accounts::update_me(services, input)),
};

/// `POST /v1/users/me/password`.
pub static CHANGE_MY_PASSWORD: Route = Route {
    function: "change-my-password",
    method: Method::POST,
    path: "/v1/users/me/password",
    access: Access::Customer,
    rate_tier: RateTier::Auth,
    store_access: StoreAccess::ReadWrite,
    signs_tokens: true,
    enqueues_jobs: false,
    moves_money: false,
    pages: false,
    handler: |services, input| Box::pin(accounts::change_password(services, input)),
};

/// `GET /v1/users/me/activity`.
pub static LIST_MY_ACTIVITY: Route = Route {
    function: "list-my-activity",
    method: Method::GET,
    path: "/v1/users/me/activity",
    access: Access::Customer,
    rate_tier: RateTier::Global,
    store_access: StoreAccess::Read,
    signs_tokens: false,
    enqueues_jobs: false,
    moves_money: false,
    pages: true,
    handler: |services, input| Box::pin(audit::my_activity(services, input)),
};

/// `GET /v1/users`.
pub static LIST_USERS: Route = Route {
    function: "list-users",
    method: Method::GET,
    path: "/v1/users",
    access: Access::Admin,
    rate_tier: RateTier::Global,
    store_access: StoreAccess::Read,
    signs_tokens: false,
    enqueues_jobs: false,
    moves_money: false,
    pages: true,
    handler: |services, input| Box::pin(accounts::list(services, input)),
};

/// `GET /v1/users/{id}`.
pub static GET_USER: Route = Route {
    function: "get-user",
    method: Method::GET,
    path: "/v1/users/{id}",
    access: Access::Admin,
    rate_tier: RateTier::Global,
    store_access: StoreAccess::Read,
    signs_tokens: false,
    enqueues_jobs: false,
    moves_money: false,
    pages: false,
    handler: |services, input| Box::pin(accounts::get(services, input)),
};

/// `PATCH /v1/users/{id}`.
pub static UPDATE_USER: Route = Route {
    function: "update-user",
    method: Method::PATCH,
    path: "/v1/users/{id}",
    access: Access::Admin,
    rate_tier: RateTier::Write,
    store_access: StoreAccess::ReadWrite,
    signs_tokens: false,
    enqueues_jobs: false,
    moves_money: false,
    pages: false,
    handler: |services, input| Box::pin(accounts::update(services, input)),
};

/// `GET /v1/audit`.
pub static LIST_AUDIT_ENTRIES: Route = Route {
    function: "list-audit-entries",
    method: Method::GET,
    path: "/v1/audit",
    access: Access::Admin,
    rate_tier: RateTier::Global,
    store_access: StoreAccess::Read,
    signs_tokens: false,
    enqueues_jobs: false,
    moves_money: false,
    pages: true,
    handler: |services, input| Box::pin(audit::list(services, input)),
};

/// `GET /v1/notifications`.
pub static LIST_NOTIFICATIONS: Route = Route {
    function: "list-notifications",
    method: Method::GET,
    path: "/v1/notifications",
    access: Access::Customer,
    rate_tier: RateTier::Global,
    store_access: StoreAccess::Read,
    signs_tokens: false,
    enqueues_jobs: false,
    moves_money: false,
    pages: true,
    handler: |services, input| Box::pin(notifications::list(services, input)),
};

/// `POST /v1/notifications/{id}/read`.
pub static READ_NOTIFICATION: Route = Route {
    function: "read-notification",
    method: Method::POST,
    path: "/v1/notifications/{id}/read",
    access: Access::Customer,
    rate_tier: RateTier::Write,
    store_access: StoreAccess::ReadWrite,
    signs_tokens: false,
    enqueues_jobs: false,
    moves_money: false,
    pages: false,
    handler: |services, input| Box::pin(notifications::read(services, input)),
};

/// `POST /v1/bookings`.
pub static CREATE_BOOKING: Route = Route {
    function: "create-booking",
    method: Method::POST,
    path: "/v1/bookings",
    access: Access::Customer,
    rate_tier: RateTier::Write,
    store_access: StoreAccess::ReadWrite,
    signs_tokens: false,
    enqueues_jobs: false,
    moves_money: false,
    pages: false,
    handler: |services, input| Box::pin(bookings::create(services, input)),
};

/// `GET /v1/bookings`.
pub static LIST_BOOKINGS: Route = Route {
    function: "list-bookings",
    method: Method::GET,
    path: "/v1/bookings",
    access: Access::Customer,
    rate_tier: RateTier::Global,
    store_access: StoreAccess::Read,
    signs_tokens: false,
    enqueues_jobs: false,
    moves_money: false,
    pages: true,
    handler: |services, input| Box::pin(bookings::list(services, input)),
};

/// `GET /v1/bookings/{id}`.
pub static GET_BOOKING: Route = Route {
    function: "get-booking",
    method: Method::GET,
    path: "/v1/bookings/{id}",
    access: Access::Customer,
    rate_tier: RateTier::Global,
    store_access: StoreAccess::Read,
    signs_tokens: false,
    enqueues_jobs: false,
    moves_money: false,
    pages: false,
    handler: |services, input| Box::pin(bookings::get(services, input)),
};

/// `POST /v1/bookings/{id}/payment`.
pub static PAY_BOOKING: Route = Route {
    function: "pay-booking",
    method: Method::POST,
    path: "/v1/bookings/{id}/payment",
    access: Access::Customer,
    rate_tier: RateTier::Write,
    store_access: StoreAccess::ReadWrite,
    signs_tokens: false,
    enqueues_jobs: true,
    moves_money: true,
    pages: false,
    handler: |services, input| Box::pin(bookings::pay(services, input)),
};

/// `POST /v1/bookings/{id}/cancel`.
pub static CANCEL_BOOKING: Route = Route {
    function: "cancel-booking",
    method: Method::POST,
    path: "/v1/bookings/{id}/cancel",
    access: Access::Customer,
    rate_tier: RateTier::Write,
    store_access: StoreAccess::ReadWrite,
    signs_tokens: false,
    enqueues_jobs: true,
    moves_money: true,
    pages: false,
    handler: |services, input| Box::pin(bookings::cancel(services, input)),
};

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

    /// The static a binary names must be the route of that binary's function: each static is
    /// named after its function (`get-airplane` is `GET_AIRPLANE`), and the functions crate checks
    /// that each binary names the static of its own file name.
    #[test]
    fn each_route_static_is_named_after_its_function() {
        let source = include_str!("routes.rs");
        for route in ROUTES {
            let name = route.function.to_ascii_uppercase().replace('-', "_");
            let declaration = format!(
                "pub static {name}: Route = Route {{\n    function: \"{}\",",
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
        use crate::identity::{Role, UserId};
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
