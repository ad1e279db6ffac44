//! The GitHub Actions workflows against the code they release, read as YAML the way Actions
//! reads them: the deploy workflow builds exactly the functions the route table, the platform
//! functions and the background table declare (no more, none twice, none left out), and every
//! workflow and script the workflows call exists.

use std::collections::BTreeSet;
use std::path::Path;

use itinera::background::BACKGROUND_FUNCTIONS;
use itinera_http::{AUTHORIZER_FUNCTION, PREFLIGHT_FUNCTION, ROUTES};
use serde_yaml_ng::Value;
use xtask::repo_root;

const WORKFLOWS: &str = ".github/workflows";

fn workflow(name: &str) -> Value {
    let path = repo_root().join(WORKFLOWS).join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("reading {}: {error}", path.display()));
    serde_yaml_ng::from_str(&text)
        .unwrap_or_else(|error| panic!("{} is not YAML: {error}", path.display()))
}

fn workflow_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(repo_root().join(WORKFLOWS))
        .expect("the workflows directory exists")
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".yml"))
        .collect();
    names.sort();
    names
}

/// Every step of every job of `workflow`.
fn steps(workflow: &Value) -> Vec<&Value> {
    workflow["jobs"]
        .as_mapping()
        .expect("a workflow has jobs")
        .values()
        .filter_map(|job| job["steps"].as_sequence())
        .flatten()
        .collect()
}

/// The `--bin` arguments of the deploy workflow's `cargo lambda build` step, in order.
fn built_binaries() -> Vec<String> {
    let deploy = workflow("deploy.yml");
    let builds: Vec<&str> = steps(&deploy)
        .into_iter()
        .filter_map(|step| step["run"].as_str())
        .filter(|run| run.trim_start().starts_with("cargo lambda build"))
        .collect();
    let [build] = builds.as_slice() else {
        panic!("deploy.yml should have one `cargo lambda build` step, has {builds:?}");
    };
    assert!(
        build.contains("--arm64") && build.contains("--release"),
        "the functions run on arm64 with the release profile: {build}"
    );
    let words: Vec<&str> = build.split_whitespace().collect();
    words
        .windows(2)
        .filter(|pair| pair[0] == "--bin")
        .map(|pair| pair[1].to_string())
        .collect()
}

#[test]
fn the_deploy_workflow_builds_exactly_the_declared_functions() {
    let built = built_binaries();
    let unique: BTreeSet<&str> = built.iter().map(String::as_str).collect();
    assert_eq!(
        unique.len(),
        built.len(),
        "a binary is built twice: {built:?}"
    );

    let mut declared: BTreeSet<&str> = ROUTES.iter().map(|route| route.function).collect();
    declared.insert(PREFLIGHT_FUNCTION);
    declared.insert(AUTHORIZER_FUNCTION);
    declared.extend(
        BACKGROUND_FUNCTIONS
            .iter()
            .map(|background| background.function),
    );
    assert_eq!(
        unique,
        declared,
        "deploy.yml builds (left) other functions than ROUTES + the preflight and authorizer + \
         BACKGROUND_FUNCTIONS declare (right); missing: {:?}, unexpected: {:?}; run `{}`",
        declared.difference(&unique).collect::<Vec<_>>(),
        unique.difference(&declared).collect::<Vec<_>>(),
        xtask::COMMAND
    );
}

#[test]
fn every_built_function_has_its_binary_source() {
    let root = repo_root();
    for name in built_binaries() {
        let source = root.join(format!("functions/src/bin/{name}.rs"));
        assert!(
            source.is_file(),
            "deploy.yml builds {name}, which has no {}",
            source.display()
        );
    }
}

/// Reusable workflows (`uses: ./.github/...`) and the repository's scripts named in `run:`
/// steps exist, so a renamed file cannot leave a release calling nothing.
#[test]
fn every_called_workflow_and_script_exists() {
    let root = repo_root();
    let mut called = 0;
    for name in workflow_names() {
        let workflow = workflow(&name);
        let jobs = workflow["jobs"].as_mapping().expect("a workflow has jobs");
        let local_uses = jobs
            .values()
            .filter_map(|job| job["uses"].as_str())
            .chain(
                steps(&workflow)
                    .into_iter()
                    .filter_map(|step| step["uses"].as_str()),
            )
            .filter_map(|uses| uses.strip_prefix("./"));
        let scripts = steps(&workflow)
            .into_iter()
            .filter_map(|step| step["run"].as_str())
            .flat_map(str::split_whitespace)
            .filter(|word| {
                (word.starts_with("infra/") || word.starts_with("./")) && word.ends_with(".sh")
                    || *word == "./.ci/run"
            })
            .map(|word| word.trim_start_matches("./"));
        for path in local_uses.chain(scripts) {
            called += 1;
            assert!(
                Path::new(&root.join(path)).is_file(),
                "{name} calls {path}, which does not exist"
            );
        }
    }
    assert!(
        called >= 4,
        "the workflows call the stage workflow and the scripts ({called} found)"
    );
}

/// Every job has a timeout, and only the stage deploy job may ask for an OIDC token.
#[test]
fn jobs_have_timeouts_and_only_the_deploy_stage_gets_an_identity_token() {
    for name in workflow_names() {
        let workflow = workflow(&name);
        for (id, job) in workflow["jobs"].as_mapping().expect("a workflow has jobs") {
            let id = id.as_str().unwrap_or_default();
            if job["uses"].is_string() {
                continue; // a call of a reusable workflow: its own jobs carry the timeout
            }
            assert!(
                job["timeout-minutes"].as_u64().is_some(),
                "{name}: job {id} has no timeout-minutes"
            );
        }
        let asks_for_token =
            |permissions: &Value| permissions["id-token"].as_str() == Some("write");
        let top_level = asks_for_token(&workflow["permissions"]);
        assert_eq!(
            top_level,
            name == "deploy-stage.yml",
            "{name}: only deploy-stage.yml may request id-token: write for all its jobs"
        );
    }
}

/// The deploy workflow installs the cargo-lambda and zig the test command pins and proves
/// (`infra/test.sh`), so the build the test command checks is the build that ships.
#[test]
fn the_deploy_workflow_installs_the_tools_the_test_command_pins() {
    let test_command =
        std::fs::read_to_string(repo_root().join("infra/test.sh")).expect("reading infra/test.sh");
    let pin = |variable: &str| {
        test_command
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{variable}=\"")))
            .and_then(|rest| rest.strip_suffix('"'))
            .unwrap_or_else(|| panic!("infra/test.sh pins no {variable}"))
            .to_string()
    };
    let deploy = workflow("deploy.yml");
    let installs: Vec<&str> = steps(&deploy)
        .into_iter()
        .filter_map(|step| step["run"].as_str())
        .filter(|run| run.contains("pip install"))
        .collect();
    for (package, variable) in [
        ("cargo-lambda", "CARGO_LAMBDA_VERSION"),
        ("ziglang", "ZIGLANG_VERSION"),
    ] {
        let wanted = format!("\"{package}=={}\"", pin(variable));
        assert!(
            installs.iter().any(|run| run.contains(&wanted)),
            "deploy.yml should install {wanted} as infra/test.sh pins it; installs: {installs:?}"
        );
    }
}
