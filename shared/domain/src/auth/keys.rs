//! The Ed25519 keys behind access tokens: parsed from PKCS#8 PEM and read from the environment
//! once at start. What is built from them (the issuer and the verifier) is in `tokens`, which
//! depends on this module and not the other way round; the local API's key file is the local
//! API's.
//!
//! Only the functions that issue tokens (login, refresh) get the private key; everything that
//! verifies tokens (the Lambda authorizer, the local API) needs just the public key.

use std::fmt;

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

use crate::config::{ConfigError, env};

/// `JWT_PRIVATE_KEY`: the signing key, PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
pub const PRIVATE_KEY_VARIABLE: &str = "JWT_PRIVATE_KEY";
/// `JWT_PUBLIC_KEY`: the verification key, SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
pub const PUBLIC_KEY_VARIABLE: &str = "JWT_PUBLIC_KEY";
/// `JWT_ISSUER`: the `iss` claim tokens carry and verifiers demand.
pub const ISSUER_VARIABLE: &str = "JWT_ISSUER";
/// `JWT_AUDIENCE`: the `aud` claim tokens carry and verifiers demand.
pub const AUDIENCE_VARIABLE: &str = "JWT_AUDIENCE";

pub const DEFAULT_ISSUER: &str = "itinera";
pub const DEFAULT_AUDIENCE: &str = "itinera-api";

/// A key that could not be read or made. Never carries key material.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("is not an Ed25519 key in PKCS#8 PEM form ({0})")]
    Malformed(String),
    #[error("the operating system gave no random bytes")]
    Randomness(#[source] getrandom::Error),
}

/// The private half: signs access tokens. Its `Debug` shows only the public half.
#[derive(Clone)]
pub struct PrivateKey(SigningKey);

impl PrivateKey {
    /// Reads a PKCS#8 PEM private key (as `openssl genpkey -algorithm ed25519` writes it).
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        SigningKey::from_pkcs8_pem(pem.trim())
            .map(Self)
            .map_err(|error| KeyError::Malformed(error.to_string()))
    }

    /// A new key from the operating system's random source.
    pub fn generate() -> Result<Self, KeyError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(KeyError::Randomness)?;
        let key = SigningKey::from_bytes(&seed);
        seed.fill(0);
        Ok(Self(key))
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// The key as PKCS#8 PEM, to store it.
    pub fn to_pem(&self) -> PrivateKeyPem {
        let pem = self
            .0
            .to_pkcs8_pem(LineEnding::LF)
            .expect("an Ed25519 key always encodes as PKCS#8");
        PrivateKeyPem(pem.as_str().to_owned())
    }

    /// The Ed25519 signature of `message`. The key itself never leaves this type.
    pub(crate) fn sign(&self, message: &[u8]) -> Signature {
        self.0.sign(message)
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("public_key", &self.public_key())
            .finish_non_exhaustive()
    }
}

/// A private key's PEM text; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct PrivateKeyPem(String);

impl PrivateKeyPem {
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PrivateKeyPem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateKeyPem(<redacted>)")
    }
}

/// The public half: verifies access tokens. Not a secret.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// Reads an SPKI PEM public key (as `openssl pkey -pubout` writes it).
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        VerifyingKey::from_public_key_pem(pem.trim())
            .map(Self)
            .map_err(|error| KeyError::Malformed(error.to_string()))
    }

    pub fn to_pem(&self) -> String {
        self.0
            .to_public_key_pem(LineEnding::LF)
            .expect("an Ed25519 key always encodes as SPKI")
    }

    /// Whether `signature` is this key's signature of `message`, under the strict rules: besides
    /// the non-canonical `S` every check refuses, a small-order key or `R` is refused too, the
    /// cases in which one signature could pass for several messages or keys.
    pub(crate) fn verify_strict(&self, message: &[u8], signature: &Signature) -> bool {
        self.0.verify_strict(message, signature).is_ok()
    }

    /// The raw 32 key bytes, which tests try as an HMAC secret the way an attacker would.
    #[cfg(test)]
    pub(crate) fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", hex(self.0.as_bytes()))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The token settings of one entry point. Each key is optional here; asking for a
/// [`TokenIssuer`] or [`TokenVerifier`] without its key fails with the variable's name, so a
/// function only needs the key it uses.
#[derive(Clone, Debug)]
pub struct TokenKeys {
    pub private_key: Option<PrivateKey>,
    pub public_key: Option<PublicKey>,
    pub issuer: String,
    pub audience: String,
}

impl TokenKeys {
    /// Reads the settings through `lookup` (the process environment, or the environment with
    /// keys fetched from SSM filled in). PEM text may have its line breaks written as `\n`, as
    /// single-line `.env` files need.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let value = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let private_key = value(PRIVATE_KEY_VARIABLE)
            .map(|pem| PrivateKey::from_pem(&unescape_newlines(&pem)))
            .transpose()
            .map_err(|error| ConfigError::new(PRIVATE_KEY_VARIABLE, error.to_string()))?;
        let public_key = value(PUBLIC_KEY_VARIABLE)
            .map(|pem| PublicKey::from_pem(&unescape_newlines(&pem)))
            .transpose()
            .map_err(|error| ConfigError::new(PUBLIC_KEY_VARIABLE, error.to_string()))?;
        if let (Some(private_key), Some(public_key)) = (&private_key, &public_key)
            && private_key.public_key() != *public_key
        {
            return Err(ConfigError::new(
                PUBLIC_KEY_VARIABLE,
                format!("is not the public half of {PRIVATE_KEY_VARIABLE}"),
            ));
        }
        let issuer = value(ISSUER_VARIABLE).unwrap_or_else(|| DEFAULT_ISSUER.into());
        let audience = value(AUDIENCE_VARIABLE).unwrap_or_else(|| DEFAULT_AUDIENCE.into());
        Ok(Self {
            private_key,
            public_key,
            issuer,
            audience,
        })
    }

    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(env)
    }
}

