//! How issue reports are stored: keys, index attributes and the item layout (see
//! docs/data-model.md, "Issue reports").
//!
//! Three index entries list a report, one per access pattern, each newest first: `gsi1` the
//! reports one user filed, `gsi2` the reports on one car, `gsi3` every report under `REPORTS`,
//! sorted by a status step that puts open reports first, then in progress, then resolved (so one
//! status is a `begins_with` on the sort key). Every key starts with `REPORT`, so none meets
//! another entity's in the shared indexes.

use serde::Serialize;
use serde_json::Value;

use super::model::{IssueReport, ReportFilter, ReportId, ReportStatus};
use crate::cars::CarId;
use crate::entity::{self, Criterion, EntityKind, Narrowing};
use crate::identity::UserId;
use crate::storage::{
    Comparison, Condition, Index, Item, ItemKeys, Key, StoreError, timestamp, to_item,
};

/// The entity type stored items and audit entries name issue reports by.
pub(crate) const ENTITY: EntityKind = EntityKind::IssueReport;
/// The index listing the reports one user filed.
pub(crate) const REPORTER_INDEX: Index = entity::OWNER_INDEX;
/// The index listing the reports on one car.
pub(crate) const CAR_INDEX: Index = entity::CAR_INDEX;
/// The index listing every report, by status and then newest first.
pub(crate) const STATUS_INDEX: Index = entity::STATUS_INDEX;
/// The partition of [`STATUS_INDEX`] holding every report.
pub(crate) const ALL_REPORTS: &str = "REPORTS";

crate::entity::versioned_entity!(IssueReport, ENTITY, id: ReportId => key);

pub(crate) fn key(id: &ReportId) -> Key {
    Key::new(format!("REPORT#{id}"), "REPORT")
}

/// The partition of [`REPORTER_INDEX`] holding the reports `user` filed.
pub(crate) fn reporter_partition(user: &UserId) -> String {
    format!("REPORTS#REPORTER#{user}")
}

/// The partition of [`CAR_INDEX`] holding the reports on `car`.
pub(crate) fn car_partition(car: &CarId) -> String {
    format!("REPORTS#CAR#{car}")
}

/// The prefix of [`STATUS_INDEX`]'s sort keys of one status: a digit that orders the statuses
/// (newest first puts open before in progress before resolved), then the status itself.
pub(crate) fn status_prefix(status: ReportStatus) -> String {
    let step = match status {
        ReportStatus::Open => 3,
        ReportStatus::InProgress => 2,
        ReportStatus::Resolved => 1,
    };
    format!("{step}#{status}#")
}

/// Filing time, then the id, so that reports filed in one millisecond keep a stable order.
fn filed_key(report: &IssueReport) -> String {
    format!("{}#{}", timestamp(report.created_at), report.id)
}

/// [`STATUS_INDEX`]'s sort key of `report`.
fn status_sort_key(report: &IssueReport) -> String {
    format!("{}{}", status_prefix(report.status), filed_key(report))
}

/// The stored form of a report: its own fields, its version, and the keys that place it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportRecord<'a> {
    #[serde(flatten)]
    keys: ItemKeys,
    entity: EntityKind,
    #[serde(flatten)]
    report: &'a IssueReport,
    version: u64,
    /// How many photos `photos` holds: the attribute the confirm transaction's condition keeps
    /// below [`super::MAX_PHOTOS`].
    photo_count: usize,
}

/// The attribute counting a report's confirmed photos.
pub(crate) const PHOTO_COUNT: &str = "photoCount";

/// The whole item of `report`, in all three indexes.
pub(crate) fn item(report: &IssueReport) -> Result<Item, StoreError> {
    let filed = filed_key(report);
    to_item(&ReportRecord {
        keys: ItemKeys::new(key(&report.id))
            .indexed(
                REPORTER_INDEX,
                reporter_partition(&report.reporter_id),
                filed.clone(),
            )
            .indexed(CAR_INDEX, car_partition(&report.car_id), filed)
            .indexed(STATUS_INDEX, ALL_REPORTS, status_sort_key(report)),
        entity: ENTITY,
        report,
        version: report.version,
        photo_count: report.photos.len(),
    })
}

