//! Changing an airplane's model number or capacity under optimistic locking.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::model::{Airplane, AirplaneChanges};
use super::records;
use crate::entity::{Changeable, Revision};
use crate::error::DomainError;
use crate::storage::Item;

/// An airplane's change ([`super::update_airplane`]) sets only the changed attributes (the model
/// number with its index key, the capacity) under the version read, with the audit entry of the
/// changed fields, so a concurrent change, or a flight counted on the airplane meanwhile, is never
/// overwritten. Costs one read and one transaction of two writes.
impl Changeable for Airplane {
    type Changes = AirplaneChanges;

    fn revise(
        &self,
        changes: &AirplaneChanges,
        _: &Item,
        _: DateTime<Utc>,
    ) -> Result<Revision<Self>, DomainError> {
        let mut changed = self.clone();
        let mut set = Vec::new();
        if let Some(model_number) = &changes.model_number {
            changed.model_number = model_number.clone();
            set.extend(records::model_number_attributes(model_number));
        }
        if let Some(capacity) = changes.capacity {
            changed.capacity = capacity;
            set.push(("capacity".to_owned(), Value::from(capacity.get())));
        }
        Ok(Revision::new(changed, set))
    }
}
