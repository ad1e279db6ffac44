//! The scheduled expiry of unpaid holds: their seats go back on sale.

use chrono::{DateTime, Utc};

use super::events;
use super::get::read;
use super::model::{Booking, BookingStatus};
use super::records::{self, HOLDS};
use crate::clock::{Clock, IdGenerator};
use crate::error::DomainError;
use crate::identity::RequestContext;
use crate::jobs::{Job, JobKind, JobQueue, outbox};
use crate::metrics;
use crate::storage::{Item, Query, SortCondition, Store};
use crate::version::{Guarded, transact_guarded};

/// How many hold markers one Query page reads.
const PAGE: u32 = 100;

/// The position of the booking's status change in the transaction.
const EXPIRE_OPERATION: usize = 0;

/// Expires every pending booking whose hold has lapsed, and returns how many it expired.
///
/// Due holds are found with one Query per page on the `HOLDS` partition, whose sort key starts
/// with the hold's expiry: no index, no scan. Each booking then expires in its own transaction:
/// the status change (conditioned on the booking still being pending), its seats given back, the
/// hold marker removed, the audit entry (by the system) and the expiry job. A booking paid or
/// cancelled meanwhile, or expired by a concurrent run, fails the condition and is skipped, so two
/// runs at once (or a run racing a payment) give every hold exactly one outcome and return its
/// seats at most once.
#[tracing::instrument(skip_all)]
pub async fn expire_holds(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    queue: Option<&dyn JobQueue>,
) -> Result<usize, DomainError> {
    let now = clock.now();
    let context = RequestContext {
        request_id: format!("expire-holds-{}", ids.new_id()),
        principal: None,
    };
    let mut query = Query::partition(None, HOLDS);
    query.sort = Some(SortCondition::LessOrEqual(records::holds_due_until(now)));
    query.limit = PAGE;
    let mut jobs = Vec::new();
    loop {
        let page = store.query(query.clone()).await?;
        for marker in &page.items {
            if let Some(job) = expire(store, clock, ids, &context, marker).await? {
                jobs.push(job);
            }
        }
        match page.last_evaluated_key {
            Some(last) => query.start_after = Some(last),
            None => break,
        }
    }
    outbox::dispatch(store, queue, &jobs).await;
    if !jobs.is_empty() {
        tracing::info!(expired = jobs.len(), "expired unpaid booking holds");
        metrics::HOLDS_EXPIRED.add(jobs.len() as u64, &[]);
    }
    Ok(jobs.len())
}

/// Expires the booking `marker` points at, if it is still pending; its job when it did.
async fn expire(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    context: &RequestContext,
    marker: &Item,
) -> Result<Option<Job>, DomainError> {
    let Some(id) = records::hold_booking_id(marker) else {
        tracing::error!(?marker, "a hold marker names no booking; skipping it");
        return Ok(None);
    };
    let current = match read(store, &id).await {
        Ok(booking) => booking,
        Err(DomainError::NotFound { .. }) => {
            tracing::error!(booking_id = %id, "a hold marker names a booking that does not exist");
            return Ok(None);
        }
        Err(error) => return Err(error),
    };
    if current.status != BookingStatus::Pending {
        // Paid, cancelled or expired after the marker was read: its transaction removed the
        // marker, and this run has nothing to do.
        return Ok(None);
    }
    let now = clock.now();
    let expired = expired(&current, now);
    let job = events::job(ids, &expired, JobKind::BookingExpired, now);
    let mut operations = vec![
        records::transition(
            &current,
            &expired,
            records::status_is(BookingStatus::Pending),
        ),
        records::return_seats(&current.flight_id, current.seats),
        events::audit_entry(&current, &expired, context, ids, now)?,
        outbox::stage(&job)?,
    ];
    operations.extend(records::delete_hold(&current));
    Ok(
        match transact_guarded(store, operations, EXPIRE_OPERATION).await? {
            Guarded::Committed => Some(job),
            // Paid, cancelled or expired by another run in between; a mere collision leaves the
            // booking pending with its marker, and the next run expires it.
            Guarded::Lost => None,
        },
    )
}

/// `booking` as expiry leaves it.
fn expired(booking: &Booking, now: DateTime<Utc>) -> Booking {
    Booking {
        status: BookingStatus::Expired,
        hold_expires_at: None,
        expired_at: Some(now),
        updated_at: now,
        ..booking.clone()
    }
}
