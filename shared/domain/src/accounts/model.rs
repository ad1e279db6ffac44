//! Account values: validated newtypes for what users type in, and the user as callers see it.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::common_passwords;
use crate::identity::{Role, UserId};

/// The longest email address SMTP can carry (RFC 5321's path limit minus the angle brackets).
pub const EMAIL_MAX_CHARS: usize = 254;
/// The shortest and longest username.
pub const USERNAME_CHARS: std::ops::RangeInclusive<usize> = 3..=32;
/// The shortest and longest password, in characters. NIST SP 800-63B asks for at least 8 and for
/// accepting at least 64; the upper bound only caps the work one hash request can cause.
pub const PASSWORD_CHARS: std::ops::RangeInclusive<usize> = 8..=128;

/// An email address: trimmed and lowercased, because users expect `Ann@Example.com` and
/// `ann@example.com` to be one account.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Accepts `local@domain` with a dotted domain; rejects what no mail server would deliver
    /// rather than implementing all of RFC 5322 (quoted local parts, comments, IP literals).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err("must not be empty".into());
        }
        if email.chars().count() > EMAIL_MAX_CHARS {
            return Err(format!("must be at most {EMAIL_MAX_CHARS} characters"));
        }
        let invalid = || "must be an email address such as name@example.com".to_owned();
        let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
        if !valid_local_part(local) || !valid_domain(domain) {
            return Err(invalid());
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<&str> for Email {
    type Error = String;

    fn try_from(raw: &str) -> Result<Self, Self::Error> {
        Self::parse(raw)
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Characters a local part may not hold unquoted (RFC 5322 specials, `@` included).
const LOCAL_PART_SPECIALS: &str = "@\"(),:;<>[\\]";

fn valid_local_part(local: &str) -> bool {
    (1..=64).contains(&local.len())
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !LOCAL_PART_SPECIALS.contains(c))
}

fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

/// A username: 3 to 32 of `a-z 0-9 . _ -`, lowercased, so that it is unique regardless of case and
/// can never be mistaken for an email address at login.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let username = raw.trim().to_lowercase();
        if !USERNAME_CHARS.contains(&username.chars().count()) {
            return Err(format!(
                "must be {} to {} characters",
                USERNAME_CHARS.start(),
                USERNAME_CHARS.end()
            ));
        }
        if !username
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        {
            return Err("must contain only letters a-z, digits and . _ -".into());
        }
        Ok(Self(username))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<&str> for Username {
    type Error = String;

    fn try_from(raw: &str) -> Result<Self, Self::Error> {
        Self::parse(raw)
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a user signs in with: their email or their username. Usernames cannot contain `@`, so the
/// `@` alone tells the two apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoginName {
    Email(Email),
    Username(Username),
}

impl LoginName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.contains('@') {
            Email::parse(raw).map(Self::Email)
        } else {
            Username::parse(raw).map(Self::Username)
        }
    }
}

/// The email or username, normalized as stored.
impl fmt::Display for LoginName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Email(email) => email.fmt(f),
            Self::Username(username) => username.fmt(f),
        }
    }
}

impl TryFrom<&str> for LoginName {
    type Error = String;

    fn try_from(raw: &str) -> Result<Self, Self::Error> {
        Self::parse(raw)
    }
}

