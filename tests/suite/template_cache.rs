//! `template.yaml`'s stage cache against the route table: a cache cluster a stage can turn off,
//! caching off for every method but one entry per cacheable route with the route's TTL, each of
//! those keyed on exactly the parameters `docs/openapi.json` documents for the route (and the
//! headers that change its answer), and no method behind the authorizer cached or keyed.

use std::collections::{BTreeMap, BTreeSet};

use itinera_http::caching::{KEY_HEADERS, cache_key};
use itinera_http::{Access, ROUTES, Route};
use serde_yaml_ng::Value;

use crate::template::{function, intrinsic, is_ref, repo_root, resource, template, text};

/// What `!If [HasApiCache, <then>, <else>]` holds, when `value` is that.
fn if_has_api_cache(value: &Value) -> Option<(&Value, &Value)> {
    let (tag, inner) = intrinsic(value)?;
    let [condition, then, otherwise] = inner.as_sequence()?.as_slice() else {
        return None;
    };
    (tag == "!If" && condition.as_str() == Some("HasApiCache")).then_some((then, otherwise))
}

fn method_settings() -> &'static [Value] {
    resource("Api")["Properties"]["MethodSettings"]
        .as_sequence()
        .expect("Api.Properties.MethodSettings")
}

/// `/~1v1~1flights~1{id}` for `/v1/flights/{id}`, as API Gateway names a method's resource.
fn escaped(path: &str) -> String {
    format!("/{}", path.replace('/', "~1"))
}

/// The request parameters of a route's Api event that are part of the cache key.
fn keyed_parameters(route: &Route) -> BTreeSet<String> {
    let events = function(route.function)["Properties"]["Events"]
        .as_mapping()
        .unwrap_or_else(|| panic!("{} has Events", route.function));
    events
        .values()
        .flat_map(|event| {
            event["Properties"]["RequestParameters"]
                .as_sequence()
                .into_iter()
                .flatten()
        })
        .flat_map(|parameter| parameter.as_mapping().into_iter().flatten())
        .filter(|(_, settings)| settings["Caching"].as_bool() == Some(true))
        .map(|(name, _)| text(name, "a request parameter").to_owned())
        .collect()
}

/// What `docs/openapi.json` documents for `route`: its parameters as API Gateway names them
/// (`method.request.querystring.from`), query and path.
fn documented_parameters(route: &Route) -> BTreeSet<String> {
    let path = repo_root().join("docs/openapi.json");
    let document: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("docs/openapi.json"))
            .expect("docs/openapi.json is JSON");
    let operation = &document["paths"][route.path][route.method.as_str().to_ascii_lowercase()];
    operation["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|parameter| {
            let location = match parameter["in"].as_str()? {
                "query" => "querystring",
                "path" => "path",
                _ => return None,
            };
            Some(format!(
                "method.request.{location}.{}",
                parameter["name"].as_str()?
            ))
        })
        .collect()
}

#[test]
fn the_stage_has_a_cache_a_stage_parameter_can_turn_off() {
    let size = &template()["Parameters"]["ApiCacheSize"];
    let allowed: Vec<&str> = size["AllowedValues"]
        .as_sequence()
        .expect("ApiCacheSize.AllowedValues")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(allowed.contains(&"off"), "{allowed:?}");
    assert!(allowed.contains(&"0.5"), "{allowed:?}");

    let properties = &resource("Api")["Properties"];
    let (then, otherwise) = if_has_api_cache(&properties["CacheClusterEnabled"])
        .expect("CacheClusterEnabled: !If [HasApiCache, true, false]");
    assert_eq!(
        (then.as_bool(), otherwise.as_bool()),
        (Some(true), Some(false))
    );
    let (then, otherwise) = if_has_api_cache(&properties["CacheClusterSize"])
        .expect("CacheClusterSize: !If [HasApiCache, !Ref ApiCacheSize, !Ref AWS::NoValue]");
    assert!(is_ref(then, "ApiCacheSize") && is_ref(otherwise, "AWS::NoValue"));
    let (tag, _) =
        intrinsic(&template()["Conditions"]["HasApiCache"]).expect("a HasApiCache condition");
    assert_eq!(tag, "!Not");
}

