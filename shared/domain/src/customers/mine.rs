//! A signed-in user's own customer profile, found through the claim of their account.

use super::model::{Customer, CustomerChanges, CustomerId};
use crate::clock::{Clock, IdGenerator};
use crate::entity::{self, EntityKind};
use crate::error::DomainError;
use crate::identity::RequestContext;
use crate::storage::{Store, StoreError};
use crate::version::Precondition;

/// The id of the caller's own customer profile: the owner of the claim of their account. 404 for
/// a caller who has none (or is not signed in). Costs one read.
async fn my_customer_id(
    store: &dyn Store,
    context: &RequestContext,
) -> Result<CustomerId, DomainError> {
    let not_found = || DomainError::NotFound {
        entity: EntityKind::Customer,
    };
    let principal = context.principal.as_ref().ok_or_else(not_found)?;
    let holder =
        entity::holder(store, EntityKind::CustomerUser, principal.user_id.as_str()).await?;
    let holder = holder.ok_or_else(not_found)?;
    CustomerId::parse(&holder)
        .ok_or_else(|| StoreError::internal("a customer-user claim held by no customer id").into())
}

/// The caller's own customer profile. Costs two reads.
#[tracing::instrument(skip_all, fields(request_id = %context.request_id))]
pub async fn get_my_customer(
    store: &dyn Store,
    context: &RequestContext,
) -> Result<Customer, DomainError> {
    let id = my_customer_id(store, context).await?;
    entity::find(store, &id).await
}

/// Changes the caller's own customer profile (phone and licence only; the handler admits no
/// other field) under their `If-Match`. Costs one read more than [`entity::change`].
#[tracing::instrument(skip_all, fields(request_id = %context.request_id))]
pub async fn update_my_customer(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    context: &RequestContext,
    changes: &CustomerChanges,
    precondition: &Precondition,
) -> Result<Customer, DomainError> {
    let id = my_customer_id(store, context).await?;
    entity::change(store, clock, ids, context, &id, changes, precondition).await
}
