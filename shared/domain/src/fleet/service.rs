//! A car's service history: what a garage did on a day, at what mileage and cost.
//!
//! Records live in the car's partition (`CAR#<carId>`, sort key `SERVICE#<date>#<recordId>`), so
//! a car's history is one Query of the prefix walked backwards: newest day first, and within a
//! day the latest recorded first (ids are UUIDv7). A record is never changed.
//!
//! A record whose mileage is above the car's raises the car's in the same transaction as the
//! record: an update of the car one version on, conditioned on its mileage still being *below*
//! the record's, so a concurrent pickup, return or other record that raised it meanwhile is never
//! lowered (the condition fails, the add reads the car again and records without raising). A
//! record at or below the car's mileage checks only that the car exists.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::audit::{self, Action, Change};
use crate::calendar::Day;
use crate::cars::{Car, CarId, Mileage, car_key};
use crate::clock::{Clock, IdGenerator};
use crate::entity::{self, EntityKind, Page, Versioned};
use crate::error::DomainError;
use crate::identity::RequestContext;
use crate::money::Money;
use crate::pagination::PageLimit;
use crate::storage::{
    Comparison, Condition, Item, ItemKeys, Key, Order, Query, SortCondition, Store, StoreError,
    Update, VERSION_ATTRIBUTE, WriteOp, timestamp, to_item,
};

crate::identity::uuid_id!(
    /// A service record's identifier.
    ServiceRecordId
);

crate::bounded::bounded_text!(
    /// What was done (`Oil and filter change`): trimmed, 1-500 printable characters.
    ServiceDescription,
    500
);

crate::bounded::bounded_text!(
    /// The garage that did it: trimmed, 1-120 printable characters.
    Garage,
    120
);

/// One entry of a car's service history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceRecord {
    pub id: ServiceRecordId,
    pub car_id: CarId,
    /// The day of the service.
    pub date: Day,
    /// The odometer reading at the service.
    pub mileage: Mileage,
    pub description: ServiceDescription,
    pub cost: Money,
    pub garage: Garage,
    pub created_at: DateTime<Utc>,
}

/// What a new service record is made of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewServiceRecord {
    pub car_id: CarId,
    pub date: Day,
    pub mileage: Mileage,
    pub description: ServiceDescription,
    pub cost: Money,
    pub garage: Garage,
}

crate::entity::stored_entity!(ServiceRecord, EntityKind::ServiceRecord);

/// A record is written once and never changed: it stays at version 1.
impl Versioned for ServiceRecord {
    fn audit_id(&self) -> String {
        self.id.to_string()
    }

    fn version(&self) -> u64 {
        1
    }

    fn advance(&mut self, _: u64, _: DateTime<Utc>) {}
}

/// The sort-key prefix of a car's service records.
const PREFIX: &str = "SERVICE#";
/// How often an add reads the car again when its mileage or version moved under it.
const ATTEMPTS: usize = 3;
/// The position of the car's update or check in the add's transaction.
const CAR_OPERATION: usize = 1;

fn key(record: &ServiceRecord) -> Key {
    Key::new(
        car_key(&record.car_id).pk,
        format!("{PREFIX}{}#{}", record.date, record.id),
    )
}

/// The stored form of a record: its fields and its keys.
#[derive(Serialize)]
struct Stored<'a> {
    #[serde(flatten)]
    keys: ItemKeys,
    entity: EntityKind,
    #[serde(flatten)]
    record: &'a ServiceRecord,
}

fn item(record: &ServiceRecord) -> Result<Item, StoreError> {
    to_item(&Stored {
        keys: ItemKeys::new(key(record)),
        entity: EntityKind::ServiceRecord,
        record,
    })
}

/// What the record does to `car` (as read): raise its mileage, one version on, under the
/// condition that it is still lower, with the car's audit entry; or only check that it exists.
fn car_writes(
    car: &Car,
    record: &ServiceRecord,
    context: &RequestContext,
    ids: &dyn IdGenerator,
) -> Vec<WriteOp> {
    let key = car_key(&car.id);
    if record.mileage <= car.mileage {
        return vec![WriteOp::Check {
            key,
            condition: Condition::ItemExists,
        }];
    }
    let reading =
        |mileage: Mileage| Map::from_iter([("mileage".to_owned(), Value::from(mileage.get()))]);
    let mut update = Update::new(key);
    update
        .set
        .push(("mileage".into(), Value::from(record.mileage.get())));
    update.set.push((
        "updatedAt".into(),
        Value::from(timestamp(record.created_at)),
    ));
    update.add.push((VERSION_ATTRIBUTE.into(), 1));
    update.condition = Some(Condition::And(vec![
        Condition::ItemExists,
        Condition::compare("mileage", Comparison::Less, record.mileage.get()),
    ]));
    let change = Change {
        entity_type: EntityKind::Car,
        entity_id: car.id.to_string(),
        action: Action::Update,
        before: reading(car.mileage),
        after: reading(record.mileage),
    };
    vec![
        WriteOp::Update(update),
        audit::entry(&change, context, record.created_at, ids.new_id()),
    ]
}

