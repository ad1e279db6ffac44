//! Counting requests in the store and deciding on them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{Decision, GlobalEnforcement, RateKey, RateLimitConfig, RateLimited, Tier};
use crate::clock::Clock;
use crate::error::{DomainError, chain};
use crate::storage::{Comparison, Condition, Durability, Key, Store, StoreError, TABLE, Update};

/// Every counter's partition key starts with this, followed by `<tier>#<key>`.
pub const PARTITION_PREFIX: &str = "RATE#";
/// The numeric attribute a counter item counts in.
pub const COUNT_ATTRIBUTE: &str = "hits";
/// How long after its window's end a counter may be removed: enough for an instance whose
/// clock runs a little behind to finish counting in a window the others have left.
pub const TTL_MARGIN_SECONDS: i64 = 60;

/// How long a client told to retry after a fail-closed refusal should wait.
const UNAVAILABLE_RETRY_SECONDS: u32 = 5;

/// The store could not count or read a tier's counter.
#[derive(Debug, thiserror::Error)]
#[error("the {tier} rate limit could not be checked")]
pub struct LimiterUnavailable {
    pub tier: Tier,
    /// Refuse the request rather than let it through unlimited; see [`Tier::fails_closed`].
    pub fail_closed: bool,
    #[source]
    pub source: StoreError,
}

impl LimiterUnavailable {
    /// Why the request is refused, when the tier fails closed; `None` means the request
    /// proceeds without this tier (the failure was logged at warn).
    pub fn refusal(&self) -> Option<RateLimited> {
        self.fail_closed.then_some(RateLimited::Unavailable {
            tier: self.tier,
            retry_after_seconds: UNAVAILABLE_RETRY_SECONDS,
        })
    }

    /// The store could not resolve which account a sign-in attempt is against, so the
    /// per-account tier cannot count it: it fails closed like the counter itself.
    pub fn resolving_account(error: DomainError) -> Self {
        let source = match error {
            DomainError::Store(source) => source,
            other => StoreError::internal(other.to_string()),
        };
        unavailable(Tier::Account, source)
    }
}

/// What a request does, as far as the limiter is concerned: changes count in the write tier too.
/// The HTTP layer tells one from the other by the method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestKind {
    /// Reads data, or nothing at all.
    Read,
    /// Creates, changes or removes data.
    Change,
}

/// Counts requests per tier and key in fixed windows held in the store.
pub struct RateLimiter {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    config: RateLimitConfig,
    /// Global-tier counts of this process not yet added to the store, per counter.
    batches: Mutex<HashMap<Key, Batch>>,
}

/// How many global-tier requests of one client a process counts in memory before it adds them to
/// the store in one update. The global tier guards capacity, not secrets: a few dozen requests
/// of slack per process buy a store write per 32 requests instead of one per request, which is
/// what keeps counting every read cheaper than the read itself. Within one process (the local
/// API) the count stays exact.
const GLOBAL_BATCH: u64 = 32;

/// A process's view of one global-tier counter.
#[derive(Clone, Copy, Default)]
struct Batch {
    /// The counter's value in the store after this process's last update.
    stored: u64,
    /// Requests counted here since then.
    pending: u64,
}

/// The window a moment falls in.
struct Window {
    start_ms: i64,
    /// The window's end, in epoch seconds rounded up.
    reset_at_epoch_seconds: i64,
}

