//! `template.yaml` against the code it deploys.
//!
//! The route table (`itinera_http::ROUTES`) and the table schema (`itinera::storage::TABLE`) are
//! the sources of truth; the template restates them for CloudFormation. These tests fail as soon
//! as the two drift apart: a route without a function (or the reverse), a function on the wrong
//! path or method, a policy wider or narrower than the route's store access, a table whose keys
//! or indexes differ from the schema, a function without a sample event, an environment variable
//! the code reads but the template does not set, an API Gateway error that is not a problem
//! document, a protected route the authorizer does not guard (or an anonymous one it does), a
//! token key readable by a function that has no use for it, the cursor key or a payment gateway
//! on a function that neither pages nor moves money, test cards on a production stage, email sent
//! from any identity but the configured sender, a security doc that forgets a function, a role
//! shared by functions whose permissions differ, a log group per function, an S3 grant or the
//! files bucket on a function whose route handles no files (or beyond its route's scope), a
//! files bucket that is public, unencrypted, unversioned or keeps unconfirmed uploads.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::OnceLock;

use itinera::auth::keys::{DEFAULT_AUDIENCE, DEFAULT_ISSUER};
use itinera::background::{BACKGROUND_FUNCTIONS, Trigger, background_function};
use itinera::jobs::{EMAIL_LEASE, MAX_RECEIVES};
use itinera::metrics::emf::NAMESPACE;
use itinera::metrics::{
    BOOKINGS_CREATED, COLD_STARTS, CONTRACTS_RESERVED, HOLDS_EXPIRED, JOBS_DEAD_LETTERED,
    JOBS_FAILED, JOBS_PROCESSED, PAYMENTS_DECLINED, RATE_LIMITED, REQUEST_DURATION, REQUESTS,
    RESERVATION_CONFLICTS, SOLD_OUT_REFUSALS,
};
use itinera::payments::{GATEWAY_VARIABLE, GatewaySetting, Platform, STAGE_KIND_VARIABLE};
use itinera::ratelimit::{GlobalEnforcement, RateLimitConfig};
use itinera::storage::TABLE;
use itinera_functions::metrics::PRODUCT_LINE;
use itinera_http::routes::FileAccess;
use itinera_http::{
    AUTHORIZER_FUNCTION, Access, PLATFORM_FUNCTIONS, ROUTES, Route, StoreAccess, route_of_function,
};
use serde_yaml_ng::Value;

/// The function that answers CORS preflight requests (a platform function, not a route).
const PREFLIGHT: &str = "preflight";

/// The authorizer the Api applies to every method that does not opt out.
const BEARER_AUTHORIZER: &str = "BearerAuthorizer";

/// The template parameters naming the SSM parameters of the token keys, and the variables that
/// hand those names to the functions.
const PRIVATE_KEY_PARAMETER: &str = "JwtPrivateKeyParameter";
const PUBLIC_KEY_PARAMETER: &str = "JwtPublicKeyParameter";
const PRIVATE_KEY_PARAMETER_VARIABLE: &str = "JWT_PRIVATE_KEY_PARAMETER";
const PUBLIC_KEY_PARAMETER_VARIABLE: &str = "JWT_PUBLIC_KEY_PARAMETER";

/// The key parameter a function may read, through which variable: the private key for the
/// routes that sign tokens, the public key for the authorizer, nothing for the others.
fn key_parameter_of(name: &str) -> Option<(&'static str, &'static str)> {
    if name == AUTHORIZER_FUNCTION {
        return Some((PUBLIC_KEY_PARAMETER, PUBLIC_KEY_PARAMETER_VARIABLE));
    }
    route_of_function(name)
        .filter(|route| route.signs_tokens)
        .map(|_| (PRIVATE_KEY_PARAMETER, PRIVATE_KEY_PARAMETER_VARIABLE))
}

/// DynamoDB actions each store access level grants, and nothing else.
fn expected_actions(access: StoreAccess) -> BTreeSet<&'static str> {
    let read = ["dynamodb:GetItem", "dynamodb:Query"];
    let write = [
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:ConditionCheckItem",
    ];
    match access {
        StoreAccess::None => BTreeSet::new(),
        StoreAccess::Read => read.into_iter().collect(),
        StoreAccess::ReadWrite => read.into_iter().chain(write).collect(),
    }
}

/// What the Globals must hand every function: each variable the functions read, except
/// `DYNAMODB_ENDPOINT`, which exists only to point local runs at a local DynamoDB.
const ENVIRONMENT: &[&str] = &[
    "TABLE_NAME",
    "CORS_ALLOWED_ORIGINS",
    "LOG_LEVEL",
    "DYNAMODB_CONNECT_TIMEOUT_MS",
    "DYNAMODB_ATTEMPT_TIMEOUT_MS",
    "DYNAMODB_OPERATION_TIMEOUT_MS",
    "DYNAMODB_MAX_ATTEMPTS",
    "AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH",
    "JWT_ISSUER",
    "JWT_AUDIENCE",
    "RATE_WINDOW_MS",
    "RATE_MAX",
    "RATE_WRITE_MAX",
    "RATE_AUTH_MAX",
    "RATE_AUTH_ACCOUNT_MAX",
    "RATE_GLOBAL_ENFORCEMENT",
    "BOOKING_HOLD_MINUTES",
    "MAX_PENDING_BOOKINGS",
];

/// The variable naming the jobs queue, set on exactly the functions that send jobs.
const JOBS_QUEUE_VARIABLE: &str = "JOBS_QUEUE_URL";
/// The variable naming the sender of emails, set on exactly the functions that send email.
const MAIL_FROM_VARIABLE: &str = "MAIL_FROM";

/// Whether a function (route or background) sends jobs to the queue.
fn enqueues_jobs(name: &str) -> bool {
    route_of_function(name).is_some_and(|route| route.enqueues_jobs)
        || background_function(name).is_some_and(|background| background.enqueues_jobs)
}

/// Whether a function (route or background) charges or refunds through the payment gateway.
fn moves_money(name: &str) -> bool {
    route_of_function(name).is_some_and(|route| route.moves_money)
        || background_function(name).is_some_and(|background| background.moves_money)
}

/// Whether a function addresses the fleet's staff, and so holds `FLEET_ALERTS_EMAIL`.
fn alerts_fleet(name: &str) -> bool {
    background_function(name).is_some_and(|background| background.alerts_fleet)
}

/// Whether a function answers lists in pages, and so signs cursors.
fn pages(name: &str) -> bool {
    route_of_function(name).is_some_and(|route| route.pages)
}

/// What a function does with uploaded files (routes only).
fn files(name: &str) -> Option<FileAccess> {
    route_of_function(name).and_then(|route| route.files)
}

/// The variable naming the files bucket, set on exactly the functions that handle files.
const BLOB_BUCKET_VARIABLE: &str = "BLOB_BUCKET";

/// Whether a function sends email.
fn sends_email(name: &str) -> bool {
    background_function(name).is_some_and(|background| background.sends_email)
}

/// Headers every response carries, API Gateway's own error responses included.
const SECURITY_HEADERS: &[(&str, &str)] = &[
    (
        "Strict-Transport-Security",
        "max-age=31536000; includeSubDomains",
    ),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    (
        "Content-Security-Policy",
        "default-src 'none'; frame-ancestors 'none'",
    ),
    ("Cross-Origin-Resource-Policy", "same-origin"),
    ("X-XSS-Protection", "0"),
];

// ------------------------------------------------------------------ reading the template

pub(super) fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives one level below the repository root")
        .to_path_buf()
}

pub(super) fn template() -> &'static Value {
    static TEMPLATE: OnceLock<Value> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let path = repo_root().join("template.yaml");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|error| panic!("reading {}: {error}", path.display()));
        serde_yaml_ng::from_str(&text)
            .unwrap_or_else(|error| panic!("parsing {}: {error}", path.display()))
    })
}

pub(super) fn resources() -> &'static serde_yaml_ng::Mapping {
    template()["Resources"]
        .as_mapping()
        .expect("the template has a Resources mapping")
}

pub(super) fn resource(logical_id: &str) -> &'static Value {
    let resource = &resources()[logical_id];
    assert!(
        !resource.is_null(),
        "template.yaml has no resource {logical_id}"
    );
    resource
}

pub(super) fn text<'a>(value: &'a Value, what: &str) -> &'a str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{what} should be a plain string, found {value:?}"))
}

/// `(tag, value)` of a CloudFormation short-form intrinsic such as `!Ref Table`.
pub(super) fn intrinsic(value: &Value) -> Option<(String, &Value)> {
    match value {
        Value::Tagged(tagged) => Some((tagged.tag.to_string(), &tagged.value)),
        _ => None,
    }
}

pub(super) fn is_ref(value: &Value, target: &str) -> bool {
    matches!(intrinsic(value), Some((tag, inner)) if tag == "!Ref" && inner.as_str() == Some(target))
}

/// `HealthFunction` for `health`, `CreateAirplaneFunction` for `create-airplane`.
pub(super) fn logical_id_of(function: &str) -> String {
    let mut id: String = function
        .split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect();
    id.push_str("Function");
    id
}

/// Every `AWS::Serverless::Function`, keyed by the binary it runs.
fn functions() -> BTreeMap<String, (String, &'static Value)> {
    let mut functions = BTreeMap::new();
    for (logical_id, resource) in resources() {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let logical_id = text(logical_id, "a logical id").to_string();
        let metadata = &resource["Metadata"];
        assert_eq!(
            metadata["BuildMethod"].as_str(),
            Some("rust-cargolambda"),
            "{logical_id} must be built with cargo-lambda"
        );
        let binary = text(
            &metadata["BuildProperties"]["Binary"],
            &format!("{logical_id}'s Metadata.BuildProperties.Binary"),
        )
        .to_string();
        let previous = functions.insert(binary.clone(), (logical_id.clone(), resource));
        assert!(
            previous.is_none(),
            "two functions run the binary {binary}: {} and {logical_id}",
            previous.map(|(id, _)| id).unwrap_or_default()
        );
    }
    functions
}

pub(super) fn function(name: &str) -> &'static Value {
    resource(&logical_id_of(name))
}

/// One API event of a function: (path, upper-case method).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct ApiEvent {
    path: String,
    method: String,
}

