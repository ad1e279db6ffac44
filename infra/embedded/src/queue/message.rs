//! A queued message as the queue file stores it, and the receipt that names one receive of it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Which of the two queues in the file a message is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum Lane {
    /// The job queue producers send to.
    Main,
    /// The dead-letter queue: messages received [`itinera::jobs::MAX_RECEIVES`] times without
    /// being deleted.
    Dead,
}

impl Lane {
    fn as_str(self) -> &'static str {
        match self {
            Lane::Main => "main",
            Lane::Dead => "dead",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "main" => Some(Lane::Main),
            "dead" => Some(Lane::Dead),
            _ => None,
        }
    }
}

/// One message, stored under its sequence number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct StoredMessage {
    pub lane: Lane,
    pub body: String,
    /// Receives so far, in either lane (a message keeps its count when it moves, as in SQS).
    pub receive_count: u32,
    /// When the message can next be received, epoch milliseconds; also its key in the lane's
    /// visibility table.
    pub visible_at: u64,
    /// When it was sent, epoch milliseconds.
    pub sent_at: u64,
}

impl StoredMessage {
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self)
            .unwrap_or_else(|_| unreachable!("a message of strings and numbers always serializes"))
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// The receipt of the message's latest receive.
    pub fn receipt(&self, id: u64) -> Receipt {
        Receipt {
            lane: self.lane,
            id,
            receive_count: self.receive_count,
        }
    }
}

/// Names one receive of one message: `<lane>-<sequence number>-<receive count>`.
///
/// The receive count is what makes a receipt belong to one receive: a message received again has
/// a higher count, so the receipt of the earlier receive no longer matches it, and the lane keeps
/// a main-queue receipt from touching the message once it has moved to the dead-letter queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Receipt {
    pub lane: Lane,
    pub id: u64,
    pub receive_count: u32,
}

impl Receipt {
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split('-');
        let lane = Lane::parse(parts.next()?)?;
        let id = parts.next()?.parse().ok()?;
        let receive_count = parts.next()?.parse().ok()?;
        if parts.next().is_some() {
            return None;
        }
        Some(Self {
            lane,
            id,
            receive_count,
        })
    }

    /// Whether this is the receipt of the latest receive of `message`.
    pub fn is_current_for(&self, message: &StoredMessage) -> bool {
        message.lane == self.lane && message.receive_count == self.receive_count
    }
}

impl fmt::Display for Receipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}-{}",
            self.lane.as_str(),
            self.id,
            self.receive_count
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(lane: Lane, receive_count: u32) -> StoredMessage {
        StoredMessage {
            lane,
            body: "{}".into(),
            receive_count,
            visible_at: 1_700_000_000_000,
            sent_at: 1_700_000_000_000,
        }
    }

    #[test]
    fn a_receipt_survives_the_round_trip_through_its_text() {
        let receipt = message(Lane::Dead, 6).receipt(42);
        assert_eq!(receipt.to_string(), "dead-42-6");
        assert_eq!(Receipt::parse("dead-42-6"), Some(receipt));
    }

    #[test]
    fn malformed_receipts_do_not_parse() {
        for text in [
            "",
            "main",
            "main-1",
            "main-1-2-3",
            "other-1-2",
            "main-x-2",
            "main-1--2",
        ] {
            assert_eq!(Receipt::parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn a_receipt_is_current_only_for_its_own_receive_in_its_own_lane() {
        let receipt = message(Lane::Main, 2).receipt(7);
        assert!(receipt.is_current_for(&message(Lane::Main, 2)));
        assert!(!receipt.is_current_for(&message(Lane::Main, 3)));
        assert!(!receipt.is_current_for(&message(Lane::Dead, 2)));
    }

    #[test]
    fn a_message_survives_the_round_trip_through_its_bytes() {
        let original = message(Lane::Main, 3);
        assert_eq!(StoredMessage::decode(&original.encode()).unwrap(), original);
    }
}
