//! Scheduling a new flight.

use super::model::{Flight, FlightId, FlightStatus, NewFlight};
use super::records;
use crate::airplanes::{Airplane, get_airplane};
use crate::airports::{Airport, TIME_ZONE, get_airport};
use crate::clock::{Clock, IdGenerator};
use crate::entity;
use crate::error::DomainError;
use crate::identity::RequestContext;
use crate::storage::{Comparison, Condition, Store, StoreError, WriteOp};

/// How often the creation reads again and retries when the airplane or the origin changed
/// between the read and the write.
const ATTEMPTS: usize = 3;

/// The positions of the operations of the transaction; the audit entry comes last.
const AIRPLANE_OPERATION: usize = 1;
const ORIGIN_OPERATION: usize = 2;
const DESTINATION_OPERATION: usize = 3;

/// Stores a new scheduled flight with all its airplane's seats free, in one transaction with
/// everything that must agree with it: the flight (op 0, a fresh id), its airplane's
/// `activeFlights` + 1 (op 1, on the capacity read), each airport's `flightCount` + 1 (ops 2 and
/// 3, the origin on the time zone read), and the audit entry. So the flight never exists without
/// its airplane and airports, and neither of them can be deleted while it does.
///
/// The airplane and the airports are named in the request body, so their absence is a
/// validation error of that field (400 naming `airplaneId`, `from` or `to`), which the client
/// fixes by changing the body; a 404 would claim that `/v1/flights` itself does not exist.
/// Costs two reads (airplane, origin) and one transaction of five writes.
#[tracing::instrument(skip_all, fields(flight_id, request_id = %context.request_id))]
pub async fn create_flight(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    context: &RequestContext,
    new: NewFlight,
) -> Result<Flight, DomainError> {
    let now = clock.now();
    if new.schedule.departure() <= now {
        return Err(DomainError::Invalid {
            field: "departureTime",
            message: "must be in the future".into(),
        });
    }
    for _ in 0..ATTEMPTS {
        let airplane = read_airplane(store, &new).await?;
        let origin = read_origin(store, &new).await?;
        let flight = Flight {
            id: FlightId::from(ids.new_id()),
            flight_number: new.flight_number.clone(),
            airplane_id: new.airplane_id.clone(),
            from: new.leg.from().clone(),
            to: new.leg.to().clone(),
            departure_time: new.schedule.departure(),
            arrival_time: new.schedule.arrival(),
            price: new.price.clone(),
            total_seats: airplane.capacity.get(),
            remaining_seats: airplane.capacity.get(),
            status: FlightStatus::Scheduled,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        tracing::Span::current().record("flight_id", flight.id.as_str());
        // The seats come from the capacity read, and the search day from the zone read.
        let on_airplane = records::count_on_airplane(
            &airplane.id,
            1,
            vec![Condition::compare(
                "capacity",
                Comparison::Equal,
                airplane.capacity.get(),
            )],
        );
        let on_origin = records::count_on_airport(
            &origin.code,
            1,
            vec![Condition::compare(
                TIME_ZONE,
                Comparison::Equal,
                origin.time_zone.as_str(),
            )],
        );
        let on_destination = records::count_on_airport(new.leg.to(), 1, Vec::new());
        let operations = entity::creation(
            &flight,
            records::new_item(&flight, origin.time_zone)?,
            [on_airplane, on_origin, on_destination]
                .into_iter()
                .map(WriteOp::Update)
                .collect(),
            context,
            now,
            ids,
        )?;
        match store.transact(operations).await {
            Ok(()) => return Ok(flight),
            Err(StoreError::TransactionConditionFailed {
                index: DESTINATION_OPERATION,
            }) => return Err(unknown_airport("to")),
            // The airplane or the origin was deleted or changed after it was read, or a
            // concurrent transaction touched the same items: read both again.
            Err(StoreError::TransactionConditionFailed {
                index: AIRPLANE_OPERATION | ORIGIN_OPERATION,
            })
            | Err(StoreError::TransactionConflict) => continue,
            Err(other) => return Err(other.into()),
        }
    }
    Err(DomainError::Conflict {
        detail: "The flight's airplane or origin is being changed concurrently; retry the request."
            .into(),
    })
}

async fn read_airplane(store: &dyn Store, new: &NewFlight) -> Result<Airplane, DomainError> {
    get_airplane(store, &new.airplane_id)
        .await
        .map_err(|error| match error {
            DomainError::NotFound { .. } => DomainError::Invalid {
                field: "airplaneId",
                message: "names no airplane of the fleet".into(),
            },
            other => other,
        })
}

async fn read_origin(store: &dyn Store, new: &NewFlight) -> Result<Airport, DomainError> {
    get_airport(store, new.leg.from())
        .await
        .map_err(|error| match error {
            DomainError::NotFound { .. } => unknown_airport("from"),
            other => other,
        })
}

fn unknown_airport(field: &'static str) -> DomainError {
    DomainError::Invalid {
        field,
        message: "names no known airport".into(),
    }
}
