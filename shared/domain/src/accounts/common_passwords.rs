//! The list of common passwords new passwords are checked against (NIST SP 800-63B's "values
//! known to be commonly used"), compiled into the binary so the check needs no I/O.
//!
//! The list is Django's `common-passwords.txt.gz`, kept exactly as published; where it comes from
//! and its license are in `common-passwords.md` beside it.

use std::collections::HashSet;
use std::io::Read;
use std::sync::LazyLock;

use flate2::read::GzDecoder;

/// The gzipped list: one lowercase password per line.
const COMPRESSED: &[u8] = include_bytes!("common-passwords.txt.gz");

/// Decompressed and indexed on first use (about 20,000 entries, a few milliseconds), then shared.
/// The text lives as long as the process, so the set borrows from it instead of copying each line.
static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    let mut text = String::new();
    GzDecoder::new(COMPRESSED)
        .read_to_string(&mut text)
        .expect("the bundled common-password list is valid gzipped UTF-8");
    let text: &'static str = Box::leak(text.into_boxed_str());
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect()
});

/// Whether `password` is on the list, ignoring case (the list is lowercase).
pub(crate) fn contains(password: &str) -> bool {
    COMMON.contains(password.to_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_list_holds_the_whole_published_list() {
        assert!(COMMON.len() > 19_000, "{}", COMMON.len());
    }

    #[test]
    fn listed_passwords_match_in_any_case() {
        for common in [
            "password",
            "123456789",
            "qwertyuiop",
            "Password",
            "QwErTyUiOp",
        ] {
            assert!(contains(common), "{common}");
        }
    }

    #[test]
    fn an_unusual_phrase_is_not_listed() {
        assert!(!contains("ochre lantern drifts past seven quays"));
    }
}
