//! Turning a JSON body or a query string into typed values, with every field error reported at
//! once, unknown fields refused, and numeric strings coerced.
//!
//! A handler declares the fields it accepts as [`Field`]s (name, [`Shape`], required), asks for
//! each with a parse function (usually a domain newtype's `parse`/`TryFrom`), then calls
//! [`Fields::finish`] with what it got back: either every value is there and valid, or the caller
//! gets one 400 listing every problem. The OpenAPI document (`crate::openapi`) reads the same
//! declarations, so what it says a route accepts is what the route accepts.

use std::collections::BTreeMap;

use serde_json::Value;

use super::problem::{ApiError, FieldError};

/// What a field or a query parameter holds: the value its parser accepts, said once so that the
/// handler's accepted-field check and the API description read the same declaration. Bounds come
/// from the domain types' own constants (`ModelNumber::MAX_CHARS`, `Capacity::RANGE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Text of `min_chars..=max_chars` characters, kept exactly as sent (a password).
    Text { min_chars: usize, max_chars: usize },
    /// A `bounded_text!` value: 1 to `max_chars` characters once the white space around them is
    /// trimmed, none of them a control character.
    Printable { max_chars: usize },
    /// Text matching a regular expression (an IATA code, a flight number).
    Pattern(&'static str),
    /// Text of at most `max_chars` characters matching a regular expression (a payment token).
    Bounded {
        pattern: &'static str,
        max_chars: usize,
    },
    /// One word of a list the domain holds (assigned country codes, time zone names).
    Listed(Listed),
    /// A whole number within `min..=max` (a numeric string is accepted too).
    Integer { min: i64, max: i64 },
    /// `true` or `false`.
    Boolean,
    /// A UUID.
    Uuid,
    /// An email address of at most `max_chars` characters.
    Email { max_chars: usize },
    /// A calendar date (`YYYY-MM-DD`).
    Date,
    /// An RFC 3339 timestamp.
    DateTime,
    /// `{"amount": <minor units>, "currency": "<ISO 4217>"}`.
    Money,
    /// One of these words.
    Choice(&'static [&'static str]),
    /// The inner shape, or `null` (which clears the value).
    OrNull(&'static Shape),
    /// The component schema of this name (an entity, or a value shape such as `PositiveMoney`).
    Component(&'static str),
    /// An array of the component schema of this name (response entities only).
    ListOf(&'static str),
    /// Any JSON object (an audit entry's `before` and `after`).
    AnyObject,
    /// Text the server issued or the caller chose, with no rule beyond being text (a cursor, a
    /// refresh token, a password as typed).
    Opaque,
}

impl Shape {
    /// A `bounded_text!` type's value, from its `MAX_CHARS`.
    pub const fn text(max_chars: usize) -> Self {
        Self::Printable { max_chars }
    }
}

/// The lists of words a [`Shape::Listed`] value is one of: too long to write out here, so the
/// description reads them from the domain that checks them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listed {
    /// ISO 3166-1 alpha-2 codes assigned today.
    CountryCode,
    /// The IANA time zone names of the database compiled into the binary.
    TimeZone,
}

impl Listed {
    /// The words, in the domain's order.
    pub fn words(self) -> Vec<&'static str> {
        match self {
            Self::CountryCode => itinera::airports::country_codes().collect(),
            Self::TimeZone => itinera::airports::time_zone_names().collect(),
        }
    }
}

/// The [`Shape::Integer`] of a `bounded_integer!` type, from its `RANGE`.
macro_rules! integer_shape {
    ($type:ty) => {
        $crate::fields::Shape::Integer {
            min: *<$type>::RANGE.start() as i64,
            max: *<$type>::RANGE.end() as i64,
        }
    };
}
pub(crate) use integer_shape;

/// One accepted body field or query parameter: its name, what it holds, and whether it must be
/// present. Handlers pass a list of these to [`JsonFields::from_body`] and
/// [`QueryParams::from_query`]; the API description reads the same lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub shape: Shape,
    pub required: bool,
}

impl Field {
    /// A field the request must carry.
    pub const fn required(name: &'static str, shape: Shape) -> Self {
        Self {
            name,
            shape,
            required: true,
        }
    }

    /// A field the request may carry.
    pub const fn optional(name: &'static str, shape: Shape) -> Self {
        Self {
            name,
            shape,
            required: false,
        }
    }
}

