//! Creating a customer: by staff, for anyone, or by a signed-in user, for themselves.

use super::model::{Customer, MyNewCustomer, NewCustomer};
use crate::accounts;
use crate::clock::{Clock, IdGenerator};
use crate::entity;
use crate::error::DomainError;
use crate::identity::RequestContext;
use crate::storage::Store;

/// Creates the customer staff describe ([`entity::add`] over `NewCustomer`), after checking that
/// a linked user exists (users are disabled, never deleted, so the check cannot go stale). The
/// email and the linked account are claimed in the creating transaction: a taken one is a 409
/// naming it. Costs one read when linked, and one transaction of three or four writes.
#[tracing::instrument(skip_all, fields(request_id = %context.request_id))]
pub async fn create_customer(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    context: &RequestContext,
    new: NewCustomer,
) -> Result<Customer, DomainError> {
    if let Some(user) = &new.user_id {
        match accounts::get_user(store, user).await {
            Ok(_) => {}
            Err(DomainError::NotFound { .. }) => {
                return Err(DomainError::Invalid {
                    field: "userId",
                    message: "names no user".into(),
                });
            }
            Err(other) => return Err(other),
        }
    }
    entity::add(store, clock, ids, context, new).await
}

/// Creates the signed-in caller's own customer profile, linked to their account, with their
/// account's email (and name, unless they give one). One per user: a second is the user claim's
/// 409. Costs one read and one transaction of four writes.
#[tracing::instrument(skip_all, fields(request_id = %context.request_id))]
pub async fn create_my_customer(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    context: &RequestContext,
    mine: MyNewCustomer,
) -> Result<Customer, DomainError> {
    let principal = context.caller()?;
    let account = accounts::get_user(store, &principal.user_id).await?;
    let new = NewCustomer {
        name: mine.name.unwrap_or(account.name),
        email: account.email,
        phone: mine.phone,
        licence_number: mine.licence_number,
        licence_expiry: mine.licence_expiry,
        user_id: Some(account.id),
    };
    entity::add(store, clock, ids, context, new).await
}
