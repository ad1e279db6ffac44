//! Tasks: background work on the store itself, as opposed to the notices of [`super::Job`].
//!
//! A task travels the same road as a notice (staged in the outbox with the change that causes
//! it, sent to the jobs queue, run by the worker) and is told apart by its body: a task's body
//! has a `task` field, a notice's a `kind`. Tasks are idempotent by construction: each one
//! re-reads what it acts on and makes every change under a condition, so a task delivered twice,
//! or run by two workers at once, has its effects once.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::JobId;
use super::job::Job;
use crate::clock::IdGenerator;
use crate::storage::Item;

/// What a task does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Task {
    /// Finishes or compensates the charge a payment recorded the intent of and left unsettled:
    /// confirms the booking if the provider charged it and it can still be confirmed, refunds the
    /// charge if it cannot, and closes the intent if nothing was charged.
    SettleCharge { booking_id: String },
    /// Makes the refund a cancelled booking is owed and records it.
    SettleRefund { booking_id: String },
    /// Cancels every booking of a cancelled flight that still holds seats, refunding the paid
    /// ones; `after` resumes the walk over the flight's bookings after that index key.
    CancelFlightBookings {
        flight_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after: Option<Item>,
    },
}

impl Task {
    /// A stable name for logs and the outbox.
    pub fn name(&self) -> &'static str {
        match self {
            Task::SettleCharge { .. } => "settle-charge",
            Task::SettleRefund { .. } => "settle-refund",
            Task::CancelFlightBookings { .. } => "cancel-flight-bookings",
        }
    }
}

/// One task, as the queue carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskJob {
    pub id: JobId,
    pub task: Task,
    pub created_at: DateTime<Utc>,
}

impl TaskJob {
    /// A new task with a fresh id, created `now`.
    pub fn new(ids: &dyn IdGenerator, task: Task, now: DateTime<Utc>) -> Self {
        Self {
            id: JobId::from(ids.new_id()),
            task,
            created_at: now,
        }
    }
}

/// Anything the worker receives: a notice for a user or a task on the store.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Work {
    Task(TaskJob),
    Notice(Job),
}

impl Work {
    /// The work a queue message body describes.
    pub fn from_body(body: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_and_notices_are_told_apart_by_their_bodies() {
        let task = TaskJob {
            id: JobId::from(uuid::Uuid::nil()),
            task: Task::CancelFlightBookings {
                flight_id: "0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e70".into(),
                after: None,
            },
            created_at: DateTime::parse_from_rfc3339("2026-11-21T08:00:00Z")
                .unwrap()
                .to_utc(),
        };
        let body = serde_json::to_string(&task).unwrap();
        assert!(body.contains(r#""type":"cancelFlightBookings""#), "{body}");
        assert!(body.contains(r#""flightId""#), "{body}");
        assert_eq!(Work::from_body(&body).unwrap(), Work::Task(task));
        assert!(Work::from_body(r#"{"id": "x"}"#).is_err());
    }
}