/// The Api events of a function, with each event's `Auth` (null when it has none); none for a
/// function without Events (the authorizer).
fn api_events_with_auth(name: &str) -> Vec<(ApiEvent, &'static Value)> {
    let events = &function(name)["Properties"]["Events"];
    let Some(events) = events.as_mapping() else {
        assert!(events.is_null(), "{name}: Events should be a mapping");
        return Vec::new();
    };
    events
        .iter()
        .map(|(event_name, event)| {
            let event_name = text(event_name, "an event name");
            assert_eq!(
                event["Type"].as_str(),
                Some("Api"),
                "{name}.{event_name} should be an Api (REST API) event"
            );
            let properties = &event["Properties"];
            assert!(
                is_ref(&properties["RestApiId"], "Api"),
                "{name}.{event_name} should attach to the template's Api (RestApiId: !Ref Api), \
                 not to SAM's implicit API"
            );
            let endpoint = ApiEvent {
                path: text(&properties["Path"], "an event Path").to_string(),
                method: text(&properties["Method"], "an event Method").to_ascii_uppercase(),
            };
            (endpoint, &properties["Auth"])
        })
        .collect()
}

fn api_events(name: &str) -> Vec<ApiEvent> {
    api_events_with_auth(name)
        .into_iter()
        .map(|(endpoint, _)| endpoint)
        .collect()
}

/// The functions API Gateway invokes: the routes and the platform functions.
fn http_functions() -> BTreeSet<String> {
    ROUTES
        .iter()
        .map(|route| route.function)
        .chain(PLATFORM_FUNCTIONS.iter().copied())
        .map(str::to_string)
        .collect()
}

/// Every function: the HTTP ones and the background ones.
fn expected_functions() -> BTreeSet<String> {
    let mut functions = http_functions();
    functions.extend(
        BACKGROUND_FUNCTIONS
            .iter()
            .map(|background| background.function.to_string()),
    );
    functions
}

fn route_paths() -> BTreeSet<&'static str> {
    ROUTES.iter().map(|route| route.path).collect()
}

// ------------------------------------------------------------------ functions and routes

#[test]
fn declares_one_function_per_route_platform_and_background_function() {
    let declared: BTreeSet<String> = functions().into_keys().collect();
    let expected = expected_functions();
    assert_eq!(
        declared,
        expected,
        "functions in template.yaml (left) differ from ROUTES + PLATFORM_FUNCTIONS + \
         BACKGROUND_FUNCTIONS (right); \
         missing: {:?}, unexpected: {:?}",
        expected.difference(&declared).collect::<Vec<_>>(),
        declared.difference(&expected).collect::<Vec<_>>()
    );
    for (binary, (logical_id, _)) in functions() {
        assert_eq!(
            logical_id,
            logical_id_of(&binary),
            "the function running {binary} should be named {}",
            logical_id_of(&binary)
        );
    }
}

#[test]
fn each_route_function_serves_exactly_its_route() {
    for route in ROUTES {
        let events = api_events(route.function);
        assert_eq!(
            events,
            vec![ApiEvent {
                path: route.path.to_string(),
                method: route.method.as_str().to_string(),
            }],
            "{} should have exactly one Api event, {} {}",
            route.function,
            route.method,
            route.path
        );
    }
}

/// API Gateway matches a request to the most specific resource first and only then looks for
/// the method, so a `/{proxy+}` OPTIONS method never sees requests to `/v1/...`: preflight must
/// be attached to every route path itself.
#[test]
fn preflight_answers_options_on_every_route_path_and_nothing_else() {
    assert!(PLATFORM_FUNCTIONS.contains(&PREFLIGHT));
    let events = api_events(PREFLIGHT);
    assert!(
        events.iter().all(|event| event.method == "OPTIONS"),
        "preflight should only answer OPTIONS: {events:?}"
    );
    let paths: Vec<&str> = events.iter().map(|event| event.path.as_str()).collect();
    let distinct: BTreeSet<&str> = paths.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        paths.len(),
        "duplicate preflight paths: {paths:?}"
    );
    assert_eq!(
        distinct,
        route_paths(),
        "preflight paths differ from the route paths"
    );
}

#[test]
fn no_two_functions_claim_the_same_method_and_path() {
    let mut owners: BTreeMap<ApiEvent, String> = BTreeMap::new();
    for name in http_functions() {
        for event in api_events(&name) {
            if let Some(other) = owners.insert(event.clone(), name.clone()) {
                panic!(
                    "{} {} is claimed by {other} and {name}",
                    event.method, event.path
                );
            }
        }
    }
}

#[test]
fn functions_run_on_provided_al2023_arm64_built_from_the_workspace() {
    let globals = &template()["Globals"]["Function"];
    assert_eq!(globals["Runtime"].as_str(), Some("provided.al2023"));
    assert_eq!(globals["Handler"].as_str(), Some("bootstrap"));
    assert_eq!(
        globals["Architectures"].as_sequence().map(Vec::as_slice),
        Some(&[Value::from("arm64")][..])
    );
    // cargo-lambda writes target/lambda/<binary>/bootstrap under the workspace root, which is
    // where sam build looks for it.
    assert_eq!(globals["CodeUri"].as_str(), Some("./"));
    assert_eq!(globals["Tracing"].as_str(), Some("Active"));
    assert_eq!(globals["LoggingConfig"]["LogFormat"].as_str(), Some("JSON"));
    for name in expected_functions() {
        let properties = &function(&name)["Properties"];
        for setting in ["Runtime", "Handler", "Architectures", "CodeUri"] {
            assert!(
                properties[setting].is_null(),
                "{name} overrides the global {setting}; change Globals instead"
            );
        }
        // A function's own Environment (SAM merges it over the Globals) holds only its product
        // line (its metrics' dimension), the name of the key parameter it may read, the queue it sends jobs to, the address it sends mail
        // from, the cursor key of a function that pages, the gateway of one that moves money and
        // the fleet's alerts address of one that addresses the fleet's staff; everything else
        // belongs in Globals.
        let own: BTreeSet<&str> = properties["Environment"]["Variables"]
            .as_mapping()
            .map(|variables| {
                variables
                    .keys()
                    .map(|key| text(key, "a variable name"))
                    .collect()
            })
            .unwrap_or_default();
        let mut expected: BTreeSet<&str> = key_parameter_of(&name)
            .map(|(_, variable)| variable)
            .into_iter()
            .collect();
        expected.insert(PRODUCT_LINE);
        if enqueues_jobs(&name) {
            expected.insert(JOBS_QUEUE_VARIABLE);
        }
        if sends_email(&name) {
            expected.insert(MAIL_FROM_VARIABLE);
        }
        if pages(&name) {
            expected.insert("CURSOR_SIGNING_KEY");
        }
        if moves_money(&name) {
            expected.extend([GATEWAY_VARIABLE, STAGE_KIND_VARIABLE]);
        }
        if files(&name).is_some() {
            expected.insert(BLOB_BUCKET_VARIABLE);
        }
        if alerts_fleet(&name) {
            expected.insert("FLEET_ALERTS_EMAIL");
        }
        assert_eq!(
            own, expected,
            "{name} sets variables of its own beyond its key parameter, queue, sender, cursor \
             key, payment gateway and files bucket; change Globals instead"
        );
    }
}

// ------------------------------------------------------------------ permissions

/// What a function's role grants: DynamoDB actions (on the table and its indexes only) and
/// SSM actions with the template parameter naming the one SSM parameter each applies to. Every
/// policy must be an inline document: SAM policy templates and managed policies are wider than
/// any function needs (the role's two managed policies, logging and tracing, are checked in
/// `each_permission_set_has_one_role_that_only_lambda_assumes`).
#[derive(Debug, Default, PartialEq, Eq)]
struct Grants {
    dynamodb: BTreeSet<String>,
    ssm: BTreeSet<(String, String)>,
    /// SQS actions that send, on the jobs queue only.
    sqs: BTreeSet<String>,
    /// SQS actions that receive (an event source mapping's), on the jobs queue only.
    sqs_receive: BTreeSet<String>,
    /// SES actions, on the sender identity only.
    ses: BTreeSet<String>,
    /// S3 actions with the resource each applies to, in the files bucket only: `FilesBucket.Arn`
    /// for the bucket, or the `${FilesBucket.Arn}/...` pattern of its objects.
    s3: BTreeSet<(String, String)>,
}

/// The logical id of the role a function runs with (`Role: !GetAtt <Role>.Arn`). A function
/// declares no `Policies` of its own: SAM would create a role per function for them.
fn role_id_of(name: &str) -> String {
    let properties = &function(name)["Properties"];
    assert!(
        properties["Policies"].is_null(),
        "{name}: permissions belong to its shared role, not to Policies on the function"
    );
    match intrinsic(&properties["Role"]) {
        Some((tag, target)) if tag == "!GetAtt" => {
            let target = text(target, "a !GetAtt target");
            let role = target
                .strip_suffix(".Arn")
                .unwrap_or_else(|| panic!("{name}: Role should be !GetAtt <Role>.Arn: {target}"));
            assert_eq!(
                resource(role)["Type"].as_str(),
                Some("AWS::IAM::Role"),
                "{name}: {role} is no IAM role"
            );
            role.to_string()
        }
        _ => panic!("{name}: Role should be !GetAtt <Role>.Arn of a role of the template"),
    }
}

/// Every statement of the inline policies of a function's role.
fn statements_of(name: &str) -> Vec<&'static Value> {
    let role = role_id_of(name);
    let policies = &resource(&role)["Properties"]["Policies"];
    let Some(policies) = policies.as_sequence() else {
        assert!(
            policies.is_null(),
            "{name}: {role}'s Policies should be a list of inline policy documents"
        );
        return Vec::new();
    };
    policies
        .iter()
        .flat_map(|policy| {
            assert!(
                policy["PolicyName"].is_string(),
                "{name}: {role}'s policies are named inline documents: {policy:?}"
            );
            policy["PolicyDocument"]["Statement"]
                .as_sequence()
                .unwrap_or_else(|| {
                    panic!("{name}: {policy:?} is not an inline policy document (Statement list)")
                })
        })
        .collect()
}

