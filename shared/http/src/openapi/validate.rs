//! A structural check of a JSON value against a schema of the document: the subset of JSON
//! Schema the document uses (`$ref`, `type`, `properties`, `required`, `additionalProperties:
//! false`, `items`, `enum`, `anyOf`, bounds, `format` of uuid and date-time). Tests hold real
//! responses against the declared schemas with it; a full validator is a heavy dependency for
//! what this document needs.

use serde_json::Value;

/// What in `value` (at `path`, a JSON pointer) does not conform to `schema`, whose `$ref`s point
/// into `document`. Empty when it conforms.
pub fn violations(document: &Value, schema: &Value, value: &Value) -> Vec<String> {
    let mut found = Vec::new();
    check(document, schema, value, "", &mut found);
    found
}

fn resolve<'d>(document: &'d Value, schema: &'d Value) -> &'d Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference.trim_start_matches('#');
            resolve(document, document.pointer(pointer).unwrap_or(&Value::Null))
        }
        None => schema,
    }
}

fn type_matches(name: &str, value: &Value) -> bool {
    match name {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        _ => false,
    }
}

fn check(document: &Value, schema: &Value, value: &Value, at: &str, found: &mut Vec<String>) {
    let schema = resolve(document, schema);
    if schema.is_null() {
        found.push(format!("{at}: the schema points nowhere"));
        return;
    }
    if let Some(options) = schema.get("anyOf").and_then(Value::as_array) {
        if !options
            .iter()
            .any(|option| violations_at(document, option, value, at).is_empty())
        {
            found.push(format!("{at}: {value} matches none of anyOf"));
        }
        return;
    }
    if let Some(name) = schema.get("type").and_then(Value::as_str)
        && !type_matches(name, value)
    {
        found.push(format!("{at}: {value} is not of type {name}"));
        return;
    }
    if let Some(words) = schema.get("enum").and_then(Value::as_array)
        && !words.contains(value)
    {
        found.push(format!("{at}: {value} is not one of {words:?}"));
    }
    bounds(schema, value, at, found);
    if let Some(object) = value.as_object() {
        let properties = schema.get("properties").and_then(Value::as_object);
        for name in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !object.contains_key(name) {
                found.push(format!("{at}: `{name}` is required and missing"));
            }
        }
        let closed = schema.get("additionalProperties") == Some(&Value::Bool(false));
        for (name, property) in object {
            match properties.and_then(|properties| properties.get(name)) {
                Some(declared) => {
                    check(document, declared, property, &format!("{at}/{name}"), found)
                }
                None if closed => found.push(format!("{at}: `{name}` is not declared")),
                None => {}
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (index, item) in array.iter().enumerate() {
            check(document, items, item, &format!("{at}/{index}"), found);
        }
    }
}

fn violations_at(document: &Value, schema: &Value, value: &Value, at: &str) -> Vec<String> {
    let mut found = Vec::new();
    check(document, schema, value, at, &mut found);
    found
}

/// `minimum`/`maximum`, `minLength`/`maxLength`, and the `uuid` and `date-time` formats.
fn bounds(schema: &Value, value: &Value, at: &str, found: &mut Vec<String>) {
    let limit = |name: &str| schema.get(name).and_then(Value::as_i64);
    if let Some(number) = value.as_i64()
        && (limit("minimum").is_some_and(|minimum| number < minimum)
            || limit("maximum").is_some_and(|maximum| number > maximum))
    {
        found.push(format!("{at}: {number} is out of bounds"));
    }
    let Some(text) = value.as_str() else {
        return;
    };
    let length = i64::try_from(text.chars().count()).unwrap_or(i64::MAX);
    if limit("minLength").is_some_and(|minimum| length < minimum)
        || limit("maxLength").is_some_and(|maximum| length > maximum)
    {
        found.push(format!("{at}: {text:?} has a length out of bounds"));
    }
    let well_formed = match schema.get("format").and_then(Value::as_str) {
        Some("uuid") => is_uuid(text),
        Some("date-time") => chrono::DateTime::parse_from_rfc3339(text).is_ok(),
        Some("date") => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok(),
        _ => true,
    };
    if !well_formed {
        found.push(format!("{at}: {text:?} is not of its format"));
    }
}

/// `8-4-4-4-12` hexadecimal digits.
fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(index, c)| match index {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}
