//! How contracts are stored: keys, index attributes, the item layout, and the writes a contract
//! makes on its car and its customer (see docs/data-model.md).
//!
//! Three index entries list a contract, one per access pattern: `gsi1` a customer's contracts by
//! end date, `gsi2` a car's contracts by start date, `gsi3` every contract under `CONTRACTS`,
//! sorted by status and then start date (so one status is a `begins_with` on the sort key, and
//! the active contracts by start date are one Query).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::model::{Contract, ContractFilter, ContractId, ContractStatus};
use crate::audit::{self, Action, Change};
use crate::calendar::Day;
use crate::cars::{CONTRACT_COUNT, Car, CarId, CarStatus, Mileage, car_key, status_attributes};
use crate::clock::IdGenerator;
use crate::customers::{CustomerId, OPEN_CONTRACTS, customer_key};
use crate::entity::{self, Criterion, EntityKind, Narrowing, Versioned};
use crate::identity::RequestContext;
use crate::storage::{
    Comparison, Condition, Index, Item, ItemKeys, Key, Put, StoreError, Update, VERSION_ATTRIBUTE,
    WriteOp, timestamp, to_item,
};

/// The entity type stored items and audit entries name contracts by.
pub(crate) const ENTITY: EntityKind = EntityKind::Contract;
/// The index listing one customer's contracts, by end date.
pub(crate) const CUSTOMER_INDEX: Index = entity::OWNER_INDEX;
/// The index listing one car's contracts, by start date.
pub(crate) const CAR_INDEX: Index = entity::CAR_INDEX;
/// The index listing every contract, by status and then start date.
pub(crate) const STATUS_INDEX: Index = entity::STATUS_INDEX;
/// The partition of [`STATUS_INDEX`] holding every contract.
pub(crate) const ALL_CONTRACTS: &str = "CONTRACTS";

crate::entity::versioned_entity!(Contract, ENTITY, id: ContractId => key);

pub(crate) fn key(id: &ContractId) -> Key {
    Key::new(format!("CONTRACT#{id}"), "CONTRACT")
}

/// The partition of [`CUSTOMER_INDEX`] holding one customer's contracts.
pub(crate) fn customer_partition(customer: &CustomerId) -> String {
    format!("CUSTOMER_CONTRACTS#{customer}")
}

/// The partition of [`CAR_INDEX`] holding one car's contracts.
pub(crate) fn car_partition(car: &CarId) -> String {
    format!("CAR_CONTRACTS#{car}")
}

/// The prefix of [`STATUS_INDEX`]'s sort keys of one status.
pub(crate) fn status_prefix(status: ContractStatus) -> String {
    format!("{status}#")
}

/// A day, then the id, so that contracts of one day keep a stable order.
fn dated(day: Day, contract: &Contract) -> String {
    format!("{day}#{}", contract.id)
}

/// The stored form of a contract: its own fields, its version, and the keys that place it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ContractRecord<'a> {
    #[serde(flatten)]
    keys: ItemKeys,
    entity: EntityKind,
    #[serde(flatten)]
    contract: &'a Contract,
    version: u64,
}

/// The whole item of `contract`, in all three indexes.
pub(crate) fn item(contract: &Contract) -> Result<Item, StoreError> {
    to_item(&ContractRecord {
        keys: ItemKeys::new(key(&contract.id))
            .indexed(
                CUSTOMER_INDEX,
                customer_partition(&contract.customer_id),
                dated(contract.end_date, contract),
            )
            .indexed(
                CAR_INDEX,
                car_partition(&contract.car_id),
                dated(contract.start_date, contract),
            )
            .indexed(
                STATUS_INDEX,
                ALL_CONTRACTS,
                format!(
                    "{}{}",
                    status_prefix(contract.status),
                    dated(contract.start_date, contract)
                ),
            ),
        entity: ENTITY,
        contract,
        version: contract.version,
    })
}

/// The put of a new contract: only where none is.
pub(crate) fn put_new(contract: &Contract) -> Result<WriteOp, StoreError> {
    Ok(WriteOp::Put(Put {
        item: item(contract)?,
        condition: Some(Condition::ItemNotExists),
    }))
}

