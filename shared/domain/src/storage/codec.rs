//! The one item codec: every stored record is a serde type, written with [`to_item`] and read back
//! with [`from_item`].
//!
//! Records hold their domain newtypes, and each newtype deserializes through its own parser
//! ([`parsed_from_string!`]), so reading an item back re-validates every field without a record
//! spelling its fields out a second time. An item that does not decode, or a value that does not
//! encode to an object, is corrupt data and so a [`StoreError::Internal`], never a caller's
//! mistake.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use serde::Deserialize;

use super::{Index, Item, Key, StoreError};

/// A record as a stored item (or any serializable value as the JSON object audit entries and
/// views hold). A value that is not an object when serialized is refused as internal.
pub fn to_item(record: &impl Serialize) -> Result<Item, StoreError> {
    match serde_json::to_value(record).map_err(StoreError::internal)? {
        Value::Object(item) => Ok(item),
        other => Err(StoreError::internal(format!(
            "a record serialized to {other} instead of an object"
        ))),
    }
}

/// A record read back from its item; an item that does not decode, or a field its newtype's
/// parser refuses, is corrupt data.
pub fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_json::from_value(Value::Object(item)).map_err(StoreError::internal)
}

/// The key attributes of a stored item, which a record flattens into itself
/// (`#[serde(flatten)] keys: ItemKeys`): the primary key and, for each index the item is in, that
/// index's keys. An index whose keys are absent does not hold the item (a sparse index).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemKeys {
    pub pk: String,
    pub sk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi1pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi1sk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi2pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi2sk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi3pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi3sk: Option<String>,
}

impl ItemKeys {
    /// The keys of an item at `key`, in no index yet.
    pub fn new(key: Key) -> Self {
        Self {
            pk: key.pk,
            sk: key.sk,
            ..Self::default()
        }
    }

    /// The item in `index` too, in partition `partition` at `sort`.
    pub fn indexed(
        mut self,
        index: Index,
        partition: impl Into<String>,
        sort: impl Into<String>,
    ) -> Self {
        let (pk, sk) = match index {
            Index::Gsi1 => (&mut self.gsi1pk, &mut self.gsi1sk),
            Index::Gsi2 => (&mut self.gsi2pk, &mut self.gsi2sk),
            Index::Gsi3 => (&mut self.gsi3pk, &mut self.gsi3sk),
        };
        *pk = Some(partition.into());
        *sk = Some(sort.into());
        self
    }
}

/// A timestamp as stored attributes and sort keys hold it: RFC 3339, UTC (`Z`), milliseconds.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Implements `Deserialize` for a newtype read from a string through its parser, so a stored or
/// received value is validated exactly as user input is. The parser is any expression from
/// `&str` to a `Result` whose error displays (wrap an `Option` with `ok_or`).
macro_rules! parsed_from_string {
    ($($ty:ty => $parse:expr),+ $(,)?) => {$(
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = <String as serde::Deserialize>::deserialize(deserializer)?;
                let parse: fn(&str) -> Result<$ty, _> = $parse;
                parse(&raw).map_err(|error| {
                    serde::de::Error::custom(format!("{raw:?} {error}"))
                })
            }
        }
    )+};
}
pub(crate) use parsed_from_string;

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize)]
    struct Even(String);

    parsed_from_string!(Even => |raw| {
        if raw.len() % 2 == 0 { Ok(Even(raw.to_owned())) } else { Err("must have even length") }
    });

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Record {
        name: Even,
        count: u32,
    }

    #[test]
    fn a_record_round_trips_through_its_item() {
        let record = Record {
            name: Even("ab".into()),
            count: 3,
        };
        let item = to_item(&record).unwrap();
        assert_eq!(item["name"], "ab");
        assert_eq!(from_item::<Record>(item).unwrap(), record);
    }

    #[test]
    fn a_field_its_parser_refuses_is_an_internal_error() {
        let item = to_item(&serde_json::json!({"name": "abc", "count": 1})).unwrap();
        let error = from_item::<Record>(item).unwrap_err();
        assert!(matches!(&error, StoreError::Internal(_)), "{error:?}");
        let source = std::error::Error::source(&error).unwrap().to_string();
        assert!(source.contains("must have even length"), "{source}");
    }

    #[test]
    fn a_value_that_is_not_an_object_is_refused() {
        assert!(matches!(to_item(&3), Err(StoreError::Internal(_))));
    }

    #[test]
    fn item_keys_write_the_schema_attributes_of_the_indexes_named_only() {
        let keys = ItemKeys::new(Key::new("P", "S")).indexed(Index::Gsi2, "P2", "S2");
        let item = to_item(&keys).unwrap();
        assert_eq!(Key::of(&item), Some(Key::new("P", "S")));
        assert_eq!(item[Index::Gsi2.partition_key()], "P2");
        assert_eq!(item[Index::Gsi2.sort_key()], "S2");
        for index in [Index::Gsi1, Index::Gsi3] {
            assert!(!item.contains_key(index.partition_key()));
            assert!(!item.contains_key(index.sort_key()));
        }
        assert_eq!(from_item::<ItemKeys>(item).unwrap(), keys);
    }
}
