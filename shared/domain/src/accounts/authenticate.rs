//! Signing in: checking a login name and password without revealing which accounts exist.

use std::sync::Arc;

use super::get::load;
use super::hashing::{PasswordHasher, spawn_verify, spawn_verify_against_dummy};
use super::model::{LoginName, User};
use super::records::{self, StoredUser};
use crate::error::DomainError;
use crate::identity::UserId;
use crate::storage::Store;

/// A login name already followed to its account in this request (by [`account_of`], for the
/// per-account sign-in limit), so signing in need not read the reservation again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedLogin {
    pub login: LoginName,
    /// The account's id; `None` when the name reserves no account.
    pub user_id: Option<UserId>,
}

/// The user whose email or username is `login` and whose password is `password`.
///
/// Every failure is the same `DomainError::Unauthenticated`: unknown login, wrong password and
/// disabled account alike, so the answer never tells an attacker which accounts exist. An unknown
/// login still pays for one full hash verification (against a dummy hash), so response time does
/// not tell them either. Costs two reads (the reservation, then the user) and one verification on
/// the blocking pool; one read when `resolved` already followed this very `login` to its account.
#[tracing::instrument(skip_all, fields(user_id))]
pub async fn authenticate(
    store: &dyn Store,
    hasher: &Arc<dyn PasswordHasher>,
    login: &LoginName,
    resolved: Option<&ResolvedLogin>,
    password: &str,
) -> Result<User, DomainError> {
    let id = match resolved {
        Some(resolved) if resolved.login == *login => resolved.user_id.clone(),
        _ => account_of(store, login).await?,
    };
    let Some(stored) = find(store, id).await? else {
        spawn_verify_against_dummy(hasher, password).await?;
        tracing::info!("sign-in refused: unknown login");
        return Err(DomainError::Unauthenticated);
    };
    tracing::Span::current().record("user_id", stored.user.id.as_str());
    if !spawn_verify(hasher, password, &stored.password_hash).await? {
        tracing::info!("sign-in refused: wrong password");
        return Err(DomainError::Unauthenticated);
    }
    if stored.user.disabled {
        tracing::info!("sign-in refused: account disabled");
        return Err(DomainError::Unauthenticated);
    }
    Ok(stored.user)
}

/// The id of the account `login` names, if any: one read of its email or username reservation.
/// Both names of one account resolve to the same id, which is what the per-account sign-in limit
/// counts by, so a guesser does not get one budget for the email and another for the username.
#[tracing::instrument(skip_all)]
pub async fn account_of(
    store: &dyn Store,
    login: &LoginName,
) -> Result<Option<UserId>, DomainError> {
    let key = match login {
        LoginName::Email(email) => records::email_key(email),
        LoginName::Username(username) => records::username_key(username),
    };
    match store.get(&key).await? {
        Some(reservation) => Ok(Some(records::reserved_for(&reservation)?)),
        None => Ok(None),
    }
}

/// The user a reservation named, if it still exists.
async fn find(store: &dyn Store, id: Option<UserId>) -> Result<Option<StoredUser>, DomainError> {
    let Some(id) = id else {
        return Ok(None);
    };
    match load(store, &id).await {
        Ok(stored) => Ok(Some(stored)),
        Err(DomainError::NotFound { .. }) => Ok(None),
        Err(other) => Err(other),
    }
}
