//! The one error type use cases return: what went wrong in the caller's terms, or which
//! dependency failed underneath.

use std::error::Error as StdError;

use crate::entity::EntityKind;
use crate::storage::StoreError;

/// A use case's failure. The HTTP crate maps each variant to a status in exactly one place
/// (`itinera_http`'s `problem` module); the domain knows no status.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The entity does not exist (or the caller may not know that it does).
    #[error("no {entity} with this id exists")]
    NotFound { entity: EntityKind },
    /// The request contradicts the current state (an airplane still in use, a duplicate, ...).
    #[error("{detail}")]
    Conflict { detail: String },
    /// The caller's `If-Match` names a version that is no longer current.
    #[error("the {entity} was changed since the version named in If-Match")]
    PreconditionFailed { entity: EntityKind },
    /// The caller's credentials (password, refresh token) are not valid. Deliberately says nothing
    /// about which part was wrong.
    #[error("the credentials are not valid")]
    Unauthenticated,
    /// The caller is signed in but may not do this, judged on what the store holds now (an admin
    /// demoted or disabled since their access token was issued).
    #[error("the caller may not do this")]
    Forbidden,
    /// A value is well-formed but breaks a rule that needs the domain to check (a password equal to
    /// the username, a role change that would leave no admin, ...).
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// The payment provider declined the charge; nothing changed.
    #[error("the payment was declined: {detail}")]
    PaymentDeclined { detail: String },
    /// An `Idempotency-Key` was used before with a different request.
    #[error("the idempotency key was used with a different request")]
    IdempotencyKeyReused,
    /// A dependency failed; the cause stays in the chain for the log.
    #[error("storage failed")]
    Store(#[from] StoreError),
}

/// The cause chain of an error, outermost first, for the log.
pub fn chain(error: &(dyn StdError + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
