//! The one place a stored user becomes the principal an access token is issued for.
//!
//! Login, refresh and password change all end in new tokens. Each used to build the principal on
//! its own, and one of them took the role from the token the caller presented rather than from
//! the store, so a disabled or demoted user could renew their old role forever. Every path that
//! issues tokens now goes through [`session_principal`], with the user as the store holds it.

use super::model::User;
use crate::error::DomainError;
use crate::identity::Principal;

/// The principal to issue tokens for, from `user` as just read from (or written to) the store:
/// their id and their stored role. A disabled user gets no principal
/// (`DomainError::Unauthenticated`): their sessions end and no new token names them.
pub fn session_principal(user: &User) -> Result<Principal, DomainError> {
    if user.disabled {
        tracing::info!(user_id = %user.id, "no session for a disabled user");
        return Err(DomainError::Unauthenticated);
    }
    Ok(Principal {
        user_id: user.id.clone(),
        role: user.role,
    })
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::accounts::{Email, PersonName, Username};
    use crate::identity::{Role, UserId};

    fn user(role: Role, disabled: bool) -> User {
        let at: DateTime<Utc> = "2026-11-21T08:00:00Z".parse().unwrap();
        User {
            id: UserId::from(uuid::Uuid::nil()),
            email: Email::parse("ann@example.com").unwrap(),
            username: Username::parse("ann").unwrap(),
            name: PersonName::parse("Ann").unwrap(),
            phone: None,
            role,
            disabled,
            version: 3,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn the_principal_carries_the_stored_id_and_role() {
        for role in Role::ALL {
            let principal = session_principal(&user(role, false)).unwrap();
            assert_eq!(principal.role, role);
            assert_eq!(principal.user_id, UserId::from(uuid::Uuid::nil()));
        }
    }

    #[test]
    fn a_disabled_user_has_no_principal() {
        for role in Role::ALL {
            assert!(matches!(
                session_principal(&user(role, true)),
                Err(DomainError::Unauthenticated)
            ));
        }
    }
}
