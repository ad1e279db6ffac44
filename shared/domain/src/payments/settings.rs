//! Which gateway a process charges and refunds through: an explicit setting, never a default that
//! takes money for free.
//!
//! `PAYMENT_GATEWAY` names the gateway. The only one today is `test-cards` ([`TestCardGateway`]),
//! which approves `tok_test_approve` without any money moving. Local runs may use it (and do by
//! default, having no provider to talk to). In AWS it is allowed only on a stage the stack declares
//! a test stage: the template passes its `StageKind` parameter to the functions as `STAGE_KIND`,
//! and sets `PAYMENT_GATEWAY` only on the functions that move money. A function that moves money
//! refuses to start with the setting missing or not allowed where it runs, so a deployed stage
//! can never confirm bookings with a test card. A real provider becomes another variant here and
//! an adapter in `infra/` (docs/payments.md).

use std::sync::Arc;

use super::{PaymentProvider, TestCardGateway};
use crate::config::ConfigError;

/// `PAYMENT_GATEWAY`: the gateway a function that moves money uses.
pub const GATEWAY_VARIABLE: &str = "PAYMENT_GATEWAY";
/// `STAGE_KIND`: `test` or `production`, from the stack's `StageKind` parameter.
pub const STAGE_KIND_VARIABLE: &str = "STAGE_KIND";

/// Where the process runs, which decides what the setting may name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Platform {
    /// The local API on a developer's machine: no provider, no real money.
    Local,
    /// A Lambda function of a deployed stack.
    Aws,
}

/// What a stack says its stage is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StageKind {
    /// Serves real customers (the template's default).
    Production,
    /// For testing only; test cards are allowed.
    Test,
}

impl StageKind {
    fn parse(text: &str) -> Result<Self, String> {
        match text {
            "production" => Ok(Self::Production),
            "test" => Ok(Self::Test),
            _ => Err("must be `production` or `test`".into()),
        }
    }
}

/// The gateway a process is configured with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GatewaySetting {
    /// [`TestCardGateway`]: deterministic approvals and declines; no money moves.
    TestCards,
}

impl GatewaySetting {
    /// The names `PAYMENT_GATEWAY` accepts.
    const NAMES: &'static [(&'static str, GatewaySetting)] = &[("test-cards", Self::TestCards)];

    /// Reads `PAYMENT_GATEWAY` (and, in AWS, `STAGE_KIND`) through `lookup`, for a process on
    /// `platform` that moves money.
    ///
    /// Locally an unset gateway means `test-cards`. In AWS it must be set, and `test-cards` only
    /// with `STAGE_KIND=test`.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        platform: Platform,
    ) -> Result<Self, ConfigError> {
        let stage = lookup(STAGE_KIND_VARIABLE)
            .map(|text| StageKind::parse(&text))
            .transpose()
            .map_err(|problem| ConfigError::new(STAGE_KIND_VARIABLE, problem))?;
        let Some(name) = lookup(GATEWAY_VARIABLE) else {
            return match platform {
                Platform::Local => Ok(Self::TestCards),
                Platform::Aws => Err(ConfigError::new(
                    GATEWAY_VARIABLE,
                    "must be set for a function that charges or refunds; `test-cards` is allowed \
                     only on a test stage (StageKind=test), and no real provider is wired yet \
                     (docs/payments.md)",
                )),
            };
        };
        let setting = Self::NAMES
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, setting)| *setting)
            .ok_or_else(|| {
                ConfigError::new(
                    GATEWAY_VARIABLE,
                    format!("must be one of: {}", Self::names()),
                )
            })?;
        let allowed = match (setting, platform) {
            (Self::TestCards, Platform::Local) => true,
            (Self::TestCards, Platform::Aws) => stage == Some(StageKind::Test),
        };
        if !allowed {
            return Err(ConfigError::new(
                GATEWAY_VARIABLE,
                "is `test-cards`, which confirms bookings without taking money; in AWS it is \
                 allowed only when STAGE_KIND is `test` (the stack's StageKind parameter)",
            ));
        }
        Ok(setting)
    }

    /// The gateway the setting names, with the charge lookup recovery needs.
    pub fn gateway(self) -> Arc<dyn PaymentProvider> {
        match self {
            Self::TestCards => Arc::new(TestCardGateway),
        }
    }

    /// The setting's name, as `PAYMENT_GATEWAY` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Self::TestCards => "test-cards",
        }
    }

    fn names() -> String {
        Self::NAMES
            .iter()
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn setting(vars: &[(&str, &str)], platform: Platform) -> Result<GatewaySetting, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        GatewaySetting::from_lookup(|name| vars.get(name).cloned(), platform)
    }

    #[test]
    fn locally_test_cards_are_the_default_and_may_be_named() {
        assert_eq!(
            setting(&[], Platform::Local).unwrap(),
            GatewaySetting::TestCards
        );
        assert_eq!(
            setting(&[("PAYMENT_GATEWAY", "test-cards")], Platform::Local).unwrap(),
            GatewaySetting::TestCards
        );
    }

    #[test]
    fn in_aws_a_missing_gateway_stops_the_function_naming_the_variable() {
        let error = setting(&[("STAGE_KIND", "test")], Platform::Aws).unwrap_err();
        assert_eq!(error.variable, "PAYMENT_GATEWAY");
        assert!(
            error.to_string().contains("PAYMENT_GATEWAY must be set"),
            "{error}"
        );
    }

    #[test]
    fn in_aws_test_cards_need_a_test_stage() {
        for stage in [None, Some("production")] {
            let mut vars = vec![("PAYMENT_GATEWAY", "test-cards")];
            vars.extend(stage.map(|stage| ("STAGE_KIND", stage)));
            let error = setting(&vars, Platform::Aws).unwrap_err();
            assert_eq!(error.variable, "PAYMENT_GATEWAY", "{stage:?}");
            assert!(error.to_string().contains("STAGE_KIND"), "{error}");
        }
        assert_eq!(
            setting(
                &[("PAYMENT_GATEWAY", "test-cards"), ("STAGE_KIND", "test")],
                Platform::Aws
            )
            .unwrap(),
            GatewaySetting::TestCards
        );
    }

    #[test]
    fn unknown_gateways_and_stage_kinds_are_refused_naming_their_variable() {
        for platform in [Platform::Local, Platform::Aws] {
            let error = setting(&[("PAYMENT_GATEWAY", "stripe")], platform).unwrap_err();
            assert_eq!(error.variable, "PAYMENT_GATEWAY");
            assert!(error.problem.contains("test-cards"), "{error}");
            let error = setting(
                &[("PAYMENT_GATEWAY", "test-cards"), ("STAGE_KIND", "Test")],
                platform,
            )
            .unwrap_err();
            assert_eq!(error.variable, "STAGE_KIND");
        }
    }

    #[test]
    fn the_setting_names_its_gateway() {
        assert_eq!(GatewaySetting::TestCards.name(), "test-cards");
    }
}
