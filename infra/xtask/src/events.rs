//! `events/<function>.json`: one sample event per function, as AWS would deliver it. A route's is
//! an API Gateway REST proxy event for its endpoint (path parameters from the catalog's sample
//! ids, its query, headers and body from the catalog, the authorizer's context for the least role
//! the route admits); the preflight's asks about a route's method from a browser origin; the
//! authorizer's is the REQUEST event for a protected route; the worker's an SQS batch of one job;
//! a schedule's EventBridge's scheduled event.
//!
//! Ids and times vary per function, derived from its name, so the files are stable as routes
//! come and go.

use crate::catalog::{self, Principal, Sample};
use crate::json::Json;
use crate::md5;
use crate::model::{Endpoint, Function, Kind};

const ACCOUNT: &str = "123456789012";
const REGION: &str = "eu-west-1";
const API_ID: &str = "a1b2c3d4e5";
const STAGE: &str = "prod";
const SOURCE_IP: &str = "203.0.113.10";
const USER_AGENT: &str = "itinera-sample/1.0";
/// 2026-01-01T00:00:00Z, in seconds.
const EPOCH: u64 = 1_767_225_600;

/// The sample event of `function`, one of `functions`.
pub fn event(function: &Function, functions: &[Function]) -> Result<Json, String> {
    let stamp = Stamp::of(&function.name);
    match &function.kind {
        Kind::Route(endpoint) => {
            let request = Request::new(endpoint, &endpoint.method, function.sample)?;
            Ok(api_event(&request, endpoint.principal, stamp))
        }
        Kind::Preflight { .. } => {
            let route = route(functions, catalog::PREFLIGHT_SAMPLE_ROUTE)?;
            let mut request = Request::new(route, "OPTIONS", &Sample::NONE)?;
            request.headers.extend([
                ("Origin".to_string(), "https://app.example.com".to_string()),
                (
                    "Access-Control-Request-Method".to_string(),
                    route.method.clone(),
                ),
                (
                    "Access-Control-Request-Headers".to_string(),
                    "content-type".to_string(),
                ),
            ]);
            Ok(api_event(&request, None, stamp))
        }
        Kind::Authorizer => {
            let route = route(functions, catalog::AUTHORIZER_SAMPLE_ROUTE)?;
            if route.anonymous {
                return Err(format!(
                    "{} is anonymous: the authorizer's sample must guard a protected route",
                    catalog::AUTHORIZER_SAMPLE_ROUTE
                ));
            }
            let request = Request::new(route, &route.method, &Sample::NONE)?;
            Ok(authorizer_event(&request, stamp))
        }
        Kind::Worker => {
            let job = function
                .sample
                .body
                .ok_or_else(|| format!("{}: the catalog gives no sample job", function.name))?;
            Ok(sqs_event(job))
        }
        Kind::Schedule { .. } => Ok(scheduled_event(function, stamp)),
    }
}

fn route<'a>(functions: &'a [Function], name: &str) -> Result<&'a Endpoint, String> {
    functions
        .iter()
        .find(|function| function.name == name)
        .and_then(Function::endpoint)
        .ok_or_else(|| format!("{name} is no route"))
}

/// What varies from one function's event to the next, derived from its name.
#[derive(Clone, Copy)]
struct Stamp {
    hash: u64,
    /// Seconds since 2026-01-01T00:00:00Z, within the first hour.
    seconds: u64,
}

impl Stamp {
    fn of(name: &str) -> Self {
        let hash = fnv1a(name);
        Self {
            hash,
            seconds: hash % 3600,
        }
    }

    fn request_id(self) -> String {
        format!(
            "c6af9ac6-7b61-41f6-a1c4-{:012x}",
            self.hash & 0xffff_ffff_ffff
        )
    }

    fn trace_id(self) -> String {
        format!(
            "Root=1-{:08x}-c6af9ac67b6141f6a1c40d1e",
            EPOCH + self.seconds
        )
    }

    fn request_time(self) -> String {
        format!(
            "01/Jan/2026:00:{:02}:{:02} +0000",
            self.seconds / 60,
            self.seconds % 60
        )
    }

    fn request_time_epoch(self) -> u64 {
        (EPOCH + self.seconds) * 1000
    }
}

/// FNV-1a, 64 bits.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// API Gateway's id of a resource (path template): six characters, the same for every method.
fn resource_id(resource: &str) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut hash = fnv1a(resource);
    (0..6)
        .map(|_| {
            let c = ALPHABET[(hash % 36) as usize] as char;
            hash /= 36;
            c
        })
        .collect()
}

/// One request to an endpoint.
struct Request {
    resource: String,
    path: String,
    method: String,
    path_parameters: Vec<(String, String)>,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Option<String>,
}

