//! Conversion between the port's JSON items and DynamoDB attribute values.
//!
//! JSON maps onto DynamoDB's document types one to one (null, bool, number, string, list, map).
//! Items written through the port never hold sets or binary values; sets written by other tools
//! read back as lists, binary values are refused rather than guessed at.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use itinera::storage::{Item, Key, TABLE};
use serde_json::{Map, Number, Value};

/// An item or key in the SDK's shape.
pub(crate) type AttributeMap = HashMap<String, AttributeValue>;

/// Why an attribute read from DynamoDB has no JSON equivalent.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConversionError {
    #[error("attribute `{attribute}` holds the number {text:?}, which does not fit a JSON number")]
    Number { attribute: String, text: String },
    #[error(
        "attribute `{attribute}` holds a {kind} value, which items stored through the port never hold"
    )]
    Unsupported {
        attribute: String,
        kind: &'static str,
    },
}

pub(crate) fn to_attribute(value: &Value) -> AttributeValue {
    match value {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(flag) => AttributeValue::Bool(*flag),
        Value::Number(number) => AttributeValue::N(number.to_string()),
        Value::String(text) => AttributeValue::S(text.clone()),
        Value::Array(values) => AttributeValue::L(values.iter().map(to_attribute).collect()),
        Value::Object(map) => AttributeValue::M(to_attributes(map)),
    }
}

pub(crate) fn to_attributes(item: &Item) -> AttributeMap {
    item.iter()
        .map(|(name, value)| (name.clone(), to_attribute(value)))
        .collect()
}

/// The table key of an item in the SDK's shape.
pub(crate) fn key_attributes(key: &Key) -> AttributeMap {
    HashMap::from([
        (
            TABLE.partition_key.to_owned(),
            AttributeValue::S(key.pk.clone()),
        ),
        (TABLE.sort_key.to_owned(), AttributeValue::S(key.sk.clone())),
    ])
}

pub(crate) fn from_attributes(attributes: AttributeMap) -> Result<Item, ConversionError> {
    let mut item = Map::new();
    for (name, value) in attributes {
        let value = from_attribute(value, &name)?;
        item.insert(name, value);
    }
    Ok(item)
}

/// `attribute` names the top-level attribute the value belongs to, for error messages.
fn from_attribute(value: AttributeValue, attribute: &str) -> Result<Value, ConversionError> {
    let unsupported = |kind| ConversionError::Unsupported {
        attribute: attribute.to_owned(),
        kind,
    };
    Ok(match value {
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::Bool(flag) => Value::Bool(flag),
        AttributeValue::N(text) => Value::Number(parse_number(&text, attribute)?),
        AttributeValue::S(text) => Value::String(text),
        AttributeValue::L(values) => Value::Array(
            values
                .into_iter()
                .map(|value| from_attribute(value, attribute))
                .collect::<Result<_, _>>()?,
        ),
        AttributeValue::M(map) => {
            let mut object = Map::new();
            for (name, value) in map {
                object.insert(name, from_attribute(value, attribute)?);
            }
            Value::Object(object)
        }
        AttributeValue::Ss(texts) => Value::Array(texts.into_iter().map(Value::String).collect()),
        AttributeValue::Ns(texts) => Value::Array(
            texts
                .iter()
                .map(|text| parse_number(text, attribute).map(Value::Number))
                .collect::<Result<_, _>>()?,
        ),
        AttributeValue::B(_) => return Err(unsupported("binary")),
        AttributeValue::Bs(_) => return Err(unsupported("binary set")),
        _ => return Err(unsupported("unknown")),
    })
}