fn grants(name: &str) -> Grants {
    let mut grants = Grants::default();
    for statement in statements_of(name) {
        assert_eq!(
            statement["Effect"].as_str(),
            Some("Allow"),
            "{name}: {statement:?}"
        );
        let listed: Vec<&str> = match &statement["Action"] {
            Value::String(action) => vec![action.as_str()],
            Value::Sequence(list) => list
                .iter()
                .map(|action| text(action, "an Action"))
                .collect(),
            other => panic!("{name}: unexpected Action {other:?}"),
        };
        assert!(
            listed.iter().all(|action| !action.contains('*')),
            "{name}: wildcard actions are not least privilege: {listed:?}"
        );
        if listed.iter().all(|action| action.starts_with("dynamodb:")) {
            assert_table_scoped(name, &statement["Resource"]);
            grants
                .dynamodb
                .extend(listed.into_iter().map(str::to_string));
        } else if listed.iter().all(|action| action.starts_with("ssm:")) {
            let parameter = parameter_of(name, &statement["Resource"]);
            grants.ssm.extend(
                listed
                    .into_iter()
                    .map(|action| (action.to_string(), parameter.clone())),
            );
        } else if listed.iter().all(|action| action.starts_with("sqs:")) {
            assert_single_resource(
                name,
                &statement["Resource"],
                |resource| matches!(intrinsic(resource), Some((tag, inner)) if tag == "!GetAtt" && inner.as_str() == Some("JobsQueue.Arn")),
                "the jobs queue (!GetAtt JobsQueue.Arn)",
            );
            for action in listed {
                if action == "sqs:SendMessage" {
                    grants.sqs.insert(action.to_string());
                } else {
                    grants.sqs_receive.insert(action.to_string());
                }
            }
        } else if listed.iter().all(|action| action.starts_with("ses:")) {
            // Which identities: `email_may_be_sent_only_from_the_configured_sender_identity`.
            grants.ses.extend(listed.into_iter().map(str::to_string));
        } else if listed.iter().all(|action| action.starts_with("s3:")) {
            let resources = statement["Resource"]
                .as_sequence()
                .unwrap_or_else(|| panic!("{name}: an S3 Resource should be a list"));
            for resource in resources {
                let resource = match intrinsic(resource) {
                    Some((tag, inner))
                        if tag == "!GetAtt" && inner.as_str() == Some("FilesBucket.Arn") =>
                    {
                        "FilesBucket.Arn".to_string()
                    }
                    Some((tag, inner))
                        if tag == "!Sub"
                            && inner
                                .as_str()
                                .is_some_and(|arn| arn.starts_with("${FilesBucket.Arn}/")) =>
                    {
                        text(inner, "an object ARN pattern").to_string()
                    }
                    _ => panic!("{name}: S3 grants apply to the files bucket only: {resource:?}"),
                };
                grants.s3.extend(
                    listed
                        .iter()
                        .map(|action| (action.to_string(), resource.clone())),
                );
            }
        } else {
            panic!(
                "{name}: only DynamoDB, SSM, SQS, SES and S3 permissions are expected, one \
                     service per statement: {listed:?}"
            );
        }
    }
    grants
}

/// The managed policies of every function role: writing its logs and its X-Ray segments, as SAM
/// gives the roles it creates; anything else a function may do is in the role's inline policy.
const ROLE_MANAGED_POLICIES: &[&str] = &[
    "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:${AWS::Partition}:iam::aws:policy/AWSXrayWriteOnlyAccess",
];

/// Functions with the same permissions share one role, and functions with different ones never
/// do, so a shared role grants each of its functions exactly what its table entry needs (the
/// per-grant tests above check each function through its role). Every function role is assumed
/// by Lambda alone and by at least one function.
#[test]
fn each_permission_set_has_one_role_that_only_lambda_assumes() {
    let mut roles: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for name in expected_functions() {
        roles.entry(role_id_of(&name)).or_default().push(name);
    }
    let roles_by_grants: Vec<(String, Grants)> = roles
        .iter()
        .map(|(role, functions)| {
            let first = grants(&functions[0]);
            for other in &functions[1..] {
                assert_eq!(
                    grants(other),
                    first,
                    "{role} is shared by {} and {other}, whose permissions differ",
                    functions[0]
                );
            }
            (role.clone(), first)
        })
        .collect();
    for (index, (role, grants)) in roles_by_grants.iter().enumerate() {
        for (other, other_grants) in &roles_by_grants[index + 1..] {
            assert_ne!(
                grants, other_grants,
                "{role} and {other} grant the same: one role per permission set"
            );
        }
        let properties = &resource(role)["Properties"];
        let trust = &properties["AssumeRolePolicyDocument"]["Statement"];
        let trust = trust.as_sequence().expect("a trust policy statement list");
        assert_eq!(trust.len(), 1, "{role}: {trust:?}");
        assert_eq!(trust[0]["Effect"].as_str(), Some("Allow"));
        assert_eq!(
            trust[0]["Principal"]["Service"].as_str(),
            Some("lambda.amazonaws.com"),
            "{role} is assumed by Lambda only"
        );
        assert_eq!(trust[0]["Action"].as_str(), Some("sts:AssumeRole"));
        let managed: Vec<&str> = properties["ManagedPolicyArns"]
            .as_sequence()
            .expect("ManagedPolicyArns")
            .iter()
            .map(|arn| match intrinsic(arn) {
                Some((tag, inner)) if tag == "!Sub" => text(inner, "a managed policy ARN"),
                _ => panic!("{role}: unexpected managed policy {arn:?}"),
            })
            .collect();
        assert_eq!(managed, ROLE_MANAGED_POLICIES, "{role}'s managed policies");
    }
    let function_roles: BTreeSet<&String> = roles.keys().collect();
    for (logical_id, resource) in resources() {
        let logical_id = text(logical_id, "a logical id").to_string();
        if resource["Type"].as_str() == Some("AWS::IAM::Role")
            && logical_id != "ApiGatewayCloudWatchRole"
        {
            assert!(
                function_roles.contains(&logical_id),
                "{logical_id} is assumed by no function"
            );
        }
    }
}

/// The worker's role may receive and delete the jobs queue's messages (its event source mapping
/// does, with the function's role); no other function may.
#[test]
fn only_the_queue_worker_receives_jobs() {
    for name in expected_functions() {
        let drains = background_function(&name)
            .is_some_and(|background| background.trigger == Trigger::JobsQueue);
        let expected: BTreeSet<String> = if drains {
            [
                "sqs:ReceiveMessage",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
            ]
            .map(str::to_string)
            .into()
        } else {
            BTreeSet::new()
        };
        assert_eq!(
            grants(&name).sqs_receive,
            expected,
            "{name}: receives from the jobs queue exactly when it drains it"
        );
    }
}

/// Each function logs to a log group of the template (its product line's, shared through
/// LoggingConfig rather than one per function), kept for LogRetentionDays; every log group of
/// the template is written by some function or is the API's access log.
#[test]
fn functions_log_to_shared_log_groups_with_the_configured_retention() {
    let mut used: BTreeMap<String, usize> = BTreeMap::new();
    for name in expected_functions() {
        let group = &function(&name)["Properties"]["LoggingConfig"]["LogGroup"];
        let group = match intrinsic(group) {
            Some((tag, inner)) if tag == "!Ref" => text(inner, "a log group id").to_string(),
            _ => panic!("{name}: LoggingConfig.LogGroup should be !Ref <a log group>: {group:?}"),
        };
        let resource = resource(&group);
        assert_eq!(
            resource["Type"].as_str(),
            Some("AWS::Logs::LogGroup"),
            "{name}: {group}"
        );
        assert!(
            is_ref(
                &resource["Properties"]["RetentionInDays"],
                "LogRetentionDays"
            ),
            "{group} keeps logs for LogRetentionDays"
        );
        *used.entry(group).or_default() += 1;
    }
    assert!(
        used.values().all(|&writers| writers > 1),
        "log groups are shared by the functions of a product line, not one per function: {used:?}"
    );
    for (logical_id, resource) in resources() {
        let logical_id = text(logical_id, "a logical id");
        if resource["Type"].as_str() == Some("AWS::Logs::LogGroup")
            && logical_id != "ApiAccessLogGroup"
        {
            assert!(
                used.contains_key(logical_id),
                "{logical_id} is written by no function"
            );
        }
    }
}

/// The template parameter an SSM statement's single resource is the ARN of:
/// `!Sub arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${<Parameter>}`.
/// Parameter names start with `/`, hence no slash after `parameter`.
fn parameter_of(name: &str, resources: &Value) -> String {
    let resources = resources
        .as_sequence()
        .unwrap_or_else(|| panic!("{name}: an SSM Resource should be a list"));
    assert_eq!(
        resources.len(),
        1,
        "{name}: an SSM statement names one parameter: {resources:?}"
    );
    let arn = match intrinsic(&resources[0]) {
        Some((tag, inner)) if tag == "!Sub" => text(inner, "an SSM parameter ARN"),
        _ => panic!("{name}: unexpected SSM resource {:?}", resources[0]),
    };
    let parameter = arn
        .strip_prefix("arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${")
        .and_then(|rest| rest.strip_suffix('}'))
        .unwrap_or_else(|| panic!("{name}: {arn} is not the ARN of one parameter of the stack"));
    assert!(
        !template()["Parameters"][parameter].is_null(),
        "{name}: {parameter} is not a template parameter"
    );
    parameter.to_string()
}

/// A statement's resource list holds exactly one resource, the one `expected` describes.
fn assert_single_resource(
    name: &str,
    resources: &Value,
    is_expected: impl Fn(&Value) -> bool,
    expected: &str,
) {
    let resources = resources
        .as_sequence()
        .unwrap_or_else(|| panic!("{name}: Resource should be a list"));
    assert!(
        resources.len() == 1 && is_expected(&resources[0]),
        "{name}: the statement should apply to {expected} only: {resources:?}"
    );
}

/// The resources of a DynamoDB statement: the table and its indexes, nothing else.
fn assert_table_scoped(name: &str, resources: &Value) {
    let resources = resources
        .as_sequence()
        .unwrap_or_else(|| panic!("{name}: Resource should list the table and its indexes"));
    let mut table = false;
    let mut indexes = false;
    for resource in resources {
        match intrinsic(resource) {
            Some((tag, inner)) if tag == "!GetAtt" && inner.as_str() == Some("Table.Arn") => {
                table = true;
            }
            Some((tag, inner))
                if tag == "!Sub" && inner.as_str() == Some("${Table.Arn}/index/*") =>
            {
                indexes = true;
            }
            _ => panic!("{name}: unexpected policy resource {resource:?}"),
        }
    }
    assert!(
        table && indexes,
        "{name}: grant on both the table and its indexes"
    );
    assert_eq!(resources.len(), 2, "{name}: {resources:?}");
}

#[test]
fn policies_grant_exactly_the_store_access_of_each_route() {
    let accesses = ROUTES
        .iter()
        .map(|route: &&Route| (route.function, route.store_access))
        .chain(
            PLATFORM_FUNCTIONS
                .iter()
                .map(|&name| (name, StoreAccess::None)),
        )
        .chain(
            BACKGROUND_FUNCTIONS
                .iter()
                .map(|background| (background.function, background.store_access)),
        );
    for (name, access) in accesses {
        let granted = grants(name).dynamodb;
        let expected: BTreeSet<String> = expected_actions(access)
            .into_iter()
            .map(str::to_string)
            .collect();
        assert_eq!(
            granted, expected,
            "{name} ({access:?}) has the wrong DynamoDB actions"
        );
    }
}

