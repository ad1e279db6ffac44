//! The jobs an issue report hands the workers: its status change, to its reporter, and a
//! critical issue on a rented car, to every staff user. Each carries a snapshot of the report
//! with the car named as people name it, so the worker writes the notification and the email
//! without reading either again.

use chrono::{DateTime, Utc};

use super::model::IssueReport;
use crate::accounts::{self, User};
use crate::clock::IdGenerator;
use crate::error::DomainError;
use crate::identity::{Role, UserId};
use crate::jobs::{IssueSnapshot, Job, JobId, JobKind, Recipient, Subject};
use crate::pagination::PageLimit;
use crate::storage::{Store, StoreError};

/// The most staff users a critical issue on a rented car alerts: their jobs are staged in the
/// report's own transaction, beside the report, the car's check and the audit entry, within the
/// store's 100 operations. A fleet with more staff accounts alerts the most recent 90.
pub(crate) const MAX_ALERTED: usize = 90;

/// A job of `kind` about `report` (on the car `car` names) for `user`, created `now`.
pub(crate) fn job(
    ids: &dyn IdGenerator,
    kind: JobKind,
    user: &UserId,
    (report, car): (&IssueReport, &str),
    now: DateTime<Utc>,
) -> Job {
    Job {
        id: JobId::from(ids.new_id()),
        recipient: Recipient::UserId(user.clone()),
        kind,
        subject: Subject::Issue(IssueSnapshot {
            issue_id: report.id.to_string(),
            car_id: report.car_id.to_string(),
            car: car.to_owned(),
            severity: report.severity,
            status: report.status,
            resolution: report
                .resolution
                .as_ref()
                .map(|resolution| resolution.as_str().to_owned()),
        }),
        created_at: now,
    }
}

/// The staff users (staff, then admins) who are not disabled: at most [`MAX_ALERTED`], newest
/// first. One Query per role on the users' role index.
pub(crate) async fn staff_users(store: &dyn Store) -> Result<Vec<UserId>, DomainError> {
    let mut staff = Vec::new();
    for role in [Role::Staff, Role::Admin] {
        let left = MAX_ALERTED - staff.len();
        if left == 0 {
            break;
        }
        // 1..=90 places left, within a page's 1..=100.
        let limit = i64::try_from(left)
            .map_err(StoreError::internal)
            .and_then(|left| PageLimit::try_from(left).map_err(StoreError::internal))?;
        let page = accounts::list_users(store, Some(role), limit, None).await?;
        staff.extend(
            page.users
                .into_iter()
                .filter(|user: &User| !user.disabled)
                .map(|user| user.id),
        );
    }
    Ok(staff)
}
