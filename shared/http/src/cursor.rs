//! Opaque, tamper-evident pagination cursors.
//!
//! A cursor is the store's start key for the next page, encoded and signed with HMAC-SHA256
//! together with the query it belongs to. A cursor that was altered, truncated, or taken from
//! another list (or the same list with other filters) fails verification and is a 400: it can
//! never start a read anywhere the caller's query would not reach.
//!
//! The query a cursor is bound to is derived, never written out by hand: a list's [`Pager`] is
//! made from the list's name and its typed filter, serialized whole. Every field a filter has is
//! therefore part of the binding, and one added later cannot be left out of it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use itinera::storage::Item;
use serde::Serialize;

use super::problem::ApiError;

type HmacSha256 = Hmac<Sha256>;

/// The longest cursor accepted; anything longer was not made here.
const MAX_CURSOR_CHARS: usize = 2048;

/// Signs and verifies cursors with a secret shared by every instance of the API.
#[derive(Clone)]
pub struct CursorCodec {
    key: Vec<u8>,
}

impl std::fmt::Debug for CursorCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorCodec { key: <redacted> }")
    }
}

impl CursorCodec {
    pub fn new(secret: &[u8]) -> Self {
        Self {
            key: secret.to_vec(),
        }
    }

    fn mac(&self, scope: &str, payload: &[u8]) -> HmacSha256 {
        let mut mac =
            HmacSha256::new_from_slice(&self.key).expect("HMAC accepts keys of any length");
        mac.update(scope.as_bytes());
        mac.update(&[0]);
        mac.update(payload);
        mac
    }

    /// The cursors of `list` under `filter`: every field of the filter (derive `Serialize` on it)
    /// binds them, so a cursor of one filter cannot resume another's results.
    pub fn pager(&self, list: &str, filter: &impl Serialize) -> Result<Pager<'_>, ApiError> {
        let filter = serde_json::to_string(filter).map_err(|_| ApiError::Internal)?;
        Ok(Pager {
            codec: self,
            scope: format!("{list}?{filter}"),
        })
    }

    /// The cursor for resuming `scope` (a list and its filters) after `start_key`.
    pub fn encode(&self, scope: &str, start_key: &Item) -> String {
        let payload = serde_json::to_vec(start_key).unwrap_or_default();
        let tag = self.mac(scope, &payload).finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    /// The start key in a cursor made by [`Self::encode`] for the same scope.
    pub fn decode(&self, scope: &str, cursor: &str) -> Result<Item, ApiError> {
        let invalid = || {
            ApiError::invalid_field(
                "cursor",
                "is not a cursor issued for this list; start again without it",
            )
        };
        if cursor.len() > MAX_CURSOR_CHARS {
            return Err(invalid());
        }
        let (payload, tag) = cursor.split_once('.').ok_or_else(invalid)?;
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| invalid())?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| invalid())?;
        self.mac(scope, &payload)
            .verify_slice(&tag)
            .map_err(|_| invalid())?;
        serde_json::from_slice(&payload).map_err(|_| invalid())
    }
}

/// The cursors of one list under one filter.
#[derive(Debug)]
pub struct Pager<'a> {
    codec: &'a CursorCodec,
    scope: String,
}

