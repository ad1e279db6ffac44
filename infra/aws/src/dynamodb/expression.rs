//! Renders the port's typed conditions, updates and key conditions into DynamoDB expressions.
//!
//! Attribute names and values only ever reach DynamoDB through placeholders (`#n0`, `:v0`), so no
//! name (reserved words, dots, `#`) or value can change the meaning of an expression. One
//! [`Expressions`] collects the placeholders of every expression of one request, because a request
//! shares a single name map and a single value map between them.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use itinera::storage::{Comparison, Condition, Query, SortCondition, TABLE, Update};
use serde_json::Value;

use super::convert::to_attribute;

/// The placeholders allocated while rendering the expressions of one request.
#[derive(Debug, Default)]
pub(crate) struct Expressions {
    /// Placeholder -> attribute name.
    names: HashMap<String, String>,
    /// Attribute name -> placeholder, so a name used twice gets one placeholder.
    placeholders: HashMap<String, String>,
    /// Placeholder -> value.
    values: HashMap<String, AttributeValue>,
}

/// The maps a request carries next to its expressions; `None` when empty, because DynamoDB
/// rejects empty maps.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Placeholders {
    pub(crate) names: Option<HashMap<String, String>>,
    pub(crate) values: Option<HashMap<String, AttributeValue>>,
}

impl Expressions {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn name(&mut self, attribute: &str) -> String {
        if let Some(placeholder) = self.placeholders.get(attribute) {
            return placeholder.clone();
        }
        let placeholder = format!("#n{}", self.names.len());
        self.names.insert(placeholder.clone(), attribute.to_owned());
        self.placeholders
            .insert(attribute.to_owned(), placeholder.clone());
        placeholder
    }

