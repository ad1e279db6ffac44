//! Payments: the port bookings charge and refund through, the local gateway of test cards, and the
//! setting that chooses a gateway.
//!
//! Clients never send card numbers here. A payment form of the provider turns the card into a
//! single-use token in the browser, and only that token travels through the API: card data never
//! touches our functions, logs or table, which keeps them out of PCI DSS scope (the provider's
//! SAQ A path). Every request carries an idempotency key (the booking id), so a retried charge or
//! refund is one operation at the provider, never two. See docs/payments.md for the flow and the
//! seam where a real provider plugs in.
//!
//! - `gateway.rs`: [`PaymentGateway`] and its request and outcome types; [`ChargeLookup`], which
//!   recovery asks for a charge whose outcome never reached the store.
//! - `test_card.rs`: [`TestCardGateway`], deterministic, for local runs and tests.
//! - `settings.rs`: [`GatewaySetting`], which gateway a process uses (`PAYMENT_GATEWAY`), and
//!   where test cards are allowed.
//! - `unconfigured.rs`: [`UnconfiguredGateway`], what a process without a setting holds: it
//!   refuses every charge and refund.

mod gateway;
mod settings;
mod test_card;
mod unconfigured;

pub use gateway::{
    ChargeLookup, ChargeOutcome, ChargeRequest, Payment, PaymentError, PaymentGateway, PaymentId,
    PaymentProvider, PaymentToken, RefundReceipt, RefundRequest, TOKEN_MAX_CHARS,
};
pub use settings::{GATEWAY_VARIABLE, GatewaySetting, Platform, STAGE_KIND_VARIABLE, StageKind};
pub use test_card::{TEST_TOKEN_APPROVE, TEST_TOKEN_DECLINE, TestCardGateway};
pub use unconfigured::UnconfiguredGateway;
