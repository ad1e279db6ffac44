//! A payment gateway that keeps the books: every approved charge and every refund, per booking,
//! so that a test can check that money and bookings balance after a failure and its recovery.
//!
//! It answers as the test-card gateway does (the same tokens, the same derived ids) and can be
//! told to fail the next refunds or charges as an unreachable provider would, after or before
//! doing them.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use itinera::payments::{
    ChargeLookup, ChargeOutcome, ChargeRequest, Payment, PaymentError, PaymentGateway,
    RefundReceipt, RefundRequest, TestCardGateway,
};

/// What the provider did under one key (a booking id).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Entry {
    /// Charges approved (retries under the same key answered with the same charge count once).
    pub charges: u32,
    /// Refunds made (a retried refund under the same key counts once).
    pub refunds: u32,
    /// Refund requests received, retries included.
    pub refund_requests: u32,
}

/// The gateway's failures still to come.
#[derive(Default)]
struct Failures {
    /// Refund requests that fail as unreachable, before the provider refunds.
    refunds: u32,
    /// Charge requests the provider approves but whose answer is lost (unreachable after).
    charges_lost: u32,
}

/// A ledger-keeping [`PaymentGateway`] and [`ChargeLookup`].
#[derive(Default)]
pub struct LedgerGateway {
    books: Mutex<HashMap<String, Entry>>,
    charges: Mutex<HashMap<String, Payment>>,
    failures: Mutex<Failures>,
}

impl LedgerGateway {
    /// The entry of `key`.
    pub fn entry(&self, key: &str) -> Entry {
        self.books
            .lock()
            .unwrap()
            .get(key)
            .copied()
            .unwrap_or_default()
    }

    /// Every key with a charge or a refund.
    pub fn keys(&self) -> Vec<String> {
        self.books.lock().unwrap().keys().cloned().collect()
    }

    /// The next `n` refund requests fail as if the provider could not be reached.
    pub fn fail_refunds(&self, n: u32) {
        self.failures.lock().unwrap().refunds = n;
    }

    /// The next `n` approved charges are made but their answer is lost on the way back.
    pub fn lose_charge_answers(&self, n: u32) {
        self.failures.lock().unwrap().charges_lost = n;
    }
}

fn unreachable_provider() -> PaymentError {
    PaymentError::Unavailable("injected provider outage".into())
}

#[async_trait]
impl PaymentGateway for LedgerGateway {
    async fn charge(&self, request: &ChargeRequest) -> Result<ChargeOutcome, PaymentError> {
        let outcome = TestCardGateway.charge(request).await?;
        if let ChargeOutcome::Approved(payment) = &outcome {
            let mut charges = self.charges.lock().unwrap();
            if !charges.contains_key(&request.idempotency_key) {
                charges.insert(request.idempotency_key.clone(), payment.clone());
                let mut books = self.books.lock().unwrap();
                books
                    .entry(request.idempotency_key.clone())
                    .or_default()
                    .charges += 1;
            }
            let mut failures = self.failures.lock().unwrap();
            if failures.charges_lost > 0 {
                failures.charges_lost -= 1;
                return Err(unreachable_provider());
            }
        }
        Ok(outcome)
    }

    async fn refund(&self, request: &RefundRequest) -> Result<RefundReceipt, PaymentError> {
        {
            let mut failures = self.failures.lock().unwrap();
            if failures.refunds > 0 {
                failures.refunds -= 1;
                return Err(unreachable_provider());
            }
        }
        let receipt = TestCardGateway.refund(request).await?;
        let mut books = self.books.lock().unwrap();
        let entry = books.entry(request.idempotency_key.clone()).or_default();
        entry.refund_requests += 1;
        entry.refunds = 1;
        Ok(receipt)
    }
}

#[async_trait]
impl ChargeLookup for LedgerGateway {
    async fn find_charge(&self, idempotency_key: &str) -> Result<Option<Payment>, PaymentError> {
        Ok(self.charges.lock().unwrap().get(idempotency_key).cloned())
    }
}
