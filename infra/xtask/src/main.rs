//! `cargo run -p xtask -- <command>`:
//!
//! - `generate`: writes template.yaml, events/*.json, functions/src/bin/*.rs, the `[[bin]]`
//!   list of functions/Cargo.toml and the build step of .github/workflows/deploy.yml from the
//!   route and background tables, and removes the files of those directories that no table
//!   declares any more
//! - `openapi`: writes docs/openapi.json, the OpenAPI 3.1 document of the API
//! - `check`: fails, listing them, while any generated file (docs/openapi.json included) is stale
//! - `budget --python <python with cfn-lint>`: counts the stack's resources after the SAM
//!   transform, today's and padded to a hundred routes, against the budget

use std::path::PathBuf;
use std::process::ExitCode;

use xtask::{
    COMMAND, OPENAPI_COMMAND, OPENAPI_FILE, budget, extra_files, generate, openapi, openapi_stale,
    repo_root, stale,
};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["generate"] => write_all(),
        ["openapi"] => write_openapi(),
        ["check"] => check(),
        ["budget", "--python", python] => {
            let root = repo_root();
            let out_dir = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| root.join("target"))
                .join("budget");
            budget::check(&root, &PathBuf::from(python), &out_dir)
        }
        _ => Err(
            "usage: cargo run -p xtask -- generate | openapi | check | budget --python <path>"
                .to_string(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: {error}");
            ExitCode::FAILURE
        }
    }
}

fn write_all() -> Result<(), String> {
    let root = repo_root();
    let files = generate(&root)?;
    let mut written = 0;
    for (path, contents) in &files {
        let full = root.join(path);
        if std::fs::read_to_string(&full).is_ok_and(|current| &current == contents) {
            continue;
        }
        std::fs::write(&full, contents)
            .map_err(|error| format!("writing {}: {error}", path.display()))?;
        println!("wrote {}", path.display());
        written += 1;
    }
    for path in extra_files(&root, &files) {
        std::fs::remove_file(root.join(&path))
            .map_err(|error| format!("removing {}: {error}", path.display()))?;
        println!("removed {} (no table declares it)", path.display());
    }
    println!("{written} of {} generated files changed", files.len());
    Ok(())
}

fn write_openapi() -> Result<(), String> {
    let root = repo_root();
    if openapi_stale(&root).is_none() {
        println!("{OPENAPI_FILE} is up to date");
        return Ok(());
    }
    std::fs::write(root.join(OPENAPI_FILE), openapi())
        .map_err(|error| format!("writing {OPENAPI_FILE}: {error}"))?;
    println!("wrote {OPENAPI_FILE}");
    Ok(())
}

fn check() -> Result<(), String> {
    let root = repo_root();
    let files = generate(&root)?;
    let mut problems: Vec<String> = stale(&root, &files)
        .into_iter()
        .map(|problem| format!("{problem} (run `{COMMAND}`)"))
        .collect();
    if let Some(problem) = openapi_stale(&root) {
        problems.push(format!("{problem} (run `{OPENAPI_COMMAND}`)"));
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(format!(
        "generated files are stale:\n  {}",
        problems.join("\n  ")
    ))
}