/// Rate-limit counters are `UpdateItem`s. Every route that counts in the write or auth tier must
/// be able to write one; with the global tier at the edge, a read-only route counts nothing and
/// must hold no write action at all.
#[test]
fn routes_that_count_in_the_table_may_update_it_and_reads_may_not_write() {
    let writes = expected_actions(StoreAccess::ReadWrite)
        .difference(&expected_actions(StoreAccess::Read))
        .map(|action| action.to_string())
        .collect::<BTreeSet<_>>();
    for route in ROUTES {
        let granted = grants(route.function).dynamodb;
        if route.method == http::Method::GET {
            assert!(
                granted.is_disjoint(&writes),
                "{}: a GET route counts no limiter in edge mode and needs no write: {granted:?}",
                route.function
            );
        } else {
            assert!(
                granted.contains("dynamodb:UpdateItem"),
                "{} counts in the write or auth tier and needs dynamodb:UpdateItem",
                route.function
            );
        }
    }
}

/// The private key signs every access token; only the functions that issue tokens may read it.
/// The authorizer reads the public key and nothing else; no other function touches SSM.
#[test]
fn only_token_signers_read_the_private_key_and_only_the_authorizer_the_public_key() {
    for name in expected_functions() {
        let expected: BTreeSet<(String, String)> = key_parameter_of(&name)
            .map(|(parameter, _)| ("ssm:GetParameter".to_string(), parameter.to_string()))
            .into_iter()
            .collect();
        assert_eq!(grants(&name).ssm, expected, "{name}'s SSM permissions");

        let variables = &function(&name)["Properties"]["Environment"]["Variables"];
        for (parameter, variable) in [
            (PRIVATE_KEY_PARAMETER, PRIVATE_KEY_PARAMETER_VARIABLE),
            (PUBLIC_KEY_PARAMETER, PUBLIC_KEY_PARAMETER_VARIABLE),
        ] {
            let given = &variables[variable];
            if key_parameter_of(&name) == Some((parameter, variable)) {
                assert!(
                    is_ref(given, parameter),
                    "{name}: {variable} should be !Ref {parameter}, found {given:?}"
                );
            } else {
                assert!(given.is_null(), "{name} should not be given {variable}");
            }
        }
    }
    let signers: BTreeSet<&str> = ROUTES
        .iter()
        .filter(|route| route.signs_tokens)
        .map(|route| route.function)
        .collect();
    assert_eq!(
        signers,
        BTreeSet::from(["login", "refresh", "change-my-password"])
    );

    let globals = &template()["Globals"]["Function"]["Environment"]["Variables"];
    for variable in [
        PRIVATE_KEY_PARAMETER_VARIABLE,
        PUBLIC_KEY_PARAMETER_VARIABLE,
        "JWT_PRIVATE_KEY",
        "JWT_PUBLIC_KEY",
    ] {
        assert!(
            globals[variable].is_null(),
            "{variable} must not reach every function through Globals"
        );
    }
    for (parameter, default) in [
        (PRIVATE_KEY_PARAMETER, "/itinera/jwt/private-key"),
        (PUBLIC_KEY_PARAMETER, "/itinera/jwt/public-key"),
    ] {
        let parameter = &template()["Parameters"][parameter];
        assert_eq!(parameter["Type"].as_str(), Some("String"));
        assert_eq!(parameter["Default"].as_str(), Some(default));
    }
}

// ------------------------------------------------------------------ authorizer

#[test]
fn the_authorizer_runs_for_api_gateway_only() {
    let authorizer = function(AUTHORIZER_FUNCTION);
    assert!(
        authorizer["Properties"]["Events"].is_null(),
        "the authorizer answers API Gateway, not clients: it has no Api event"
    );
    assert!(grants(AUTHORIZER_FUNCTION).dynamodb.is_empty());

    let auth = &resource("Api")["Properties"]["Auth"];
    assert_eq!(
        auth["DefaultAuthorizer"].as_str(),
        Some(BEARER_AUTHORIZER),
        "every method needs a token unless it opts out"
    );
    // Preflight is our own function's OPTIONS events, which opt out themselves; SAM's flag only
    // concerns the OPTIONS methods of its Cors setting.
    assert_eq!(
        auth["AddDefaultAuthorizerToCorsPreflight"].as_bool(),
        Some(false)
    );
    let authorizers = auth["Authorizers"]
        .as_mapping()
        .expect("Api.Properties.Auth.Authorizers");
    assert_eq!(authorizers.len(), 1, "one authorizer: {authorizers:?}");
    let bearer = &auth["Authorizers"][BEARER_AUTHORIZER];
    assert_eq!(bearer["FunctionPayloadType"].as_str(), Some("REQUEST"));
    assert!(
        matches!(
            intrinsic(&bearer["FunctionArn"]),
            Some((tag, inner)) if tag == "!GetAtt"
                && inner.as_str() == Some("AuthorizerFunction.Arn")
        ),
        "the bearer authorizer runs AuthorizerFunction: {:?}",
        bearer["FunctionArn"]
    );
    let identity = &bearer["Identity"];
    assert_eq!(
        identity["Headers"].as_sequence().map(Vec::as_slice),
        Some(&[Value::from("Authorization")][..]),
        "the answer is cached per Authorization header, and only that"
    );
    // The cached answer allows the whole stage; keep it shorter than an access token's life so
    // an expired token is refused soon after it expires.
    assert_eq!(identity["ReauthorizeEvery"].as_u64(), Some(60));
}

/// `Auth: Authorizer: NONE` on an event if and only if its route is anonymous; the preflight
/// methods always, since browsers send preflight requests without credentials.
#[test]
fn exactly_the_anonymous_routes_and_preflight_opt_out_of_the_authorizer() {
    let opts_out = |auth: &Value| match &auth["Authorizer"] {
        Value::Null => false,
        Value::String(name) if name == "NONE" => true,
        Value::String(name) if name == BEARER_AUTHORIZER => false,
        other => panic!("unexpected authorizer {other:?}"),
    };
    for route in ROUTES {
        for (endpoint, auth) in api_events_with_auth(route.function) {
            assert_eq!(
                opts_out(auth),
                route.access == Access::Anonymous,
                "{} ({:?}) {} {}: Authorizer NONE exactly for anonymous routes",
                route.function,
                route.access,
                endpoint.method,
                endpoint.path
            );
        }
    }
    for (endpoint, auth) in api_events_with_auth(PREFLIGHT) {
        assert!(
            opts_out(auth),
            "preflight OPTIONS {} needs Authorizer NONE",
            endpoint.path
        );
    }
}

// ------------------------------------------------------------------ table

fn key_schema(value: &Value, what: &str) -> Vec<(String, String)> {
    value
        .as_sequence()
        .unwrap_or_else(|| panic!("{what}: KeySchema should be a list"))
        .iter()
        .map(|key| {
            (
                text(&key["AttributeName"], "a key AttributeName").to_string(),
                text(&key["KeyType"], "a KeyType").to_string(),
            )
        })
        .collect()
}

fn hash_range(partition: &str, sort: &str) -> Vec<(String, String)> {
    vec![
        (partition.to_string(), "HASH".to_string()),
        (sort.to_string(), "RANGE".to_string()),
    ]
}

#[test]
fn table_matches_the_storage_schema() {
    let table = resource("Table");
    assert_eq!(table["Type"].as_str(), Some("AWS::DynamoDB::Table"));
    let properties = &table["Properties"];

    assert_eq!(
        key_schema(&properties["KeySchema"], "Table"),
        hash_range(TABLE.partition_key, TABLE.sort_key)
    );

    let mut expected_attributes = BTreeSet::from([TABLE.partition_key, TABLE.sort_key]);
    for index in TABLE.indexes {
        expected_attributes.extend([index.partition_key, index.sort_key]);
    }
    let attributes: BTreeMap<&str, &str> = properties["AttributeDefinitions"]
        .as_sequence()
        .expect("AttributeDefinitions")
        .iter()
        .map(|definition| {
            (
                text(&definition["AttributeName"], "an AttributeName"),
                text(&definition["AttributeType"], "an AttributeType"),
            )
        })
        .collect();
    assert_eq!(
        attributes.keys().copied().collect::<BTreeSet<_>>(),
        expected_attributes,
        "AttributeDefinitions must list exactly the key attributes"
    );
    assert!(
        attributes.values().all(|kind| *kind == "S"),
        "every key attribute is a string: {attributes:?}"
    );

    let indexes: BTreeMap<&str, &Value> = properties["GlobalSecondaryIndexes"]
        .as_sequence()
        .expect("GlobalSecondaryIndexes")
        .iter()
        .map(|index| (text(&index["IndexName"], "an IndexName"), index))
        .collect();
    assert_eq!(
        indexes.keys().copied().collect::<BTreeSet<_>>(),
        TABLE
            .indexes
            .iter()
            .map(|index| index.name)
            .collect::<BTreeSet<_>>()
    );
    for schema in TABLE.indexes {
        let index = indexes[schema.name];
        assert_eq!(
            key_schema(&index["KeySchema"], schema.name),
            hash_range(schema.partition_key, schema.sort_key),
            "keys of {}",
            schema.name
        );
        assert_eq!(
            index["Projection"]["ProjectionType"].as_str(),
            Some("ALL"),
            "{} projects every attribute",
            schema.name
        );
    }

    let ttl = &properties["TimeToLiveSpecification"];
    assert_eq!(ttl["AttributeName"].as_str(), Some(TABLE.ttl_attribute));
    assert_eq!(ttl["Enabled"].as_bool(), Some(true));
}

#[test]
fn table_is_on_demand_recoverable_encrypted_and_retained() {
    let table = resource("Table");
    let properties = &table["Properties"];
    assert_eq!(properties["BillingMode"].as_str(), Some("PAY_PER_REQUEST"));
    assert_eq!(
        properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"].as_bool(),
        Some(true)
    );
    assert_eq!(
        properties["SSESpecification"]["SSEEnabled"].as_bool(),
        Some(true)
    );
    assert!(is_ref(
        &properties["DeletionProtectionEnabled"],
        "TableDeletionProtection"
    ));
    assert_eq!(table["DeletionPolicy"].as_str(), Some("Retain"));
    assert_eq!(table["UpdateReplacePolicy"].as_str(), Some("Retain"));
}

