//! Customers who rent cars: profiles staff keep for anyone, and the one a signed-in user keeps
//! for themselves (linked to their account), with one use case per file. Emails are unique
//! (case-insensitively, as they are kept lowercase) and a user account has at most one profile,
//! under any concurrency: both are claims written in the customer's own transaction. Reading,
//! changing and deleting one are the shared entity use cases, over the `NewEntity`
//! (`records.rs`), `Changeable` (`update.rs`) and `Removable` (`delete.rs`) impls.
//!
//! Contracts count themselves on a customer while reserved or active (`openContracts`), so a
//! customer with an open contract cannot be deleted.

mod create;
mod delete;
mod list;
mod mine;
mod model;
mod records;
mod update;

pub use crate::entity::{
    change as update_customer, find as get_customer, remove as delete_customer,
};
pub use create::{create_customer, create_my_customer};
pub use list::{CustomerPage, list_customers};
pub use mine::{get_my_customer, update_my_customer};
pub use model::{
    Customer, CustomerChanges, CustomerFilter, CustomerId, LicenceNumber, MyNewCustomer,
    NewCustomer,
};

// What contracts change on a customer's item: its key and the counter of open contracts.
pub(crate) use records::{OPEN_CONTRACTS, key as customer_key};
