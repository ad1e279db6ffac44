//! Booking seats on a flight: the seats are taken in the same transaction that writes the booking,
//! so a booking exists exactly when its seats were taken.

use chrono::{DateTime, Utc};
use serde_json::Map;

use super::model::{Booking, BookingId, BookingSettings, BookingStatus, FlightSummary, NewBooking};
use super::records;
use crate::audit::{self, Action, Change};
use crate::clock::{Clock, IdGenerator};
use crate::contention::{ATTEMPTS, Rounds};
use crate::error::DomainError;
use crate::flights::{Flight, FlightStatus, get_flight};
use crate::idempotency::{
    self, Begin, Claim, Fingerprint, IdempotencyKey, IdempotencyScope, StoredResponse,
};
use crate::identity::{Principal, RequestContext};
use crate::metrics;
use crate::storage::{Condition, Put, Store, StoreError, WriteOp};

/// The name idempotency records of booking creations are kept under.
pub const CREATE_OPERATION: &str = "create-booking";

/// The positions of the operations whose conditions can fail for a reason the caller must hear.
const FLIGHT_OPERATION: usize = 0;
const IDEMPOTENCY_OPERATION: usize = 4;
const FLIGHT_HOLD_OPERATION: usize = 5;
const PENDING_COUNT_OPERATION: usize = 6;

/// How a creation request ended.
#[derive(Debug)]
pub enum CreateOutcome {
    /// A new booking, and the response recorded for retries of the request.
    Created {
        booking: Box<Booking>,
        response: StoredResponse,
    },
    /// The request was made before with the same key: its first response.
    Replayed(StoredResponse),
}

impl CreateOutcome {
    /// What the caller is answered, the same for the first request and every retry.
    pub fn response(&self) -> &StoredResponse {
        match self {
            Self::Created { response, .. } | Self::Replayed(response) => response,
        }
    }
}

/// Books `new.seats` seats on a flight for the caller, under the idempotency key `key`.
///
/// One transaction: the flight's `remainingSeats` decremented on condition that enough remain,
/// the flight is scheduled and its price is still the one the total was computed from; the
/// booking put as `pending` with its hold expiry, the hold marker, the audit entry, the
/// idempotency record's completion with the response `respond` renders; and the caller's open
/// holds: a marker for this flight (created only if they hold no pending booking on it) and their
/// count of pending bookings (incremented only while below `settings.max_pending`). The seat
/// condition makes overselling impossible: of concurrent requests for the last seats, the store
/// lets exactly as many commit as there are seats; the hold conditions likewise let no customer
/// exceed their cap however many requests they send at once. Transactions that collide
/// (DynamoDB's `TransactionConflict`) or are throttled are retried with jittered backoff, and a
/// failed condition is explained from what it guards read again (unknown flight 404; not
/// scheduled, sold out, already held by the caller or over the cap 409; a new price is simply
/// used, so the total is always the fare the seats were taken at), so a request loses only when
/// it really must.
///
/// A retry with the same key and request replays the first response; the same key with another
/// request is a 422; while the first is still running, a 409. A failed request releases its key
/// so the client may retry with it. A request that what it reads already refuses (sold out,
/// departed, over the cap, unknown flight) under a key never used is refused before any claim,
/// writing nothing.
#[allow(clippy::too_many_arguments)]
#[tracing::instrument(
    skip_all,
    fields(
        flight_id = %new.flight_id,
        seats = new.seats.get(),
        booking_id,
        request_id = %context.request_id
    )
)]
pub async fn create_booking(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    settings: &BookingSettings,
    context: &RequestContext,
    key: &IdempotencyKey,
    new: &NewBooking,
    respond: fn(&Booking) -> Result<StoredResponse, StoreError>,
) -> Result<CreateOutcome, DomainError> {
    let caller = context.caller()?;
    let scope = IdempotencyScope::new(CREATE_OPERATION, &caller.user_id);
    let fingerprint = Fingerprint::of(new)?;
    // Read first, claim only what may succeed: when the flight or the caller's cap refuses the
    // request and its key was never used, the refusal costs three reads instead of a claim
    // written and deleted, both durable, on every request hammering a sold-out flight.
    let (unused, seen) = tokio::try_join!(
        async { Ok::<_, DomainError>(idempotency::unused(store, &scope, key).await?) },
        read_state(store, caller, new),
    )?;
    if unused && let Some(refusal) = refusal_of(&seen, settings, new, clock.now()) {
        return Err(refusal);
    }
    let claim = match idempotency::begin(store, clock, &scope, key, &fingerprint).await? {
        Begin::Replay(response) => return Ok(CreateOutcome::Replayed(response)),
        Begin::Proceed(claim) => claim,
    };
    let request = Request {
        store,
        clock,
        ids,
        settings,
        context,
        caller,
        new,
        claim: &claim,
        respond,
    };
    let outcome = request.hold_seats(Some(seen)).await;
    if outcome.is_err()
        && let Err(error) = claim.release(store).await
    {
        // The key stays claimed until its lease lapses; the client's retry waits that long.
        tracing::warn!(
            error = %crate::error::chain(&error),
            "could not release an idempotency key"
        );
    }
    outcome
}

