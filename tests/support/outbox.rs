//! The local mail outbox as a test reads it: the `.eml` files a data directory's outbox holds,
//! and the message id the worker gives the email of a job, to find that job's file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use itinera::accounts::Email as Address;
use itinera::mail::Email;

/// The outbox of the local stack's data directory `dir` (`DATA_DIR/outbox`).
pub fn outbox_dir(dir: &Path) -> PathBuf {
    dir.join("outbox")
}

/// The emails in the outbox of the data directory `dir`: file name -> contents.
pub fn outbox_files(dir: &Path) -> BTreeMap<String, String> {
    let Ok(entries) = std::fs::read_dir(outbox_dir(dir)) else {
        return BTreeMap::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            name.ends_with(".eml").then(|| {
                let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
                (name, text)
            })
        })
        .collect()
}

/// The message id of the email of the work named `key` (a job's `dedup_key`): derived from the
/// key alone, whoever it goes to.
pub fn message_id_of(key: &str) -> String {
    let to = Address::parse("anyone@example.com").expect("an address");
    Email::new(to, "subject", "body", key)
        .expect("an email")
        .message_id()
        .to_owned()
}
