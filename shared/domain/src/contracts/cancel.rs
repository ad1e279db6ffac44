//! Cancelling a reserved contract: its days are freed and its counters given back once.

use super::change::{self, Plan, Reads};
use super::days;
use super::model::{Contract, ContractId, ContractStatus};
use super::records;
use crate::clock::{Clock, IdGenerator};
use crate::error::DomainError;
use crate::identity::RequestContext;
use crate::storage::Store;

/// Cancels the contract `id` for its owner or staff (anyone else gets a 404), while it is
/// `reserved` (else 409). One transaction: the contract as `cancelled` under the version read,
/// its audit entry, the car's `contractCount` and the customer's `openContracts` decremented,
/// and every day's slot deleted on condition that it holds this contract. Of concurrent
/// cancels one commits; the others read the contract again, find it cancelled, and are 409s, so
/// the days and the counters move exactly once. At most 4 + 90 operations.
#[tracing::instrument(skip_all, fields(contract_id = %id, request_id = %context.request_id))]
pub async fn cancel_contract(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    context: &RequestContext,
    id: &ContractId,
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
            change::require(current, ContractStatus::Reserved, "cancelled")?;
            let mut changed = current.clone();
            changed.status = ContractStatus::Cancelled;
            changed.cancelled_at = Some(now);
            let mut writes = vec![
                records::uncount_on_car(&current.car_id),
                records::close_on_customer(&current.customer_id),
            ];
            writes.extend(
                current
                    .period()
                    .days()
                    .map(|day| days::free(&current.car_id, &current.id, day)),
            );
            Ok(Plan {
                changed,
                writes,
                explain: change::decide_again(),
            })
        },
    )
    .await
}
