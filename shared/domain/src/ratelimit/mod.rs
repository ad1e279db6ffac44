//! Per-client and per-account rate limits in fixed windows, counted in the store so every
//! instance shares them.
//!
//! Three tiers (see `docs/rate-limits.md`): `global` (every request per client), `write` (POST,
//! PUT, PATCH, DELETE per client) and `auth` (failed login, register, refresh and
//! current-password attempts, per client and per account; an account is counted by its user id
//! whichever of its names an attempt used). A counter is one item per tier, key and window:
//! `pk = RATE#<tier>#<key>`, `sk = <window start, epoch ms>`, a `hits` number raised with an atomic
//! ADD and an `expiresAt` after the window's end so the table's TTL removes it. The ADD returns
//! the new count, so concurrent requests each see a distinct count and no more than the limit
//! are admitted, whichever instance serves them.
//!
//! - [`RateLimiter`]: `hit` counts and decides, `refund` takes a count back (a successful
//!   authentication), `peek` decides without counting, and `record_failure` counts a failed
//!   authentication attempt.
//! - [`Decision`]: one tier's verdict; [`Decision::tightest`] picks the one a response reports and
//!   [`Decision::refusal`] says why a refused request is refused ([`RateLimited`]). The HTTP crate
//!   turns that into a status and the `X-RateLimit-*` and `Retry-After` headers.
//! - [`RateKey`]: a client (IPv4 address, IPv6 /64) or an account (its user id, or the hash of
//!   an identifier that names none).
//! - [`RateLimitConfig`]: limits from the environment; [`GlobalEnforcement`] decides whether the
//!   application or the edge (WAF) enforces the global tier.
//! - [`LimiterUnavailable`]: the store could not count; the tier says whether to fail open or
//!   closed.

mod config;
mod decision;
mod key;
mod limiter;
mod manual_clock;

use std::fmt;

pub use config::{GlobalEnforcement, MAX_WINDOW_MS, MIN_WINDOW_MS, RateLimitConfig};
pub use decision::{Decision, RateLimited};
pub use key::RateKey;
pub use limiter::{
    COUNT_ATTRIBUTE, LimiterUnavailable, PARTITION_PREFIX, RateLimiter, RequestKind,
    TTL_MARGIN_SECONDS,
};
pub use manual_clock::ManualClock;

/// A rate-limit tier: its own limit and its own counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tier {
    /// Every request, per client.
    Global,
    /// Requests that change data (POST, PUT, PATCH, DELETE), per client.
    Write,
    /// Failed authentication attempts, per client.
    Auth,
    /// Failed authentication attempts against one account, from any client. Looser than the
    /// per-client tier, so a guesser at one address cannot lock the owner out from another, yet
    /// bounded, so guessing spread over many addresses stays slow.
    Account,
}

impl Tier {
    pub const ALL: [Tier; 4] = [Tier::Global, Tier::Write, Tier::Auth, Tier::Account];

    /// The tier's name in counter keys and logs.
    pub fn name(self) -> &'static str {
        match self {
            Self::Global => "global",
            Self::Write => "write",
            Self::Auth => "auth",
            Self::Account => "account",
        }
    }

    /// Whether requests are refused (503) when the tier's counter cannot be read or written.
    ///
    /// The auth tiers fail closed: it is the only thing between a password guesser and an
    /// account, and an outage of the store is exactly when nobody watches. The global and write
    /// tiers fail open: they protect capacity, a store outage already stops most work, and
    /// refusing every request because a counter is unreachable would turn a degraded store into
    /// a full outage. The edge (WAF, stage throttling) still limits every client meanwhile.
    pub fn fails_closed(self) -> bool {
        matches!(self, Self::Auth | Self::Account)
    }

    /// Whether the tier counts only failed attempts: the pipeline gives a successful request's
    /// count back in every such tier.
    pub fn counts_failures_only(self) -> bool {
        matches!(self, Self::Auth | Self::Account)
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
