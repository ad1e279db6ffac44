//! The `md5OfBody` SQS puts on each message of the worker's sample batch. Not for security: it
//! only has to match what SQS would compute.

use md5::{Digest, Md5};

/// The lower-case hex MD5 digest of `data`.
pub fn hex_digest(data: &[u8]) -> String {
    Md5::digest(data)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::hex_digest;

    #[test]
    fn digests_match_rfc_1321() {
        assert_eq!(hex_digest(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(hex_digest(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
    }
}