/// A new password, checked as NIST SP 800-63B asks: long enough, not a known common password, no
/// composition rules. Kept exactly as typed (no trimming: spaces are characters too).
///
/// It never leaves the process in clear: `Debug` is redacted and there is no `Serialize`.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let length = raw.chars().count();
        if length < *PASSWORD_CHARS.start() {
            return Err(format!(
                "must be at least {} characters",
                PASSWORD_CHARS.start()
            ));
        }
        if length > *PASSWORD_CHARS.end() {
            return Err(format!(
                "must be at most {} characters",
                PASSWORD_CHARS.end()
            ));
        }
        if common_passwords::contains(raw) {
            return Err("is too common; choose a less predictable password".into());
        }
        Ok(Self(raw.to_owned()))
    }

    /// Refuses a password that merely repeats the account's email or username, the first thing
    /// an attacker tries.
    pub fn check_distinct_from(&self, email: &Email, username: &Username) -> Result<(), String> {
        let lowered = self.0.to_lowercase();
        if lowered == email.as_str() || lowered == username.as_str() {
            return Err("must not be the same as the email or the username".into());
        }
        Ok(())
    }

    /// The password in clear, for the hasher only.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl TryFrom<&str> for Password {
    type Error = String;

    fn try_from(raw: &str) -> Result<Self, Self::Error> {
        Self::parse(raw)
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

crate::bounded::bounded_text!(
    /// A person's name as they write it: trimmed, 1 to 100 printable characters, no other rule
    /// (names do not follow any).
    PersonName,
    100
);

/// A phone number in E.164 form: `+`, then 7 to 15 digits, the first not 0. Spaces and dashes
/// people type for readability are dropped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let phone: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let digits = phone.strip_prefix('+').unwrap_or_default();
        let valid = phone.starts_with('+')
            && (7..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if !valid {
            return Err("must be an international number such as +44 20 7946 0958".into());
        }
        Ok(Self(phone))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<&str> for Phone {
    type Error = String;

    fn try_from(raw: &str) -> Result<Self, Self::Error> {
        Self::parse(raw)
    }
}

crate::storage::parsed_from_string!(
    Email => Email::parse,
    Username => Username::parse,
    Phone => Phone::parse,
);

/// A user as callers see it. The password hash is not part of it: it stays in the storage layer,
/// so no handler can serialize it by accident.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub username: Username,
    pub name: PersonName,
    pub phone: Option<Phone>,
    pub role: Role,
    pub disabled: bool,
    /// The optimistic-locking version, sent as the `ETag`.
    #[serde(skip)]
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a self-registration is made of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAccount {
    pub email: Email,
    pub username: Username,
    pub password: Password,
    pub name: PersonName,
}

/// A change a user makes to their own profile: at least one field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileChanges {
    name: Option<PersonName>,
    phone: Option<Option<Phone>>,
}

impl ProfileChanges {
    /// `phone`: `Some(None)` removes the number, `None` leaves it. `None` when nothing would
    /// change.
    pub fn new(name: Option<PersonName>, phone: Option<Option<Phone>>) -> Option<Self> {
        (name.is_some() || phone.is_some()).then_some(Self { name, phone })
    }

    pub fn name(&self) -> Option<&PersonName> {
        self.name.as_ref()
    }

    pub fn phone(&self) -> Option<Option<&Phone>> {
        self.phone.as_ref().map(Option::as_ref)
    }
}

/// A change only admins make: role and access. At least one field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdminChanges {
    role: Option<Role>,
    disabled: Option<bool>,
}

impl AdminChanges {
    /// `None` when nothing would change.
    pub fn new(role: Option<Role>, disabled: Option<bool>) -> Option<Self> {
        (role.is_some() || disabled.is_some()).then_some(Self { role, disabled })
    }

    pub fn role(&self) -> Option<Role> {
        self.role
    }

