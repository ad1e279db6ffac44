//! How customers are stored: keys, index attributes, the claims of email and user account, and
//! the item layout (see docs/data-model.md).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::Value;

use super::model::{Customer, CustomerId, NewCustomer};
use crate::accounts::Email;
use crate::clock::IdGenerator;
use crate::entity::{Claim, EntityKind, NewEntity};
use crate::identity::UserId;
use crate::storage::{Index, Item, ItemKeys, Key, StoreError, to_item};

/// The entity type stored items and audit entries name customers by.
pub(crate) const ENTITY: EntityKind = EntityKind::Customer;
/// The partition of [`LIST_INDEX`] holding every customer.
pub(crate) const ALL_CUSTOMERS: &str = "CUSTOMERS";
/// The index listing every customer, newest first.
pub(crate) const LIST_INDEX: Index = Index::Gsi1;
/// The index listing the customer of one email (at most one, by its claim).
pub(crate) const EMAIL_INDEX: Index = Index::Gsi2;
/// The attribute counting a customer's contracts that are reserved or active; deletion requires
/// it to be 0. Contracts change it in their own transactions.
pub(crate) const OPEN_CONTRACTS: &str = "openContracts";

crate::entity::versioned_entity!(Customer, ENTITY, id: CustomerId => key);

pub(crate) fn key(id: &CustomerId) -> Key {
    Key::new(format!("CUSTOMER#{id}"), "CUSTOMER")
}

/// The partition of [`EMAIL_INDEX`] holding the customer of `email`.
pub(crate) fn email_partition(email: &Email) -> String {
    format!("CUSTOMERS#EMAIL#{email}")
}

/// The claim of a customer's email.
pub(crate) fn email_claim(id: &CustomerId, email: &Email) -> Claim {
    let taken = format!("A customer with the email {email} exists already.");
    Claim::new(EntityKind::CustomerEmail, &email.to_string(), id, taken)
}

/// The claim of a user account by the customer profile linked to it. Its item holds the
/// customer's id, so a user's own profile is found by their user id.
pub(crate) fn user_claim(id: &CustomerId, user: &UserId) -> Claim {
    let taken = format!("The user {user} has a customer profile already.");
    Claim::new(EntityKind::CustomerUser, user.as_str(), id, taken)
}

/// The stored form of a customer: their own fields, the version, and the keys and counter that
/// place them.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CustomerRecord<'a> {
    #[serde(flatten)]
    keys: ItemKeys,
    entity: EntityKind,
    #[serde(flatten)]
    customer: &'a Customer,
    version: u64,
    open_contracts: u64,
}

/// A new customer ([`super::create_customer`], [`super::create_my_customer`]) gets a fresh id,
/// no open contract, both index entries, the claim of their email and (when linked) of their user
/// account, and the audit entry, in one transaction: of concurrent creates with one email, or for
/// one user, exactly one commits.
impl NewEntity for NewCustomer {
    type Entity = Customer;

    fn assemble(self, ids: &dyn IdGenerator, now: DateTime<Utc>) -> Customer {
        let NewCustomer {
            name,
            email,
            phone,
            licence_number,
            licence_expiry,
            user_id,
        } = self;
        let (id, version, created_at, updated_at) = (ids.new_id().into(), 1, now, now);
        Customer {
            id,
            name,
            email,
            phone,
            licence_number,
            licence_expiry,
            user_id,
            version,
            created_at,
            updated_at,
        }
    }

    fn item(customer: &Customer) -> Result<Item, StoreError> {
        let sort_key = format!(
            "{}#{}",
            customer
                .created_at
                .to_rfc3339_opts(SecondsFormat::Millis, true),
            customer.id
        );
        to_item(&CustomerRecord {
            keys: ItemKeys::new(key(&customer.id))
                .indexed(LIST_INDEX, ALL_CUSTOMERS, sort_key.clone())
                .indexed(EMAIL_INDEX, email_partition(&customer.email), sort_key),
            entity: ENTITY,
            customer,
            version: customer.version,
            open_contracts: 0,
        })
    }

    fn claims(customer: &Customer) -> Vec<Claim> {
        claims(customer)
    }
}

/// The unique values a customer holds: their email, and their user account when linked.
pub(crate) fn claims(customer: &Customer) -> Vec<Claim> {
    let mut claims = vec![email_claim(&customer.id, &customer.email)];
    claims.extend(
        customer
            .user_id
            .as_ref()
            .map(|user| user_claim(&customer.id, user)),
    );
    claims
}

/// The attribute a changed field is stored as, and its value.
pub(crate) fn attribute(name: &str, value: impl Into<Value>) -> (String, Value) {
    (name.to_owned(), value.into())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::accounts::{PersonName, Phone};
    use crate::calendar::Day;
    use crate::customers::LicenceNumber;
    use crate::storage::from_item;

    pub(crate) fn customer(user: Option<&str>) -> Customer {
        let created = DateTime::parse_from_rfc3339("2026-11-21T08:00:00.123Z")
            .unwrap()
            .to_utc();
        Customer {
            id: CustomerId::parse("0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e70").unwrap(),
            name: PersonName::parse("Ann Lee").unwrap(),
            email: Email::parse("Ann.Lee@Example.com").unwrap(),
            phone: Phone::parse("+44 20 7946 0958").unwrap(),
            licence_number: LicenceNumber::parse("LEE99701015AN9IJ").unwrap(),
            licence_expiry: Day::parse("2031-05-31").unwrap(),
            user_id: user.map(|id| UserId::parse(id).unwrap()),
            version: 1,
            created_at: created,
            updated_at: created,
        }
    }

    #[test]
    fn a_customer_survives_the_round_trip_through_the_item() {
        for user in [None, Some("0190f5d2-7c20-7d4e-8b2f-4a3c9d5e6f71")] {
            let original = customer(user);
            assert_eq!(
                from_item::<Customer>(NewCustomer::item(&original).unwrap()).unwrap(),
                original
            );
        }
    }

    #[test]
    fn the_item_carries_its_keys_index_keys_and_counter() {
        let item = NewCustomer::item(&customer(None)).unwrap();
        assert_eq!(item["pk"], "CUSTOMER#0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e70");
        assert_eq!(item["gsi1pk"], "CUSTOMERS");
        assert_eq!(item["gsi2pk"], "CUSTOMERS#EMAIL#ann.lee@example.com");
        assert_eq!(item["licenceExpiry"], "2031-05-31");
        assert_eq!(item[OPEN_CONTRACTS], 0);
        assert!(!item.contains_key("userId"));
    }

    #[test]
    fn a_customer_claims_their_email_and_their_linked_account() {
        assert_eq!(NewCustomer::claims(&customer(None)).len(), 1);
        let linked = customer(Some("0190f5d2-7c20-7d4e-8b2f-4a3c9d5e6f71"));
        let claims = NewCustomer::claims(&linked);
        assert_eq!(claims.len(), 2);
        assert_eq!(
            claims[1],
            user_claim(&linked.id, linked.user_id.as_ref().unwrap())
        );
    }
}
