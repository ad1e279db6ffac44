//! The two value shapes most fields are: a trimmed text of a bounded length, and an integer in a
//! range. Each is a newtype that parses once (from a request or a stored item alike) and cannot
//! hold anything else; the macros here write that shape once, so an entity module states only
//! its bounds: `bounded_text!(ModelNumber, 64)`, `bounded_integer!(Capacity: u16, 1..=1000)`;
//! and a closed set of words is one line per word (`word_enum!`).

/// The text a [`bounded_text!`] value holds: `raw` trimmed, 1 to `max_chars` characters, none of
/// them a control character.
pub fn trimmed_text(raw: &str, max_chars: usize) -> Result<String, String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err("must not be empty".into());
    }
    if trimmed.chars().count() > max_chars {
        return Err(format!("must be at most {max_chars} characters"));
    }
    if trimmed.chars().any(char::is_control) {
        return Err("must contain only printable characters".into());
    }
    Ok(trimmed.to_owned())
}

/// The value a [`bounded_integer!`] value holds: `value` when it lies within `range`.
pub fn integer_in<T>(value: i64, range: &std::ops::RangeInclusive<T>) -> Result<T, String>
where
    T: TryFrom<i64> + PartialOrd + std::fmt::Display,
{
    T::try_from(value)
        .ok()
        .filter(|value| range.contains(value))
        .ok_or_else(|| format!("must be between {} and {}", range.start(), range.end()))
}

/// Declares a text newtype: trimmed, 1 to `max` printable characters, serialized as the string
/// and read back from items through the same parser.
/// `bounded_text!(/** docs */ ModelNumber, 64)` gives `ModelNumber::parse`, `as_str` and
/// `MAX_CHARS`.
macro_rules! bounded_text {
    ($(#[$meta:meta])* $name:ident, $max:expr) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The most characters it may have.
            pub const MAX_CHARS: usize = $max;

            pub fn parse(raw: &str) -> Result<Self, String> {
                $crate::bounded::trimmed_text(raw, Self::MAX_CHARS).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        $crate::storage::parsed_from_string!($name => $name::parse);
    };
}
pub(crate) use bounded_text;

/// Declares an integer newtype holding a value of `range`, which it serializes as a number and
/// parses from any integer (a request's or an item's), refusing the rest with the range in the
/// message. `bounded_integer!(/** docs */ Capacity: u16, 1..=1000)` gives `Capacity::RANGE`,
/// `get` and `TryFrom<i64>`.
macro_rules! bounded_integer {
    ($(#[$meta:meta])* $name:ident: $repr:ty, $range:expr) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name($repr);

        impl $name {
            /// The values it may hold.
            pub const RANGE: std::ops::RangeInclusive<$repr> = $range;

            pub fn get(self) -> $repr {
                self.0
            }
        }

        impl TryFrom<i64> for $name {
            type Error = String;

            fn try_from(value: i64) -> Result<Self, Self::Error> {
                $crate::bounded::integer_in(value, &Self::RANGE).map(Self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = <i64 as serde::Deserialize>::deserialize(deserializer)?;
                Self::try_from(value).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use bounded_integer;

/// Declares an enum of a fixed set of words (a car's category, its status), serialized as its
/// word and parsed from it, refusing any other word with the list of accepted ones.
/// `word_enum!(/** docs */ CarCategory { Economy => "economy", Suv => "suv" })` gives `ALL`,
/// `WORDS` (what the API description lists), `as_str`, `parse` and `Display`.
macro_rules! word_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $word:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $word)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// Every value's word, in declaration order.
            pub const WORDS: &'static [&'static str] = &[$($word),+];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word),+
                }
            }

            pub fn parse(text: &str) -> Result<Self, String> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|value| value.as_str() == text)
                    .ok_or_else(|| format!("must be one of: {}", Self::WORDS.join(", ")))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        $crate::storage::parsed_from_string!($name => $name::parse);
    };
}
pub(crate) use word_enum;

#[cfg(test)]
mod tests {

    bounded_text!(
        /// A test value.
        Label,
        5
    );
    bounded_integer!(
        /// A test value.
        Dozen: u8,
        1..=12
    );
    word_enum!(
        /// A test value.
        Size { Small => "small", Large => "large" }
    );

