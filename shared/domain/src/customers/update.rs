//! Changing a customer's name, phone or driving licence under optimistic locking.

use chrono::{DateTime, Utc};

use super::model::{Customer, CustomerChanges};
use super::records::attribute;
use crate::entity::{Changeable, Revision};
use crate::error::DomainError;
use crate::storage::Item;

/// A customer's change ([`super::update_customer`], [`super::update_my_customer`]) sets only the
/// changed attributes under the version read, with the audit entry of the changed fields, so a
/// concurrent change, or a contract counted on the customer meanwhile, is never overwritten. The
/// email and the linked account are not among them: they are claims, fixed at creation. Costs
/// one read and one transaction of two writes.
impl Changeable for Customer {
    type Changes = CustomerChanges;

    fn revise(
        &self,
        changes: &CustomerChanges,
        _: &Item,
        _: DateTime<Utc>,
    ) -> Result<Revision<Self>, DomainError> {
        let mut changed = self.clone();
        let mut set = Vec::new();
        if let Some(name) = &changes.name {
            changed.name = name.clone();
            set.push(attribute("name", name.as_str()));
        }
        if let Some(phone) = &changes.phone {
            changed.phone = phone.clone();
            set.push(attribute("phone", phone.as_str()));
        }
        if let Some(number) = &changes.licence_number {
            changed.licence_number = number.clone();
            set.push(attribute("licenceNumber", number.as_str()));
        }
        if let Some(expiry) = changes.licence_expiry {
            changed.licence_expiry = expiry;
            set.push(attribute("licenceExpiry", expiry.to_string()));
        }
        Ok(Revision::new(changed, set))
    }
}
