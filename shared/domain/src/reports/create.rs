//! Filing an issue report: who may report on which car, and what a critical report does to the
//! car, decided and written in one transaction.

use chrono::{DateTime, Utc};

use super::model::{CarAction, IssueReport, NewReport, ReportId, Severity};
use super::{notices, records};
use crate::audit::{self, Action, Change};
use crate::cars::{Car, CarStatus, car_key, status_attributes};
use crate::clock::{Clock, IdGenerator};
use crate::contention::{ATTEMPTS, Rounds};
use crate::contracts::{self, Contract, ContractStatus};
use crate::customers;
use crate::entity::{self, EntityKind, Owned, Versioned};
use crate::error::DomainError;
use crate::identity::{Principal, RequestContext};
use crate::jobs::{JobKind, JobQueue, outbox};
use crate::metrics;
use crate::storage::{
    Comparison, Condition, Store, StoreError, Update, VERSION_ATTRIBUTE, WriteOp, timestamp,
};

/// The position of a critical report's write on its car: right after the report's own put.
const CAR_OPERATION: usize = 1;

/// Files `new` for the caller: `open`, with the caller recorded as its reporter.
///
/// Who may report: staff on any car that exists (a `contractId` they name must be of that
/// car); a customer only on a car they rent or rented, that is one of their contracts of the
/// car is `active` or `completed` (when they name a `contractId`, that contract must be theirs,
/// of this car, and active or completed). Anything else is a 404 of the car or the contract,
/// never a 403, so a customer learns nothing about cars they never rented.
///
/// A `critical` report acts on the car in the same transaction, on condition that the car's
/// status is still the one read (a pickup or return meanwhile makes the next round decide
/// again): an `available` car goes to `maintenance` (one version on, with its own audit entry);
/// a `rented` one stays with its renter and every staff user is notified to keep it back at its
/// return; a car in `maintenance` stays there; a `retired` car stays retired. The report records
/// which ([`CarAction`]). Costs one to three reads and one transaction of two writes, plus, for
/// a critical report, the car's write and audit entry or the staff alerts.
#[tracing::instrument(
    skip_all,
    fields(car_id = %new.car_id, report_id, request_id = %context.request_id)
)]
pub async fn file_report(
    store: &dyn Store,
    clock: &dyn Clock,
    ids: &dyn IdGenerator,
    queue: Option<&dyn JobQueue>,
    context: &RequestContext,
    new: &NewReport,
) -> Result<IssueReport, DomainError> {
    let caller = context.caller()?;
    let mut car: Car = entity::find(store, &new.car_id).await?;
    may_report(store, context, caller, new).await?;
    let id = ReportId::from(ids.new_id());
    tracing::Span::current().record("report_id", id.as_str());
    let mut rounds = Rounds::default();
    for attempt in 0..ATTEMPTS {
        let now = clock.now();
        let action = (new.severity == Severity::Critical).then(|| car_action(car.status));
        let report = IssueReport::filed(id.clone(), new, caller.user_id.clone(), action, now);
        let alerts = match action {
            Some(CarAction::StaffNotified) => {
                let (kind, name) = (JobKind::CriticalIssueOnRental, car.label());
                notices::staff_users(store)
                    .await?
                    .iter()
                    .map(|user| notices::job(ids, kind.clone(), user, (&report, &name), now))
                    .collect()
            }
            _ => Vec::new(),
        };
        let mut extra = match action {
            Some(action) => on_car(&car, action, context, ids, now)?,
            None => Vec::new(),
        };
        extra.extend(
            alerts
                .iter()
                .map(outbox::stage)
                .collect::<Result<Vec<_>, _>>()?,
        );
        let operations =
            entity::creation(&report, records::item(&report)?, extra, context, now, ids)?;
        match store.transact(operations).await {
            Ok(()) => {
                metrics::ISSUES_REPORTED.increment(&[("severity", report.severity.as_str())]);
                outbox::dispatch(store, queue, &alerts).await;
                return Ok(report);
            }
            Err(StoreError::TransactionConditionFailed {
                index: CAR_OPERATION,
            }) if action.is_some() => car = entity::find(store, &new.car_id).await?,
            Err(error) => rounds.wait_after(attempt, error).await?,
        }
    }
    Err(rounds.exhausted("The car is changing right now; retry the request."))
}

/// What a critical report does about a car in `status`.
fn car_action(status: CarStatus) -> CarAction {
    match status {
        CarStatus::Available => CarAction::MovedToMaintenance,
        CarStatus::Rented => CarAction::StaffNotified,
        CarStatus::Maintenance => CarAction::AlreadyInMaintenance,
        CarStatus::Retired => CarAction::CarRetired,
    }
}

