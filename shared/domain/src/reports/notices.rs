//! The jobs an issue report hands the workers: its status change, to its reporter, and a
//! critical issue on a rented car, to every staff user. Each carries a snapshot of the report
//! with the car named as people name it, so the worker writes the notification and the email
//! without reading either again.

use chrono::{DateTime, Utc};

use super::model::IssueReport;
use crate::accounts;
use crate::clock::IdGenerator;
use crate::error::DomainError;
use crate::identity::UserId;
use crate::jobs::{IssueSnapshot, Job, JobId, JobKind, Recipient, Subject};
use crate::storage::Store;

/// The most staff users a critical issue on a rented car alerts: their jobs are staged in the
/// report's own transaction, beside the report, the car's check and the audit entry, within the
/// store's 100 operations. A fleet with more staff accounts alerts the first 90 the role index lists.
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

/// The staff users (staff, then admins) who are not disabled, at most [`MAX_ALERTED`] of them:
/// the same list the worker notifies for a job to the whole staff.
pub(crate) async fn staff_users(store: &dyn Store) -> Result<Vec<UserId>, DomainError> {
    let mut staff = accounts::staff_ids(store).await?;
    staff.truncate(MAX_ALERTED);
    Ok(staff)
}
