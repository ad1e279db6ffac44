//! The OpenAPI 3.1 document of the API, generated from the code, never written by hand.
//!
//! Paths, methods, path parameters and security come from the route table ([`ROUTES`]); request
//! bodies and query parameters from the very [`Field`](crate::Field) lists the handlers check
//! requests against ([`operations`]); schemas from those fields' shapes, whose bounds are the
//! domain types' own constants ([`schemas`]). Problem statuses follow from what a route is (its
//! access, a path parameter, a body, `If-Match`) plus the few a route's use case adds.
//!
//! Only the local API (`GET /openapi.json`), the generator (`cargo run -p xtask -- openapi`,
//! which writes `docs/openapi.json`) and tests call [`document`]; a Lambda binary names one route
//! and never this module, so the linker leaves it out of every function.

mod operations;
mod schemas;
mod validate;

use serde_json::{Map, Value, json};

use crate::fields::{Field, Shape};
use crate::handlers::bookings::IDEMPOTENCY_KEY_HEADER;
use crate::routes::{Access, ROUTES, Route};
use operations::{Body, Operation, Success, operation};
pub use validate::violations;

/// The problem statuses the document describes, with what each means here.
const PROBLEMS: &[(u16, &str)] = &[
    (
        400,
        "The request is malformed or has invalid fields (`errors` lists each)",
    ),
    (401, "No valid access token, or wrong credentials"),
    (402, "The payment provider declined the payment"),
    (403, "Your role does not allow this request"),
    (404, "No such resource (or not yours)"),
    (409, "The request conflicts with the current state"),
    (412, "If-Match names a version that is no longer current"),
    (413, "The body is larger than the API accepts"),
    (415, "The body is not JSON"),
    (
        422,
        "The Idempotency-Key was used before with a different request",
    ),
    (
        429,
        "A rate limit is exhausted; Retry-After says when to retry",
    ),
    (500, "The request failed unexpectedly; it has been logged"),
    (
        503,
        "A dependency is unavailable; Retry-After says when to retry",
    ),
];

/// The schema of a path parameter, by name: entity ids are UUIDs, airports are named by code.
fn path_parameter(name: &str) -> Shape {
    match name {
        "code" => crate::handlers::airports::AIRPORT_CODE,
        _ => Shape::Uuid,
    }
}

/// The OpenAPI 3.1 document of every route.
///
/// # Panics
/// When a route of the table has no operation declared, which a test rules out.
pub fn document() -> Value {
    let mut paths = Map::new();
    for route in ROUTES {
        let operation = operation(route)
            .unwrap_or_else(|| panic!("{} declares no OpenAPI operation", route.function));
        let item = paths
            .entry(route.path)
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("a path item is an object");
        item.insert(
            route.method.as_str().to_ascii_lowercase(),
            describe(route, &operation),
        );
    }
    let responses: Map<String, Value> = PROBLEMS
        .iter()
        .map(|(status, description)| (status.to_string(), problem_response(*status, description)))
        .collect();
    json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {
            "title": "Itinera API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Flights, airports, airplanes, seat bookings and payments. Generated \
                from the route table and the handlers' field declarations; served by the local \
                API at /openapi.json.",
        },
        "servers": [{ "url": "http://127.0.0.1:3000", "description": "The local API" }],
        "paths": paths,
        "components": {
            "schemas": schemas::components(),
            "responses": responses,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "The `accessToken` of POST /v1/auth/login, valid 15 minutes.",
                },
            },
        },
    })
}

/// The operations a document declares, as (upper-case method, path template) pairs: what the
/// route table, the template and the rendered reference page are compared with.
pub fn operations(document: &Value) -> std::collections::BTreeSet<(String, String)> {
    document["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(path, item)| {
            item.as_object()
                .into_iter()
                .flatten()
                .map(move |(method, _)| (method.to_ascii_uppercase(), path.clone()))
        })
        .collect()
}

/// The document as `docs/openapi.json` holds it: pretty, with a final newline.
pub fn document_text() -> String {
    let mut text = serde_json::to_string_pretty(&document()).expect("a JSON value serializes");
    text.push('\n');
    text
}

