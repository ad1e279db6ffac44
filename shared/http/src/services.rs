//! What handlers are given: the ports and settings of one process ([`Services`], built once at
//! start), and how bearer tokens are verified when the front end has not ([`Authenticator`]).
//!
//! Handlers depend on this module and not on the pipeline, so the pipeline can depend on the
//! route table (and the route table on the handlers) without a cycle.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use itinera::accounts::{Argon2id, PasswordHasher};
use itinera::auth::{TokenIssuer, TokenVerifier};
use itinera::blobs::{BlobStore, UnconfiguredBlobStore};
use itinera::bookings::BookingSettings;
use itinera::clock::{Clock, IdGenerator, SystemClock, UuidV7Ids};
use itinera::identity::Principal;
use itinera::jobs::JobQueue;
use itinera::payments::{PaymentGateway, UnconfiguredGateway};
use itinera::ratelimit::{RateLimitConfig, RateLimiter};
use itinera::storage::Store;

use crate::cursor::CursorCodec;
use crate::problem::ApiError;

/// Verifies bearer tokens when the front end has not (the local API; in AWS the Lambda
/// authorizer does it before the function runs).
pub trait Authenticator: Send + Sync + 'static {
    /// The principal a token valid at `now` names; `None` for any invalid token.
    fn authenticate(&self, token: &str, now: DateTime<Utc>) -> Option<Principal>;
}

/// The reason a token is refused goes to the log, never to the caller.
impl Authenticator for TokenVerifier {
    fn authenticate(&self, token: &str, now: DateTime<Utc>) -> Option<Principal> {
        self.verify(token, now)
            .inspect_err(|error| tracing::info!(reason = %error, "refused an access token"))
            .ok()
    }
}

/// Remembers tokens it has verified for a short while, as API Gateway caches the authorizer's
/// answer: a signature check costs tens of microseconds, a map lookup far less. The trade is the
/// same as in AWS: a token stays accepted for up to `ttl` after the moment it was first verified,
/// even if it expires in between.
pub struct CachedAuthenticator {
    inner: Arc<dyn Authenticator>,
    ttl: chrono::TimeDelta,
    verified: std::sync::Mutex<std::collections::HashMap<String, (Principal, DateTime<Utc>)>>,
}

impl CachedAuthenticator {
    /// The most tokens remembered; the cache starts over when it is full.
    const CAPACITY: usize = 10_000;

    pub fn new(inner: Arc<dyn Authenticator>, ttl: chrono::TimeDelta) -> Self {
        Self {
            inner,
            ttl,
            verified: std::sync::Mutex::default(),
        }
    }
}

impl Authenticator for CachedAuthenticator {
    fn authenticate(&self, token: &str, now: DateTime<Utc>) -> Option<Principal> {
        if let Ok(verified) = self.verified.lock()
            && let Some((principal, until)) = verified.get(token)
            && now < *until
        {
            return Some(principal.clone());
        }
        let principal = self.inner.authenticate(token, now)?;
        if let Ok(mut verified) = self.verified.lock() {
            if verified.len() >= Self::CAPACITY {
                verified.clear();
            }
            verified.insert(token.to_owned(), (principal.clone(), now + self.ttl));
        }
        Some(principal)
    }
}