/// The writes of a critical report on `car`, each on condition that its status is still the
/// one read: the move to maintenance with the car's audit entry, or (the car left as it is) a
/// check of its status, so the action the report records is the one that held at its commit.
fn on_car(
    car: &Car,
    action: CarAction,
    context: &RequestContext,
    ids: &dyn IdGenerator,
    now: DateTime<Utc>,
) -> Result<Vec<WriteOp>, StoreError> {
    let unchanged = Condition::compare("status", Comparison::Equal, car.status.as_str());
    if action != CarAction::MovedToMaintenance {
        return Ok(vec![WriteOp::Check {
            key: car_key(&car.id),
            condition: unchanged,
        }]);
    }
    let mut changed = car.clone();
    changed.status = CarStatus::Maintenance;
    changed.advance(car.version + 1, now);
    let mut update = Update::new(car_key(&car.id));
    update.set.extend(status_attributes(CarStatus::Maintenance));
    update
        .set
        .push(("updatedAt".into(), serde_json::Value::from(timestamp(now))));
    update.add.push((VERSION_ATTRIBUTE.into(), 1));
    update.condition = Some(unchanged);
    let (before, after) = Change::diff(&car.view()?, &changed.view()?);
    let change = Change {
        entity_type: EntityKind::Car,
        entity_id: car.id.to_string(),
        action: Action::Update,
        before,
        after,
    };
    Ok(vec![
        WriteOp::Update(update),
        audit::entry(&change, context, now, ids.new_id()),
    ])
}

/// Whether the caller may report on the car `new` names (which exists): staff always, with a
/// named contract of that car; a customer when they rent or rented it. Refusals are 404s.
async fn may_report(
    store: &dyn Store,
    context: &RequestContext,
    caller: &Principal,
    new: &NewReport,
) -> Result<(), DomainError> {
    let contract_gone = || DomainError::NotFound {
        entity: EntityKind::Contract,
    };
    let car_gone = || DomainError::NotFound {
        entity: EntityKind::Car,
    };
    if let Some(contract_id) = &new.contract_id {
        let contract: Contract = entity::find(store, contract_id).await?;
        let rental = matches!(
            contract.status,
            ContractStatus::Active | ContractStatus::Completed
        );
        let fits = contract.car_id == new.car_id
            && (caller.is_staff() || (rental && contract.visible_to(&caller.user_id, false)));
        return if fits { Ok(()) } else { Err(contract_gone()) };
    }
    if caller.is_staff() {
        return Ok(());
    }
    let customer = match customers::get_my_customer(store, context).await {
        Ok(customer) => customer,
        Err(DomainError::NotFound { .. }) => return Err(car_gone()),
        Err(other) => return Err(other),
    };
    if contracts::has_rented(store, &customer.id, &new.car_id).await? {
        Ok(())
    } else {
        Err(car_gone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cars::sample_car;
    use crate::clock::UuidV7Ids as SystemIds;
    use crate::jobs::Job;

    /// The alert a critical report on a rented car stages for `user`.
    fn alert(ids: &dyn IdGenerator, report: &IssueReport, user: &crate::identity::UserId) -> Job {
        notices::job(
            ids,
            JobKind::CriticalIssueOnRental,
            user,
            (report, "car"),
            report.created_at,
        )
    }

    #[test]
    fn a_critical_report_acts_on_the_car_by_its_status() {
        assert_eq!(
            car_action(CarStatus::Available),
            CarAction::MovedToMaintenance
        );
        assert_eq!(car_action(CarStatus::Rented), CarAction::StaffNotified);
        assert_eq!(
            car_action(CarStatus::Maintenance),
            CarAction::AlreadyInMaintenance
        );
        assert_eq!(car_action(CarStatus::Retired), CarAction::CarRetired);
    }

    #[test]
    fn an_available_car_goes_to_maintenance_only_while_still_available_and_is_audited() {
        let context = RequestContext {
            request_id: "test".into(),
            principal: None,
        };
        let writes = on_car(
            &sample_car(),
            CarAction::MovedToMaintenance,
            &context,
            &SystemIds,
            Utc::now(),
        )
        .unwrap();
        let WriteOp::Update(update) = &writes[0] else {
            panic!("{writes:?}");
        };
        assert!(
            update
                .set
                .iter()
                .any(|(name, value)| name == "status" && value == "maintenance")
        );
        assert!(
            update
                .set
                .iter()
                .any(|(name, value)| name == "gsi2pk" && value == "CARS#STATUS#maintenance")
        );
        assert_eq!(
            update.condition,
            Some(Condition::compare("status", Comparison::Equal, "available"))
        );
        assert_eq!(writes.len(), 2, "the car's change has its audit entry");
        let rented = Car {
            status: CarStatus::Rented,
            ..sample_car()
        };
        let check = on_car(
            &rented,
            CarAction::StaffNotified,
            &context,
            &SystemIds,
            Utc::now(),
        )
        .unwrap();
        assert!(matches!(&check[..], [WriteOp::Check { condition, .. }]
            if *condition == Condition::compare("status", Comparison::Equal, "rented")));
    }

    #[test]
    fn each_staff_user_gets_an_alert_of_their_own() {
        let report = crate::reports::model::tests::report();
        let first = alert(
            &SystemIds,
            &report,
            &crate::identity::UserId::from(uuid::Uuid::nil()),
        );
        let second = alert(
            &SystemIds,
            &report,
            &crate::identity::UserId::from(uuid::Uuid::max()),
        );
        assert_ne!(first.dedup_key(), second.dedup_key());
        assert!(
            first
                .dedup_key()
                .starts_with(&format!("critical-issue-on-rental#{}#", report.id))
        );
    }
}