/// The problem response of `status`, with the headers that status carries: `WWW-Authenticate`
/// on a 401, `Retry-After` on a 429 or a 503.
fn problem_response(status: u16, description: &str) -> Value {
    let mut response = json!({
        "description": description,
        "content": { "application/problem+json": { "schema": schemas::reference("Problem") } },
    });
    let header = match status {
        401 => Some((
            "WWW-Authenticate",
            "`Bearer`: send an access token",
            json!({ "type": "string", "enum": ["Bearer"] }),
        )),
        429 | 503 => Some((
            "Retry-After",
            "Seconds until a retry may succeed",
            json!({ "type": "integer", "minimum": 0 }),
        )),
        _ => None,
    };
    if let Some((name, description, schema)) = header {
        response["headers"] = json!({ name: header_object(description, schema) });
    }
    response
}

/// The names of a path template's `{parameters}`, in order.
pub(crate) fn path_parameters(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
}

/// The query parameters `route`'s handler accepts (none for a route without an operation, which
/// a test forbids).
pub(crate) fn query_parameters(route: &Route) -> &'static [Field] {
    operation(route).map_or(&[], |operation| operation.query)
}

fn parameter(name: &str, location: &str, required: bool, schema: Value) -> Value {
    json!({ "name": name, "in": location, "required": required, "schema": schema })
}

fn query_parameter(field: &Field) -> Value {
    parameter(
        field.name,
        "query",
        field.required,
        schemas::shape(&field.shape),
    )
}

/// The tag of a route: its collection (`/v1/airplanes/{id}` is `airplanes`).
fn tag(path: &str) -> &str {
    path.split('/').nth(2).unwrap_or_default()
}

fn role(access: Access) -> Option<&'static str> {
    match access {
        Access::Anonymous => None,
        Access::Customer => Some("any signed-in user"),
        Access::Staff => Some("staff or admin"),
        Access::Admin => Some("admin"),
    }
}

/// The problem statuses `route` can answer.
fn problem_statuses(route: &Route, operation: &Operation) -> Vec<u16> {
    let writes = route.method != http::Method::GET;
    let mut statuses = vec![400, 429, 500, 503];
    if route.access != Access::Anonymous {
        statuses.push(401);
    }
    if matches!(route.access, Access::Staff | Access::Admin) {
        statuses.push(403);
    }
    if path_parameters(route.path).next().is_some() {
        statuses.push(404);
    }
    if writes {
        statuses.push(409);
    }
    if operation.if_match {
        statuses.push(412);
    }
    if !matches!(operation.body, Body::None) {
        statuses.extend([413, 415]);
    }
    if operation.idempotent {
        statuses.push(422);
    }
    statuses.extend(operation.problems);
    statuses.sort_unstable();
    statuses.dedup();
    statuses
}

fn header_object(description: &str, schema: Value) -> Value {
    json!({ "description": description, "schema": schema })
}

/// The success response of `operation`.
fn success(route: &Route, operation: &Operation) -> (u16, Value) {
    let envelope = |data: Value| {
        json!({
            "type": "object",
            "properties": { "data": data },
            "required": ["data"],
            "additionalProperties": false,
        })
    };
    let (status, description, schema) = match operation.success {
        Success::Ok(entity) => (200, "OK", Some(envelope(schemas::reference(entity)))),
        Success::Created(entity) => (201, "Created", Some(envelope(schemas::reference(entity)))),
        Success::Page(entity) => (
            200,
            "One page of the list; `pagination.nextCursor` fetches the next",
            Some(json!({
                "type": "object",
                "properties": {
                    "data": { "type": "array", "items": schemas::reference(entity) },
                    "pagination": schemas::reference("Pagination"),
                },
                "required": ["data", "pagination"],
                "additionalProperties": false,
            })),
        ),
        Success::NoContent => (204, "Done; no content", None),
    };
    let mut response = json!({ "description": description });
    if let Some(schema) = schema {
        response["content"] = json!({ "application/json": { "schema": schema } });
    }
    let mut headers = Map::new();
    if operation.versioned && schema_has_body(operation) {
        headers.insert(
            "ETag".into(),
            header_object(
                "The entity's version, for If-Match and If-None-Match",
                json!({ "type": "string", "pattern": "^\"[0-9]+\"$" }),
            ),
        );
    } else if route.caching.is_some() {
        headers.insert(
            "ETag".into(),
            header_object(
                "A hash of the representation, for If-None-Match",
                json!({ "type": "string", "pattern": "^\"[0-9a-f]{32}\"$" }),
            ),
        );
    }
    if let Some(caching) = route.caching {
        headers.insert(
            "Cache-Control".into(),
            header_object(
                "How long any cache, shared ones included, may serve this answer",
                json!({ "type": "string", "const": format!("public, max-age={}", caching.ttl_seconds) }),
            ),
        );
        headers.insert(
            "Date".into(),
            header_object(
                "When the answer was made; a copy served from a cache is as old as the time since",
                json!({ "type": "string" }),
            ),
        );
    }
    if matches!(operation.success, Success::Created(_)) {
        headers.insert(
            "Location".into(),
            header_object("The new resource's path", json!({ "type": "string" })),
        );
    }
    if !headers.is_empty() {
        response["headers"] = Value::Object(headers);
    }
    (status, response)
}