impl RateLimiter {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, config: RateLimitConfig) -> Self {
        Self {
            store,
            clock,
            config,
            batches: Mutex::default(),
        }
    }

    pub fn config(&self) -> &RateLimitConfig {
        &self.config
    }

    /// The limiter's current time: render a decision's headers against it.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The tiers a request of `kind` is counted in (with [`hit`](Self::hit), before its handler
    /// runs): `global` unless the edge enforces it, and `write` for a change. The auth tier is
    /// never in this list: it is peeked before and counted after.
    pub fn counted_tiers(&self, kind: RequestKind) -> Vec<Tier> {
        let mut tiers = Vec::with_capacity(2);
        if self.config.global_enforcement == GlobalEnforcement::App {
            tiers.push(Tier::Global);
        }
        if kind == RequestKind::Change {
            tiers.push(Tier::Write);
        }
        tiers
    }

    /// Counts one request for `key` in `tier` and decides on it: one atomic store update.
    ///
    /// Refused requests are counted too; in a fixed window that only moves a count that is
    /// already over the limit.
    #[tracing::instrument(skip(self), fields(tier = %tier, key = %key))]
    pub async fn hit(&self, tier: Tier, key: &RateKey) -> Result<Decision, LimiterUnavailable> {
        let window = self.window();
        let count = if tier == Tier::Global {
            self.add_batched(key, &window).await
        } else {
            self.add(tier, key, &window, 1).await
        }
        .map_err(|error| unavailable(tier, error))?;
        Ok(Decision::counted(
            tier,
            self.config.limit(tier),
            count,
            window.reset_at_epoch_seconds,
        ))
    }

    /// Decides whether one more request for `key` fits in `tier` without counting it: one read.
    #[tracing::instrument(skip(self), fields(tier = %tier, key = %key))]
    pub async fn peek(&self, tier: Tier, key: &RateKey) -> Result<Decision, LimiterUnavailable> {
        let window = self.window();
        let count = self
            .read(tier, key, &window)
            .await
            .map_err(|error| unavailable(tier, error))?;
        Ok(Decision::peeked(
            tier,
            self.config.limit(tier),
            count,
            window.reset_at_epoch_seconds,
        ))
    }

    /// Counts a failed authentication attempt for `key` in the auth tier (successful attempts
    /// are never counted). The decision says what remains for the next attempt.
    pub async fn record_failure(&self, key: &RateKey) -> Result<Decision, LimiterUnavailable> {
        self.hit(Tier::Auth, key).await
    }

    /// Takes back one count of `key` in `tier` for a request counted with [`hit`](Self::hit)
    /// that turned out not to count: a successful authentication attempt. `counted` is the
    /// decision `hit` returned; once its window has ended there is nothing left to take back.
    ///
    /// Counting every attempt before the handler and refunding the successes keeps the auth tier
    /// exact under concurrency, which peeking cannot: parallel attempts all pass a peek before
    /// any of their failures is recorded.
    #[tracing::instrument(skip(self, counted), fields(tier = %tier, key = %key))]
    pub async fn refund(
        &self,
        tier: Tier,
        key: &RateKey,
        counted: &Decision,
    ) -> Result<(), LimiterUnavailable> {
        let window = self.window();
        if window.reset_at_epoch_seconds != counted.reset_at_epoch_seconds {
            return Ok(());
        }
        let mut update = Update::new(counter_key(tier, key, &window));
        update.durability = Durability::Relaxed;
        update.add.push((COUNT_ATTRIBUTE.into(), -1));
        // Never below zero, and never creating a counter that is not there.
        update.condition = Some(Condition::compare(COUNT_ATTRIBUTE, Comparison::Greater, 0));
        match self.store.update(update).await {
            Ok(_) | Err(StoreError::ConditionFailed) => Ok(()),
            Err(error) => Err(unavailable(tier, error)),
        }
    }

    fn window(&self) -> Window {
        let window_ms = i64::try_from(self.config.window_ms).unwrap_or(i64::MAX);
        let now_ms = self.clock.now().timestamp_millis();
        let start_ms = now_ms - now_ms.rem_euclid(window_ms);
        let end_ms = start_ms.saturating_add(window_ms);
        Window {
            start_ms,
            reset_at_epoch_seconds: end_ms.saturating_add(999).div_euclid(1_000),
        }
    }

    /// Counts one global-tier request: in memory while the batch has room, otherwise by adding
    /// the whole batch to the store. The first request of a window always goes to the store, so a
    /// process starts from the count every other process has left there.
    async fn add_batched(&self, key: &RateKey, window: &Window) -> Result<u64, StoreError> {
        let counter = counter_key(Tier::Global, key, window);
        let delta = {
            let mut batches = self.batches.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(batch) = batches.get_mut(&counter)
                && batch.pending + 1 < GLOBAL_BATCH
            {
                batch.pending += 1;
                return Ok(batch.stored + batch.pending);
            }
            // Counters of ended windows are of no use any more.
            batches.retain(|counter, _| counter.sk == window.start_ms.to_string());
            let batch = batches.entry(counter.clone()).or_default();
            std::mem::take(&mut batch.pending) + 1
        };
        match self.add(Tier::Global, key, window, delta).await {
            Ok(stored) => {
                let mut batches = self.batches.lock().unwrap_or_else(PoisonError::into_inner);
                let batch = batches.entry(counter).or_default();
                batch.stored = batch.stored.max(stored);
                Ok(batch.stored + batch.pending)
            }
            Err(error) => {
                // Keep the requests for the next attempt rather than forget them.
                let mut batches = self.batches.lock().unwrap_or_else(PoisonError::into_inner);
                batches.entry(counter).or_default().pending += delta - 1;
                Err(error)
            }
        }
    }

    async fn add(
        &self,
        tier: Tier,
        key: &RateKey,
        window: &Window,
        delta: u64,
    ) -> Result<u64, StoreError> {
        let mut update = Update::new(counter_key(tier, key, window));
        // A count lost to a crash is harmless; an fsync on every request is not.
        update.durability = Durability::Relaxed;
        update.add.push((
            COUNT_ATTRIBUTE.into(),
            i64::try_from(delta).unwrap_or(i64::MAX),
        ));
        // Set on every hit (always the same value for a window) rather than only on the first,
        // which would need a condition and a second round trip.
        update.set.push((
            TABLE.ttl_attribute.into(),
            Value::from(window.reset_at_epoch_seconds + TTL_MARGIN_SECONDS),
        ));
        let item = self.store.update(update).await?;
        count_of(item.get(COUNT_ATTRIBUTE))?
            .ok_or_else(|| StoreError::internal("a counter update returned no count"))
    }

    async fn read(&self, tier: Tier, key: &RateKey, window: &Window) -> Result<u64, StoreError> {
        let item = self.store.get(&counter_key(tier, key, window)).await?;
        Ok(count_of(item.as_ref().and_then(|item| item.get(COUNT_ATTRIBUTE)))?.unwrap_or(0))
    }
}

