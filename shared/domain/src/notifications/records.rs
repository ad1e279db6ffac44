//! How notifications are stored: keys, the unread index and the item layout (see
//! docs/data-model.md).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::model::{Notification, NotificationId, NotificationKind};
use crate::entity::EntityKind;
use crate::identity::UserId;
use crate::storage::{
    self, Comparison, Condition, Index, Item, ItemKeys, Key, StoreError, Update, to_item,
};

/// The entity type stored items name notifications by.
pub(crate) const ENTITY: EntityKind = EntityKind::Notification;
/// The index whose partitions hold each user's unread notifications.
pub(crate) const UNREAD_INDEX: Index = Index::Gsi1;
/// The attribute saying whether the user has read the notification.
const READ: &str = "read";

/// The partition of one user's notifications, sorted by id (that is, by creation).
pub(crate) fn partition(user_id: &UserId) -> String {
    format!("NOTIFICATIONS#{user_id}")
}

/// The index partition of one user's unread notifications.
pub(crate) fn unread_partition(user_id: &UserId) -> String {
    format!("NOTIFICATIONS_UNREAD#{user_id}")
}

pub(crate) fn key(user_id: &UserId, id: &NotificationId) -> Key {
    Key::new(partition(user_id), id.as_str())
}

/// The stored form of a notification. The index keys are present exactly while it is unread.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NotificationRecord {
    #[serde(flatten)]
    keys: ItemKeys,
    entity: EntityKind,
    id: NotificationId,
    user_id: UserId,
    kind: NotificationKind,
    title: String,
    body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    booking_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    contract_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    issue_id: Option<String>,
    read: bool,
    created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    read_at: Option<DateTime<Utc>>,
}

/// The item of a new notification, in the unread index unless it is already read.
pub(crate) fn new_item(notification: &Notification) -> Result<Item, StoreError> {
    let mut keys = ItemKeys::new(key(&notification.user_id, &notification.id));
    if !notification.read {
        let unread = unread_partition(&notification.user_id);
        keys = keys.indexed(UNREAD_INDEX, unread, notification.id.as_str());
    }
    let record = NotificationRecord {
        keys,
        entity: ENTITY,
        id: notification.id.clone(),
        user_id: notification.user_id.clone(),
        kind: notification.kind,
        title: notification.title.clone(),
        body: notification.body.clone(),
        booking_id: notification.booking_id.clone(),
        contract_id: notification.contract_id.clone(),
        issue_id: notification.issue_id.clone(),
        read: notification.read,
        created_at: notification.created_at,
        read_at: notification.read_at,
    };
    to_item(&record)
}

/// Marks the notification read at `now` and takes it out of the unread index, only if it exists
/// and is unread: reading it again must keep the first `readAt`.
pub(crate) fn mark_read(key: Key, now: DateTime<Utc>) -> Update {
    let mut update = Update::new(key);
    update.set = vec![
        (READ.to_owned(), Value::Bool(true)),
        (
            "readAt".to_owned(),
            Value::from(now.to_rfc3339_opts(SecondsFormat::Millis, true)),
        ),
    ];
    update.remove = vec![
        UNREAD_INDEX.partition_key().to_owned(),
        UNREAD_INDEX.sort_key().to_owned(),
    ];
    update.condition = Some(Condition::And(vec![
        Condition::ItemExists,
        Condition::compare(READ, Comparison::Equal, false),
    ]));
    update
}

crate::entity::stored_entity!(Notification, ENTITY, from_item);

/// Reads a notification back; an item that does not decode is corrupt data.
pub(crate) fn from_item(item: Item) -> Result<Notification, StoreError> {
    let record: NotificationRecord = storage::from_item(item)?;
    Ok(Notification {
        id: record.id,
        user_id: record.user_id,
        kind: record.kind,
        title: record.title,
        body: record.body,
        booking_id: record.booking_id,
        contract_id: record.contract_id,
        issue_id: record.issue_id,
        read: record.read,
        created_at: record.created_at,
        read_at: record.read_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notification() -> Notification {
        Notification {
            id: NotificationId::parse("0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f").unwrap(),
            user_id: UserId::parse("0190f5d2-7c20-7d4e-8b2f-4a3c9d5e6f71").unwrap(),
            kind: NotificationKind::BookingConfirmed,
            title: "Booking confirmed".into(),
            body: "Your booking is confirmed.".into(),
            booking_id: Some("0190f5d2-0000-7000-8000-000000000001".into()),
            contract_id: None,
            issue_id: None,
            read: false,
            created_at: DateTime::parse_from_rfc3339("2026-11-21T08:00:00.123Z")
                .unwrap()
                .to_utc(),
            read_at: None,
        }
    }

    #[test]
    fn a_notification_survives_the_round_trip_through_its_item() {
        let original = notification();
        assert_eq!(from_item(new_item(&original).unwrap()).unwrap(), original);
    }

    #[test]
    fn an_unread_notification_is_keyed_by_owner_and_id_and_in_the_unread_index() {
        let item = new_item(&notification()).unwrap();
        assert_eq!(
            Key::of(&item).unwrap(),
            Key::new(
                "NOTIFICATIONS#0190f5d2-7c20-7d4e-8b2f-4a3c9d5e6f71",
                "0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f"
            )
        );
        assert_eq!(
            item["gsi1pk"],
            "NOTIFICATIONS_UNREAD#0190f5d2-7c20-7d4e-8b2f-4a3c9d5e6f71"
        );
        assert_eq!(item["gsi1sk"], "0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f");
        assert_eq!(item["kind"], "booking-confirmed");
        assert!(!item.contains_key("readAt"));
    }

    #[test]
    fn marking_read_sets_the_flag_and_leaves_the_unread_index_only_if_unread() {
        let at = DateTime::parse_from_rfc3339("2026-11-22T09:00:00Z")
            .unwrap()
            .to_utc();
        let update = mark_read(key(&notification().user_id, &notification().id), at);
        assert_eq!(update.remove, ["gsi1pk", "gsi1sk"]);
        assert!(
            update
                .set
                .contains(&("readAt".into(), "2026-11-22T09:00:00.000Z".into()))
        );
        assert_eq!(
            update.condition,
            Some(Condition::And(vec![
                Condition::ItemExists,
                Condition::compare("read", Comparison::Equal, false),
            ]))
        );
    }

    #[test]
    fn a_corrupt_item_is_an_internal_error() {
        let mut item = new_item(&notification()).unwrap();
        item.insert("userId".into(), Value::from("someone"));
        assert!(matches!(from_item(item), Err(StoreError::Internal(_))));
    }
}