fn schema_has_body(operation: &Operation) -> bool {
    !matches!(operation.success, Success::NoContent)
}

fn request_body(body: Body) -> Option<Value> {
    let (required, schema) = match body {
        Body::None => return None,
        Body::Object(fields) => (true, schemas::object(fields, false)),
        Body::Changes(fields) => {
            let mut schema = schemas::object(fields, true);
            schema["minProperties"] = json!(1);
            (true, schema)
        }
        Body::Empty => (
            false,
            json!({ "type": "object", "maxProperties": 0, "additionalProperties": false }),
        ),
    };
    Some(json!({
        "required": required,
        "content": { "application/json": { "schema": schema } },
    }))
}

/// The OpenAPI operation object of one route.
fn describe(route: &Route, operation: &Operation) -> Value {
    let mut parameters: Vec<Value> = path_parameters(route.path)
        .map(|name| parameter(name, "path", true, schemas::shape(&path_parameter(name))))
        .collect();
    parameters.extend(operation.query.iter().map(query_parameter));
    if operation.idempotent {
        // Printable ASCII; a space inside, never at an end (HTTP drops it there).
        let key = Shape::Bounded {
            pattern: "^[!-~](?:[ -~]*[!-~])?$",
            max_chars: itinera::idempotency::KEY_MAX_CHARS,
        };
        let mut header = parameter(IDEMPOTENCY_KEY_HEADER, "header", true, schemas::shape(&key));
        header["description"] =
            json!("A new unique key (such as a UUID) per booking; the same key when retrying it");
        parameters.push(header);
    }
    if operation.if_match {
        parameters.push(parameter(
            "If-Match",
            "header",
            false,
            json!({ "type": "string", "description": "The ETag of the version you change" }),
        ));
    }
    let conditional =
        (operation.versioned || route.caching.is_some()) && route.method == http::Method::GET;
    if conditional {
        parameters.push(parameter(
            "If-None-Match",
            "header",
            false,
            json!({ "type": "string", "description": "An ETag you hold; 304 while it is current" }),
        ));
    }
    let mut responses = Map::new();
    let (status, response) = success(route, operation);
    responses.insert(status.to_string(), response);
    if conditional {
        let description = if operation.versioned {
            "Not modified: If-None-Match names the current version"
        } else {
            "Not modified: If-None-Match names the current representation"
        };
        responses.insert("304".into(), json!({ "description": description }));
    }
    for status in problem_statuses(route, operation) {
        responses.insert(
            status.to_string(),
            json!({ "$ref": format!("#/components/responses/{status}") }),
        );
    }
    let security = match route.access {
        Access::Anonymous => json!([]),
        _ => json!([{ "bearer": [] }]),
    };
    let mut described = json!({
        "operationId": route.function,
        "summary": operation.summary,
        "tags": [tag(route.path)],
        "security": security,
        "responses": responses,
    });
    if let Some(role) = role(route.access) {
        described["description"] = json!(format!("Who may call it: {role}."));
    }
    if !parameters.is_empty() {
        described["parameters"] = Value::Array(parameters);
    }
    if let Some(mut body) = request_body(operation.body) {
        if !operation.exactly_one_of.is_empty() {
            let choices: Vec<Value> = operation
                .exactly_one_of
                .iter()
                .map(|name| json!({ "required": [name] }))
                .collect();
            body["content"]["application/json"]["schema"]["oneOf"] = Value::Array(choices);
        }
        described["requestBody"] = body;
    }
    described
}

#[cfg(test)]
mod tests;
