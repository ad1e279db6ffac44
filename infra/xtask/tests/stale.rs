//! The committed generated files are what the generator writes from today's tables.

use xtask::{COMMAND, generate, repo_root, stale};

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
