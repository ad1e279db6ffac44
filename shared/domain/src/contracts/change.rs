//! The one way a contract changes after it is reserved (cancel, date change, pickup, return):
//! read it, decide the change from what was read, and write the contract, its audit entry and
//! whatever else the change moves (days, counters, the car) in one transaction, conditional on
//! the version read. A concurrent change makes the transaction fail on that condition; the next
//! round reads the contract again and decides again, so of concurrent changes exactly one is
//! applied to each version, and the others are refused for the state they then find (a second
//! cancel finds the contract cancelled).

use chrono::{DateTime, Utc};

use super::handover;
use super::model::{Contract, ContractId, ContractStatus};
use super::records;
use crate::calendar::Day;
use crate::cars::Car;
use crate::clock::{Clock, IdGenerator};
use crate::contention::{ATTEMPTS, Rounds};
use crate::entity::{self, EntityKind, Owned};
use crate::error::DomainError;
use crate::identity::RequestContext;
use crate::storage::{Store, StoreError, WriteOp};

/// The position of the contract's own write in the transaction; its audit entry follows, then
/// [`Plan::writes`].
const CONTRACT_OPERATION: usize = 0;
const FIRST_OTHER_OPERATION: usize = 2;

/// What a change writes, decided from the contract (and its car) as read.
pub(crate) struct Plan {
    /// The contract as it is after the change, one version on.
    pub changed: Contract,
    /// The other writes of the transaction, after the contract and its audit entry.
    pub writes: Vec<WriteOp>,
    /// The refusal when the condition of `writes[i]` fails, or `None` when the change should be
    /// decided again from a fresh read (what the condition guards moved meanwhile).
    pub explain: Box<dyn Fn(usize) -> Option<DomainError> + Send + Sync>,
}

/// What a change needs read besides the contract.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reads {
    Contract,
    ContractAndCar,
    /// The car, and the slots of the days after the end date up to today (a return).
    ContractCarAndOverrun,
}

/// What a round read, for the change to be decided from.
pub(crate) struct Found {
    pub contract: Contract,
    pub car: Option<Car>,
    /// The days after the end date up to today that a slot holds, with the holder's id.
    pub overrun_holders: Vec<(Day, String)>,
}

/// Applies the change `plan` decides to the contract `id`, for a caller who may see it (others
/// are told it does not exist), with bounded retries on collisions. Costs one to three reads
/// (the contract, its car, the overrun days) and one transaction per round.
pub(crate) async fn apply(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    context: &RequestContext,
    id: &ContractId,
    reads: Reads,
    plan: impl Fn(&Found, DateTime<Utc>) -> Result<Plan, DomainError>,
) -> Result<Contract, DomainError> {
    let caller = context.caller()?;
    let mut rounds = Rounds::default();
    for attempt in 0..ATTEMPTS {
        let current: Contract = entity::find(store, id).await?;
        if !current.visible_to(&caller.user_id, caller.is_staff()) {
            return Err(DomainError::NotFound {
                entity: EntityKind::Contract,
            });
        }
        let now = clock.now();
        let car: Option<Car> = match reads {
            Reads::Contract => None,
            Reads::ContractAndCar | Reads::ContractCarAndOverrun => {
                Some(entity::find(store, &current.car_id).await?)
            }
        };
        let overrun_holders = match reads {
            Reads::ContractCarAndOverrun => handover::overrun_holders(store, &current, now).await?,
            Reads::Contract | Reads::ContractAndCar => Vec::new(),
        };
        let found = Found {
            contract: current,
            car,
            overrun_holders,
        };
        let Plan {
            mut changed,
            writes,
            explain,
        } = plan(&found, now)?;
        let current = found.contract;
        changed.version = current.version + 1;
        changed.updated_at = now;
        let mut operations = vec![
            records::replace(&current, &changed)?,
            records::changed_entry(&current, &changed, context, ids, now)?,
        ];
        operations.extend(writes);
        match store.transact(operations).await {
            Ok(()) => return Ok(changed),
            Err(StoreError::TransactionConditionFailed {
                index: CONTRACT_OPERATION,
            }) => {}
            Err(StoreError::TransactionConditionFailed { index })
                if index >= FIRST_OTHER_OPERATION =>
            {
                if let Some(refusal) = explain(index - FIRST_OTHER_OPERATION) {
                    return Err(refusal);
                }
            }
            Err(error) => rounds.wait_after(attempt, error).await?,
        }
    }
    Err(rounds.exhausted("The contract is changing right now; retry the request."))
}

/// The explanation of a change whose other writes cannot fail for a reason the caller must
/// hear: a failure is decided again from a fresh read.
pub(crate) fn decide_again() -> Box<dyn Fn(usize) -> Option<DomainError> + Send + Sync> {
    Box::new(|_| None)
}

/// The 409 of a change that needs the contract in `status` when it is not: `action` says what
/// the change does ("cancelled", "picked up").
pub(crate) fn require(
    current: &Contract,
    status: ContractStatus,
    action: &str,
) -> Result<(), DomainError> {
    if current.status == status {
        return Ok(());
    }
    Err(DomainError::Conflict {
        detail: format!(
            "The contract is {}; only a {status} contract is {action}.",
            current.status
        ),
    })
}