/// Records a service of the car `new` names (the car's 404 when there is none), with its audit
/// entry, raising the car's mileage in the same transaction when the record's is higher. Costs
/// one read and one transaction per attempt.
#[tracing::instrument(skip_all, fields(car_id = %new.car_id, request_id = %context.request_id))]
pub async fn record_service(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    context: &RequestContext,
    new: NewServiceRecord,
) -> Result<ServiceRecord, DomainError> {
    let now = clock.now();
    let record = ServiceRecord {
        id: ids.new_id().into(),
        car_id: new.car_id,
        date: new.date,
        mileage: new.mileage,
        description: new.description,
        cost: new.cost,
        garage: new.garage,
        created_at: now,
    };
    for _ in 0..ATTEMPTS {
        let car: Car = entity::find(store, &record.car_id).await?;
        let extra = car_writes(&car, &record, context, ids);
        let operations = entity::creation(&record, item(&record)?, extra, context, now, ids)?;
        match store.transact(operations).await {
            Ok(()) => return Ok(record),
            // The car's mileage moved (or it is gone): read it again and decide afresh.
            Err(StoreError::TransactionConditionFailed {
                index: CAR_OPERATION,
            })
            | Err(StoreError::TransactionConflict) => continue,
            Err(other) => return Err(other.into()),
        }
    }
    Err(DomainError::Conflict {
        detail: "The car is being changed concurrently; retry the request.".into(),
    })
}

/// One page of `car`'s service history, newest first, or the car's 404. Costs one read and one
/// Query per store page.
#[tracing::instrument(skip(store, start_after))]
pub async fn service_history(
    store: &dyn Store,
    car: &CarId,
    limit: PageLimit,
    start_after: Option<Item>,
) -> Result<Page<ServiceRecord>, DomainError> {
    let _: Car = entity::find(store, car).await?;
    let mut query = Query::partition(None, car_key(car).pk);
    query.sort = Some(SortCondition::BeginsWith(PREFIX.into()));
    query.order = Order::Descending;
    entity::list(store, query, limit, start_after).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cars::sample_car;
    use crate::clock::UuidV7Ids;
    use crate::identity::RequestContext;
    use crate::money::Currency;
    use crate::storage::from_item;

    fn record(mileage: u32) -> ServiceRecord {
        ServiceRecord {
            id: ServiceRecordId::parse("0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e71").unwrap(),
            car_id: sample_car().id,
            date: Day::parse("2026-11-20").unwrap(),
            mileage: Mileage::try_from(i64::from(mileage)).unwrap(),
            description: ServiceDescription::parse("Oil and filter").unwrap(),
            cost: Money::new(12_000, Currency::parse("EUR").unwrap()).unwrap(),
            garage: Garage::parse("Garage Nord").unwrap(),
            created_at: DateTime::parse_from_rfc3339("2026-11-21T08:00:00Z")
                .unwrap()
                .to_utc(),
        }
    }

    #[test]
    fn a_record_sorts_by_its_day_in_its_cars_partition_and_reads_back() {
        let record = record(13_000);
        let item = item(&record).unwrap();
        assert_eq!(item["pk"], format!("CAR#{}", record.car_id));
        assert_eq!(
            item["sk"],
            "SERVICE#2026-11-20#0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e71"
        );
        assert_eq!(from_item::<ServiceRecord>(item).unwrap(), record);
    }

    #[test]
    fn a_higher_mileage_raises_the_cars_only_while_it_is_still_lower() {
        let car = sample_car();
        let context = RequestContext {
            request_id: "test".into(),
            principal: None,
        };
        let writes = car_writes(&car, &record(13_000), &context, &UuidV7Ids);
        let WriteOp::Update(update) = &writes[0] else {
            panic!("{writes:?}")
        };
        assert!(
            update
                .set
                .contains(&("mileage".into(), Value::from(13_000)))
        );
        assert_eq!(update.add, [(VERSION_ATTRIBUTE.to_owned(), 1)]);
        assert_eq!(
            update.condition,
            Some(Condition::And(vec![
                Condition::ItemExists,
                Condition::compare("mileage", Comparison::Less, 13_000)
            ]))
        );
        assert_eq!(writes.len(), 2, "the car's audit entry");
        for lower in [12_000, 9_000] {
            let writes = car_writes(&car, &record(lower), &context, &UuidV7Ids);
            assert!(matches!(writes.as_slice(), [WriteOp::Check { .. }]));
        }
    }
}
