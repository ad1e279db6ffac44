//! The generator: `template.yaml`'s functions, roles and log groups, the sample events in
//! `events/`, the function binaries in `functions/src/bin/` (with their `[[bin]]` list) and the
//! deploy workflow's build step, all from the route and background tables. `cargo run -p xtask -- generate` writes them; a
//! test fails while a committed file differs from what it would write.
//!
//! - [`tables`]: the one place that reads the code's tables, into [`model::Function`]s
//! - [`catalog`]: what the tables do not say (descriptions, product lines, sample requests)
//! - [`template`], [`events`], [`bins`], [`workflow`]: one writer per kind of file
//! - [`openapi`]: `docs/openapi.json`, the OpenAPI document (`cargo run -p xtask -- openapi`),
//!   which `itinera_http::openapi` builds from the same tables
//! - [`budget`]: the stack padded to a hundred routes, to count its resources after the SAM
//!   transform (`infra/template/budget.py`)

pub mod bins;
pub mod budget;
pub mod catalog;
pub mod events;
pub mod json;
pub mod md5;
pub mod model;
pub mod tables;
pub mod template;
pub mod workflow;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use model::Function;

/// The hand-written part of the template.
pub const TEMPLATE_BASE: &str = "infra/template/base.yaml";
/// The command that writes every generated file.
pub const COMMAND: &str = "cargo run -p xtask -- generate";

/// The OpenAPI 3.1 document of the API, committed for clients that import a file.
pub const OPENAPI_FILE: &str = "docs/openapi.json";
/// The command that writes [`OPENAPI_FILE`].
pub const OPENAPI_COMMAND: &str = "cargo run -p xtask -- openapi";

/// [`OPENAPI_FILE`] as the route table and the handlers' declarations describe the API (the
/// document the local API serves at `/openapi.json`).
pub fn openapi() -> String {
    itinera_http::openapi::document_text()
}

/// Why the committed [`OPENAPI_FILE`] under `root` is stale, if it is.
pub fn openapi_stale(root: &Path) -> Option<String> {
    match std::fs::read_to_string(root.join(OPENAPI_FILE)) {
        Ok(committed) if committed == openapi() => None,
        Ok(_) => Some(format!(
            "{OPENAPI_FILE} differs from what the code describes"
        )),
        Err(_) => Some(format!("{OPENAPI_FILE} is missing")),
    }
}

/// A directory whose files of one extension are all generated: a file there that the generator
/// does not write is stale.
pub const GENERATED_DIRS: &[(&str, &str)] = &[("events", "json"), ("functions/src/bin", "rs")];

/// The repository root (this crate is `infra/xtask`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("infra/xtask lies two levels below the repository root")
        .to_path_buf()
}

fn read(root: &Path, path: &str) -> Result<String, String> {
    std::fs::read_to_string(root.join(path)).map_err(|error| format!("reading {path}: {error}"))
}

/// Every generated file, by path relative to `root`, with its contents, for `functions`.
pub fn render(root: &Path, functions: &[Function]) -> Result<BTreeMap<PathBuf, String>, String> {
    let mut files = BTreeMap::new();
    let base = read(root, TEMPLATE_BASE)?;
    files.insert(
        PathBuf::from("template.yaml"),
        template::render(&base, functions)?,
    );
    let manifest = read(root, "functions/Cargo.toml")?;
    files.insert(
        PathBuf::from("functions/Cargo.toml"),
        bins::manifest(&manifest, functions)?,
    );
    let workflow = read(root, workflow::DEPLOY_WORKFLOW)?;
    files.insert(
        PathBuf::from(workflow::DEPLOY_WORKFLOW),
        workflow::render(&workflow, functions)?,
    );
    for function in functions {
        files.insert(
            PathBuf::from(format!("events/{}.json", function.name)),
            events::event(function, functions)?.pretty(),
        );
        files.insert(
            PathBuf::from(format!("functions/src/bin/{}.rs", function.name)),
            bins::source(function),
        );
    }
    Ok(files)
}

/// Every generated file for the code's tables.
pub fn generate(root: &Path) -> Result<BTreeMap<PathBuf, String>, String> {
    render(root, &tables::functions()?)
}

/// What differs between the generated files and those under `root`: each stale, missing or
/// extra file, described.
pub fn stale(root: &Path, files: &BTreeMap<PathBuf, String>) -> Vec<String> {
    let mut problems = Vec::new();
    for (path, expected) in files {
        match std::fs::read_to_string(root.join(path)) {
            Ok(actual) if &actual == expected => {}
            Ok(_) => problems.push(format!(
                "{} differs from what the tables give",
                path.display()
            )),
            Err(_) => problems.push(format!("{} is missing", path.display())),
        }
    }
    for path in extra_files(root, files) {
        problems.push(format!(
            "{} is declared by no table (a function that no longer exists?)",
            path.display()
        ));
    }
    problems
}

/// The files in the generated directories that the generator does not write.
pub fn extra_files(root: &Path, files: &BTreeMap<PathBuf, String>) -> Vec<PathBuf> {
    let mut extra = Vec::new();
    for (dir, extension) in GENERATED_DIRS {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = Path::new(dir).join(entry.file_name());
            if path.extension().is_some_and(|ext| ext == *extension) && !files.contains_key(&path) {
                extra.push(path);
            }
        }
    }
    extra.sort();
    extra
}

/// `text` as lines of at most `width` characters, each starting with `prefix` and a space.
pub fn wrap(prefix: &str, text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = prefix.to_string();
    for word in text.split_whitespace() {
        if line.len() > prefix.len() && line.len() + 1 + word.len() > width {
            out.push_str(&line);
            out.push('\n');
            line = prefix.to_string();
        }
        line.push(' ');
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
    out
}
