//! Structured JSON logs, the same in Lambda and locally.
//!
//! Each request runs in a `request` span holding its request id, method, path, route, client IP
//! and user agent; every line logged inside it carries those fields, so one id finds the access
//! line, the error line and the cause chain of a request.

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Reads a `LOG_LEVEL` value (`info`, `warn,itinera=debug`, ...).
pub fn parse_filter(level: &str) -> Result<Targets, String> {
    let problem = || format!("`{level}` is not a log level such as info or warn,itinera=debug");
    // `Targets` would read a bare word as a target name; only levels are meant here.
    let is_level = |word: &str| {
        matches!(
            word.trim().to_ascii_lowercase().as_str(),
            "trace" | "debug" | "info" | "warn" | "error" | "off"
        )
    };
    let directives_are_levels = level
        .split(',')
        .all(|directive| match directive.split_once('=') {
            Some((target, level)) => !target.trim().is_empty() && is_level(level),
            None => is_level(directive),
        });
    if !directives_are_levels {
        return Err(problem());
    }
    level.parse::<Targets>().map_err(|_| problem())
}

/// Installs the JSON log subscriber for the process. `level` was checked by the config.
pub fn init(level: &str) {
    let filter =
        parse_filter(level).unwrap_or_else(|_| Targets::new().with_default(tracing::Level::INFO));
    let format = tracing_subscriber::fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(true);
    // A second call (tests that build several APIs) keeps the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(format)
        .with(filter)
        .try_init();
}
