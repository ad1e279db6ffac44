//! Unique values an entity holds besides its id (a car's licence plate and VIN, a customer's
//! email): each is an item of its own, written only if absent in the entity's own transaction.
//!
//! A store keeps one key unique and nothing else, so a value that must be unique becomes a key:
//! the claim item `<KIND>#<value>`. Creating the entity puts its claims conditional on no item at
//! their keys, so of any number of concurrent creates with one value exactly one commits; a
//! change that moves the value claims the new one and releases the old in the same transaction;
//! a delete releases them all. The refusal names the taken value, and the claim holds the id of
//! its owner, so a value can also be looked up (a user's customer profile by the user's id).

use serde_json::Value;

use super::EntityKind;
use crate::error::DomainError;
use crate::storage::{Condition, Delete, Item, Key, Put, Store, StoreError, WriteOp};

/// The attribute of a claim item that holds its owner's id.
pub(crate) const OWNER: &str = "owner";

/// One unique value an entity holds, with the 409 when another entity holds it already.
#[derive(Clone, Debug, PartialEq)]
pub struct Claim {
    kind: EntityKind,
    key: Key,
    owner: String,
    taken: String,
}

impl Claim {
    /// The claim of `value` (in the form it is unique in) by the entity `owner`, of `kind`;
    /// `taken` is the 409's detail when another entity holds it.
    pub(crate) fn new(
        kind: EntityKind,
        value: &str,
        owner: impl ToString,
        taken: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            key: key(kind, value),
            owner: owner.to_string(),
            taken: taken.into(),
        }
    }

    /// The write that takes the value: a put conditional on nobody holding it.
    pub(crate) fn put(&self) -> WriteOp {
        let mut item = Item::new();
        self.key.write_into(&mut item);
        item.insert("entity".into(), Value::from(self.kind));
        item.insert(OWNER.into(), Value::from(self.owner.as_str()));
        WriteOp::Put(Put {
            item,
            condition: Some(Condition::ItemNotExists),
        })
    }

    /// The write that gives the value back: a delete, conditional on this owner holding it, so
    /// a release never frees a value someone else holds.
    pub(crate) fn release(&self) -> WriteOp {
        WriteOp::Delete(Delete {
            key: self.key.clone(),
            condition: Some(Condition::compare(
                OWNER,
                crate::storage::Comparison::Equal,
                self.owner.as_str(),
            )),
        })
    }

    /// The 409 when another entity holds the value.
    pub(crate) fn refusal(&self) -> DomainError {
        DomainError::Conflict {
            detail: self.taken.clone(),
        }
    }

    /// Whether the claims are of the same value.
    pub(crate) fn same_value(&self, other: &Claim) -> bool {
        self.key == other.key
    }
}

/// The key of the claim of `value` of `kind`: `CAR-PLATE#AB123CD`.
pub(crate) fn key(kind: EntityKind, value: &str) -> Key {
    let prefix = kind.as_str().to_uppercase();
    Key::new(format!("{prefix}#{value}"), prefix)
}

/// The id of the entity holding `value` of `kind`, if any. Costs one read.
pub(crate) async fn holder(
    store: &dyn Store,
    kind: EntityKind,
    value: &str,
) -> Result<Option<String>, StoreError> {
    let Some(item) = store.get(&key(kind, value)).await? else {
        return Ok(None);
    };
    match item.get(OWNER).and_then(Value::as_str) {
        Some(owner) => Ok(Some(owner.to_owned())),
        None => Err(StoreError::internal(format!(
            "a {kind} claim without its owner"
        ))),
    }
}

/// The refusal of the claim a failed transaction names: operation `index` of a transaction whose
/// claims start at `first`.
pub(super) fn refused(claims: &[Claim], first: usize, index: usize) -> Option<DomainError> {
    index
        .checked_sub(first)
        .and_then(|position| claims.get(position))
        .map(Claim::refusal)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plate(owner: &str) -> Claim {
        Claim::new(EntityKind::CarPlate, "AB123CD", owner, "taken: AB123CD")
    }

    #[test]
    fn a_claim_is_an_item_of_its_own_put_only_where_none_is() {
        let WriteOp::Put(put) = plate("car-1").put() else {
            panic!("a claim is a put");
        };
        assert_eq!(put.item["pk"], "CAR-PLATE#AB123CD");
        assert_eq!(put.item["sk"], "CAR-PLATE");
        assert_eq!(put.item[OWNER], "car-1");
        assert_eq!(put.item["entity"], "car-plate");
        assert_eq!(put.condition, Some(Condition::ItemNotExists));
    }

    #[test]
    fn a_release_frees_only_its_owners_claim() {
        let WriteOp::Delete(delete) = plate("car-1").release() else {
            panic!("a release is a delete");
        };
        assert_eq!(delete.key, key(EntityKind::CarPlate, "AB123CD"));
        assert_eq!(
            delete.condition,
            Some(Condition::compare(
                OWNER,
                crate::storage::Comparison::Equal,
                "car-1"
            ))
        );
    }

    #[test]
    fn a_failed_operation_names_its_claim() {
        let claims = [
            plate("car-1"),
            Claim::new(EntityKind::CarVin, "V", "car-1", "vin"),
        ];
        assert!(refused(&claims, 1, 0).is_none());
        assert!(matches!(
            refused(&claims, 1, 2),
            Some(DomainError::Conflict { detail }) if detail == "vin"
        ));
        assert!(refused(&claims, 1, 3).is_none());
        assert!(plate("a").same_value(&plate("b")));
    }
}
