use std::collections::BTreeSet;

use super::*;

#[test]
fn every_route_has_exactly_one_operation_and_there_are_no_others() {
    let document = document();
    let declared = operations(&document);
    let routes: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|route| (route.method.as_str().to_owned(), route.path.to_owned()))
        .collect();
    assert_eq!(declared, routes);
    assert_eq!(declared.len(), ROUTES.len());
    let ids: BTreeSet<&str> = document["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .map(|operation| operation["operationId"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), ROUTES.len(), "operation ids are unique");
}

/// Each `$ref` in the document points at something it defines.
#[test]
fn every_reference_resolves() {
    fn walk(document: &Value, value: &Value) {
        match value {
            Value::Object(object) => {
                if let Some(Value::String(reference)) = object.get("$ref") {
                    let pointer = reference.trim_start_matches('#');
                    assert!(document.pointer(pointer).is_some(), "{reference}");
                }
                object.values().for_each(|value| walk(document, value));
            }
            Value::Array(items) => items.iter().for_each(|value| walk(document, value)),
            _ => {}
        }
    }
    let document = document();
    walk(&document, &document);
}

#[test]
fn security_follows_the_routes_access() {
    let document = document();
    for route in ROUTES {
        let operation = &document["paths"][route.path][route.method.as_str().to_ascii_lowercase()];
        let anonymous = operation["security"] == json!([]);
        assert_eq!(
            anonymous,
            route.access == Access::Anonymous,
            "{}",
            route.function
        );
        let responses = operation["responses"].as_object().unwrap();
        assert_eq!(
            responses.contains_key("401"),
            !anonymous
                || operation["operationId"] == "login"
                || operation["operationId"] == "refresh",
            "{}",
            route.function
        );
        let staff = matches!(route.access, Access::Staff | Access::Admin);
        assert_eq!(responses.contains_key("403"), staff, "{}", route.function);
    }
}

#[test]
fn paging_routes_take_limit_and_cursor_and_answer_pagination() {
    let document = document();
    for route in ROUTES {
        let operation = &document["paths"][route.path][route.method.as_str().to_ascii_lowercase()];
        let names: Vec<&str> = operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|parameter| parameter["in"] == "query")
            .map(|parameter| parameter["name"].as_str().unwrap())
            .collect();
        let pages = names.contains(&"limit") && names.contains(&"cursor");
        assert_eq!(pages, route.pages, "{}", route.function);
        let answers_pages = operation["responses"]["200"]["content"]["application/json"]["schema"]
            ["properties"]
            .get("pagination")
            .is_some();
        assert_eq!(answers_pages, route.pages, "{}", route.function);
    }
}

/// The path parameters of each operation are exactly its template's.
#[test]
fn path_parameters_are_the_templates() {
    let document = document();
    for route in ROUTES {
        let operation = &document["paths"][route.path][route.method.as_str().to_ascii_lowercase()];
        let declared: Vec<&str> = operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|parameter| parameter["in"] == "path")
            .map(|parameter| parameter["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            declared,
            path_parameters(route.path).collect::<Vec<_>>(),
            "{}",
            route.function
        );
    }
}

/// The words of each choice are the ones the domain's parser takes.
#[test]
fn choices_are_the_domains_words() {
    use itinera::bookings::BookingStatus;
    use itinera::entity::EntityKind;
    use itinera::flights::{FlightStatus, SearchOrder};
    use itinera::identity::Role;
    let document = document();
    let words = |schema: &Value| -> Vec<String> {
        schema["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|word| word.as_str().unwrap().to_owned())
            .collect()
    };
    let schemas = &document["components"]["schemas"];
    let flight_status = words(&schemas["Flight"]["properties"]["status"]);
    assert_eq!(flight_status.len(), FlightStatus::ALL.len());
    assert!(
        flight_status
            .iter()
            .all(|word| FlightStatus::parse(word).is_ok())
    );
    let booking_status = words(&schemas["Booking"]["properties"]["status"]);
    assert_eq!(booking_status.len(), BookingStatus::ALL.len());
    assert!(
        booking_status
            .iter()
            .all(|word| BookingStatus::parse(word).is_ok())
    );
    let roles = words(&schemas["User"]["properties"]["role"]);
    assert_eq!(roles, Role::ALL.map(|role| role.as_str().to_owned()));
    let query = |path: &str, name: &str| {
        document["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|parameter| parameter["name"] == name)
            .unwrap()["schema"]
            .clone()
    };
    let kinds = words(&query("/v1/audit", "entityType"));
    assert_eq!(
        kinds,
        EntityKind::PUBLIC
            .iter()
            .map(|kind| kind.as_str().to_owned())
            .collect::<Vec<_>>()
    );
    for order in words(&query("/v1/flights", "sort")) {
        assert!(SearchOrder::parse(&order).is_ok(), "{order}");
    }
}

#[test]
fn the_structural_check_finds_what_does_not_conform() {
    let document = document();
    let airplane = schemas::reference("Airplane");
    let good = json!({
        "id": "0190f6a0-0000-7000-8000-000000000001",
        "modelNumber": "A320neo",
        "capacity": 180,
        "createdAt": "2026-11-29T10:00:00Z",
        "updatedAt": "2026-11-29T10:00:00Z",
    });
    assert_eq!(
        violations(&document, &airplane, &good),
        Vec::<String>::new()
    );
    let mut bad = good.clone();
    bad["capacity"] = json!(0);
    bad["id"] = json!("not-a-uuid");
    bad["extra"] = json!(true);
    bad.as_object_mut().unwrap().remove("createdAt");
    assert_eq!(
        violations(&document, &airplane, &bad).len(),
        4,
        "{:?}",
        violations(&document, &airplane, &bad)
    );
}

/// The committed document is this document: `cargo run -p xtask -- openapi` writes it, and the
/// generator's test fails while it is stale. Here: it is deterministic.
#[test]
fn the_document_text_is_deterministic() {
    assert_eq!(document_text(), document_text());
}

/// The login body names exactly one of `email` and `username`, as the handler requires.
#[test]
fn the_login_body_takes_exactly_one_of_email_and_username() {
    let document = document();
    let schema = &document["paths"]["/v1/auth/login"]["post"]["requestBody"]["content"]["application/json"]
        ["schema"];
    assert_eq!(
        schema["oneOf"],
        json!([{ "required": ["email"] }, { "required": ["username"] }])
    );
    assert_eq!(schema["required"], json!(["password"]));
}
