//! How users are stored: the user item, the items that keep emails and usernames unique, index
//! keys, and the audit view that leaves secrets out (see docs/data-model.md).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::model::{Email, PersonName, Phone, User, Username};
use crate::entity::EntityKind;
use crate::identity::{Role, UserId};
use crate::storage::{
    self, Comparison, Condition, Index, Item, ItemKeys, Key, Put, StoreError, WriteOp, to_item,
};

/// The entity type user items and audit entries name users by.
pub(crate) const ENTITY: EntityKind = EntityKind::User;
/// The index listing the users of one role, newest first.
pub(crate) const ROLE_INDEX: Index = Index::Gsi1;
/// The index listing every user, newest first.
pub(crate) const LIST_INDEX: Index = Index::Gsi2;
/// The partition of [`LIST_INDEX`] holding every user.
pub(crate) const ALL_USERS: &str = "USERS";
/// The attribute holding the PHC string; never leaves this module except for verification.
pub(crate) const PASSWORD_HASH: &str = "passwordHash";

pub(crate) fn key(id: &UserId) -> Key {
    Key::new(format!("USER#{id}"), "USER")
}

/// The item that reserves an email address for one user.
pub(crate) fn email_key(email: &Email) -> Key {
    Key::new(format!("USER_EMAIL#{email}"), "USER_EMAIL")
}

/// The item that reserves a username for one user.
pub(crate) fn username_key(username: &Username) -> Key {
    Key::new(format!("USERNAME#{username}"), "USERNAME")
}

/// The partition of [`ROLE_INDEX`] holding the users of `role`.
pub(crate) fn role_partition(role: Role) -> String {
    format!("USERS#ROLE#{role}")
}

/// Index sort key: creation time, then id, so lists come out in creation order.
fn list_sort_key(created_at: &DateTime<Utc>, id: &UserId) -> String {
    format!(
        "{}#{id}",
        created_at.to_rfc3339_opts(SecondsFormat::Millis, true)
    )
}

/// A user with the password hash only the storage layer and the login path see.
#[derive(Clone)]
pub(crate) struct StoredUser {
    pub(crate) user: User,
    pub(crate) password_hash: String,
}

/// The hash stays out of logs: a `{:?}` in a log line must not hand it to whoever reads them.
impl std::fmt::Debug for StoredUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredUser")
            .field("user", &self.user)
            .field("password_hash", &"<redacted>")
            .finish()
    }
}

/// The stored form of a user.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserRecord {
    #[serde(flatten)]
    keys: ItemKeys,
    entity: EntityKind,
    id: UserId,
    email: Email,
    username: Username,
    name: PersonName,
    /// Absent when the user has no phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    phone: Option<Phone>,
    role: Role,
    disabled: bool,
    password_hash: String,
    version: u64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// The item for a user as it is now, index keys included.
pub(crate) fn item(stored: &StoredUser) -> Result<Item, StoreError> {
    let user = &stored.user;
    let sort_key = list_sort_key(&user.created_at, &user.id);
    let record = UserRecord {
        keys: ItemKeys::new(key(&user.id))
            .indexed(ROLE_INDEX, role_partition(user.role), sort_key.clone())
            .indexed(LIST_INDEX, ALL_USERS, sort_key),
        entity: ENTITY,
        id: user.id.clone(),
        email: user.email.clone(),
        username: user.username.clone(),
        name: user.name.clone(),
        phone: user.phone.clone(),
        role: user.role,
        disabled: user.disabled,
        password_hash: stored.password_hash.clone(),
        version: user.version,
        created_at: user.created_at,
        updated_at: user.updated_at,
    };
    to_item(&record)
}

/// The item that reserves `key` (an email or username key) for `user`.
fn reservation(key: Key, entity: EntityKind, user: &UserId) -> Item {
    let mut item = Item::new();
    key.write_into(&mut item);
    item.insert("entity".into(), Value::from(entity));
    item.insert("userId".into(), Value::from(user.as_str()));
    item
}

/// The writes that create a user: the user item, then the email and username reservations, each
/// conditional on the item not existing. A failed condition names its operation, so callers tell
/// "email taken" from "username taken" by [`CreateOps`]' indexes.
pub(crate) fn create_ops(stored: &StoredUser) -> Result<Vec<WriteOp>, StoreError> {
    let user = &stored.user;
    let put = |item| {
        WriteOp::Put(Put {
            item,
            condition: Some(Condition::ItemNotExists),
        })
    };
    Ok(vec![
        put(item(stored)?),
        put(reservation(
            email_key(&user.email),
            EntityKind::UserEmail,
            &user.id,
        )),
        put(reservation(
            username_key(&user.username),
            EntityKind::Username,
            &user.id,
        )),
    ])
}

/// Positions of the operations [`create_ops`] returns.
pub(crate) struct CreateOps;

impl CreateOps {
    pub(crate) const USER: usize = 0;
    pub(crate) const EMAIL: usize = 1;
    pub(crate) const USERNAME: usize = 2;
}

/// The user id a reservation item points to.
pub(crate) fn reserved_for(item: &Item) -> Result<UserId, StoreError> {
    item.get("userId")
        .and_then(Value::as_str)
        .and_then(UserId::parse)
        .ok_or_else(|| StoreError::internal("a user reservation item has no valid userId"))
}

