//! CloudWatch Embedded Metric Format: a JSON log line that CloudWatch Logs turns into metrics,
//! so a Lambda function publishes its figures by printing them, with no API call and no client.
//!
//! One document per label set (a document's dimensions are its top-level keys, so two values of
//! one label cannot share a document). Each document carries the function's own dimensions (its
//! product line) and publishes every metric under the product line alone, under the product
//! line with each of its labels, and under all of them together: the dashboard and the alarms
//! read `requests per product line` and `5xx per product line` without a search expression, and
//! the number of series stays the product of a few bounded words.

use serde_json::{Map, Value as Json, json};

use super::{Labels, Sample, Value};

/// The namespace the metrics go to.
pub const NAMESPACE: &str = "Itinera";

/// Where documents go and the dimensions every one of them carries.
#[derive(Clone, Debug)]
pub struct Emf {
    namespace: String,
    dimensions: Vec<(String, String)>,
}

impl Emf {
    /// Documents in `namespace`, each carrying `dimensions` (e.g. the function's product line).
    pub fn new(namespace: &str, dimensions: Vec<(String, String)>) -> Self {
        Self {
            namespace: namespace.to_owned(),
            dimensions,
        }
    }

    /// The documents of `samples` (a registry's window), stamped `timestamp_ms` (milliseconds
    /// since the epoch); none when nothing moved.
    pub fn documents(&self, samples: &[Sample], timestamp_ms: i64) -> Vec<Json> {
        let mut groups: Vec<(Labels<'_>, Vec<&Sample>)> = Vec::new();
        for sample in samples {
            match groups
                .iter_mut()
                .find(|(labels, _)| *labels == sample.labels.as_slice())
            {
                Some((_, group)) => group.push(sample),
                None => groups.push((&sample.labels, vec![sample])),
            }
        }
        groups
            .into_iter()
            .map(|(labels, group)| self.document(labels, &group, timestamp_ms))
            .collect()
    }

    fn document(&self, labels: Labels<'_>, samples: &[&Sample], timestamp_ms: i64) -> Json {
        let mut document = Map::new();
        for (key, value) in &self.dimensions {
            document.insert(key.clone(), Json::from(value.as_str()));
        }
        for (key, value) in labels {
            document.insert((*key).to_owned(), Json::from(*value));
        }
        let mut metrics = Vec::new();
        for sample in samples {
            let figure = match &sample.value {
                Value::Count(count) => Json::from(*count),
                Value::Distribution { values, .. } => Json::from(values.clone()),
            };
            document.insert(sample.metric.name.to_owned(), figure);
            metrics.push(json!({ "Name": sample.metric.name, "Unit": sample.metric.unit.name() }));
        }
        document.insert(
            "_aws".to_owned(),
            json!({
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": self.namespace,
                    "Dimensions": self.dimension_sets(labels),
                    "Metrics": metrics,
                }],
            }),
        );
        Json::Object(document)
    }

    /// The function's dimensions alone, with each label, and with all labels.
    fn dimension_sets(&self, labels: Labels<'_>) -> Vec<Vec<String>> {
        let base: Vec<String> = self.dimensions.iter().map(|(key, _)| key.clone()).collect();
        let with = |keys: &[&str]| {
            let mut set = base.clone();
            set.extend(keys.iter().map(|key| (*key).to_owned()));
            set
        };
        let mut sets = vec![base.clone()];
        sets.extend(labels.iter().map(|(key, _)| with(&[key])));
        if labels.len() > 1 {
            let keys: Vec<&str> = labels.iter().map(|(key, _)| *key).collect();
            sets.push(with(&keys));
        }
        sets.retain(|set| !set.is_empty());
        sets.dedup();
        sets
    }
}
