//! The figures themselves: one series per metric and label set, kept twice over. The running
//! totals (what Prometheus scrapes) only grow; the window (what one EMF document reports) holds
//! what happened since it was last taken, and taking it empties it.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::{Counter, Histogram, Labels, Metric};

/// Upper bounds of the latency buckets Prometheus is given, in milliseconds.
pub const BUCKETS_MS: [f64; 14] = [
    1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1_000.0, 2_500.0, 5_000.0, 10_000.0,
    30_000.0,
];

/// At most this many observations of one series wait in a window: the number of values one EMF
/// metric may carry. A Lambda invocation records one request (or one batch of at most ten
/// jobs), so it never comes near; where the window is never taken (the local API), it stops
/// growing there while the totals go on.
pub const WINDOW_VALUES: usize = 100;

type Key = (&'static str, Vec<(&'static str, &'static str)>);

/// The metrics of a process; [`global`] is the one use cases write to.
#[derive(Debug, Default)]
pub struct Registry {
    series: Mutex<BTreeMap<Key, Series>>,
}

#[derive(Debug)]
struct Series {
    metric: &'static Metric,
    total: Value,
    window: Value,
}

/// A series' figures.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A counter's count.
    Count(u64),
    /// A histogram: how many observations fell at or under each of [`BUCKETS_MS`] (not
    /// cumulative), their sum and count, and the observations themselves (in a window only,
    /// at most [`WINDOW_VALUES`]).
    Distribution {
        buckets: [u64; BUCKETS_MS.len()],
        sum: f64,
        count: u64,
        values: Vec<f64>,
    },
}

impl Value {
    fn empty_distribution() -> Self {
        Value::Distribution {
            buckets: [0; BUCKETS_MS.len()],
            sum: 0.0,
            count: 0,
            values: Vec::new(),
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Value::Count(count) | Value::Distribution { count, .. } => *count == 0,
        }
    }

    fn observe(&mut self, value: f64, keep_value: bool) {
        if let Value::Distribution {
            buckets,
            sum,
            count,
            values,
        } = self
        {
            if let Some(bucket) = BUCKETS_MS.iter().position(|bound| value <= *bound) {
                buckets[bucket] += 1;
            }
            *sum += value;
            *count += 1;
            if keep_value && values.len() < WINDOW_VALUES {
                values.push(value);
            }
        }
    }
}

/// One series as read out: its metric, its labels (sorted by key) and its figures.
#[derive(Clone, Debug)]
pub struct Sample {
    pub metric: &'static Metric,
    pub labels: Vec<(&'static str, &'static str)>,
    pub value: Value,
}

/// The registry of the process, which [`Counter::increment`] and [`Histogram::record`] write to.
pub fn global() -> &'static Registry {
    static GLOBAL: Registry = Registry::new();
    &GLOBAL
}

impl Registry {
    /// An empty registry (tests build their own; the code writes to [`global`]).
    pub const fn new() -> Self {
        Self {
            series: Mutex::new(BTreeMap::new()),
        }
    }

    /// Adds `count` to `counter`'s series with `labels`.
    pub fn count(&self, counter: &'static Counter, count: u64, labels: Labels<'_>) {
        let mut series = self.lock();
        let entry = series
            .entry((counter.0.name, sorted(labels)))
            .or_insert_with(|| Series {
                metric: &counter.0,
                total: Value::Count(0),
                window: Value::Count(0),
            });
        for value in [&mut entry.total, &mut entry.window] {
            if let Value::Count(total) = value {
                *total = total.saturating_add(count);
            }
        }
    }

    /// Records `value` in `histogram`'s series with `labels`.
    pub fn observe(&self, histogram: &'static Histogram, value: f64, labels: Labels<'_>) {
        let mut series = self.lock();
        let entry = series
            .entry((histogram.0.name, sorted(labels)))
            .or_insert_with(|| Series {
                metric: &histogram.0,
                total: Value::empty_distribution(),
                window: Value::empty_distribution(),
            });
        entry.total.observe(value, false);
        entry.window.observe(value, true);
    }

    /// The running totals of every series, by metric name and labels.
    pub fn totals(&self) -> Vec<Sample> {
        self.lock()
            .iter()
            .map(|((_, labels), series)| Sample {
                metric: series.metric,
                labels: labels.clone(),
                value: series.total.clone(),
            })
            .collect()
    }

    /// What happened since the window was last taken (series that did not move are left out),
    /// and a fresh window.
    pub fn take_window(&self) -> Vec<Sample> {
        self.lock()
            .iter_mut()
            .filter(|(_, series)| !series.window.is_empty())
            .map(|((_, labels), series)| {
                let fresh = match series.window {
                    Value::Count(_) => Value::Count(0),
                    Value::Distribution { .. } => Value::empty_distribution(),
                };
                Sample {
                    metric: series.metric,
                    labels: labels.clone(),
                    value: std::mem::replace(&mut series.window, fresh),
                }
            })
            .collect()
    }

    /// A panic while the lock was held cannot leave a half-written figure that matters more
    /// than losing every later one, so a poisoned lock is used as it is.
    fn lock(&self) -> MutexGuard<'_, BTreeMap<Key, Series>> {
        self.series.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn sorted(labels: Labels<'_>) -> Vec<(&'static str, &'static str)> {
    let mut labels = labels.to_vec();
    labels.sort_unstable();
    labels
}
