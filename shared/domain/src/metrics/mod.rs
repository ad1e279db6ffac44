//! Metrics in the domain's words: what happened (a booking created, a hold expired, a request
//! answered), counted where it happens, with no HTTP and no AWS in sight.
//!
//! Use cases and the request pipeline write to one process-wide [`Registry`] through the
//! declarations in [`catalog`] (`BOOKINGS_CREATED.increment(&[])`); the entry points read it out
//! in their own format: a Lambda function writes the figures of each invocation as CloudWatch
//! Embedded Metric Format documents to stdout ([`emf`]), the local API answers `GET /metrics` in
//! Prometheus' text format ([`prometheus`]). Both use the same metric names.
//!
//! Why a registry of our own rather than the `metrics` crate with two exporters: the two
//! renderers are a few hundred lines over `serde_json`, which every crate links already, while
//! the exporters build on `metrics-util` (a second `hashbrown`, `crossbeam-epoch`, `quanta`,
//! sketches) and the Prometheus one on an HTTP listener of its own, for every build of every
//! function; see `docs/architecture.md`, "Metrics".
//!
//! Label keys and values are `&'static str`: a label can only be one of the words the code
//! names (a route's function name, a status class, a tier, a job kind), never a request id, a
//! user id or anything else a caller sends, so the number of series stays bounded by the code.

pub mod catalog;
pub mod emf;
pub mod prometheus;
mod registry;

pub use catalog::*;
pub use registry::{Registry, Sample, Value, global};

/// A metric's labels: (key, value) pairs, both words of the code.
pub type Labels<'a> = &'a [(&'static str, &'static str)];

/// What a metric measures, as CloudWatch names its unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
}

impl Unit {
    /// The unit's name in an EMF document.
    pub fn name(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
        }
    }
}

/// A metric's name, its one-line description and its unit.
#[derive(Debug)]
pub struct Metric {
    /// The name in both formats (`itinera_bookings_created_total`).
    pub name: &'static str,
    /// What it counts, for Prometheus' `# HELP` line.
    pub help: &'static str,
    pub unit: Unit,
}

/// A number that only goes up: events of one kind.
#[derive(Debug)]
pub struct Counter(pub Metric);

impl Counter {
    /// A counter; declared once, as a `static`, in [`catalog`].
    pub const fn new(name: &'static str, help: &'static str) -> Self {
        Self(Metric {
            name,
            help,
            unit: Unit::Count,
        })
    }

    /// Counts one event with `labels` in the process's registry.
    pub fn increment(&'static self, labels: Labels<'_>) {
        self.add(1, labels);
    }

    /// Counts `count` events with `labels` in the process's registry.
    pub fn add(&'static self, count: u64, labels: Labels<'_>) {
        global().count(self, count, labels);
    }
}

/// A distribution of durations (request latency): buckets for Prometheus, the observed values
/// themselves for EMF (CloudWatch computes percentiles from them).
#[derive(Debug)]
pub struct Histogram(pub Metric);

impl Histogram {
    /// A histogram of milliseconds; declared once, as a `static`, in [`catalog`].
    pub const fn milliseconds(name: &'static str, help: &'static str) -> Self {
        Self(Metric {
            name,
            help,
            unit: Unit::Milliseconds,
        })
    }

    /// Records one observation with `labels` in the process's registry.
    pub fn record(&'static self, value: f64, labels: Labels<'_>) {
        global().observe(self, value, labels);
    }
}

#[cfg(test)]
mod tests;