/// The attributes a triage sets: the status with its index key, the resolution and its time.
pub(crate) fn triage_attributes(report: &IssueReport) -> Vec<(String, Value)> {
    let mut set = vec![
        ("status".to_owned(), Value::from(report.status.as_str())),
        (
            STATUS_INDEX.sort_key().to_owned(),
            Value::from(status_sort_key(report)),
        ),
    ];
    if let Some(resolution) = &report.resolution {
        set.push(("resolution".to_owned(), Value::from(resolution.as_str())));
    }
    if let Some(at) = report.resolved_at {
        set.push(("resolvedAt".to_owned(), Value::from(timestamp(at))));
    }
    set
}

/// The filter as one Query's choice among the three index entries above ([`Narrowing`]); the
/// severity, which no index selects, always filters.
pub(crate) fn narrowing(filter: &ReportFilter) -> Narrowing {
    Narrowing {
        owner: (filter.reporter_id.as_ref())
            .map(|user| Criterion::new(reporter_partition(user), "reporterId", user.as_str())),
        car: (filter.car_id.as_ref())
            .map(|car| Criterion::new(car_partition(car), "carId", car.as_str())),
        status: (filter.status)
            .map(|status| Criterion::new(status_prefix(status), "status", status.as_str())),
        others: (filter.severity)
            .map(|severity| Condition::compare("severity", Comparison::Equal, severity.as_str()))
            .into_iter()
            .collect(),
        all: ALL_REPORTS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::model::Severity;
    use crate::reports::model::tests::report;
    use crate::storage::from_item;

    #[test]
    fn a_report_survives_the_round_trip_through_its_item() {
        let original = report();
        assert_eq!(
            from_item::<IssueReport>(item(&original).unwrap()).unwrap(),
            original
        );
    }

    #[test]
    fn the_item_is_in_the_reporter_car_and_status_indexes() {
        let report = report();
        let item = item(&report).unwrap();
        let id = &report.id;
        assert_eq!(item["pk"], format!("REPORT#{id}"));
        assert_eq!(
            item["gsi1pk"],
            format!("REPORTS#REPORTER#{}", report.reporter_id)
        );
        assert_eq!(item["gsi1sk"], format!("2026-11-21T08:00:00.123Z#{id}"));
        assert_eq!(item["gsi2pk"], format!("REPORTS#CAR#{}", report.car_id));
        assert_eq!(item["gsi3pk"], "REPORTS");
        assert_eq!(
            item["gsi3sk"],
            format!("3#open#2026-11-21T08:00:00.123Z#{id}")
        );
        assert_eq!(item["gsi2sk"], item["gsi1sk"]);
        assert_eq!(item[PHOTO_COUNT], 0);
    }

    #[test]
    fn newest_first_puts_open_before_in_progress_before_resolved() {
        let mut prefixes: Vec<String> = ReportStatus::ALL
            .iter()
            .map(|s| status_prefix(*s))
            .collect();
        prefixes.sort_unstable_by(|a, b| b.cmp(a));
        assert_eq!(prefixes, ["3#open#", "2#in_progress#", "1#resolved#"]);
    }

    #[test]
    fn a_list_filters_on_what_its_index_does_not_select() {
        let filter = ReportFilter {
            car_id: Some(report().car_id),
            severity: Some(Severity::Critical),
            ..ReportFilter::default()
        };
        let query = narrowing(&filter).query();
        assert_eq!(query.index, Some(CAR_INDEX));
        assert_eq!(
            query.filter,
            Some(Condition::compare(
                "severity",
                Comparison::Equal,
                "critical"
            ))
        );
        let every = narrowing(&ReportFilter::default()).query();
        assert_eq!((every.index, every.filter), (Some(STATUS_INDEX), None));
    }
}
