//! What the store checks and computes about one item before it touches redb: key attributes,
//! size, index keys, and the item an update produces.
//!
//! These are pure functions so that single writes and transactions share them, and so that a
//! transaction can compute every new item before it writes any.

use std::collections::HashSet;

use itinera::storage::{Index, Item, Key, StoreError, TABLE, Update};
use serde_json::{Number, Value};

use super::condition::integer;

/// DynamoDB's item size limit (400 KB); here measured on the serialized item.
pub(crate) const MAX_ITEM_BYTES: usize = 400 * 1024;

fn invalid(message: impl Into<String>) -> StoreError {
    StoreError::Invalid(message.into())
}

/// A key as DynamoDB accepts it: both parts non-empty.
pub(crate) fn check_key(key: &Key) -> Result<(), StoreError> {
    if key.pk.is_empty() || key.sk.is_empty() {
        return Err(invalid(format!(
            "key attributes may not be empty strings (key {key})"
        )));
    }
    Ok(())
}

/// The key an item carries; its key attributes must be non-empty strings.
pub(crate) fn key_of(item: &Item) -> Result<Key, StoreError> {
    let key = Key::of(item).ok_or_else(|| {
        invalid(format!(
            "an item needs string attributes `{}` and `{}`",
            TABLE.partition_key, TABLE.sort_key
        ))
    })?;
    check_key(&key)?;
    Ok(key)
}

/// The item as stored, refused when it is over the size limit.
pub(crate) fn encode(item: &Item) -> Result<Vec<u8>, StoreError> {
    let bytes = serde_json::to_vec(item).map_err(StoreError::internal)?;
    if bytes.len() > MAX_ITEM_BYTES {
        return Err(invalid(format!(
            "the item is {} bytes, over the limit of {MAX_ITEM_BYTES}",
            bytes.len()
        )));
    }
    Ok(bytes)
}

/// An item read back; a stored value that is not an item means corruption.
pub(crate) fn decode(bytes: &[u8]) -> Result<Item, StoreError> {
    serde_json::from_slice(bytes).map_err(StoreError::internal)
}

/// The item's key in `index`, when it has one: both key attributes present and strings. Items
/// without them are simply absent from the index (a sparse index).
pub(crate) fn index_key(item: &Item, index: Index) -> Option<(&str, &str)> {
    let pk = item.get(index.partition_key())?.as_str()?;
    let sk = item.get(index.sort_key())?.as_str()?;
    Some((pk, sk))
}

fn is_table_key(attribute: &str) -> bool {
    attribute == TABLE.partition_key || attribute == TABLE.sort_key
}

/// The checks DynamoDB makes on an update expression before looking at the item: key attributes
/// cannot change, and no attribute may appear in two actions.
pub(crate) fn check_update(update: &Update) -> Result<(), StoreError> {
    check_key(&update.key)?;
    let mut seen = HashSet::new();
    let names = update
        .set
        .iter()
        .map(|(name, _)| name)
        .chain(&update.remove)
        .chain(update.add.iter().map(|(name, _)| name));
    for name in names {
        if is_table_key(name) {
            return Err(invalid(format!("key attribute `{name}` cannot be updated")));
        }
        if !seen.insert(name.as_str()) {
            return Err(invalid(format!(
                "attribute `{name}` appears in more than one update action"
            )));
        }
    }
    Ok(())
}

/// The item after applying `update` to `current` (`None`: the item does not exist, so the update
/// creates it from its key). Assumes [`check_update`] passed.
pub(crate) fn apply_update(current: Option<Item>, update: &Update) -> Result<Item, StoreError> {
    let mut item = current.unwrap_or_default();
    update.key.write_into(&mut item);
    for (name, value) in &update.set {
        item.insert(name.clone(), value.clone());
    }
    for name in &update.remove {
        item.remove(name);
    }
    for (name, delta) in &update.add {
        let sum = add(item.get(name), *delta)
            .map_err(|found| invalid(format!("cannot ADD to `{name}`: it holds {found}")))?;
        item.insert(name.clone(), sum);
    }
    Ok(item)
}

