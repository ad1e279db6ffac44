//! Rate limiting on the embedded store: windows, keys, the auth tier's failure counting,
//! exactness under concurrency, counter expiry, and what happens when the store is down.

use std::sync::Arc;

use async_trait::async_trait;
use http::{HeaderMap, Method};
use itinera::ratelimit::{
    COUNT_ATTRIBUTE, Decision, GlobalEnforcement, LimiterUnavailable, ManualClock, RateKey,
    RateLimitConfig, RateLimiter, TTL_MARGIN_SECONDS, Tier,
};
use itinera::storage::{
    Delete, Item, Key, Page, Put, Query, Store, StoreError, TABLE, Update, WriteOp,
};
use itinera_embedded::EmbeddedStore;
use itinera_http::{ApiError, RateLimitHeaders, request_kind};
use tempfile::TempDir;

const WINDOW_MS: i64 = 900_000;
/// The start of a window: 1_888_889 whole windows after the epoch.
const WINDOW_START_MS: i64 = 1_700_000_100_000;

/// A limiter over a fresh embedded store, with a clock the test moves.
struct Limits {
    limiter: RateLimiter,
    clock: Arc<ManualClock>,
    store: Arc<dyn Store>,
    _data: TempDir,
}

fn small_limits() -> RateLimitConfig {
    RateLimitConfig {
        window_ms: WINDOW_MS as u64,
        global_max: 10,
        write_max: 3,
        auth_max: 5,
        account_max: 8,
        global_enforcement: GlobalEnforcement::App,
    }
}

fn limits(config: RateLimitConfig) -> Limits {
    let data = tempfile::tempdir().expect("temporary directory");
    let store: Arc<dyn Store> =
        Arc::new(EmbeddedStore::open(data.path()).expect("embedded store opens"));
    // Well inside the window, so the test can move about without crossing it by accident.
    let clock = Arc::new(ManualClock::at_epoch_ms(WINDOW_START_MS + 60_000));
    Limits {
        limiter: RateLimiter::new(Arc::clone(&store), clock.clone(), config),
        clock,
        store,
        _data: data,
    }
}

fn client(ip: &str) -> RateKey {
    RateKey::client(Some(ip))
}

async fn hit(limits: &Limits, tier: Tier, key: &RateKey) -> Decision {
    limits
        .limiter
        .hit(tier, key)
        .await
        .expect("the embedded store counts")
}

#[tokio::test]
async fn the_hit_after_the_limit_is_refused_with_nothing_remaining_until_a_future_reset() {
    let limits = limits(small_limits());
    let key = client("203.0.113.7");

    let remaining: Vec<u32> = [
        hit(&limits, Tier::Write, &key).await,
        hit(&limits, Tier::Write, &key).await,
        hit(&limits, Tier::Write, &key).await,
    ]
    .iter()
    .map(|decision| {
        assert!(decision.allowed);
        assert_eq!(decision.limit, 3);
        decision.remaining
    })
    .collect();
    assert_eq!(remaining, [2, 1, 0]);

    let refused = hit(&limits, Tier::Write, &key).await;
    assert!(!refused.allowed);
    assert_eq!(refused.remaining, 0);
    assert_eq!(
        refused.reset_at_epoch_seconds,
        (WINDOW_START_MS + WINDOW_MS) / 1_000
    );
    let now = limits.limiter.now();
    assert!(refused.reset_at_epoch_seconds > now.timestamp());
    assert_eq!(refused.seconds_until_reset(now), 840);
    assert_eq!(
        refused.refusal(now).map(ApiError::from),
        Some(ApiError::TooManyRequests {
            retry_after_seconds: 840
        })
    );
}

