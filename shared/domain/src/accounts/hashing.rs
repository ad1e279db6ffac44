//! Password hashing: the port use cases depend on, its argon2id implementation, and the helpers
//! that keep the CPU-heavy work off the async runtime's threads.
//!
//! One hash takes tens of milliseconds of full CPU on purpose (see `docs/passwords.md`). Run on a
//! Tokio worker thread, it would stall every other request that worker serves, so callers never
//! call [`PasswordHasher`] directly from async code: they use [`spawn_hash`], [`spawn_verify`] and
//! [`spawn_verify_against_dummy`], which move the work to `tokio::task::spawn_blocking`.

use std::sync::Arc;

use argon2::password_hash::PasswordVerifier as _;
use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, Version};

use super::model::Password;
use crate::error::DomainError;
use crate::storage::StoreError;

/// Why a password could not be hashed. Never the caller's fault: misconfigured parameters, a
/// failing random source, or a hashing task that panicked.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("the password hashing parameters are invalid")]
    Params(#[source] argon2::Error),
    #[error("hashing the password failed")]
    Hashing(#[source] argon2::password_hash::Error),
    #[error("the password hashing task did not complete")]
    Task(#[source] tokio::task::JoinError),
}

impl From<HashError> for DomainError {
    /// A hashing failure is an internal fault like a store failure: a generic 500 for the caller,
    /// the whole chain in the log. The domain error has no closer variant, so it travels as an
    /// internal storage-layer error with the hashing cause as its source.
    fn from(error: HashError) -> Self {
        DomainError::Store(StoreError::internal(error))
    }
}

/// Turns passwords into PHC strings and checks passwords against them.
///
/// Every method is synchronous and CPU-bound (tens of milliseconds); from async code, call it
/// through [`spawn_hash`], [`spawn_verify`] or [`spawn_verify_against_dummy`].
pub trait PasswordHasher: Send + Sync + 'static {
    /// A PHC string (`$argon2id$v=19$m=...,t=...,p=...$<salt>$<hash>`) of `password` with a fresh
    /// random salt.
    fn hash(&self, password: &Password) -> Result<String, HashError>;

    /// Whether `password` matches `phc`, using the parameters recorded in `phc` (so hashes made
    /// under older parameters still verify). A malformed `phc` matches nothing.
    fn verify(&self, password: &str, phc: &str) -> bool;

    /// Does the work of [`Self::verify`] against a hash no password matches, so that a login for
    /// an unknown account takes as long as one with a wrong password and timing cannot tell
    /// whether an account exists.
    fn verify_against_dummy(&self, password: &str);
}

/// Argon2id's cost parameters, explicit so that tests, benchmarks and production all state the
/// cost they run at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashParams {
    /// Memory per hash, in KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub iterations: u32,
    /// Lanes; 1 because a Lambda function has at most a share of one vCPU at small sizes.
    pub parallelism: u32,
}

impl HashParams {
    /// OWASP's Password Storage Cheat Sheet minimum for argon2id: m = 19 MiB, t = 2, p = 1.
    pub const OWASP_MINIMUM: Self = Self {
        memory_kib: 19 * 1024,
        iterations: 2,
        parallelism: 1,
    };
}

/// A salt and an output no password produces in practice: the dummy hash is never the hash of
/// anything, it only has to cost one full verification.
const DUMMY_SALT_B64: &str = "aXRpbmVyYS1kdW1teS1zYWx0";
const DUMMY_OUTPUT_B64: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// The argon2id hasher (RFC 9106, version 0x13).
#[derive(Clone, Debug)]
pub struct Argon2id {
    params: Params,
    /// A PHC string with this hasher's parameters, so the dummy verification costs what a real
    /// one does. Built by formatting, not by hashing, so constructing the hasher is free.
    dummy: String,
}

impl Argon2id {
    /// Fails when the parameters are outside what argon2 accepts (for example memory below
    /// 8 KiB per lane).
    pub fn new(params: HashParams) -> Result<Self, HashError> {
        let HashParams {
            memory_kib,
            iterations,
            parallelism,
        } = params;
        let params =
            Params::new(memory_kib, iterations, parallelism, None).map_err(HashError::Params)?;
        let dummy = format!(
            "$argon2id$v=19$m={memory_kib},t={iterations},p={parallelism}${DUMMY_SALT_B64}${DUMMY_OUTPUT_B64}"
        );
        Ok(Self { params, dummy })
    }

    /// The hasher at [`HashParams::OWASP_MINIMUM`].
    pub fn owasp_minimum() -> Self {
        Self::new(HashParams::OWASP_MINIMUM).expect("the OWASP minimum parameters are valid")
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }
}

impl PasswordHasher for Argon2id {
    fn hash(&self, password: &Password) -> Result<String, HashError> {
        self.argon2()
            .hash_password(password.expose_secret().as_bytes())
            .map(|hash| hash.to_string())
            .map_err(HashError::Hashing)
    }

    fn verify(&self, password: &str, phc: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(phc) else {
            tracing::error!("a stored password hash is not a valid PHC string");
            return false;
        };
        self.argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    }

