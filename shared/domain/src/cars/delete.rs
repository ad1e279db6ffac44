//! Removing a car from the fleet.

use super::model::Car;
use super::records::{self, CONTRACT_COUNT};
use crate::entity::{Removable, Unused};
use crate::error::DomainError;
use crate::storage::WriteOp;

/// A car is deleted ([`super::delete_car`]) only while no contract that is not cancelled names
/// it: the `contractCount` on its own item, which contracts keep in their own transactions, is
/// 0 (a car with a rental history is retired instead, so the history keeps its car). Its plate
/// and VIN are released in the same transaction as the delete and its audit entry, so another car
/// may take them the moment it commits.
impl Removable for Car {
    const UNUSED: Option<Unused> = Some(Unused {
        counter: CONTRACT_COUNT,
        refusal: |contracts| DomainError::Conflict {
            detail: format!(
                "The car has {contracts} contract(s) that are not cancelled; retire it instead \
                 (status \"retired\")."
            ),
        },
    });

    fn released(&self) -> Vec<WriteOp> {
        vec![
            records::plate_claim(&self.id, &self.license_plate).release(),
            records::vin_claim(&self.id, &self.vin).release(),
        ]
    }
}
