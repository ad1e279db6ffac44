//! Order-preserving byte encoding of composite keys, so that redb's byte order is DynamoDB's key
//! order.
//!
//! DynamoDB orders string keys by their UTF-8 bytes. Keys here are tuples of strings (`pk, sk` for
//! items; `index pk, index sk, pk, sk` for index entries). Each component is written with its zero
//! bytes escaped and followed by a terminator, so that comparing two encodings byte by byte
//! compares the tuples component by component, and so that "this component equals / starts with /
//! is below a value" are all contiguous byte ranges that redb can seek to.

use std::cmp::Ordering;
use std::ops::Bound;

use itinera::storage::SortCondition;

/// Introduces an escaped zero byte or a terminator; never appears alone in an encoding.
const ESCAPE: u8 = 0x00;
/// `ESCAPE, ESCAPED_ZERO` stands for a zero byte inside a component. It sorts above every
/// terminator, as a zero byte inside a string sorts above the string ending there.
const ESCAPED_ZERO: u8 = 0xFF;
/// `ESCAPE, TERMINATOR` ends a component. It sorts below every other continuation, as a string
/// sorts below all strings it is a proper prefix of.
const TERMINATOR: u8 = 0x01;
/// One above [`TERMINATOR`]: `ESCAPE, PAST_TERMINATOR` is the first encoding after every key
/// whose component ends there, whatever components follow.
const PAST_TERMINATOR: u8 = 0x02;

/// Appends a component's bytes with zero bytes escaped, without the terminator (a prefix).
fn push_escaped(out: &mut Vec<u8>, value: &str) {
    for &byte in value.as_bytes() {
        if byte == ESCAPE {
            out.extend_from_slice(&[ESCAPE, ESCAPED_ZERO]);
        } else {
            out.push(byte);
        }
    }
}

/// Appends one whole component.
fn push_component(out: &mut Vec<u8>, value: &str) {
    push_escaped(out, value);
    out.extend_from_slice(&[ESCAPE, TERMINATOR]);
}

/// Encodes a tuple of strings.
pub(crate) fn encode(components: &[&str]) -> Vec<u8> {
    let mut out = Vec::with_capacity(components.iter().map(|c| c.len() + 2).sum());
    for component in components {
        push_component(&mut out, component);
    }
    out
}

/// Decodes what [`encode`] wrote; `None` when the bytes are not such an encoding.
pub(crate) fn decode(bytes: &[u8]) -> Option<Vec<String>> {
    let mut components = Vec::new();
    let mut current = Vec::new();
    let mut rest = bytes.iter();
    while let Some(&byte) = rest.next() {
        if byte != ESCAPE {
            current.push(byte);
            continue;
        }
        match *rest.next()? {
            ESCAPED_ZERO => current.push(0),
            TERMINATOR => {
                let component = String::from_utf8(std::mem::take(&mut current)).ok()?;
                components.push(component);
            }
            _ => return None,
        }
    }
    current.is_empty().then_some(components)
}

/// The smallest byte string above every string starting with `prefix`; `None` when there is
/// none (the prefix is empty or all `0xFF`).
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last != u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// `prefix` followed by a component equal to `value` and then anything: where those keys start.
fn component_start(prefix: &[u8], value: &str) -> Vec<u8> {
    let mut out = prefix.to_vec();
    push_component(&mut out, value);
    out
}

/// `prefix` followed by a component equal to `value` and then anything: the first key past them.
fn component_end(prefix: &[u8], value: &str) -> Vec<u8> {
    let mut out = prefix.to_vec();
    push_escaped(&mut out, value);
    out.extend_from_slice(&[ESCAPE, PAST_TERMINATOR]);
    out
}

/// A range of encoded keys, owned so it can be narrowed before redb sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct KeyRange {
    pub(crate) lower: Bound<Vec<u8>>,
    pub(crate) upper: Bound<Vec<u8>>,
}

