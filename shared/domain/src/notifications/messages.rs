//! What each kind of job tells the user: the notification's title and body, and the email built
//! around them. Times are in UTC, named as such, and amounts are written in major units with the
//! currency code, as the customer paid them.

use chrono::{DateTime, Utc};

use crate::jobs::{
    BookingSnapshot, ContractSnapshot, IssueSnapshot, Job, JobKind, PaperSnapshot, Subject,
};
use crate::money::Money;
use crate::reports::ReportStatus;

/// A title (also the email's subject) and a body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub title: String,
    pub body: String,
}

/// The message a job writes: clear English, with the flight number, the route, the departure in
/// UTC, the seats and the total (and the refund, for a cancellation) of a booking; the car, the
/// dates and the total of a rental contract; the car, the severity and the new status (with the
/// resolution) of an issue report.
pub fn message_for(job: &Job) -> Message {
    match &job.subject {
        Subject::Booking(booking) => booking_message(&job.kind, booking),
        Subject::Contract(contract) => contract_message(&job.kind, contract),
        Subject::Paper(paper) => paper_message(&job.kind, paper),
        Subject::Issue(issue) => issue_message(&job.kind, issue),
    }
}

/// What a job about a car's insurance policy or registration tells staff: which car, which
/// paper, its last day and how soon that is.
fn paper_message(kind: &JobKind, paper: &PaperSnapshot) -> Message {
    let (car, name, last) = (&paper.car, &paper.paper, &paper.valid_to);
    let when = match kind {
        JobKind::PaperExpiring { days: 1 } => "tomorrow".to_owned(),
        JobKind::PaperExpiring { days } => format!("in {days} days"),
        other => format!("soon ({})", other.name()),
    };
    Message {
        title: format!("Expiring {when}: {} of the {car}", paper.kind),
        body: format!(
            "The {name} of the {car} is valid until {last}, which ends {when}. Renew it and add \
             the new one to the car; until then, the car cannot leave maintenance once it has \
             expired."
        ),
    }
}

/// What a job about an issue report says: to its reporter, that its status moved on; to staff,
/// that a critical issue was reported on a car out on a rental.
fn issue_message(kind: &JobKind, issue: &IssueSnapshot) -> Message {
    let (car, severity) = (&issue.car, issue.severity);
    match kind {
        JobKind::CriticalIssueOnRental => Message {
            title: format!("Critical issue on a rented car: {car}"),
            body: format!(
                "A critical issue was reported on the {car} while it is out on a rental. Do not \
                 hand it out again: put it into maintenance when it is returned."
            ),
        },
        _ => {
            let now = match issue.status {
                ReportStatus::Open => "open".to_owned(),
                ReportStatus::InProgress => "being worked on".to_owned(),
                ReportStatus::Resolved => format!(
                    "resolved: {}",
                    issue.resolution.as_deref().unwrap_or("no note given")
                ),
            };
            // A note that ends its own sentence gets no second full stop.
            let stop = if now.ends_with(['.', '!', '?']) {
                ""
            } else {
                "."
            };
            Message {
                title: format!("Issue report {}: {car}", issue.status),
                body: format!("Your {severity} issue report on the {car} is {now}{stop}"),
            }
        }
    }
}

/// What a job about a rental contract says. Use cases give contracts only the contract kinds; any
/// other kind still makes a truthful message, naming what happened by the kind's name.
fn contract_message(kind: &JobKind, contract: &ContractSnapshot) -> Message {
    let car = &contract.car;
    let (start, end) = (&contract.start_date, &contract.end_date);
    let total = format_money(&contract.total);
    match kind {
        JobKind::ContractReserved => Message {
            title: format!("Car reserved: {car}, {start} to {end}"),
            body: format!(
                "Your rental of the {car} from {start} to {end} is reserved. Total: {total}."
            ),
        },
        JobKind::PickupReminder => Message {
            title: format!("Pickup reminder: {car} on {start}"),
            body: format!(
                "Your rental of the {car} starts on {start}: pick the car up then, with your \
                 driving licence. It runs to {end}, total {total}."
            ),
        },
        JobKind::ReturnReminder => Message {
            title: format!("Return reminder: {car} today, {end}"),
            body: format!(
                "Your rental of the {car} ends today, {end}: please bring the car back. Days \
                 after {end} are charged at the same daily rate. Total so far: {total}."
            ),
        },
        other => Message {
            title: format!("Rental update ({}): {car}", other.name()),
            body: format!("Your rental of the {car} from {start} to {end}, total {total}."),
        },
    }
}

