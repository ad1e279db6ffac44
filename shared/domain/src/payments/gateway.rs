//! The payment port: charge a token, refund a payment, each under an idempotency key.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::money::Money;
use crate::storage::BoxError;

/// The most characters a provider token may have.
pub const TOKEN_MAX_CHARS: usize = 255;

/// A single-use token the provider's payment form made from a card: letters, digits, `_` and `-`.
/// A string of digits is refused, because that is what a card number looks like, and card numbers
/// must never reach the API.
#[derive(Clone, PartialEq, Eq)]
pub struct PaymentToken(String);

impl PaymentToken {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.is_empty() || raw.len() > TOKEN_MAX_CHARS {
            return Err(format!("must be 1 to {TOKEN_MAX_CHARS} characters"));
        }
        let digits_only = raw
            .bytes()
            .all(|byte| byte.is_ascii_digit() || byte == b' ' || byte == b'-');
        if digits_only {
            return Err("must be the payment provider's token, never a card number".into());
        }
        if !raw
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-')
        {
            return Err("must contain only letters, digits, `_` and `-`".into());
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Tokens are credentials for one charge: they stay out of logs.
impl std::fmt::Debug for PaymentToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PaymentToken(<redacted>)")
    }
}

/// The provider's id of a charge.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct PaymentId(String);

impl PaymentId {
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for PaymentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Charge `amount` to the card behind `token`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChargeRequest {
    /// The same key for every attempt at the same charge (the booking id): the provider charges
    /// once and answers every retry with that charge.
    pub idempotency_key: String,
    pub token: PaymentToken,
    pub amount: Money,
    /// What the customer's statement shows.
    pub description: String,
}

/// A charge the provider made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payment {
    pub id: PaymentId,
    pub amount: Money,
    pub charged_at: DateTime<Utc>,
}

/// How a charge ended, when the provider answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChargeOutcome {
    Approved(Payment),
    /// The card was refused; nothing was charged. `reason` is safe to show the customer.
    Declined {
        reason: String,
    },
}

/// Pay back `amount` of a charge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundRequest {
    /// The same key for every attempt at the same refund (the booking id).
    pub idempotency_key: String,
    pub payment_id: PaymentId,
    pub amount: Money,
}

/// A refund the provider made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundReceipt {
    pub refund_id: String,
    pub amount: Money,
    pub refunded_at: DateTime<Utc>,
}

/// Why the provider did not answer a request with an outcome.
#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    /// The provider could not be reached or timed out; retrying with the same key is safe.
    #[error("the payment provider could not be reached")]
    Unavailable(#[source] BoxError),
    /// The provider refused the request itself (an unknown payment, an amount above the charge).
    #[error("the payment provider refused the request: {0}")]
    Rejected(String),
}

/// The port every charge and refund goes through. Implementations must honour the idempotency
/// key: the same key and request give the same result, however often they are sent.
#[async_trait]
pub trait PaymentGateway: Send + Sync + 'static {
    async fn charge(&self, request: &ChargeRequest) -> Result<ChargeOutcome, PaymentError>;

    async fn refund(&self, request: &RefundRequest) -> Result<RefundReceipt, PaymentError>;
}

/// Looking up the charge made under an idempotency key: what recovery asks the provider when a
/// charge's outcome never reached the store (the process died, or the store failed, between the
/// charge and the commit that records it).
///
/// A port of its own, beside [`PaymentGateway`], because only recovery needs it; a real adapter
/// implements both (the provider keeps the booking id in the payment's metadata and searches by
/// it).
#[async_trait]
pub trait ChargeLookup: Send + Sync + 'static {
    /// The approved charge made under `idempotency_key`, if there is one. Declined attempts are no
    /// charge. An answer of `None` must mean the provider has no such charge, never that it could
    /// not tell (that is an error).
    async fn find_charge(&self, idempotency_key: &str) -> Result<Option<Payment>, PaymentError>;
}

/// A provider that charges, refunds and looks charges up: what the functions that settle money
/// left behind (the jobs worker) are given.
pub trait PaymentProvider: PaymentGateway + ChargeLookup {}

impl<T: PaymentGateway + ChargeLookup> PaymentProvider for T {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_provider_tokens_never_card_numbers() {
        assert!(PaymentToken::parse("tok_test_approve").is_ok());
        assert!(PaymentToken::parse("pm-1AbC").is_ok());
        for card in [
            "4242424242424242",
            "4242 4242 4242 4242",
            "4242-4242-4242-4242",
        ] {
            let error = PaymentToken::parse(card).unwrap_err();
            assert!(error.contains("card number"), "{error}");
        }
        for invalid in ["", "tok test", "tok;drop", "ték"] {
            assert!(PaymentToken::parse(invalid).is_err(), "{invalid:?}");
        }
        assert!(PaymentToken::parse(&"t".repeat(256)).is_err());
    }

    #[test]
    fn a_token_never_shows_in_debug_output() {
        let token = PaymentToken::parse("tok_secret_123").unwrap();
        assert!(!format!("{token:?}").contains("secret"));
    }
}
