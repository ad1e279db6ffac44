//! The functions that run without a request: the queue worker and the scheduled jobs.
//!
//! Like the route table for the API, [`BACKGROUND_FUNCTIONS`] is the one place that says which
//! background functions exist, what triggers each, and what each may touch. The Lambda binaries
//! run an entry by name, the local API runs every entry in-process (the worker on the embedded
//! queue, the schedules on timers), and a test proves `template.yaml` declares the same
//! functions, triggers and permissions.

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;

use crate::accounts::Email;
use crate::clock::{Clock, IdGenerator};
use crate::error::DomainError;
use crate::jobs::{JobQueue, outbox};
use crate::storage::{Store, StoreAccess, StoreError};
use crate::{bookings, contracts, fleet};

/// What starts a background function, and so what it does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// Batches of messages from the jobs queue (an SQS event source in AWS): the worker, which
    /// writes the notification and sends the email each job asks for, and runs the tasks that
    /// settle interrupted payments and refunds and cancel a cancelled flight's bookings (so it
    /// holds the payment gateway).
    JobsQueue,
    /// A fixed rate, in EventBridge's `rate(...)` syntax, running one task.
    Schedule {
        expression: &'static str,
        task: ScheduledTask,
    },
}

/// The work a scheduled function does on each run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScheduledTask {
    /// Sends the jobs a failed or interrupted dispatch left in the outbox.
    RelayOutbox,
    /// Expires the booking holds whose payment did not arrive in time, giving the seats back.
    ExpireHolds,
    /// Queues a reminder for each confirmed booking of a flight departing within a day.
    QueueDepartureReminders,
    /// Queues a pickup reminder for each reserved rental starting within a day, and a return
    /// reminder for each active rental ending today.
    QueueRentalReminders,
    /// Queues the staff's reminder of each car's insurance policy and registration ending in
    /// exactly 30, 7 or 1 days.
    QueueFleetReminders,
}

/// One background function.
#[derive(Debug)]
pub struct BackgroundFunction {
    /// The Lambda function and binary name (kebab-case).
    pub function: &'static str,
    pub trigger: Trigger,
    /// What it may do to the table; the template grants exactly this.
    pub store_access: StoreAccess,
    /// Whether it sends jobs to the queue (`sqs:SendMessage`).
    pub enqueues_jobs: bool,
    /// Whether it sends email (`ses:SendEmail`).
    pub sends_email: bool,
    /// Whether it charges or refunds through the payment gateway: exactly these get
    /// `PAYMENT_GATEWAY` from the template and refuse to start without a valid one.
    pub moves_money: bool,
    /// Whether it addresses jobs to the fleet's alerts address: exactly these get
    /// `FLEET_ALERTS_EMAIL` from the template and refuse to start without a valid one.
    pub alerts_fleet: bool,
}

/// Every background function.
pub static BACKGROUND_FUNCTIONS: &[BackgroundFunction] = &[
    BackgroundFunction {
        function: "process-jobs",
        trigger: Trigger::JobsQueue,
        store_access: StoreAccess::ReadWrite,
        enqueues_jobs: false,
        sends_email: true,
        // It settles payments and refunds that requests left behind, and refunds the bookings
        // of a cancelled flight.
        moves_money: true,
        alerts_fleet: false,
    },
    BackgroundFunction {
        function: "relay-outbox",
        trigger: Trigger::Schedule {
            expression: "rate(1 minute)",
            task: ScheduledTask::RelayOutbox,
        },
        store_access: StoreAccess::ReadWrite,
        enqueues_jobs: true,
        sends_email: false,
        moves_money: false,
        alerts_fleet: false,
    },
    BackgroundFunction {
        function: "expire-holds",
        trigger: Trigger::Schedule {
            expression: "rate(1 minute)",
            task: ScheduledTask::ExpireHolds,
        },
        store_access: StoreAccess::ReadWrite,
        enqueues_jobs: true,
        sends_email: false,
        moves_money: false,
        alerts_fleet: false,
    },
    BackgroundFunction {
        function: "queue-departure-reminders",
        trigger: Trigger::Schedule {
            expression: "rate(15 minutes)",
            task: ScheduledTask::QueueDepartureReminders,
        },
        store_access: StoreAccess::ReadWrite,
        enqueues_jobs: true,
        sends_email: false,
        moves_money: false,
        alerts_fleet: false,
    },
    BackgroundFunction {
        function: "queue-rental-reminders",
        trigger: Trigger::Schedule {
            expression: "rate(15 minutes)",
            task: ScheduledTask::QueueRentalReminders,
        },
        store_access: StoreAccess::ReadWrite,
        enqueues_jobs: true,
        sends_email: false,
        moves_money: false,
        alerts_fleet: false,
    },
    // Daily: the thresholds are whole days. A run missed or repeated changes nothing, as each
    // reminder is staged once, by whichever run of its day comes first.
    BackgroundFunction {
        function: "queue-fleet-reminders",
        trigger: Trigger::Schedule {
            expression: "rate(1 day)",
            task: ScheduledTask::QueueFleetReminders,
        },
        store_access: StoreAccess::ReadWrite,
        enqueues_jobs: true,
        sends_email: false,
        moves_money: false,
        alerts_fleet: true,
    },
];