impl Request {
    fn new(endpoint: &Endpoint, method: &str, sample: &Sample) -> Result<Self, String> {
        let mut path_parameters = Vec::new();
        let mut segments = Vec::new();
        let mut previous = "";
        for segment in endpoint.path.split('/') {
            match segment
                .strip_prefix('{')
                .and_then(|inner| inner.strip_suffix('}'))
            {
                Some(name) => {
                    let value = catalog::path_sample(previous).ok_or_else(|| {
                        format!(
                            "{}: no sample value for the parameter after `{previous}`; add one \
                             to PATH_SAMPLES in infra/xtask/src/catalog.rs",
                            endpoint.path
                        )
                    })?;
                    path_parameters.push((name.to_string(), value.to_string()));
                    segments.push(value);
                }
                None => segments.push(segment),
            }
            previous = segment;
        }
        let pairs = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect()
        };
        let mut headers = Vec::new();
        if sample.body.is_some() {
            headers.push(("Content-Type".to_string(), "application/json".to_string()));
        }
        headers.extend(pairs(sample.headers));
        Ok(Self {
            resource: endpoint.path.clone(),
            path: segments.join("/"),
            method: method.to_string(),
            path_parameters,
            query: pairs(sample.query),
            headers,
            body: sample.body.map(str::to_string),
        })
    }

    /// The headers API Gateway passes on: its own, with `extra` after `Accept`, then the
    /// request's.
    fn headers(&self, stamp: Stamp, extra: &[(String, String)]) -> Vec<(String, String)> {
        let mut headers = vec![("Accept".to_string(), "application/json".to_string())];
        headers.extend(extra.iter().cloned());
        headers.extend(
            [
                (
                    "Host",
                    format!("{API_ID}.execute-api.{REGION}.amazonaws.com"),
                ),
                ("User-Agent", USER_AGENT.to_string()),
                ("X-Amzn-Trace-Id", stamp.trace_id()),
                ("X-Forwarded-Port", "443".to_string()),
                ("X-Forwarded-Proto", "https".to_string()),
            ]
            .map(|(name, value)| (name.to_string(), value)),
        );
        headers.extend(self.headers.iter().cloned());
        headers
    }
}

fn single(pairs: &[(String, String)]) -> Json {
    Json::strings_or_null(pairs)
}

fn multi(pairs: &[(String, String)]) -> Json {
    if pairs.is_empty() {
        return Json::Null;
    }
    Json::Object(
        pairs
            .iter()
            .map(|(name, value)| (name.clone(), Json::Array(vec![Json::str(value)])))
            .collect(),
    )
}

fn domain() -> String {
    format!("{API_ID}.execute-api.{REGION}.amazonaws.com")
}

fn api_event(request: &Request, principal: Option<Principal>, stamp: Stamp) -> Json {
    let headers = request.headers(stamp, &[]);
    let mut context = vec![
        ("accountId", Json::str(ACCOUNT)),
        ("apiId", Json::str(API_ID)),
        ("resourceId", Json::str(resource_id(&request.resource))),
        ("resourcePath", Json::str(&request.resource)),
        ("httpMethod", Json::str(&request.method)),
        ("extendedRequestId", Json::str("C6AF9AC6=")),
        ("requestId", Json::str(stamp.request_id())),
        ("requestTime", Json::str(stamp.request_time())),
        ("requestTimeEpoch", Json::Number(stamp.request_time_epoch())),
        ("stage", Json::str(STAGE)),
        ("path", Json::str(format!("/{STAGE}{}", request.path))),
        ("protocol", Json::str("HTTP/1.1")),
        ("domainName", Json::str(domain())),
        ("domainPrefix", Json::str(API_ID)),
        ("identity", identity()),
    ];
    if let Some(principal) = principal {
        context.push((
            "authorizer",
            Json::object([
                ("principalId", Json::str(principal.user_id)),
                ("userId", Json::str(principal.user_id)),
                ("role", Json::str(principal.role)),
                ("integrationLatency", Json::Number(12)),
            ]),
        ));
    }
    Json::object([
        ("resource", Json::str(&request.resource)),
        ("path", Json::str(&request.path)),
        ("httpMethod", Json::str(&request.method)),
        ("headers", single(&headers)),
        ("multiValueHeaders", multi(&headers)),
        ("queryStringParameters", single(&request.query)),
        ("multiValueQueryStringParameters", multi(&request.query)),
        ("pathParameters", single(&request.path_parameters)),
        ("stageVariables", Json::Null),
        (
            "requestContext",
            Json::Object(
                context
                    .into_iter()
                    .map(|(name, value)| (name.to_string(), value))
                    .collect(),
            ),
        ),
        (
            "body",
            request.body.clone().map_or(Json::Null, Json::String),
        ),
        ("isBase64Encoded", Json::Bool(false)),
    ])
}

/// The caller as API Gateway describes an unauthenticated HTTPS client.
fn identity() -> Json {
    let mut members: Vec<(String, Json)> = [
        "accessKey",
        "accountId",
        "caller",
        "cognitoAuthenticationProvider",
        "cognitoAuthenticationType",
        "cognitoIdentityId",
        "cognitoIdentityPoolId",
        "principalOrgId",
    ]
    .into_iter()
    .map(|name| (name.to_string(), Json::Null))
    .collect();
    members.extend([
        ("sourceIp".to_string(), Json::str(SOURCE_IP)),
        ("user".to_string(), Json::Null),
        ("userAgent".to_string(), Json::str(USER_AGENT)),
        ("userArn".to_string(), Json::Null),
    ]);
    Json::Object(members)
}

