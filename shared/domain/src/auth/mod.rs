//! Authentication: short-lived access tokens (EdDSA-signed JWTs), the keys that sign and verify
//! them, and long-lived refresh sessions kept in the store.
//!
//! - [`keys`]: Ed25519 keys as PKCS#8 PEM and [`TokenKeys`] read from the environment.
//! - [`tokens`]: [`TokenIssuer`] (private key, for login and refresh) and [`TokenVerifier`]
//!   (public key only, for the authorizer and the local API), built from [`TokenKeys`]; tokens
//!   use keys, keys know nothing of tokens.
//! - [`sessions`]: opaque refresh tokens stored by hash, rotated on every use, with reuse
//!   detection that revokes the whole session family.

pub mod keys;
pub mod sessions;
pub mod tokens;

pub use keys::{KeyError, PrivateKey, PrivateKeyPem, PublicKey, TokenKeys};
pub use sessions::{
    FamilyId, PresentedToken, REFRESH_TOKEN_LIFETIME, RefreshToken, find_refresh_token, revoke,
    revoke_all_sessions_except, revoke_family, rotate, session_family, start_session,
};
pub use tokens::{
    ACCESS_TOKEN_LIFETIME, AccessToken, DEFAULT_LEEWAY, TokenError, TokenIssuer, TokenVerifier,
};