/// The ports and helpers handlers use, built once per process.
pub struct Services {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
    pub cursors: CursorCodec,
    /// Verifies `Authorization: Bearer` tokens for requests with [`Credentials::BearerHeader`];
    /// without one, every presented token is refused.
    pub authenticator: Option<Arc<dyn Authenticator>>,
    /// Hashes and verifies passwords (argon2id).
    pub passwords: Arc<dyn PasswordHasher>,
    /// Signs access tokens; only the processes that sign users in hold the private key.
    pub tokens: Option<Arc<TokenIssuer>>,
    /// Counts requests per client (and per account for sign-in) in the shared store.
    pub limiter: Arc<RateLimiter>,
    /// Where jobs go after the change that created them commits. Without one (a function that
    /// enqueues nothing), jobs wait in the store's outbox for the relay.
    pub jobs: Option<Arc<dyn JobQueue>>,
    /// Charges and refunds bookings. Until a process wires the gateway its `PAYMENT_GATEWAY`
    /// setting names (only the functions that move money do), every charge and refund is refused
    /// as unavailable, so no process takes a test card by default.
    pub payments: Arc<dyn PaymentGateway>,
    /// How bookings hold their seats (`BOOKING_HOLD_MINUTES`).
    pub bookings: BookingSettings,
    /// Signs upload and download URLs for files. Until a process wires the store its settings
    /// name (only the functions whose routes handle files do), every file request is refused as
    /// unavailable.
    pub blobs: Arc<dyn BlobStore>,
    /// Whether a cache that keys answers on their declared parameters alone may share the
    /// answers of cacheable routes (API Gateway's stage cache). Then a cacheable route ignores a
    /// body and undeclared query parameters instead of refusing them (see `Input::shared`). On
    /// by default, on both front ends, so that they answer alike.
    pub shared_cache: bool,
}

impl Services {
    /// The three ports nearly every use case takes first: the store, the clock and the ids.
    pub fn ports(&self) -> (&dyn Store, &dyn Clock, &dyn IdGenerator) {
        (&*self.store, &*self.clock, &*self.ids)
    }

    /// Services over `store` with the system clock and UUIDv7 identifiers.
    pub fn new(store: Arc<dyn Store>, cursors: CursorCodec) -> Self {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let limiter = RateLimiter::new(
            Arc::clone(&store),
            Arc::clone(&clock),
            RateLimitConfig::default(),
        );
        Self {
            store,
            clock,
            ids: Arc::new(UuidV7Ids),
            cursors,
            authenticator: None,
            passwords: Arc::new(Argon2id::owasp_minimum()),
            tokens: None,
            limiter: Arc::new(limiter),
            jobs: None,
            payments: Arc::new(UnconfiguredGateway),
            bookings: BookingSettings::default(),
            blobs: Arc::new(UnconfiguredBlobStore),
            shared_cache: true,
        }
    }

    /// The same services with no shared cache in front: cacheable routes refuse what they do
    /// not declare, as every other route does. For checking what each handler declares.
    pub fn without_shared_cache(mut self) -> Self {
        self.shared_cache = false;
        self
    }

    /// The same services, charging and refunding through `gateway`.
    pub fn with_payment_gateway(mut self, gateway: Arc<dyn PaymentGateway>) -> Self {
        self.payments = gateway;
        self
    }

    /// The same services, signing file URLs with `blobs`.
    pub fn with_blob_store(mut self, blobs: Arc<dyn BlobStore>) -> Self {
        self.blobs = blobs;
        self
    }

    /// The same services, holding booked seats as `settings` say.
    pub fn with_booking_settings(mut self, settings: BookingSettings) -> Self {
        self.bookings = settings;
        self
    }

    /// The same services, limiting requests as `config` says.
    pub fn with_rate_limits(mut self, config: RateLimitConfig) -> Self {
        self.limiter = Arc::new(RateLimiter::new(
            Arc::clone(&self.store),
            Arc::clone(&self.clock),
            config,
        ));
        self
    }

    /// The same services, signing access tokens with `issuer`.
    pub fn with_token_issuer(mut self, issuer: TokenIssuer) -> Self {
        self.tokens = Some(Arc::new(issuer));
        self
    }

    /// The token issuer; a process without the private key cannot sign anyone in.
    pub(crate) fn token_issuer(&self) -> Result<&TokenIssuer, ApiError> {
        self.tokens.as_deref().ok_or_else(|| {
            tracing::error!(
                "this function has no token signing key but serves a route that signs users in"
            );
            ApiError::Internal
        })
    }

    /// The same services, sending jobs to `queue`.
    pub fn with_job_queue(mut self, queue: Arc<dyn JobQueue>) -> Self {
        self.jobs = Some(queue);
        self
    }

