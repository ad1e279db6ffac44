//! The audit log: one entry per change, written in the same transaction as the change it records,
//! so no change commits without its entry and a failed change leaves none.
//!
//! Entries are keyed by entity (`AUDIT#<kind>#<id>`, the kind as [`EntityKind::as_str`] spells it,
//! sorted by time) and indexed by actor on
//! `gsi1` (`AUDIT_ACTOR#<actor>`, sorted by time): the admin's audit view and a user's own activity
//! feed are each one Query.
//!
//! - `history.rs`: the two queries, [`list_entity_history`] and [`list_actor_history`].
//! - `view.rs`: [`AuditEntry`], an entry as readers see it.

mod history;
mod view;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::entity::EntityKind;
use crate::identity::RequestContext;
use crate::storage::{Condition, Index, Item, Put, WriteOp};

pub use history::{AuditPage, TimeRange, list_actor_history, list_entity_history};
pub use view::AuditEntry;

/// The index listing an actor's entries.
pub const ACTOR_INDEX: Index = Index::Gsi1;

/// The partition of one entity's entries.
pub fn entity_partition(entity_type: EntityKind, entity_id: &str) -> String {
    format!("AUDIT#{entity_type}#{entity_id}")
}

/// The index partition of one actor's entries (`actor` as [`crate::identity::Actor::key`]).
pub fn actor_partition(actor: &str) -> String {
    format!("AUDIT_ACTOR#{actor}")
}

/// What happened to the entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Delete,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }
}

/// One change to record: the entity, the action, and the fields before and after.
///
/// `before` and `after` hold only the fields the change touched (all fields for a create or a
/// delete); callers leave out secrets such as password hashes and tokens.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub entity_type: EntityKind,
    pub entity_id: String,
    pub action: Action,
    pub before: Map<String, Value>,
    pub after: Map<String, Value>,
}

impl Change {
    /// The fields that differ between two JSON views of an entity, as `(before, after)`.
    pub fn diff(
        before: &Map<String, Value>,
        after: &Map<String, Value>,
    ) -> (Map<String, Value>, Map<String, Value>) {
        let mut changed_before = Map::new();
        let mut changed_after = Map::new();
        let names = before
            .keys()
            .chain(after.keys().filter(|name| !before.contains_key(*name)));
        for name in names {
            let (old, new) = (before.get(name), after.get(name));
            if old != new {
                changed_before.insert(name.clone(), old.cloned().unwrap_or(Value::Null));
                changed_after.insert(name.clone(), new.cloned().unwrap_or(Value::Null));
            }
        }
        (changed_before, changed_after)
    }
}

/// The transaction operation that writes the entry for `change`, made by the caller in `context`
/// at `at`. `entry_id` makes the sort key unique among entries of the same millisecond.
pub fn entry(
    change: &Change,
    context: &RequestContext,
    at: DateTime<Utc>,
    entry_id: uuid::Uuid,
) -> WriteOp {
    let time = at.to_rfc3339_opts(SecondsFormat::Millis, true);
    let sort_key = format!("{time}#{entry_id}");
    let actor = context.actor().key();
    let mut item = Item::new();
    let mut set = |name: &str, value: Value| {
        item.insert(name.to_owned(), value);
    };
    set(
        "pk",
        Value::from(entity_partition(change.entity_type, &change.entity_id)),
    );
    set("sk", Value::from(sort_key.clone()));
    set(
        ACTOR_INDEX.partition_key(),
        Value::from(actor_partition(&actor)),
    );
    set(ACTOR_INDEX.sort_key(), Value::from(sort_key));
    set("entity", Value::from(EntityKind::AuditEntry));
    set("id", Value::from(entry_id.to_string()));
    set("entityType", Value::from(change.entity_type));
    set("entityId", Value::from(change.entity_id.clone()));
    set("action", Value::from(change.action.as_str()));
    set("actor", Value::from(actor));
    set("requestId", Value::from(context.request_id.clone()));
    set("at", Value::from(time));
    set("before", Value::Object(change.before.clone()));
    set("after", Value::Object(change.after.clone()));
    WriteOp::Put(Put {
        item,
        condition: Some(Condition::ItemNotExists),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::identity::{Principal, Role, UserId};

    fn as_map(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn a_diff_keeps_only_changed_fields() {
        let before = as_map(json!({"capacity": 180, "modelNumber": "A320", "gone": 1}));
        let after = as_map(json!({"capacity": 186, "modelNumber": "A320", "new": 2}));
        let (old, new) = Change::diff(&before, &after);
        assert_eq!(
            Value::Object(old),
            json!({"capacity": 180, "gone": 1, "new": null})
        );
        assert_eq!(
            Value::Object(new),
            json!({"capacity": 186, "gone": null, "new": 2})
        );
    }

    #[test]
    fn an_entry_is_keyed_by_entity_and_indexed_by_actor() {
        let user = UserId::parse("0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f").unwrap();
        let context = RequestContext {
            request_id: "req-9".into(),
            principal: Some(Principal {
                user_id: user,
                role: Role::Staff,
            }),
        };
        let change = Change {
            entity_type: EntityKind::Airplane,
            entity_id: "a1".into(),
            action: Action::Update,
            before: as_map(json!({"capacity": 1})),
            after: as_map(json!({"capacity": 2})),
        };
        let at = DateTime::parse_from_rfc3339("2026-11-21T10:00:00Z")
            .unwrap()
            .to_utc();
        let WriteOp::Put(put) = entry(&change, &context, at, uuid::Uuid::nil()) else {
            panic!("an entry is a put");
        };
        assert_eq!(put.item["pk"], "AUDIT#airplane#a1");
        assert_eq!(
            put.item["sk"],
            "2026-11-21T10:00:00.000Z#00000000-0000-0000-0000-000000000000"
        );
        assert_eq!(
            put.item["gsi1pk"],
            "AUDIT_ACTOR#user:0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f"
        );
        assert_eq!(put.item["requestId"], "req-9");
        assert_eq!(put.item["after"], json!({"capacity": 2}));
        assert_eq!(put.condition, Some(Condition::ItemNotExists));
    }
}
