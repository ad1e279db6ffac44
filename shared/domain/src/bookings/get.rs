//! Reading one booking.

use super::model::{Booking, BookingId};
use super::records;
use crate::entity::EntityKind;
use crate::error::DomainError;
use crate::identity::Principal;
use crate::storage::Store;

/// How errors name bookings.
pub(crate) const ENTITY: EntityKind = EntityKind::Booking;

/// The booking, for its owner or staff; anyone else is told it does not exist, so booking ids
/// cannot be probed. One strongly consistent read.
#[tracing::instrument(skip(store, caller), fields(booking_id = %id))]
pub async fn get_booking(
    store: &dyn Store,
    caller: &Principal,
    id: &BookingId,
) -> Result<Booking, DomainError> {
    let booking = read(store, id).await?;
    if !booking.visible_to(&caller.user_id, caller.is_staff()) {
        return Err(DomainError::NotFound { entity: ENTITY });
    }
    Ok(booking)
}

/// The booking, whoever asks.
pub(crate) async fn read(store: &dyn Store, id: &BookingId) -> Result<Booking, DomainError> {
    Ok(read_state(store, id).await?.0)
}

/// The booking, whoever asks, with the money movements it has recorded and not settled.
pub(crate) async fn read_state(
    store: &dyn Store,
    id: &BookingId,
) -> Result<(Booking, records::Intents), DomainError> {
    match store.get(&records::key(id)).await? {
        Some(item) => {
            let intents = records::intents(&item);
            Ok((records::from_item(item)?, intents))
        }
        None => Err(DomainError::NotFound { entity: ENTITY }),
    }
}
