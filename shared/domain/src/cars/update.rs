//! Changing a car's plate, rate, category, status or mileage under optimistic locking.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::model::{Car, CarChanges, CarId, CarStatus};
use super::records;
use crate::calendar::Day;
use crate::clock::{Clock, IdGenerator};
use crate::entity::{self, Changeable, EntityId, Revision};
use crate::error::DomainError;
use crate::fleet;
use crate::identity::RequestContext;
use crate::storage::{Item, Store};
use crate::version::Precondition;

/// Changes the car `id` names ([`Changeable::revise`] under the caller's precondition), and holds
/// a car in `maintenance` that would become `available` without a current insurance policy and
/// registration (409 naming which; `crate::fleet` says what "current" is). The papers are read
/// only for a change to `available`, before the car; the rule applies when the car read is in
/// `maintenance`. Costs one read and one transaction per attempt, plus two Queries of the car's
/// papers for a change to `available`.
#[tracing::instrument(skip(store, clock, ids, context, changes), fields(id = %id, request_id = %context.request_id))]
pub async fn update_car(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    context: &RequestContext,
    id: &CarId,
    changes: &CarChanges,
    precondition: &Precondition,
) -> Result<Car, DomainError> {
    let missing = match changes.status {
        Some(CarStatus::Available) => {
            fleet::missing_papers(store, id, Day::today(clock.now())).await?
        }
        _ => Vec::new(),
    };
    let revise = |car: &Car, item: &Item, now| {
        if car.status == CarStatus::Maintenance && !missing.is_empty() {
            return Err(fleet::missing_papers_refusal(&missing));
        }
        car.revise(changes, item, now)
    };
    entity::update(store, clock, ids, context, &id.key(), precondition, revise).await
}

/// A car's change ([`super::update_car`]) sets only the changed attributes (with their index
/// keys) under the version read, with the audit entry of the changed fields, so a concurrent
/// change, or a contract counted on the car meanwhile, is never overwritten. A new plate is
/// claimed and the old one released in the same transaction: a plate another car holds is a 409
/// naming it, and the old plate is free for another car the moment the change commits. Costs one
/// read and one transaction of two writes, four when the plate changes.
///
/// Two rules hold against the car as stored: the status never moves to or from `rented` (a
/// contract's pickup and return own it), and the mileage never goes down (an odometer only
/// counts up; a lower reading is a 409 against the stored one, as it is the state, not the
/// request's form, that refuses it).
impl Changeable for Car {
    type Changes = CarChanges;

    fn revise(
        &self,
        changes: &CarChanges,
        _: &Item,
        _: DateTime<Utc>,
    ) -> Result<Revision<Self>, DomainError> {
        let mut changed = self.clone();
        let mut set = Vec::new();
        if let Some(status) = changes.status.filter(|status| *status != self.status) {
            if status == CarStatus::Rented {
                return Err(DomainError::Invalid {
                    field: "status",
                    message: format!("must be one of: {}", CarStatus::SETTABLE.join(", ")),
                });
            }
            if self.status == CarStatus::Rented {
                return Err(DomainError::Conflict {
                    detail: "The car is rented: its status changes when the contract's car is \
                             returned."
                        .into(),
                });
            }
            changed.status = status;
            set.extend(records::status_attributes(status));
        }
        if let Some(mileage) = changes.mileage {
            if mileage < self.mileage {
                return Err(DomainError::Conflict {
                    detail: format!(
                        "The mileage cannot go down: the car has {} km recorded.",
                        self.mileage.get()
                    ),
                });
            }
            changed.mileage = mileage;
            set.push(("mileage".to_owned(), Value::from(mileage.get())));
        }
        if let Some(rate) = &changes.daily_rate {
            changed.daily_rate = rate.clone();
            set.push(("dailyRate".to_owned(), Value::from(rate.money())));
        }
        if let Some(category) = changes.category {
            changed.category = category;
            set.extend(records::category_attributes(&changed));
        }
        let mut plate = None;
        if let Some(license_plate) = &changes.license_plate {
            changed.license_plate = license_plate.clone();
            set.push((
                "licensePlate".to_owned(),
                Value::from(license_plate.as_str()),
            ));
            plate = Some((
                records::plate_claim(&self.id, &self.license_plate),
                records::plate_claim(&self.id, license_plate),
            ));
        }
        let mut revision = Revision::new(changed, set);
        if let Some((held, wanted)) = plate {
            revision.reclaim(held, wanted);
        }
        Ok(revision)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cars::{LicencePlate, Mileage};

    fn car(status: CarStatus) -> Car {
        Car {
            status,
            ..records::tests::car()
        }
    }

    fn revise(car: &Car, changes: CarChanges) -> Result<Revision<Car>, DomainError> {
        car.revise(&changes, &Item::new(), Utc::now())
    }

    #[test]
    fn the_status_never_moves_to_or_from_rented() {
        let to_rented = CarChanges {
            status: Some(CarStatus::Rented),
            ..CarChanges::default()
        };
        assert!(matches!(
            revise(&car(CarStatus::Available), to_rented),
            Err(DomainError::Invalid {
                field: "status",
                ..
            })
        ));
        let to_maintenance = CarChanges {
            status: Some(CarStatus::Maintenance),
            ..CarChanges::default()
        };
        assert!(matches!(
            revise(&car(CarStatus::Rented), to_maintenance.clone()),
            Err(DomainError::Conflict { .. })
        ));
        let revision = revise(&car(CarStatus::Available), to_maintenance).unwrap();
        assert_eq!(revision.entity.status, CarStatus::Maintenance);
        assert!(
            revision
                .set
                .iter()
                .any(|(name, value)| name == "gsi2pk" && value == "CARS#STATUS#maintenance")
        );
    }

    #[test]
    fn the_mileage_never_goes_down() {
        let at = |km| CarChanges {
            mileage: Some(Mileage::try_from(km).unwrap()),
            ..CarChanges::default()
        };
        let current = car(CarStatus::Available);
        assert!(matches!(
            revise(&current, at(11_999)),
            Err(DomainError::Conflict { .. })
        ));
        assert!(revise(&current, at(12_000)).is_ok());
        assert_eq!(
            revise(&current, at(15_000)).unwrap().entity.mileage.get(),
            15_000
        );
    }

    #[test]
    fn a_new_plate_is_claimed_and_the_old_one_released_together() {
        let current = car(CarStatus::Available);
        let new_plate = |raw| CarChanges {
            license_plate: Some(LicencePlate::parse(raw).unwrap()),
            ..CarChanges::default()
        };
        let revision = revise(&current, new_plate("XY 99 Z")).unwrap();
        assert_eq!(
            revision.claims,
            [records::plate_claim(
                &current.id,
                &LicencePlate::parse("XY99Z").unwrap()
            )]
        );
        assert_eq!(
            revision.writes,
            [records::plate_claim(&current.id, &current.license_plate).release()]
        );
        let same = revise(&current, new_plate("ab12cd")).unwrap();
        assert!(same.claims.is_empty() && same.writes.is_empty());
    }
}
