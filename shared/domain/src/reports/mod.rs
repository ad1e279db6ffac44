//! Issue reports: what is wrong with a car, reported by a customer who rents or rented it or by
//! staff, and triaged by staff (`/v1/issues` in the API; "reports" here, so they are not taken
//! for anything else). One use case per file:
//!
//! - `create.rs`: filing, with who may report on which car (a 404, never a 403, for a customer
//!   on a car they never rented) and what a critical report does to the car, in the report's
//!   own transaction.
//! - `triage.rs`: staff move the status forward under `If-Match`, the reporter's notice staged
//!   in the same transaction.
//! - `read.rs`: one report for its reporter or staff, and the lists by reporter, car or status.
//! - `photos.rs`: photos through the attachments flow (start, confirm into the report's
//!   transaction, at most ten; downloads for the report's readers).
//! - `notices.rs`: the jobs about a report (its status change, a critical issue on a rented car).
//! - `records.rs`: keys, items and index keys; `model.rs`: the values and the triage rules.

mod create;
mod model;
mod notices;
mod photos;
mod read;
mod records;
mod triage;

pub use create::file_report;
pub use model::{
    CarAction, Description, IssueReport, NewReport, ReportFilter, ReportId, ReportStatus,
    Resolution, Severity, Triage,
};
pub use photos::{MAX_PHOTOS, confirm_photo, report_with_photos, start_photo_upload};
pub use read::{ReportPage, get_report, list_reports};
pub use triage::triage_report;