// ------------------------------------------------------------------ environment

#[test]
fn globals_set_every_variable_the_functions_read() {
    let variables = template()["Globals"]["Function"]["Environment"]["Variables"]
        .as_mapping()
        .expect("Globals.Function.Environment.Variables");
    let declared: BTreeSet<&str> = variables
        .keys()
        .map(|key| text(key, "a variable name"))
        .collect();
    for variable in ENVIRONMENT {
        assert!(declared.contains(variable), "Globals do not set {variable}");
    }
    assert!(
        !declared.contains("DYNAMODB_ENDPOINT"),
        "DYNAMODB_ENDPOINT is for local runs; deployed functions use the regional endpoint"
    );
    assert!(is_ref(&variables["TABLE_NAME"], "Table"));
    assert_eq!(
        variables["AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH"].as_str(),
        Some("true")
    );
    // Tokens are issued and verified with the claims the code defaults to, so the local API and
    // the deployed functions accept each other's tokens' shape.
    assert_eq!(variables["JWT_ISSUER"].as_str(), Some(DEFAULT_ISSUER));
    assert_eq!(variables["JWT_AUDIENCE"].as_str(), Some(DEFAULT_AUDIENCE));

    // The rate limits, read as the functions read them: literal values as they stand, parameters
    // at their defaults. They must parse, keep the documented limits and leave the global tier
    // to the edge.
    let deployed = |name: &str| -> Option<String> {
        let value = variables.get(name)?;
        match intrinsic(value) {
            Some((tag, parameter)) if tag == "!Ref" => {
                let parameter = text(parameter, "a parameter name");
                match &template()["Parameters"][parameter]["Default"] {
                    Value::Number(number) => Some(number.to_string()),
                    Value::String(text) => Some(text.clone()),
                    other => panic!("{name}: {parameter} has no usable Default: {other:?}"),
                }
            }
            Some(_) => panic!("{name}: unexpected value {value:?}"),
            None => value.as_str().map(str::to_string),
        }
    };
    let limits = RateLimitConfig::from_lookup(deployed)
        .unwrap_or_else(|error| panic!("the template's rate limits do not parse: {error}"));
    assert_eq!(
        limits,
        RateLimitConfig {
            global_enforcement: GlobalEnforcement::Edge,
            ..RateLimitConfig::default()
        },
        "the template's rate limits differ from the documented defaults, or count the global \
         tier in the table"
    );
    assert_eq!(
        variables["RATE_GLOBAL_ENFORCEMENT"].as_str(),
        Some("edge"),
        "in AWS the WAF rule and the stage throttling carry the global tier"
    );
    for variable in [
        "RATE_WINDOW_MS",
        "RATE_MAX",
        "RATE_WRITE_MAX",
        "RATE_AUTH_MAX",
        "RATE_AUTH_ACCOUNT_MAX",
    ] {
        assert!(
            matches!(intrinsic(&variables[variable]), Some((tag, _)) if tag == "!Ref"),
            "{variable} should come from a parameter, so operators tune it without editing the file"
        );
    }

    let key = &template()["Parameters"]["CursorSigningKey"];
    assert_eq!(
        key["NoEcho"].as_bool(),
        Some(true),
        "the signing key is a secret"
    );
    assert!(
        key["MinLength"].as_u64().is_some_and(|length| length >= 32),
        "the signing key needs at least 32 characters"
    );
}

// ------------------------------------------------------------------ API Gateway's own errors

#[test]
fn gateway_errors_are_problem_documents_with_the_security_headers() {
    let responses = resource("Api")["Properties"]["GatewayResponses"]
        .as_mapping()
        .expect("Api.Properties.GatewayResponses");
    let mut statuses = BTreeMap::new();
    for (kind, response) in responses {
        let kind = text(kind, "a gateway response type");
        let status: u16 = text(&response["StatusCode"], "a StatusCode")
            .parse()
            .unwrap_or_else(|error| panic!("{kind}: StatusCode: {error}"));
        statuses.insert(kind, status);

        let headers = &response["ResponseParameters"]["Headers"];
        // Static header values are wrapped in single quotes; API Gateway strips the outer pair.
        let header = |name: &str| {
            let value = headers[name]
                .as_str()
                .unwrap_or_else(|| panic!("{kind} lacks the {name} header"));
            value
                .strip_prefix('\'')
                .and_then(|value| value.strip_suffix('\''))
                .unwrap_or_else(|| panic!("{kind}: {name} should be a quoted static value"))
                .to_string()
        };
        assert_eq!(header("Content-Type"), "application/problem+json", "{kind}");
        for (name, value) in SECURITY_HEADERS {
            assert_eq!(header(name), *value, "{kind}: {name}");
        }

        // The template is not VTL, only $context substitution; fill in what API Gateway would.
        let body = text(
            &response["ResponseTemplates"]["application/json"],
            "a response template",
        )
        .replace("$context.requestId", "0d4c7a6e-9f0b-4d7e-8a51-2b3c4d5e6f70")
        .replace("$context.error.messageString", "\"Invalid request body\"");
        let problem: serde_json::Value = serde_json::from_str(&body)
            .unwrap_or_else(|error| panic!("{kind}: the body is not JSON once filled in: {error}"));
        for member in ["type", "title", "detail", "requestId"] {
            assert!(
                problem[member].is_string(),
                "{kind}: `{member}` missing from {problem}"
            );
        }
        assert_eq!(
            problem["status"],
            u64::from(status),
            "{kind}: `status` must equal the HTTP status"
        );
        assert_eq!(
            problem["requestId"], "0d4c7a6e-9f0b-4d7e-8a51-2b3c4d5e6f70",
            "{kind}"
        );
    }

    // An unknown route is API Gateway's "missing authentication token": it must read as 404.
    for (kind, status) in [
        ("MISSING_AUTHENTICATION_TOKEN", 404),
        // Refused by the authorizer or sent without a token: otherwise DEFAULT_4XX's 400.
        ("UNAUTHORIZED", 401),
        ("ACCESS_DENIED", 403),
        ("THROTTLED", 429),
        ("DEFAULT_4XX", 400),
        ("DEFAULT_5XX", 500),
    ] {
        assert_eq!(statuses.get(kind), Some(&status), "{kind}");
    }
}

// ------------------------------------------------------------------ sample events

fn event_files() -> BTreeMap<String, PathBuf> {
    let dir = repo_root().join("events");
    std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("reading {}: {error}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "json")
        })
        .map(|path| {
            let stem = path
                .file_stem()
                .and_then(|stem| stem.to_str())
                .expect("a UTF-8 file name")
                .to_string();
            (stem, path)
        })
        .collect()
}

#[test]
fn every_function_has_a_sample_event_and_every_event_a_function() {
    let files: BTreeSet<String> = event_files().into_keys().collect();
    let functions = expected_functions();
    assert_eq!(
        files,
        functions,
        "events/*.json (left) differ from the functions (right); missing: {:?}, orphaned: {:?}",
        functions.difference(&files).collect::<Vec<_>>(),
        files.difference(&functions).collect::<Vec<_>>()
    );
}

/// The route an endpoint belongs to.
fn route_at(endpoint: &ApiEvent) -> Option<&'static Route> {
    ROUTES
        .iter()
        .find(|route| route.path == endpoint.path && route.method.as_str() == endpoint.method)
        .copied()
}

/// A background function's sample is the event its trigger sends: an SQS batch from the jobs
/// queue whose bodies are jobs, or EventBridge's scheduled event.
fn assert_background_event(name: &str, trigger: Trigger, event: &serde_json::Value) {
    match trigger {
        Trigger::JobsQueue => {
            let records = event["Records"]
                .as_array()
                .unwrap_or_else(|| panic!("events/{name}.json should be an SQS batch (Records)"));
            assert!(
                !records.is_empty() && records.len() <= 10,
                "events/{name}.json: 1-10 records"
            );
            for record in records {
                assert_eq!(record["eventSource"], "aws:sqs", "events/{name}.json");
                assert!(
                    record["messageId"].is_string() && record["receiptHandle"].is_string(),
                    "events/{name}.json: each record has a message id and a receipt handle"
                );
                let body = record["body"].as_str().unwrap_or_default();
                assert!(
                    itinera::jobs::Job::from_body(body).is_ok(),
                    "events/{name}.json: each body should be a job"
                );
            }
        }
        Trigger::Schedule { .. } => {
            assert_eq!(event["source"], "aws.events", "events/{name}.json");
            assert_eq!(
                event["detail-type"], "Scheduled Event",
                "events/{name}.json should be EventBridge's scheduled event"
            );
        }
    }
}

