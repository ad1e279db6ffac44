//! The jobs use cases hand to the workers: what happened to whom, with a snapshot of the booking
//! or rental contract as it was, so a worker can write the notification and the email without
//! reading it again.
//!
//! The recipient and the subject are each one of several shapes, flattened into the body under
//! their own field name (`userId` or `email`; `booking` or `contract`): a job queued before rental
//! contracts existed (`userId` and `booking`) reads back unchanged.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::accounts::Email;
use crate::calendar::Day;
use crate::identity::UserId;
use crate::money::Money;
use crate::reports::{ReportStatus, Severity};

crate::identity::uuid_id!(
    /// A job's identifier: the queue message's id.
    JobId
);

/// What a job tells the user about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum JobKind {
    /// The booking was paid for and is confirmed.
    BookingConfirmed,
    /// The booking was cancelled; `refund` is what was paid back (a confirmed booking) or `None`
    /// (a pending one, never paid).
    BookingCancelled { refund: Option<Money> },
    /// The hold lapsed before payment; the seats went back on sale.
    BookingExpired,
    /// The airline cancelled the flight, and the booking with it; `refund` is what is paid back
    /// (a confirmed booking) or `None` (a pending one, never paid).
    FlightCancelled { refund: Option<Money> },
    /// The flight departs within a day.
    DepartureReminder,
    /// A car was reserved: the rental contract is made.
    ContractReserved,
    /// A reserved rental starts within a day: time to pick the car up.
    PickupReminder,
    /// An active rental ends today: time to bring the car back.
    ReturnReminder,
    /// A car's insurance policy or registration ends in `days` days (30, 7 or 1).
    PaperExpiring { days: u16 },
    /// Staff moved an issue report on to another status (its reporter is told).
    IssueStatusChanged,
    /// A critical issue was reported on a car out on a rental: staff keep it back at its
    /// return (each staff user is told).
    CriticalIssueOnRental,
}

impl JobKind {
    /// A stable name for logs, metrics and deduplication keys.
    pub fn name(&self) -> &'static str {
        match self {
            JobKind::BookingConfirmed => "booking-confirmed",
            JobKind::BookingCancelled { .. } => "booking-cancelled",
            JobKind::BookingExpired => "booking-expired",
            JobKind::FlightCancelled { .. } => "flight-cancelled",
            JobKind::DepartureReminder => "departure-reminder",
            JobKind::ContractReserved => "contract-reserved",
            JobKind::PickupReminder => "pickup-reminder",
            JobKind::ReturnReminder => "return-reminder",
            JobKind::PaperExpiring { .. } => "paper-expiring",
            JobKind::IssueStatusChanged => "issue-status-changed",
            JobKind::CriticalIssueOnRental => "critical-issue-on-rental",
        }
    }
}

/// The booking a job is about, as it was when the job was created.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BookingSnapshot {
    pub booking_id: String,
    pub flight_id: String,
    pub flight_number: String,
    /// IATA code of the departure airport.
    pub from: String,
    /// IATA code of the arrival airport.
    pub to: String,
    pub departure_time: DateTime<Utc>,
    pub seats: u8,
    pub total: Money,
}

/// The rental contract a job is about, as it was when the job was created.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContractSnapshot {
    pub contract_id: String,
    pub car_id: String,
    /// The car as people name it: manufacturer, model and licence plate.
    pub car: String,
    /// The customer's name, for the greeting of an email with no account behind it.
    pub customer_name: String,
    pub start_date: Day,
    pub end_date: Day,
    pub total: Money,
}

/// A car's insurance policy or registration a job is about, as it was when the job was created.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaperSnapshot {
    pub paper_id: String,
    /// `insurance` or `registration`.
    pub kind: String,
    pub car_id: String,
    /// The car as people name it: manufacturer, model and licence plate.
    pub car: String,
    /// The paper as people name it (`insurance policy AZ-1 with Allianz`).
    pub paper: String,
    /// Its last valid day.
    pub valid_to: Day,
}

/// The issue report a job is about, as it was when the job was created.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueSnapshot {
    pub issue_id: String,
    pub car_id: String,
    /// The car as people name it: manufacturer, model and licence plate.
    pub car: String,
    pub severity: Severity,
    pub status: ReportStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
}

/// Who a job informs: a user (an in-app notification and an email to their account's address),
/// only an email address (a rental customer with no account linked), or the staff (an in-app
/// notification to every staff member and one email to the fleet's alerts address).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Recipient {
    UserId(UserId),
    Email(Email),
    /// Every staff member in the app, and this address (`FLEET_ALERTS_EMAIL`) by email.
    Staff(Email),
}