/// What a job about a booking says.
fn booking_message(kind: &JobKind, booking: &BookingSnapshot) -> Message {
    let flight = format!(
        "flight {} from {} to {}",
        booking.flight_number, booking.from, booking.to
    );
    let route = format!(
        "{} {} to {}",
        booking.flight_number, booking.from, booking.to
    );
    let departing = departure(&booking.departure_time);
    let seats = seats(booking);
    let total = format_money(&booking.total);
    match kind {
        JobKind::BookingConfirmed => Message {
            title: format!("Booking confirmed: {route}"),
            body: format!(
                "Your booking of {seats} on {flight}, departing {departing}, is confirmed. \
                 Total paid: {total}."
            ),
        },
        JobKind::BookingCancelled { refund } => {
            let money_back = money_back(refund.as_ref());
            Message {
                title: format!("Booking cancelled: {route}"),
                body: format!(
                    "Your booking of {seats} on {flight}, departing {departing}, is cancelled \
                     (total {total}). {money_back}"
                ),
            }
        }
        JobKind::BookingExpired => Message {
            title: format!("Booking expired: {route}"),
            body: format!(
                "Your hold on {seats} on {flight}, departing {departing}, expired before the \
                 payment of {total} arrived, so the seats were released. Nothing was charged."
            ),
        },
        JobKind::FlightCancelled { refund } => Message {
            title: format!("Flight cancelled: {route}"),
            body: format!(
                "We are sorry: {flight}, departing {departing}, has been cancelled, and your \
                 booking of {seats} (total {total}) is cancelled with it. {}",
                money_back(refund.as_ref())
            ),
        },
        JobKind::DepartureReminder => Message {
            title: format!("Departure reminder: {route}"),
            body: format!(
                "Your {flight} departs {departing}. Your booking: {seats}, total {total}. \
                 Have a good trip."
            ),
        },
        JobKind::ContractReserved
        | JobKind::PickupReminder
        | JobKind::ReturnReminder
        | JobKind::PaperExpiring { .. }
        | JobKind::IssueStatusChanged
        | JobKind::CriticalIssueOnRental => Message {
            title: format!("Booking update ({}): {route}", kind.name()),
            body: format!("Your booking of {seats} on {flight}, departing {departing}."),
        },
    }
}

/// What a cancellation says about the money: the refund, or that nothing was charged.
fn money_back(refund: Option<&Money>) -> String {
    match refund {
        Some(refund) if refund.amount() > 0 => format!(
            "A refund of {} goes back to the payment method you paid with.",
            format_money(refund)
        ),
        Some(_) => "No refund is due for this booking.".to_owned(),
        None => "It had not been paid for, so nothing was charged.".to_owned(),
    }
}

/// The email's text: a greeting, the notification's body and the booking or contract
/// reference; the pointer to the in-app notifications only for a recipient with an account.
pub fn email_text(name: &str, message: &Message, job: &Job) -> String {
    let reference = match &job.subject {
        Subject::Booking(booking) => format!("Booking reference: {}", booking.booking_id),
        Subject::Contract(contract) => format!("Contract reference: {}", contract.contract_id),
        Subject::Paper(paper) => {
            format!("Car: {}, {} {}", paper.car_id, paper.kind, paper.paper_id)
        }
        Subject::Issue(issue) => format!("Issue report reference: {}", issue.issue_id),
    };
    let inbox = if job.user_id().is_some() {
        "You will also find this message under Notifications in your Itinera account.\n\n"
    } else {
        ""
    };
    format!(
        "Hello {name},\n\n{}\n\n{reference}\n\n{inbox}Itinera\n",
        message.body
    )
}

fn seats(booking: &BookingSnapshot) -> String {
    match booking.seats {
        1 => "1 seat".to_owned(),
        seats => format!("{seats} seats"),
    }
}