    fn value(&mut self, value: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    fn string(&mut self, text: &str) -> String {
        self.value(AttributeValue::S(text.to_owned()))
    }

    /// A condition expression; an empty `And` holds vacuously.
    pub(crate) fn condition(&mut self, condition: &Condition) -> String {
        match condition {
            Condition::ItemExists => {
                let pk = self.name(TABLE.partition_key);
                format!("attribute_exists({pk})")
            }
            Condition::ItemNotExists => {
                let pk = self.name(TABLE.partition_key);
                format!("attribute_not_exists({pk})")
            }
            Condition::AttributeExists(attribute) => {
                let name = self.name(attribute);
                format!("attribute_exists({name})")
            }
            Condition::AttributeNotExists(attribute) => {
                let name = self.name(attribute);
                format!("attribute_not_exists({name})")
            }
            Condition::Compare {
                attribute,
                comparison,
                value,
            } => self.comparison(attribute, *comparison, value),
            Condition::BeginsWith { attribute, prefix } => {
                let name = self.name(attribute);
                let prefix = self.string(prefix);
                format!("begins_with({name}, {prefix})")
            }
            Condition::And(conditions) => match conditions.as_slice() {
                [] => {
                    let pk = self.name(TABLE.partition_key);
                    format!("(attribute_exists({pk}) OR attribute_not_exists({pk}))")
                }
                [single] => self.condition(single),
                // Each part in parentheses, but never twice: DynamoDB refuses `((...))` as
                // redundant, and the parts rendered in their own parentheses are complete.
                several => several
                    .iter()
                    .map(|condition| {
                        let rendered = self.condition(condition);
                        if self_parenthesized(condition) {
                            rendered
                        } else {
                            format!("({rendered})")
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" AND "),
            },
        }
    }

    fn comparison(&mut self, attribute: &str, comparison: Comparison, value: &Value) -> String {
        let name = self.name(attribute);
        let operand = self.value(to_attribute(value));
        let operator = match comparison {
            Comparison::Equal => "=",
            Comparison::Less => "<",
            Comparison::LessOrEqual => "<=",
            Comparison::Greater => ">",
            Comparison::GreaterOrEqual => ">=",
            Comparison::NotEqual => {
                // DynamoDB holds `a <> v` when `a` is missing or of another type; the port says a
                // comparison with a missing attribute or a value of another type is false, so the
                // attribute must exist with the value's type. Two clauses joined by AND, without
                // parentheses: DynamoDB refuses redundant ones, and `And` puts one pair around
                // each of its conditions.
                let kind = self.string(type_descriptor(value));
                return format!("attribute_type({name}, {kind}) AND {name} <> {operand}");
            }
        };
        format!("{name} {operator} {operand}")
    }

    /// An update expression; `None` when the update changes nothing.
    ///
    /// DynamoDB applies the clauses of one update atomically in any order. ADD comes first anyway:
    /// it is the only action that can fail on the item's current contents (adding to a
    /// non-number), and emulators that apply actions one at a time without rolling back (moto
    /// does) then fail before changing anything, as DynamoDB does.
    pub(crate) fn update(&mut self, update: &Update) -> Option<String> {
        let mut clauses = Vec::new();
        if !update.add.is_empty() {
            let actions: Vec<String> = update
                .add
                .iter()
                .map(|(attribute, delta)| {
                    let name = self.name(attribute);
                    let delta = self.value(AttributeValue::N(delta.to_string()));
                    format!("{name} {delta}")
                })
                .collect();
            clauses.push(format!("ADD {}", actions.join(", ")));
        }
        if !update.set.is_empty() {
            let actions: Vec<String> = update
                .set
                .iter()
                .map(|(attribute, value)| {
                    let name = self.name(attribute);
                    let value = self.value(to_attribute(value));
                    format!("{name} = {value}")
                })
                .collect();
            clauses.push(format!("SET {}", actions.join(", ")));
        }
        if !update.remove.is_empty() {
            let names: Vec<String> = update
                .remove
                .iter()
                .map(|attribute| self.name(attribute))
                .collect();
            clauses.push(format!("REMOVE {}", names.join(", ")));
        }
        (!clauses.is_empty()).then(|| clauses.join(" "))
    }

    /// The key condition of a query, on the table's or the index's key attributes.
    pub(crate) fn key_condition(&mut self, query: &Query) -> String {
        let (partition_key, sort_key) = match query.index {
            Some(index) => (index.partition_key(), index.sort_key()),
            None => (TABLE.partition_key, TABLE.sort_key),
        };
        let pk = self.name(partition_key);
        let partition = self.string(&query.partition);
        let mut expression = format!("{pk} = {partition}");
        if let Some(sort) = &query.sort {
            let sk = self.name(sort_key);
            let sort = match sort {
                SortCondition::Equal(value) => format!("{sk} = {}", self.string(value)),
                SortCondition::Less(value) => format!("{sk} < {}", self.string(value)),
                SortCondition::LessOrEqual(value) => format!("{sk} <= {}", self.string(value)),
                SortCondition::Greater(value) => format!("{sk} > {}", self.string(value)),
                SortCondition::GreaterOrEqual(value) => format!("{sk} >= {}", self.string(value)),
                SortCondition::Between(low, high) => {
                    let low = self.string(low);
                    let high = self.string(high);
                    format!("{sk} BETWEEN {low} AND {high}")
                }
                SortCondition::BeginsWith(prefix) => {
                    format!("begins_with({sk}, {})", self.string(prefix))
                }
            };
            expression.push_str(" AND ");
            expression.push_str(&sort);
        }
        expression
    }

    pub(crate) fn into_placeholders(self) -> Placeholders {
        Placeholders {
            names: (!self.names.is_empty()).then_some(self.names),
            values: (!self.values.is_empty()).then_some(self.values),
        }
    }
}

/// The DynamoDB type descriptor `attribute_type` compares with.
fn type_descriptor(value: &Value) -> &'static str {
    match value {
        Value::Null => "NULL",
        Value::Bool(_) => "BOOL",
        Value::Number(_) => "N",
        Value::String(_) => "S",
        Value::Array(_) => "L",
        Value::Object(_) => "M",
    }
}

/// Whether `condition` renders inside its own parentheses (the condition that always holds), so
/// a conjunction must not wrap it again.
fn self_parenthesized(condition: &Condition) -> bool {
    match condition {
        Condition::And(conditions) => conditions.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use itinera::storage::{Index, Key, Order};
    use serde_json::json;

    use super::*;

    fn s(text: &str) -> AttributeValue {
        AttributeValue::S(text.to_owned())
    }

    fn n(text: &str) -> AttributeValue {
        AttributeValue::N(text.to_owned())
    }

    fn names(pairs: &[(&str, &str)]) -> Option<HashMap<String, String>> {
        Some(
            pairs
                .iter()
                .map(|(placeholder, name)| ((*placeholder).to_owned(), (*name).to_owned()))
                .collect(),
        )
    }

    fn values(pairs: Vec<(&str, AttributeValue)>) -> Option<HashMap<String, AttributeValue>> {
        Some(
            pairs
                .into_iter()
                .map(|(placeholder, value)| (placeholder.to_owned(), value))
                .collect(),
        )
    }

    #[test]
    fn item_existence_checks_the_partition_key() {
        let mut expressions = Expressions::new();
        assert_eq!(
            expressions.condition(&Condition::ItemNotExists),
            "attribute_not_exists(#n0)"
        );
        assert_eq!(
            expressions.condition(&Condition::ItemExists),
            "attribute_exists(#n0)"
        );
        let placeholders = expressions.into_placeholders();
        assert_eq!(placeholders.names, names(&[("#n0", "pk")]));
        assert_eq!(placeholders.values, None);
    }

    #[test]
    fn comparisons_use_placeholders_for_names_and_values() {
        let mut expressions = Expressions::new();
        let condition = Condition::And(vec![
            Condition::version_is(3),
            Condition::compare("seats", Comparison::GreaterOrEqual, 2),
            Condition::compare("status", Comparison::Less, "z"),
            Condition::compare("status", Comparison::LessOrEqual, "y"),
            Condition::compare("status", Comparison::Greater, "a"),
            Condition::AttributeExists("holdId".into()),
            Condition::AttributeNotExists("cancelledAt".into()),
            Condition::BeginsWith {
                attribute: "sk".into(),
                prefix: "SLOT#".into(),
            },
        ]);
        assert_eq!(
            expressions.condition(&condition),
            "(#n0 = :v0) AND (#n1 >= :v1) AND (#n2 < :v2) AND (#n2 <= :v3) AND (#n2 > :v4) AND \
             (attribute_exists(#n3)) AND (attribute_not_exists(#n4)) AND (begins_with(#n5, :v5))"
        );
        let placeholders = expressions.into_placeholders();
        assert_eq!(
            placeholders.names,
            names(&[
                ("#n0", "version"),
                ("#n1", "seats"),
                ("#n2", "status"),
                ("#n3", "holdId"),
                ("#n4", "cancelledAt"),
                ("#n5", "sk"),
            ])
        );
        assert_eq!(
            placeholders.values,
            values(vec![
                (":v0", n("3")),
                (":v1", n("2")),
                (":v2", s("z")),
                (":v3", s("y")),
                (":v4", s("a")),
                (":v5", s("SLOT#")),
            ])
        );
    }

    #[test]
    fn not_equal_requires_the_attribute_with_the_values_type() {
        let mut expressions = Expressions::new();
        let condition = Condition::compare("status", Comparison::NotEqual, json!({"a": 1}));
        assert_eq!(
            expressions.condition(&condition),
            "attribute_type(#n0, :v1) AND #n0 <> :v0"
        );
        let placeholders = expressions.into_placeholders();
        let values = placeholders.values.expect("values");
        assert_eq!(values[":v1"], s("M"));
        assert_eq!(
            values[":v0"],
            AttributeValue::M(HashMap::from([("a".to_owned(), n("1"))]))
        );
        for (value, descriptor) in [
            (json!(null), "NULL"),
            (json!(true), "BOOL"),
            (json!(1.5), "N"),
            (json!("x"), "S"),
            (json!([]), "L"),
            (json!({}), "M"),
        ] {
            assert_eq!(type_descriptor(&value), descriptor);
        }
    }

    #[test]
    fn names_that_look_like_syntax_stay_inside_placeholders() {
        let mut expressions = Expressions::new();
        let condition = Condition::compare("a.b = :x OR #y", Comparison::Equal, "1) OR (1 = 1");
        assert_eq!(expressions.condition(&condition), "#n0 = :v0");
        let placeholders = expressions.into_placeholders();
        assert_eq!(placeholders.names, names(&[("#n0", "a.b = :x OR #y")]));
        assert_eq!(
            placeholders.values,
            values(vec![(":v0", s("1) OR (1 = 1"))])
        );
    }

    #[test]
    fn and_of_nothing_holds_and_and_of_one_is_that_one() {
        let mut expressions = Expressions::new();
        assert_eq!(
            expressions.condition(&Condition::And(vec![])),
            "(attribute_exists(#n0) OR attribute_not_exists(#n0))"
        );
        assert_eq!(
            expressions.condition(&Condition::And(vec![Condition::AttributeExists(
                "x".into()
            )])),
            "attribute_exists(#n1)"
        );
        let nested = Condition::And(vec![
            Condition::ItemExists,
            Condition::And(vec![
                Condition::AttributeExists("x".into()),
                Condition::AttributeExists("y".into()),
            ]),
        ]);
        assert_eq!(
            expressions.condition(&nested),
            "(attribute_exists(#n0)) AND ((attribute_exists(#n1)) AND (attribute_exists(#n2)))"
        );
    }

    #[test]
    fn a_conjunction_never_doubles_the_parentheses_of_its_parts() {
        let mut expressions = Expressions::new();
        let condition = Condition::And(vec![
            Condition::compare("status", Comparison::NotEqual, "maintenance"),
            Condition::compare("status", Comparison::NotEqual, "retired"),
            Condition::ItemExists,
        ]);
        assert_eq!(
            expressions.condition(&condition),
            concat!(
                "(attribute_type(#n0, :v1) AND #n0 <> :v0) AND ",
                "(attribute_type(#n0, :v3) AND #n0 <> :v2) AND (attribute_exists(#n1))"
            )
        );
    }

    #[test]
    fn updates_render_add_set_and_remove_clauses() {
        let mut update = Update::new(Key::new("A", "B"));
        update.set = vec![
            ("status".into(), json!("held")),
            ("version".into(), json!(4)),
        ];
        update.remove = vec!["holdId".into(), "expiresAt".into()];
        update.add = vec![("remaining".into(), -1), ("holds".into(), 1)];
        update.condition = Some(Condition::version_is(3));

        let mut expressions = Expressions::new();
        let rendered = expressions.update(&update).expect("an expression");
        let condition = expressions.condition(update.condition.as_ref().expect("condition"));
        assert_eq!(
            rendered,
            "ADD #n0 :v0, #n1 :v1 SET #n2 = :v2, #n3 = :v3 REMOVE #n4, #n5"
        );
        assert_eq!(condition, "#n3 = :v4");
        let placeholders = expressions.into_placeholders();
        assert_eq!(
            placeholders.names,
            names(&[
                ("#n0", "remaining"),
                ("#n1", "holds"),
                ("#n2", "status"),
                ("#n3", "version"),
                ("#n4", "holdId"),
                ("#n5", "expiresAt"),
            ])
        );
        assert_eq!(
            placeholders.values,
            values(vec![
                (":v0", n("-1")),
                (":v1", n("1")),
                (":v2", s("held")),
                (":v3", n("4")),
                (":v4", n("3")),
            ])
        );
    }

    #[test]
    fn an_update_of_nothing_has_no_expression() {
        let mut expressions = Expressions::new();
        assert_eq!(expressions.update(&Update::new(Key::new("A", "B"))), None);
        assert_eq!(expressions.into_placeholders(), Placeholders::default());

        let mut only_remove = Update::new(Key::new("A", "B"));
        only_remove.remove = vec!["x".into()];
        let mut expressions = Expressions::new();
        assert_eq!(
            expressions.update(&only_remove).as_deref(),
            Some("REMOVE #n0")
        );
    }

    #[test]
    fn key_conditions_use_the_table_or_index_key() {
        let mut query = Query::partition(None, "USER#1");
        let mut expressions = Expressions::new();
        assert_eq!(expressions.key_condition(&query), "#n0 = :v0");
        assert_eq!(
            expressions.into_placeholders().names,
            names(&[("#n0", "pk")])
        );

        query.index = Some(Index::Gsi2);
        query.order = Order::Descending;
        query.sort = Some(SortCondition::Between("2024".into(), "2025".into()));
        let mut expressions = Expressions::new();
        assert_eq!(
            expressions.key_condition(&query),
            "#n0 = :v0 AND #n1 BETWEEN :v1 AND :v2"
        );
        let placeholders = expressions.into_placeholders();
        assert_eq!(
            placeholders.names,
            names(&[("#n0", "gsi2pk"), ("#n1", "gsi2sk")])
        );
        assert_eq!(
            placeholders.values,
            values(vec![
                (":v0", s("USER#1")),
                (":v1", s("2024")),
                (":v2", s("2025"))
            ])
        );
    }

    #[test]
    fn every_sort_condition_renders() {
        let cases = [
            (SortCondition::Equal("x".into()), "#n1 = :v1"),
            (SortCondition::Less("x".into()), "#n1 < :v1"),
            (SortCondition::LessOrEqual("x".into()), "#n1 <= :v1"),
            (SortCondition::Greater("x".into()), "#n1 > :v1"),
            (SortCondition::GreaterOrEqual("x".into()), "#n1 >= :v1"),
            (
                SortCondition::BeginsWith("x".into()),
                "begins_with(#n1, :v1)",
            ),
        ];
        for (sort, rendered) in cases {
            let mut query = Query::partition(Some(Index::Gsi1), "P");
            query.sort = Some(sort);
            let mut expressions = Expressions::new();
            assert_eq!(
                expressions.key_condition(&query),
                format!("#n0 = :v0 AND {rendered}")
            );
            let placeholders = expressions.into_placeholders();
            assert_eq!(
                placeholders.names,
                names(&[("#n0", "gsi1pk"), ("#n1", "gsi1sk")])
            );
            assert_eq!(placeholders.values.expect("values")[":v1"], s("x"));
        }
    }

    #[test]
    fn a_filter_shares_placeholders_with_the_key_condition() {
        let mut query = Query::partition(None, "P");
        query.filter = Some(Condition::compare("status", Comparison::Equal, "open"));
        let mut expressions = Expressions::new();
        let key = expressions.key_condition(&query);
        let filter = expressions.condition(query.filter.as_ref().expect("filter"));
        assert_eq!(key, "#n0 = :v0");
        assert_eq!(filter, "#n1 = :v1");
    }
}