/// The background function named `function`.
pub fn background_function(function: &str) -> Option<&'static BackgroundFunction> {
    BACKGROUND_FUNCTIONS
        .iter()
        .find(|background| background.function == function)
}

/// How long a job waits in the outbox before the relay sends it: far longer than the dispatch
/// right after a commit takes, so the relay only picks up what a failed or interrupted dispatch
/// left behind.
pub const RELAY_MIN_AGE: TimeDelta = TimeDelta::seconds(30);

/// What scheduled tasks run with.
pub struct ScheduledServices {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
    /// Where the jobs a task creates (or relays) go.
    pub jobs: Arc<dyn JobQueue>,
    /// `FLEET_ALERTS_EMAIL`, for the functions that alert the fleet's staff
    /// ([`BackgroundFunction::alerts_fleet`]); `None` elsewhere.
    pub fleet_alerts: Option<Email>,
}

/// Runs one scheduled task once; returns how many items it handled (jobs relayed, holds expired,
/// reminders queued). Every task is safe to run twice at the same time.
pub async fn run_scheduled(
    task: ScheduledTask,
    services: &ScheduledServices,
) -> Result<usize, DomainError> {
    let (store, clock, ids) = (&*services.store, &*services.clock, &*services.ids);
    let queue = &*services.jobs;
    match task {
        ScheduledTask::RelayOutbox => Ok(outbox::relay(store, clock, queue, RELAY_MIN_AGE).await?),
        ScheduledTask::ExpireHolds => bookings::expire_holds(store, clock, ids, Some(queue)).await,
        ScheduledTask::QueueDepartureReminders => {
            bookings::queue_departure_reminders(store, clock, ids, Some(queue)).await
        }
        ScheduledTask::QueueRentalReminders => {
            contracts::queue_rental_reminders(store, clock, ids, Some(queue)).await
        }
        ScheduledTask::QueueFleetReminders => {
            let alerts = services.fleet_alerts.as_ref().ok_or_else(|| {
                StoreError::internal("the fleet reminders run without FLEET_ALERTS_EMAIL")
            })?;
            let ports = fleet::ReminderPorts {
                clock,
                ids,
                queue: Some(queue),
                alerts,
            };
            fleet::queue_fleet_reminders(store, &ports).await
        }
    }
}

impl Trigger {
    /// The interval of a schedule (`rate(5 minutes)`, `rate(1 hour)`, `rate(1 day)`), for running
    /// it on a timer locally; `None` for the queue trigger or an expression that is not a rate.
    pub fn interval(self) -> Option<Duration> {
        let Trigger::Schedule { expression, .. } = self else {
            return None;
        };
        let inner = expression.strip_prefix("rate(")?.strip_suffix(')')?;
        let (count, unit) = inner.split_once(' ')?;
        let count: u64 = count.parse().ok().filter(|count| *count > 0)?;
        let unit_seconds = match (count, unit) {
            (1, "minute") | (2.., "minutes") => 60,
            (1, "hour") | (2.., "hours") => 3600,
            (1, "day") | (2.., "days") => 86_400,
            _ => return None,
        };
        Some(Duration::from_secs(count * unit_seconds))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (That no background function shares a route's name is checked beside the route table.)
    #[test]
    fn names_are_unique_and_kebab_case() {
        let mut names: Vec<&str> = BACKGROUND_FUNCTIONS.iter().map(|f| f.function).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), BACKGROUND_FUNCTIONS.len());
        for name in names {
            assert!(name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'));
            assert_eq!(background_function(name).map(|f| f.function), Some(name));
        }
    }

    #[test]
    fn every_schedule_is_a_rate_with_an_interval() {
        for background in BACKGROUND_FUNCTIONS {
            let is_schedule = matches!(background.trigger, Trigger::Schedule { .. });
            assert_eq!(
                background.trigger.interval().is_some(),
                is_schedule,
                "{}",
                background.function
            );
        }
    }

    #[test]
    fn rates_parse_with_their_units_and_singular_plural_agreement() {
        let interval = |expression| {
            Trigger::Schedule {
                expression,
                task: ScheduledTask::RelayOutbox,
            }
            .interval()
        };
        assert_eq!(interval("rate(1 minute)"), Some(Duration::from_secs(60)));
        assert_eq!(interval("rate(15 minutes)"), Some(Duration::from_secs(900)));
        assert_eq!(interval("rate(2 hours)"), Some(Duration::from_secs(7200)));
        assert_eq!(interval("rate(1 day)"), Some(Duration::from_secs(86_400)));
        for invalid in [
            "rate(1 minutes)",
            "rate(2 minute)",
            "rate(0 minutes)",
            "cron(0 * * * ? *)",
        ] {
            assert_eq!(interval(invalid), None, "{invalid}");
        }
        assert_eq!(Trigger::JobsQueue.interval(), None);
    }
}
