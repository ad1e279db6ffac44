//! What every entry point's settings are made of: the error that names a missing or malformed
//! variable, the signing-key secret, and the environment lookup. Each layer reads its own settings
//! with them once, at start, failing fast (bookings in the domain, the pipeline's in the HTTP
//! crate, the adapters' in theirs).

/// The shortest cursor signing key accepted, in bytes.
pub const MIN_SIGNING_KEY_BYTES: usize = 32;

/// A setting that is missing or malformed.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {variable} {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

impl ConfigError {
    pub fn new(variable: &'static str, problem: impl Into<String>) -> Self {
        Self {
            variable,
            problem: problem.into(),
        }
    }
}

/// A secret that is never printed.
#[derive(Clone)]
pub struct SigningKey(Vec<u8>);

impl SigningKey {
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.len() < MIN_SIGNING_KEY_BYTES {
            return Err(format!(
                "must be at least {MIN_SIGNING_KEY_BYTES} bytes long"
            ));
        }
        Ok(Self(text.as_bytes().to_vec()))
    }

    /// A random key for a process that has none configured (local runs only).
    pub fn random() -> Self {
        let bytes = [uuid::Uuid::new_v4(), uuid::Uuid::new_v4()]
            .iter()
            .flat_map(|id| id.into_bytes())
            .collect();
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

/// One variable of the process environment; unset and empty are the same.
pub fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signing_key_is_never_printed() {
        let key = SigningKey::parse("0123456789abcdef0123456789abcdef").unwrap();
        assert!(!format!("{key:?}").contains("0123"));
    }
}
