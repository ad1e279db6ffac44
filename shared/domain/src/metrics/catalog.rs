//! Every metric the code writes, one line each. A new counter is one `static` here and one
//! `increment` where its event happens; both renderers pick it up by itself.

use super::{Counter, Histogram};

/// Requests answered, by route (its function name) and status class (`2xx`, `4xx`, ...).
pub static REQUESTS: Counter = Counter::new(
    "itinera_requests_total",
    "Requests answered, by route and status class.",
);
/// How long the pipeline took to answer, by route and status class.
pub static REQUEST_DURATION: Histogram = Histogram::milliseconds(
    "itinera_request_duration_milliseconds",
    "Time from a request's arrival to its answer, by route and status class.",
);
/// Requests refused by a rate limit, by tier.
pub static RATE_LIMITED: Counter = Counter::new(
    "itinera_rate_limited_total",
    "Requests refused by a rate limit, by tier.",
);
/// Execution environments started, by function.
pub static COLD_STARTS: Counter = Counter::new(
    "itinera_cold_starts_total",
    "Execution environments started, by function.",
);
/// Bookings created (seats held, payment pending).
pub static BOOKINGS_CREATED: Counter = Counter::new(
    "itinera_bookings_created_total",
    "Bookings created (seats held, payment pending).",
);
/// Booking requests refused because the flight had too few seats left.
pub static SOLD_OUT_REFUSALS: Counter = Counter::new(
    "itinera_sold_out_refusals_total",
    "Booking requests refused because the flight had too few seats left.",
);
/// Rental contracts reserved (a car's days taken).
pub static CONTRACTS_RESERVED: Counter = Counter::new(
    "itinera_contracts_reserved_total",
    "Rental contracts reserved (a car's days taken).",
);
/// Reservations and date changes refused because another contract holds one of the days.
pub static RESERVATION_CONFLICTS: Counter = Counter::new(
    "itinera_reservation_conflicts_total",
    "Reservations and date changes refused because another contract holds one of the days.",
);
/// File uploads, by outcome: `started` (a URL handed out), `confirmed` (checked and kept), or
/// `refused` (confirmed with another type or size than declared).
pub static FILE_UPLOADS: Counter = Counter::new(
    "itinera_file_uploads_total",
    "File uploads, by outcome: started, confirmed, or refused for not being what was declared.",
);
/// Expiry reminders of cars' insurance policies and registrations staged, by kind.
pub static FLEET_REMINDERS_QUEUED: Counter = Counter::new(
    "itinera_fleet_reminders_queued_total",
    "Expiry reminders of cars' insurance policies and registrations staged, by kind.",
);
/// Issue reports filed on cars, by severity (a critical one takes its car out of service).
pub static ISSUES_REPORTED: Counter = Counter::new(
    "itinera_issues_reported_total",
    "Issue reports filed on cars, by severity.",
);
/// Unpaid holds expired, their seats given back.
pub static HOLDS_EXPIRED: Counter = Counter::new(
    "itinera_holds_expired_total",
    "Unpaid booking holds expired, their seats given back.",
);
/// Payments the gateway declined.
pub static PAYMENTS_DECLINED: Counter = Counter::new(
    "itinera_payments_declined_total",
    "Payments the gateway declined.",
);
/// Queue messages processed, by job kind.
pub static JOBS_PROCESSED: Counter = Counter::new(
    "itinera_jobs_processed_total",
    "Queue messages the worker completed, by job kind.",
);
/// Queue messages that failed (and will be delivered again), by job kind.
pub static JOBS_FAILED: Counter = Counter::new(
    "itinera_jobs_failed_total",
    "Queue messages that failed and go back to the queue, by job kind.",
);
/// Queue messages that failed at their last receive, so the queue moves them to its
/// dead-letter queue.
pub static JOBS_DEAD_LETTERED: Counter = Counter::new(
    "itinera_jobs_dead_lettered_total",
    "Queue messages that failed at their last receive and go to the dead-letter queue, by job kind.",
);
