//! The committed generated files (`docs/openapi.json` too) are what the generator writes from
//! today's tables.

use xtask::{COMMAND, OPENAPI_COMMAND, generate, openapi_stale, repo_root, stale};

#[test]
fn committed_generated_files_match_the_tables() {
    let root = repo_root();
    let files = generate(&root).unwrap_or_else(|error| panic!("the generator fails: {error}"));
    let problems = stale(&root, &files);
    assert!(
        problems.is_empty(),
        "generated files are stale; run `{COMMAND}` and commit the result:\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn the_committed_openapi_document_is_what_the_code_describes() {
    if let Some(problem) = openapi_stale(&repo_root()) {
        panic!("{problem}; run `{OPENAPI_COMMAND}` and commit the result");
    }
}

/// The check itself: over a copy of the generated files, a changed file, a missing one and an
/// extra binary or event that no table declares are each reported.
#[test]
fn a_changed_missing_or_undeclared_file_is_reported() {
    let root = repo_root();
    let files = generate(&root).expect("the generator runs");
    let copy = std::env::temp_dir().join(format!("xtask-stale-{}", std::process::id()));
    for (path, contents) in &files {
        let path = copy.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }
    assert!(stale(&copy, &files).is_empty(), "a fresh copy is not stale");

    std::fs::write(copy.join("events/health.json"), "{}\n").unwrap();
    std::fs::remove_file(copy.join("functions/src/bin/login.rs")).unwrap();
    std::fs::write(
        copy.join("functions/src/bin/retired-route.rs"),
        "fn main() {}\n",
    )
    .unwrap();
    std::fs::write(copy.join("events/retired-route.json"), "{}\n").unwrap();
    // Not a generated kind of file: left alone.
    std::fs::write(copy.join("events/README.md"), "notes\n").unwrap();
    let problems = stale(&copy, &files);
    std::fs::remove_dir_all(&copy).unwrap();
    assert_eq!(
        problems,
        [
            "events/health.json differs from what the tables give",
            "functions/src/bin/login.rs is missing",
            "events/retired-route.json is declared by no table (a function that no longer exists?)",
            "functions/src/bin/retired-route.rs is declared by no table (a function that no longer \
             exists?)",
        ]
    );
}
