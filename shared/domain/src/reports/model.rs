//! Issue report values: severity, status and its one-way order, what a critical report did to
//! its car, and the entity.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::attachments::Attachment;
use crate::cars::CarId;
use crate::contracts::ContractId;
use crate::error::DomainError;
use crate::identity::UserId;

crate::identity::uuid_id!(
    /// An issue report's identifier.
    ReportId
);

crate::bounded::word_enum!(
    /// How bad the issue is. A `critical` one takes the car out of service (see
    /// [`CarAction`]).
    Severity {
        Low => "low",
        Medium => "medium",
        High => "high",
        Critical => "critical",
    }
);

crate::bounded::word_enum!(
    /// Where a report is in its triage: `open` (filed), `in_progress` (staff work on it),
    /// `resolved` (closed with a resolution note). It only moves forward.
    ReportStatus {
        Open => "open",
        InProgress => "in_progress",
        Resolved => "resolved",
    }
);

impl ReportStatus {
    /// Its place in the one-way order: open, then in progress, then resolved.
    fn step(self) -> u8 {
        match self {
            ReportStatus::Open => 0,
            ReportStatus::InProgress => 1,
            ReportStatus::Resolved => 2,
        }
    }

    /// Whether a report may move from this status to `next`: forward only (a step may be
    /// skipped: a trivial report can be resolved while still open).
    pub fn may_become(self, next: ReportStatus) -> bool {
        next.step() > self.step()
    }
}

crate::bounded::word_enum!(
    /// What filing a `critical` report did about its car, recorded on the report so staff see
    /// it: the car was `available` and went to maintenance in the report's transaction; it was
    /// out on a rental, so every staff user was notified to keep it back at its return; it was
    /// in maintenance already; or it is retired and stays so (a retired car is never rented
    /// again, and maintenance would be a way back into service).
    CarAction {
        MovedToMaintenance => "moved_to_maintenance",
        StaffNotified => "staff_notified",
        AlreadyInMaintenance => "already_in_maintenance",
        CarRetired => "car_retired",
    }
);

crate::bounded::bounded_text!(
    /// What is wrong with the car, as the reporter describes it: 1-2000 printable characters.
    Description,
    2000
);

crate::bounded::bounded_text!(
    /// How staff resolved the issue: 1-2000 printable characters, required to resolve.
    Resolution,
    2000
);

/// A request to report an issue with a car.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewReport {
    pub car_id: CarId,
    pub severity: Severity,
    pub description: Description,
    /// The rental the issue came up in; a customer's must be theirs and of this car.
    pub contract_id: Option<ContractId>,
}

/// An issue with a car, reported by a customer who rents or rented it or by staff, and triaged
/// by staff.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueReport {
    pub id: ReportId,
    pub car_id: CarId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_id: Option<ContractId>,
    /// Who filed it: the one customer who may read it besides staff, and who is told when its
    /// status changes.
    pub reporter_id: UserId,
    pub severity: Severity,
    pub description: Description,
    pub status: ReportStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Resolution>,
    /// What a critical report did about the car; absent on other severities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub car_action: Option<CarAction>,
    /// The confirmed photos, oldest first: at most [`super::MAX_PHOTOS`]. Uploads not yet
    /// confirmed are never here.
    #[serde(default)]
    pub photos: Vec<Attachment>,
    #[serde(skip_serializing)]
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<DateTime<Utc>>,
}

impl IssueReport {
    /// A new `open` report (version 1, filed at `now`).
    pub(crate) fn filed(
        id: ReportId,
        new: &NewReport,
        reporter_id: UserId,
        car_action: Option<CarAction>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            car_id: new.car_id.clone(),
            contract_id: new.contract_id.clone(),
            reporter_id,
            severity: new.severity,
            description: new.description.clone(),
            status: ReportStatus::Open,
            resolution: None,
            car_action,
            photos: Vec::new(),
            version: 1,
            created_at: now,
            updated_at: now,
            resolved_at: None,
        }
    }
}

/// Staff see every report; a user, the ones they filed.
impl crate::entity::Owned for IssueReport {
    fn visible_to(&self, user: &UserId, staff: bool) -> bool {
        staff || self.reporter_id == *user
    }
}

