//! User accounts: registration, sign-in, profiles, passwords and roles, with one use case per
//! file. Emails and usernames are unique under any concurrency (reservation items written in the
//! same transaction as the user); password hashes never leave the storage layer.

mod admin_update;
mod authenticate;
mod bootstrap;
mod change_password;
mod common_passwords;
mod get;
mod hashing;
mod list;
mod model;
mod principal;
mod records;
mod register;
mod update_profile;
mod versioned;

pub use admin_update::admin_update_user;
pub use authenticate::{ResolvedLogin, account_of, authenticate};
pub use bootstrap::{bootstrap_admin, provision_user};
pub use change_password::change_password;
pub use get::get_user;
pub use hashing::{
    Argon2id, HashError, HashParams, PasswordHasher, spawn_hash, spawn_verify,
    spawn_verify_against_dummy,
};
pub(crate) use list::staff_ids;
pub use list::{UserPage, list_users};
pub use model::{
    AdminChanges, EMAIL_MAX_CHARS, Email, LoginName, NewAccount, PASSWORD_CHARS, Password,
    PersonName, Phone, ProfileChanges, USERNAME_CHARS, User, Username,
};
pub use principal::session_principal;
pub use register::register;
pub use update_profile::update_profile;