/// The names of `fields`, in their declared order.
pub(crate) fn names(fields: &[Field]) -> Vec<&'static str> {
    fields.iter().map(|field| field.name).collect()
}

/// The paging parameters every list takes.
pub(crate) const LIMIT: Field = Field::optional(
    "limit",
    Shape::Integer {
        min: 1,
        max: itinera::pagination::PageLimit::MAX as i64,
    },
);
/// The cursor of the next page, as the previous page's `pagination.nextCursor` gave it.
pub(crate) const CURSOR: Field = Field::optional("cursor", Shape::Opaque);

/// Named values waiting to be parsed: JSON body fields or query parameters.
#[derive(Debug)]
pub struct Fields<V> {
    values: BTreeMap<String, V>,
    errors: Vec<FieldError>,
}

/// The fields of a JSON object body.
pub type JsonFields = Fields<Value>;
/// The parameters of a query string.
pub type QueryParams = Fields<String>;

impl<V> Fields<V> {
    fn new(values: BTreeMap<String, V>, allowed: &[Field], kind: &str) -> Result<Self, ApiError> {
        let allowed = names(allowed);
        let unknown: Vec<FieldError> = values
            .keys()
            .filter(|name| !allowed.contains(&name.as_str()))
            .map(|name| {
                FieldError::new(
                    name.clone(),
                    format!("is not an accepted {kind}; accepted: {}", list(&allowed)),
                )
            })
            .collect();
        if unknown.is_empty() {
            return Ok(Self {
                values,
                errors: Vec::new(),
            });
        }
        let names: Vec<&str> = unknown.iter().map(|error| error.field.as_str()).collect();
        Err(ApiError::Validation {
            detail: format!(
                "Unknown {kind}(s): {}. Accepted: {}.",
                list(&names),
                list(&allowed)
            ),
            errors: unknown,
        })
    }

    /// Whether the caller sent no values at all.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// A value that must be present and valid; `None` (with the error recorded) otherwise.
    pub fn required<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(V) -> Result<T, String>,
    ) -> Option<T> {
        match self.values.remove(name) {
            Some(value) => self.record(name, parse(value)),
            None => {
                self.errors.push(FieldError::new(name, "is required"));
                None
            }
        }
    }

    /// A value that may be absent: `Some(None)` when absent, `None` (with the error recorded)
    /// when present and invalid.
    pub fn optional<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(V) -> Result<T, String>,
    ) -> Option<Option<T>> {
        match self.values.remove(name) {
            Some(value) => self.record(name, parse(value)).map(Some),
            None => Some(None),
        }
    }

    /// Records an error that involves more than one field (such as inverted bounds).
    pub fn reject(&mut self, name: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(name, message));
    }

    fn record<T>(&mut self, name: &str, parsed: Result<T, String>) -> Option<T> {
        parsed
            .map_err(|message| self.errors.push(FieldError::new(name, message)))
            .ok()
    }

    /// Either every parsed value, or a 400 listing every field error.
    pub fn finish<P: Parsed>(self, parsed: P) -> Result<P::Values, ApiError> {
        if !self.errors.is_empty() {
            return Err(ApiError::invalid_fields(self.errors));
        }
        // Without errors every `required`/`optional` call returned `Some`.
        parsed.all().ok_or(ApiError::Internal)
    }
}

impl JsonFields {
    /// Reads a JSON object body that may hold only `allowed` fields.
    pub fn from_body(body: &[u8], allowed: &[Field]) -> Result<Self, ApiError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::BadRequest {
                detail: format!(
                    "The request needs a JSON object body with: {}.",
                    list(&names(allowed))
                ),
            });
        }
        let UniqueNames(value) =
            serde_json::from_slice(body).map_err(|error| ApiError::BadRequest {
                detail: format!(
                    "The body is not valid JSON: {} at line {}, column {}.",
                    json_problem(&error),
                    error.line(),
                    error.column()
                ),
            })?;
        let Value::Object(object) = value else {
            return Err(ApiError::BadRequest {
                detail: "The body must be a JSON object.".into(),
            });
        };
        Self::new(object.into_iter().collect(), allowed, "field")
    }
}

