//! Thin HTTP handlers: decode the input into a typed command, run one use case, shape the reply.
//!
//! The handlers every versioned entity shares are written once here, over the entity traits: a
//! read by id ([`fetch`]) and a delete ([`remove`]) are whole handlers a route names with the
//! entity's id type (`handlers::fetch::<AirplaneId>`); a create ([`add`]) and a change under
//! `If-Match` ([`change`]) take the command the entity's own handler parsed. Each answers the
//! entity with its version as `ETag` (a create with its `Location` too), a delete answers 204.

use std::sync::Arc;

use serde::de::DeserializeOwned;

use itinera::entity::{self, Changeable, EntityId, NewEntity, Removable, Versioned};

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
pub(crate) mod cars;
pub(crate) mod catalogue;
pub(crate) mod contracts;
pub(crate) mod customers;
pub(crate) mod files;
pub(crate) mod fleet;
pub(crate) mod flights;
pub(crate) mod health;
pub(crate) mod notifications;
pub(crate) mod reports;

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

/// `POST` to `collection` creating the entity `new` describes: 201 with the entity, its
/// `Location` (`collection/{id}`) and its version as `ETag`.
async fn add<N: NewEntity>(
    services: &Services,
    input: &Input,
    collection: &str,
    new: N,
) -> Result<Reply, ApiError> {
    let (store, clock, ids) = services.ports();
    let new = entity::add(store, clock, ids, &input.context, new).await?;
    created(&new, collection)
}

/// 201 for `entity`, new in `collection`: its `Location` (`collection/{id}`) and its version as
/// `ETag`.
fn created<E: Versioned>(entity: &E, collection: &str) -> Result<Reply, ApiError> {
    let location = format!("{collection}/{}", entity.audit_id());
    Ok(Reply::created(entity, location)?.with_version(entity.version()))
}

/// `GET` of the entity the path names: the entity, with its version as `ETag`.
pub(crate) async fn fetch<I: EntityId + DeserializeOwned>(
    services: Arc<Services>,
    input: Input,
) -> Result<Reply, ApiError> {
    input.query_params(&[])?;
    let id = input.entity_id::<I>()?;
    let found = entity::find(&*services.store, &id).await?;
    Ok(Reply::ok(&found)?.with_version(found.version()))
}

/// `DELETE` of the entity the path names, under the request's `If-Match`: 204, or why not. A
/// body is refused, as an action's that carries nothing is: a client sending one means something
/// this route does not do, and deleting anyway would act on a request it did not understand.
pub(crate) async fn remove<I: EntityId + DeserializeOwned>(
    services: Arc<Services>,
    input: Input,
) -> Result<Reply, ApiError>
where
    I::Entity: Removable,
{
    let id = input.entity_id::<I>()?;
    input.query_params(&[])?;
    input.no_body()?;
    entity::remove(
        &*services.store,
        &*services.clock,
        &*services.ids,
        &input.context,
        &id,
        &input.precondition(),
    )
    .await?;
    Ok(Reply::no_content())
}
