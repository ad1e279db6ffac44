//! The mail port: the emails workers send, the [`Mailer`] adapters send them through (SES in AWS,
//! `.eml` files in a local outbox), and the one rendering of an email as RFC 5322 text.
//!
//! Emails are plain text in UTF-8 with one recipient. Each carries a message id derived from the
//! key of the work that sends it (a job's dedup key), so every attempt at the same work renders
//! the same message: the local outbox replaces its file instead of adding one. (SES builds the
//! message from the subject and body and gives it an id of its own.)

use std::fmt::Write as _;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::accounts::Email as Address;
use crate::storage::BoxError;

/// The most characters a subject may have; far more than any subject the workers write.
pub const SUBJECT_MAX_CHARS: usize = 200;
/// The most characters a body may have: a notification, never a newsletter.
pub const BODY_MAX_CHARS: usize = 20_000;

/// The domain of the message ids this system gives its emails.
const MESSAGE_ID_DOMAIN: &str = "itinera";

/// The longest line RFC 2045 allows in a quoted-printable body, and RFC 2047 in a header holding
/// encoded words (the CRLF not counted).
const MAX_LINE: usize = 76;
/// The most UTF-8 bytes one encoded word of the subject carries: 39 bytes are 52 base64
/// characters, which with `=?UTF-8?B?`, `?=` and `Subject: ` stay within [`MAX_LINE`].
const ENCODED_WORD_BYTES: usize = 39;

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
}

/// The email as an RFC 5322 message from `from`, dated `date`: CRLF line endings, the subject
/// encoded as RFC 2047 words when it is not short plain ASCII, and the body as quoted-printable
/// UTF-8 with lines of at most 76 characters. Addresses outside ASCII are written as they are
/// (RFC 6532).
pub fn render_rfc5322(email: &Email, from: &Address, date: DateTime<Utc>) -> String {
    let mut message = String::with_capacity(512 + email.text_body.len() * 3);
    let mut header = |name: &str, value: &str| {
        message.push_str(name);
        message.push_str(": ");
        message.push_str(value);
        message.push_str("\r\n");
    };
    header("Date", &date.to_rfc2822());
    header("From", from.as_str());
    header("To", email.to.as_str());
    header("Subject", &subject_header(&email.subject));
    header("Message-ID", &email.message_id);
    header("MIME-Version", "1.0");
    header("Content-Type", "text/plain; charset=utf-8");
    header("Content-Transfer-Encoding", "quoted-printable");
    message.push_str("\r\n");
    message.push_str(&quoted_printable(&email.text_body));
    if !message.ends_with("\r\n") {
        message.push_str("\r\n");
    }
    message
}

/// The subject as it is, when it is short printable ASCII that no client could mistake for an
/// encoded word; otherwise base64 encoded words of whole characters, one per folded line.
fn subject_header(subject: &str) -> String {
    let plain = subject.bytes().all(|byte| (b' '..=b'~').contains(&byte))
        && !subject.contains("=?")
        && "Subject: ".len() + subject.len() <= MAX_LINE;
    if plain {
        return subject.to_owned();
    }
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in subject.chars() {
        if chunk.len() + c.len_utf8() > ENCODED_WORD_BYTES {
            words.push(encoded_word(&chunk));
            chunk.clear();
        }
        chunk.push(c);
    }
    words.push(encoded_word(&chunk));
    // Folding whitespace between encoded words is not part of the decoded text (RFC 2047 6.2).
    words.join("\r\n ")
}

fn encoded_word(text: &str) -> String {
    format!("=?UTF-8?B?{}?=", BASE64.encode(text.as_bytes()))
}

