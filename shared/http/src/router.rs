//! Matching a method and path against the route table (for the local API and the preflight
//! function; in AWS, API Gateway routes each request to its function).

use http::Method;

use super::request::PathParams;
use super::routes::Route;

/// The outcome of routing one request.
#[derive(Debug)]
pub enum RouteMatch {
    Found {
        route: &'static Route,
        params: PathParams,
    },
    /// The path exists with other methods.
    MethodNotAllowed {
        allow: Vec<Method>,
    },
    NotFound,
}

/// A router built once from a list of routes: the whole table, or a function's own route.
#[derive(Debug)]
pub struct Router {
    paths: matchit::Router<Vec<&'static Route>>,
}

impl Router {
    /// # Panics
    /// When two templates conflict, which the route table's tests rule out.
    pub fn new(routes: &[&'static Route]) -> Self {
        let mut by_path: Vec<(&'static str, Vec<&'static Route>)> = Vec::new();
        for &route in routes {
            match by_path.iter_mut().find(|(path, _)| *path == route.path) {
                Some((_, routes)) => routes.push(route),
                None => by_path.push((route.path, vec![route])),
            }
        }
        let mut paths = matchit::Router::new();
        for (path, routes) in by_path {
            paths
                .insert(path, routes)
                .unwrap_or_else(|error| panic!("route template {path} conflicts: {error}"));
        }
        Self { paths }
    }

    pub fn find(&self, method: &Method, path: &str) -> RouteMatch {
        let Ok(matched) = self.paths.at(path) else {
            return RouteMatch::NotFound;
        };
        match matched.value.iter().find(|route| route.method == *method) {
            Some(route) => RouteMatch::Found {
                route,
                params: PathParams::new(
                    matched
                        .params
                        .iter()
                        .map(|(name, value)| (name.to_owned(), value.to_owned()))
                        .collect(),
                ),
            },
            None => RouteMatch::MethodNotAllowed {
                allow: matched
                    .value
                    .iter()
                    .map(|route| route.method.clone())
                    .collect(),
            },
        }
    }

    /// The methods a path accepts, `None` when no route has this path.
    pub fn methods(&self, path: &str) -> Option<Vec<Method>> {
        let matched = self.paths.at(path).ok()?;
        Some(
            matched
                .value
                .iter()
                .map(|route| route.method.clone())
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::ROUTES;

    #[test]
    fn a_templated_path_captures_its_parameter() {
        let router = Router::new(ROUTES);
        let RouteMatch::Found { route, params } = router.find(&Method::GET, "/v1/airplanes/abc")
        else {
            panic!("expected a match");
        };
        assert_eq!(route.function, "get-airplane");
        assert_eq!(params.get("id"), Some("abc"));
    }

    #[test]
    fn a_known_path_with_another_method_lists_the_allowed_ones() {
        let router = Router::new(ROUTES);
        let RouteMatch::MethodNotAllowed { allow } = router.find(&Method::PUT, "/v1/airplanes")
        else {
            panic!("expected 405");
        };
        assert_eq!(allow, vec![Method::POST, Method::GET]);
    }

    #[test]
    fn unknown_paths_do_not_match() {
        let router = Router::new(ROUTES);
        assert!(matches!(
            router.find(&Method::GET, "/v1/nothing"),
            RouteMatch::NotFound
        ));
        assert!(matches!(
            router.find(&Method::GET, "/v1/airplanes/a/b"),
            RouteMatch::NotFound
        ));
        assert!(router.methods("/v2/airplanes").is_none());
    }
}