fn authorizer_event(request: &Request, stamp: Stamp) -> Json {
    let bearer = [(
        "Authorization".to_string(),
        "Bearer <access token from POST /v1/auth/login>".to_string(),
    )];
    let headers = request.headers(stamp, &bearer);
    let object_or_empty = |pairs: &[(String, String)], json: Json| match json {
        Json::Null if pairs.is_empty() => Json::Object(Vec::new()),
        other => other,
    };
    Json::object([
        ("type", Json::str("REQUEST")),
        (
            "methodArn",
            Json::str(format!(
                "arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}/{STAGE}/{}{}",
                request.method, request.path
            )),
        ),
        ("resource", Json::str(&request.resource)),
        ("path", Json::str(&request.path)),
        ("httpMethod", Json::str(&request.method)),
        ("headers", single(&headers)),
        ("multiValueHeaders", multi(&headers)),
        (
            "queryStringParameters",
            object_or_empty(&request.query, single(&request.query)),
        ),
        (
            "multiValueQueryStringParameters",
            object_or_empty(&request.query, multi(&request.query)),
        ),
        (
            "pathParameters",
            object_or_empty(&request.path_parameters, single(&request.path_parameters)),
        ),
        ("stageVariables", Json::Object(Vec::new())),
        (
            "requestContext",
            Json::object([
                ("resourceId", Json::str(resource_id(&request.resource))),
                ("resourcePath", Json::str(&request.resource)),
                ("httpMethod", Json::str(&request.method)),
                ("extendedRequestId", Json::str("C6AF9AC6=")),
                ("requestTime", Json::str(stamp.request_time())),
                ("path", Json::str(format!("/{STAGE}{}", request.path))),
                ("accountId", Json::str(ACCOUNT)),
                ("protocol", Json::str("HTTP/1.1")),
                ("stage", Json::str(STAGE)),
                ("domainPrefix", Json::str(API_ID)),
                ("requestTimeEpoch", Json::Number(stamp.request_time_epoch())),
                ("requestId", Json::str(stamp.request_id())),
                (
                    "identity",
                    Json::object([
                        ("apiKey", Json::Null),
                        ("sourceIp", Json::str(SOURCE_IP)),
                        ("userAgent", Json::str(USER_AGENT)),
                    ]),
                ),
                ("domainName", Json::str(domain())),
                ("apiId", Json::str(API_ID)),
            ]),
        ),
    ])
}

fn sqs_event(job: &str) -> Json {
    let record = Json::object([
        (
            "messageId",
            Json::str("9f8b6c1e-2d3a-4b5c-8d7e-6f5a4b3c2d1e"),
        ),
        (
            "receiptHandle",
            Json::str("AQEBexampleReceiptHandleOfTheFirstReceive=="),
        ),
        ("body", Json::str(job)),
        (
            "attributes",
            Json::object([
                ("ApproximateReceiveCount", Json::str("1")),
                ("SentTimestamp", Json::str("1795334400000")),
                ("SenderId", Json::str("AROAEXAMPLEROLEID:pay-booking")),
                (
                    "ApproximateFirstReceiveTimestamp",
                    Json::str("1795334400050"),
                ),
            ]),
        ),
        ("messageAttributes", Json::Object(Vec::new())),
        ("md5OfBody", Json::str(md5::hex_digest(job.as_bytes()))),
        ("eventSource", Json::str("aws:sqs")),
        (
            "eventSourceARN",
            Json::str(format!(
                "arn:aws:sqs:{REGION}:{ACCOUNT}:itinera-JobsQueue-EXAMPLE"
            )),
        ),
        ("awsRegion", Json::str(REGION)),
    ]);
    Json::object([("Records", Json::Array(vec![record]))])
}

fn scheduled_event(function: &Function, stamp: Stamp) -> Json {
    Json::object([
        ("version", Json::str("0")),
        (
            "id",
            Json::str(format!(
                "5b1e2c3d-4e5f-6a7b-8c9d-{:012x}",
                stamp.hash & 0xffff_ffff_ffff
            )),
        ),
        ("detail-type", Json::str("Scheduled Event")),
        ("source", Json::str("aws.events")),
        ("account", Json::str(ACCOUNT)),
        ("time", Json::str("2026-11-21T08:00:00Z")),
        ("region", Json::str(REGION)),
        (
            "resources",
            Json::Array(vec![Json::str(format!(
                "arn:aws:events:{REGION}:{ACCOUNT}:rule/itinera-{}Schedule-EXAMPLE",
                function.logical_id()
            ))]),
        ),
        ("detail", Json::Object(Vec::new())),
    ])
}
