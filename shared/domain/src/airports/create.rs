//! Adding an airport.

use super::model::{Airport, NewAirport};
use super::records;
use crate::clock::{Clock, IdGenerator};
use crate::entity;
use crate::error::DomainError;
use crate::identity::RequestContext;
use crate::storage::{Store, StoreError};

/// The position of the airport's put in the transaction; the audit entry follows it.
const PUT_OPERATION: usize = 0;

/// Stores a new airport at version 1 together with its audit entry, in one transaction. The code
/// is the airport's id, so the put is conditional on no airport having it: a duplicate is a 409,
/// even when two requests for the same code race.
#[tracing::instrument(skip_all, fields(airport_code = %new.code, request_id = %context.request_id))]
pub async fn create_airport(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    context: &RequestContext,
    new: NewAirport,
) -> Result<Airport, DomainError> {
    let now = clock.now();
    let airport = Airport {
        code: new.code,
        name: new.name,
        city: new.city,
        country: new.country,
        time_zone: new.time_zone,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let item = records::new_item(&airport)?;
    match entity::create(store, ids, context, now, &airport, item).await {
        Ok(()) => Ok(airport),
        Err(StoreError::TransactionConditionFailed {
            index: PUT_OPERATION,
        }) => Err(DomainError::Conflict {
            detail: format!("An airport with the code {} exists already.", airport.code),
        }),
        Err(other) => Err(other.into()),
    }
}
