//! `/v1/audit` and `/v1/users/me/activity`: the audit log for admins, and each user's own
//! activity feed.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use itinera::audit::{self, AuditPage, TimeRange};
use itinera::entity::EntityKind;
use itinera::identity::{Actor, UserId};
use itinera::pagination::PageLimit;
use serde::Serialize;

use crate::cursor::{CursorCodec, Pager};
use crate::fields::{CURSOR, Field, LIMIT, QueryParams, Shape, integer_text};
use crate::problem::ApiError;
use crate::reply::Reply;
use crate::request::Input;
use crate::services::Services;

/// The query parameters of the admin's audit log.
pub(crate) const LIST_PARAMS: &[Field] = &[
    Field::optional(
        "entityType",
        Shape::Choice(&[
            "airplane",
            "airport",
            "flight",
            "booking",
            "user",
            "session",
            "notification",
            "car",
            "customer",
            "contract",
            "insurance",
            "registration",
            "service-record",
            "issue-report",
        ]),
    ),
    Field::optional(
        "entityId",
        Shape::Bounded {
            pattern: "^[^\\x00-\\x1F\\x7F-\\x9F]+$",
            max_chars: MAX_ENTITY_ID_CHARS,
        },
    ),
    Field::optional("actor", ACTOR),
    FROM,
    TO,
    LIMIT,
    CURSOR,
];
/// The query parameters of a user's activity feed.
pub(crate) const ACTIVITY_PARAMS: &[Field] = &[FROM, TO, LIMIT, CURSOR];

/// A user id, or `system`.
const ACTOR: Shape = Shape::Pattern(
    "^(system|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$",
);
const FROM: Field = Field::optional("from", Shape::DateTime);
const TO: Field = Field::optional("to", Shape::DateTime);

/// The longest entity id accepted; ids of every entity type are far shorter.
const MAX_ENTITY_ID_CHARS: usize = 128;

/// Whose entries the admin asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
enum Selector {
    Entity {
        entity_type: EntityKind,
        entity_id: String,
    },
    Actor(Actor),
}

/// The paging and time parameters both lists share.
#[derive(Debug)]
struct Paging {
    range: TimeRange,
    limit: PageLimit,
    cursor: Option<String>,
}

/// The cursors of `list`, bound to whose entries it shows (`selector`) and the time range, so a
/// cursor cannot resume another query (DynamoDB also refuses a start key outside the key
/// condition).
fn pager<'c>(
    cursors: &'c CursorCodec,
    list: &str,
    selector: &impl Serialize,
    range: &TimeRange,
) -> Result<Pager<'c>, ApiError> {
    cursors.pager(list, &(selector, range))
}

/// `GET /v1/audit`: one entity's history (`entityType` with `entityId`) or one actor's activity
/// (`actor`: a user id, or `system`), newest first.
pub(crate) async fn list(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    let (selector, paging) = list_query(input.query_params(LIST_PARAMS)?)?;
    let pager = pager(&services.cursors, "audit", &selector, &paging.range)?;
    let start_after = pager.start_after(paging.cursor.as_deref())?;
    let page = match &selector {
        Selector::Entity {
            entity_type,
            entity_id,
        } => {
            audit::list_entity_history(
                &*services.store,
                *entity_type,
                entity_id,
                paging.range,
                paging.limit,
                start_after,
            )
            .await?
        }
        Selector::Actor(actor) => {
            audit::list_actor_history(
                &*services.store,
                actor,
                paging.range,
                paging.limit,
                start_after,
            )
            .await?
        }
    };
    reply(&pager, paging.limit, page)
}

/// `GET /v1/users/me/activity`: the caller's own entries, newest first.
pub(crate) async fn my_activity(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    let principal = input
        .context
        .principal
        .as_ref()
        .ok_or_else(|| ApiError::Unauthorized {
            detail: "Your activity needs an access token: send `Authorization: Bearer <token>`."
                .into(),
        })?;
    let actor = Actor::User(principal.user_id.clone());
    let mut params = input.query_params(ACTIVITY_PARAMS)?;
    let paging = paging(&mut params);
    let paging = params.finish((paging,))?.0;
    let pager = pager(&services.cursors, "activity", &actor, &paging.range)?;
    let start_after = pager.start_after(paging.cursor.as_deref())?;
    let page = audit::list_actor_history(
        &*services.store,
        &actor,
        paging.range,
        paging.limit,
        start_after,
    )
    .await?;
    reply(&pager, paging.limit, page)
}