#[tokio::test]
async fn a_new_window_starts_a_fresh_count() {
    let limits = limits(small_limits());
    let key = client("203.0.113.7");
    for _ in 0..4 {
        hit(&limits, Tier::Write, &key).await;
    }

    // The last millisecond of the window still refuses.
    limits
        .clock
        .advance_ms(WINDOW_START_MS + WINDOW_MS - 1 - limits.clock.epoch_ms());
    assert!(!hit(&limits, Tier::Write, &key).await.allowed);

    limits.clock.advance_ms(1);
    let fresh = hit(&limits, Tier::Write, &key).await;
    assert!(fresh.allowed);
    assert_eq!(fresh.remaining, 2);
    assert_eq!(
        fresh.reset_at_epoch_seconds,
        (WINDOW_START_MS + 2 * WINDOW_MS) / 1_000
    );
}

#[tokio::test]
async fn ipv6_addresses_in_one_64_share_a_budget_and_another_64_does_not() {
    let limits = limits(small_limits());
    let hosts = [
        "2001:db8:aa:1::1",
        "2001:db8:aa:1:ffff:ffff:ffff:fffe",
        "2001:db8:aa:1:1234:5678:9abc:def0",
    ];
    for host in hosts {
        assert!(hit(&limits, Tier::Write, &client(host)).await.allowed);
    }
    let rotated = hit(&limits, Tier::Write, &client("2001:db8:aa:1:dead:beef::9")).await;
    assert!(
        !rotated.allowed,
        "a fourth address of the same /64 is refused"
    );

    let neighbour = hit(&limits, Tier::Write, &client("2001:db8:aa:2::1")).await;
    assert!(neighbour.allowed);
    assert_eq!(neighbour.remaining, 2);
}

#[tokio::test]
async fn clients_and_tiers_keep_separate_counts() {
    let limits = limits(small_limits());
    let key = client("203.0.113.7");
    for _ in 0..4 {
        hit(&limits, Tier::Write, &key).await;
    }
    let global = hit(&limits, Tier::Global, &key).await;
    assert!(global.allowed);
    assert_eq!(global.remaining, 9);
    let other = hit(&limits, Tier::Write, &client("203.0.113.8")).await;
    assert!(other.allowed);
    assert_eq!(other.remaining, 2);
}

#[tokio::test]
async fn auth_failures_count_and_peeks_do_not() {
    let limits = limits(small_limits());
    let ip = client("198.51.100.4");
    let account = RateKey::account("ann@example.com");

    for _ in 0..20 {
        let peeked = limits.limiter.peek(Tier::Auth, &ip).await.unwrap();
        assert!(peeked.allowed);
        assert_eq!(peeked.remaining, 5);
    }

    for expected_remaining in (0..5).rev() {
        let failure = limits.limiter.record_failure(&ip).await.unwrap();
        assert!(failure.allowed);
        assert_eq!(failure.remaining, expected_remaining);
        limits.limiter.record_failure(&account).await.unwrap();
    }

    let blocked_ip = limits.limiter.peek(Tier::Auth, &ip).await.unwrap();
    assert!(!blocked_ip.allowed);
    assert_eq!(blocked_ip.remaining, 0);
    // The account is blocked from any address, not only from the one that failed.
    let blocked_account = limits
        .limiter
        .peek(Tier::Auth, &RateKey::account("ANN@example.com "))
        .await
        .unwrap();
    assert!(!blocked_account.allowed);
    let other_ip = limits
        .limiter
        .peek(Tier::Auth, &client("198.51.100.5"))
        .await
        .unwrap();
    assert!(other_ip.allowed);
    assert_eq!(other_ip.remaining, 5);
}

#[tokio::test]
async fn refunded_successes_leave_only_failures_counted() {
    let limits = limits(small_limits());
    let ip = client("198.51.100.4");
    // Ten successful attempts, each counted before its handler and refunded after it.
    for _ in 0..10 {
        let counted = hit(&limits, Tier::Auth, &ip).await;
        assert!(counted.allowed);
        limits
            .limiter
            .refund(Tier::Auth, &ip, &counted)
            .await
            .unwrap();
    }
    // Then failures, which keep their count: the budget is the full five.
    for _ in 0..5 {
        assert!(hit(&limits, Tier::Auth, &ip).await.allowed);
    }
    assert!(!hit(&limits, Tier::Auth, &ip).await.allowed);
}

