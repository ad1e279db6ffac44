//! The limits of each tier, read from the environment once at start.

use std::fmt;

use crate::config::ConfigError;

use super::Tier;

/// The shortest window accepted: the headers count in whole seconds.
pub const MIN_WINDOW_MS: u64 = 1_000;
/// The longest window accepted; longer ones would keep counters (and a blocked client) for days.
pub const MAX_WINDOW_MS: u64 = 86_400_000;

/// Where the global tier is enforced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum GlobalEnforcement {
    /// The application counts every request in the store: exact and shared, one write per
    /// request. The default, and what the local server runs with.
    #[default]
    App,
    /// The application does not count the global tier; the WAF rate-based rule and the stage
    /// throttling in front of the API enforce it. Set in AWS, where a write per read would cost
    /// more than the read it guards and read-only functions hold no write permission.
    Edge,
}

impl GlobalEnforcement {
    fn parse(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "app" => Ok(Self::App),
            "edge" => Ok(Self::Edge),
            _ => Err(format!("must be `app` or `edge`, not `{text}`")),
        }
    }
}

impl fmt::Display for GlobalEnforcement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::App => "app",
            Self::Edge => "edge",
        })
    }
}

/// The rate limits: one window length for every tier, and each tier's maximum per window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// `RATE_WINDOW_MS`: the length of a fixed window (900000, 15 minutes, by default).
    pub window_ms: u64,
    /// `RATE_MAX`: requests per client per window, every request (1000 by default).
    pub global_max: u32,
    /// `RATE_WRITE_MAX`: POST, PUT, PATCH and DELETE requests per client per window (100).
    pub write_max: u32,
    /// `RATE_AUTH_MAX`: failed login, register, refresh and current-password attempts per client
    /// per window (5).
    pub auth_max: u32,
    /// `RATE_AUTH_ACCOUNT_MAX`: failed sign-in and current-password attempts against one account
    /// per window, from any client, whichever of its names they used (20, four times the
    /// per-client limit).
    pub account_max: u32,
    /// `RATE_GLOBAL_ENFORCEMENT`: `app` (default) or `edge`.
    pub global_enforcement: GlobalEnforcement,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            window_ms: 900_000,
            global_max: 1_000,
            write_max: 100,
            auth_max: 5,
            account_max: 20,
            global_enforcement: GlobalEnforcement::App,
        }
    }
}

impl RateLimitConfig {
    /// Reads the settings through `lookup` (the process environment in production, a map in
    /// tests); unset variables keep their defaults.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        let window_ms = match lookup("RATE_WINDOW_MS") {
            None => defaults.window_ms,
            Some(text) => parse_window(&text)
                .map_err(|problem| ConfigError::new("RATE_WINDOW_MS", problem))?,
        };
        let max = |variable: &'static str, default: u32| match lookup(variable) {
            None => Ok(default),
            Some(text) => parse_max(&text).map_err(|problem| ConfigError::new(variable, problem)),
        };
        let global_enforcement = match lookup("RATE_GLOBAL_ENFORCEMENT") {
            None => defaults.global_enforcement,
            Some(text) => GlobalEnforcement::parse(&text)
                .map_err(|problem| ConfigError::new("RATE_GLOBAL_ENFORCEMENT", problem))?,
        };
        Ok(Self {
            window_ms,
            global_max: max("RATE_MAX", defaults.global_max)?,
            write_max: max("RATE_WRITE_MAX", defaults.write_max)?,
            auth_max: max("RATE_AUTH_MAX", defaults.auth_max)?,
            account_max: max("RATE_AUTH_ACCOUNT_MAX", defaults.account_max)?,
            global_enforcement,
        })
    }

    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(crate::config::env)
    }

    /// The most a client (or account) may count in `tier` per window.
    pub fn limit(&self, tier: Tier) -> u32 {
        match tier {
            Tier::Global => self.global_max,
            Tier::Write => self.write_max,
            Tier::Auth => self.auth_max,
            Tier::Account => self.account_max,
        }
    }
}

fn parse_window(text: &str) -> Result<u64, String> {
    let problem = || {
        format!("must be a whole number of milliseconds from {MIN_WINDOW_MS} to {MAX_WINDOW_MS}")
    };
    let window: u64 = text.trim().parse().map_err(|_| problem())?;
    if !(MIN_WINDOW_MS..=MAX_WINDOW_MS).contains(&window) {
        return Err(problem());
    }
    Ok(window)
}

fn parse_max(text: &str) -> Result<u32, String> {
    // Zero would refuse every request of the tier: a configuration mistake, not a policy.
    match text.trim().parse::<u32>() {
        Ok(max) if max > 0 => Ok(max),
        _ => Err(format!("must be a whole number from 1 to {}", u32::MAX)),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<RateLimitConfig, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        RateLimitConfig::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_are_the_documented_limits() {
        let config = config(&[]).unwrap();
        assert_eq!(config.window_ms, 900_000);
        assert_eq!(config.limit(Tier::Global), 1_000);
        assert_eq!(config.limit(Tier::Write), 100);
        assert_eq!(config.limit(Tier::Auth), 5);
        assert_eq!(config.global_enforcement, GlobalEnforcement::App);
    }

    #[test]
    fn every_setting_can_be_overridden() {
        let config = config(&[
            ("RATE_WINDOW_MS", "60000"),
            ("RATE_MAX", "50"),
            ("RATE_WRITE_MAX", "10"),
            ("RATE_AUTH_MAX", "3"),
            ("RATE_GLOBAL_ENFORCEMENT", "Edge"),
        ])
        .unwrap();
        assert_eq!(
            config,
            RateLimitConfig {
                window_ms: 60_000,
                global_max: 50,
                write_max: 10,
                auth_max: 3,
                account_max: 20,
                global_enforcement: GlobalEnforcement::Edge,
            }
        );
    }

    #[test]
    fn malformed_values_name_their_variable() {
        for (variable, value) in [
            ("RATE_WINDOW_MS", "fifteen minutes"),
            ("RATE_WINDOW_MS", "999"),
            ("RATE_WINDOW_MS", "86400001"),
            ("RATE_WINDOW_MS", "-900000"),
            ("RATE_MAX", "0"),
            ("RATE_MAX", "1e3"),
            ("RATE_WRITE_MAX", "-1"),
            ("RATE_AUTH_MAX", "4294967296"),
            ("RATE_GLOBAL_ENFORCEMENT", "waf"),
        ] {
            let error = config(&[(variable, value)]).unwrap_err();
            assert_eq!(error.variable, variable, "{variable}={value}");
            assert!(error.to_string().contains(variable), "{error}");
        }
    }

    #[test]
    fn the_bounds_of_the_window_are_accepted() {
        assert_eq!(
            config(&[("RATE_WINDOW_MS", "1000")]).unwrap().window_ms,
            MIN_WINDOW_MS
        );
        assert_eq!(
            config(&[("RATE_WINDOW_MS", " 86400000 ")])
                .unwrap()
                .window_ms,
            MAX_WINDOW_MS
        );
    }
}
