//! The audit entry as readers see it: a typed view of a stored entry, without its keys.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::Action;
use crate::entity::EntityKind;

/// One recorded change, newest-first lists of which make up the audit log and activity feeds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub id: String,
    pub entity_type: EntityKind,
    pub entity_id: String,
    pub action: Action,
    /// `user:<id>` or `system`.
    pub actor: String,
    pub request_id: String,
    pub at: DateTime<Utc>,
    pub before: Map<String, Value>,
    pub after: Map<String, Value>,
}

// An entry reads back from its item with the item codec; the key and index attributes are left
// behind, and an item that does not decode is corrupt data, not a caller's mistake.
crate::entity::stored_entity!(AuditEntry, crate::entity::EntityKind::AuditEntry);
