//! The local mailer: every email becomes an `.eml` file in an outbox directory (`DATA_DIR/outbox`
//! in the local stack), where any mail client opens it. Nothing leaves the machine.
//!
//! The file is built with `lettre`'s message builder (its `builder` feature only: no transport):
//! CRLF lines, the subject as RFC 2047 encoded words when it is not plain ASCII, the body as
//! quoted-printable UTF-8, and the `Message-ID` the email carries (derived from its work's key).
//! Only this adapter renders RFC 5322; SES takes the subject and body as they are.
//!
//! A file is written whole or not at all (a temporary file, synced, then renamed over the final
//! name), so a crash never leaves half a message. Files are named `<time>-<message id>.eml`; an
//! email whose message id already has a file replaces that file under its first name, so a job
//! that sends again (see the worker's at-least-once window) shows up once, as it would in a mail
//! client that deduplicates by `Message-ID`.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use itinera::accounts::Email as Address;
use itinera::clock::{Clock, SystemClock};
use itinera::mail::{Email, MailError, Mailer};
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, Message, SinglePart};

/// Writes each email as an RFC 5322 file in a directory.
#[derive(Clone)]
pub struct OutboxMailer {
    dir: PathBuf,
    from: Address,
    /// Serializes finding a message's file and replacing it, so two sends of one message in this
    /// process cannot both create a file.
    writing: Arc<Mutex<()>>,
}

/// Tells apart the temporary files of concurrent writes.
static NEXT_TEMPORARY: AtomicU64 = AtomicU64::new(0);

impl OutboxMailer {
    /// A mailer writing to `dir` (created on the first send) as the sender `from`.
    pub fn new(dir: PathBuf, from: Address) -> Self {
        Self {
            dir,
            from,
            writing: Arc::new(Mutex::new(())),
        }
    }

    /// The directory the files go to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// How long the worker's delivery holds a job's email lease while this mailer sends it. A
    /// send is one file written and renamed on this machine, and a second send of the same email
    /// replaces the first's file, so a short lease costs nothing; a long one made a job whose
    /// sender was killed wait for it, past the local worker's retries (`local_api::background`).
    pub const LEASE: TimeDelta = TimeDelta::seconds(5);
}

#[async_trait]
impl Mailer for OutboxMailer {
    fn lease(&self) -> TimeDelta {
        Self::LEASE
    }

    async fn send(&self, email: &Email) -> Result<(), MailError> {
        let now = SystemClock.now();
        let message = render(email, &self.from, now)?;
        let slug = slug(email.message_id());
        let stamp = now.format("%Y%m%dT%H%M%S%.3fZ").to_string();
        let dir = self.dir.clone();
        let writing = Arc::clone(&self.writing);
        let path = tokio::task::spawn_blocking(move || {
            // A poisoned lock only means another write panicked; the directory is still sound.
            let _guard = writing
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            write_message(&dir, &slug, &stamp, &message)
        })
        .await
        .map_err(|error| MailError::Unavailable(Box::new(error)))?
        .map_err(|error| MailError::Unavailable(Box::new(error)))?;
        tracing::info!(
            to = %email.to(),
            subject = email.subject(),
            file = %path.display(),
            "email written to the local outbox"
        );
        Ok(())
    }
}

/// The email as an RFC 5322 message from `from`, dated `date`. An address the builder cannot
/// write (the domain accepted it, the mail format does not) is a rejection: sending again will
/// not change it.
fn render(email: &Email, from: &Address, date: DateTime<Utc>) -> Result<Vec<u8>, MailError> {
    let mailbox = |address: &Address| {
        address
            .as_str()
            .parse::<Mailbox>()
            .map_err(|error| MailError::Rejected(Box::new(error)))
    };
    let body = Body::new_with_encoding(
        email.text_body().to_owned(),
        ContentTransferEncoding::QuotedPrintable,
    )
    .map_err(|_| MailError::Rejected("the body cannot be quoted-printable".into()))?;
    let message = Message::builder()
        .from(mailbox(from)?)
        .to(mailbox(email.to())?)
        .subject(email.subject())
        .message_id(Some(email.message_id().to_owned()))
        .date(date.into())
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(body),
        )
        .map_err(|error| MailError::Rejected(Box::new(error)))?;
    Ok(message.formatted())
}