/// API Gateway caches every `GET` of a stage with a cache unless told otherwise: the stage-wide
/// entry turns caching off, and exactly the cacheable routes turn it back on, for their TTL,
/// encrypted, with the stage-wide throttling, metrics and logging restated (a method's own entry
/// replaces the stage-wide one).
#[test]
fn exactly_the_cacheable_routes_are_cached_for_their_ttl() {
    let settings = method_settings();
    let stage_wide = settings
        .iter()
        .find(|entry| entry["ResourcePath"].as_str() == Some("/*"))
        .expect("a /* entry");
    assert_eq!(stage_wide["HttpMethod"].as_str(), Some("*"));
    assert_eq!(stage_wide["CachingEnabled"].as_bool(), Some(false));

    let mut cached = BTreeMap::new();
    for entry in settings.iter().filter(|entry| *entry != stage_wide) {
        let path = text(&entry["ResourcePath"], "a ResourcePath").to_owned();
        let (then, otherwise) = if_has_api_cache(&entry["CachingEnabled"])
            .unwrap_or_else(|| panic!("{path}: CachingEnabled: !If [HasApiCache, true, false]"));
        assert_eq!(
            (then.as_bool(), otherwise.as_bool()),
            (Some(true), Some(false))
        );
        assert_eq!(entry["CacheDataEncrypted"].as_bool(), Some(true), "{path}");
        for restated in [
            "ThrottlingRateLimit",
            "ThrottlingBurstLimit",
            "MetricsEnabled",
            "LoggingLevel",
            "DataTraceEnabled",
        ] {
            assert_eq!(entry[restated], stage_wide[restated], "{path}: {restated}");
        }
        let method = text(&entry["HttpMethod"], "an HttpMethod").to_owned();
        let ttl = entry["CacheTtlInSeconds"]
            .as_u64()
            .unwrap_or_else(|| panic!("{path}: CacheTtlInSeconds"));
        assert!(cached.insert((path, method), ttl).is_none());
    }

    let expected: BTreeMap<(String, String), u64> = ROUTES
        .iter()
        .filter_map(|route| {
            let caching = route.caching?;
            Some((
                (escaped(route.path), route.method.as_str().to_owned()),
                u64::from(caching.ttl_seconds),
            ))
        })
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(cached, expected);
}

/// Each cacheable route is keyed on the path and query parameters the OpenAPI document states
/// for it (the handler's own list) and the headers that change its answer: a parameter left out
/// would serve one query's answer to another.
#[test]
fn each_cacheable_route_is_keyed_on_its_documented_parameters_and_varying_headers() {
    for route in ROUTES.iter().filter(|route| route.caching.is_some()) {
        let mut expected = documented_parameters(route);
        assert!(
            expected.iter().all(|name| !name.contains("header")),
            "{}",
            route.function
        );
        expected.extend(
            KEY_HEADERS
                .iter()
                .map(|header| format!("method.request.header.{header}")),
        );
        assert_eq!(keyed_parameters(route), expected, "{}", route.function);

        let key = cache_key(route).expect("a cacheable route has a key");
        let derived: BTreeSet<String> = key
            .path
            .iter()
            .map(|name| format!("method.request.path.{name}"))
            .chain(
                key.query
                    .iter()
                    .map(|name| format!("method.request.querystring.{name}")),
            )
            .chain(
                key.headers
                    .iter()
                    .map(|name| format!("method.request.header.{name}")),
            )
            .collect();
        assert_eq!(derived, expected, "{}", route.function);
    }
}

/// A shared cache must never answer for a caller: no method the authorizer guards is cached, or
/// keyed, and every cached one is an anonymous `GET`.
#[test]
fn no_method_behind_the_authorizer_is_cached() {
    for route in ROUTES {
        let keyed = keyed_parameters(route);
        let has_setting = method_settings()
            .iter()
            .any(|entry| entry["ResourcePath"].as_str() == Some(escaped(route.path).as_str()));
        let anonymous_get = route.access == Access::Anonymous && route.method == http::Method::GET;
        if !anonymous_get {
            assert!(keyed.is_empty(), "{} is keyed: {keyed:?}", route.function);
            // Another method on the same path may be cached; this one must not be.
            let own_setting = method_settings().iter().any(|entry| {
                entry["ResourcePath"].as_str() == Some(escaped(route.path).as_str())
                    && entry["HttpMethod"].as_str() == Some(route.method.as_str())
            });
            assert!(!own_setting, "{} has a cache setting", route.function);
        }
        if has_setting && anonymous_get {
            let events = function(route.function)["Properties"]["Events"]
                .as_mapping()
                .expect("Events");
            for event in events.values() {
                assert_eq!(
                    event["Properties"]["Auth"]["Authorizer"].as_str(),
                    Some("NONE"),
                    "{} is cached, so it must be outside the authorizer",
                    route.function
                );
            }
        }
    }
}

/// API Gateway's own refusals (unknown route, throttling, a refused token) are problem documents
/// like the functions' and, like theirs, never stored by any cache.
#[test]
fn no_cache_may_keep_a_gateway_refusal() {
    let responses = resource("Api")["Properties"]["GatewayResponses"]
        .as_mapping()
        .expect("Api.Properties.GatewayResponses");
    assert!(!responses.is_empty());
    for (kind, response) in responses {
        assert_eq!(
            response["ResponseParameters"]["Headers"]["Cache-Control"].as_str(),
            Some("'no-store'"),
            "{kind:?}"
        );
    }
}