impl QueryParams {
    /// Reads a query string that may hold only `allowed` parameters, each at most once.
    pub fn from_query(query: Option<&str>, allowed: &[Field]) -> Result<Self, ApiError> {
        let mut values = BTreeMap::new();
        for (name, value) in query_pairs(query) {
            let name = name.map_err(|()| ApiError::BadRequest {
                detail: format!("A query parameter's name {NOT_UTF8}."),
            })?;
            let value = value.map_err(|()| ApiError::invalid_field(&name, NOT_UTF8))?;
            if values.insert(name.clone(), value).is_some() {
                return Err(ApiError::invalid_field(name, "must be given at most once"));
            }
        }
        Self::new(values, allowed, "query parameter")
    }

    /// Reads the query string of a route whose answers a shared cache keeps under `allowed`:
    /// parameters outside `allowed` are ignored, and a repeated one counts by its last value (as
    /// API Gateway puts it in the cache key), so the answer depends on exactly the key.
    pub fn from_shared_query(query: Option<&str>, allowed: &[Field]) -> Result<Self, ApiError> {
        let mut values = BTreeMap::new();
        for (name, value) in query_pairs(query) {
            let Ok(name) = name else {
                // Not text, so not the name of any parameter the key holds: ignored.
                continue;
            };
            if allowed.iter().any(|field| field.name == name) {
                let value = value.map_err(|()| ApiError::invalid_field(&name, NOT_UTF8))?;
                values.insert(name, value);
            }
        }
        Self::new(values, allowed, "query parameter")
    }
}

/// What a query parameter whose escapes make no UTF-8 text is told.
const NOT_UTF8: &str = "is not UTF-8 text once its %-escapes are decoded";

/// The `name=value` pairs of a query string, decoded as `application/x-www-form-urlencoded`
/// (`+` is a space, then %-escapes) but strictly: a name or value whose escapes make no UTF-8
/// text is `Err`. The form decoder would put U+FFFD in place of such bytes without a word, and
/// a filter would then match text the caller never sent.
fn query_pairs(
    query: Option<&str>,
) -> impl Iterator<Item = (Result<String, ()>, Result<String, ()>)> + '_ {
    let decode = |text: &str| {
        percent_encoding::percent_decode_str(&text.replace('+', " "))
            .decode_utf8()
            .map(|decoded| decoded.into_owned())
            .map_err(|_| ())
    };
    query
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(move |pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(name), decode(value))
        })
}

/// A JSON value whose objects, at every depth, name each member once. `serde_json` keeps the
/// last of a repeated name without a word, so `{"role": "customer", "role": "admin"}` would be
/// read one way here and perhaps the other way by anything that looked at the body before (a
/// gateway, a firewall rule, a log filter); a body that says two things is refused instead.
/// The parser's own depth limit still bounds the recursion.
struct UniqueNames(Value);

impl<'de> serde::Deserialize<'de> for UniqueNames {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(UniqueNamesVisitor)
            .map(UniqueNames)
    }
}

struct UniqueNamesVisitor;

impl<'de> serde::de::Visitor<'de> for UniqueNamesVisitor {
    type Value = Value;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        // The parser yields finite numbers only; `from` keeps one that is not as `null`.
        Ok(Value::from(value))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut items: A) -> Result<Value, A::Error> {
        let mut array = Vec::new();
        while let Some(UniqueNames(item)) = items.next_element()? {
            array.push(item);
        }
        Ok(Value::Array(array))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut members: A) -> Result<Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(name) = members.next_key::<String>()? {
            let UniqueNames(value) = members.next_value()?;
            if object.insert(name, value).is_some() {
                return Err(serde::de::Error::custom(REPEATED_NAME));
            }
        }
        Ok(Value::Object(object))
    }
}

/// The error [`UniqueNamesVisitor`] raises, the one error of the data category a JSON value can
/// meet (every other is the syntax's, or the document ending early).
const REPEATED_NAME: &str = "a member name appears twice in one object";

/// What went wrong in a JSON document, without echoing any of it.
fn json_problem(error: &serde_json::Error) -> &'static str {
    use serde_json::error::Category;
    match error.classify() {
        Category::Eof => "the document ends early",
        Category::Syntax => "a syntax error",
        Category::Data => REPEATED_NAME,
        Category::Io => "an unreadable value",
    }
}

fn list(names: &[&str]) -> String {
    names.join(", ")
}

/// A JSON string.
pub fn string(value: Value) -> Result<String, String> {
    match value {
        Value::String(text) => Ok(text),
        _ => Err("must be a string".into()),
    }
}