/// Each sample is an API Gateway REST proxy event for one of its function's own API events, so
/// `sam local invoke <Function> -e events/<name>.json` exercises the real path. A protected
/// route's event carries the authorizer's context as API Gateway passes it on; an anonymous
/// one's carries none. The authorizer's own sample is the REQUEST event API Gateway sends it
/// for a protected route.
#[test]
fn sample_events_target_their_functions_endpoints() {
    for (name, path) in event_files() {
        let text = std::fs::read_to_string(&path).expect("readable event");
        let event: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        if let Some(background) = background_function(&name) {
            assert_background_event(name.as_str(), background.trigger, &event);
            continue;
        }
        let endpoint = ApiEvent {
            path: event["resource"].as_str().unwrap_or_default().to_string(),
            method: event["httpMethod"].as_str().unwrap_or_default().to_string(),
        };
        let context = &event["requestContext"];
        if name == AUTHORIZER_FUNCTION {
            let route = route_at(&endpoint).unwrap_or_else(|| {
                panic!("events/authorizer.json is for {endpoint:?}, which is no route")
            });
            assert_ne!(
                route.access,
                Access::Anonymous,
                "events/authorizer.json should guard a protected route, not {}",
                route.function
            );
            assert_eq!(event["type"], "REQUEST", "a REQUEST authorizer's event");
            let bearer = event["headers"]["Authorization"]
                .as_str()
                .unwrap_or_default();
            assert!(
                bearer.starts_with("Bearer "),
                "events/authorizer.json needs an `Authorization: Bearer ...` header"
            );
            // arn:aws:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/<path>
            let method_arn = event["methodArn"].as_str().unwrap_or_default();
            let expected_suffix = format!(
                ":{}:{}/{}/{}{}",
                context["accountId"].as_str().unwrap_or_default(),
                context["apiId"].as_str().unwrap_or_default(),
                context["stage"].as_str().unwrap_or_default(),
                endpoint.method,
                event["path"].as_str().unwrap_or_default(),
            );
            assert!(
                method_arn.starts_with("arn:aws:execute-api:")
                    && method_arn.ends_with(&expected_suffix),
                "events/authorizer.json: methodArn {method_arn} should end with {expected_suffix}"
            );
            assert!(
                context["authorizer"].is_null(),
                "the authorizer's own event has no authorizer context"
            );
        } else {
            assert!(
                api_events(&name).contains(&endpoint),
                "events/{name}.json is for {endpoint:?}, which is not one of {name}'s endpoints"
            );
            let protected = route_at(&endpoint)
                .filter(|_| name != PREFLIGHT)
                .is_some_and(|route| route.access != Access::Anonymous);
            let authorizer = &context["authorizer"];
            if protected {
                let user_id = authorizer["userId"].as_str().unwrap_or_default();
                assert!(
                    itinera::identity::UserId::parse(user_id).is_some(),
                    "events/{name}.json: requestContext.authorizer.userId should be a user id"
                );
                assert_eq!(
                    authorizer["principalId"], authorizer["userId"],
                    "events/{name}.json: API Gateway passes the principal id next to the context"
                );
                let role = authorizer["role"].as_str().unwrap_or_default();
                assert!(
                    itinera::identity::Role::parse(role).is_ok(),
                    "events/{name}.json: requestContext.authorizer.role should be a role"
                );
            } else {
                assert!(
                    authorizer.is_null(),
                    "events/{name}.json: no authorizer runs for an anonymous route or preflight"
                );
            }
        }
        assert_eq!(context["resourcePath"], event["resource"], "{name}");
        assert_eq!(context["httpMethod"], event["httpMethod"], "{name}");
        for member in [
            "requestId",
            "stage",
            "path",
            "apiId",
            "accountId",
            "domainName",
        ] {
            assert!(
                context[member].is_string(),
                "{name}: requestContext.{member}"
            );
        }
        assert!(
            context["identity"]["sourceIp"].is_string(),
            "{name}: sourceIp"
        );

        // Path parameters present exactly for the `{name}` segments of the resource.
        let expected: BTreeSet<&str> = endpoint
            .path
            .split('/')
            .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        let given: BTreeSet<&str> = event["pathParameters"]
            .as_object()
            .map(|parameters| parameters.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(given, expected, "events/{name}.json pathParameters");
    }
}

// ------------------------------------------------------------------ jobs and schedules

#[test]
fn exactly_the_job_producers_may_send_jobs_and_only_the_worker_sends_email() {
    for name in expected_functions() {
        let grants = grants(&name);
        let expected_sqs: BTreeSet<String> = if enqueues_jobs(&name) {
            BTreeSet::from(["sqs:SendMessage".to_string()])
        } else {
            BTreeSet::new()
        };
        assert_eq!(
            grants.sqs, expected_sqs,
            "{name}: sqs:SendMessage on the jobs queue exactly when it enqueues jobs"
        );
        let expected_ses: BTreeSet<String> = if sends_email(&name) {
            BTreeSet::from(["ses:SendEmail".to_string()])
        } else {
            BTreeSet::new()
        };
        assert_eq!(
            grants.ses, expected_ses,
            "{name}: ses:SendEmail exactly when it sends email"
        );
        let variables = &function(&name)["Properties"]["Environment"]["Variables"];
        if enqueues_jobs(&name) {
            assert!(
                is_ref(&variables[JOBS_QUEUE_VARIABLE], "JobsQueue"),
                "{name}: {JOBS_QUEUE_VARIABLE} should be !Ref JobsQueue"
            );
        }
        if sends_email(&name) {
            assert!(
                is_ref(&variables[MAIL_FROM_VARIABLE], "MailFrom"),
                "{name}: {MAIL_FROM_VARIABLE} should be !Ref MailFrom"
            );
        }
    }
}

/// The one event of a background function, as (type, properties).
fn background_event(name: &str) -> (&'static str, &'static Value) {
    let events = function(name)["Properties"]["Events"]
        .as_mapping()
        .unwrap_or_else(|| panic!("{name}: Events should be a mapping"));
    assert_eq!(events.len(), 1, "{name} should have exactly one event");
    let (_, event) = events.iter().next().expect("one event");
    (text(&event["Type"], "an event Type"), &event["Properties"])
}

/// A function's timeout in seconds: its own, or the Globals'.
fn timeout_of(name: &str) -> u64 {
    let own = &function(name)["Properties"]["Timeout"];
    let timeout = if own.is_null() {
        &template()["Globals"]["Function"]["Timeout"]
    } else {
        own
    };
    timeout
        .as_u64()
        .unwrap_or_else(|| panic!("{name}: Timeout should be a number of seconds"))
}

#[test]
fn background_functions_have_the_triggers_the_table_declares() {
    for background in BACKGROUND_FUNCTIONS {
        let name = background.function;
        let (kind, properties) = background_event(name);
        match background.trigger {
            Trigger::JobsQueue => {
                assert_eq!(kind, "SQS", "{name} should drain the jobs queue");
                assert!(
                    matches!(intrinsic(&properties["Queue"]), Some((tag, inner)) if tag == "!GetAtt" && inner.as_str() == Some("JobsQueue.Arn")),
                    "{name} should drain the jobs queue (!GetAtt JobsQueue.Arn)"
                );
                let response_types: Vec<&str> = properties["FunctionResponseTypes"]
                    .as_sequence()
                    .map(|types| types.iter().map(|t| text(t, "a response type")).collect())
                    .unwrap_or_default();
                assert_eq!(
                    response_types,
                    ["ReportBatchItemFailures"],
                    "{name} reports the failed messages of a batch, so only those are retried"
                );
                let batch = properties["BatchSize"].as_u64().unwrap_or(10);
                assert!(
                    (1..=10).contains(&batch),
                    "{name}: a batch the function can report item by item (1-10)"
                );
            }
            Trigger::Schedule { expression, .. } => {
                assert_eq!(kind, "Schedule", "{name} should run on a schedule");
                assert_eq!(
                    properties["Schedule"].as_str(),
                    Some(expression),
                    "{name} should run at the rate BACKGROUND_FUNCTIONS declares"
                );
            }
        }
    }
}

#[test]
fn jobs_dead_letter_after_the_maximum_receives_and_stay_hidden_while_the_worker_runs() {
    let queue = &resource("JobsQueue")["Properties"];
    let redrive = &queue["RedrivePolicy"];
    assert!(
        matches!(intrinsic(&redrive["deadLetterTargetArn"]), Some((tag, inner)) if tag == "!GetAtt" && inner.as_str() == Some("JobsDeadLetterQueue.Arn")),
        "the jobs queue should dead-letter into JobsDeadLetterQueue"
    );
    assert_eq!(
        redrive["maxReceiveCount"].as_u64(),
        Some(u64::from(MAX_RECEIVES)),
        "the queue moves a job aside after as many receives as the embedded queue does"
    );
    let visibility = queue["VisibilityTimeout"]
        .as_u64()
        .expect("the jobs queue's VisibilityTimeout");
    for background in BACKGROUND_FUNCTIONS
        .iter()
        .filter(|background| background.trigger == Trigger::JobsQueue)
    {
        let timeout = timeout_of(background.function);
        assert!(
            visibility > timeout,
            "the visibility timeout ({visibility} s) must outlast {}'s timeout ({timeout} s), \
             or a batch still being processed reappears to another worker",
            background.function
        );
    }
    // A job whose email was in flight when its worker died waits for the sender's lease (SES
    // keeps the default) to lapse: the redelivery must come after it, or it spends a receive on
    // a lease still held and the job may reach the dead-letter queue unsent.
    let lease = u64::try_from(EMAIL_LEASE.num_seconds()).expect("a positive lease");
    assert!(
        visibility > lease,
        "the visibility timeout ({visibility} s) must outlast the email lease ({lease} s)"
    );
    for name in ["JobsQueue", "JobsDeadLetterQueue"] {
        assert_eq!(
            resource(name)["Properties"]["SqsManagedSseEnabled"].as_bool(),
            Some(true),
            "{name} should be encrypted at rest"
        );
    }
    let dead_letter_retention =
        resource("JobsDeadLetterQueue")["Properties"]["MessageRetentionPeriod"]
            .as_u64()
            .unwrap_or(345_600);
    let retention = queue["MessageRetentionPeriod"].as_u64().unwrap_or(345_600);
    assert!(
        dead_letter_retention > retention,
        "dead letters should outlive the jobs queue's retention, or they expire before anyone looks"
    );
}

#[test]
fn the_dead_letter_queue_has_an_alarm_on_its_depth() {
    let alarms: Vec<&Value> = resources()
        .values()
        .filter(|resource| resource["Type"].as_str() == Some("AWS::CloudWatch::Alarm"))
        .map(|resource| &resource["Properties"])
        .filter(|alarm| {
            alarm["Namespace"].as_str() == Some("AWS/SQS")
                && alarm["MetricName"].as_str() == Some("ApproximateNumberOfMessagesVisible")
                && alarm["Dimensions"].as_sequence().is_some_and(|dimensions| {
                    dimensions.iter().any(|dimension| {
                        dimension["Name"].as_str() == Some("QueueName")
                            && matches!(intrinsic(&dimension["Value"]), Some((tag, inner)) if tag == "!GetAtt" && inner.as_str() == Some("JobsDeadLetterQueue.QueueName"))
                    })
                })
        })
        .collect();
    assert_eq!(
        alarms.len(),
        1,
        "one alarm on the dead-letter queue's depth"
    );
    assert_eq!(alarms[0]["Threshold"].as_u64(), Some(1));
    assert_eq!(
        alarms[0]["ComparisonOperator"].as_str(),
        Some("GreaterThanOrEqualToThreshold"),
        "a single dead letter should alarm"
    );
}

// ------------------------------------------------------------------ least privilege (issue 8)

/// A function's own environment variables (not the Globals'); empty when it sets none.
fn own_variables(name: &str) -> &'static Value {
    &function(name)["Properties"]["Environment"]["Variables"]
}

#[test]
fn the_cursor_signing_key_reaches_only_the_functions_that_page() {
    let globals = &template()["Globals"]["Function"]["Environment"]["Variables"];
    assert!(
        globals.get("CURSOR_SIGNING_KEY").is_none(),
        "the Globals hand the cursor signing key to every function"
    );
    for name in expected_functions() {
        let key = own_variables(&name).get("CURSOR_SIGNING_KEY");
        if pages(&name) {
            assert!(
                key.is_some_and(|key| is_ref(key, "CursorSigningKey")),
                "{name} pages and needs CURSOR_SIGNING_KEY: !Ref CursorSigningKey"
            );
        } else {
            assert!(
                key.is_none(),
                "{name} does not page but gets the cursor key"
            );
        }
    }
    let parameter = &template()["Parameters"]["CursorSigningKey"];
    assert_eq!(parameter["NoEcho"].as_bool(), Some(true));
    assert!(
        parameter.get("Default").is_none(),
        "a secret must not have a value written in the template"
    );
}