/// `Tue 1 Dec 2026 at 06:30 UTC`.
fn departure(at: &DateTime<Utc>) -> String {
    at.format("%a %-d %b %Y at %H:%M UTC").to_string()
}

/// The number of minor units in one major unit is 10^exponent; ISO 4217 gives most currencies 2.
fn minor_unit_exponent(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        "CLF" | "UYW" => 4,
        _ => 2,
    }
}

/// `INR 1,250.00`, `JPY 15,000`: the code, then the amount in major units with thousands grouped.
fn format_money(money: &Money) -> String {
    let exponent = minor_unit_exponent(money.currency().as_str());
    let unit = 10_i64.pow(exponent);
    let (major, minor) = (money.amount() / unit, money.amount() % unit);
    let digits = major.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    if exponent > 0 {
        format!(
            "{} {grouped}.{minor:0width$}",
            money.currency(),
            width = exponent as usize
        )
    } else {
        format!("{} {grouped}", money.currency())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    fn money(amount: i64, currency: &str) -> Money {
        Money::new(amount, Currency::parse(currency).unwrap()).unwrap()
    }

    fn job(kind: JobKind, seats: u8) -> Job {
        let mut job = Job::sample(kind);
        if let Subject::Booking(booking) = &mut job.subject {
            booking.seats = seats;
            booking.total = money(125_000, "INR");
        }
        job
    }

    #[test]
    fn amounts_are_in_major_units_with_grouping() {
        assert_eq!(format_money(&money(125_000, "INR")), "INR 1,250.00");
        assert_eq!(format_money(&money(5, "EUR")), "EUR 0.05");
        assert_eq!(format_money(&money(0, "USD")), "USD 0.00");
        assert_eq!(format_money(&money(1_500_000, "JPY")), "JPY 1,500,000");
        assert_eq!(format_money(&money(12_345, "KWD")), "KWD 12.345");
        assert_eq!(format_money(&money(99_999_999, "GBP")), "GBP 999,999.99");
    }

    #[test]
    fn a_confirmation_names_flight_route_departure_seats_and_total() {
        let message = message_for(&job(JobKind::BookingConfirmed, 2));
        assert_eq!(message.title, "Booking confirmed: AI101 DEL to BOM");
        assert_eq!(
            message.body,
            "Your booking of 2 seats on flight AI101 from DEL to BOM, departing Tue 1 Dec 2026 \
             at 06:30 UTC, is confirmed. Total paid: INR 1,250.00."
        );
    }

    #[test]
    fn a_cancellation_says_what_comes_back() {
        let refunded = message_for(&job(
            JobKind::BookingCancelled {
                refund: Some(money(100_000, "INR")),
            },
            1,
        ));
        assert_eq!(refunded.title, "Booking cancelled: AI101 DEL to BOM");
        assert!(
            refunded
                .body
                .starts_with("Your booking of 1 seat on flight AI101")
        );
        assert!(
            refunded.body.ends_with(
                "A refund of INR 1,000.00 goes back to the payment method you paid with."
            ),
            "{}",
            refunded.body
        );
        let unpaid = message_for(&job(JobKind::BookingCancelled { refund: None }, 1));
        assert!(unpaid.body.ends_with("nothing was charged."));
        let nothing_due = message_for(&job(
            JobKind::BookingCancelled {
                refund: Some(money(0, "INR")),
            },
            1,
        ));
        assert!(
            nothing_due
                .body
                .ends_with("No refund is due for this booking.")
        );
    }

    #[test]
    fn a_flight_cancellation_apologises_and_says_what_comes_back() {
        let refunded = message_for(&job(
            JobKind::FlightCancelled {
                refund: Some(money(125_000, "INR")),
            },
            2,
        ));
        assert_eq!(refunded.title, "Flight cancelled: AI101 DEL to BOM");
        assert_eq!(
            refunded.body,
            "We are sorry: flight AI101 from DEL to BOM, departing Tue 1 Dec 2026 at 06:30 UTC, \
             has been cancelled, and your booking of 2 seats (total INR 1,250.00) is cancelled \
             with it. A refund of INR 1,250.00 goes back to the payment method you paid with."
        );
        let unpaid = message_for(&job(JobKind::FlightCancelled { refund: None }, 1));
        assert!(
            unpaid.body.ends_with("nothing was charged."),
            "{}",
            unpaid.body
        );
    }

    #[test]
    fn expiry_and_reminder_name_the_flight_and_the_departure() {
        for kind in [JobKind::BookingExpired, JobKind::DepartureReminder] {
            let message = message_for(&job(kind, 3));
            assert!(
                message.title.ends_with("AI101 DEL to BOM"),
                "{}",
                message.title
            );
            for part in [
                "AI101",
                "DEL",
                "BOM",
                "Tue 1 Dec 2026 at 06:30 UTC",
                "3 seats",
            ] {
                assert!(message.body.contains(part), "{part}: {}", message.body);
            }
            assert!(message.body.contains("INR 1,250.00"));
        }
    }

    #[test]
    fn the_email_greets_the_user_and_gives_the_booking_reference() {
        let job = job(JobKind::BookingConfirmed, 2);
        let message = message_for(&job);
        let text = email_text("Ada", &message, &job);
        assert!(text.starts_with("Hello Ada,\n\nYour booking of 2 seats"));
        assert!(text.contains("Booking reference: 0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f"));
    }

    #[test]
    fn a_contracts_messages_name_the_car_the_dates_and_the_total() {
        let reserved = message_for(&Job::contract_sample(JobKind::ContractReserved));
        assert_eq!(
            reserved.title,
            "Car reserved: Toyota Corolla (KA01AB1234), 2026-12-01 to 2026-12-03"
        );
        assert!(
            reserved.body.contains("Total: INR 7,500.00"),
            "{}",
            reserved.body
        );
        let pickup = message_for(&Job::contract_sample(JobKind::PickupReminder));
        assert_eq!(
            pickup.title,
            "Pickup reminder: Toyota Corolla (KA01AB1234) on 2026-12-01"
        );
        let back = message_for(&Job::contract_sample(JobKind::ReturnReminder));
        assert!(
            back.body.contains("ends today, 2026-12-03"),
            "{}",
            back.body
        );
    }

    #[test]
    fn an_issue_reports_messages_name_the_car_the_status_and_the_resolution() {
        let mut job = Job::contract_sample(JobKind::IssueStatusChanged);
        job.subject = Subject::Issue(IssueSnapshot {
            issue_id: "0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e80".into(),
            car_id: "0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e72".into(),
            car: "Toyota Corolla (KA01AB1234)".into(),
            severity: crate::reports::Severity::High,
            status: ReportStatus::Resolved,
            resolution: Some("Brake pads replaced".into()),
        });
        let resolved = message_for(&job);
        assert_eq!(
            resolved.title,
            "Issue report resolved: Toyota Corolla (KA01AB1234)"
        );
        assert_eq!(
            resolved.body,
            "Your high issue report on the Toyota Corolla (KA01AB1234) is resolved: Brake pads \
             replaced."
        );
        if let Subject::Issue(issue) = &mut job.subject {
            issue.resolution = Some("Brake pads replaced.".into());
        }
        assert!(
            message_for(&job).body.ends_with("replaced."),
            "one full stop"
        );
        let text = email_text("Ada", &resolved, &job);
        assert!(text.contains("Issue report reference: 0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e80"));
        job.kind = JobKind::CriticalIssueOnRental;
        let alert = message_for(&job);
        assert!(alert.title.starts_with("Critical issue on a rented car"));
        assert!(
            alert
                .body
                .contains("put it into maintenance when it is returned")
        );
    }

    #[test]
    fn an_email_to_an_address_alone_gives_the_contract_reference_and_no_inbox() {
        let job = Job::contract_sample(JobKind::ContractReserved);
        let message = message_for(&job);
        let text = email_text("Grace Hopper", &message, &job);
        assert!(text.starts_with("Hello Grace Hopper,\n\nYour rental of the Toyota Corolla"));
        assert!(text.contains("Contract reference: 0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e71"));
        assert!(!text.contains("Notifications"), "{text}");
    }
}
