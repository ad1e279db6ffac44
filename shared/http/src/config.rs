//! The pipeline's settings, read from the environment once at start, failing fast with a message
//! that names the variable. The domain's own settings (bookings) are read through the domain;
//! CORS is the HTTP crate's.

use itinera::bookings::BookingSettings;
use itinera::config::{ConfigError, SigningKey, env};

use super::cors::CorsPolicy;

/// The pipeline's settings.
#[derive(Clone, Debug)]
pub struct ApiConfig {
    /// `CORS_ALLOWED_ORIGINS`: comma-separated origins; empty allows none.
    pub cors: CorsPolicy,
    /// `CURSOR_SIGNING_KEY`: signs pagination cursors; every instance must share it.
    pub cursor_signing_key: Option<SigningKey>,
    /// `LOG_LEVEL`: `info` by default; per-target directives such as `info,itinera=debug` work.
    pub log_level: String,
    /// `BOOKING_HOLD_MINUTES`: how long a booking holds its seats unpaid (1-60, default 10);
    /// `MAX_PENDING_BOOKINGS`: how many unpaid bookings one customer may hold (1-50, default 3).
    pub bookings: BookingSettings,
}

impl ApiConfig {
    /// Reads the settings through `lookup` (the process environment in production, a map in
    /// tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let cors = CorsPolicy::from_list(&lookup("CORS_ALLOWED_ORIGINS").unwrap_or_default())
            .map_err(|problem| ConfigError::new("CORS_ALLOWED_ORIGINS", problem))?;
        let cursor_signing_key = lookup("CURSOR_SIGNING_KEY")
            .map(|key| SigningKey::parse(&key))
            .transpose()
            .map_err(|problem| ConfigError::new("CURSOR_SIGNING_KEY", problem))?;
        let log_level = lookup("LOG_LEVEL").unwrap_or_else(|| "info".into());
        itinera::telemetry::parse_filter(&log_level)
            .map_err(|problem| ConfigError::new("LOG_LEVEL", problem))?;
        let bookings = BookingSettings::from_lookup(&lookup)?;
        Ok(Self {
            cors,
            cursor_signing_key,
            log_level,
            bookings,
        })
    }

    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(env)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<ApiConfig, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ApiConfig::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let config = config(&[]).unwrap();
        assert_eq!(config.log_level, "info");
        assert!(config.cursor_signing_key.is_none());
    }

    #[test]
    fn a_short_signing_key_names_its_variable() {
        let error = config(&[("CURSOR_SIGNING_KEY", "short")]).unwrap_err();
        assert_eq!(error.variable, "CURSOR_SIGNING_KEY");
        assert!(!format!("{error:?}").contains("short") || error.problem.contains("32"));
    }

    #[test]
    fn malformed_origins_and_log_levels_are_refused() {
        assert_eq!(
            config(&[("CORS_ALLOWED_ORIGINS", "*")])
                .unwrap_err()
                .variable,
            "CORS_ALLOWED_ORIGINS"
        );
        assert_eq!(
            config(&[("LOG_LEVEL", "loud")]).unwrap_err().variable,
            "LOG_LEVEL"
        );
    }

    #[test]
    fn the_booking_hold_is_read_and_checked_at_start() {
        assert_eq!(
            config(&[("BOOKING_HOLD_MINUTES", "15")])
                .unwrap()
                .bookings
                .hold,
            chrono::TimeDelta::minutes(15)
        );
        assert_eq!(
            config(&[("BOOKING_HOLD_MINUTES", "0")])
                .unwrap_err()
                .variable,
            "BOOKING_HOLD_MINUTES"
        );
    }
}