impl Pager<'_> {
    /// Where the page starts: after the key in the request's cursor, which must have been issued
    /// for this list and filter (else a 400), or at the beginning without one.
    pub fn start_after(&self, cursor: Option<&str>) -> Result<Option<Item>, ApiError> {
        cursor
            .map(|cursor| self.codec.decode(&self.scope, cursor))
            .transpose()
    }

    /// The cursor of the page after the one that ended before `next`.
    pub fn next(&self, next: Option<Item>) -> Option<String> {
        next.map(|key| self.codec.encode(&self.scope, &key))
    }

    /// What the cursors are bound to.
    pub fn scope(&self) -> &str {
        &self.scope
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn key() -> Item {
        json!({"pk": "AIRPLANE#1", "sk": "AIRPLANE", "gsi1pk": "AIRPLANES", "gsi1sk": "2026#1"})
            .as_object()
            .cloned()
            .unwrap()
    }

    #[test]
    fn a_cursor_round_trips_within_its_scope() {
        let codec = CursorCodec::new(b"0123456789abcdef0123456789abcdef");
        let cursor = codec.encode("airplanes", &key());
        assert_eq!(codec.decode("airplanes", &cursor).unwrap(), key());
    }

    #[test]
    fn a_modified_cursor_is_refused() {
        let codec = CursorCodec::new(b"0123456789abcdef0123456789abcdef");
        let cursor = codec.encode("airplanes", &key());
        let mut altered: Vec<char> = cursor.chars().collect();
        altered[3] = if altered[3] == 'A' { 'B' } else { 'A' };
        let altered: String = altered.into_iter().collect();
        assert!(codec.decode("airplanes", &altered).is_err());
        assert!(
            codec
                .decode("airplanes", &cursor[..cursor.len() - 2])
                .is_err()
        );
        assert!(codec.decode("airplanes", "garbage").is_err());
    }

    #[test]
    fn a_cursor_from_another_scope_or_key_is_refused() {
        let codec = CursorCodec::new(b"0123456789abcdef0123456789abcdef");
        let cursor = codec.encode("airplanes?minCapacity=10", &key());
        assert!(codec.decode("airplanes", &cursor).is_err());
        let other = CursorCodec::new(b"fedcba9876543210fedcba9876543210");
        assert!(other.decode("airplanes?minCapacity=10", &cursor).is_err());
    }

    #[test]
    fn a_pager_binds_its_cursors_to_every_field_of_the_filter() {
        #[derive(Serialize)]
        struct Filter {
            min: Option<u16>,
            model: Option<&'static str>,
        }
        let codec = CursorCodec::new(b"0123456789abcdef0123456789abcdef");
        let all = codec
            .pager(
                "airplanes",
                &Filter {
                    min: None,
                    model: None,
                },
            )
            .unwrap();
        let some = codec
            .pager(
                "airplanes",
                &Filter {
                    min: Some(2),
                    model: None,
                },
            )
            .unwrap();
        let other = codec
            .pager(
                "airplanes",
                &Filter {
                    min: None,
                    model: Some("A320"),
                },
            )
            .unwrap();
        let cursor = all.next(Some(key())).unwrap();
        assert_eq!(all.start_after(Some(&cursor)).unwrap(), Some(key()));
        assert_eq!(all.start_after(None).unwrap(), None);
        assert!(some.start_after(Some(&cursor)).is_err());
        assert!(other.start_after(Some(&cursor)).is_err());
        let flights = codec
            .pager(
                "flights",
                &Filter {
                    min: None,
                    model: None,
                },
            )
            .unwrap();
        assert!(flights.start_after(Some(&cursor)).is_err());
    }
}

/// Generated inputs: a cursor is only ever what this codec issued for this list and filter; any
/// other text, and any change to an issued cursor, is a 400 (never a panic, never another key).
#[cfg(test)]
mod properties {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;

    /// The scope of an unfiltered list, and of the same list under a filter.
    const SCOPE: &str = "airplanes?{}";
    const FILTERED: &str = "airplanes?{\"minCapacity\":1}";

    fn codec() -> CursorCodec {
        CursorCodec::new(b"a signing key of thirty-two bytes!")
    }

    proptest! {
        #[test]
        fn any_text_is_refused(
            cursor in "\\PC{0,300}|[A-Za-z0-9_-]{0,120}\\.[A-Za-z0-9_-]{0,60}",
        ) {
            prop_assert!(codec().decode(SCOPE, &cursor).is_err());
        }

        #[test]
        fn issued_keys_round_trip_and_any_change_is_refused(
            pk in "\\PC{1,40}",
            sk in "\\PC{0,40}",
            number in any::<i64>(),
            position in any::<prop::sample::Index>(),
            replacement in "[A-Za-z0-9_.=-]",
        ) {
            let key: Item = match json!({"pk": pk, "sk": sk, "n": number}) {
                Value::Object(map) => map,
                _ => unreachable!("a JSON object literal"),
            };
            let codec = codec();
            let cursor = codec.encode(SCOPE, &key);
            prop_assert_eq!(codec.decode(SCOPE, &cursor).unwrap(), key);
            prop_assert!(codec.decode(FILTERED, &cursor).is_err());
            let index = position.index(cursor.len());
            let mut changed = cursor.clone();
            changed.replace_range(index..=index, &replacement);
            if changed != cursor {
                prop_assert!(codec.decode(SCOPE, &changed).is_err(), "{}", changed);
            }
        }
    }
}