fn unescape_newlines(pem: &str) -> String {
    pem.replace("\\n", "\n")
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn keys(vars: &[(&str, &str)]) -> Result<TokenKeys, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        TokenKeys::from_lookup(|name| vars.get(name).cloned())
    }

    /// A private key in the PKCS#8 v1 layout `openssl genpkey -algorithm ed25519` writes (the
    /// seed only, no public key inside), so that keys made with the usual tools are known to load.
    fn openssl_style_pem(seed: [u8; 32]) -> String {
        use base64::Engine;
        let mut der = vec![
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20,
        ];
        der.extend_from_slice(&seed);
        let body = base64::engine::general_purpose::STANDARD.encode(der);
        format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n")
    }

    #[test]
    fn keys_survive_the_round_trip_through_pem() {
        let private = PrivateKey::generate().unwrap();
        let pem = private.to_pem();
        assert!(
            pem.expose_secret()
                .starts_with("-----BEGIN PRIVATE KEY-----")
        );
        let read = PrivateKey::from_pem(pem.expose_secret()).unwrap();
        assert_eq!(read.public_key(), private.public_key());
        let public = PublicKey::from_pem(&private.public_key().to_pem()).unwrap();
        assert_eq!(public, private.public_key());
    }

    #[test]
    fn keys_from_openssl_load() {
        let seed = [7u8; 32];
        let private = PrivateKey::from_pem(&openssl_style_pem(seed)).unwrap();
        let expected = PublicKey(SigningKey::from_bytes(&seed).verifying_key());
        assert_eq!(private.public_key(), expected);
    }

    #[test]
    fn a_public_key_is_not_a_private_key_and_garbage_is_neither() {
        let private = PrivateKey::generate().unwrap();
        let public_pem = private.public_key().to_pem();
        assert!(PrivateKey::from_pem(&public_pem).is_err());
        assert!(PublicKey::from_pem(private.to_pem().expose_secret()).is_err());
        assert!(PublicKey::from_pem("not a key").is_err());
    }

    #[test]
    fn debug_output_never_shows_the_private_key() {
        let private = PrivateKey::generate().unwrap();
        let pem = private.to_pem();
        let body: String = pem
            .expose_secret()
            .lines()
            .filter(|line| !line.starts_with("-----"))
            .collect();
        for shown in [
            format!("{private:?}"),
            format!("{pem:?}"),
            format!(
                "{:?}",
                keys(&[("JWT_PRIVATE_KEY", pem.expose_secret())]).unwrap()
            ),
        ] {
            assert!(!shown.contains(&body), "{shown}");
            assert!(!shown.contains("BEGIN PRIVATE KEY"), "{shown}");
        }
    }

    #[test]
    fn defaults_apply_and_keys_are_optional_until_used() {
        let keys = keys(&[]).unwrap();
        assert_eq!(keys.issuer, "itinera");
        assert_eq!(keys.audience, "itinera-api");
        assert_eq!(keys.token_issuer().unwrap_err().variable, "JWT_PRIVATE_KEY");
        assert_eq!(
            keys.token_verifier().unwrap_err().variable,
            "JWT_PUBLIC_KEY"
        );
    }

    #[test]
    fn every_setting_is_read_and_escaped_newlines_are_accepted() {
        let private = PrivateKey::generate().unwrap();
        let public_pem = private.public_key().to_pem().replace('\n', "\\n");
        let keys = keys(&[
            ("JWT_PRIVATE_KEY", private.to_pem().expose_secret()),
            ("JWT_PUBLIC_KEY", &public_pem),
            ("JWT_ISSUER", "itinera-staging"),
            ("JWT_AUDIENCE", "itinera-staging-api"),
        ])
        .unwrap();
        assert_eq!(keys.public_key, Some(private.public_key()));
        assert_eq!(keys.issuer, "itinera-staging");
        assert_eq!(keys.audience, "itinera-staging-api");
        assert!(keys.token_issuer().is_ok() && keys.token_verifier().is_ok());
    }

    #[test]
    fn malformed_or_mismatched_keys_name_their_variable() {
        let error =
            keys(&[("JWT_PRIVATE_KEY", "-----BEGIN PRIVATE KEY-----\nAAAA\n")]).unwrap_err();
        assert_eq!(error.variable, "JWT_PRIVATE_KEY");
        let error = keys(&[("JWT_PUBLIC_KEY", "ssh-ed25519 AAAA")]).unwrap_err();
        assert_eq!(error.variable, "JWT_PUBLIC_KEY");
        let other = PrivateKey::generate().unwrap().public_key().to_pem();
        let error = keys(&[
            (
                "JWT_PRIVATE_KEY",
                PrivateKey::generate().unwrap().to_pem().expose_secret(),
            ),
            ("JWT_PUBLIC_KEY", &other),
        ])
        .unwrap_err();
        assert_eq!(error.variable, "JWT_PUBLIC_KEY");
        assert!(error.problem.contains("JWT_PRIVATE_KEY"), "{error}");
    }
}