impl KeyRange {
    /// Every key that starts with the already encoded `prefix` (a partition) and whose next
    /// component satisfies `sort`.
    pub(crate) fn within(prefix: &[u8], sort: Option<&SortCondition>) -> Result<Self, String> {
        let partition_end = || prefix_end(prefix).map_or(Bound::Unbounded, Bound::Excluded);
        let (lower, upper) = match sort {
            None => (Bound::Included(prefix.to_vec()), partition_end()),
            Some(SortCondition::Equal(value)) => (
                Bound::Included(component_start(prefix, value)),
                Bound::Excluded(component_end(prefix, value)),
            ),
            Some(SortCondition::Less(value)) => (
                Bound::Included(prefix.to_vec()),
                Bound::Excluded(component_start(prefix, value)),
            ),
            Some(SortCondition::LessOrEqual(value)) => (
                Bound::Included(prefix.to_vec()),
                Bound::Excluded(component_end(prefix, value)),
            ),
            Some(SortCondition::Greater(value)) => (
                Bound::Included(component_end(prefix, value)),
                partition_end(),
            ),
            Some(SortCondition::GreaterOrEqual(value)) => (
                Bound::Included(component_start(prefix, value)),
                partition_end(),
            ),
            Some(SortCondition::Between(low, high)) => {
                // DynamoDB rejects a BETWEEN whose bounds are the wrong way round.
                if low.as_bytes() > high.as_bytes() {
                    return Err(format!("BETWEEN bounds are reversed: {low:?} > {high:?}"));
                }
                (
                    Bound::Included(component_start(prefix, low)),
                    Bound::Excluded(component_end(prefix, high)),
                )
            }
            Some(SortCondition::BeginsWith(start)) => {
                let mut from = prefix.to_vec();
                push_escaped(&mut from, start);
                let upper = prefix_end(&from).map_or(Bound::Unbounded, Bound::Excluded);
                (Bound::Included(from), upper)
            }
        };
        Ok(Self { lower, upper })
    }

    /// Drops every key up to and including `key` (resuming an ascending query).
    pub(crate) fn start_after(&mut self, key: Vec<u8>) {
        let tighter = match &self.lower {
            Bound::Unbounded => true,
            Bound::Included(lower) | Bound::Excluded(lower) => key >= *lower,
        };
        if tighter {
            self.lower = Bound::Excluded(key);
        }
    }

    /// Drops every key from `key` on (resuming a descending query).
    pub(crate) fn end_before(&mut self, key: Vec<u8>) {
        let tighter = match &self.upper {
            Bound::Unbounded => true,
            Bound::Included(upper) | Bound::Excluded(upper) => key <= *upper,
        };
        if tighter {
            self.upper = Bound::Excluded(key);
        }
    }

    /// Whether no key can fall in the range (redb is never asked for a reversed range).
    pub(crate) fn is_empty(&self) -> bool {
        match (&self.lower, &self.upper) {
            (Bound::Unbounded, _) | (_, Bound::Unbounded) => false,
            (Bound::Included(lower), Bound::Included(upper)) => lower > upper,
            (Bound::Included(lower) | Bound::Excluded(lower), Bound::Excluded(upper))
            | (Bound::Excluded(lower), Bound::Included(upper)) => {
                lower.cmp(upper) != Ordering::Less
            }
        }
    }

    /// The bounds as redb takes them.
    pub(crate) fn bounds(&self) -> (Bound<&[u8]>, Bound<&[u8]>) {
        (borrow(&self.lower), borrow(&self.upper))
    }

    /// Whether `key` falls in the range.
    #[cfg(test)]
    fn contains(&self, key: &[u8]) -> bool {
        use std::ops::RangeBounds;
        RangeBounds::<&[u8]>::contains(&self.bounds(), &key)
    }
}

