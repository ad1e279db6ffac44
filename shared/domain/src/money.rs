//! Money as the wire conventions define it: an integer amount of minor units (cents, paise) and an
//! ISO 4217 currency code. Never a float, so totals add up exactly.

use serde::{Deserialize, Serialize};

/// An ISO 4217 alphabetic currency code: three uppercase ASCII letters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency(String);

impl Currency {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.len() == 3 && raw.bytes().all(|byte| byte.is_ascii_uppercase()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err("must be an ISO 4217 currency code: three uppercase letters".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Currency {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Currency> for String {
    fn from(currency: Currency) -> Self {
        currency.0
    }
}

impl std::fmt::Display for Currency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The largest amount of minor units accepted: large enough for any fare, small enough that
/// multiplying by a seat count can never overflow.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000;

/// An amount of money: non-negative minor units of one currency.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "UncheckedMoney")]
pub struct Money {
    amount: i64,
    currency: Currency,
}

/// Money as a stored attribute: the same object it serializes to, built without a fallible
/// serializer.
impl From<&Money> for serde_json::Value {
    fn from(money: &Money) -> Self {
        serde_json::json!({ "amount": money.amount, "currency": money.currency.as_str() })
    }
}

/// Money as read from JSON, before its amount is checked.
#[derive(Deserialize)]
struct UncheckedMoney {
    amount: i64,
    currency: Currency,
}

impl TryFrom<UncheckedMoney> for Money {
    type Error = String;

    fn try_from(unchecked: UncheckedMoney) -> Result<Self, Self::Error> {
        Self::new(unchecked.amount, unchecked.currency)
    }
}

impl Money {
    /// Fails for a negative amount or one above [`MAX_AMOUNT`].
    pub fn new(amount: i64, currency: Currency) -> Result<Self, String> {
        if !(0..=MAX_AMOUNT).contains(&amount) {
            return Err(format!(
                "must be a whole number of minor units between 0 and {MAX_AMOUNT}"
            ));
        }
        Ok(Self { amount, currency })
    }

    pub fn amount(&self) -> i64 {
        self.amount
    }

    pub fn currency(&self) -> &Currency {
        &self.currency
    }

    /// This amount `count` times (a fare for several seats); `None` past [`MAX_AMOUNT`].
    pub fn times(&self, count: u32) -> Option<Self> {
        let amount = self.amount.checked_mul(i64::from(count))?;
        Self::new(amount, self.currency.clone()).ok()
    }
}

impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} (minor units)", self.amount, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    #[test]
    fn currencies_are_three_uppercase_letters() {
        assert!(Currency::parse("INR").is_ok());
        for invalid in ["eur", "EURO", "E1R", "", "ÉUR"] {
            assert!(Currency::parse(invalid).is_err(), "{invalid}");
        }
    }

    #[test]
    fn amounts_are_non_negative_and_bounded() {
        assert!(Money::new(0, eur()).is_ok());
        assert!(Money::new(-1, eur()).is_err());
        assert!(Money::new(MAX_AMOUNT + 1, eur()).is_err());
    }

    #[test]
    fn multiplying_keeps_the_currency_and_refuses_overflow() {
        let fare = Money::new(12_500, eur()).unwrap();
        assert_eq!(fare.times(3).unwrap(), Money::new(37_500, eur()).unwrap());
        assert!(Money::new(MAX_AMOUNT, eur()).unwrap().times(2).is_none());
    }

    #[test]
    fn the_stored_attribute_is_what_money_serializes_to() {
        let fare = Money::new(9_900, Currency::parse("USD").unwrap()).unwrap();
        assert_eq!(
            serde_json::Value::from(&fare),
            serde_json::to_value(&fare).unwrap()
        );
    }

    #[test]
    fn money_serializes_as_amount_and_currency() {
        let fare = Money::new(9_900, Currency::parse("USD").unwrap()).unwrap();
        assert_eq!(
            serde_json::to_value(&fare).unwrap(),
            serde_json::json!({"amount": 9900, "currency": "USD"})
        );
        for invalid in [
            serde_json::json!({"amount": 1, "currency": "usd"}),
            serde_json::json!({"amount": -1, "currency": "USD"}),
        ] {
            assert!(serde_json::from_value::<Money>(invalid).is_err());
        }
    }
}

/// Generated inputs: money keeps exactly the amounts and codes the wire conventions allow, and
/// reads back from its JSON form unchanged.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn a_currency_is_exactly_three_uppercase_ascii_letters(raw in "\\PC{0,4}|[A-Za-z]{2,4}") {
            let valid = raw.len() == 3 && raw.bytes().all(|byte| byte.is_ascii_uppercase());
            prop_assert_eq!(Currency::parse(&raw).is_ok(), valid);
        }

        #[test]
        fn money_holds_zero_to_max_minor_units_and_round_trips(
            amount in prop_oneof![any::<i64>(), 0..=MAX_AMOUNT],
            code in "[A-Z]{3}",
        ) {
            let currency = Currency::parse(&code).unwrap();
            match Money::new(amount, currency) {
                Ok(money) => {
                    prop_assert!((0..=MAX_AMOUNT).contains(&amount));
                    let json = serde_json::to_value(&money).unwrap();
                    prop_assert_eq!(&json, &serde_json::Value::from(&money));
                    prop_assert_eq!(serde_json::from_value::<Money>(json).unwrap(), money);
                }
                Err(_) => prop_assert!(!(0..=MAX_AMOUNT).contains(&amount)),
            }
        }

        #[test]
        fn a_multiple_is_exact_or_refused(amount in 0..=MAX_AMOUNT, count in any::<u32>()) {
            let money = Money::new(amount, Currency::parse("EUR").unwrap()).unwrap();
            let exact = i128::from(amount) * i128::from(count);
            match money.times(count) {
                Some(total) => prop_assert_eq!(i128::from(total.amount()), exact),
                None => prop_assert!(exact > i128::from(MAX_AMOUNT)),
            }
        }
    }
}
