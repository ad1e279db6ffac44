//! The records staff keep per car of the rental fleet: insurance policies and registrations
//! (the car's *papers*), its service history, and the reminders of papers about to expire.
//!
//! - `paper.rs`: the one shape both kinds of paper share (a car's record valid from one day to a
//!   later one), its keys and its item, generic over the [`PaperKind`]; `kinds.rs`: what is each
//!   kind's own ([`Insurance`], [`Registration`]).
//! - `manage.rs`: adding a paper to a car that exists, a car's papers, the fleet's papers
//!   expiring within a window (by index), and the change and removal rules; reading, changing and
//!   removing one are the shared entity use cases over [`PaperRef`].
//! - `documents.rs`: a paper's document (the policy or certificate), through the attachments
//!   flow, recorded on the paper in the confirming transaction.
//! - `standing.rs`: what "a current paper" is, and the rule that keeps a car without one in
//!   `maintenance`.
//! - `service.rs`: service records, which raise the car's mileage in their own transaction.
//! - `reminders.rs`: the daily reminders of papers 30, 7 and 1 days before their last day, each
//!   staged once to the staff, stopped by a renewal.
//!
//! Every item lives in its car's partition under a prefix of its own (`INSURANCE#`,
//! `REGISTRATION#`, `SERVICE#`, `REMINDED#`, and the documents' pending `UPLOAD#` items), apart
//! from the car's `CAR` item and its `DAY#` slots; docs/data-model.md ("Car records") has the
//! keys and the costs.

mod documents;
mod kinds;
mod manage;
mod paper;
mod reminders;
mod service;
mod standing;

pub use crate::entity::{change as update_paper, find as get_paper, remove as delete_paper};
pub use documents::{confirm_document, document_download, start_document};
pub use kinds::{
    Coverage, Insurance, InsuranceChanges, Issuer, PaperNumber, Registration, RegistrationChanges,
};
pub use manage::{ExpiryWindow, add_paper, expiring_papers, list_papers};
pub use paper::{NewPaper, Paper, PaperChanges, PaperId, PaperKind, PaperRef, Validity};
pub use reminders::{
    FLEET_ALERTS_EMAIL, ReminderPorts, THRESHOLDS, alerts_address, queue_fleet_reminders,
};
pub use service::{
    Garage, NewServiceRecord, ServiceDescription, ServiceRecord, ServiceRecordId, record_service,
    service_history,
};

pub(crate) use standing::{missing_papers, refusal as missing_papers_refusal};