/// A whole number, from a JSON integer (or a whole one written with a fraction, `150.0`) or a
/// string of digits (`"150"`).
pub fn integer(value: Value) -> Result<i64, String> {
    match &value {
        Value::Number(number) => number.as_i64().or_else(|| whole_float(number.as_f64()?)),
        Value::String(text) => parse_integer(text),
        _ => None,
    }
    .ok_or_else(|| "must be a whole number".into())
}

/// A JSON number written with a fraction that is a whole number (`24.0`), as JSON Schema's
/// `integer` counts it; only where every whole number is exact (below 2^53), so a float that was
/// rounded on its way here is refused rather than read as a neighbour.
fn whole_float(number: f64) -> Option<i64> {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    (number.fract() == 0.0 && number.abs() < EXACT).then_some(number as i64)
}

/// A body field's parser for a value read from a JSON string: `text(ModelNumber::parse)`.
pub fn text<T>(
    parse: impl Fn(&str) -> Result<T, String> + Copy,
) -> impl Fn(Value) -> Result<T, String> + Copy {
    move |value| parse(&string(value)?)
}

/// A body field's parser for a value read from a whole number: `whole(Capacity::try_from)`.
pub fn whole<T>(
    parse: impl Fn(i64) -> Result<T, String> + Copy,
) -> impl Fn(Value) -> Result<T, String> + Copy {
    move |value| parse(integer(value)?)
}

/// A whole number from a query parameter.
pub fn integer_text(text: String) -> Result<i64, String> {
    parse_integer(&text).ok_or_else(|| "must be a whole number".into())
}

