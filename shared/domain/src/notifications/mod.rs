//! In-app notifications: what the jobs worker tells a user about their bookings, and the user's
//! inbox of them, with one use case per file.
//!
//! A user's notifications live in their own partition (`NOTIFICATIONS#<userId>`), sorted by their
//! UUIDv7 ids, so the newest come first in one descending Query; the unread ones are also in a
//! sparse index partition that reading a notification takes them out of. Every key starts with the
//! owner's id, so a user can never reach another user's notification: it simply is not in their
//! partition, and asking for it is a 404.
//!
//! Neither writing nor reading a notification is audited. A notification records a change that
//! was audited where it happened (a booking confirmed, cancelled, expired), and marking one read
//! changes nothing of the business: the audit log would only grow by the size of the inbox.
//!
//! - `model.rs`: [`Notification`], its id and kind.
//! - `messages.rs`: what each kind of job says, in the app and by email.
//! - `list.rs`: [`list_notifications`], all or unread only, newest first.
//! - `read.rs`: [`mark_notification_read`].
//! - `records.rs`: keys, index attributes and the item layout.

mod list;
mod messages;
mod model;
mod read;
mod records;

pub use list::{NotificationPage, list_notifications};
pub use messages::{Message, email_text, message_for};
pub use model::{Notification, NotificationFilter, NotificationId, NotificationKind};
pub use read::mark_notification_read;

pub(crate) use records::new_item;
