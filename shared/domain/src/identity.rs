//! Who is calling: roles, the authenticated principal handlers receive, and the request context
//! use cases record in the audit log.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A user's role. Staff can do everything customers can on the fleet and operations side; admins
/// can do everything staff can, plus users, roles and the audit log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Customer,
    Staff,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Customer, Role::Staff, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Staff => "staff",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == text)
            .ok_or_else(|| "must be one of: customer, staff, admin".into())
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Declares an entity identifier: a UUID in canonical lowercase form, readable only from a valid
/// UUID (anything else names no entity), created from the id generator's UUIDs.
macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        $crate::storage::parsed_from_string!($name => |raw| $name::parse(raw).ok_or("is not a UUID"));

        impl $name {
            /// Reads an id from a path or a stored item; `None` for anything but a UUID.
            pub fn parse(raw: &str) -> Option<Self> {
                uuid::Uuid::try_parse(raw)
                    .ok()
                    .map(|id| Self(id.hyphenated().to_string()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl From<uuid::Uuid> for $name {
            fn from(id: uuid::Uuid) -> Self {
                Self(id.hyphenated().to_string())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}
pub(crate) use uuid_id;

uuid_id!(
    /// A user's identifier.
    UserId
);

/// An authenticated caller, as the token verifier vouches for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Principal {
    pub user_id: UserId,
    pub role: Role,
}

impl Principal {
    /// Staff or admin.
    pub fn is_staff(&self) -> bool {
        matches!(self.role, Role::Staff | Role::Admin)
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// Who made a change, as the audit log records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Actor {
    User(UserId),
    /// Scheduled jobs, queue workers and the bootstrap of the first admin.
    System,
}

impl Actor {
    /// `user:<id>` or `system`.
    pub fn key(&self) -> String {
        match self {
            Actor::User(id) => format!("user:{id}"),
            Actor::System => "system".into(),
        }
    }
}

/// What every use case that changes data needs to know about the request it serves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestContext {
    pub request_id: String,
    pub principal: Option<Principal>,
}

impl RequestContext {
    /// The actor a change is recorded under: the caller, or the system when nobody is signed in.
    pub fn actor(&self) -> Actor {
        match &self.principal {
            Some(principal) => Actor::User(principal.user_id.clone()),
            None => Actor::System,
        }
    }

    /// The signed-in caller a use case acts for; a request with nobody signed in is refused as
    /// unauthenticated.
    pub fn caller(&self) -> Result<&Principal, crate::error::DomainError> {
        self.principal
            .as_ref()
            .ok_or(crate::error::DomainError::Unauthenticated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_read_back_from_their_names_only() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
        assert!(Role::parse("Admin").is_err());
        assert!(Role::parse("root").is_err());
    }

    #[test]
    fn admins_count_as_staff() {
        let id = UserId::from(uuid::Uuid::nil());
        let admin = Principal {
            user_id: id.clone(),
            role: Role::Admin,
        };
        let customer = Principal {
            user_id: id,
            role: Role::Customer,
        };
        assert!(admin.is_staff() && admin.is_admin());
        assert!(!customer.is_staff() && !customer.is_admin());
    }

    #[test]
    fn the_actor_is_the_caller_or_the_system() {
        let id = UserId::parse("0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f").unwrap();
        let signed_in = RequestContext {
            request_id: "r".into(),
            principal: Some(Principal {
                user_id: id,
                role: Role::Customer,
            }),
        };
        assert_eq!(
            signed_in.actor().key(),
            "user:0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f"
        );
        let anonymous = RequestContext {
            request_id: "r".into(),
            principal: None,
        };
        assert_eq!(anonymous.actor(), Actor::System);
    }
}
