//! Reading contracts: one by id, and lists by customer, car or status, each one index Query.

use super::model::{Contract, ContractFilter, ContractId};
use super::records;
use crate::entity::{self, Page};
use crate::error::DomainError;
use crate::identity::Principal;
use crate::pagination::PageLimit;
use crate::storage::{Item, Store};

/// One page of contracts and the key the next page starts after.
pub type ContractPage = Page<Contract>;

/// The contract, for its owner or staff; anyone else is told it does not exist, so contract ids
/// cannot be probed. One strongly consistent read.
#[tracing::instrument(skip(store, caller), fields(contract_id = %id))]
pub async fn get_contract(
    store: &dyn Store,
    caller: &Principal,
    id: &ContractId,
) -> Result<Contract, DomainError> {
    entity::find_owned(store, caller, id).await
}

/// One Query, newest first: a customer's contracts by end date (index 1) when the filter names a
/// customer, else a car's by start date (index 2) when it names a car, else every contract by
/// status and start date (index 3, one status being a `begins_with` on its sort key). What the
/// chosen index does not select is a filter on it (costing the reads of the items it drops,
/// bounded per page). Never a scan. A customer's own list is this with their customer id.
#[tracing::instrument(skip(store, start_after))]
pub async fn list_contracts(
    store: &dyn Store,
    filter: &ContractFilter,
    limit: PageLimit,
    start_after: Option<Item>,
) -> Result<ContractPage, DomainError> {
    let query = records::narrowing(filter).query();
    entity::list(store, query, limit, start_after).await
}

/// Whether `customer` rents or rented `car`: one of their contracts of that car is `active` or
/// `completed` (a reserved or cancelled one never put the car in their hands). Queries the
/// customer's own contracts (index 1, a few per customer) filtered to the car; never a scan.
pub(crate) async fn has_rented(
    store: &dyn Store,
    customer: &crate::customers::CustomerId,
    car: &crate::cars::CarId,
) -> Result<bool, DomainError> {
    let filter = ContractFilter {
        customer_id: Some(customer.clone()),
        car_id: Some(car.clone()),
        status: None,
    };
    let query = records::narrowing(&filter).query();
    let items = crate::storage::query_all(store, query).await?;
    let rented = items
        .into_iter()
        .map(<Contract as entity::Stored>::from_item)
        .collect::<Result<Vec<_>, _>>()?
        .iter()
        .any(|contract| {
            matches!(
                contract.status,
                super::ContractStatus::Active | super::ContractStatus::Completed
            )
        });
    Ok(rented)
}