/// The store key of `key`'s counter in `tier` for `window`.
fn counter_key(tier: Tier, key: &RateKey, window: &Window) -> Key {
    Key::new(
        format!("{PARTITION_PREFIX}{tier}#{key}"),
        window.start_ms.to_string(),
    )
}

/// A counter's count; `Ok(None)` when the attribute is missing.
fn count_of(value: Option<&Value>) -> Result<Option<u64>, StoreError> {
    match value {
        None => Ok(None),
        Some(value) => value.as_u64().map(Some).ok_or_else(|| {
            StoreError::internal(format!("a counter holds {value} instead of a count"))
        }),
    }
}

/// Wraps a store failure, logging it where the fail-open or fail-closed choice is made.
fn unavailable(tier: Tier, source: StoreError) -> LimiterUnavailable {
    let error = chain(&source);
    if tier.fails_closed() {
        tracing::error!(%tier, %error, "rate limit unavailable; refusing the request");
    } else {
        tracing::warn!(%tier, %error, "rate limit unavailable; admitting the request unlimited");
    }
    LimiterUnavailable {
        tier,
        fail_closed: tier.fails_closed(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_auth_tier_fails_closed() {
        let failure = |tier| unavailable(tier, StoreError::internal("down"));
        assert_eq!(
            failure(Tier::Auth).refusal(),
            Some(RateLimited::Unavailable {
                tier: Tier::Auth,
                retry_after_seconds: UNAVAILABLE_RETRY_SECONDS
            })
        );
        assert_eq!(failure(Tier::Global).refusal(), None);
        assert_eq!(failure(Tier::Write).refusal(), None);
    }

    #[test]
    fn a_counter_that_is_not_a_count_is_an_internal_error() {
        assert!(matches!(
            count_of(Some(&Value::from("many"))),
            Err(StoreError::Internal(_))
        ));
        assert_eq!(count_of(None).unwrap(), None);
        assert_eq!(count_of(Some(&Value::from(3))).unwrap(), Some(3));
    }
}
