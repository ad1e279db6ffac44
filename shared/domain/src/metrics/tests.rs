use super::emf::{Emf, NAMESPACE};
use super::*;

static TEST_COUNTER: Counter = Counter::new("itinera_test_events_total", "Test events.");
static TEST_LATENCY: Histogram =
    Histogram::milliseconds("itinera_test_duration_milliseconds", "Test durations.");

fn airline() -> Emf {
    Emf::new(
        NAMESPACE,
        vec![("product_line".to_owned(), "airline".to_owned())],
    )
}

#[test]
fn counters_add_up_per_label_set_whatever_the_label_order() {
    let registry = Registry::new();
    registry.count(
        &TEST_COUNTER,
        1,
        &[("route", "/v1/a"), ("status_class", "2xx")],
    );
    registry.count(
        &TEST_COUNTER,
        2,
        &[("status_class", "2xx"), ("route", "/v1/a")],
    );
    registry.count(
        &TEST_COUNTER,
        1,
        &[("route", "/v1/a"), ("status_class", "5xx")],
    );
    let totals = registry.totals();
    assert_eq!(totals.len(), 2);
    assert_eq!(
        totals[0].labels,
        vec![("route", "/v1/a"), ("status_class", "2xx")]
    );
    assert_eq!(totals[0].value, Value::Count(3));
    assert_eq!(totals[1].value, Value::Count(1));
}

#[test]
fn taking_the_window_empties_it_and_leaves_the_totals() {
    let registry = Registry::new();
    registry.count(&TEST_COUNTER, 2, &[]);
    registry.observe(&TEST_LATENCY, 12.5, &[("route", "/v1/a")]);
    let window = registry.take_window();
    assert_eq!(window.len(), 2);
    assert!(
        registry.take_window().is_empty(),
        "a taken window starts empty"
    );
    registry.count(&TEST_COUNTER, 1, &[]);
    let window = registry.take_window();
    assert_eq!(window.len(), 1, "series that did not move are left out");
    assert_eq!(window[0].value, Value::Count(1));
    let totals = registry.totals();
    assert_eq!(totals[1].value, Value::Count(3), "totals only grow");
}

#[test]
fn a_window_keeps_at_most_one_emf_metric_worth_of_values() {
    let registry = Registry::new();
    for value in 0..250 {
        registry.observe(&TEST_LATENCY, f64::from(value), &[]);
    }
    let Value::Distribution { values, count, .. } = &registry.take_window()[0].value else {
        panic!("a histogram's window is a distribution");
    };
    assert_eq!(values.len(), registry::WINDOW_VALUES);
    assert_eq!(*count, 250, "the count still has every observation");
}

#[test]
fn prometheus_text_has_help_type_series_and_cumulative_buckets() {
    let registry = Registry::new();
    registry.count(&TEST_COUNTER, 4, &[("tier", "write")]);
    registry.observe(&TEST_LATENCY, 3.0, &[("route", "/v1/a")]);
    registry.observe(&TEST_LATENCY, 40.0, &[("route", "/v1/a")]);
    let text = prometheus::render(&registry.totals());
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.contains(&"# TYPE itinera_test_events_total counter"));
    assert!(lines.contains(&"# HELP itinera_test_events_total Test events."));
    assert!(lines.contains(&"itinera_test_events_total{tier=\"write\"} 4"));
    assert!(lines.contains(&"# TYPE itinera_test_duration_milliseconds histogram"));
    assert!(
        lines.contains(&"itinera_test_duration_milliseconds_bucket{route=\"/v1/a\",le=\"2.5\"} 0")
    );
    assert!(
        lines.contains(&"itinera_test_duration_milliseconds_bucket{route=\"/v1/a\",le=\"5\"} 1")
    );
    assert!(
        lines.contains(&"itinera_test_duration_milliseconds_bucket{route=\"/v1/a\",le=\"50\"} 2")
    );
    assert!(
        lines.contains(&"itinera_test_duration_milliseconds_bucket{route=\"/v1/a\",le=\"+Inf\"} 2")
    );
    assert!(lines.contains(&"itinera_test_duration_milliseconds_sum{route=\"/v1/a\"} 43"));
    assert!(lines.contains(&"itinera_test_duration_milliseconds_count{route=\"/v1/a\"} 2"));
    assert_eq!(
        lines
            .iter()
            .filter(|line| line.starts_with("# TYPE"))
            .count(),
        2,
        "one TYPE line per metric"
    );
}

#[test]
fn an_emf_document_per_label_set_with_its_dimensions_and_values() {
    let registry = Registry::new();
    registry.count(
        &TEST_COUNTER,
        1,
        &[("route", "/v1/a"), ("status_class", "2xx")],
    );
    registry.observe(
        &TEST_LATENCY,
        7.0,
        &[("route", "/v1/a"), ("status_class", "2xx")],
    );
    registry.count(&TEST_COUNTER, 2, &[("tier", "write")]);
    let documents = airline().documents(&registry.take_window(), 1_700_000_000_000);
    assert_eq!(documents.len(), 2, "one document per label set");
    let request = &documents[0];
    assert_eq!(request["product_line"], "airline");
    assert_eq!(request["route"], "/v1/a");
    assert_eq!(request["itinera_test_events_total"], 1);
    assert_eq!(
        request["itinera_test_duration_milliseconds"],
        serde_json::json!([7.0])
    );
    let directive = &request["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(request["_aws"]["Timestamp"], 1_700_000_000_000_i64);
    assert_eq!(directive["Namespace"], "Itinera");
    assert_eq!(
        directive["Dimensions"],
        serde_json::json!([
            ["product_line"],
            ["product_line", "route"],
            ["product_line", "status_class"],
            ["product_line", "route", "status_class"]
        ])
    );
    let units: Vec<(&str, &str)> = directive["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|metric| {
            (
                metric["Name"].as_str().unwrap(),
                metric["Unit"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        units,
        vec![
            ("itinera_test_duration_milliseconds", "Milliseconds"),
            ("itinera_test_events_total", "Count")
        ]
    );
    let limited = &documents[1];
    assert_eq!(limited["tier"], "write");
    assert_eq!(limited["itinera_test_events_total"], 2);
    for document in &documents {
        let directive = &document["_aws"]["CloudWatchMetrics"][0];
        for set in directive["Dimensions"].as_array().unwrap() {
            for key in set.as_array().unwrap() {
                assert!(
                    document[key.as_str().unwrap()].is_string(),
                    "dimension {key} is a key of the document"
                );
            }
        }
    }
}

#[test]
fn nothing_moved_means_no_document() {
    let registry = Registry::new();
    assert!(airline().documents(&registry.take_window(), 0).is_empty());
}
