//! Retiring an airplane from the fleet.

use super::get::{ENTITY, get_airplane};
use super::model::AirplaneId;
use super::records::{self, ACTIVE_FLIGHTS};
use super::update::stale_or_gone;
use crate::error::DomainError;
use crate::storage::{Comparison, Condition, Delete, Store, StoreError};
use crate::version::Precondition;

/// Deletes the airplane unless a flight still uses it. The "in use" rule is a condition on the
/// airplane's own `activeFlights` counter, which flight creation and cancellation keep in the same
/// transaction as the flight, so a delete racing a new flight can never leave an orphan.
#[tracing::instrument(skip(store), fields(airplane_id = %id))]
pub async fn delete_airplane(
    store: &dyn Store,
    id: &AirplaneId,
    precondition: &Precondition,
) -> Result<(), DomainError> {
    let current = get_airplane(store, id).await?;
    if !precondition.admits(current.version) {
        return Err(DomainError::PreconditionFailed { entity: ENTITY });
    }
    let mut conditions = vec![
        Condition::ItemExists,
        Condition::compare(ACTIVE_FLIGHTS, Comparison::Equal, 0),
    ];
    if precondition.is_explicit() {
        conditions.push(Condition::version_is(current.version));
    }
    let delete = Delete {
        key: records::key(id),
        condition: Some(Condition::And(conditions)),
    };
    match store.delete(delete).await {
        Ok(_) => Ok(()),
        Err(StoreError::ConditionFailed) => Err(why_delete_failed(store, id, precondition).await),
        Err(other) => Err(other.into()),
    }
}

/// Tells apart the reasons a guarded delete can fail: gone, in use, or changed since `If-Match`.
async fn why_delete_failed(
    store: &dyn Store,
    id: &AirplaneId,
    precondition: &Precondition,
) -> DomainError {
    let item = match store.get(&records::key(id)).await {
        Ok(Some(item)) => item,
        Ok(None) => return DomainError::NotFound { entity: ENTITY },
        Err(error) => return error.into(),
    };
    let flights = records::active_flights(&item);
    if flights > 0 {
        return DomainError::Conflict {
            detail: format!("The airplane is used by {flights} flight(s) that are not cancelled."),
        };
    }
    if precondition.is_explicit() {
        return stale_or_gone(store, id).await;
    }
    DomainError::Conflict {
        detail: "The airplane is being changed concurrently; retry the request.".into(),
    }
}