    fn verify_against_dummy(&self, password: &str) {
        let matched = self.verify(password, &self.dummy);
        debug_assert!(!matched, "no password matches the dummy hash");
    }
}

/// [`PasswordHasher::hash`] on the blocking thread pool.
pub async fn spawn_hash(
    hasher: &Arc<dyn PasswordHasher>,
    password: &Password,
) -> Result<String, HashError> {
    let (hasher, password) = (Arc::clone(hasher), password.clone());
    tokio::task::spawn_blocking(move || hasher.hash(&password))
        .await
        .map_err(HashError::Task)?
}

/// [`PasswordHasher::verify`] on the blocking thread pool.
pub async fn spawn_verify(
    hasher: &Arc<dyn PasswordHasher>,
    password: &str,
    phc: &str,
) -> Result<bool, HashError> {
    let (hasher, password, phc) = (Arc::clone(hasher), password.to_owned(), phc.to_owned());
    tokio::task::spawn_blocking(move || hasher.verify(&password, &phc))
        .await
        .map_err(HashError::Task)
}

/// [`PasswordHasher::verify_against_dummy`] on the blocking thread pool.
pub async fn spawn_verify_against_dummy(
    hasher: &Arc<dyn PasswordHasher>,
    password: &str,
) -> Result<(), HashError> {
    let (hasher, password) = (Arc::clone(hasher), password.to_owned());
    tokio::task::spawn_blocking(move || hasher.verify_against_dummy(&password))
        .await
        .map_err(HashError::Task)
}

#[cfg(test)]
mod tests {

    use super::*;

    fn password(text: &str) -> Password {
        Password::parse(text).unwrap()
    }

    #[test]
    fn a_hash_is_an_argon2id_phc_string_with_the_configured_parameters() {
        let phc = Argon2id::owasp_minimum()
            .hash(&password("ochre lantern drifts"))
            .unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(!phc.contains("ochre"));
    }

    #[test]
    fn the_right_password_verifies_and_a_wrong_one_does_not() {
        let hasher = Argon2id::owasp_minimum();
        let phc = hasher.hash(&password("ochre lantern drifts")).unwrap();
        assert!(hasher.verify("ochre lantern drifts", &phc));
        assert!(!hasher.verify("Ochre lantern drifts", &phc));
        assert!(!hasher.verify("ochre lantern drifts", "not a phc string"));
    }

    #[test]
    fn the_same_password_hashes_differently_each_time() {
        let hasher = Argon2id::owasp_minimum();
        let first = hasher.hash(&password("ochre lantern drifts")).unwrap();
        let second = hasher.hash(&password("ochre lantern drifts")).unwrap();
        assert_ne!(first, second);
    }

    #[test]
    fn hashes_made_under_older_parameters_still_verify() {
        let old = Argon2id::new(HashParams {
            memory_kib: 8 * 1024,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap();
        let phc = old.hash(&password("ochre lantern drifts")).unwrap();
        assert!(Argon2id::owasp_minimum().verify("ochre lantern drifts", &phc));
    }

    #[test]
    fn the_dummy_hash_is_well_formed_and_costs_a_real_verification() {
        // The dummy verification goes through `verify`, which runs Argon2id with the parameters
        // the PHC string carries: equal parameters and output length mean equal work, whatever
        // the machine's load (a timing comparison would only measure the load).
        let hasher = Argon2id::owasp_minimum();
        let parsed = PasswordHash::new(&hasher.dummy).unwrap();
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        let dummy = Params::try_from(&parsed).unwrap();
        let costs = |params: &Params| (params.m_cost(), params.t_cost(), params.p_cost());
        assert_eq!(costs(&dummy), costs(&hasher.params));
        assert_eq!(dummy.output_len(), Some(Params::DEFAULT_OUTPUT_LEN));
        let phc = hasher.hash(&password("ochre lantern drifts")).unwrap();
        let real = Params::try_from(&PasswordHash::new(&phc).unwrap()).unwrap();
        assert_eq!(costs(&dummy), costs(&real));
        assert_eq!(dummy.output_len(), real.output_len());
        assert!(!hasher.verify("wrong guess here", &hasher.dummy));
    }

    #[test]
    fn parameters_argon2_refuses_are_an_error() {
        let too_little_memory = HashParams {
            memory_kib: 1,
            iterations: 2,
            parallelism: 1,
        };
        assert!(matches!(
            Argon2id::new(too_little_memory),
            Err(HashError::Params(_))
        ));
    }

    #[tokio::test]
    async fn the_spawned_helpers_give_the_same_answers() {
        let hasher: Arc<dyn PasswordHasher> = Arc::new(Argon2id::owasp_minimum());
        let phc = spawn_hash(&hasher, &password("ochre lantern drifts"))
            .await
            .unwrap();
        assert!(
            spawn_verify(&hasher, "ochre lantern drifts", &phc)
                .await
                .unwrap()
        );
        assert!(!spawn_verify(&hasher, "other words", &phc).await.unwrap());
        spawn_verify_against_dummy(&hasher, "other words")
            .await
            .unwrap();
    }
}