fn borrow(bound: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match bound {
        Bound::Included(bytes) => Bound::Included(bytes.as_slice()),
        Bound::Excluded(bytes) => Bound::Excluded(bytes.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLES: &[&str] = &[
        "",
        "\0",
        "\0\0",
        "\0a",
        "\u{1}",
        "a",
        "a\0",
        "a\0b",
        "a\u{1}",
        "a\u{2}",
        "aa",
        "ab",
        "b",
        "\u{7f}",
        "é",
        "\u{ffff}",
        "\u{10ffff}",
    ];

    #[test]
    fn encoding_round_trips() {
        for a in SAMPLES {
            for b in SAMPLES {
                let encoded = encode(&[a, b]);
                assert_eq!(decode(&encoded), Some(vec![a.to_string(), b.to_string()]));
            }
        }
    }

    #[test]
    fn decoding_rejects_bytes_that_are_not_an_encoding() {
        assert_eq!(decode(b"abc"), None, "unterminated component");
        assert_eq!(decode(&[b'a', ESCAPE]), None, "dangling escape");
        assert_eq!(decode(&[b'a', ESCAPE, 0x07]), None, "unknown escape");
        assert_eq!(decode(&[0xC3, ESCAPE, TERMINATOR]), None, "invalid UTF-8");
    }

    #[test]
    fn encodings_order_like_the_tuples_of_their_bytes() {
        for a1 in SAMPLES {
            for a2 in SAMPLES {
                for b1 in SAMPLES {
                    for b2 in SAMPLES {
                        let tuples =
                            (a1.as_bytes(), a2.as_bytes()).cmp(&(b1.as_bytes(), b2.as_bytes()));
                        let encoded = encode(&[a1, a2]).cmp(&encode(&[b1, b2]));
                        assert_eq!(tuples, encoded, "({a1:?}, {a2:?}) vs ({b1:?}, {b2:?})");
                    }
                }
            }
        }
    }

    /// Every sort condition's range holds exactly the keys of the partition that satisfy it,
    /// whatever follows the sort component (as in index entries, which end with pk and sk).
    #[test]
    fn sort_ranges_hold_exactly_the_matching_keys() {
        let holds = |condition: &SortCondition, sk: &str| match condition {
            SortCondition::Equal(v) => sk.as_bytes() == v.as_bytes(),
            SortCondition::Less(v) => sk.as_bytes() < v.as_bytes(),
            SortCondition::LessOrEqual(v) => sk.as_bytes() <= v.as_bytes(),
            SortCondition::Greater(v) => sk.as_bytes() > v.as_bytes(),
            SortCondition::GreaterOrEqual(v) => sk.as_bytes() >= v.as_bytes(),
            SortCondition::Between(low, high) => {
                low.as_bytes() <= sk.as_bytes() && sk.as_bytes() <= high.as_bytes()
            }
            SortCondition::BeginsWith(p) => sk.as_bytes().starts_with(p.as_bytes()),
        };
        let prefix = encode(&["p"]);
        for value in SAMPLES {
            let v = value.to_string();
            let conditions = [
                SortCondition::Equal(v.clone()),
                SortCondition::Less(v.clone()),
                SortCondition::LessOrEqual(v.clone()),
                SortCondition::Greater(v.clone()),
                SortCondition::GreaterOrEqual(v.clone()),
                SortCondition::Between(v.clone(), "b".into()),
                SortCondition::BeginsWith(v.clone()),
            ];
            for condition in &conditions {
                let Ok(range) = KeyRange::within(&prefix, Some(condition)) else {
                    assert!(
                        matches!(condition, SortCondition::Between(low, _) if low.as_str() > "b")
                    );
                    continue;
                };
                for partition in ["o", "p", "p\0", "q"] {
                    for sk in SAMPLES {
                        for tail in ["", "\0", "zz"] {
                            let key = encode(&[partition, sk, tail]);
                            let expected = partition == "p" && holds(condition, sk);
                            assert_eq!(
                                range.contains(&key),
                                expected,
                                "{condition:?} on ({partition:?}, {sk:?}, {tail:?})"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn the_whole_partition_range_holds_the_partition_only() {
        let range = KeyRange::within(&encode(&["p"]), None).expect("no sort condition");
        assert!(range.contains(&encode(&["p", ""])));
        assert!(range.contains(&encode(&["p", "\u{10ffff}", "x"])));
        assert!(!range.contains(&encode(&["p\0", "a"])));
        assert!(!range.contains(&encode(&["pa", "a"])));
        assert!(!range.contains(&encode(&["o", "z"])));
    }

    #[test]
    fn resuming_narrows_the_range_past_the_last_key() {
        let mut ascending = KeyRange::within(&encode(&["p"]), None).expect("no sort condition");
        ascending.start_after(encode(&["p", "m"]));
        assert!(!ascending.contains(&encode(&["p", "m"])));
        assert!(ascending.contains(&encode(&["p", "m\0"])));
        assert!(!ascending.contains(&encode(&["p", "a"])));

        let mut descending = KeyRange::within(&encode(&["p"]), None).expect("no sort condition");
        descending.end_before(encode(&["p", "m"]));
        assert!(!descending.contains(&encode(&["p", "m"])));
        assert!(descending.contains(&encode(&["p", "l"])));
        assert!(!descending.contains(&encode(&["p", "n"])));
    }

    #[test]
    fn resuming_outside_the_range_leaves_it_alone_or_empties_it() {
        let sort = SortCondition::Between("c".into(), "f".into());
        let base = KeyRange::within(&encode(&["p"]), Some(&sort)).expect("ordered bounds");

        let mut before = base.clone();
        before.start_after(encode(&["p", "a"]));
        assert_eq!(before, base);

        let mut past = base.clone();
        past.start_after(encode(&["p", "z"]));
        assert!(past.is_empty());

        let mut at_top = base.clone();
        at_top.end_before(encode(&["p", "c"]));
        assert!(at_top.is_empty());
        assert!(!base.is_empty());
    }

    #[test]
    fn reversed_between_bounds_are_refused() {
        let sort = SortCondition::Between("f".into(), "c".into());
        assert!(KeyRange::within(&encode(&["p"]), Some(&sort)).is_err());
    }
}