#[tokio::test]
async fn a_refund_after_the_window_ended_takes_nothing_from_the_next() {
    let limits = limits(small_limits());
    let ip = client("198.51.100.4");
    let counted = hit(&limits, Tier::Auth, &ip).await;
    limits.clock.advance_ms(WINDOW_MS);
    let next_window = hit(&limits, Tier::Auth, &ip).await;
    assert_eq!(next_window.remaining, 4);
    limits
        .limiter
        .refund(Tier::Auth, &ip, &counted)
        .await
        .unwrap();
    assert_eq!(
        limits
            .limiter
            .peek(Tier::Auth, &ip)
            .await
            .unwrap()
            .remaining,
        4
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_hits_never_admit_more_than_the_limit() {
    let limits = Arc::new(limits(RateLimitConfig {
        write_max: 20,
        ..small_limits()
    }));
    let key = client("203.0.113.7");
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let limits = Arc::clone(&limits);
            let key = key.clone();
            tokio::spawn(async move { hit(&limits, Tier::Write, &key).await })
        })
        .collect();
    let mut admitted = 0;
    let mut remaining_seen = Vec::new();
    for task in tasks {
        let decision = task.await.expect("the task completes");
        if decision.allowed {
            admitted += 1;
            remaining_seen.push(decision.remaining);
        }
    }
    assert_eq!(admitted, 20);
    // Each admitted request saw a distinct count: 19 remaining down to 0.
    remaining_seen.sort_unstable();
    assert_eq!(remaining_seen, (0..20).collect::<Vec<u32>>());
}

#[tokio::test]
async fn a_counter_item_expires_after_its_window() {
    let limits = limits(small_limits());
    let key = client("203.0.113.7");
    hit(&limits, Tier::Write, &key).await;
    hit(&limits, Tier::Write, &key).await;

    let stored = limits
        .store
        .get(&Key::new(
            "RATE#write#ip:203.0.113.7",
            WINDOW_START_MS.to_string(),
        ))
        .await
        .unwrap()
        .expect("the counter is stored under its tier, key and window start");
    assert_eq!(stored[COUNT_ATTRIBUTE], 2);
    assert_eq!(
        stored[TABLE.ttl_attribute],
        (WINDOW_START_MS + WINDOW_MS) / 1_000 + TTL_MARGIN_SECONDS
    );
}

#[tokio::test]
async fn the_tightest_tier_fills_the_headers() {
    let limits = limits(small_limits());
    let key = client("203.0.113.7");
    let decisions = [
        hit(&limits, Tier::Global, &key).await,
        hit(&limits, Tier::Write, &key).await,
    ];
    let tightest = Decision::tightest(decisions).unwrap();
    assert_eq!(tightest.tier, Tier::Write);
    let mut headers = HeaderMap::new();
    tightest.apply_headers(limits.limiter.now(), &mut headers);
    assert_eq!(headers["x-ratelimit-limit"], "3");
    assert_eq!(headers["x-ratelimit-remaining"], "2");
    assert_eq!(headers["x-ratelimit-reset"], "840");
    assert!(!headers.contains_key("retry-after"));
}

#[tokio::test]
async fn the_global_tier_is_counted_by_the_app_only_when_configured_so() {
    let app = limits(small_limits());
    assert_eq!(
        app.limiter.counted_tiers(request_kind(&Method::GET)),
        [Tier::Global]
    );
    assert_eq!(
        app.limiter.counted_tiers(request_kind(&Method::DELETE)),
        [Tier::Global, Tier::Write]
    );
    let edge = limits(RateLimitConfig {
        global_enforcement: GlobalEnforcement::Edge,
        ..small_limits()
    });
    assert!(
        edge.limiter
            .counted_tiers(request_kind(&Method::GET))
            .is_empty()
    );
    assert_eq!(
        edge.limiter.counted_tiers(request_kind(&Method::POST)),
        [Tier::Write]
    );
}