/// One creation request, once its key is claimed.
struct Request<'a> {
    store: &'a dyn Store,
    clock: &'a dyn Clock,
    ids: &'a dyn IdGenerator,
    settings: &'a BookingSettings,
    context: &'a RequestContext,
    caller: &'a Principal,
    new: &'a NewBooking,
    claim: &'a Claim,
    respond: fn(&Booking) -> Result<StoredResponse, StoreError>,
}

/// What a booking round decides on: the flight, and the caller's count of pending bookings
/// (`None` before their first).
struct Seen {
    flight: Flight,
    pending: Option<i64>,
}

/// Reads the flight and the caller's pending count, in parallel.
async fn read_state(
    store: &dyn Store,
    caller: &Principal,
    new: &NewBooking,
) -> Result<Seen, DomainError> {
    let (flight, counter) = tokio::try_join!(get_flight(store, &new.flight_id), async {
        let key = records::pending_counter_key(&caller.user_id);
        Ok(store.get(&key).await?)
    })?;
    Ok(Seen {
        flight,
        pending: records::pending_count(counter.as_ref()),
    })
}

/// Why what was read refuses the booking at `now`, if it does: the flight's state, or the
/// caller's cap on pending bookings.
fn refusal_of(
    seen: &Seen,
    settings: &BookingSettings,
    new: &NewBooking,
    now: DateTime<Utc>,
) -> Option<DomainError> {
    if let Some(refusal) = refusal(&seen.flight, new, now) {
        return Some(refusal);
    }
    seen.pending
        .is_some_and(|held| held >= i64::from(settings.max_pending))
        .then(|| over_the_cap(settings))
}

