//! The jobs a contract hands the workers: the confirmation when it is reserved, and the pickup
//! and return reminders. Each carries a snapshot of the contract with the car named as people
//! name it, so the worker writes the email without reading the car or the customer again; it goes
//! to the user linked to the contract (a notification and an email), or, with no user linked, to
//! the customer's email address alone.

use chrono::{DateTime, Utc};

use super::model::Contract;
use crate::cars::Car;
use crate::clock::IdGenerator;
use crate::customers::Customer;
use crate::jobs::{ContractSnapshot, Job, JobId, JobKind, Recipient, Subject};

/// A job of `kind` about `contract` of `car` for `customer`, created `now`.
pub(crate) fn job(
    ids: &dyn IdGenerator,
    kind: JobKind,
    contract: &Contract,
    (car, customer): (&Car, &Customer),
    now: DateTime<Utc>,
) -> Job {
    let recipient = match &contract.user_id {
        Some(user) => Recipient::UserId(user.clone()),
        None => Recipient::Email(customer.email.clone()),
    };
    Job {
        id: JobId::from(ids.new_id()),
        recipient,
        kind,
        subject: Subject::Contract(ContractSnapshot {
            contract_id: contract.id.to_string(),
            car_id: contract.car_id.to_string(),
            car: car.label(),
            customer_name: customer.name.as_str().to_owned(),
            start_date: contract.start_date,
            end_date: contract.end_date,
            total: contract.total.clone(),
        }),
        created_at: now,
    }
}
