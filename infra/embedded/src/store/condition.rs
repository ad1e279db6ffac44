//! Evaluates the port's typed conditions directly against a stored item.
//!
//! The DynamoDB adapter renders a `Condition` into an expression that DynamoDB evaluates; here the
//! same meaning is computed in Rust, inside the write transaction that the condition guards, which
//! is what makes a conditional write atomic. The rules follow DynamoDB's: numbers compare
//! numerically, strings by their UTF-8 bytes, and a comparison with a missing attribute or a value
//! of another type is false.

use std::cmp::Ordering;

use itinera::storage::{Comparison, Condition, Item, TABLE};
use serde_json::{Number, Value};

/// Whether `condition` holds for `item` (`None`: the item does not exist).
pub(crate) fn holds(condition: &Condition, item: Option<&Item>) -> bool {
    let attribute = |name: &str| item.and_then(|item| item.get(name));
    match condition {
        Condition::ItemExists => attribute(TABLE.partition_key).is_some(),
        Condition::ItemNotExists => attribute(TABLE.partition_key).is_none(),
        Condition::AttributeExists(name) => attribute(name).is_some(),
        Condition::AttributeNotExists(name) => attribute(name).is_none(),
        Condition::Compare {
            attribute: name,
            comparison,
            value,
        } => attribute(name).is_some_and(|current| compare(current, *comparison, value)),
        Condition::BeginsWith {
            attribute: name,
            prefix,
        } => attribute(name)
            .and_then(Value::as_str)
            .is_some_and(|current| current.as_bytes().starts_with(prefix.as_bytes())),
        Condition::And(conditions) => conditions.iter().all(|condition| holds(condition, item)),
    }
}

/// `left <comparison> right` with DynamoDB's typing: ordered comparisons exist for numbers and
/// strings only; equality exists for every type; values of different types never compare.
fn compare(left: &Value, comparison: Comparison, right: &Value) -> bool {
    let ordering = match (left, right) {
        (Value::Number(left), Value::Number(right)) => compare_numbers(left, right),
        (Value::String(left), Value::String(right)) => left.as_bytes().cmp(right.as_bytes()),
        (Value::Bool(_), Value::Bool(_))
        | (Value::Null, Value::Null)
        | (Value::Array(_), Value::Array(_))
        | (Value::Object(_), Value::Object(_)) => {
            return match comparison {
                Comparison::Equal => left == right,
                Comparison::NotEqual => left != right,
                _ => false,
            };
        }
        _ => return false,
    };
    match comparison {
        Comparison::Equal => ordering == Ordering::Equal,
        Comparison::NotEqual => ordering != Ordering::Equal,
        Comparison::Less => ordering == Ordering::Less,
        Comparison::LessOrEqual => ordering != Ordering::Greater,
        Comparison::Greater => ordering == Ordering::Greater,
        Comparison::GreaterOrEqual => ordering != Ordering::Less,
    }
}

/// Integers compare exactly (`3` equals `3.0` too); anything with a fraction compares as `f64`.
pub(crate) fn compare_numbers(left: &Number, right: &Number) -> Ordering {
    match (integer(left), integer(right)) {
        (Some(left), Some(right)) => left.cmp(&right),
        _ => {
            let left = left.as_f64().unwrap_or(f64::NAN);
            let right = right.as_f64().unwrap_or(f64::NAN);
            // serde_json numbers are finite, so `total_cmp` only ever sees ordinary values.
            left.total_cmp(&right)
        }
    }
}