    pub fn disabled(&self) -> Option<bool> {
        self.disabled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_trimmed_and_lowercased() {
        let email = Email::parse("  Ann.Lee+trips@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "ann.lee+trips@example.com");
        assert_eq!(email, Email::parse("ann.lee+TRIPS@example.com").unwrap());
    }

    #[test]
    fn email_rejects_what_cannot_be_an_address() {
        for invalid in [
            "",
            "   ",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "ann@@example.com",
            "ann@exa mple.com",
            "an n@example.com",
            ".ann@example.com",
            "ann.@example.com",
            "a..nn@example.com",
            "ann@-example.com",
            "ann@example..com",
            "ann@example.com\n.evil",
            "<ann>@example.com",
        ] {
            assert!(Email::parse(invalid).is_err(), "{invalid:?}");
        }
    }

    #[test]
    fn email_is_at_most_254_characters() {
        let domain = format!(
            "{}.{}.{}.com",
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63)
        );
        let at_limit = format!(
            "{}@{domain}",
            "x".repeat(EMAIL_MAX_CHARS - 1 - domain.len())
        );
        assert_eq!(at_limit.len(), EMAIL_MAX_CHARS);
        assert!(Email::parse(&at_limit).is_ok());
        assert!(Email::parse(&format!("y{at_limit}")).is_err());
    }

    #[test]
    fn username_is_lowercased_and_limited_to_its_alphabet() {
        assert_eq!(
            Username::parse(" Ann_Lee-1.x ").unwrap().as_str(),
            "ann_lee-1.x"
        );
        for invalid in ["ab", &"a".repeat(33), "ann lee", "ann@lee", "änn", "ann!"] {
            assert!(Username::parse(invalid).is_err(), "{invalid:?}");
        }
        assert!(Username::parse("abc").is_ok());
        assert!(Username::parse(&"a".repeat(32)).is_ok());
    }

    #[test]
    fn login_name_is_an_email_when_it_has_an_at_sign() {
        assert_eq!(
            LoginName::parse("Ann@Example.com").unwrap(),
            LoginName::Email(Email::parse("ann@example.com").unwrap())
        );
        assert_eq!(
            LoginName::parse("AnnLee").unwrap(),
            LoginName::Username(Username::parse("annlee").unwrap())
        );
        assert!(LoginName::parse("a").is_err());
    }

    #[test]
    fn password_length_is_counted_in_characters() {
        assert!(Password::parse("short1!").is_err());
        assert!(Password::parse("ääääääää").is_ok());
        assert!(Password::parse(&"ö".repeat(128)).is_ok());
        assert!(Password::parse(&"ö".repeat(129)).is_err());
    }

    #[test]
    fn password_needs_no_composition_and_keeps_its_spaces() {
        let password = Password::parse("  correct horse battery staple  ").unwrap();
        assert_eq!(password.expose_secret(), "  correct horse battery staple  ");
    }

    #[test]
    fn common_passwords_are_rejected_whatever_their_case() {
        for common in [
            "password",
            "123456789",
            "qwertyuiop",
            "PassWord",
            "QWERTYUIOP",
        ] {
            let error = Password::parse(common).unwrap_err();
            assert!(error.contains("too common"), "{common}: {error}");
        }
        assert!(Password::parse("ochre lantern drifts past 7 quays").is_ok());
    }

    #[test]
    fn password_must_differ_from_email_and_username() {
        let email = Email::parse("ann.lee@example.com").unwrap();
        let username = Username::parse("ann.lee.travels").unwrap();
        let same_as_email = Password::parse("Ann.Lee@Example.com").unwrap();
        let same_as_username = Password::parse("ANN.LEE.TRAVELS").unwrap();
        assert!(
            same_as_email
                .check_distinct_from(&email, &username)
                .is_err()
        );
        assert!(
            same_as_username
                .check_distinct_from(&email, &username)
                .is_err()
        );
        let other = Password::parse("ochre lantern drifts").unwrap();
        assert!(other.check_distinct_from(&email, &username).is_ok());
    }

    #[test]
    fn password_debug_output_is_redacted() {
        let password = Password::parse("ochre lantern drifts").unwrap();
        let printed = format!("{password:?}");
        assert!(!printed.contains("ochre"));
        assert!(printed.contains("redacted"));
    }

    #[test]
    fn person_name_is_trimmed_and_printable() {
        assert_eq!(
            PersonName::parse("  Zoë O'Brien ").unwrap().as_str(),
            "Zoë O'Brien"
        );
        assert!(PersonName::parse("  ").is_err());
        assert!(PersonName::parse(&"n".repeat(101)).is_err());
        assert!(PersonName::parse(&"n".repeat(100)).is_ok());
        assert!(PersonName::parse("Ann\u{7}Lee").is_err());
    }

    #[test]
    fn phone_drops_spaces_and_dashes_and_needs_e164_shape() {
        assert_eq!(
            Phone::parse(" +44 20-7946 0958 ").unwrap().as_str(),
            "+442079460958"
        );
        assert!(Phone::parse("+1234567").is_ok());
        assert!(Phone::parse("+123456789012345").is_ok());
        for invalid in [
            "",
            "442079460958",
            "+123456",
            "+1234567890123456",
            "+0123456789",
            "+44 (20) 7946",
            "+44a2079460958",
        ] {
            assert!(Phone::parse(invalid).is_err(), "{invalid:?}");
        }
    }

    #[test]
    fn changes_need_at_least_one_field() {
        assert!(ProfileChanges::new(None, None).is_none());
        assert!(ProfileChanges::new(None, Some(None)).is_some());
        assert!(AdminChanges::new(None, None).is_none());
        assert!(AdminChanges::new(None, Some(true)).is_some());
    }
}

/// Generated inputs: sign-in names normalize once, so an address or a username typed in any case
/// or with surrounding spaces is one account.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn an_email_is_its_own_normal_form(
            raw in "[ ]{0,2}[A-Za-z0-9._%+-]{1,20}@[A-Za-z0-9-]{1,15}(\\.[A-Za-z]{2,6}){1,2}[ ]{0,2}|\\PC{0,30}",
        ) {
            if let Ok(email) = Email::parse(&raw) {
                prop_assert_eq!(email.as_str(), raw.trim().to_lowercase());
                prop_assert_eq!(Email::parse(email.as_str()).unwrap(), email.clone());
                prop_assert_eq!(Email::parse(&raw.to_uppercase()).unwrap(), email);
            }
        }

        #[test]
        fn a_username_is_its_own_normal_form(raw in "[ ]{0,2}[A-Za-z0-9._-]{1,40}[ ]{0,2}|\\PC{0,40}") {
            if let Ok(username) = Username::parse(&raw) {
                prop_assert!(USERNAME_CHARS.contains(&username.as_str().chars().count()));
                prop_assert_eq!(Username::parse(username.as_str()).unwrap(), username);
            }
        }

        #[test]
        fn a_phone_number_is_its_own_normal_form(raw in "\\+?[0-9 -]{0,20}|\\PC{0,20}") {
            if let Ok(phone) = Phone::parse(&raw) {
                prop_assert!(phone.as_str().starts_with('+'));
                prop_assert_eq!(Phone::parse(phone.as_str()).unwrap(), phone);
            }
        }
    }
}
