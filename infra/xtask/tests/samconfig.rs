//! `samconfig.toml` against the template it deploys: each stage overrides only parameters the
//! template declares, with values the template allows, and every parameter without a default is
//! given, by the stage's overrides or by `infra/deploy/stage.sh` from the stage's environment.
//! A new required parameter in `infra/template/base.yaml` fails here until a release can give it.

use std::collections::{BTreeMap, BTreeSet};

use serde_yaml_ng::Value;
use xtask::repo_root;

const STAGES: &[&str] = &["staging", "production"];
/// The parameters `infra/deploy/stage.sh` appends from the stage's GitHub environment.
const FROM_ENVIRONMENT: &[(&str, &str)] = &[
    ("CursorSigningKey", "CURSOR_SIGNING_KEY"),
    ("MailFrom", "MAIL_FROM"),
    ("FleetAlertsEmail", "FLEET_ALERTS_EMAIL"),
];

fn read(path: &str) -> String {
    std::fs::read_to_string(repo_root().join(path))
        .unwrap_or_else(|error| panic!("reading {path}: {error}"))
}

/// The `parameter_overrides` of `[<stage>.deploy.parameters]`, as `Key -> Value`.
///
/// samconfig.toml keeps to a small part of TOML (section headers, `key = value` lines, and the
/// overrides as an array of double-quoted `"Key=Value"` strings, one per line); this reads that
/// part and fails on the overrides written any other way, rather than misreading them.
fn overrides(config: &str, stage: &str) -> BTreeMap<String, String> {
    let header = format!("[{stage}.deploy.parameters]");
    let mut lines = config.lines().skip_while(|line| line.trim() != header);
    assert!(lines.next().is_some(), "samconfig.toml has no {header}");
    let mut lines = lines
        .take_while(|line| !line.starts_with('['))
        .skip_while(|line| !line.starts_with("parameter_overrides"));
    let first = lines
        .next()
        .unwrap_or_else(|| panic!("{header} has no parameter_overrides"));
    assert_eq!(
        first.trim(),
        "parameter_overrides = [",
        "{header}: one override per line"
    );
    let mut overrides = BTreeMap::new();
    for line in lines {
        let line = line.trim();
        if line == "]" {
            return overrides;
        }
        let entry = line
            .strip_prefix('"')
            .and_then(|rest| rest.strip_suffix("\","))
            .unwrap_or_else(|| panic!("{header}: write each override as \"Key=Value\", ({line})"));
        let (key, value) = entry
            .split_once('=')
            .unwrap_or_else(|| panic!("{header}: {entry} is not Key=Value"));
        let previous = overrides.insert(key.to_string(), value.to_string());
        assert!(previous.is_none(), "{header} overrides {key} twice");
    }
    panic!("{header}: parameter_overrides has no closing ]");
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

#[test]
fn each_stage_gives_every_required_parameter_an_allowed_value() {
    let base: Value = serde_yaml_ng::from_str(&read(xtask::TEMPLATE_BASE))
        .expect("infra/template/base.yaml is YAML");
    let parameters = base["Parameters"]
        .as_mapping()
        .expect("the template has Parameters");
    let config = read("samconfig.toml");
    let stage_script = read("infra/deploy/stage.sh");
    for (parameter, variable) in FROM_ENVIRONMENT {
        assert!(
            stage_script.contains(&format!("\"{parameter}=${variable}\"")),
            "infra/deploy/stage.sh should pass {parameter} from {variable}"
        );
    }
    let from_environment: BTreeSet<&str> = FROM_ENVIRONMENT.iter().map(|(name, _)| *name).collect();

    for stage in STAGES {
        let overrides = overrides(&config, stage);
        for (key, value) in &overrides {
            let declared = &parameters[key.as_str()];
            assert!(
                !declared.is_null(),
                "[{stage}] overrides {key}, which the template does not declare"
            );
            assert!(
                !from_environment.contains(key.as_str()),
                "[{stage}] overrides {key}, which stage.sh takes from the environment"
            );
            if let Some(allowed) = declared["AllowedValues"].as_sequence() {
                let allowed: Vec<String> = allowed.iter().filter_map(scalar).collect();
                assert!(
                    allowed.contains(value),
                    "[{stage}] {key}={value} is not one of {allowed:?}"
                );
            }
            if declared["Type"].as_str() == Some("Number") {
                let number: f64 = value
                    .parse()
                    .unwrap_or_else(|_| panic!("[{stage}] {key}={value} is not a number"));
                if let Some(min) = declared["MinValue"].as_f64() {
                    assert!(number >= min, "[{stage}] {key}={value} is below {min}");
                }
                if let Some(max) = declared["MaxValue"].as_f64() {
                    assert!(number <= max, "[{stage}] {key}={value} is above {max}");
                }
            }
        }
        for (name, declared) in parameters {
            let name = name.as_str().expect("parameter names are strings");
            if declared["Default"].is_null() {
                assert!(
                    overrides.contains_key(name) || from_environment.contains(name),
                    "[{stage}] gives no value for {name}, which has no default: add it to the \
                     stage's parameter_overrides, or to infra/deploy/stage.sh and the stage's \
                     GitHub environment (docs/deploy.md)"
                );
            }
        }
    }
}

#[test]
fn the_stages_are_distinct_stacks_and_stage_names() {
    let config = read("samconfig.toml");
    let stack = |stage: &str| {
        let header = format!("[{stage}.deploy.parameters]");
        config
            .lines()
            .skip_while(|line| line.trim() != header)
            .take_while(|line| !line.starts_with('[') || line.trim() == header)
            .find_map(|line| line.strip_prefix("stack_name = "))
            .unwrap_or_else(|| panic!("{header} has no stack_name"))
            .to_string()
    };
    assert_ne!(stack("staging"), stack("production"));
    assert_ne!(
        overrides(&config, "staging")["StageName"],
        overrides(&config, "production")["StageName"]
    );
    assert_eq!(overrides(&config, "staging")["StageKind"], "test");
    assert_eq!(overrides(&config, "production")["StageKind"], "production");
}
