//! The two kinds of paper a car carries, and what is each one's own: an insurance policy's
//! provider, number and coverage; a registration's authority and number.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::paper::PaperKind;
use crate::entity::EntityKind;

crate::bounded::bounded_text!(
    /// Who issued a policy or a registration (`Allianz`, `DVLA`): trimmed, 1-120 printable
    /// characters.
    Issuer,
    120
);

crate::bounded::bounded_text!(
    /// A policy's or a registration's number as its issuer writes it: trimmed, 1-64 printable
    /// characters.
    PaperNumber,
    64
);

crate::bounded::word_enum!(
    /// What an insurance policy covers: the legal minimum towards others, that plus theft, fire
    /// and glass, or damage to the car itself too.
    Coverage {
        ThirdParty => "third-party",
        Partial => "partial",
        Comprehensive => "comprehensive",
    }
);

/// An insurance policy's own details.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Insurance {
    pub provider: Issuer,
    pub policy_number: PaperNumber,
    pub coverage: Coverage,
}

/// A change of an insurance policy's own details.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InsuranceChanges {
    pub provider: Option<Issuer>,
    pub policy_number: Option<PaperNumber>,
    pub coverage: Option<Coverage>,
}

impl PaperKind for Insurance {
    const ENTITY: EntityKind = EntityKind::Insurance;
    const PREFIX: &'static str = "INSURANCE";
    const NAME: &'static str = "insurance";
    const COLLECTION: &'static str = "insurance";
    type Changes = InsuranceChanges;

    fn apply(&self, changes: &InsuranceChanges) -> (Self, Vec<(String, Value)>) {
        let mut changed = self.clone();
        let mut set = Vec::new();
        if let Some(provider) = &changes.provider {
            changed.provider = provider.clone();
            set.push(("provider".to_owned(), Value::from(provider.as_str())));
        }
        if let Some(number) = &changes.policy_number {
            changed.policy_number = number.clone();
            set.push(("policyNumber".to_owned(), Value::from(number.as_str())));
        }
        if let Some(coverage) = changes.coverage {
            changed.coverage = coverage;
            set.push(("coverage".to_owned(), Value::from(coverage.as_str())));
        }
        (changed, set)
    }

    fn label(&self) -> String {
        format!(
            "insurance policy {} with {}",
            self.policy_number.as_str(),
            self.provider.as_str()
        )
    }
}

/// A registration's own details.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Registration {
    pub authority: Issuer,
    pub registration_number: PaperNumber,
}

/// A change of a registration's own details.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RegistrationChanges {
    pub authority: Option<Issuer>,
    pub registration_number: Option<PaperNumber>,
}

impl PaperKind for Registration {
    const ENTITY: EntityKind = EntityKind::Registration;
    const PREFIX: &'static str = "REGISTRATION";
    const NAME: &'static str = "registration";
    const COLLECTION: &'static str = "registrations";
    type Changes = RegistrationChanges;

    fn apply(&self, changes: &RegistrationChanges) -> (Self, Vec<(String, Value)>) {
        let mut changed = self.clone();
        let mut set = Vec::new();
        if let Some(authority) = &changes.authority {
            changed.authority = authority.clone();
            set.push(("authority".to_owned(), Value::from(authority.as_str())));
        }
        if let Some(number) = &changes.registration_number {
            changed.registration_number = number.clone();
            set.push((
                "registrationNumber".to_owned(),
                Value::from(number.as_str()),
            ));
        }
        (changed, set)
    }

    fn label(&self) -> String {
        format!(
            "registration {} with {}",
            self.registration_number.as_str(),
            self.authority.as_str()
        )
    }
}

#[cfg(test)]
impl Insurance {
    pub(crate) fn sample() -> Self {
        Self {
            provider: Issuer::parse("Allianz").unwrap(),
            policy_number: PaperNumber::parse("P-1").unwrap(),
            coverage: Coverage::Comprehensive,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_sets_only_what_it_names() {
        let (changed, set) = Insurance::sample().apply(&InsuranceChanges {
            coverage: Some(Coverage::ThirdParty),
            ..InsuranceChanges::default()
        });
        assert_eq!(changed.coverage, Coverage::ThirdParty);
        assert_eq!(changed.provider, Insurance::sample().provider);
        assert_eq!(set, [("coverage".to_owned(), Value::from("third-party"))]);
        assert_eq!(
            Insurance::sample().label(),
            "insurance policy P-1 with Allianz"
        );
    }
}
