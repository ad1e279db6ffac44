//! Notification values: the entity as users see it, its id and its kind.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::identity::UserId;
use crate::jobs::JobKind;

crate::identity::uuid_id!(
    /// A notification's identifier: a UUIDv7, so ids sort in the order notifications were written.
    NotificationId
);

/// What a notification is about; one kind per kind of job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NotificationKind {
    BookingConfirmed,
    BookingCancelled,
    BookingExpired,
    FlightCancelled,
    DepartureReminder,
    ContractReserved,
    PickupReminder,
    ReturnReminder,
    /// A car's insurance policy or registration expires soon (to staff).
    PaperExpiring,
    IssueStatusChanged,
    CriticalIssueOnRental,
}

impl NotificationKind {
    /// The kind of notification a job writes.
    pub fn of(job: &JobKind) -> Self {
        match job {
            JobKind::BookingConfirmed => Self::BookingConfirmed,
            JobKind::BookingCancelled { .. } => Self::BookingCancelled,
            JobKind::BookingExpired => Self::BookingExpired,
            JobKind::FlightCancelled { .. } => Self::FlightCancelled,
            JobKind::DepartureReminder => Self::DepartureReminder,
            JobKind::ContractReserved => Self::ContractReserved,
            JobKind::PickupReminder => Self::PickupReminder,
            JobKind::ReturnReminder => Self::ReturnReminder,
            JobKind::PaperExpiring { .. } => Self::PaperExpiring,
            JobKind::IssueStatusChanged => Self::IssueStatusChanged,
            JobKind::CriticalIssueOnRental => Self::CriticalIssueOnRental,
        }
    }
}

/// One notification in a user's inbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub id: NotificationId,
    /// The owner; implied by the route, so not shown.
    #[serde(skip)]
    pub user_id: UserId,
    pub kind: NotificationKind,
    pub title: String,
    pub body: String,
    /// The booking it is about, for a notice about a booking.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub booking_id: Option<String>,
    /// The rental contract it is about, for a notice about a contract.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract_id: Option<String>,
    /// The issue report it is about, for a notice about an issue report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issue_id: Option<String>,
    pub read: bool,
    pub created_at: DateTime<Utc>,
    /// When the user first marked it read; absent while unread.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_at: Option<DateTime<Utc>>,
}

/// Which of a user's notifications a list shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum NotificationFilter {
    #[default]
    All,
    Unread,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_job_kind_has_its_notification_kind_named_like_the_job() {
        let kinds = [
            JobKind::BookingConfirmed,
            JobKind::BookingCancelled { refund: None },
            JobKind::BookingExpired,
            JobKind::DepartureReminder,
            JobKind::ContractReserved,
            JobKind::PickupReminder,
            JobKind::ReturnReminder,
        ];
        for job in kinds {
            let kind = NotificationKind::of(&job);
            assert_eq!(serde_json::to_value(kind).unwrap(), job.name());
        }
    }

    #[test]
    fn an_unread_notification_shows_no_read_at() {
        let notification = Notification {
            id: NotificationId::from(uuid::Uuid::nil()),
            user_id: UserId::from(uuid::Uuid::nil()),
            kind: NotificationKind::BookingExpired,
            title: "t".into(),
            body: "b".into(),
            booking_id: Some("x".into()),
            contract_id: None,
            issue_id: None,
            read: false,
            created_at: DateTime::parse_from_rfc3339("2026-11-21T08:00:00.123Z")
                .unwrap()
                .to_utc(),
            read_at: None,
        };
        let view = serde_json::to_value(&notification).unwrap();
        let mut names: Vec<&str> = view
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "body",
                "bookingId",
                "createdAt",
                "id",
                "kind",
                "read",
                "title"
            ]
        );
        assert_eq!(view["createdAt"], "2026-11-21T08:00:00.123Z");
    }
}
