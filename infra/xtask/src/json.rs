//! A JSON value that keeps its members in the order written, pretty-printed with two-space
//! indentation: the sample events read like the events AWS sends, field by field.

/// A JSON value.
#[derive(Clone, Debug)]
pub enum Json {
    Null,
    Bool(bool),
    Number(u64),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    /// A string value.
    pub fn str(text: impl Into<String>) -> Self {
        Json::String(text.into())
    }

    /// An object of `members`, in this order.
    pub fn object<const N: usize>(members: [(&str, Json); N]) -> Self {
        Json::Object(
            members
                .into_iter()
                .map(|(name, value)| (name.to_string(), value))
                .collect(),
        )
    }

    /// An object of string members, or `null` when there are none.
    pub fn strings_or_null(members: &[(String, String)]) -> Self {
        if members.is_empty() {
            return Json::Null;
        }
        Json::Object(
            members
                .iter()
                .map(|(name, value)| (name.clone(), Json::str(value)))
                .collect(),
        )
    }

    /// The text, pretty-printed, with a final newline.
    pub fn pretty(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, 0);
        out.push('\n');
        out
    }

    fn write(&self, out: &mut String, depth: usize) {
        let indent = |out: &mut String, depth: usize| out.push_str(&"  ".repeat(depth));
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(value) => out.push_str(if *value { "true" } else { "false" }),
            Json::Number(value) => out.push_str(&value.to_string()),
            Json::String(text) => out.push_str(&quote(text)),
            Json::Array(items) if items.is_empty() => out.push_str("[]"),
            Json::Object(members) if members.is_empty() => out.push_str("{}"),
            Json::Array(items) => {
                out.push_str("[\n");
                for (index, item) in items.iter().enumerate() {
                    indent(out, depth + 1);
                    item.write(out, depth + 1);
                    out.push_str(if index + 1 < items.len() { ",\n" } else { "\n" });
                }
                indent(out, depth);
                out.push(']');
            }
            Json::Object(members) => {
                out.push_str("{\n");
                for (index, (name, value)) in members.iter().enumerate() {
                    indent(out, depth + 1);
                    out.push_str(&quote(name));
                    out.push_str(": ");
                    value.write(out, depth + 1);
                    out.push_str(if index + 1 < members.len() {
                        ",\n"
                    } else {
                        "\n"
                    });
                }
                indent(out, depth);
                out.push('}');
            }
        }
    }
}

fn quote(text: &str) -> String {
    serde_json::to_string(text).expect("a string serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_members_in_order_and_parses_back() {
        let value = Json::object([
            ("b", Json::Number(1)),
            ("a", Json::Array(vec![Json::str("x\"y"), Json::Null])),
            ("empty", Json::Object(Vec::new())),
            ("flag", Json::Bool(false)),
        ]);
        let text = value.pretty();
        assert!(text.find("\"b\"") < text.find("\"a\""), "{text}");
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            parsed,
            serde_json::json!({"b": 1, "a": ["x\"y", null], "empty": {}, "flag": false})
        );
    }
}
