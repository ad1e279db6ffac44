//! Changing an airplane's model number or capacity under optimistic locking.

use serde_json::Value;

use super::model::{Airplane, AirplaneChanges, AirplaneId};
use super::records;
use crate::clock::{Clock, IdGenerator};
use crate::entity::{self, Revision};
use crate::error::DomainError;
use crate::identity::RequestContext;
use crate::storage::Store;
use crate::version::Precondition;

/// Sets only the changed attributes (the model number with its index key, the capacity) under
/// the version read, with the audit entry of the changed fields, as [`entity::update`] does for
/// every entity: a concurrent change, or a flight counted on the airplane meanwhile, is never
/// overwritten. Costs one read and one transaction of two writes.
#[tracing::instrument(
    skip(store, clock, ids, context, changes),
    fields(airplane_id = %id, request_id = %context.request_id)
)]
pub async fn update_airplane(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    context: &RequestContext,
    id: &AirplaneId,
    changes: &AirplaneChanges,
    precondition: &Precondition,
) -> Result<Airplane, DomainError> {
    let key = records::key(id);
    entity::update(
        store,
        clock,
        ids,
        context,
        &key,
        precondition,
        |current: &Airplane, _, _| {
            let mut changed = current.clone();
            let mut set = Vec::new();
            if let Some(model_number) = changes.model_number() {
                changed.model_number = model_number.clone();
                set.extend(records::model_number_attributes(model_number));
            }
            if let Some(capacity) = changes.capacity() {
                changed.capacity = capacity;
                set.push(("capacity".to_owned(), Value::from(capacity.get())));
            }
            Ok(Revision::new(changed, set))
        },
    )
    .await
}
