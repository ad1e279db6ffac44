//! Reading the audit log: one entity's history and one actor's activity, newest first, each a
//! single Query on a key (never a scan).

use chrono::{DateTime, SecondsFormat, Utc};

use super::{ACTOR_INDEX, AuditEntry, actor_partition, entity_partition};
use crate::entity::{self, EntityKind};
use crate::error::DomainError;
use crate::identity::Actor;
use crate::pagination::PageLimit;
use crate::storage::{Item, Order, Query, SortCondition, Store};

/// The span of time a history covers; both ends inclusive, to the millisecond, and either open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct TimeRange {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl TimeRange {
    /// Whether no instant lies in the range (`from` later than `to`).
    pub fn is_empty(&self) -> bool {
        matches!((self.from, self.to), (Some(from), Some(to)) if millis(from) > millis(to))
    }

    /// The range as a condition on entry sort keys (`<at>#<entry id>`).
    ///
    /// Sort keys extend the timestamp, so a bare timestamp sorts before every key of its
    /// millisecond: it is the lower bound as it is. For the upper bound, `~` sorts after every
    /// character of an entry id, so `<to>#~` sorts after every key of the last millisecond.
    fn sort_condition(&self) -> Option<SortCondition> {
        let lower = self.from.map(millis);
        let upper = self.to.map(|to| format!("{}#~", millis(to)));
        match (lower, upper) {
            (Some(lower), Some(upper)) => Some(SortCondition::Between(lower, upper)),
            (Some(lower), None) => Some(SortCondition::GreaterOrEqual(lower)),
            (None, Some(upper)) => Some(SortCondition::LessOrEqual(upper)),
            (None, None) => None,
        }
    }
}

/// Timestamps as entry sort keys start: RFC 3339, UTC, milliseconds.
fn millis(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// One page of entries, newest first, and the key the next page starts after.
#[derive(Debug)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub next: Option<Item>,
}

/// The changes to one entity, newest first: a Query of the entity's partition of the table.
#[tracing::instrument(skip(store, start_after))]
pub async fn list_entity_history(
    store: &dyn Store,
    entity_type: EntityKind,
    entity_id: &str,
    range: TimeRange,
    limit: PageLimit,
    start_after: Option<Item>,
) -> Result<AuditPage, DomainError> {
    let query = Query::partition(None, entity_partition(entity_type, entity_id));
    history(store, query, range, limit, start_after).await
}

/// The changes one actor made, newest first: a Query of the actor's partition of the actor index.
#[tracing::instrument(skip(store, start_after), fields(actor = %actor.key()))]
pub async fn list_actor_history(
    store: &dyn Store,
    actor: &Actor,
    range: TimeRange,
    limit: PageLimit,
    start_after: Option<Item>,
) -> Result<AuditPage, DomainError> {
    let query = Query::partition(Some(ACTOR_INDEX), actor_partition(&actor.key()));
    history(store, query, range, limit, start_after).await
}

async fn history(
    store: &dyn Store,
    mut query: Query,
    range: TimeRange,
    limit: PageLimit,
    start_after: Option<Item>,
) -> Result<AuditPage, DomainError> {
    // DynamoDB refuses a BETWEEN whose bounds are inverted; such a range holds nothing anyway.
    if range.is_empty() {
        return Ok(AuditPage {
            entries: Vec::new(),
            next: None,
        });
    }
    query.sort = range.sort_condition();
    query.order = Order::Descending;
    let page = entity::list::<AuditEntry>(store, query, limit, start_after).await?;
    Ok(AuditPage {
        entries: page.items,
        next: page.next,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    #[test]
    fn a_range_covers_whole_milliseconds_at_both_ends() {
        let range = TimeRange {
            from: Some(at("2026-11-21T10:00:00.0009Z")),
            to: Some(at("2026-11-21T12:00:00+02:00")),
        };
        let Some(SortCondition::Between(lower, upper)) = range.sort_condition() else {
            panic!("both ends give a between");
        };
        assert_eq!(lower, "2026-11-21T10:00:00.000Z");
        assert_eq!(upper, "2026-11-21T10:00:00.000Z#~");
        let first = "2026-11-21T10:00:00.000Z#00000000-0000-0000-0000-000000000000";
        let last = "2026-11-21T10:00:00.000Z#ffffffff-ffff-ffff-ffff-ffffffffffff";
        for key in [first, last] {
            assert!(lower.as_str() <= key && key <= upper.as_str(), "{key}");
        }
        assert!("2026-11-21T10:00:00.001Z#0" > upper.as_str());
        assert!("2026-11-21T09:59:59.999Z#f" < lower.as_str());
    }

    #[test]
    fn open_ends_become_one_sided_conditions() {
        let from = TimeRange {
            from: Some(at("2026-11-21T10:00:00Z")),
            to: None,
        };
        assert_eq!(
            from.sort_condition(),
            Some(SortCondition::GreaterOrEqual(
                "2026-11-21T10:00:00.000Z".into()
            ))
        );
        let to = TimeRange {
            from: None,
            to: Some(at("2026-11-21T10:00:00Z")),
        };
        assert_eq!(
            to.sort_condition(),
            Some(SortCondition::LessOrEqual(
                "2026-11-21T10:00:00.000Z#~".into()
            ))
        );
        assert_eq!(TimeRange::default().sort_condition(), None);
    }

    #[test]
    fn an_inverted_range_is_empty_and_one_millisecond_is_not() {
        let instant = at("2026-11-21T10:00:00.5Z");
        let single = TimeRange {
            from: Some(instant),
            to: Some(instant),
        };
        assert!(!single.is_empty());
        let inverted = TimeRange {
            from: Some(instant),
            to: Some(at("2026-11-21T10:00:00.499Z")),
        };
        assert!(inverted.is_empty());
        assert!(!TimeRange::default().is_empty());
    }
}
