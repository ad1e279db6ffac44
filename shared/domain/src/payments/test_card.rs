//! The gateway local runs and tests pay through: no network, the same answer every time.
//!
//! Two tokens mean something: [`TEST_TOKEN_APPROVE`] is charged, [`TEST_TOKEN_DECLINE`] is
//! declined as a refused card; any other token is declined as unknown. Ids are derived from the
//! idempotency key, so a retried charge or refund gets the same id, as a real provider's
//! idempotency would give it. The one thing it remembers is which keys it approved a charge under,
//! in the process's memory, so that recovery can look a charge up ([`ChargeLookup`]): a charge made
//! by another process, or before a restart, is not found, which is right for cards that move no
//! money and would be wrong for a real provider.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use async_trait::async_trait;
use chrono::Utc;
use sha2::{Digest, Sha256};

use super::gateway::{
    ChargeLookup, ChargeOutcome, ChargeRequest, Payment, PaymentError, PaymentGateway, PaymentId,
    RefundReceipt, RefundRequest,
};

/// The token whose charges are approved.
pub const TEST_TOKEN_APPROVE: &str = "tok_test_approve";
/// The token whose charges are declined as a refused card.
pub const TEST_TOKEN_DECLINE: &str = "tok_test_decline";

/// Approves [`TEST_TOKEN_APPROVE`], declines everything else; refunds any payment it made.
#[derive(Clone, Copy, Debug, Default)]
pub struct TestCardGateway;

/// The charges this process approved, by idempotency key (the first approval under each key).
static APPROVED: LazyLock<Mutex<HashMap<String, Payment>>> = LazyLock::new(Default::default);

/// A stable id for the operation `kind` under `key`.
fn derived_id(kind: &str, key: &str) -> String {
    let digest = Sha256::digest(format!("{kind}\0{key}").as_bytes());
    let hex: String = digest[..12]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("{kind}_test_{hex}")
}

#[async_trait]
impl PaymentGateway for TestCardGateway {
    async fn charge(&self, request: &ChargeRequest) -> Result<ChargeOutcome, PaymentError> {
        Ok(match request.token.as_str() {
            TEST_TOKEN_APPROVE => {
                let mut approved = APPROVED.lock().unwrap_or_else(|poison| poison.into_inner());
                let payment = approved
                    .entry(request.idempotency_key.clone())
                    .or_insert_with(|| Payment {
                        id: PaymentId::new(derived_id("pay", &request.idempotency_key)),
                        amount: request.amount.clone(),
                        charged_at: Utc::now(),
                    });
                ChargeOutcome::Approved(payment.clone())
            }
            TEST_TOKEN_DECLINE => ChargeOutcome::Declined {
                reason: "The card was declined.".into(),
            },
            _ => ChargeOutcome::Declined {
                reason: "The payment token is not known to the payment provider.".into(),
            },
        })
    }

    async fn refund(&self, request: &RefundRequest) -> Result<RefundReceipt, PaymentError> {
        // Refunds use the charge's key, so the payment they name is the one that key charged.
        if request.payment_id.as_str() != derived_id("pay", &request.idempotency_key) {
            return Err(PaymentError::Rejected(
                "no payment with this id was made under this key".into(),
            ));
        }
        Ok(RefundReceipt {
            refund_id: derived_id("re", &request.idempotency_key),
            amount: request.amount.clone(),
            refunded_at: Utc::now(),
        })
    }
}

#[async_trait]
impl ChargeLookup for TestCardGateway {
    async fn find_charge(&self, idempotency_key: &str) -> Result<Option<Payment>, PaymentError> {
        let approved = APPROVED.lock().unwrap_or_else(|poison| poison.into_inner());
        Ok(approved.get(idempotency_key).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::{Currency, Money};
    use crate::payments::PaymentToken;

    fn charge(token: &str, key: &str) -> ChargeRequest {
        ChargeRequest {
            idempotency_key: key.into(),
            token: PaymentToken::parse(token).unwrap(),
            amount: Money::new(12_500, Currency::parse("EUR").unwrap()).unwrap(),
            description: "Booking".into(),
        }
    }

    #[tokio::test]
    async fn the_approve_token_is_charged_with_an_id_derived_from_the_key() {
        let gateway = TestCardGateway;
        let ChargeOutcome::Approved(first) = gateway
            .charge(&charge(TEST_TOKEN_APPROVE, "b-1"))
            .await
            .unwrap()
        else {
            panic!("approved");
        };
        let ChargeOutcome::Approved(retry) = gateway
            .charge(&charge(TEST_TOKEN_APPROVE, "b-1"))
            .await
            .unwrap()
        else {
            panic!("approved");
        };
        assert_eq!(first, retry, "a retried charge is the same charge");
        assert_eq!(
            gateway.find_charge("b-1").await.unwrap(),
            Some(first.clone()),
            "the charge is found under its key"
        );
        assert!(first.id.as_str().starts_with("pay_test_"));
        let ChargeOutcome::Approved(other) = gateway
            .charge(&charge(TEST_TOKEN_APPROVE, "b-2"))
            .await
            .unwrap()
        else {
            panic!("approved");
        };
        assert_ne!(first.id, other.id);
    }

    #[tokio::test]
    async fn the_decline_token_and_unknown_tokens_are_declined() {
        for token in [TEST_TOKEN_DECLINE, "tok_somebody_elses"] {
            let outcome = TestCardGateway
                .charge(&charge(token, "declined-1"))
                .await
                .unwrap();
            assert!(matches!(outcome, ChargeOutcome::Declined { .. }), "{token}");
        }
        assert_eq!(
            TestCardGateway.find_charge("declined-1").await.unwrap(),
            None,
            "a declined attempt is no charge"
        );
    }

    #[tokio::test]
    async fn refunds_are_idempotent_and_only_of_payments_made_under_the_key() {
        let ChargeOutcome::Approved(payment) = TestCardGateway
            .charge(&charge(TEST_TOKEN_APPROVE, "b-1"))
            .await
            .unwrap()
        else {
            panic!("approved");
        };
        let refund = |key: &str| RefundRequest {
            idempotency_key: key.into(),
            payment_id: payment.id.clone(),
            amount: payment.amount.clone(),
        };
        let first = TestCardGateway.refund(&refund("b-1")).await.unwrap();
        let again = TestCardGateway.refund(&refund("b-1")).await.unwrap();
        assert_eq!(first.refund_id, again.refund_id);
        assert!(matches!(
            TestCardGateway.refund(&refund("b-2")).await,
            Err(PaymentError::Rejected(_))
        ));
    }
}