/// `current + delta`, a missing attribute counting as 0; `Err` names what was found instead of a
/// number.
fn add(current: Option<&Value>, delta: i64) -> Result<Value, &'static str> {
    let number = match current {
        None => return Ok(Value::from(delta)),
        Some(Value::Number(number)) => number,
        Some(Value::String(_)) => return Err("a string"),
        Some(Value::Bool(_)) => return Err("a boolean"),
        Some(Value::Null) => return Err("null"),
        Some(Value::Array(_)) => return Err("a list"),
        Some(Value::Object(_)) => return Err("a map"),
    };
    if let Some(value) = integer(number) {
        let sum = value + i128::from(delta);
        if let Ok(sum) = i64::try_from(sum) {
            return Ok(Value::from(sum));
        }
        if let Ok(sum) = u64::try_from(sum) {
            return Ok(Value::from(sum));
        }
        return Err("a number too large to add to");
    }
    let value = number.as_f64().ok_or("a number that is not finite")?;
    #[allow(clippy::cast_precision_loss)]
    let sum = value + delta as f64;
    Number::from_f64(sum)
        .map(Value::Number)
        .ok_or("a number whose sum is not finite")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(value: Value) -> Item {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn an_item_needs_non_empty_string_keys() {
        assert_eq!(
            key_of(&object(json!({"pk": "a", "sk": "b"}))).ok(),
            Some(Key::new("a", "b"))
        );
        for bad in [
            json!({"pk": "a"}),
            json!({"pk": 1, "sk": "b"}),
            json!({"pk": "a", "sk": ""}),
        ] {
            assert!(matches!(key_of(&object(bad)), Err(StoreError::Invalid(_))));
        }
    }

    #[test]
    fn items_over_400_kb_are_refused() {
        let mut item = object(json!({"pk": "a", "sk": "b"}));
        item.insert("blob".into(), Value::String("x".repeat(MAX_ITEM_BYTES)));
        assert!(matches!(encode(&item), Err(StoreError::Invalid(_))));
        item.insert(
            "blob".into(),
            Value::String("x".repeat(MAX_ITEM_BYTES - 100)),
        );
        assert!(encode(&item).is_ok());
    }

    #[test]
    fn index_keys_exist_only_when_both_attributes_are_strings() {
        let full =
            object(json!({"pk": "a", "sk": "b", "gsi1pk": "x", "gsi1sk": "y", "gsi2pk": "z"}));
        assert_eq!(index_key(&full, Index::Gsi1), Some(("x", "y")));
        assert_eq!(index_key(&full, Index::Gsi2), None);
        let numeric = object(json!({"pk": "a", "sk": "b", "gsi1pk": "x", "gsi1sk": 3}));
        assert_eq!(index_key(&numeric, Index::Gsi1), None);
    }

    #[test]
    fn updates_may_not_touch_key_attributes_or_repeat_one() {
        let key = Key::new("a", "b");
        let mut set_key = Update::new(key.clone());
        set_key.set.push(("sk".into(), json!("c")));
        let mut remove_key = Update::new(key.clone());
        remove_key.remove.push("pk".into());
        let mut twice = Update::new(key.clone());
        twice.set.push(("stock".into(), json!(1)));
        twice.add.push(("stock".into(), 1));
        for update in [set_key, remove_key, twice] {
            assert!(matches!(check_update(&update), Err(StoreError::Invalid(_))));
        }
        let mut index_keys = Update::new(key);
        index_keys.set.push(("gsi1pk".into(), json!("x")));
        index_keys.remove.push("gsi2pk".into());
        assert!(check_update(&index_keys).is_ok());
    }

    #[test]
    fn an_update_sets_removes_and_adds() {
        let current = object(json!({"pk": "a", "sk": "b", "name": "old", "gone": 1, "stock": 5}));
        let mut update = Update::new(Key::new("a", "b"));
        update.set.push(("name".into(), json!("new")));
        update.remove.push("gone".into());
        update.add.push(("stock".into(), -2));
        update.add.push(("visits".into(), 1));
        let after = apply_update(Some(current), &update).expect("numbers add");
        assert_eq!(
            Value::Object(after),
            json!({"pk": "a", "sk": "b", "name": "new", "stock": 3, "visits": 1})
        );
    }

    #[test]
    fn an_update_of_a_missing_item_creates_it_from_its_key() {
        let mut update = Update::new(Key::new("a", "b"));
        update.add.push(("count".into(), 4));
        let created = apply_update(None, &update).expect("a missing attribute counts as 0");
        assert_eq!(
            Value::Object(created),
            json!({"pk": "a", "sk": "b", "count": 4})
        );
    }

    #[test]
    fn add_needs_a_number() {
        assert_eq!(add(Some(&json!(1.5)), 2), Ok(json!(3.5)));
        assert_eq!(add(Some(&json!(u64::MAX)), -1), Ok(json!(u64::MAX - 1)));
        assert_eq!(
            add(Some(&json!(i64::MIN)), -1),
            Err("a number too large to add to")
        );
        assert!(add(Some(&json!("1")), 1).is_err());
        assert!(add(Some(&json!(null)), 1).is_err());
        let mut update = Update::new(Key::new("a", "b"));
        update.add.push(("name".into(), 1));
        let current = object(json!({"pk": "a", "sk": "b", "name": "text"}));
        assert!(matches!(
            apply_update(Some(current), &update),
            Err(StoreError::Invalid(_))
        ));
    }
}
