//! The gateway of a process that has none configured: every charge and refund fails as the
//! provider being unavailable (a 503, nothing moved), and the log says why.
//!
//! Processes start with it so that no process can take a test card by default. The functions that
//! move money replace it at start from `PAYMENT_GATEWAY` (and refuse to start without a valid
//! setting), so in a correctly declared deployment it never answers a request; if a route were
//! wrongly declared as not moving money, its requests fail safe instead of confirming for free.

use async_trait::async_trait;

use super::{
    ChargeLookup, ChargeOutcome, ChargeRequest, Payment, PaymentError, PaymentGateway,
    RefundReceipt, RefundRequest,
};

/// A gateway that refuses everything; see the module docs.
#[derive(Clone, Copy, Debug, Default)]
pub struct UnconfiguredGateway;

/// Why nothing was charged or refunded, for the error chain and the log.
#[derive(Debug, thiserror::Error)]
#[error(
    "this process has no payment gateway configured: set PAYMENT_GATEWAY and declare the route or \
     background function as moving money"
)]
struct NoGateway;

impl UnconfiguredGateway {
    fn refuse(operation: &str) -> PaymentError {
        tracing::error!(
            operation,
            "a payment was attempted in a process without a payment gateway"
        );
        PaymentError::Unavailable(Box::new(NoGateway))
    }
}

#[async_trait]
impl PaymentGateway for UnconfiguredGateway {
    async fn charge(&self, _: &ChargeRequest) -> Result<ChargeOutcome, PaymentError> {
        Err(Self::refuse("charge"))
    }

    async fn refund(&self, _: &RefundRequest) -> Result<RefundReceipt, PaymentError> {
        Err(Self::refuse("refund"))
    }
}

#[async_trait]
impl ChargeLookup for UnconfiguredGateway {
    async fn find_charge(&self, _: &str) -> Result<Option<Payment>, PaymentError> {
        Err(Self::refuse("charge lookup"))
    }
}
