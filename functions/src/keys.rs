//! The access-token keys of a function, loaded once at cold start: PEM text from the environment
//! when present (local and dev runs), otherwise the SecureString SSM parameters the template
//! names, so that no key is ever written into the template or the function's configuration.

use std::collections::HashMap;

use itinera::auth::TokenKeys;
use itinera::auth::keys::{PRIVATE_KEY_VARIABLE, PUBLIC_KEY_VARIABLE};
use itinera::config::{ConfigError, env};
use itinera_aws::ssm::{self, SsmError};

/// `JWT_PRIVATE_KEY_PARAMETER`: the name of the SSM parameter holding the private key PEM.
pub const PRIVATE_KEY_PARAMETER_VARIABLE: &str = "JWT_PRIVATE_KEY_PARAMETER";
/// `JWT_PUBLIC_KEY_PARAMETER`: the name of the SSM parameter holding the public key PEM.
pub const PUBLIC_KEY_PARAMETER_VARIABLE: &str = "JWT_PUBLIC_KEY_PARAMETER";

/// What a function does with tokens, and so which key it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyUse {
    /// Signs access tokens (login, refresh): needs the private key.
    Issue,
    /// Verifies access tokens (the authorizer): needs the public key.
    Verify,
}

impl KeyUse {
    /// The PEM variable and the SSM parameter-name variable of the key this use needs.
    fn variables(self) -> (&'static str, &'static str) {
        match self {
            KeyUse::Issue => (PRIVATE_KEY_VARIABLE, PRIVATE_KEY_PARAMETER_VARIABLE),
            KeyUse::Verify => (PUBLIC_KEY_VARIABLE, PUBLIC_KEY_PARAMETER_VARIABLE),
        }
    }
}

/// Why a function could not get its keys; every message names the variable to fix.
#[derive(Debug, thiserror::Error)]
pub enum KeyLoadError {
    #[error(
        "environment variable {variable} (PEM) or {parameter_variable} (an SSM parameter name) \
         must be set"
    )]
    Missing {
        variable: &'static str,
        parameter_variable: &'static str,
    },
    #[error("environment variable {parameter_variable} names a parameter that could not be read")]
    Ssm {
        parameter_variable: &'static str,
        #[source]
        source: SsmError,
    },
    #[error("the SSM parameter named by {parameter_variable} {problem}")]
    MalformedParameter {
        parameter_variable: &'static str,
        problem: String,
    },
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// The keys for `uses`, from the process environment and, where it names parameters instead of
/// PEM text, from SSM. The SSM client is built only when a parameter has to be read.
pub async fn load_token_keys(uses: &[KeyUse]) -> Result<TokenKeys, KeyLoadError> {
    let mut client = None;
    resolve_token_keys(env, uses, async |name: &str| {
        if client.is_none() {
            client = Some(ssm::build_client().await);
        }
        match &client {
            Some(client) => ssm::read_secure_parameter(client, name).await,
            None => unreachable!("the client was built just above"),
        }
    })
    .await
}

