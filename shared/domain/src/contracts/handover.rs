//! Handing the car over and taking it back: pickup makes a reserved contract active and the car
//! `rented`; return completes it, prices the days the car was really out, and makes the car
//! `available` again with its new mileage.

use chrono::{DateTime, Utc};

use super::change::{self, Found, Plan, Reads};
use super::days;
use super::model::{Contract, ContractId, ContractStatus, Damages, FuelLevel, total_of};
use super::records;
use crate::calendar::Day;
use crate::cars::{CarStatus, Mileage};
use crate::clock::{Clock, IdGenerator};
use crate::error::DomainError;
use crate::identity::RequestContext;
use crate::storage::{Item, Query, SortCondition, Store, query_all};

/// What staff record when the car comes back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Return {
    pub mileage: Mileage,
    pub fuel_level: FuelLevel,
    pub damages: Option<Damages>,
}

/// The most overrun days a late return takes as slots (one transaction holds them).
const MAX_OVERRUN_SLOTS: usize = 90;

fn conflict(detail: String) -> DomainError {
    DomainError::Conflict { detail }
}

/// Picks up the car of the reserved contract `id` (staff): on or after its start date, with the
/// car `available` and `mileage` at least the car's. One transaction: the contract `active`
/// with its pickup mileage, its audit entry, and the car `rented` with that mileage (under
/// conditions on its status and mileage, decided again if they moved).
#[tracing::instrument(skip_all, fields(contract_id = %id, request_id = %context.request_id))]
pub async fn pick_up_contract(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    context: &RequestContext,
    id: &ContractId,
    mileage: Mileage,
) -> Result<Contract, DomainError> {
    change::apply(
        store,
        clock,
        ids,
        context,
        id,
        Reads::ContractAndCar,
        |found, now| {
            let current = &found.contract;
            let car = found
                .car
                .as_ref()
                .ok_or_else(|| conflict("The contract's car is gone.".into()))?;
            change::require(current, ContractStatus::Reserved, "picked up")?;
            if Day::today(now) < current.start_date {
                return Err(conflict(format!(
                    "The rental starts on {}; the car cannot be picked up before.",
                    current.start_date
                )));
            }
            if car.status != CarStatus::Available {
                return Err(conflict(format!(
                    "The car is {} and cannot be handed over.",
                    car.status
                )));
            }
            if mileage < car.mileage {
                return Err(DomainError::Invalid {
                    field: "mileage",
                    message: format!("must be at least the car's {} km", car.mileage.get()),
                });
            }
            let mut changed = current.clone();
            changed.status = ContractStatus::Active;
            changed.pickup_mileage = Some(mileage);
            changed.picked_up_at = Some(now);
            Ok(Plan {
                changed,
                writes: vec![records::hand_over(car, CarStatus::Rented, mileage, now)],
                explain: change::decide_again(),
            })
        },
    )
    .await
}

/// Takes back the car of the active contract `id` (staff), with `mileage` at least the pickup
/// mileage. The contract is `completed` with what staff recorded, the car `available` with the
/// new mileage, and the customer's `openContracts` decremented, in one transaction.
///
/// A late return (after the end date) is charged the extra days at the rate snapshot, and the
/// overrun days are taken as the contract's slots where they are free (at most 90 of them, the
/// latest); days another contract holds are not taken, and the first of them is recorded on the
/// contract as `overrunConflictFrom`, so staff see that the late car overlapped another rental.
/// The car is back either way: refusing the return would not make it any less late.
#[tracing::instrument(skip_all, fields(contract_id = %id, request_id = %context.request_id))]
pub async fn return_contract(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    context: &RequestContext,
    id: &ContractId,
    returned: &Return,
) -> Result<Contract, DomainError> {
    change::apply(
        store,
        clock,
        ids,
        context,
        id,
        Reads::ContractCarAndOverrun,
        |found, now| plan_return(found, now, returned),
    )
    .await
}

fn plan_return(found: &Found, now: DateTime<Utc>, returned: &Return) -> Result<Plan, DomainError> {
    let (current, held) = (&found.contract, &found.overrun_holders);
    let car = found
        .car
        .as_ref()
        .ok_or_else(|| conflict("The contract's car is gone.".into()))?;
    change::require(current, ContractStatus::Active, "returned")?;
    let pickup = current.pickup_mileage.unwrap_or(car.mileage);
    if returned.mileage < pickup {
        return Err(DomainError::Invalid {
            field: "mileage",
            message: format!("must be at least the pickup mileage, {} km", pickup.get()),
        });
    }
    let overrun = overrun_days(current, now);
    let held_by = |day: &Day| {
        held.iter()
            .find(|(held, _)| held == day)
            .map(|(_, owner)| owner)
    };
    let conflict_from = overrun
        .iter()
        .copied()
        .find(|day| held_by(day).is_some_and(|owner| owner != current.id.as_str()));
    let mut changed = current.clone();
    changed.status = ContractStatus::Completed;
    changed.return_mileage = Some(returned.mileage);
    changed.fuel_level = Some(returned.fuel_level);
    changed.damages = returned.damages.clone();
    changed.returned_at = Some(now);
    let days_out = current.period().length() + u32::try_from(overrun.len()).unwrap_or(u32::MAX);
    changed.total = total_of(&current.daily_rate, days_out)?;
    changed.late_days = u32::try_from(overrun.len()).ok().filter(|days| *days > 0);
    changed.overrun_conflict_from = conflict_from;
    let taken: Vec<Day> = overrun
        .iter()
        .copied()
        .filter(|day| held_by(day).is_none())
        .rev()
        .take(MAX_OVERRUN_SLOTS)
        .collect();
    let mut writes = vec![
        records::hand_over(car, CarStatus::Available, returned.mileage, now),
        records::close_on_customer(&current.customer_id),
    ];
    writes.extend(
        taken
            .iter()
            .map(|day| days::take(&current.car_id, &current.id, *day)),
    );
    Ok(Plan {
        changed,
        writes,
        // A car or an overrun day that moved meanwhile: the next round reads them again.
        explain: change::decide_again(),
    })
}

/// The days after the end date up to today (UTC) that the car was still out.
fn overrun_days(contract: &Contract, now: DateTime<Utc>) -> Vec<Day> {
    let today = Day::today(now);
    contract
        .end_date
        .date()
        .iter_days()
        .skip(1)
        .map(Day::from)
        .take_while(|day| *day <= today)
        .collect()
}

/// The overrun days of `contract`'s car that a slot holds, with the holder's id. One Query of
/// the car's partition between the day after the end date and today.
pub(super) async fn overrun_holders(
    store: &dyn Store,
    contract: &Contract,
    now: DateTime<Utc>,
) -> Result<Vec<(Day, String)>, DomainError> {
    let overrun = overrun_days(contract, now);
    let (Some(first), Some(last)) = (overrun.first(), overrun.last()) else {
        return Ok(Vec::new());
    };
    let mut query = Query::partition(None, days::day_key(&contract.car_id, *first).pk);
    query.sort = Some(SortCondition::Between(
        days::day_key(&contract.car_id, *first).sk,
        days::day_key(&contract.car_id, *last).sk,
    ));
    let slots = query_all(store, query).await?;
    Ok(slots.iter().filter_map(slot_holder).collect())
}

/// The day and holder of a slot item.
fn slot_holder(item: &Item) -> Option<(Day, String)> {
    let day = item
        .get("sk")?
        .as_str()?
        .strip_prefix(days::DAY_PREFIX)
        .and_then(|day| Day::parse(day).ok())?;
    let owner = item.get(days::CONTRACT_ID)?.as_str()?.to_owned();
    Some((day, owner))
}