/// The number as an exact integer, when it is one (including floats with no fraction).
pub(crate) fn integer(number: &Number) -> Option<i128> {
    if let Some(value) = number.as_i64() {
        return Some(i128::from(value));
    }
    if let Some(value) = number.as_u64() {
        return Some(i128::from(value));
    }
    let value = number.as_f64()?;
    // Only floats well inside i64's range are turned into integers; larger ones stay floats.
    let exact = value.fract() == 0.0 && value.abs() < 9.0e15;
    #[allow(clippy::cast_possible_truncation)]
    exact.then_some(value as i128)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn item(value: Value) -> Item {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    fn order() -> Item {
        item(json!({
            "pk": "ORDER#1", "sk": "META", "status": "open", "stock": 10, "price": 12.5,
            "version": 3, "paid": false, "note": null, "tags": ["a", "b"],
        }))
    }

    #[test]
    fn existence_conditions_follow_the_item_and_its_attributes() {
        let order = order();
        assert!(holds(&Condition::ItemExists, Some(&order)));
        assert!(!holds(&Condition::ItemNotExists, Some(&order)));
        assert!(!holds(&Condition::ItemExists, None));
        assert!(holds(&Condition::ItemNotExists, None));
        assert!(holds(
            &Condition::AttributeExists("note".into()),
            Some(&order)
        ));
        assert!(!holds(
            &Condition::AttributeExists("missing".into()),
            Some(&order)
        ));
        assert!(holds(
            &Condition::AttributeNotExists("missing".into()),
            Some(&order)
        ));
        assert!(holds(&Condition::AttributeNotExists("status".into()), None));
        assert!(!holds(&Condition::AttributeExists("status".into()), None));
    }

    #[test]
    fn numbers_compare_numerically() {
        let order = order();
        let check = |comparison, value: Value| {
            holds(
                &Condition::compare("stock", comparison, value),
                Some(&order),
            )
        };
        assert!(check(Comparison::Equal, json!(10)));
        assert!(check(Comparison::Equal, json!(10.0)));
        assert!(check(Comparison::GreaterOrEqual, json!(1)));
        assert!(check(Comparison::Greater, json!(9.5)));
        assert!(check(Comparison::Less, json!(11)));
        assert!(
            check(Comparison::Less, json!(100)),
            "numerically, not as text"
        );
        assert!(!check(Comparison::Less, json!(-3)));
        assert!(check(Comparison::LessOrEqual, json!(10)));
        assert!(check(Comparison::NotEqual, json!(u64::MAX)));
        assert!(holds(
            &Condition::compare("price", Comparison::Greater, 12),
            Some(&order)
        ));
        assert!(holds(&Condition::version_is(3), Some(&order)));
        assert!(!holds(&Condition::version_is(2), Some(&order)));
    }

    #[test]
    fn large_integers_compare_exactly() {
        let big = Number::from(u64::MAX);
        let below = Number::from(u64::MAX - 1);
        let negative = Number::from(i64::MIN);
        assert_eq!(compare_numbers(&big, &below), Ordering::Greater);
        assert_eq!(compare_numbers(&negative, &big), Ordering::Less);
        assert_eq!(
            compare_numbers(&Number::from(i64::MAX), &Number::from(i64::MAX - 1)),
            Ordering::Greater
        );
    }

    #[test]
    fn strings_compare_by_their_bytes() {
        let order = item(json!({"pk": "p", "sk": "s", "name": "Zoe", "accented": "é"}));
        let check = |attribute: &str, comparison, value: &str| {
            holds(
                &Condition::compare(attribute, comparison, value),
                Some(&order),
            )
        };
        assert!(
            check("name", Comparison::Less, "a"),
            "upper case sorts first"
        );
        assert!(check("name", Comparison::Equal, "Zoe"));
        assert!(check("name", Comparison::NotEqual, "zoe"));
        assert!(
            check("accented", Comparison::Greater, "z"),
            "multi-byte sorts after ASCII"
        );
        assert!(check("name", Comparison::GreaterOrEqual, "Zoe"));
    }

    #[test]
    fn a_type_mismatch_or_a_missing_attribute_is_false_for_every_comparison() {
        let order = order();
        let comparisons = [
            Comparison::Equal,
            Comparison::NotEqual,
            Comparison::Less,
            Comparison::LessOrEqual,
            Comparison::Greater,
            Comparison::GreaterOrEqual,
        ];
        for comparison in comparisons {
            assert!(!holds(
                &Condition::compare("stock", comparison, "10"),
                Some(&order)
            ));
            assert!(!holds(
                &Condition::compare("status", comparison, 1),
                Some(&order)
            ));
            assert!(!holds(
                &Condition::compare("missing", comparison, 1),
                Some(&order)
            ));
            assert!(!holds(&Condition::compare("stock", comparison, 10), None));
        }
    }

    #[test]
    fn other_types_support_equality_only() {
        let order = order();
        assert!(holds(
            &Condition::compare("paid", Comparison::Equal, false),
            Some(&order)
        ));
        assert!(holds(
            &Condition::compare("paid", Comparison::NotEqual, true),
            Some(&order)
        ));
        assert!(!holds(
            &Condition::compare("paid", Comparison::Less, true),
            Some(&order)
        ));
        assert!(holds(
            &Condition::compare("note", Comparison::Equal, Value::Null),
            Some(&order)
        ));
        assert!(holds(
            &Condition::compare("tags", Comparison::Equal, json!(["a", "b"])),
            Some(&order)
        ));
        assert!(!holds(
            &Condition::compare("tags", Comparison::Greater, json!(["a"])),
            Some(&order)
        ));
    }

    #[test]
    fn begins_with_needs_a_string_attribute() {
        let order = order();
        let begins = |attribute: &str, prefix: &str| Condition::BeginsWith {
            attribute: attribute.into(),
            prefix: prefix.into(),
        };
        assert!(holds(&begins("pk", "ORDER#"), Some(&order)));
        assert!(holds(&begins("pk", ""), Some(&order)));
        assert!(!holds(&begins("pk", "order#"), Some(&order)));
        assert!(!holds(&begins("stock", "1"), Some(&order)));
        assert!(!holds(&begins("missing", ""), Some(&order)));
    }

    #[test]
    fn and_needs_every_part() {
        let order = order();
        let stocked = Condition::compare("stock", Comparison::GreaterOrEqual, 1);
        let open = Condition::compare("status", Comparison::Equal, "open");
        let closed = Condition::compare("status", Comparison::Equal, "closed");
        assert!(holds(
            &Condition::And(vec![stocked.clone(), open]),
            Some(&order)
        ));
        assert!(!holds(&Condition::And(vec![stocked, closed]), Some(&order)));
        assert!(holds(&Condition::And(vec![]), Some(&order)));
    }
}