/// What a job is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Subject {
    Booking(BookingSnapshot),
    Contract(ContractSnapshot),
    Paper(PaperSnapshot),
    Issue(IssueSnapshot),
}

impl Subject {
    /// The id of the booking, contract or paper.
    pub fn id(&self) -> &str {
        match self {
            Subject::Booking(booking) => &booking.booking_id,
            Subject::Contract(contract) => &contract.contract_id,
            Subject::Paper(paper) => &paper.paper_id,
            Subject::Issue(issue) => &issue.issue_id,
        }
    }
}

/// One unit of background work.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub id: JobId,
    /// Who the job informs (`userId` or `email` in the body).
    #[serde(flatten)]
    pub recipient: Recipient,
    pub kind: JobKind,
    /// What the job is about (`booking` or `contract` in the body).
    #[serde(flatten)]
    pub subject: Subject,
    pub created_at: DateTime<Utc>,
}

impl Job {
    /// What makes two jobs the same piece of work, whatever their ids: each kind happens at most
    /// once to a booking or contract, a pickup reminder once per first day (a contract
    /// re-dated after its reminder is reminded of its new first day), an issue report's status
    /// change once per status it reaches (it only moves forward), and a critical issue's alert
    /// once per staff user. Workers deduplicate on it,
    /// so a job enqueued twice (a retried request, a scheduled run overlapping the previous one, a
    /// redelivery) has its effects once.
    pub fn dedup_key(&self) -> String {
        match (&self.kind, &self.subject) {
            (JobKind::PickupReminder, Subject::Contract(contract)) => format!(
                "{}#{}#{}",
                self.kind.name(),
                contract.contract_id,
                contract.start_date
            ),
            // Once per paper, last day and threshold: a paper whose last day moves is reminded
            // again of the new one.
            (JobKind::PaperExpiring { days }, Subject::Paper(paper)) => format!(
                "{}#{}#{}#{days}",
                self.kind.name(),
                paper.paper_id,
                paper.valid_to
            ),
            (JobKind::IssueStatusChanged, Subject::Issue(issue)) => {
                format!("{}#{}#{}", self.kind.name(), issue.issue_id, issue.status)
            }
            (JobKind::CriticalIssueOnRental, _) => {
                let to = match &self.recipient {
                    Recipient::UserId(user) => user.as_str(),
                    Recipient::Email(address) | Recipient::Staff(address) => address.as_str(),
                };
                format!("{}#{}#{to}", self.kind.name(), self.subject.id())
            }
            _ => format!("{}#{}", self.kind.name(), self.subject.id()),
        }
    }

    /// The user the job informs, if it informs one.
    pub fn user_id(&self) -> Option<&UserId> {
        match &self.recipient {
            Recipient::UserId(user) => Some(user),
            Recipient::Email(_) | Recipient::Staff(_) => None,
        }
    }

    /// The booking the job is about, if it is about one.
    pub fn booking(&self) -> Option<&BookingSnapshot> {
        match &self.subject {
            Subject::Booking(booking) => Some(booking),
            Subject::Contract(_) | Subject::Paper(_) | Subject::Issue(_) => None,
        }
    }

    /// The job as a queue message body.
    pub fn to_body(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }

    /// A job back from a queue message body.
    pub fn from_body(body: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(body)
    }
}

/// A confirmed booking's job of `kind` for the tests of every module that handles jobs: two seats
/// of `AI101` DEL-BOM for INR 250.00, all ids fixed.
#[cfg(test)]
impl Job {
    pub(crate) fn sample(kind: JobKind) -> Job {
        let at = |text| DateTime::parse_from_rfc3339(text).unwrap().to_utc();
        Job {
            id: JobId::from(uuid::Uuid::nil()),
            recipient: Recipient::UserId(UserId::from(uuid::Uuid::nil())),
            kind,
            subject: Subject::Booking(BookingSnapshot {
                booking_id: "0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f".into(),
                flight_id: "0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e70".into(),
                flight_number: "AI101".into(),
                from: "DEL".into(),
                to: "BOM".into(),
                departure_time: at("2026-12-01T06:30:00Z"),
                seats: 2,
                total: Money::new(25_000, crate::money::Currency::parse("INR").unwrap()).unwrap(),
            }),
            created_at: at("2026-11-21T08:00:00Z"),
        }
    }
}

