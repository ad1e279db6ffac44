//! Whom a counter counts: a client network or an account.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use sha2::{Digest, Sha256};

use crate::identity::UserId;

/// The subject of one counter within a tier.
///
/// Built only by [`RateKey::client`], [`RateKey::account`] and [`RateKey::user`], so a key always
/// names its kind (`ip:` or `account:`) and a client can never collide with an account.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RateKey(String);

impl RateKey {
    /// The client behind an address as the front end saw it (API Gateway's source IP, the
    /// socket's peer locally; never a client-supplied header).
    ///
    /// An IPv4 address counts on its own. An IPv6 address counts by its /64 prefix: a single
    /// host usually holds a whole /64 and could otherwise rotate through 2^64 addresses, each
    /// with a fresh budget. An IPv4-mapped IPv6 address counts as its IPv4 address. A missing or
    /// unparseable address lands in one shared `unknown` bucket rather than escaping the limit.
    pub fn client(ip: Option<&str>) -> Self {
        let address = ip.and_then(|text| {
            let text = text.trim();
            text.parse::<IpAddr>()
                .or_else(|_| text.parse::<SocketAddr>().map(|socket| socket.ip()))
                .ok()
        });
        let bucket = match address {
            Some(IpAddr::V4(v4)) => v4.to_string(),
            Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => format!("{}/64", prefix_64(v6)),
            },
            None => "unknown".to_owned(),
        };
        Self(format!("ip:{bucket}"))
    }

    /// An account, by the identifier the caller typed (an email address or a user name).
    ///
    /// Case and surrounding blanks are ignored, so `Ann@Example.com ` and `ann@example.com`
    /// share one budget. The identifier is stored hashed: counters are operational data and
    /// should not become a second copy of personal data (and a hash keeps the key short).
    pub fn account(identifier: &str) -> Self {
        let digest = Sha256::digest(identifier.trim().to_lowercase().as_bytes());
        let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
        Self(format!("account:{hex}"))
    }

    /// A known account, by its user id: what the per-account sign-in tier counts, whichever name
    /// (email or username) an attempt used and whoever (a login, a password change) made it.
    /// Distinct from every [`RateKey::account`] key, which is a 64-digit hash.
    pub fn user(id: &UserId) -> Self {
        Self(format!("account:user:{id}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The network part of an IPv6 address (its first 64 bits).
fn prefix_64(address: Ipv6Addr) -> Ipv6Addr {
    let [a, b, c, d, ..] = address.segments();
    Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(ip: &str) -> String {
        RateKey::client(Some(ip)).as_str().to_owned()
    }

    #[test]
    fn an_ipv4_client_counts_by_its_address() {
        assert_eq!(client("203.0.113.7"), "ip:203.0.113.7");
        assert_eq!(client(" 203.0.113.7 "), "ip:203.0.113.7");
        assert_ne!(client("203.0.113.7"), client("203.0.113.8"));
    }

    #[test]
    fn an_ipv6_client_counts_by_its_64_bit_prefix() {
        assert_eq!(client("2001:db8:1:2:aaaa::1"), "ip:2001:db8:1:2::/64");
        assert_eq!(
            client("2001:db8:1:2:aaaa::1"),
            client("2001:0db8:0001:0002:ffff:ffff:ffff:ffff")
        );
        assert_ne!(client("2001:db8:1:2::1"), client("2001:db8:1:3::1"));
    }

    #[test]
    fn an_ipv4_mapped_address_counts_as_the_ipv4_address() {
        assert_eq!(client("::ffff:203.0.113.7"), client("203.0.113.7"));
    }

    #[test]
    fn a_socket_address_counts_by_its_ip() {
        assert_eq!(client("203.0.113.7:51234"), "ip:203.0.113.7");
        assert_eq!(client("[2001:db8::1]:443"), "ip:2001:db8::/64");
    }

    #[test]
    fn missing_and_unparseable_addresses_share_one_bucket() {
        assert_eq!(RateKey::client(None).as_str(), "ip:unknown");
        assert_eq!(client("not an address"), "ip:unknown");
        assert_eq!(client(""), "ip:unknown");
        assert_eq!(client("203.0.113.7, 10.0.0.1"), "ip:unknown");
    }

    #[test]
    fn accounts_ignore_case_and_blanks_and_are_not_stored_in_clear() {
        let key = RateKey::account(" Ann@Example.com");
        assert_eq!(key, RateKey::account("ann@example.com"));
        assert_ne!(key, RateKey::account("bob@example.com"));
        assert!(key.as_str().starts_with("account:"));
        assert!(!key.as_str().contains("ann"));
        assert_eq!(key.as_str().len(), "account:".len() + 64);
    }

    #[test]
    fn a_known_account_counts_by_its_user_id_apart_from_any_identifier() {
        let id = UserId::parse("0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f").unwrap();
        let key = RateKey::user(&id);
        assert_eq!(
            key.as_str(),
            "account:user:0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f"
        );
        assert_ne!(key, RateKey::account(id.as_str()));
        assert_ne!(key, RateKey::client(Some(id.as_str())));
    }
}
