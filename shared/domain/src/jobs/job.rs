//! The jobs use cases hand to the workers: what happened to whom, with a snapshot of the booking
//! as it was, so a worker can write the notification and the email without reading it again.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::identity::UserId;
use crate::money::Money;

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

/// One unit of background work.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub id: JobId,
    /// The user the job informs.
    pub user_id: UserId,
    pub kind: JobKind,
    pub booking: BookingSnapshot,
    pub created_at: DateTime<Utc>,
}

impl Job {
    /// What makes two jobs the same piece of work, whatever their ids: each kind happens at most
    /// once to a booking. Workers deduplicate on it, so a job enqueued twice (a retried request, a
    /// scheduled run overlapping the previous one, a redelivery) has its effects once.
    pub fn dedup_key(&self) -> String {
        format!("{}#{}", self.kind.name(), self.booking.booking_id)
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
            user_id: UserId::from(uuid::Uuid::nil()),
            kind,
            booking: BookingSnapshot {
                booking_id: "0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f".into(),
                flight_id: "0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e70".into(),
                flight_number: "AI101".into(),
                from: "DEL".into(),
                to: "BOM".into(),
                departure_time: at("2026-12-01T06:30:00Z"),
                seats: 2,
                total: Money::new(25_000, crate::money::Currency::parse("INR").unwrap()).unwrap(),
            },
            created_at: at("2026-11-21T08:00:00Z"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

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