/// Integers stay integers (signed first, then unsigned); anything else becomes a float.
fn parse_number(text: &str, attribute: &str) -> Result<Number, ConversionError> {
    if let Ok(integer) = text.parse::<i64>() {
        return Ok(integer.into());
    }
    if let Ok(integer) = text.parse::<u64>() {
        return Ok(integer.into());
    }
    text.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .ok_or_else(|| ConversionError::Number {
            attribute: attribute.to_owned(),
            text: text.to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::primitives::Blob;
    use serde_json::json;

    use super::*;

    fn item(value: Value) -> Item {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn every_json_type_round_trips() {
        let original = item(json!({
            "pk": "USER#1",
            "sk": "PROFILE",
            "nothing": null,
            "flag": true,
            "count": -42,
            "big": u64::MAX,
            "ratio": 0.25,
            "tags": ["a", 1, false, null, {"nested": [1, 2]}],
            "address": {"city": "Lisboa", "zip": "1000-001", "empty": {}},
            "emptyList": [],
            "emptyString": "",
        }));
        let attributes = to_attributes(&original);
        assert_eq!(attributes["nothing"], AttributeValue::Null(true));
        assert_eq!(attributes["flag"], AttributeValue::Bool(true));
        assert_eq!(attributes["count"], AttributeValue::N("-42".into()));
        assert_eq!(attributes["ratio"], AttributeValue::N("0.25".into()));
        assert_eq!(attributes["pk"], AttributeValue::S("USER#1".into()));
        assert_eq!(
            from_attributes(attributes).expect("converts back"),
            original
        );
    }

    #[test]
    fn numbers_read_back_as_integers_when_they_are_integers() {
        let read = |text: &str| parse_number(text, "n").expect("a number");
        assert_eq!(read("7"), Number::from(7));
        assert_eq!(read("-7"), Number::from(-7));
        assert_eq!(read("18446744073709551615"), Number::from(u64::MAX));
        assert_eq!(read("1.5"), Number::from_f64(1.5).expect("finite"));
        assert_eq!(read("1E+2"), Number::from_f64(100.0).expect("finite"));
        assert!(matches!(
            parse_number("not a number", "n"),
            Err(ConversionError::Number { .. })
        ));
    }

    #[test]
    fn sets_read_back_as_lists_and_binary_is_refused() {
        let attributes = AttributeMap::from([
            (
                "names".to_owned(),
                AttributeValue::Ss(vec!["a".into(), "b".into()]),
            ),
            (
                "numbers".to_owned(),
                AttributeValue::Ns(vec!["1".into(), "2.5".into()]),
            ),
        ]);
        let read = from_attributes(attributes).expect("sets convert");
        assert_eq!(
            Value::Object(read),
            json!({"names": ["a", "b"], "numbers": [1, 2.5]})
        );

        let binary = AttributeMap::from([(
            "blob".to_owned(),
            AttributeValue::M(HashMap::from([(
                "inner".to_owned(),
                AttributeValue::B(Blob::new(vec![1, 2])),
            )])),
        )]);
        match from_attributes(binary) {
            Err(ConversionError::Unsupported { attribute, kind }) => {
                assert_eq!(attribute, "blob");
                assert_eq!(kind, "binary");
            }
            other => panic!("binary accepted: {other:?}"),
        }
    }

    #[test]
    fn key_attributes_are_the_table_key_as_strings() {
        let key = key_attributes(&Key::new("A", "B"));
        assert_eq!(key.len(), 2);
        assert_eq!(key[TABLE.partition_key], AttributeValue::S("A".into()));
        assert_eq!(key[TABLE.sort_key], AttributeValue::S("B".into()));
    }
}

/// Generated inputs: every item the port can hold reaches DynamoDB's shape and comes back equal,
/// whatever its nesting, numbers and strings.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter_map("finite", Number::from_f64)
                .prop_map(Value::Number),
            "\\PC{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map("[a-zA-Z#_]{1,8}", inner, 0..6)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn every_item_round_trips(
            attributes in prop::collection::btree_map("[a-zA-Z0-9#_]{1,10}", json(), 0..10),
        ) {
            let item: Item = attributes.into_iter().collect();
            prop_assert_eq!(from_attributes(to_attributes(&item)).unwrap(), item);
        }
    }
}