/// The put that replaces `current` by `changed` (one version on), conditional on the stored one
/// still being `current`'s version: of concurrent changes, one commits.
pub(crate) fn replace(current: &Contract, changed: &Contract) -> Result<WriteOp, StoreError> {
    Ok(WriteOp::Put(Put {
        item: item(changed)?,
        condition: Some(Condition::version_is(current.version)),
    }))
}

/// The audit entry of a new contract.
pub(crate) fn created_entry(
    contract: &Contract,
    context: &RequestContext,
    ids: &dyn IdGenerator,
    now: DateTime<Utc>,
) -> Result<WriteOp, StoreError> {
    let change = Change {
        entity_type: ENTITY,
        entity_id: contract.id.to_string(),
        action: Action::Create,
        before: serde_json::Map::new(),
        after: contract.view()?,
    };
    Ok(audit::entry(&change, context, now, ids.new_id()))
}

/// The audit entry of the change from `current` to `changed`: the fields that differ.
pub(crate) fn changed_entry(
    current: &Contract,
    changed: &Contract,
    context: &RequestContext,
    ids: &dyn IdGenerator,
    now: DateTime<Utc>,
) -> Result<WriteOp, StoreError> {
    let (before, after) = Change::diff(&current.view()?, &changed.view()?);
    let change = Change {
        entity_type: ENTITY,
        entity_id: current.id.to_string(),
        action: Action::Update,
        before,
        after,
    };
    Ok(audit::entry(&change, context, now, ids.new_id()))
}

/// Counts a new contract on `car` (`contractCount + 1`), on condition that its status is still
/// the one read (which the reservation checked): a car sent to maintenance or retired
/// meanwhile fails the transaction, and the next round reads it again. The car's version is left
/// alone: a contract is not a change staff made to the car, and concurrent reservations of
/// other days must not collide on it.
pub(crate) fn count_on_car(car: &Car) -> WriteOp {
    let mut update = Update::new(car_key(&car.id));
    update.add.push((CONTRACT_COUNT.into(), 1));
    update.condition = Some(Condition::compare(
        "status",
        Comparison::Equal,
        car.status.as_str(),
    ));
    WriteOp::Update(update)
}

/// Takes a cancelled contract off its car's count.
pub(crate) fn uncount_on_car(car: &CarId) -> WriteOp {
    let mut update = Update::new(car_key(car));
    update.add.push((CONTRACT_COUNT.into(), -1));
    update.condition = Some(Condition::ItemExists);
    WriteOp::Update(update)
}

/// Counts an open contract on its customer (`openContracts + 1`), while their licence is valid
/// through `end_date` (days compare as their `yyyy-mm-dd` strings).
pub(crate) fn open_on_customer(customer: &CustomerId, end_date: Day) -> WriteOp {
    let mut update = Update::new(customer_key(customer));
    update.add.push((OPEN_CONTRACTS.into(), 1));
    update.condition = Some(Condition::And(vec![
        Condition::ItemExists,
        Condition::compare(
            "licenceExpiry",
            Comparison::GreaterOrEqual,
            end_date.to_string(),
        ),
    ]));
    WriteOp::Update(update)
}

/// Takes a contract that was cancelled or completed off its customer's open ones.
pub(crate) fn close_on_customer(customer: &CustomerId) -> WriteOp {
    let mut update = Update::new(customer_key(customer));
    update.add.push((OPEN_CONTRACTS.into(), -1));
    update.condition = Some(Condition::ItemExists);
    WriteOp::Update(update)
}

/// The check that `customer`'s licence is valid through `end_date` (a date change's).
pub(crate) fn licence_valid_through(customer: &CustomerId, end_date: Day) -> WriteOp {
    WriteOp::Check {
        key: customer_key(customer),
        condition: Condition::compare(
            "licenceExpiry",
            Comparison::GreaterOrEqual,
            end_date.to_string(),
        ),
    }
}

