//! The function's figures, out as CloudWatch Embedded Metric Format documents on stdout: Lambda
//! sends stdout to CloudWatch Logs, which turns the documents into metrics, so publishing costs
//! no API call, no client and no time after the answer.
//!
//! Every invocation writes what it recorded (the registry's window) before it returns, so
//! nothing is held across invocations and a shutdown (`SIGTERM`) finds nothing to flush; the
//! runtime's graceful-shutdown hook would need a no-op extension registered at every cold start
//! to deliver a signal we have no use for (`docs/architecture.md`, "Metrics").

use std::io::{self, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use itinera::config::{ConfigError, env};
use itinera::metrics::emf::{Emf, NAMESPACE};
use itinera::metrics::{COLD_STARTS, global};
use serde_json::Value;

/// The variable naming the function's product line, the dimension every document carries.
pub const PRODUCT_LINE: &str = "PRODUCT_LINE";

/// Writes one function's figures as EMF documents.
#[derive(Clone, Debug)]
pub struct Publisher {
    emf: Emf,
}

impl Publisher {
    /// The publisher of `function` (its name in the tables), in the product line that
    /// `PRODUCT_LINE` names; counts the execution environment's cold start, which the first
    /// invocation then publishes.
    pub fn start(function: &'static str) -> Result<Self, ConfigError> {
        let line = env(PRODUCT_LINE)
            .filter(|line| !line.is_empty())
            .ok_or_else(|| {
                ConfigError::new(PRODUCT_LINE, "must name the function's product line")
            })?;
        COLD_STARTS.increment(&[("function", function)]);
        Ok(Self::of_line(&line))
    }

    /// A publisher whose documents carry `product_line`.
    pub fn of_line(product_line: &str) -> Self {
        Self {
            emf: Emf::new(
                NAMESPACE,
                vec![("product_line".to_owned(), product_line.to_owned())],
            ),
        }
    }

    /// The documents of what was recorded since the last call (the registry's window, which
    /// this empties), stamped now.
    pub fn take_documents(&self) -> Vec<Value> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| {
                i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
            });
        self.emf.documents(&global().take_window(), now)
    }

    /// Writes the invocation's documents to stdout, one line each, and flushes it: called at
    /// the end of every invocation, before its answer goes back.
    pub fn publish(&self) {
        let documents = self.take_documents();
        if documents.is_empty() {
            return;
        }
        if let Err(error) = write_lines(&mut io::stdout().lock(), &documents) {
            tracing::warn!(%error, "could not write the invocation's metrics");
        }
    }
}

fn write_lines(out: &mut impl Write, documents: &[Value]) -> io::Result<()> {
    for document in documents {
        serde_json::to_writer(&mut *out, document)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}