/// A rental contract's job of `kind` for the tests of every module that handles jobs: the
/// `Toyota Corolla (KA01AB1234)` from 2026-12-01 to 2026-12-03 for INR 7,500.00, to an email
/// address alone.
#[cfg(test)]
impl Job {
    pub(crate) fn contract_sample(kind: JobKind) -> Job {
        Job {
            id: JobId::from(uuid::Uuid::nil()),
            recipient: Recipient::Email(Email::parse("grace@example.com").unwrap()),
            kind,
            subject: Subject::Contract(ContractSnapshot {
                contract_id: "0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e71".into(),
                car_id: "0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e72".into(),
                car: "Toyota Corolla (KA01AB1234)".into(),
                customer_name: "Grace Hopper".into(),
                start_date: Day::parse("2026-12-01").unwrap(),
                end_date: Day::parse("2026-12-03").unwrap(),
                total: Money::new(750_000, crate::money::Currency::parse("INR").unwrap()).unwrap(),
            }),
            created_at: DateTime::parse_from_rfc3339("2026-11-21T08:00:00Z")
                .unwrap()
                .to_utc(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    #[test]
    fn a_job_queued_before_contracts_existed_still_reads() {
        let body = r#"{"id":"00000000-0000-0000-0000-000000000000",
            "userId":"00000000-0000-0000-0000-000000000000",
            "kind":{"type":"bookingConfirmed"},
            "booking":{"bookingId":"0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f",
                "flightId":"0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e70","flightNumber":"AI101",
                "from":"DEL","to":"BOM","departureTime":"2026-12-01T06:30:00Z","seats":2,
                "total":{"amount":25000,"currency":"INR"}},
            "createdAt":"2026-11-21T08:00:00Z"}"#;
        assert_eq!(
            Job::from_body(body).unwrap(),
            Job::sample(JobKind::BookingConfirmed)
        );
        let written: serde_json::Value =
            serde_json::from_str(&Job::sample(JobKind::BookingConfirmed).to_body().unwrap())
                .unwrap();
        assert_eq!(
            written,
            serde_json::from_str::<serde_json::Value>(body).unwrap()
        );
    }

    #[test]
    fn a_contract_job_for_an_address_names_its_recipient_and_subject_in_the_body() {
        let original = Job::contract_sample(JobKind::ContractReserved);
        let body = original.to_body().unwrap();
        let value: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(value["email"], "grace@example.com");
        assert!(value.get("userId").is_none() && value.get("booking").is_none());
        assert_eq!(value["contract"]["startDate"], "2026-12-01");
        assert_eq!(value["kind"]["type"], "contractReserved");
        assert_eq!(Job::from_body(&body).unwrap(), original);
        assert_eq!(original.user_id(), None);
        assert_eq!(original.booking(), None);
        assert_eq!(
            original.dedup_key(),
            "contract-reserved#0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e71"
        );
    }

    #[test]
    fn a_pickup_reminder_is_the_same_work_only_for_the_same_first_day() {
        let reminder = Job::contract_sample(JobKind::PickupReminder);
        assert_eq!(
            reminder.dedup_key(),
            "pickup-reminder#0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e71#2026-12-01"
        );
        let mut moved = reminder.clone();
        if let Subject::Contract(contract) = &mut moved.subject {
            contract.start_date = Day::parse("2026-12-02").unwrap();
        }
        assert_ne!(moved.dedup_key(), reminder.dedup_key());
        let back = Job::contract_sample(JobKind::ReturnReminder);
        assert_eq!(
            back.dedup_key(),
            "return-reminder#0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e71"
        );
    }

    fn job(kind: JobKind) -> Job {
        Job::sample(kind)
    }

    #[test]
    fn a_job_survives_the_round_trip_through_a_message_body() {
        let refund = Money::new(25_000, Currency::parse("INR").unwrap()).unwrap();
        let original = job(JobKind::BookingCancelled {
            refund: Some(refund),
        });
        assert_eq!(
            Job::from_body(&original.to_body().unwrap()).unwrap(),
            original
        );
    }

    #[test]
    fn the_dedup_key_names_the_kind_and_the_booking_not_the_job() {
        let mut first = job(JobKind::BookingConfirmed);
        let second = first.clone();
        first.id = JobId::from(uuid::Uuid::max());
        assert_eq!(first.dedup_key(), second.dedup_key());
        assert_eq!(
            first.dedup_key(),
            "booking-confirmed#0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f"
        );
        assert_ne!(job(JobKind::BookingExpired).dedup_key(), first.dedup_key());
    }
}
