//! Reading issue reports: one by id for its reporter or staff, and lists by reporter, car or
//! status, each one index Query, newest first.

use super::model::{IssueReport, ReportFilter, ReportId};
use super::records;
use crate::entity::{self, Page};
use crate::error::DomainError;
use crate::identity::Principal;
use crate::pagination::PageLimit;
use crate::storage::{Item, Store};

/// One page of issue reports and the key the next page starts after.
pub type ReportPage = Page<IssueReport>;

/// The report, for its reporter or staff; anyone else is told it does not exist, so report ids
/// cannot be probed. One strongly consistent read.
#[tracing::instrument(skip(store, caller), fields(report_id = %id))]
pub async fn get_report(
    store: &dyn Store,
    caller: &Principal,
    id: &ReportId,
) -> Result<IssueReport, DomainError> {
    entity::find_owned(store, caller, id).await
}

/// One Query, newest first: one user's reports (index 1) when the filter names a reporter (a
/// customer's own list), else one car's (index 2) when it names a car, else every report
/// (index 3: open ones first, then in progress, then resolved, one status being a
/// `begins_with` on its sort key). What the chosen index does not select (severity, and status
/// or car beside another index) is a filter on it, costing the reads of the items it drops,
/// bounded per page. Never a scan.
#[tracing::instrument(skip(store, start_after))]
pub async fn list_reports(
    store: &dyn Store,
    filter: &ReportFilter,
    limit: PageLimit,
    start_after: Option<Item>,
) -> Result<ReportPage, DomainError> {
    let query = records::narrowing(filter).query();
    entity::list(store, query, limit, start_after).await
}
