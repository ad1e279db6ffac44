//! A critical issue report racing the pickup of the same car, on both store families: the use
//! cases run directly on a multi-threaded runtime, released together by a barrier. Whatever the
//! interleaving, the outcome is one of two consistent states: the report committed first (the
//! car in maintenance, the pickup refused, the contract still reserved) or the pickup did (the
//! car rented, the contract active, the report recording that staff were notified).

use std::sync::Arc;

use itinera::accounts::Email;
use itinera::cars::{
    Car, CarCategory, CarModel, CarStatus, DailyRate, LicencePlate, Manufacturer, Mileage,
    ModelYear, NewCar, Vin, create_car,
};
use itinera::clock::UuidV7Ids;
use itinera::contracts::{Contract, ContractStatus, pick_up_contract};
use itinera::entity;
use itinera::error::DomainError;
use itinera::money::{Currency, Money};
use itinera::reports::{CarAction, Description, NewReport, Severity, file_report};
use itinera_tests::{Backend, context_of};
use tokio::sync::Barrier;

use crate::contract_concurrency::{Rental, rental_for};

/// How many races each family runs, each on a car of its own.
const ROUNDS: u32 = 6;

/// A second car for the rental's customer, `RACE<n>`.
async fn another_car(rental: &Rental, n: u32) -> Rental {
    let car = NewCar {
        license_plate: LicencePlate::parse(&format!("RACE {n}")).unwrap(),
        vin: Vin::parse(&format!("1HGCM82633B{n:06}")).unwrap(),
        manufacturer: Manufacturer::parse("Toyota").unwrap(),
        model: CarModel::parse("Corolla").unwrap(),
        year: ModelYear::try_from(2026).unwrap(),
        category: CarCategory::Compact,
        daily_rate: DailyRate::new(Money::new(4_500, Currency::parse("EUR").unwrap()).unwrap())
            .unwrap(),
        mileage: Mileage::try_from(1_000).unwrap(),
    };
    let context = context_of(&rental.staff);
    let car = create_car(&*rental.store, &*rental.clock, &UuidV7Ids, &context, car)
        .await
        .unwrap();
    Rental {
        store: Arc::clone(&rental.store),
        clock: Arc::clone(&rental.clock),
        staff: rental.staff.clone(),
        car: car.id,
        customer: rental.customer.clone(),
    }
}

async fn a_critical_report_racing_a_pickup_ends_in_one_consistent_state(backend: Backend) {
    let first = rental_for(&backend, Email::parse("ann.lee@example.com").unwrap(), None).await;
    let (mut reported_first, mut picked_up_first) = (0, 0);
    for round in 0..ROUNDS {
        let rental = another_car(&first, round).await;
        let contract = rental.reserve(0, 1).await.unwrap();
        let barrier = Arc::new(Barrier::new(2));
        let pickup = {
            let (store, clock, context) = rental.staff_side();
            let (barrier, id) = (Arc::clone(&barrier), contract.id.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                let mileage = Mileage::try_from(1_000).unwrap();
                pick_up_contract(&*store, &*clock, &UuidV7Ids, &context, &id, mileage).await
            })
        };
        let report = {
            let (store, clock, context) = rental.staff_side();
            let barrier = Arc::clone(&barrier);
            let new = NewReport {
                car_id: rental.car.clone(),
                severity: Severity::Critical,
                description: Description::parse("Smoke from the engine bay").unwrap(),
                contract_id: None,
            };
            tokio::spawn(async move {
                barrier.wait().await;
                file_report(&*store, &*clock, &UuidV7Ids, None, &context, &new).await
            })
        };
        let (pickup, report) = (pickup.await.unwrap(), report.await.unwrap().unwrap());
        let car: Car = entity::find(&*rental.store, &rental.car).await.unwrap();
        let stored: Contract = entity::find(&*rental.store, &contract.id).await.unwrap();
        match pickup {
            Ok(_) => {
                picked_up_first += 1;
                assert_eq!(report.car_action, Some(CarAction::StaffNotified));
                assert_eq!(car.status, CarStatus::Rented);
                assert_eq!(stored.status, ContractStatus::Active);
            }
            Err(DomainError::Conflict { detail }) => {
                reported_first += 1;
                assert!(detail.contains("maintenance"), "{detail}");
                assert_eq!(report.car_action, Some(CarAction::MovedToMaintenance));
                assert_eq!(car.status, CarStatus::Maintenance);
                assert_eq!(stored.status, ContractStatus::Reserved);
            }
            Err(other) => panic!("round {round}: the pickup failed otherwise: {other:?}"),
        }
    }
    assert_eq!(reported_first + picked_up_first, ROUNDS);
}

on_both_families!(a_critical_report_racing_a_pickup_ends_in_one_consistent_state);
