//! Thin HTTP handlers: decode the input into a typed command, run one use case, shape the reply.
//!
//! The replies every versioned entity shares are written once here: a change under `If-Match`
//! answers the entity with its version as `ETag`, a delete answers 204.

use itinera::entity::{self, Changeable, EntityId, Removable, Versioned};

use crate::problem::ApiError;
use crate::reply::Reply;
use crate::request::Input;
use crate::services::Services;

pub(crate) mod accounts;
pub(crate) mod airplanes;
pub(crate) mod airports;
pub(crate) mod audit;
pub(crate) mod auth;
pub(crate) mod bookings;
pub(crate) mod flights;
pub(crate) mod health;
pub(crate) mod notifications;

/// `PATCH` of the entity `id` names: `changes` under the request's `If-Match`, answered with the
/// entity as changed and its version as `ETag`.
async fn change<I: EntityId>(
    services: &Services,
    input: &Input,
    id: &I,
    changes: &<I::Entity as Changeable>::Changes,
) -> Result<Reply, ApiError>
where
    I::Entity: Changeable,
{
    let changed = entity::change(
        &*services.store,
        &*services.clock,
        &*services.ids,
        &input.context,
        id,
        changes,
        &input.precondition(),
    )
    .await?;
    Ok(Reply::ok(&changed)?.with_version(changed.version()))
}

/// `DELETE` of the entity `id` names, under the request's `If-Match`: 204, or why not.
async fn remove<I: EntityId>(services: &Services, input: &Input, id: &I) -> Result<Reply, ApiError>
where
    I::Entity: Removable,
{
    input.query_params(&[])?;
    entity::remove(
        &*services.store,
        &*services.clock,
        &*services.ids,
        &input.context,
        id,
        &input.precondition(),
    )
    .await?;
    Ok(Reply::no_content())
}