/// Staff's triage of a report: a new status, and the resolution note that resolving needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Triage {
    pub status: Option<ReportStatus>,
    pub resolution: Option<Resolution>,
}

impl IssueReport {
    /// The report after `triage`, or why it may not apply: a resolved report changes no more, the
    /// status moves only forward, resolving needs a resolution note and a note comes only with
    /// resolving.
    pub(crate) fn triaged(&self, triage: &Triage, now: DateTime<Utc>) -> Result<Self, DomainError> {
        if self.status == ReportStatus::Resolved {
            return Err(DomainError::Conflict {
                detail: "The report is resolved and changes no more.".into(),
            });
        }
        let status = triage.status.unwrap_or(self.status);
        if triage.status.is_some() && !self.status.may_become(status) {
            return Err(DomainError::Conflict {
                detail: format!(
                    "A report's status only moves forward (open -> in_progress -> resolved); \
                     this one is {} and cannot become {status}.",
                    self.status
                ),
            });
        }
        let resolving = status == ReportStatus::Resolved;
        match (&triage.resolution, resolving) {
            (None, true) => Err(DomainError::Invalid {
                field: "resolution",
                message: "is required to resolve a report: say how the issue was resolved".into(),
            }),
            (Some(_), false) => Err(DomainError::Invalid {
                field: "resolution",
                message: "is recorded only when the report is resolved (status resolved)".into(),
            }),
            _ => {
                let mut changed = self.clone();
                changed.status = status;
                changed.resolution = triage.resolution.clone();
                changed.resolved_at = resolving.then_some(now);
                Ok(changed)
            }
        }
    }
}

/// Which reports a list shows; serialized whole, it is what a list's cursors are bound to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ReportFilter {
    /// A customer's own reports; staff leave it out.
    pub reporter_id: Option<UserId>,
    pub car_id: Option<CarId>,
    pub status: Option<ReportStatus>,
    pub severity: Option<Severity>,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn report() -> IssueReport {
        let at = DateTime::parse_from_rfc3339("2026-11-21T08:00:00.123Z")
            .unwrap()
            .to_utc();
        let new = NewReport {
            car_id: CarId::parse("0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f").unwrap(),
            severity: Severity::High,
            description: Description::parse("The brakes squeal").unwrap(),
            contract_id: None,
        };
        IssueReport::filed(
            ReportId::parse("0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e80").unwrap(),
            &new,
            UserId::parse("0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e81").unwrap(),
            None,
            at,
        )
    }

    fn to(status: ReportStatus, resolution: Option<&str>) -> Triage {
        Triage {
            status: Some(status),
            resolution: resolution.map(|text| Resolution::parse(text).unwrap()),
        }
    }

    #[test]
    fn the_status_moves_only_forward() {
        use ReportStatus::*;
        assert!(Open.may_become(InProgress) && Open.may_become(Resolved));
        assert!(InProgress.may_become(Resolved));
        for (from, to) in [(InProgress, Open), (Open, Open), (InProgress, InProgress)] {
            assert!(!from.may_become(to), "{from} -> {to}");
        }
        let mut report = report();
        report.status = InProgress;
        let refused = report.triaged(&to(Open, None), Utc::now()).unwrap_err();
        assert!(
            matches!(&refused, DomainError::Conflict { detail } if detail.contains("only moves forward")),
            "{refused:?}"
        );
    }

    #[test]
    fn resolving_needs_a_note_and_a_note_needs_resolving() {
        let report = report();
        assert!(matches!(
            report.triaged(&to(ReportStatus::Resolved, None), Utc::now()),
            Err(DomainError::Invalid {
                field: "resolution",
                ..
            })
        ));
        assert!(matches!(
            report.triaged(&to(ReportStatus::InProgress, Some("fixed")), Utc::now()),
            Err(DomainError::Invalid {
                field: "resolution",
                ..
            })
        ));
        let now = Utc::now();
        let resolved = report
            .triaged(&to(ReportStatus::Resolved, Some("Pads replaced")), now)
            .unwrap();
        assert_eq!(resolved.status, ReportStatus::Resolved);
        assert_eq!(resolved.resolved_at, Some(now));
        assert!(matches!(
            resolved.triaged(&to(ReportStatus::Resolved, Some("again")), now),
            Err(DomainError::Conflict { .. })
        ));
    }
}