fn parse_integer(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A tuple of parse results that are all present once no error was recorded.
pub trait Parsed {
    type Values;
    fn all(self) -> Option<Self::Values>;
}

macro_rules! parsed_tuple {
    ($($name:ident),+) => {
        impl<$($name),+> Parsed for ($(Option<$name>,)+) {
            type Values = ($($name,)+);
            #[allow(non_snake_case)]
            fn all(self) -> Option<Self::Values> {
                let ($($name,)+) = self;
                Some(($($name?,)+))
            }
        }
    };
}

parsed_tuple!(A);
parsed_tuple!(A, B);
parsed_tuple!(A, B, C);
parsed_tuple!(A, B, C, D);
parsed_tuple!(A, B, C, D, E);
parsed_tuple!(A, B, C, D, E, F);
parsed_tuple!(A, B, C, D, E, F, G);
parsed_tuple!(A, B, C, D, E, F, G, H);

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Fields named `names` that hold any text.
    fn opaque(names: &[&'static str]) -> Vec<Field> {
        names
            .iter()
            .map(|name| Field::optional(name, Shape::Opaque))
            .collect()
    }

    #[test]
    fn integers_come_from_numbers_and_numeric_strings_only() {
        assert_eq!(integer(json!(150)), Ok(150));
        assert_eq!(integer(json!("150")), Ok(150));
        assert_eq!(integer(json!("-3")), Ok(-3));
        for invalid in [
            json!("abc"),
            json!(1.5),
            json!("1.5"),
            json!(""),
            json!(" 1"),
            json!(null),
            json!(true),
            json!([1]),
        ] {
            assert!(integer(invalid.clone()).is_err(), "{invalid}");
        }
    }

    #[test]
    fn unknown_fields_are_named_with_the_accepted_set() {
        let error = JsonFields::from_body(
            br#"{"capacity": 1, "isAdmin": true}"#,
            &opaque(&["capacity"]),
        )
        .unwrap_err();
        let ApiError::Validation { detail, errors } = error else {
            panic!("expected a validation error");
        };
        assert!(
            detail.contains("isAdmin") && detail.contains("Accepted: capacity"),
            "{detail}"
        );
        assert_eq!(errors[0].field, "isAdmin");
    }

    #[test]
    fn malformed_json_says_where_it_broke() {
        let error =
            JsonFields::from_body(b"{\n  \"capacity\": 1,\n}", &opaque(&["capacity"])).unwrap_err();
        let ApiError::BadRequest { detail } = error else {
            panic!("expected a bad request");
        };
        assert!(detail.contains("line 3"), "{detail}");
    }

    #[test]
    fn a_name_repeated_at_any_depth_is_refused() {
        for body in [
            &br#"{"a": 1, "a": 2}"#[..],
            br#"{"a": 1, "a": 1}"#,
            br#"{"a": {"amount": 1, "currency": "EUR", "amount": 2}}"#,
            br#"{"a": [{"b": 1, "b": 2}]}"#,
        ] {
            let Err(ApiError::BadRequest { detail }) = JsonFields::from_body(body, &opaque(&["a"]))
            else {
                panic!("{} was accepted", String::from_utf8_lossy(body));
            };
            assert!(detail.contains("appears twice"), "{detail}");
        }
        let mut fields = JsonFields::from_body(
            br#"{"a": {"b": [1, {"c": null}], "c": 1.5}}"#,
            &opaque(&["a"]),
        )
        .unwrap();
        let a = fields.required("a", Ok);
        assert_eq!(
            fields.finish((a,)).unwrap().0,
            json!({"b": [1, {"c": null}], "c": 1.5})
        );
    }

    #[test]
    fn deep_nesting_and_numbers_out_of_range_are_refused_as_bad_requests() {
        let deep = format!("{}1{}", r#"{"a":"#.repeat(10_000), "}".repeat(10_000));
        for body in [deep.as_bytes(), br#"{"a": 1e400}"#, b"{\"a\": \"\xff\"}"] {
            assert!(matches!(
                JsonFields::from_body(body, &opaque(&["a"])),
                Err(ApiError::BadRequest { .. })
            ));
        }
    }

    #[test]
    fn query_escapes_that_make_no_utf8_are_refused_not_replaced() {
        let allowed = opaque(&["manufacturer"]);
        for query in ["manufacturer=%FF%FE", "manufacturer=ab%C3", "%FF=1"] {
            assert!(
                QueryParams::from_query(Some(query), &allowed).is_err(),
                "{query}"
            );
        }
        assert!(QueryParams::from_shared_query(Some("manufacturer=%FF"), &allowed).is_err());
        // Not a parameter the shared key holds, so ignored like any other.
        assert!(QueryParams::from_shared_query(Some("x=%FF&%FF=1"), &allowed).is_ok());
        let mut params =
            QueryParams::from_query(Some("manufacturer=Citro%C3%ABn+C3"), &allowed).unwrap();
        let manufacturer = params.required("manufacturer", Ok);
        assert_eq!(params.finish((manufacturer,)).unwrap().0, "Citroën C3");
    }

    #[test]
    fn a_body_that_is_not_an_object_is_refused() {
        assert!(matches!(
            JsonFields::from_body(b"[1]", &opaque(&["a"])),
            Err(ApiError::BadRequest { .. })
        ));
        assert!(matches!(
            JsonFields::from_body(b"  ", &opaque(&["a"])),
            Err(ApiError::BadRequest { .. })
        ));
    }

    #[test]
    fn every_field_error_is_reported_at_once() {
        let mut fields = JsonFields::from_body(br#"{"a": "x"}"#, &opaque(&["a", "b"])).unwrap();
        let a = fields.required("a", integer);
        let b = fields.required("b", integer);
        let ApiError::Validation { errors, .. } = fields.finish((a, b)).unwrap_err() else {
            panic!("expected a validation error");
        };
        let names: Vec<_> = errors.iter().map(|error| error.field.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    fn optional_fields_may_be_absent() {
        let mut fields = JsonFields::from_body(br#"{"a": 1}"#, &opaque(&["a", "b"])).unwrap();
        let a = fields.optional("a", integer);
        let b = fields.optional("b", integer);
        assert_eq!(fields.finish((a, b)).unwrap(), (Some(1), None));
    }

    #[test]
    fn query_parameters_are_decoded_and_may_not_repeat() {
        let mut params = QueryParams::from_query(
            Some("modelNumber=A320%20neo&limit=5"),
            &opaque(&["modelNumber", "limit"]),
        )
        .unwrap();
        let model = params.required("modelNumber", Ok);
        let limit = params.required("limit", integer_text);
        assert_eq!(
            params.finish((model, limit)).unwrap(),
            ("A320 neo".to_owned(), 5)
        );
        assert!(QueryParams::from_query(Some("limit=1&limit=2"), &opaque(&["limit"])).is_err());
        assert!(QueryParams::from_query(Some("scan=1"), &opaque(&["limit"])).is_err());
    }
}
