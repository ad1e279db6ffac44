//! Finding a car by its licence plate.

use super::model::{CarId, LicencePlate};
use crate::entity::{self, EntityKind};
use crate::error::DomainError;
use crate::storage::{Store, StoreError};

/// The id of the car holding `plate`, if any: the holder of the plate's claim. Costs one read.
pub async fn car_with_plate(
    store: &dyn Store,
    plate: &LicencePlate,
) -> Result<Option<CarId>, DomainError> {
    let Some(holder) = entity::holder(store, EntityKind::CarPlate, plate.as_str()).await? else {
        return Ok(None);
    };
    let id = CarId::parse(&holder)
        .ok_or_else(|| StoreError::internal("a car-plate claim held by no car id"))?;
    Ok(Some(id))
}