/// The message id as a file name part: `<3f2a...@itinera>` becomes `3f2a...-itinera`.
fn slug(message_id: &str) -> String {
    message_id
        .trim_start_matches('<')
        .trim_end_matches('>')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Writes the message under the name of the file that already holds its id, or a new name
/// stamped `stamp`; returns the path.
fn write_message(dir: &Path, slug: &str, stamp: &str, message: &[u8]) -> std::io::Result<PathBuf> {
    fs::create_dir_all(dir)?;
    let suffix = format!("-{slug}.eml");
    let existing = fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|entry| entry.file_name())
        .find(|name| name.to_str().is_some_and(|name| name.ends_with(&suffix)));
    let name = existing.unwrap_or_else(|| format!("{stamp}{suffix}").into());
    let path = dir.join(name);
    let temporary = dir.join(format!(
        ".{slug}.{}-{}.tmp",
        std::process::id(),
        NEXT_TEMPORARY.fetch_add(1, Ordering::Relaxed)
    ));
    let written = (|| {
        let mut file = fs::File::create(&temporary)?;
        file.write_all(message)?;
        file.sync_all()?;
        fs::rename(&temporary, &path)
    })();
    if let Err(error) = written {
        // Best effort: the temporary file is hidden and holds nothing anyone reads.
        let _ = fs::remove_file(&temporary);
        return Err(error);
    }
    // The rename is durable once the directory is synced too.
    fs::File::open(dir)?.sync_all()?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use mail_parser::MessageParser;

    use super::*;

    fn address(raw: &str) -> Address {
        Address::parse(raw).unwrap()
    }

    fn email(subject: &str, body: &str, key: &str) -> Email {
        Email::new(address("ada@example.com"), subject, body, key).unwrap()
    }

    fn files(dir: &Path) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        files.sort();
        files
    }

    #[tokio::test]
    async fn an_email_becomes_a_file_that_parses_back_with_its_headers_and_body() {
        let data = tempfile::tempdir().unwrap();
        let outbox = data.path().join("outbox");
        let mailer = OutboxMailer::new(outbox.clone(), address("noreply@itinera.example"));
        let body = format!(
            "Hello Zoë,\n\nYour booking of 2 seats on flight AI101 from DEL to BOM is confirmed. \
             Total paid: INR 1,250.00 = all taxes included.\n{}\n\nItinera",
            "A long line of text that goes on and on. ".repeat(4)
        );
        let subject = "Booking confirmed: AI101 DEL → BOM, départ mardi";
        let sent = email(subject, &body, "booking-confirmed#b1");
        mailer.send(&sent).await.unwrap();

        let written = files(&outbox);
        assert_eq!(written.len(), 1, "{written:?}");
        let name = written[0].file_name().unwrap().to_str().unwrap().to_owned();
        assert!(
            name.ends_with(&format!("-{}.eml", slug(sent.message_id()))),
            "{name}"
        );
        let raw = fs::read(&written[0]).unwrap();
        let text = String::from_utf8(raw.clone()).unwrap();
        assert!(
            text.is_ascii(),
            "quoted-printable and encoded words keep the file ASCII"
        );
        assert!(
            !text.replace("\r\n", "").contains('\n'),
            "every line ends in CRLF"
        );
        assert!(text.split("\r\n").all(|line| line.len() <= 78));

        let parsed = MessageParser::default()
            .parse(&raw)
            .expect("an RFC 5322 message");
        assert_eq!(parsed.subject(), Some(subject));
        let from = parsed.from().and_then(|from| from.first()).unwrap();
        assert_eq!(from.address(), Some("noreply@itinera.example"));
        let to = parsed.to().and_then(|to| to.first()).unwrap();
        assert_eq!(to.address(), Some("ada@example.com"));
        let message_id = sent.message_id().trim_matches(|c| c == '<' || c == '>');
        assert_eq!(parsed.message_id(), Some(message_id));
        assert!(parsed.date().is_some());
        let decoded = parsed.body_text(0).expect("a text body");
        assert_eq!(decoded.replace("\r\n", "\n").trim_end(), body);
    }

    #[test]
    fn a_long_non_ascii_subject_is_folded_into_short_lines_and_the_headers_are_complete() {
        let subject = "Réservation confirmée : vol AI101 de DEL à BOM, départ le mardi 1 décembre";
        let sent = email(
            subject,
            "Bonjour Zoë,\n\nÀ bientôt.",
            "booking-confirmed#b6",
        );
        let date = DateTime::parse_from_rfc3339("2026-11-21T08:00:05Z")
            .unwrap()
            .to_utc();
        let raw = render(&sent, &address("noreply@itinera.example"), date).unwrap();
        let text = String::from_utf8(raw.clone()).unwrap();
        let (head, _) = text.split_once("\r\n\r\n").unwrap();
        assert!(
            head.split("\r\n").count() > 8,
            "the subject is folded:\n{head}"
        );
        assert!(text.split("\r\n").all(|line| line.len() <= 78), "{text}");
        let names: Vec<&str> = head
            .split("\r\n")
            .filter(|line| !line.starts_with([' ', '\t']))
            .filter_map(|line| line.split_once(':').map(|(name, _)| name))
            .collect();
        for name in [
            "From",
            "To",
            "Subject",
            "Message-ID",
            "Date",
            "MIME-Version",
            "Content-Type",
            "Content-Transfer-Encoding",
        ] {
            assert!(names.contains(&name), "{name} missing from {names:?}");
        }
        let parsed = MessageParser::default().parse(&raw).unwrap();
        assert_eq!(parsed.subject(), Some(subject));
        assert_eq!(
            parsed.date().map(|date| date.to_timestamp()),
            Some(date.timestamp())
        );
    }

    #[tokio::test]
    async fn the_same_message_sent_twice_replaces_its_file() {
        let data = tempfile::tempdir().unwrap();
        let mailer = OutboxMailer::new(
            data.path().to_path_buf(),
            address("noreply@itinera.example"),
        );
        mailer
            .send(&email("First", "first text", "booking-expired#b2"))
            .await
            .unwrap();
        let first = files(data.path());
        mailer
            .send(&email("Second", "second text", "booking-expired#b2"))
            .await
            .unwrap();
        let second = files(data.path());
        assert_eq!(first, second, "one file, under its first name");
        let parsed_raw = fs::read(&second[0]).unwrap();
        let parsed = MessageParser::default().parse(&parsed_raw).unwrap();
        assert_eq!(parsed.subject(), Some("Second"));

        mailer
            .send(&email("Other", "another job", "booking-expired#b3"))
            .await
            .unwrap();
        assert_eq!(files(data.path()).len(), 2);
    }

    #[tokio::test]
    async fn concurrent_sends_of_one_message_leave_one_file_and_no_temporary_files() {
        let data = tempfile::tempdir().unwrap();
        let mailer = OutboxMailer::new(
            data.path().to_path_buf(),
            address("noreply@itinera.example"),
        );
        let sends = (0..8).map(|n| {
            let mailer = mailer.clone();
            tokio::spawn(async move {
                mailer
                    .send(&email(
                        &format!("Copy {n}"),
                        "text",
                        "departure-reminder#b4",
                    ))
                    .await
            })
        });
        for send in sends.collect::<Vec<_>>() {
            send.await.unwrap().unwrap();
        }
        let written = files(data.path());
        assert_eq!(written.len(), 1, "{written:?}");
        assert!(
            written[0]
                .extension()
                .is_some_and(|extension| extension == "eml")
        );
    }

    #[tokio::test]
    async fn an_outbox_that_cannot_be_created_makes_the_mail_service_unavailable() {
        let data = tempfile::tempdir().unwrap();
        let blocker = data.path().join("not-a-directory");
        fs::write(&blocker, b"a file where the outbox should be").unwrap();
        let mailer = OutboxMailer::new(blocker.join("outbox"), address("noreply@itinera.example"));
        let error = mailer
            .send(&email("Subject", "text", "booking-confirmed#b5"))
            .await
            .unwrap_err();
        assert!(matches!(error, MailError::Unavailable(_)), "{error:?}");
    }
}