/// Quoted-printable (RFC 2045 6.7) of text with `\n` line breaks: CRLF hard breaks, `=` soft
/// breaks keeping every line within 76 characters, and whitespace at the end of a line encoded so
/// that no relay can strip it.
fn quoted_printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3 / 2);
    for (index, line) in text.split('\n').enumerate() {
        if index > 0 {
            out.push_str("\r\n");
        }
        let bytes = line.as_bytes();
        let mut column = 0;
        for (position, &byte) in bytes.iter().enumerate() {
            let last = position + 1 == bytes.len();
            let literal = match byte {
                b'=' => false,
                b' ' | b'\t' => !last,
                b'!'..=b'~' => true,
                _ => false,
            };
            let width = if literal { 1 } else { 3 };
            // The last piece of a line needs no room for a soft break after it.
            let room_for_break = usize::from(!last);
            if column + width + room_for_break > MAX_LINE {
                out.push_str("=\r\n");
                column = 0;
            }
            if literal {
                out.push(char::from(byte));
            } else {
                let _ = write!(out, "={byte:02X}");
            }
            column += width;
        }
    }
    out
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

    fn date() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-21T08:00:05Z")
            .unwrap()
            .to_utc()
    }

    fn decode_qp(encoded: &str) -> String {
        let joined = encoded.replace("=\r\n", "");
        let mut bytes = Vec::new();
        let mut rest = joined.as_bytes();
        while let Some((&byte, tail)) = rest.split_first() {
            if byte == b'=' {
                let hex = std::str::from_utf8(&tail[..2]).unwrap();
                bytes.push(u8::from_str_radix(hex, 16).unwrap());
                rest = &tail[2..];
            } else {
                bytes.push(byte);
                rest = tail;
            }
        }
        String::from_utf8(bytes).unwrap().replace("\r\n", "\n")
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

    #[test]
    fn the_message_has_every_header_crlf_lines_and_a_blank_line_before_the_body() {
        let message = render_rfc5322(
            &email("Booking confirmed", "Hello Ada,\n\nSee you on board."),
            &address("noreply@itinera.example"),
            date(),
        );
        let (head, body) = message.split_once("\r\n\r\n").unwrap();
        let headers: Vec<&str> = head.split("\r\n").collect();
        assert_eq!(
            headers,
            [
                "Date: Sat, 21 Nov 2026 08:00:05 +0000",
                "From: noreply@itinera.example",
                "To: ada@example.com",
                "Subject: Booking confirmed",
                &format!("Message-ID: {}", message_id_for("booking-confirmed#b1")),
                "MIME-Version: 1.0",
                "Content-Type: text/plain; charset=utf-8",
                "Content-Transfer-Encoding: quoted-printable",
            ]
        );
        assert_eq!(body, "Hello Ada,\r\n\r\nSee you on board.\r\n");
        assert!(!message.replace("\r\n", "").contains('\n'));
        assert!(!message.replace("\r\n", "").contains('\r'));
    }

    #[test]
    fn a_non_ascii_or_long_subject_is_folded_into_encoded_words_of_whole_characters() {
        let subject = "Réservation confirmée : vol AI101 de DEL à BOM, départ le mardi 1 décembre";
        let header = subject_header(subject);
        let mut decoded = String::new();
        for (index, line) in header.split("\r\n").enumerate() {
            let prefix = if index == 0 { "Subject: " } else { "" };
            assert!(prefix.len() + line.len() <= MAX_LINE, "{line}");
            let word = line.trim_start();
            let encoded = word
                .strip_prefix("=?UTF-8?B?")
                .and_then(|rest| rest.strip_suffix("?="))
                .unwrap();
            // Each word decodes on its own: no character is split between two words.
            decoded.push_str(&String::from_utf8(BASE64.decode(encoded).unwrap()).unwrap());
        }
        assert_eq!(decoded, subject);
        assert!(header.contains("\r\n "), "a subject this long is folded");
        let long_ascii = "x".repeat(80);
        assert!(subject_header(&long_ascii).starts_with("=?UTF-8?B?"));
        assert!(subject_header("Price =?x?= today").starts_with("=?UTF-8?B?"));
    }

    #[test]
    fn quoted_printable_keeps_lines_short_and_decodes_to_the_text() {
        let text = format!(
            "{}\nTotal: ₹ 1,250.00 = paid\nends with a space \n\ttab\n{}",
            "word ".repeat(40),
            "é".repeat(60)
        );
        let encoded = quoted_printable(&text);
        for line in encoded.split("\r\n") {
            assert!(line.len() <= MAX_LINE, "{} chars: {line}", line.len());
            assert!(line.is_ascii());
            assert!(!line.ends_with(' ') && !line.ends_with('\t'), "{line:?}");
        }
        assert!(encoded.contains("=3D paid"));
        assert!(encoded.contains("space=20"));
        assert_eq!(decode_qp(&encoded), text);
    }

    #[test]
    fn a_line_of_exactly_76_characters_needs_no_soft_break() {
        let line = "a".repeat(76);
        assert_eq!(quoted_printable(&line), line);
        let longer = "a".repeat(77);
        assert_eq!(
            quoted_printable(&longer),
            format!("{}=\r\naa", "a".repeat(75))
        );
    }
}