#[test]
fn email_may_be_sent_only_from_the_configured_sender_identity() {
    let identity = |suffix: &str| {
        format!(
            "arn:${{AWS::Partition}}:ses:${{AWS::Region}}:${{AWS::AccountId}}:identity/{suffix}"
        )
    };
    for name in expected_functions() {
        let statements: Vec<&Value> = statements_of(&name)
            .into_iter()
            .filter(|statement| {
                serde_yaml_ng::to_string(&statement["Action"])
                    .unwrap()
                    .contains("ses:")
            })
            .collect();
        if !sends_email(&name) {
            assert!(
                statements.is_empty(),
                "{name} may send email: {statements:?}"
            );
            continue;
        }
        assert_eq!(statements.len(), 1, "{name}: one SES statement");
        let statement = statements[0];
        let resources = statement["Resource"]
            .as_sequence()
            .unwrap_or_else(|| panic!("{name}: Resource should be a list"));
        // The address itself, or its domain when the domain is the verified identity.
        let address = resources.iter().any(|resource| {
            matches!(intrinsic(resource), Some((tag, arn)) if tag == "!Sub"
                && arn.as_str() == Some(identity("${MailFrom}").as_str()))
        });
        let domain = resources.iter().any(|resource| {
            let Some((tag, Value::Sequence(parts))) = intrinsic(resource) else {
                return false;
            };
            let split = &parts[1]["MailFromDomain"];
            tag == "!Sub"
                && parts[0].as_str() == Some(identity("${MailFromDomain}").as_str())
                && matches!(intrinsic(split), Some((tag, select)) if tag == "!Select"
                    && select[0].as_u64() == Some(1)
                    && matches!(intrinsic(&select[1]), Some((tag, split)) if tag == "!Split"
                        && split[0].as_str() == Some("@")
                        && is_ref(&split[1], "MailFrom")))
        });
        assert!(
            address && domain && resources.len() == 2,
            "{name}: ses:SendEmail must name the MailFrom identity (address and domain) only, \
             not every identity of the account: {resources:?}"
        );
        let from = &statement["Condition"]["StringEquals"]["ses:FromAddress"];
        assert!(
            is_ref(from, "MailFrom"),
            "{name}: the sender must be pinned to MailFrom by ses:FromAddress: {statement:?}"
        );
    }
}

/// What a function reads from its environment at the template's defaults, or with `StageKind`
/// set to `stage`: literal values as they stand, `!Ref` to parameters resolved, `!If` on the
/// test-stage condition resolved, and `!Ref AWS::NoValue` left unset.
fn deployed_variable(name: &str, variable: &str, stage: &str) -> Option<String> {
    let value = own_variables(name).get(variable)?;
    let resolve = |value: &Value| -> Option<String> {
        match intrinsic(value) {
            Some((tag, inner)) if tag == "!Ref" => match text(inner, "a !Ref target") {
                "AWS::NoValue" => None,
                "StageKind" => Some(stage.to_string()),
                other => panic!("{name}: {variable} refers to {other}"),
            },
            Some(other) => panic!("{name}: {variable} has an unexpected value {other:?}"),
            None => Some(text(value, "a value").to_string()),
        }
    };
    match intrinsic(value) {
        Some((tag, branches)) if tag == "!If" => {
            assert_eq!(
                branches[0].as_str(),
                Some("IsTestStage"),
                "{name}: {variable}"
            );
            resolve(&branches[if stage == "test" { 1 } else { 2 }])
        }
        _ => resolve(value),
    }
}

#[test]
fn exactly_the_functions_that_move_money_get_a_gateway_and_test_cards_only_on_a_test_stage() {
    let parameter = &template()["Parameters"]["StageKind"];
    assert_eq!(
        parameter["Default"].as_str(),
        Some("production"),
        "a stack is a production stage unless it says otherwise"
    );
    let allowed: BTreeSet<&str> = parameter["AllowedValues"]
        .as_sequence()
        .expect("StageKind lists its AllowedValues")
        .iter()
        .map(|value| text(value, "an allowed value"))
        .collect();
    assert_eq!(allowed, BTreeSet::from(["production", "test"]));
    let condition = &template()["Conditions"]["IsTestStage"];
    assert!(
        matches!(intrinsic(condition), Some((tag, operands)) if tag == "!Equals"
            && is_ref(&operands[0], "StageKind")
            && operands[1].as_str() == Some("test")),
        "IsTestStage should be !Equals [!Ref StageKind, test]: {condition:?}"
    );
    let globals = &template()["Globals"]["Function"]["Environment"]["Variables"];
    assert!(globals.get(GATEWAY_VARIABLE).is_none());
    let mut money = BTreeSet::new();
    for name in expected_functions() {
        let declared = own_variables(&name).get(GATEWAY_VARIABLE).is_some();
        assert_eq!(
            declared,
            moves_money(&name),
            "{name}: {GATEWAY_VARIABLE} exactly when the function moves money"
        );
        if !declared {
            continue;
        }
        money.insert(name.clone());
        for (stage, expected) in [
            ("production", None),
            ("test", Some(GatewaySetting::TestCards)),
        ] {
            let setting = GatewaySetting::from_lookup(
                |variable| deployed_variable(&name, variable, stage),
                Platform::Aws,
            );
            match expected {
                Some(expected) => assert_eq!(setting.unwrap(), expected, "{name} on {stage}"),
                None => assert_eq!(
                    setting.expect_err(&name).variable,
                    GATEWAY_VARIABLE,
                    "{name} must refuse to start on a production stage without a real gateway"
                ),
            }
        }
    }
    for function in ["pay-booking", "cancel-booking"] {
        assert!(money.contains(function), "{function} charges or refunds");
    }
}

/// The "Who reads what" table of docs/security.md: each function named there, with the table
/// access the row gives it.
fn documented_table_access() -> BTreeMap<String, String> {
    let path = repo_root().join("docs/security.md");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("reading {}: {error}", path.display()));
    let section = text
        .split("### Who reads what")
        .nth(1)
        .expect("docs/security.md has a section \"Who reads what\"");
    let mut documented = BTreeMap::new();
    for row in section.lines().filter(|line| line.starts_with("| `")) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let (functions, access) = (cells[1], cells[2]);
        for function in functions
            .split(',')
            .map(|name| name.trim().trim_matches('`'))
        {
            let previous = documented.insert(function.to_string(), access.to_string());
            assert!(previous.is_none(), "{function} is documented twice");
        }
    }
    documented
}

#[test]
fn the_security_doc_names_every_function_with_its_table_access() {
    let documented = documented_table_access();
    let listed: BTreeSet<String> = documented.keys().cloned().collect();
    assert_eq!(
        listed,
        expected_functions(),
        "docs/security.md \"Who reads what\" (left) should list every function of the template"
    );
    for (name, access) in documented {
        let granted = grants(&name).dynamodb;
        let expected = if granted.is_empty() {
            "none"
        } else if granted.contains("dynamodb:PutItem") {
            "read-write"
        } else {
            "read"
        };
        assert_eq!(
            access, expected,
            "{name}: docs/security.md says {access}, the template grants {granted:?}"
        );
    }
}

// ------------------------------------------------------------------ metrics (issue 10)

/// A function's `PRODUCT_LINE`, the dimension of its EMF figures.
fn product_line_of(name: &str) -> &'static str {
    text(
        &own_variables(name)[PRODUCT_LINE],
        "a function's PRODUCT_LINE",
    )
}

/// Every alarm's properties, by logical id.
fn alarms() -> BTreeMap<&'static str, &'static Value> {
    resources()
        .iter()
        .filter(|(_, resource)| resource["Type"].as_str() == Some("AWS::CloudWatch::Alarm"))
        .map(|(id, resource)| (text(id, "a logical id"), &resource["Properties"]))
        .collect()
}

#[test]
fn every_function_names_the_product_line_its_log_group_is_for() {
    for name in expected_functions() {
        let group = &function(&name)["Properties"]["LoggingConfig"]["LogGroup"];
        let Some((_, id)) = intrinsic(group) else {
            panic!("{name}: LoggingConfig.LogGroup should be !Ref <a log group>");
        };
        let group_name = &resource(text(id, "a log group id"))["Properties"]["LogGroupName"];
        let Some((_, pattern)) = intrinsic(group_name) else {
            panic!("{name}: its log group's name should be a !Sub");
        };
        let slug = text(pattern, "a log group name").rsplit('/').next();
        assert_eq!(
            Some(product_line_of(&name)),
            slug,
            "{name}: PRODUCT_LINE should be its log group's product line"
        );
    }
}

#[test]
fn each_product_line_has_a_p99_latency_alarm_on_the_functions_figures() {
    let lines: BTreeSet<&str> = expected_functions()
        .iter()
        .map(|name| product_line_of(name))
        .collect();
    let alarms = alarms();
    for line in lines {
        let alarm = alarms.values().find(|alarm| {
            alarm["Namespace"].as_str() == Some(NAMESPACE)
                && alarm["MetricName"].as_str() == Some(REQUEST_DURATION.0.name)
                && alarm["Dimensions"][0]["Name"].as_str() == Some("product_line")
                && alarm["Dimensions"][0]["Value"].as_str() == Some(line)
        });
        let alarm = alarm.unwrap_or_else(|| panic!("no p99 latency alarm for the {line} line"));
        assert_eq!(alarm["ExtendedStatistic"].as_str(), Some("p99"), "{line}");
        assert!(is_ref(&alarm["Threshold"], "LatencyAlarmMs"), "{line}");
    }
}

#[test]
fn server_errors_alarm_on_their_share_of_requests_and_sold_out_refusals_on_a_spike() {
    let alarms = alarms();
    let rate = alarms["Api5xxAlarm"];
    let metric_names: BTreeSet<&str> = rate["Metrics"]
        .as_sequence()
        .expect("the 5xx alarm is metric math")
        .iter()
        .filter_map(|metric| metric["MetricStat"]["Metric"]["MetricName"].as_str())
        .collect();
    assert_eq!(metric_names, BTreeSet::from(["5XXError", "Count"]));
    let expression = rate["Metrics"][0]["Expression"].as_str().unwrap();
    assert!(
        expression.contains("errors / requests"),
        "a rate: {expression}"
    );
    let sold_out = alarms
        .values()
        .find(|alarm| alarm["MetricName"].as_str() == Some(SOLD_OUT_REFUSALS.0.name))
        .expect("an alarm on sold-out refusals");
    assert_eq!(sold_out["Namespace"].as_str(), Some(NAMESPACE));
    assert!(is_ref(&sold_out["Threshold"], "SoldOutAlarmThreshold"));
}