impl Request<'_> {
    /// Books, deciding the first round on `seen` (read before the claim; the transaction's
    /// conditions catch anything that moved since) and every later round on a fresh read.
    async fn hold_seats(&self, mut seen: Option<Seen>) -> Result<CreateOutcome, DomainError> {
        let id = BookingId::from(self.ids.new_id());
        tracing::Span::current().record("booking_id", id.as_str());
        let mut rounds = Rounds::default();
        for attempt in 0..ATTEMPTS {
            let round = match seen.take() {
                Some(seen) => seen,
                None => read_state(self.store, self.caller, self.new).await?,
            };
            let now = self.clock.now();
            if let Some(refusal) = refusal_of(&round, self.settings, self.new, now) {
                return Err(refusal);
            }
            let Seen { flight, pending } = round;
            let hold_expires_at = now + self.settings.hold;
            let booking = self.booking(&id, &flight, now, hold_expires_at)?;
            let response = (self.respond)(&booking)?;
            let change = Change {
                entity_type: records::ENTITY,
                entity_id: id.to_string(),
                action: Action::Create,
                before: Map::new(),
                after: records::view(&booking)?,
            };
            let operations = vec![
                records::take_seats(&flight, self.new.seats),
                WriteOp::Put(Put {
                    item: records::new_item(&booking)?,
                    condition: Some(Condition::ItemNotExists),
                }),
                records::put_hold(&booking, hold_expires_at),
                audit::entry(&change, self.context, now, self.ids.new_id()),
                self.claim.complete(&response),
                records::put_flight_hold(&booking),
                records::count_pending(&self.caller.user_id, pending, self.settings.max_pending),
            ];
            match self.store.transact(operations).await {
                Ok(()) => {
                    metrics::BOOKINGS_CREATED.increment(&[]);
                    return Ok(CreateOutcome::Created {
                        booking: Box::new(booking),
                        response,
                    });
                }
                // The seats went, the flight changed (its status or its price), or the caller's
                // count of pending bookings moved: the next round reads them again and says
                // which, or books again (at the new price, or as seats or a slot came back).
                Err(StoreError::TransactionConditionFailed {
                    index: FLIGHT_OPERATION | PENDING_COUNT_OPERATION,
                }) => {}
                Err(StoreError::TransactionConditionFailed {
                    index: IDEMPOTENCY_OPERATION,
                }) => return Err(idempotency::in_progress()),
                Err(StoreError::TransactionConditionFailed {
                    index: FLIGHT_HOLD_OPERATION,
                }) => {
                    if let Some(refusal) = self.already_held().await? {
                        return Err(refusal);
                    }
                }
                // A collision or throttling: nothing was written, wait and try again.
                Err(error) => rounds.wait_after(attempt, error).await?,
            }
        }
        // Still throttled at the last attempt: the store is overloaded (a 503 with `Retry-After`),
        // not the flight contended.
        Err(rounds.exhausted("The flight is in high demand right now; retry the request."))
    }

    /// The refusal naming the caller's pending booking on the flight; `None` when it stopped
    /// being pending since the transaction failed (the next round books).
    async fn already_held(&self) -> Result<Option<DomainError>, DomainError> {
        let key = records::flight_hold_key(&self.caller.user_id, &self.new.flight_id);
        let marker = self.store.get(&key).await?;
        Ok(marker.as_ref().map(|marker| {
            let held = records::hold_booking_id(marker)
                .map_or_else(|| "a booking".to_owned(), |id| format!("booking {id}"));
            DomainError::Conflict {
                detail: format!(
                    "You already hold {held} on this flight, unpaid; pay for or cancel it \
                     before booking the flight again."
                ),
            }
        }))
    }

    /// The pending booking for `flight`, made at `now`, holding its seats until `hold_expires_at`.
    fn booking(
        &self,
        id: &BookingId,
        flight: &Flight,
        now: DateTime<Utc>,
        hold_expires_at: DateTime<Utc>,
    ) -> Result<Booking, DomainError> {
        let total = flight
            .price
            .times(u32::from(self.new.seats.get()))
            .ok_or_else(|| DomainError::Invalid {
                field: "seats",
                message: "the total price of this many seats is too large".into(),
            })?;
        Ok(Booking {
            id: id.clone(),
            flight_id: flight.id.clone(),
            user_id: self.caller.user_id.clone(),
            seats: self.new.seats,
            total,
            status: BookingStatus::Pending,
            hold_expires_at: Some(hold_expires_at),
            created_at: now,
            updated_at: now,
            confirmed_at: None,
            cancelled_at: None,
            expired_at: None,
            refund: None,
            refunded_at: None,
            flight: FlightSummary {
                number: flight.flight_number.as_str().to_owned(),
                from: flight.from.to_string(),
                to: flight.to.to_string(),
                departure_time: flight.departure_time,
            },
            payment_id: None,
        })
    }
}

/// Why `flight` cannot take the booking right now, if it cannot.
/// The refusal of a caller who holds as many pending bookings as they may.
fn over_the_cap(settings: &BookingSettings) -> DomainError {
    DomainError::Conflict {
        detail: format!(
            "You already hold {} unpaid bookings, the most allowed at once; pay for or cancel \
             one of them first.",
            settings.max_pending
        ),
    }
}

fn refusal(flight: &Flight, new: &NewBooking, now: DateTime<Utc>) -> Option<DomainError> {
    let conflict = |detail: String| Some(DomainError::Conflict { detail });
    if flight.status != FlightStatus::Scheduled {
        return conflict(format!(
            "The flight is {} and cannot be booked.",
            flight.status
        ));
    }
    if flight.departure_time <= now {
        return conflict("The flight has already departed.".into());
    }
    let wanted = u16::from(new.seats.get());
    let left = flight.remaining_seats;
    if left >= wanted {
        return None;
    }
    // Counted here, where the refusal is decided, on whichever attempt finds the seats gone.
    metrics::SOLD_OUT_REFUSALS.increment(&[]);
    match left {
        0 => conflict("The flight is sold out.".into()),
        left => conflict(format!(
            "Only {left} seat(s) are left on the flight; {wanted} were requested."
        )),
    }
}
