//! Prometheus' text exposition format (version 0.0.4), which the local API serves at
//! `GET /metrics`: the running totals, under the same names the EMF documents use.

use std::fmt::Write;

use super::registry::BUCKETS_MS;
use super::{Sample, Value};

/// The `Content-Type` of the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `samples` (a registry's totals, grouped by metric as [`super::Registry::totals`] returns
/// them) in the text format: `# HELP` and `# TYPE` once per metric, then its series; a
/// histogram as cumulative `_bucket` lines with `le`, `_sum` and `_count`.
pub fn render(samples: &[Sample]) -> String {
    let mut out = String::new();
    let mut current = "";
    for sample in samples {
        let metric = sample.metric;
        if metric.name != current {
            current = metric.name;
            let kind = match sample.value {
                Value::Count(_) => "counter",
                Value::Distribution { .. } => "histogram",
            };
            let _ = writeln!(out, "# HELP {} {}", metric.name, metric.help);
            let _ = writeln!(out, "# TYPE {} {kind}", metric.name);
        }
        match &sample.value {
            Value::Count(count) => {
                let _ = writeln!(
                    out,
                    "{}{} {count}",
                    metric.name,
                    labels(&sample.labels, None)
                );
            }
            Value::Distribution {
                buckets,
                sum,
                count,
                ..
            } => {
                let mut cumulative = 0;
                for (bound, in_bucket) in BUCKETS_MS.iter().zip(buckets) {
                    cumulative += in_bucket;
                    let le = bound.to_string();
                    let _ = writeln!(
                        out,
                        "{}_bucket{} {cumulative}",
                        metric.name,
                        labels(&sample.labels, Some(&le))
                    );
                }
                let name = metric.name;
                let _ = writeln!(
                    out,
                    "{name}_bucket{} {count}",
                    labels(&sample.labels, Some("+Inf"))
                );
                let _ = writeln!(out, "{name}_sum{} {sum}", labels(&sample.labels, None));
                let _ = writeln!(out, "{name}_count{} {count}", labels(&sample.labels, None));
            }
        }
    }
    out
}

/// `{key="value",...}` (with `le` last for a bucket), or nothing without labels. Values are
/// words of the code, escaped all the same.
fn labels(labels: &[(&str, &str)], le: Option<&str>) -> String {
    let mut pairs: Vec<String> = labels
        .iter()
        .map(|(key, value)| format!("{key}=\"{}\"", escape(value)))
        .collect();
    if let Some(le) = le {
        pairs.push(format!("le=\"{le}\""));
    }
    if pairs.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", pairs.join(","))
    }
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
