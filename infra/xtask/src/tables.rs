//! The one place the generator reads the code's tables: the route table, the background table
//! and the platform functions. Everything else in this crate works on [`Function`], so moving
//! the tables to another crate changes the paths here and nothing else.

use itinera::background::{BACKGROUND_FUNCTIONS, BackgroundFunction, Trigger};
use itinera_http::caching::cache_key;
use itinera_http::routes::FileAccess as RouteFiles;
use itinera_http::{AUTHORIZER_FUNCTION, Access, PREFLIGHT_FUNCTION, ROUTES, Route, StoreAccess};

use crate::catalog;
use crate::model::{Endpoint, FileAccess, Function, Kind, StageCache, TableAccess};

/// The module path of the route statics, as a route's binary names its route
/// (`<ROUTE_STATICS>::GET_AIRPLANE`).
pub const ROUTE_STATICS: &str = "itinera_http::routes";

/// Every function of the stack, in template order: the routes as the table lists them, the
/// preflight function, the authorizer, then the background functions.
pub fn functions() -> Result<Vec<Function>, String> {
    let mut functions = Vec::new();
    for route in ROUTES {
        functions.push(route_function(route)?);
    }
    let mut paths: Vec<String> = Vec::new();
    for route in ROUTES {
        if !paths.iter().any(|path| path == route.path) {
            paths.push(route.path.to_string());
        }
    }
    functions.push(Function::new(
        PREFLIGHT_FUNCTION,
        Kind::Preflight { paths },
        TableAccess::None,
    )?);
    let mut authorizer = Function::new(AUTHORIZER_FUNCTION, Kind::Authorizer, TableAccess::None)?;
    authorizer.verifies_tokens = true;
    functions.push(authorizer);
    for background in BACKGROUND_FUNCTIONS {
        functions.push(background_function(background)?);
    }
    Ok(functions)
}

fn table_access(access: StoreAccess) -> TableAccess {
    match access {
        StoreAccess::None => TableAccess::None,
        StoreAccess::Read => TableAccess::Read,
        StoreAccess::ReadWrite => TableAccess::ReadWrite,
    }
}

fn route_function(route: &Route) -> Result<Function, String> {
    let endpoint = Endpoint {
        method: route.method.as_str().to_string(),
        path: route.path.to_string(),
        anonymous: route.access == Access::Anonymous,
        principal: match route.access {
            Access::Anonymous => None,
            Access::Customer => Some(catalog::CUSTOMER),
            Access::Staff => Some(catalog::STAFF),
            Access::Admin => Some(catalog::ADMIN),
        },
        caching: cache_key(route).map(|key| StageCache {
            ttl_seconds: key.ttl_seconds,
            path: key.path.iter().map(ToString::to_string).collect(),
            query: key.query.iter().map(ToString::to_string).collect(),
            headers: key.headers.iter().map(ToString::to_string).collect(),
        }),
    };
    let mut function = Function::new(
        route.function,
        Kind::Route(endpoint),
        table_access(route.store_access),
    )?;
    function.signs_tokens = route.signs_tokens;
    function.enqueues_jobs = route.enqueues_jobs;
    function.moves_money = route.moves_money;
    function.pages = route.pages;
    function.files = route.files.map(|files| match files {
        RouteFiles::Upload(scope) => FileAccess::Upload(scope),
        RouteFiles::Confirm(scope) => FileAccess::Confirm(scope),
        RouteFiles::Download(scope) => FileAccess::Download(scope),
    });
    Ok(function)
}

fn background_function(background: &BackgroundFunction) -> Result<Function, String> {
    let kind = match background.trigger {
        Trigger::JobsQueue => Kind::Worker,
        Trigger::Schedule { expression, .. } => Kind::Schedule {
            expression: expression.to_string(),
        },
    };
    let mut function = Function::new(
        background.function,
        kind,
        table_access(background.store_access),
    )?;
    function.enqueues_jobs = background.enqueues_jobs;
    function.sends_email = background.sends_email;
    function.moves_money = background.moves_money;
    function.alerts_fleet = background.alerts_fleet;
    Ok(function)
}
