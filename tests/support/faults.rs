//! A store decorator that makes chosen calls fail, for the paths no real adapter reaches on cue.
//!
//! The embedded store never reports a transaction conflict and moto applies one request at a
//! time, so the retries that keep bookings correct under DynamoDB contention, and the recovery of
//! a payment whose commit failed, would otherwise never run in a test. [`FaultyStore`] wraps
//! either family and fails the calls a [`Fault`] selects, before they reach the store (nothing is
//! written) or after (the write is applied and the caller still sees the error, as when DynamoDB
//! commits but the answer is lost on the way back).
//!
//! [`InterferingStore`] lands one concurrent change, on cue, between what a use case read and the
//! transaction it writes: the races that only a lucky interleaving would otherwise show.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use itinera::storage::{Delete, Item, Key, Page, Put, Query, Store, StoreError, Update, WriteOp};

/// Which port method a fault applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Call {
    Get,
    Put,
    Update,
    Delete,
    Transact,
    Query,
}

/// The error a fault reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// DynamoDB's `TransactionConflict`: nothing was written, retrying may succeed.
    Conflict,
    /// Throttling (`ProvisionedThroughputExceeded`, `ThrottlingException`).
    Throttled,
    /// The store could not be reached or did not answer in time.
    Unavailable,
}

impl FaultKind {
    fn error(self) -> StoreError {
        match self {
            Self::Conflict => StoreError::TransactionConflict,
            Self::Throttled => StoreError::Throttled("injected throttling".into()),
            Self::Unavailable => StoreError::Unavailable("injected outage".into()),
        }
    }
}

/// Whether the failing call still reaches the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timing {
    /// The call fails before the store sees it: nothing is written.
    Before,
    /// The call is applied, then reported as failed: the outcome is unknown to the caller.
    After,
}

/// Which matching calls fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Schedule {
    /// The next `n` matching calls, after `skip` matching calls have passed.
    Times { skip: usize, n: usize },
    /// Every `k`-th matching call (the `k`-th, the `2k`-th, ...), for ever.
    Every(usize),
}

/// One rule of failure: which calls, how often, with what error, before or after applying them.
pub struct Fault {
    call: Call,
    touching: Option<String>,
    kind: FaultKind,
    timing: Timing,
    schedule: Schedule,
    seen: usize,
    fired: usize,
}

impl Fault {
    /// The next matching call of `call` fails with a [`FaultKind::Unavailable`] before it is
    /// applied; the builders below change each of those choices.
    pub fn on(call: Call) -> Self {
        Self {
            call,
            touching: None,
            kind: FaultKind::Unavailable,
            timing: Timing::Before,
            schedule: Schedule::Times { skip: 0, n: 1 },
            seen: 0,
            fired: 0,
        }
    }

    /// Only calls that touch an item whose partition key starts with `prefix` (for a
    /// transaction: any of its operations; for a query: its partition).
    pub fn touching(mut self, prefix: impl Into<String>) -> Self {
        self.touching = Some(prefix.into());
        self
    }

    pub fn with(mut self, kind: FaultKind) -> Self {
        self.kind = kind;
        self
    }

    pub fn timing(mut self, timing: Timing) -> Self {
        self.timing = timing;
        self
    }

    /// Fails `n` matching calls (the default is one).
    pub fn times(mut self, n: usize) -> Self {
        if let Schedule::Times { skip, .. } = self.schedule {
            self.schedule = Schedule::Times { skip, n };
        }
        self
    }

    /// Lets `skip` matching calls through before failing any.
    pub fn after(mut self, skip: usize) -> Self {
        if let Schedule::Times { n, .. } = self.schedule {
            self.schedule = Schedule::Times { skip, n };
        }
        self
    }

    /// Fails every `k`-th matching call for as long as the fault is installed.
    pub fn every(mut self, k: usize) -> Self {
        self.schedule = Schedule::Every(k.max(1));
        self
    }

    fn matches(&self, call: Call, keys: &[String]) -> bool {
        call == self.call
            && self
                .touching
                .as_ref()
                .is_none_or(|prefix| keys.iter().any(|pk| pk.starts_with(prefix.as_str())))
    }

    /// Counts a matching call and says whether this one fails.
    fn fires(&mut self) -> bool {
        self.seen += 1;
        let fire = match self.schedule {
            Schedule::Times { skip, n } => self.seen > skip && self.fired < n,
            Schedule::Every(k) => self.seen.is_multiple_of(k),
        };
        if fire {
            self.fired += 1;
        }
        fire
    }
}

/// A [`Store`] that passes every call to `inner` except those its faults select.
pub struct FaultyStore {
    inner: Arc<dyn Store>,
    faults: Mutex<Vec<Fault>>,
    /// The kind of every call made through it, in order, failed or not.
    calls: Mutex<Vec<Call>>,
}

impl FaultyStore {
    pub fn new(inner: Arc<dyn Store>) -> Self {
        Self {
            inner,
            faults: Mutex::new(Vec::new()),
            calls: Mutex::new(Vec::new()),
        }
    }

    /// The kinds of the calls made through this store since the last time they were taken, in
    /// order: what a healthy run of an operation asks of the store, so that a test can then fail
    /// each of those calls in turn (the `n`-th call of a kind is `Fault::on(kind).after(n - 1)`).
    pub fn take_calls(&self) -> Vec<Call> {
        std::mem::take(&mut *self.calls.lock().expect("calls lock"))
    }