/// [`load_token_keys`] over any environment and parameter source (tests pass maps).
pub async fn resolve_token_keys(
    lookup: impl Fn(&str) -> Option<String>,
    uses: &[KeyUse],
    mut fetch: impl AsyncFnMut(&str) -> Result<String, SsmError>,
) -> Result<TokenKeys, KeyLoadError> {
    let set = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
    let mut fetched: HashMap<&'static str, &'static str> = HashMap::new();
    let mut values: HashMap<&'static str, String> = HashMap::new();
    for &key_use in uses {
        let (variable, parameter_variable) = key_use.variables();
        if set(variable).is_some() {
            continue;
        }
        // A process that holds the private key can derive the public one.
        if key_use == KeyUse::Verify && set(PRIVATE_KEY_VARIABLE).is_some() {
            continue;
        }
        let Some(parameter) = set(parameter_variable) else {
            return Err(KeyLoadError::Missing {
                variable,
                parameter_variable,
            });
        };
        let value = fetch(&parameter)
            .await
            .map_err(|source| KeyLoadError::Ssm {
                parameter_variable,
                source,
            })?;
        values.insert(variable, value);
        fetched.insert(variable, parameter_variable);
    }
    let keys = TokenKeys::from_lookup(|name| values.get(name).cloned().or_else(|| lookup(name)))
        .map_err(|error| match fetched.get(error.variable) {
            Some(&parameter_variable) => KeyLoadError::MalformedParameter {
                parameter_variable,
                problem: error.problem,
            },
            None => KeyLoadError::Config(error),
        })?;
    for &key_use in uses {
        match key_use {
            KeyUse::Issue => drop(keys.token_issuer()?),
            KeyUse::Verify => drop(keys.token_verifier()?),
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use itinera::auth::PrivateKey;

    use super::*;

    fn environment(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    fn block_on<T>(future: impl Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }

    #[test]
    fn pem_in_the_environment_wins_and_ssm_is_not_asked() {
        let key = PrivateKey::generate().unwrap();
        let lookup = environment(&[
            ("JWT_PUBLIC_KEY", &key.public_key().to_pem()),
            ("JWT_PUBLIC_KEY_PARAMETER", "/itinera/jwt/public"),
        ]);
        let mut asked = Vec::new();
        let keys = block_on(resolve_token_keys(
            lookup,
            &[KeyUse::Verify],
            async |name: &str| {
                asked.push(name.to_owned());
                Err(SsmError::NotFound { name: name.into() })
            },
        ))
        .unwrap();
        assert_eq!(keys.public_key, Some(key.public_key()));
        assert!(asked.is_empty());
    }

    #[test]
    fn parameters_are_read_when_no_pem_is_set() {
        let key = PrivateKey::generate().unwrap();
        let private_pem = key.to_pem().expose_secret().to_owned();
        let public_pem = key.public_key().to_pem();
        let lookup = environment(&[
            ("JWT_PRIVATE_KEY_PARAMETER", "/itinera/jwt/private"),
            ("JWT_PUBLIC_KEY_PARAMETER", "/itinera/jwt/public"),
            ("JWT_ISSUER", "itinera-prod"),
        ]);
        let mut asked = Vec::new();
        let keys = block_on(resolve_token_keys(
            lookup,
            &[KeyUse::Issue, KeyUse::Verify],
            async |name: &str| {
                asked.push(name.to_owned());
                Ok(match name {
                    "/itinera/jwt/private" => private_pem.clone(),
                    _ => public_pem.clone(),
                })
            },
        ))
        .unwrap();
        assert_eq!(asked, ["/itinera/jwt/private", "/itinera/jwt/public"]);
        assert_eq!(keys.issuer, "itinera-prod");
        assert!(keys.token_issuer().is_ok());
        assert_eq!(keys.public_key, Some(key.public_key()));
    }

    #[test]
    fn a_missing_key_names_both_variables() {
        let error = block_on(resolve_token_keys(
            environment(&[]),
            &[KeyUse::Verify],
            async |name: &str| Err(SsmError::NotFound { name: name.into() }),
        ))
        .unwrap_err();
        let message = error.to_string();
        assert!(message.contains("JWT_PUBLIC_KEY "), "{message}");
        assert!(message.contains("JWT_PUBLIC_KEY_PARAMETER"), "{message}");
    }

    #[test]
    fn an_unreadable_or_malformed_parameter_names_its_variable() {
        let lookup = environment(&[("JWT_PRIVATE_KEY_PARAMETER", "/itinera/jwt/private")]);
        let error = block_on(resolve_token_keys(
            &lookup,
            &[KeyUse::Issue],
            async |name: &str| Err(SsmError::NotFound { name: name.into() }),
        ))
        .unwrap_err();
        assert!(matches!(
            error,
            KeyLoadError::Ssm {
                parameter_variable: "JWT_PRIVATE_KEY_PARAMETER",
                ..
            }
        ));
        let error = block_on(resolve_token_keys(
            &lookup,
            &[KeyUse::Issue],
            async |_: &str| Ok("not a key".to_owned()),
        ))
        .unwrap_err();
        assert!(
            error.to_string().contains("JWT_PRIVATE_KEY_PARAMETER"),
            "{error}"
        );
        assert!(!error.to_string().contains("not a key"), "{error}");
    }
}
