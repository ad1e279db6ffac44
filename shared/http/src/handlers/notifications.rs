//! `/v1/notifications`: the caller's own in-app notifications over HTTP.
//!
//! Every call works in the caller's partition, so there is no ownership check to forget: another
//! user's notification id is not found (404), like an id that never existed.

use std::sync::Arc;

use itinera::identity::UserId;
use itinera::notifications::{self, NotificationFilter, NotificationId};
use itinera::pagination::PageLimit;

use crate::cursor::{CursorCodec, Pager};
use crate::fields::{CURSOR, Field, LIMIT, Shape, integer_text};
use crate::problem::ApiError;
use crate::reply::Reply;
use crate::request::Input;
use crate::services::Services;

/// The query parameters of the list.
pub(crate) const LIST_PARAMS: &[Field] = &[
    Field::optional("unread", Shape::Choice(&["true", "false"])),
    LIMIT,
    CURSOR,
];

fn notification_id(input: &Input) -> Result<NotificationId, ApiError> {
    NotificationId::parse(input.param("id")).ok_or_else(|| ApiError::NotFound {
        detail: "No notification exists with this id.".into(),
    })
}

/// `unread=true` lists only the unread notifications; `unread=false` (the default) all of them.
fn filter(text: String) -> Result<NotificationFilter, String> {
    match text.as_str() {
        "true" => Ok(NotificationFilter::Unread),
        "false" => Ok(NotificationFilter::All),
        _ => Err("must be true or false".into()),
    }
}

/// The list's cursors, bound to the owner and the filter, so a cursor cannot resume another
/// user's list or the other filter's.
fn pager<'c>(
    cursors: &'c CursorCodec,
    user_id: &UserId,
    filter: NotificationFilter,
) -> Result<Pager<'c>, ApiError> {
    cursors.pager("notifications", &(user_id, filter))
}

/// `GET /v1/notifications`: the caller's notifications, newest first.
pub(crate) async fn list(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    let user_id = input.caller()?.user_id.clone();
    let mut params = input.query_params(LIST_PARAMS)?;
    let filter = params.optional("unread", filter);
    let limit = params.optional("limit", |text| PageLimit::try_from(integer_text(text)?));
    let cursor = params.optional("cursor", Ok);
    let (filter, limit, cursor) = params.finish((filter, limit, cursor))?;
    let filter = filter.unwrap_or_default();
    let limit = limit.unwrap_or_default();
    let pager = pager(&services.cursors, &user_id, filter)?;
    let start_after = pager.start_after(cursor.as_deref())?;
    let page =
        notifications::list_notifications(&*services.store, &user_id, filter, limit, start_after)
            .await?;
    let next = pager.next(page.next);
    Reply::list(&page.notifications, limit.get(), next.as_deref())
}

/// `POST /v1/notifications/{id}/read`: marks one of the caller's notifications read and answers
/// it. Reading it again answers it unchanged, with the first `readAt`. Takes no body (an empty
/// JSON object is accepted).
pub(crate) async fn read(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    let user_id = input.caller()?.user_id.clone();
    let id = notification_id(&input)?;
    input.query_params(&[])?;
    input.no_body()?;
    let notification =
        notifications::mark_notification_read(&*services.store, &*services.clock, &user_id, &id)
            .await?;
    Reply::ok(&notification)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_reads_true_and_false_only() {
        assert_eq!(filter("true".into()), Ok(NotificationFilter::Unread));
        assert_eq!(filter("false".into()), Ok(NotificationFilter::All));
        for invalid in ["TRUE", "1", "yes", ""] {
            assert!(filter(invalid.into()).is_err(), "{invalid}");
        }
    }

    #[test]
    fn cursors_are_bound_to_the_owner_and_the_filter() {
        let codec = CursorCodec::new(b"0123456789abcdef0123456789abcdef");
        let user = |n| UserId::from(uuid::Uuid::from_u128(n));
        let list_scope =
            |user_id, filter| pager(&codec, &user_id, filter).unwrap().scope().to_owned();
        let all = list_scope(user(1), NotificationFilter::All);
        assert_ne!(all, list_scope(user(2), NotificationFilter::All));
        assert_ne!(all, list_scope(user(1), NotificationFilter::Unread));
    }
}
