//! Listing bookings, newest first: one user's, one flight's, or all of them.

use super::model::{Booking, BookingStatus};
use super::records::{self, ALL_BOOKINGS, ALL_INDEX, FLIGHT_INDEX, USER_INDEX};
use crate::entity;
use crate::error::DomainError;
use crate::flights::FlightId;
use crate::identity::UserId;
use crate::pagination::PageLimit;
use crate::storage::{Comparison, Condition, Item, Order, Query, Store};

/// Whose bookings a list reads: each is one index partition.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub enum BookingScope {
    /// One user's (`gsi1`, `USER_BOOKINGS#<user>`): what a customer sees.
    User(UserId),
    /// One flight's (`gsi2`, `FLIGHT_BOOKINGS#<flight>`).
    Flight(FlightId),
    /// Every booking (`gsi3`, `BOOKINGS`).
    All,
}

/// Which bookings a list shows; serialized whole, it is what a list's cursors are bound to.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BookingFilter {
    pub scope: BookingScope,
    /// Only bookings in this status.
    pub status: Option<BookingStatus>,
    /// Only bookings of this flight, within a user's bookings.
    pub flight_id: Option<FlightId>,
}

/// One page of bookings and the key the next page starts after.
#[derive(Debug)]
pub struct BookingPage {
    pub bookings: Vec<Booking>,
    pub next: Option<Item>,
}

/// One Query on the scope's index partition, newest first; status and flight are filters on it
/// (they cost the reads of the items they drop, bounded per page). Never a scan.
#[tracing::instrument(skip(store, start_after))]
pub async fn list_bookings(
    store: &dyn Store,
    filter: &BookingFilter,
    limit: PageLimit,
    start_after: Option<Item>,
) -> Result<BookingPage, DomainError> {
    let mut query = match &filter.scope {
        BookingScope::User(user) => {
            Query::partition(Some(USER_INDEX), records::user_partition(user))
        }
        BookingScope::Flight(flight) => {
            Query::partition(Some(FLIGHT_INDEX), records::flight_partition(flight))
        }
        BookingScope::All => Query::partition(Some(ALL_INDEX), ALL_BOOKINGS),
    };
    query.order = Order::Descending;
    query.filter = conditions(filter);
    let page = entity::list(store, query, limit, start_after).await?;
    Ok(BookingPage {
        bookings: page.items,
        next: page.next,
    })
}

fn conditions(filter: &BookingFilter) -> Option<Condition> {
    let flight = match filter.scope {
        BookingScope::Flight(_) => None,
        _ => filter.flight_id.as_ref(),
    };
    let mut conditions: Vec<Condition> = [
        filter.status.map(records::status_is),
        flight.map(|flight| Condition::compare("flightId", Comparison::Equal, flight.as_str())),
    ]
    .into_iter()
    .flatten()
    .collect();
    match conditions.len() {
        0 => None,
        1 => conditions.pop(),
        _ => Some(Condition::And(conditions)),
    }
}
