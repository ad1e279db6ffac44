//! The mail port: the emails workers send, and the [`Mailer`] adapters send them through (SES in
//! AWS, `.eml` files in a local outbox). How an email is written on the wire is the adapters'
//! business: SES takes the subject and body as they are, the local outbox renders RFC 5322.
//!
//! Emails are plain text in UTF-8 with one recipient. Each carries a message id derived from the
//! key of the work that sends it (a job's dedup key), so every attempt at the same work renders
//! the same message: the local outbox replaces its file instead of adding one. (SES builds the
//! message from the subject and body and gives it an id of its own.)

use std::fmt::Write as _;

use async_trait::async_trait;
use chrono::TimeDelta;
use sha2::{Digest, Sha256};

use crate::accounts::Email as Address;
use crate::jobs::EMAIL_LEASE;
use crate::storage::BoxError;

/// The most characters a subject may have; far more than any subject the workers write.
pub const SUBJECT_MAX_CHARS: usize = 200;
/// The most characters a body may have: a notification, never a newsletter.
pub const BODY_MAX_CHARS: usize = 20_000;

/// The domain of the message ids this system gives its emails.
const MESSAGE_ID_DOMAIN: &str = "itinera";

/// A plain-text email to one recipient, checked so it can always be rendered safely: the subject
/// is one line (no header can be injected through it) and the body holds no control characters
/// besides line breaks and tabs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email {
    to: Address,
    subject: String,
    text_body: String,
    message_id: String,
}

impl Email {
    /// An email whose message id is derived from `key`: the same key always gives the same id.
    /// Line breaks in the body may be `\n` or `\r\n`; they are kept as `\n`.
    pub fn new(to: Address, subject: &str, text_body: &str, key: &str) -> Result<Self, String> {
        let subject = subject.trim();
        if subject.is_empty() || subject.chars().count() > SUBJECT_MAX_CHARS {
            return Err(format!(
                "the subject must be 1 to {SUBJECT_MAX_CHARS} characters"
            ));
        }
        if subject.chars().any(char::is_control) {
            return Err("the subject must be one line of printable characters".into());
        }
        let text_body = text_body.replace("\r\n", "\n");
        if text_body.trim().is_empty() || text_body.chars().count() > BODY_MAX_CHARS {
            return Err(format!("the body must be 1 to {BODY_MAX_CHARS} characters"));
        }
        if text_body
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            return Err(
                "the body must hold only printable characters, tabs and line breaks".into(),
            );
        }
        Ok(Self {
            to,
            subject: subject.to_owned(),
            text_body,
            message_id: message_id_for(key),
        })
    }

    pub fn to(&self) -> &Address {
        &self.to
    }

    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The body, with `\n` line breaks.
    pub fn text_body(&self) -> &str {
        &self.text_body
    }

    /// `<hash@itinera>`, angle brackets included, as the `Message-ID` header carries it.
    pub fn message_id(&self) -> &str {
        &self.message_id
    }
}

/// The message id of the work named `key`: a hash, so the id reveals nothing of the key (booking
/// ids stay out of mail headers) and has only characters every mail system accepts.
fn message_id_for(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    let mut id = String::with_capacity(48);
    id.push('<');
    for byte in &digest[..16] {
        let _ = write!(id, "{byte:02x}");
    }
    let _ = write!(id, "@{MESSAGE_ID_DOMAIN}>");
    id
}

/// Why an email was not sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The mail service could not be reached, timed out or is shedding load: sending again later
    /// may work.
    #[error("the mail service is unavailable")]
    Unavailable(#[source] BoxError),
    /// The mail service refused the message (an unverified sender, a suppressed recipient, a
    /// paused account): it will refuse it again until someone changes the configuration.
    #[error("the mail service rejected the message")]
    Rejected(#[source] BoxError),
}

/// Sends emails. An adapter sends each message at most once per call; callers deduplicate.
#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    async fn send(&self, email: &Email) -> Result<(), MailError>;

    /// How long the worker's delivery holds a job's email lease while it sends through this
    /// mailer: longer than a send may take, and no longer, since the retry of a delivery that
    /// died holding it waits this long (see `jobs::worker`). A mail service reached over the
    /// network gets [`EMAIL_LEASE`] (60 s).
    fn lease(&self) -> TimeDelta {
        EMAIL_LEASE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(raw: &str) -> Address {
        Address::parse(raw).unwrap()
    }

    fn email(subject: &str, body: &str) -> Email {
        Email::new(
            address("ada@example.com"),
            subject,
            body,
            "booking-confirmed#b1",
        )
        .unwrap()
    }

    #[test]
    fn the_message_id_depends_on_the_key_only() {
        let first = email("Hello", "Body");
        let second = Email::new(
            address("other@example.com"),
            "Other",
            "Text",
            "booking-confirmed#b1",
        )
        .unwrap();
        assert_eq!(first.message_id(), second.message_id());
        assert_ne!(
            first.message_id(),
            Email::new(address("ada@example.com"), "Hello", "Body", "b2")
                .unwrap()
                .message_id()
        );
        let id = first.message_id();
        assert!(id.starts_with('<') && id.ends_with("@itinera>"), "{id}");
        assert_eq!(id.len(), "<@itinera>".len() + 32);
    }

    #[test]
    fn subjects_are_one_line_and_bodies_have_no_control_characters() {
        let to = address("ada@example.com");
        assert!(Email::new(to.clone(), "Hi\r\nBcc: x@example.com", "Body", "k").is_err());
        assert!(Email::new(to.clone(), "  ", "Body", "k").is_err());
        assert!(Email::new(to.clone(), &"s".repeat(201), "Body", "k").is_err());
        assert!(Email::new(to.clone(), "Hi", "  \n ", "k").is_err());
        assert!(Email::new(to.clone(), "Hi", "bell\u{7}", "k").is_err());
        let email = Email::new(to, " Hi ", "one\r\ntwo\n\tthree", "k").unwrap();
        assert_eq!(email.subject(), "Hi");
        assert_eq!(email.text_body(), "one\ntwo\n\tthree");
    }
}
