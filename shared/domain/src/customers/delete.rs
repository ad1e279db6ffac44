//! Removing a customer.

use super::model::Customer;
use super::records::{self, OPEN_CONTRACTS};
use crate::entity::{Removable, Unused};
use crate::error::DomainError;
use crate::storage::WriteOp;

/// A customer is deleted ([`super::delete_customer`]) only while none of their contracts is
/// reserved or active (`openContracts` on their own item, kept by contracts in their own
/// transactions). Their email and the claim of their user account are released in the same
/// transaction as the delete and its audit entry.
impl Removable for Customer {
    const UNUSED: Option<Unused> = Some(Unused {
        counter: OPEN_CONTRACTS,
        refusal: |contracts| DomainError::Conflict {
            detail: format!(
                "The customer has {contracts} open contract(s); they can be deleted once those \
                 are completed or cancelled."
            ),
        },
    });

    fn released(&self) -> Vec<WriteOp> {
        records::claims(self)
            .iter()
            .map(|claim| claim.release())
            .collect()
    }
}