    /// The same services, verifying bearer tokens with `authenticator`.
    pub fn with_authenticator(mut self, authenticator: Arc<dyn Authenticator>) -> Self {
        self.authenticator = Some(authenticator);
        self
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use itinera::identity::{Role, UserId};

    use super::*;

    /// Accepts one token and counts how often it is asked.
    struct Counting(AtomicUsize);

    impl Authenticator for Counting {
        fn authenticate(&self, token: &str, _: DateTime<Utc>) -> Option<Principal> {
            self.0.fetch_add(1, Ordering::SeqCst);
            (token == "good").then(|| Principal {
                user_id: UserId::from(uuid::Uuid::nil()),
                role: Role::Staff,
            })
        }
    }

    #[test]
    fn a_cached_token_is_verified_once_per_ttl_and_a_bad_one_every_time() {
        let inner = Arc::new(Counting(AtomicUsize::new(0)));
        let cache = CachedAuthenticator::new(inner.clone(), chrono::TimeDelta::seconds(60));
        let start = Utc::now();
        assert!(cache.authenticate("good", start).is_some());
        assert!(
            cache
                .authenticate("good", start + chrono::TimeDelta::seconds(59))
                .is_some()
        );
        assert_eq!(inner.0.load(Ordering::SeqCst), 1);
        assert!(
            cache
                .authenticate("good", start + chrono::TimeDelta::seconds(61))
                .is_some()
        );
        assert_eq!(inner.0.load(Ordering::SeqCst), 2);
        assert!(cache.authenticate("bad", start).is_none());
        assert!(cache.authenticate("bad", start).is_none());
        assert_eq!(inner.0.load(Ordering::SeqCst), 4);
    }

    /// A store no test here reaches.
    struct Unused;

    #[async_trait::async_trait]
    impl Store for Unused {
        async fn get(
            &self,
            _: &itinera::storage::Key,
        ) -> Result<Option<itinera::storage::Item>, itinera::storage::StoreError> {
            unreachable!("no store call")
        }
        async fn put(&self, _: itinera::storage::Put) -> Result<(), itinera::storage::StoreError> {
            unreachable!("no store call")
        }
        async fn update(
            &self,
            _: itinera::storage::Update,
        ) -> Result<itinera::storage::Item, itinera::storage::StoreError> {
            unreachable!("no store call")
        }
        async fn delete(
            &self,
            _: itinera::storage::Delete,
        ) -> Result<Option<itinera::storage::Item>, itinera::storage::StoreError> {
            unreachable!("no store call")
        }
        async fn transact(
            &self,
            _: Vec<itinera::storage::WriteOp>,
        ) -> Result<(), itinera::storage::StoreError> {
            unreachable!("no store call")
        }
        async fn query(
            &self,
            _: itinera::storage::Query,
        ) -> Result<itinera::storage::Page, itinera::storage::StoreError> {
            unreachable!("no store call")
        }
        async fn check_health(&self) -> Result<(), itinera::storage::StoreError> {
            unreachable!("no store call")
        }
    }

    #[tokio::test]
    async fn services_without_a_configured_gateway_charge_and_refund_nothing() {
        use itinera::money::{Currency, Money};
        use itinera::payments::{
            ChargeRequest, PaymentError, PaymentId, PaymentToken, RefundRequest,
        };
        let services = Services::new(Arc::new(Unused), CursorCodec::new(b"k"));
        let amount = Money::new(12_500, Currency::parse("EUR").unwrap()).unwrap();
        let charge = ChargeRequest {
            idempotency_key: "booking-1".into(),
            token: PaymentToken::parse("tok_test_approve").unwrap(),
            amount: amount.clone(),
            description: "Booking".into(),
        };
        let outcome = services.payments.charge(&charge).await;
        assert!(
            matches!(outcome, Err(PaymentError::Unavailable(_))),
            "a process with no gateway setting took a test card: {outcome:?}"
        );
        let refund = RefundRequest {
            idempotency_key: "booking-1".into(),
            payment_id: PaymentId::new("pay_test_1"),
            amount,
        };
        assert!(matches!(
            services.payments.refund(&refund).await,
            Err(PaymentError::Unavailable(_))
        ));
    }
}