fn reply(pager: &Pager, limit: PageLimit, page: AuditPage) -> Result<Reply, ApiError> {
    Reply::list(&page.entries, limit.get(), pager.next(page.next).as_deref())
}

/// The admin list's parameters: exactly one selector, plus paging.
fn list_query(mut params: QueryParams) -> Result<(Selector, Paging), ApiError> {
    let entity_type = params.optional("entityType", entity_type);
    let entity_id = params.optional("entityId", entity_id);
    let actor = params.optional("actor", actor);
    let selector = match (entity_type, entity_id, actor) {
        (Some(entity_type), Some(entity_id), Some(actor)) => {
            select(&mut params, entity_type, entity_id, actor)
        }
        // A selector that did not parse is already reported.
        _ => None,
    };
    let paging = paging(&mut params);
    params.finish((selector, paging))
}

/// Exactly one of the two selectors, or the errors that name the parameters to fix.
fn select(
    params: &mut QueryParams,
    entity_type: Option<EntityKind>,
    entity_id: Option<String>,
    actor: Option<Actor>,
) -> Option<Selector> {
    const ONE_OF: &str = "give either `actor`, or `entityType` with `entityId`, but not both";
    match (entity_type, entity_id, actor) {
        (Some(entity_type), Some(entity_id), None) => Some(Selector::Entity {
            entity_type,
            entity_id,
        }),
        (None, None, Some(actor)) => Some(Selector::Actor(actor)),
        (Some(_), None, None) => {
            params.reject("entityId", "is required with entityType");
            None
        }
        (None, Some(_), None) => {
            params.reject("entityType", "is required with entityId");
            None
        }
        (entity_type, entity_id, actor) => {
            let given = [
                ("entityType", entity_type.is_some()),
                ("entityId", entity_id.is_some()),
                ("actor", actor.is_some()),
            ];
            // Both selectors: name what was given. Neither: name every selector parameter.
            let any_given = given.iter().any(|(_, given)| *given);
            let named: Vec<&str> = given
                .iter()
                .filter(|(_, given)| *given || !any_given)
                .map(|(name, _)| *name)
                .collect();
            for name in named {
                params.reject(name, ONE_OF);
            }
            None
        }
    }
}

/// `from`, `to`, `limit` and `cursor`, with the range checked.
fn paging(params: &mut QueryParams) -> Option<Paging> {
    let from = params.optional("from", timestamp);
    let to = params.optional("to", timestamp);
    let limit = params.optional("limit", |text| PageLimit::try_from(integer_text(text)?));
    let cursor = params.optional("cursor", Ok);
    let (from, to, limit, cursor) = (from?, to?, limit?, cursor?);
    let range = TimeRange { from, to };
    if range.is_empty() {
        params.reject("from", "must not be later than to");
        return None;
    }
    Some(Paging {
        range,
        limit: limit.unwrap_or_default(),
        cursor,
    })
}

fn timestamp(text: String) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(&text)
        .map(|at| at.to_utc())
        .map_err(|_| {
            "must be an RFC 3339 timestamp such as 2026-11-21T10:00:00Z (encode `+` as %2B)".into()
        })
}

/// One of the public entity kinds, in any case; anything else is refused naming the accepted ones.
fn entity_type(text: String) -> Result<EntityKind, String> {
    EntityKind::parse_public(&text).map_err(|unknown| unknown.to_string())
}

fn entity_id(text: String) -> Result<String, String> {
    let valid = !text.is_empty()
        && text.chars().count() <= MAX_ENTITY_ID_CHARS
        && !text.chars().any(char::is_control);
    if valid {
        Ok(text)
    } else {
        Err(format!(
            "must be 1-{MAX_ENTITY_ID_CHARS} printable characters"
        ))
    }
}