/// The attributes to set when a role changes, index key included.
pub(crate) fn role_attributes(role: Role) -> [(String, Value); 2] {
    [
        ("role".to_owned(), Value::from(role.as_str())),
        (
            ROLE_INDEX.partition_key().to_owned(),
            Value::from(role_partition(role)),
        ),
    ]
}

/// The condition that a user item is an admin's who is not disabled.
pub(crate) fn is_enabled_admin() -> Condition {
    Condition::And(vec![
        Condition::compare("role", Comparison::Equal, Role::Admin.as_str()),
        Condition::compare("disabled", Comparison::Equal, false),
    ])
}

/// A user as the audit log records it: the public view, never the password hash.
pub(crate) fn audit_view(user: &User) -> Result<Map<String, Value>, StoreError> {
    to_item(user)
}

/// A timestamp in the stored form (RFC 3339, milliseconds, `Z`).
pub(crate) fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

crate::entity::versioned_entity!(User, ENTITY, id: UserId => key, user_from_item);

/// Reads a user back without their password hash.
fn user_from_item(item: Item) -> Result<User, StoreError> {
    from_item(item).map(|stored| stored.user)
}

/// Reads a user back; an item that does not decode is corrupt data, not a caller's mistake.
pub(crate) fn from_item(item: Item) -> Result<StoredUser, StoreError> {
    let record: UserRecord = storage::from_item(item)?;
    let user = User {
        id: record.id,
        email: record.email,
        username: record.username,
        name: record.name,
        phone: record.phone,
        role: record.role,
        disabled: record.disabled,
        version: record.version,
        created_at: record.created_at,
        updated_at: record.updated_at,
    };
    Ok(StoredUser {
        user,
        password_hash: record.password_hash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored_user() -> StoredUser {
        let created = DateTime::parse_from_rfc3339("2026-11-21T08:00:00.123Z")
            .unwrap()
            .to_utc();
        StoredUser {
            user: User {
                id: UserId::parse("0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f").unwrap(),
                email: Email::parse("ann@example.com").unwrap(),
                username: Username::parse("ann").unwrap(),
                name: PersonName::parse("Ann Lee").unwrap(),
                phone: Some(Phone::parse("+442079460958").unwrap()),
                role: Role::Customer,
                disabled: false,
                version: 1,
                created_at: created,
                updated_at: created,
            },
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        }
    }

    #[test]
    fn debug_output_of_a_stored_user_never_shows_the_password_hash() {
        let shown = format!("{:?}", stored_user());
        assert!(!shown.contains("argon2"), "{shown}");
        assert!(shown.contains("ann@example.com"), "{shown}");
    }

    #[test]
    fn a_user_survives_the_round_trip_through_its_item() {
        let original = stored_user();
        let read = from_item(item(&original).unwrap()).unwrap();
        assert_eq!(read.user, original.user);
        assert_eq!(read.password_hash, original.password_hash);
    }

    #[test]
    fn the_item_carries_its_keys_and_index_keys() {
        let item = item(&stored_user()).unwrap();
        assert_eq!(Key::of(&item).unwrap(), key(&stored_user().user.id));
        assert_eq!(item["pk"], "USER#0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f");
        assert_eq!(item["gsi1pk"], "USERS#ROLE#customer");
        assert_eq!(
            item["gsi1sk"],
            "2026-11-21T08:00:00.123Z#0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f"
        );
        assert_eq!(item["gsi2pk"], "USERS");
        assert_eq!(item["gsi2sk"], item["gsi1sk"]);
        assert_eq!(item["role"], "customer");
    }

    #[test]
    fn creation_reserves_the_email_and_the_username_for_the_user() {
        let ops = create_ops(&stored_user()).unwrap();
        let keys: Vec<Key> = ops.iter().filter_map(WriteOp::key).collect();
        assert_eq!(keys[CreateOps::USER], key(&stored_user().user.id));
        assert_eq!(
            keys[CreateOps::EMAIL],
            Key::new("USER_EMAIL#ann@example.com", "USER_EMAIL")
        );
        assert_eq!(
            keys[CreateOps::USERNAME],
            Key::new("USERNAME#ann", "USERNAME")
        );
        for op in &ops {
            let WriteOp::Put(put) = op else {
                panic!("creation only puts");
            };
            assert_eq!(put.condition, Some(Condition::ItemNotExists));
        }
        let WriteOp::Put(email) = &ops[CreateOps::EMAIL] else {
            unreachable!()
        };
        assert_eq!(reserved_for(&email.item).unwrap(), stored_user().user.id);
    }

    #[test]
    fn the_audit_view_and_the_public_view_leave_the_hash_out() {
        let view = Value::Object(audit_view(&stored_user().user).unwrap()).to_string();
        assert!(!view.contains("argon2"), "{view}");
        assert!(!view.contains("passwordHash"), "{view}");
        assert!(!view.contains("version"), "{view}");
        assert!(view.contains("\"username\":\"ann\""));
    }

    #[test]
    fn a_corrupt_item_is_an_internal_error() {
        let mut item = item(&stored_user()).unwrap();
        item.insert("email".into(), Value::from("not an email"));
        assert!(matches!(from_item(item), Err(StoreError::Internal(_))));
    }
}