    /// Adds a fault; faults are consulted in the order they were added, the first that fires wins.
    pub fn inject(&self, fault: Fault) {
        self.faults.lock().expect("faults lock").push(fault);
    }

    /// Removes every fault: from now on each call reaches the store.
    pub fn heal(&self) {
        self.faults.lock().expect("faults lock").clear();
    }

    /// How many calls the faults have failed so far.
    pub fn injected(&self) -> usize {
        self.faults
            .lock()
            .expect("faults lock")
            .iter()
            .map(|fault| fault.fired)
            .sum()
    }

    /// The store behind the faults, for reading the true state in assertions.
    pub fn inner(&self) -> &Arc<dyn Store> {
        &self.inner
    }

    /// The fault that fails this call, if one does.
    fn fault_for(&self, call: Call, keys: &[String]) -> Option<(FaultKind, Timing)> {
        self.calls.lock().expect("calls lock").push(call);
        let mut faults = self.faults.lock().expect("faults lock");
        faults
            .iter_mut()
            .filter(|fault| fault.matches(call, keys))
            .find_map(|fault| fault.fires().then_some((fault.kind, fault.timing)))
    }
}

/// Runs `apply` unless the fault fails the call first; after it, reports the fault's error.
macro_rules! guarded {
    ($self:ident, $call:expr, $keys:expr, $apply:expr) => {{
        match $self.fault_for($call, &$keys) {
            None => $apply,
            Some((kind, Timing::Before)) => Err(kind.error()),
            Some((kind, Timing::After)) => {
                let _applied = $apply;
                Err(kind.error())
            }
        }
    }};
}

fn partition(key: &Key) -> Vec<String> {
    vec![key.pk.clone()]
}

#[async_trait]
impl Store for FaultyStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        guarded!(self, Call::Get, partition(key), self.inner.get(key).await)
    }

    async fn put(&self, put: Put) -> Result<(), StoreError> {
        let keys = Key::of(&put.item)
            .map(|key| key.pk)
            .into_iter()
            .collect::<Vec<_>>();
        guarded!(self, Call::Put, keys, self.inner.put(put).await)
    }

    async fn update(&self, update: Update) -> Result<Item, StoreError> {
        let keys = partition(&update.key);
        guarded!(self, Call::Update, keys, self.inner.update(update).await)
    }

    async fn delete(&self, delete: Delete) -> Result<Option<Item>, StoreError> {
        let keys = partition(&delete.key);
        guarded!(self, Call::Delete, keys, self.inner.delete(delete).await)
    }

    async fn transact(&self, operations: Vec<WriteOp>) -> Result<(), StoreError> {
        let keys = operations
            .iter()
            .filter_map(|operation| operation.key().map(|key| key.pk))
            .collect::<Vec<_>>();
        guarded!(
            self,
            Call::Transact,
            keys,
            self.inner.transact(operations).await
        )
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        let keys = vec![query.partition.clone()];
        guarded!(self, Call::Query, keys, self.inner.query(query).await)
    }

    async fn check_health(&self) -> Result<(), StoreError> {
        self.inner.check_health().await
    }
}

/// A change a test makes to the store behind an [`InterferingStore`].
type Interference =
    Box<dyn FnOnce(Arc<dyn Store>) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// A [`Store`] that, just before the first transaction touching a partition that starts with its
/// prefix reaches the store, runs one change of the test's against the store behind it, then lets
/// the transaction through: a concurrent writer committing between a use case's read and its write.
pub struct InterferingStore {
    inner: Arc<dyn Store>,
    prefix: String,
    interference: Mutex<Option<Interference>>,
}

impl InterferingStore {
    /// Runs `interfere` once, before the first transaction touching a partition key that starts
    /// with `prefix`.
    pub fn before_transaction_touching<F>(
        inner: Arc<dyn Store>,
        prefix: impl Into<String>,
        interfere: impl FnOnce(Arc<dyn Store>) -> F + Send + 'static,
    ) -> Self
    where
        F: Future<Output = ()> + Send + 'static,
    {
        Self {
            inner,
            prefix: prefix.into(),
            interference: Mutex::new(Some(Box::new(move |store| Box::pin(interfere(store))))),
        }
    }

    /// Whether the change has been made.
    pub fn interfered(&self) -> bool {
        self.interference
            .lock()
            .expect("interference lock")
            .is_none()
    }
}

#[async_trait]
impl Store for InterferingStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.inner.get(key).await
    }

    async fn put(&self, put: Put) -> Result<(), StoreError> {
        self.inner.put(put).await
    }

    async fn update(&self, update: Update) -> Result<Item, StoreError> {
        self.inner.update(update).await
    }

    async fn delete(&self, delete: Delete) -> Result<Option<Item>, StoreError> {
        self.inner.delete(delete).await
    }

    async fn transact(&self, operations: Vec<WriteOp>) -> Result<(), StoreError> {
        let touches = operations.iter().any(|operation| {
            operation
                .key()
                .is_some_and(|key| key.pk.starts_with(self.prefix.as_str()))
        });
        let interference = touches
            .then(|| self.interference.lock().expect("interference lock").take())
            .flatten();
        if let Some(interfere) = interference {
            interfere(Arc::clone(&self.inner)).await;
        }
        self.inner.transact(operations).await
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        self.inner.query(query).await
    }

    async fn check_health(&self) -> Result<(), StoreError> {
        self.inner.check_health().await
    }
}