#[test]
fn the_dashboard_shows_the_business_figures_queues_throttles_and_every_alarm() {
    let body = &resource("Dashboard")["Properties"]["DashboardBody"];
    let Some((tag, body)) = intrinsic(body) else {
        panic!("the dashboard body should be a !Sub");
    };
    assert_eq!(tag, "!Sub");
    let body = text(body, "the dashboard body");
    // Substitutions aside, the body is the JSON CloudWatch reads.
    let mut plain = String::new();
    let mut rest = body;
    while let Some(start) = rest.find("${") {
        plain.push_str(&rest[..start]);
        let end = rest[start..].find('}').expect("a closed substitution") + start;
        plain.push('1');
        rest = &rest[end + 1..];
    }
    plain.push_str(rest);
    let dashboard: serde_json::Value =
        serde_json::from_str(&plain).expect("the dashboard body is JSON");
    assert!(
        dashboard["widgets"]
            .as_array()
            .is_some_and(|w| !w.is_empty())
    );
    for metric in [
        &REQUESTS.0,
        &REQUEST_DURATION.0,
        &BOOKINGS_CREATED.0,
        &SOLD_OUT_REFUSALS.0,
        &HOLDS_EXPIRED.0,
        &PAYMENTS_DECLINED.0,
        &RATE_LIMITED.0,
        &JOBS_PROCESSED.0,
        &JOBS_FAILED.0,
        &JOBS_DEAD_LETTERED.0,
        &COLD_STARTS.0,
        &CONTRACTS_RESERVED.0,
        &RESERVATION_CONFLICTS.0,
    ] {
        assert!(
            body.contains(metric.name),
            "the dashboard lacks {}",
            metric.name
        );
    }
    for shown in [
        "${JobsDeadLetterQueue.QueueName}",
        "ReadThrottleEvents",
        "WriteThrottleEvents",
        "\"5XXError\"",
    ] {
        assert!(body.contains(shown), "the dashboard lacks {shown}");
    }
    for id in alarms().keys() {
        assert!(
            body.contains(&format!("${{{id}.Arn}}")),
            "the dashboard's alarm widget lacks {id}"
        );
    }
}

// ------------------------------------------------------------------ files

/// The S3 actions a file access needs, each on the resource it applies to: uploads under
/// `uploads/<scope>/`, confirmations reading and deleting there and writing under
/// `files/<scope>/` (with the bucket's listing, so a missing upload is a 404 and not a 403),
/// downloads reading under `files/<scope>/`.
fn expected_s3(access: FileAccess) -> BTreeSet<(String, String)> {
    let under = |prefix: &str, scope: &str| format!("${{FilesBucket.Arn}}/{prefix}/{scope}/*");
    let grant = |action: &str, resource: String| (action.to_string(), resource);
    match access {
        FileAccess::Upload(scope) => [grant("s3:PutObject", under("uploads", scope))].into(),
        FileAccess::Confirm(scope) => [
            grant("s3:GetObject", under("uploads", scope)),
            grant("s3:DeleteObject", under("uploads", scope)),
            grant("s3:PutObject", under("files", scope)),
            grant("s3:ListBucket", "FilesBucket.Arn".to_string()),
        ]
        .into(),
        FileAccess::Download(scope) => [grant("s3:GetObject", under("files", scope))].into(),
    }
}

/// Exactly the functions whose routes handle files get the bucket's name and S3 actions, and
/// only those their access needs on their own scope; every other function has neither.
#[test]
fn exactly_the_routes_that_handle_files_reach_the_bucket_within_their_scope() {
    for name in expected_functions() {
        let granted = grants(&name).s3;
        let bucket = own_variables(&name).get(BLOB_BUCKET_VARIABLE);
        match files(&name) {
            Some(access) => {
                assert_eq!(granted, expected_s3(access), "{name} ({access:?})");
                assert!(
                    bucket.is_some_and(|bucket| is_ref(bucket, "FilesBucket")),
                    "{name} handles files and needs {BLOB_BUCKET_VARIABLE}: !Ref FilesBucket"
                );
            }
            None => {
                assert!(granted.is_empty(), "{name} handles no files: {granted:?}");
                assert!(
                    bucket.is_none(),
                    "{name} handles no files but gets the bucket"
                );
            }
        }
    }
    let globals = &template()["Globals"]["Function"]["Environment"]["Variables"];
    assert!(globals.get(BLOB_BUCKET_VARIABLE).is_none());
}

#[test]
fn the_files_bucket_is_private_encrypted_versioned_retained_and_tls_only() {
    let bucket = resource("FilesBucket");
    assert_eq!(bucket["Type"].as_str(), Some("AWS::S3::Bucket"));
    assert_eq!(bucket["DeletionPolicy"].as_str(), Some("Retain"));
    assert_eq!(bucket["UpdateReplacePolicy"].as_str(), Some("Retain"));
    let properties = &bucket["Properties"];
    let block = &properties["PublicAccessBlockConfiguration"];
    for setting in [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ] {
        assert_eq!(block[setting].as_bool(), Some(true), "{setting}");
    }
    assert_eq!(
        properties["OwnershipControls"]["Rules"][0]["ObjectOwnership"].as_str(),
        Some("BucketOwnerEnforced"),
        "ACLs are off: access is decided by IAM alone"
    );
    let encryption = &properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0];
    assert_eq!(
        encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"].as_str(),
        Some("AES256")
    );
    assert_eq!(
        properties["VersioningConfiguration"]["Status"].as_str(),
        Some("Enabled")
    );

    let policy = resource("FilesBucketPolicy");
    assert!(is_ref(&policy["Properties"]["Bucket"], "FilesBucket"));
    let statements = policy["Properties"]["PolicyDocument"]["Statement"]
        .as_sequence()
        .expect("a statement list");
    let tls_only = statements.iter().any(|statement| {
        statement["Effect"].as_str() == Some("Deny")
            && statement["Principal"].as_str() == Some("*")
            && statement["Action"].as_str() == Some("s3:*")
            && statement["Condition"]["Bool"]["aws:SecureTransport"].as_str() == Some("false")
            && statement["Resource"].as_sequence().is_some_and(|resources| {
                resources.len() == 2
                    && resources.iter().all(|resource| {
                        matches!(intrinsic(resource), Some((tag, inner))
                            if (tag == "!GetAtt" && inner.as_str() == Some("FilesBucket.Arn"))
                                || (tag == "!Sub" && inner.as_str() == Some("${FilesBucket.Arn}/*")))
                    })
            })
    });
    assert!(
        tls_only,
        "the bucket policy denies plain HTTP: {statements:?}"
    );
    assert!(
        statements
            .iter()
            .all(|statement| statement["Effect"].as_str() == Some("Deny")),
        "the bucket policy only denies; what a function may do is in its role"
    );
}

/// Browsers upload and download with presigned URLs from the configured origins only, with no
/// CORS rule at all when none is configured.
#[test]
fn the_files_bucket_allows_put_and_get_from_the_configured_origins() {
    let cors = &resource("FilesBucket")["Properties"]["CorsConfiguration"];
    let (tag, branches) = intrinsic(cors).expect("CORS depends on whether origins are set");
    assert_eq!(tag, "!If");
    let branches = branches.as_sequence().expect("!If [condition, then, else]");
    assert_eq!(branches[0].as_str(), Some("HasCorsOrigins"));
    assert!(is_ref(&branches[2], "AWS::NoValue"));
    let rules = branches[1]["CorsRules"].as_sequence().expect("CorsRules");
    assert_eq!(rules.len(), 1);
    let rule = &rules[0];
    let (tag, split) = intrinsic(&rule["AllowedOrigins"]).expect("!Split of the origins");
    assert_eq!(tag, "!Split");
    assert_eq!(split[0].as_str(), Some(","));
    assert!(is_ref(&split[1], "CorsAllowedOrigins"));
    let methods: BTreeSet<&str> = rule["AllowedMethods"]
        .as_sequence()
        .expect("AllowedMethods")
        .iter()
        .map(|method| text(method, "a method"))
        .collect();
    assert_eq!(methods, BTreeSet::from(["GET", "PUT"]));
    let condition = &template()["Conditions"]["HasCorsOrigins"];
    assert!(!condition.is_null(), "the HasCorsOrigins condition exists");
}

/// Unconfirmed uploads (and their noncurrent versions and incomplete multipart uploads) go after
/// a day; replaced confirmed files are kept for the stated period, then go.
#[test]
fn unconfirmed_uploads_expire_after_a_day_and_replaced_files_after_the_retention() {
    let rules = resource("FilesBucket")["Properties"]["LifecycleConfiguration"]["Rules"]
        .as_sequence()
        .expect("lifecycle rules");
    let enabled_for = |prefix: &str| -> Vec<&Value> {
        rules
            .iter()
            .filter(|rule| {
                rule["Status"].as_str() == Some("Enabled")
                    && rule["Prefix"].as_str() == Some(prefix)
            })
            .collect()
    };
    let uploads = enabled_for("uploads/");
    assert!(uploads.iter().any(|rule| {
        rule["ExpirationInDays"].as_u64() == Some(1)
            && rule["NoncurrentVersionExpiration"]["NoncurrentDays"].as_u64() == Some(1)
            && rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"].as_u64() == Some(1)
    }));
    assert!(
        uploads
            .iter()
            .any(|rule| rule["ExpiredObjectDeleteMarker"].as_bool() == Some(true)),
        "the delete markers an expiry leaves in a versioned bucket are removed too"
    );
    let files = enabled_for("files/");
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(
        files[0]["ExpirationInDays"].is_null(),
        "confirmed files never expire"
    );
    assert!(is_ref(
        &files[0]["NoncurrentVersionExpiration"]["NoncurrentDays"],
        "FileVersionRetentionDays"
    ));
    let retention = &template()["Parameters"]["FileVersionRetentionDays"];
    assert_eq!(retention["Type"].as_str(), Some("Number"));
    assert!(retention["Default"].as_u64().is_some_and(|days| days >= 1));
    assert_eq!(
        rules.len(),
        uploads.len() + files.len(),
        "every rule is for one of the two prefixes"
    );
}