    #[test]
    fn words_parse_exactly_and_refuse_others_listing_the_accepted() {
        assert_eq!(Size::parse("large"), Ok(Size::Large));
        assert_eq!(Size::Small.to_string(), "small");
        assert_eq!(Size::WORDS, ["small", "large"]);
        for invalid in ["Large", " small", "", "medium"] {
            assert_eq!(
                Size::parse(invalid).unwrap_err(),
                "must be one of: small, large"
            );
        }
        assert_eq!(serde_json::to_value(Size::Large).unwrap(), "large");
        assert_eq!(
            serde_json::from_value::<Size>(serde_json::json!("small")).unwrap(),
            Size::Small
        );
        assert!(serde_json::from_value::<Size>(serde_json::json!("SMALL")).is_err());
    }

    #[test]
    fn text_is_trimmed_bounded_and_printable() {
        assert_eq!(Label::parse("  abc ").unwrap().as_str(), "abc");
        assert_eq!(Label::parse("ééééé").unwrap().as_str(), "ééééé");
        for invalid in ["", "   ", "abcdef", "a\u{0}b", "a\nb"] {
            assert!(Label::parse(invalid).is_err(), "{invalid:?}");
        }
        assert_eq!(
            Label::parse("abcdef").unwrap_err(),
            "must be at most 5 characters"
        );
    }

    #[test]
    fn text_reads_back_through_its_parser() {
        assert_eq!(
            serde_json::from_value::<Label>(serde_json::json!("abc")).unwrap(),
            Label::parse("abc").unwrap()
        );
        assert!(serde_json::from_value::<Label>(serde_json::json!("")).is_err());
    }

    #[test]
    fn integers_hold_their_range_only() {
        for valid in [1, 7, 12] {
            assert_eq!(i64::from(Dozen::try_from(valid).unwrap().get()), valid);
        }
        for invalid in [0, -1, 13, 256, i64::MAX, i64::MIN] {
            assert_eq!(
                Dozen::try_from(invalid).unwrap_err(),
                "must be between 1 and 12",
                "{invalid}"
            );
        }
        assert_eq!(
            serde_json::to_value(Dozen::try_from(3).unwrap()).unwrap(),
            3
        );
        assert!(serde_json::from_value::<Dozen>(serde_json::json!(13)).is_err());
        assert!(serde_json::from_value::<Dozen>(serde_json::json!(3)).is_ok());
    }

    proptest::proptest! {
        /// Whatever the input, a text value is accepted exactly when its trimmed form is 1 to
        /// `MAX_CHARS` printable characters, and then holds that trimmed form, which parses
        /// to itself and reads back from its stored form.
        #[test]
        fn text_accepts_exactly_its_trimmed_bounded_printable_form(raw in "\\PC{0,8}|[ \t\n\u{0}-\u{1f}a-zé]{0,9}") {
            let trimmed = raw.trim();
            let valid = (1..=Label::MAX_CHARS).contains(&trimmed.chars().count())
                && !trimmed.chars().any(char::is_control);
            match Label::parse(&raw) {
                Ok(label) => {
                    proptest::prop_assert!(valid);
                    proptest::prop_assert_eq!(label.as_str(), trimmed);
                    proptest::prop_assert_eq!(Label::parse(label.as_str()).unwrap(), label.clone());
                    let stored = serde_json::to_value(&label).unwrap();
                    proptest::prop_assert_eq!(serde_json::from_value::<Label>(stored).unwrap(), label);
                }
                Err(_) => proptest::prop_assert!(!valid),
            }
        }

        /// Every integer is either in the range and kept as it is, or refused.
        #[test]
        fn integers_are_kept_exactly_when_in_range(value in proptest::num::i64::ANY) {
            match Dozen::try_from(value) {
                Ok(dozen) => {
                    proptest::prop_assert!((1..=12).contains(&value));
                    proptest::prop_assert_eq!(i64::from(dozen.get()), value);
                }
                Err(_) => proptest::prop_assert!(!(1..=12).contains(&value)),
            }
        }
    }
}
