//! Customer values and the entity. Names, emails and phone numbers are the accounts' own types,
//! so a customer profile made from an account carries the account's values unchanged.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::accounts::{Email, PersonName, Phone};
use crate::calendar::Day;
use crate::identity::UserId;

crate::bounded::bounded_text!(
    /// A driving licence's number as printed on it: trimmed, 1-32 printable characters (formats
    /// differ by issuing country, so nothing more is checked).
    LicenceNumber,
    32
);

crate::identity::uuid_id!(
    /// A customer's identifier.
    CustomerId
);

/// Someone who rents cars: a profile staff keep, or one a signed-in user keeps for themselves
/// (linked to their account by `userId`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    pub id: CustomerId,
    pub name: PersonName,
    pub email: Email,
    pub phone: Phone,
    pub licence_number: LicenceNumber,
    /// The last day the driving licence is valid on; a rental must end by then.
    pub licence_expiry: Day,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    #[serde(skip_serializing)]
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a new customer is made of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewCustomer {
    pub name: PersonName,
    pub email: Email,
    pub phone: Phone,
    pub licence_number: LicenceNumber,
    pub licence_expiry: Day,
    /// The account the profile belongs to, if any: it must exist, and have no other profile.
    pub user_id: Option<UserId>,
}

/// What a signed-in user gives for their own profile; the email is their account's, and the name
/// the account's unless they give one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MyNewCustomer {
    pub name: Option<PersonName>,
    pub phone: Phone,
    pub licence_number: LicenceNumber,
    pub licence_expiry: Day,
}

/// A change to a customer: any of the whitelisted fields (a customer changing their own profile
/// leaves the name as it is).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CustomerChanges {
    pub name: Option<PersonName>,
    pub phone: Option<Phone>,
    pub licence_number: Option<LicenceNumber>,
    pub licence_expiry: Option<Day>,
}

/// Which customers a list shows; serialized whole, it is what a list's cursors are bound to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CustomerFilter {
    /// Exactly this email (emails compare case-insensitively, as they are kept lowercase).
    pub email: Option<Email>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_licence_number_is_trimmed_printable_text_of_at_most_32() {
        assert_eq!(
            LicenceNumber::parse(" DL-0420110149646 ").unwrap().as_str(),
            "DL-0420110149646"
        );
        for invalid in ["", "  ", "A\u{7}B"] {
            assert!(LicenceNumber::parse(invalid).is_err(), "{invalid:?}");
        }
        assert!(LicenceNumber::parse(&"9".repeat(32)).is_ok());
        assert!(LicenceNumber::parse(&"9".repeat(33)).is_err());
    }

    #[test]
    fn filters_by_one_email_in_any_case_serialize_alike() {
        let by = |raw| CustomerFilter {
            email: Email::parse(raw).ok(),
        };
        let json = |filter: &CustomerFilter| serde_json::to_value(filter).unwrap();
        assert_eq!(json(&by("Ann@Example.com")), json(&by("ann@example.com")));
        assert_ne!(
            json(&by("ann@example.com")),
            json(&CustomerFilter::default())
        );
    }
}