/// A user id names that user's entries; `system` names the entries of jobs and workers.
fn actor(text: String) -> Result<Actor, String> {
    if text == "system" {
        return Ok(Actor::System);
    }
    UserId::parse(&text)
        .map(Actor::User)
        .ok_or_else(|| "must be a user id or `system`".into())
}

#[cfg(test)]
mod tests {
    use async_trait::async_trait;

    use super::*;
    use crate::cursor::CursorCodec;
    use crate::problem::FieldError;
    use crate::request::PathParams;
    use itinera::identity::RequestContext;
    use itinera::storage::{Delete, Key, Page, Put, Query, Store, StoreError, Update, WriteOp};

    fn parse(query: &str) -> Result<(Selector, Paging), ApiError> {
        list_query(QueryParams::from_query(Some(query), LIST_PARAMS)?)
    }

    fn fields_of(error: ApiError) -> Vec<String> {
        match error {
            ApiError::Validation { errors, .. } => errors
                .into_iter()
                .map(|FieldError { field, .. }| field)
                .collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn an_entity_or_an_actor_selects_the_history() {
        let (selector, paging) = parse("entityType=airplane&entityId=a1&limit=5").unwrap();
        assert_eq!(
            selector,
            Selector::Entity {
                entity_type: EntityKind::Airplane,
                entity_id: "a1".into()
            }
        );
        assert_eq!(paging.limit.get(), 5);
        let user = "0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f";
        let (selector, paging) = parse(&format!("actor={user}")).unwrap();
        assert_eq!(
            selector,
            Selector::Actor(Actor::User(UserId::parse(user).unwrap()))
        );
        assert_eq!(paging.limit, PageLimit::DEFAULT);
        assert_eq!(
            parse("actor=system").unwrap().0,
            Selector::Actor(Actor::System)
        );
    }

    #[test]
    fn entity_types_are_read_in_any_case_and_an_unknown_one_lists_the_accepted_ones() {
        let codec = CursorCodec::new(b"0123456789abcdef0123456789abcdef");
        let scope = |selector: &Selector| {
            let pager = pager(&codec, "audit", selector, &TimeRange::default()).unwrap();
            pager.scope().to_owned()
        };
        let airplane = Selector::Entity {
            entity_type: EntityKind::Airplane,
            entity_id: "a1".into(),
        };
        for spelling in ["airplane", "Airplane", "AIRPLANE"] {
            let (selector, _) = parse(&format!("entityType={spelling}&entityId=a1")).unwrap();
            assert_eq!(
                scope(&selector),
                scope(&airplane),
                "one spelling, one cursor scope"
            );
        }
        let Err(ApiError::Validation { errors, .. }) = parse("entityType=spaceship&entityId=a1")
        else {
            panic!("an unknown entity type is a validation error");
        };
        assert_eq!(errors[0].field, "entityType");
        assert!(
            errors[0].message.ends_with(
                "accepted: airplane, airport, flight, booking, user, session, notification, car, \
                 customer, contract, insurance, registration, service-record, issue-report"
            ),
            "{}",
            errors[0].message
        );
    }

    #[test]
    fn neither_selector_is_400_naming_every_selector_parameter() {
        let error = parse("limit=5").unwrap_err();
        assert_eq!(fields_of(error), ["entityType", "entityId", "actor"]);
    }

    #[test]
    fn both_selectors_are_400_naming_what_was_given() {
        let error = parse("entityType=Airplane&entityId=a1&actor=system").unwrap_err();
        assert_eq!(fields_of(error), ["entityType", "entityId", "actor"]);
        let error = parse("entityType=Airplane&actor=system").unwrap_err();
        assert_eq!(fields_of(error), ["entityType", "actor"]);
    }

    #[test]
    fn half_an_entity_selector_is_400_naming_the_missing_half() {
        assert_eq!(
            fields_of(parse("entityType=Airplane").unwrap_err()),
            ["entityId"]
        );
        assert_eq!(fields_of(parse("entityId=a1").unwrap_err()), ["entityType"]);
    }

    #[test]
    fn invalid_values_are_all_reported_at_once() {
        let error = parse("actor=root&from=yesterday&to=2026-13-01T00:00:00Z&limit=0").unwrap_err();
        assert_eq!(fields_of(error), ["actor", "from", "to", "limit"]);
        let error = parse("entityType=Air%23plane&entityId=a1").unwrap_err();
        assert_eq!(fields_of(error), ["entityType"]);
        assert!(parse("actor=system&scan=1").is_err());
    }

    #[test]
    fn an_inverted_time_range_is_400_and_a_valid_one_is_kept() {
        let error =
            parse("actor=system&from=2026-11-21T10:00:00Z&to=2026-11-21T09:00:00Z").unwrap_err();
        assert_eq!(fields_of(error), ["from"]);
        let (_, paging) =
            parse("actor=system&from=2026-11-21T10:00:00Z&to=2026-11-21T11:00:00%2B01:00").unwrap();
        assert_eq!(paging.range.from, paging.range.to);
        assert!(paging.range.from.is_some());
    }

    #[test]
    fn cursors_are_bound_to_the_selector_and_the_range() {
        let codec = CursorCodec::new(b"0123456789abcdef0123456789abcdef");
        let scope = |query: &str| {
            let (selector, paging) = parse(query).unwrap();
            let pager = pager(&codec, "audit", &selector, &paging.range).unwrap();
            pager.scope().to_owned()
        };
        let base = scope("actor=system");
        assert_ne!(base, scope("actor=0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f"));
        assert_ne!(base, scope("actor=system&from=2026-11-21T10:00:00Z"));
        assert_ne!(
            scope("entityType=Airplane&entityId=a1"),
            scope("entityType=Airplane&entityId=a2")
        );
        assert_eq!(base, scope("actor=system&limit=3"));
    }

    /// A store no test here should reach: the requests fail before any read.
    struct NoStore;

    #[async_trait]
    impl Store for NoStore {
        async fn get(&self, _: &Key) -> Result<Option<itinera::storage::Item>, StoreError> {
            unreachable!("the request fails before reading")
        }
        async fn put(&self, _: Put) -> Result<(), StoreError> {
            unreachable!("the request fails before writing")
        }
        async fn update(&self, _: Update) -> Result<itinera::storage::Item, StoreError> {
            unreachable!("the request fails before writing")
        }
        async fn delete(&self, _: Delete) -> Result<Option<itinera::storage::Item>, StoreError> {
            unreachable!("the request fails before writing")
        }
        async fn transact(&self, _: Vec<WriteOp>) -> Result<(), StoreError> {
            unreachable!("the request fails before writing")
        }
        async fn query(&self, _: Query) -> Result<Page, StoreError> {
            unreachable!("the request fails before reading")
        }
        async fn check_health(&self) -> Result<(), StoreError> {
            unreachable!("the request fails before reading")
        }
    }

    fn input(query: &str) -> Input {
        Input {
            context: RequestContext {
                request_id: "req".into(),
                principal: None,
            },
            params: PathParams::default(),
            query: Some(query.into()),
            headers: http::HeaderMap::new(),
            body: bytes::Bytes::new(),
            resolved_login: None,
            shared: false,
        }
    }

    fn services() -> Arc<Services> {
        Arc::new(Services::new(
            Arc::new(NoStore),
            CursorCodec::new(b"test-signing-key-of-at-least-32-bytes"),
        ))
    }

    #[tokio::test]
    async fn the_list_refuses_a_query_without_a_selector_before_reading() {
        let error = list(services(), input("limit=5")).await.unwrap_err();
        assert_eq!(error.status(), http::StatusCode::BAD_REQUEST);
    }

    #[tokio::test]
    async fn activity_without_a_principal_is_401() {
        let error = my_activity(services(), input("")).await.unwrap_err();
        assert!(matches!(error, ApiError::Unauthorized { .. }), "{error:?}");
    }
}