/// A store that cannot be reached.
struct DownStore;

fn down() -> StoreError {
    StoreError::Unavailable("connection refused".into())
}

#[async_trait]
impl Store for DownStore {
    async fn get(&self, _: &Key) -> Result<Option<Item>, StoreError> {
        Err(down())
    }
    async fn put(&self, _: Put) -> Result<(), StoreError> {
        Err(down())
    }
    async fn update(&self, _: Update) -> Result<Item, StoreError> {
        Err(down())
    }
    async fn delete(&self, _: Delete) -> Result<Option<Item>, StoreError> {
        Err(down())
    }
    async fn transact(&self, _: Vec<WriteOp>) -> Result<(), StoreError> {
        Err(down())
    }
    async fn query(&self, _: Query) -> Result<Page, StoreError> {
        Err(down())
    }
    async fn check_health(&self) -> Result<(), StoreError> {
        Err(down())
    }
}

#[tokio::test]
async fn an_unreachable_store_fails_auth_closed_and_the_other_tiers_open() {
    let limiter = RateLimiter::new(
        Arc::new(DownStore),
        Arc::new(ManualClock::at_epoch_ms(WINDOW_START_MS)),
        small_limits(),
    );
    let key = client("203.0.113.7");

    let auth: LimiterUnavailable = limiter.peek(Tier::Auth, &key).await.unwrap_err();
    assert!(auth.fail_closed);
    assert!(matches!(auth.source, StoreError::Unavailable(_)));
    assert_eq!(
        auth.refusal().map(ApiError::from),
        Some(ApiError::Unavailable {
            retry_after_seconds: 5
        })
    );
    assert!(limiter.record_failure(&key).await.unwrap_err().fail_closed);

    for tier in [Tier::Global, Tier::Write] {
        let open = limiter.hit(tier, &key).await.unwrap_err();
        assert!(!open.fail_closed, "{tier}");
        assert_eq!(open.refusal(), None, "{tier}");
    }
}

#[tokio::test]
async fn global_hits_are_exact_in_one_process_and_reach_the_store_in_batches() {
    let limits = limits(RateLimitConfig {
        global_max: 100,
        ..small_limits()
    });
    let key = client("203.0.113.7");
    for n in 1..=100u32 {
        let decision = hit(&limits, Tier::Global, &key).await;
        assert!(decision.allowed, "request {n}");
        assert_eq!(decision.remaining, 100 - n);
    }
    assert!(!hit(&limits, Tier::Global, &key).await.allowed);
    let counter = Key::new(
        format!("RATE#global#{}", key.as_str()),
        WINDOW_START_MS.to_string(),
    );
    let stored = limits
        .store
        .get(&counter)
        .await
        .expect("the store answers")
        .and_then(|item| item.get(COUNT_ATTRIBUTE).and_then(|count| count.as_u64()))
        .expect("the counter is stored");
    assert!(
        stored <= 101 && 101 - stored < 32,
        "the store holds {stored} of 101 counted requests"
    );
}

#[tokio::test]
async fn a_second_process_starts_from_the_count_the_first_left_in_the_store() {
    let first = limits(RateLimitConfig {
        global_max: 100,
        ..small_limits()
    });
    let key = client("203.0.113.8");
    for _ in 0..40 {
        hit(&first, Tier::Global, &key).await;
    }
    let second = RateLimiter::new(
        Arc::clone(&first.store),
        first.clock.clone(),
        *first.limiter.config(),
    );
    let decision = second
        .hit(Tier::Global, &key)
        .await
        .expect("the store counts");
    assert!(
        decision.remaining < 100 - 32,
        "a fresh process saw {} remaining after 40 requests elsewhere",
        decision.remaining
    );
}
