//! Moving a reserved contract's dates: the days it gains are taken and the days it leaves freed
//! in one transaction, so the contract never holds both or neither.

use std::collections::BTreeSet;

use super::change::{self, Plan, Reads};
use super::days;
use super::model::{Contract, ContractId, ContractStatus, RentalPeriod, total_of};
use super::records;
use super::reserve::day_taken;
use crate::calendar::Day;
use crate::clock::{Clock, IdGenerator};
use crate::entity::EntityKind;
use crate::error::DomainError;
use crate::identity::RequestContext;
use crate::storage::{MAX_TRANSACTION_OPERATIONS, Store};
use crate::version::Precondition;

/// The new dates of a contract: either or both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NewDates {
    pub start_date: Option<Day>,
    pub end_date: Option<Day>,
}

/// The operations of a date change besides the moved days: the contract, its audit entry and
/// the customer's licence check.
const FIXED_OPERATIONS: usize = 3;
/// The most days one date change may take and free together.
pub const MAX_MOVED_DAYS: usize = MAX_TRANSACTION_OPERATIONS - FIXED_OPERATIONS;

/// Moves the contract `id` to `dates` for its owner or staff, under `precondition`, while it is
/// `reserved`. The new period follows the rules of a reservation (not starting in the past when
/// the start moves, at most 90 days, the licence valid through its end) and the total is
/// recomputed at the contract's rate snapshot. One transaction: the contract under the version
/// read, its audit entry, a check of the customer's licence, the slots of the days it gains put
/// only where none is, and the slots of the days it leaves deleted on condition they hold this
/// contract; the days in both periods are not touched. A day another contract holds is a 409
/// and nothing changes. A change that would take and free more than [`MAX_MOVED_DAYS`] days at
/// once (a long rental moved far) does not fit one transaction and is refused with a 422 saying
/// so; moving it in two smaller steps works.
#[tracing::instrument(skip_all, fields(contract_id = %id, request_id = %context.request_id))]
pub async fn reschedule_contract(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    context: &RequestContext,
    id: &ContractId,
    dates: NewDates,
    precondition: &Precondition,
) -> Result<Contract, DomainError> {
    change::apply(
        store,
        clock,
        ids,
        context,
        id,
        Reads::Contract,
        |found, now| {
            let current = &found.contract;
            if !precondition.admits(current.version) {
                return Err(DomainError::PreconditionFailed {
                    entity: EntityKind::Contract,
                });
            }
            change::require(current, ContractStatus::Reserved, "re-dated")?;
            let start = dates.start_date.unwrap_or(current.start_date);
            let end = dates.end_date.unwrap_or(current.end_date);
            let period = RentalPeriod::new(start, end)?;
            if start != current.start_date && start < Day::today(now) {
                return Err(DomainError::Invalid {
                    field: "startDate",
                    message: "must be today or later".into(),
                });
            }
            let old: BTreeSet<Day> = current.period().days().collect();
            let new: BTreeSet<Day> = period.days().collect();
            let gained: Vec<Day> = new.difference(&old).copied().collect();
            let left: Vec<Day> = old.difference(&new).copied().collect();
            if gained.len() + left.len() > MAX_MOVED_DAYS {
                return Err(DomainError::Invalid {
                    field: "startDate",
                    message: format!(
                        "moves the rental by {} days at once, more than the {MAX_MOVED_DAYS} one \
                     change can take and free together; move it in two smaller steps",
                        gained.len() + left.len()
                    ),
                });
            }
            let mut changed = current.clone();
            changed.start_date = start;
            changed.end_date = end;
            changed.total = total_of(&current.daily_rate, period.length())?;
            let mut writes = vec![records::licence_valid_through(&current.customer_id, end)];
            writes.extend(
                gained
                    .iter()
                    .map(|day| days::take(&current.car_id, &current.id, *day)),
            );
            writes.extend(
                left.iter()
                    .map(|day| days::free(&current.car_id, &current.id, *day)),
            );
            let explain = Box::new(move |index: usize| match index {
                0 => Some(DomainError::Conflict {
                    detail: format!(
                        "The customer's driving licence is not valid through {end}; the dates stay \
                     as they were."
                    ),
                }),
                index => gained.get(index - 1).copied().map(day_taken),
            });
            Ok(Plan {
                changed,
                writes,
                explain,
            })
        },
    )
    .await
}
