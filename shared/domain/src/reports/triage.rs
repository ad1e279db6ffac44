//! Staff's triage of a report: its status moved forward under `If-Match`, with the reporter's
//! notice staged in the same transaction.

use super::model::{IssueReport, ReportId, Triage};
use super::{notices, records};
use crate::cars::Car;
use crate::clock::{Clock, IdGenerator};
use crate::entity::{self, EntityId, Read, Revision, Stored};
use crate::error::DomainError;
use crate::identity::RequestContext;
use crate::jobs::{Job, JobKind, JobQueue, outbox};
use crate::storage::Store;
use crate::version::Precondition;

/// Applies `triage` to the report `id` (staff): the status moves only forward (open ->
/// in_progress -> resolved; a 409 names the rule), resolving needs a `resolution` note, and a
/// resolved report changes no more. Written with the shared versioned update (only the changed
/// attributes, under the version read, with the audit entry); the same transaction stages the
/// reporter's notice of the new status in the outbox, so they are told exactly when the change
/// commits, and the worker's record of the (report, status) keeps a redelivery from telling
/// them twice. Costs two reads (the report, its car's name) and one transaction, then one read and
/// one transaction per further attempt.
#[allow(clippy::too_many_arguments)] // each port is a separate capability
#[tracing::instrument(skip_all, fields(report_id = %id, request_id = %context.request_id))]
pub async fn triage_report(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    queue: Option<&dyn JobQueue>,
    context: &RequestContext,
    id: &ReportId,
    triage: &Triage,
    precondition: &Precondition,
) -> Result<IssueReport, DomainError> {
    let key = id.key();
    let item = entity::read::<IssueReport>(store, &key).await?;
    let report = IssueReport::from_item(item.clone())?;
    let car = match entity::find(store, &report.car_id).await {
        Ok(car) => Car::label(&car),
        Err(DomainError::NotFound { .. }) => report.car_id.to_string(),
        Err(other) => return Err(other),
    };
    let mut staged: Vec<Job> = Vec::new();
    let revise = |current: &IssueReport, _: &_, now| {
        let changed = current.triaged(triage, now)?;
        let mut revision = Revision::new(changed.clone(), records::triage_attributes(&changed));
        staged.clear();
        if changed.status != current.status {
            let kind = JobKind::IssueStatusChanged;
            let notice = notices::job(ids, kind, &changed.reporter_id, (&changed, &car), now);
            revision.writes.push(outbox::stage(&notice)?);
            staged.push(notice);
        }
        Ok(revision)
    };
    // The change starts from the report read above (its car's name came from it).
    let read = Read::Already(item);
    let changed =
        entity::update_read(store, clock, ids, context, &key, precondition, read, revise).await?;
    outbox::dispatch(store, queue, &staged).await;
    Ok(changed)
}
