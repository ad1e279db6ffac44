//! The days of a car that contracts take: one slot item per rented day, in the car's own
//! partition, so that no two contracts that hold days (every status but `cancelled`) share one.
//!
//! A store keeps one key unique, so a car's day becomes a key: `CAR#<car>` / `DAY#<yyyy-mm-dd>`.
//! A contract puts the slots of its days, each conditional on no item at its key, in the same
//! transaction as the contract itself: of any number of concurrent contracts wanting one day, on
//! either store family, exactly one commits, and a contract exists exactly when its days are
//! taken. Cancelling deletes them, each conditional on holding this contract's id, in the
//! cancelling transaction; a date change frees the days it leaves and takes the days it gains
//! in one transaction (days in both ranges stay as they are). Because the slots share the car's
//! partition and sort after its `CAR` item, a car's busy days are one Query
//! (`begins_with(sk, "DAY#")`, or `between` two days), never a scan. See docs/data-model.md for
//! the cost and the limits. The layout itself (key, prefix, attribute) is `cars::days`, which
//! the catalogue and availability reads share.

use serde_json::Value;

use super::model::ContractId;
use crate::calendar::Day;
use crate::cars::CarId;
use crate::cars::days::{CONTRACT_ID, day_key};
use crate::entity::EntityKind;
use crate::storage::{Comparison, Condition, Delete, Item, Put, WriteOp};

/// The kind slot items are stored as.
pub(crate) const ENTITY: EntityKind = EntityKind::CarDay;

/// The write that takes `day` of `car` for `contract`: a put conditional on no contract
/// holding it.
pub(crate) fn take(car: &CarId, contract: &ContractId, day: Day) -> WriteOp {
    let mut item = Item::new();
    day_key(car, day).write_into(&mut item);
    item.insert("entity".into(), Value::from(ENTITY));
    item.insert(CONTRACT_ID.into(), Value::from(contract.as_str()));
    WriteOp::Put(Put {
        item,
        condition: Some(Condition::ItemNotExists),
    })
}

/// The write that frees `day` of `car`: a delete conditional on `contract` holding it, so a
/// contract never frees a day another holds, and a day is freed once.
pub(crate) fn free(car: &CarId, contract: &ContractId, day: Day) -> WriteOp {
    WriteOp::Delete(Delete {
        key: day_key(car, day),
        condition: Some(Condition::compare(
            CONTRACT_ID,
            Comparison::Equal,
            contract.as_str(),
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> (CarId, ContractId) {
        (
            CarId::parse("0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f").unwrap(),
            ContractId::parse("0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e71").unwrap(),
        )
    }

    #[test]
    fn a_slot_is_a_day_in_its_cars_partition_put_only_where_none_is() {
        let (car, contract) = ids();
        let day = Day::parse("2027-03-01").unwrap();
        let WriteOp::Put(put) = take(&car, &contract, day) else {
            panic!("taking a day is a put");
        };
        assert_eq!(put.item["pk"], "CAR#0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f");
        assert_eq!(put.item["sk"], "DAY#2027-03-01");
        assert_eq!(put.item["entity"], "car-day");
        assert_eq!(put.item[CONTRACT_ID], contract.as_str());
        assert_eq!(put.condition, Some(Condition::ItemNotExists));
    }

    #[test]
    fn freeing_a_day_deletes_it_only_for_its_contract() {
        let (car, contract) = ids();
        let day = Day::parse("2027-03-01").unwrap();
        let WriteOp::Delete(delete) = free(&car, &contract, day) else {
            panic!("freeing a day is a delete");
        };
        assert_eq!(delete.key, day_key(&car, day));
        assert_eq!(
            delete.condition,
            Some(Condition::compare(
                CONTRACT_ID,
                Comparison::Equal,
                contract.as_str()
            ))
        );
    }
}