/// Moves `car` (as read) to `status` with `mileage` at a pickup or a return, one version on, on
/// condition that its status and mileage are still the ones read.
pub(crate) fn hand_over(
    car: &Car,
    status: CarStatus,
    mileage: Mileage,
    now: DateTime<Utc>,
) -> WriteOp {
    let mut update = Update::new(car_key(&car.id));
    update.set.extend(status_attributes(status));
    update
        .set
        .push(("mileage".into(), Value::from(mileage.get())));
    update
        .set
        .push(("updatedAt".into(), Value::from(timestamp(now))));
    update.add.push((VERSION_ATTRIBUTE.into(), 1));
    update.condition = Some(Condition::And(vec![
        Condition::compare("status", Comparison::Equal, car.status.as_str()),
        Condition::compare("mileage", Comparison::Equal, car.mileage.get()),
    ]));
    WriteOp::Update(update)
}

/// The filter as one Query's choice among the three index entries above ([`Narrowing`]).
pub(crate) fn narrowing(filter: &ContractFilter) -> Narrowing {
    Narrowing {
        owner: filter.customer_id.as_ref().map(|customer| {
            Criterion::new(
                customer_partition(customer),
                "customerId",
                customer.as_str(),
            )
        }),
        car: (filter.car_id.as_ref())
            .map(|car| Criterion::new(car_partition(car), "carId", car.as_str())),
        status: (filter.status)
            .map(|status| Criterion::new(status_prefix(status), "status", status.as_str())),
        others: Vec::new(),
        all: ALL_CONTRACTS,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::cars::DailyRate;
    use crate::contracts::RentalPeriod;
    use crate::money::{Currency, Money};
    use crate::storage::from_item;

    pub(crate) fn contract() -> Contract {
        let created = DateTime::parse_from_rfc3339("2026-11-21T08:00:00.123Z")
            .unwrap()
            .to_utc();
        let rate =
            DailyRate::new(Money::new(4_500, Currency::parse("EUR").unwrap()).unwrap()).unwrap();
        let period = RentalPeriod::new(
            Day::parse("2026-12-01").unwrap(),
            Day::parse("2026-12-03").unwrap(),
        )
        .unwrap();
        Contract::reserved(
            ContractId::parse("0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e71").unwrap(),
            (
                CarId::parse("0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f").unwrap(),
                rate,
            ),
            (
                CustomerId::parse("0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e70").unwrap(),
                None,
            ),
            period,
            created,
        )
        .unwrap()
    }

    #[test]
    fn a_contract_survives_the_round_trip_through_its_item() {
        let original = contract();
        assert_eq!(
            from_item::<Contract>(item(&original).unwrap()).unwrap(),
            original
        );
    }

    #[test]
    fn the_item_is_in_the_customer_car_and_status_indexes() {
        let item = item(&contract()).unwrap();
        let id = contract().id;
        assert_eq!(item["pk"], format!("CONTRACT#{id}"));
        assert_eq!(
            item["gsi1pk"],
            "CUSTOMER_CONTRACTS#0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e70"
        );
        assert_eq!(item["gsi1sk"], format!("2026-12-03#{id}"));
        assert_eq!(
            item["gsi2pk"],
            "CAR_CONTRACTS#0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f"
        );
        assert_eq!(item["gsi2sk"], format!("2026-12-01#{id}"));
        assert_eq!(item["gsi3pk"], "CONTRACTS");
        assert_eq!(item["gsi3sk"], format!("reserved#2026-12-01#{id}"));
        assert_eq!(item["total"]["amount"], 13_500);
    }

    #[test]
    fn a_list_filters_on_what_its_index_does_not_select() {
        let filter = ContractFilter {
            customer_id: Some(contract().customer_id),
            car_id: None,
            status: Some(ContractStatus::Active),
        };
        let query = narrowing(&filter).query();
        assert_eq!(query.index, Some(CUSTOMER_INDEX));
        assert_eq!(
            query.filter,
            Some(Condition::compare("status", Comparison::Equal, "active"))
        );
        let every = narrowing(&ContractFilter::default()).query();
        assert_eq!((every.index, every.filter), (Some(STATUS_INDEX), None));
    }
}
