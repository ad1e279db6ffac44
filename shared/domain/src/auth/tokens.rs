//! Access tokens: JWTs signed with Ed25519 (`alg: EdDSA`), so that verifiers hold only the
//! public key and a leaked verifier configuration cannot mint tokens.
//!
//! The compact JWS form (RFC 7515, section 7.1) is written and read here for this one algorithm
//! only, rather than through a general JWT library: the tokens never use any other, and every
//! other algorithm such a library supports is code a forged header could reach.
//!
//! The algorithm is pinned: the header must say `EdDSA`, and carry nothing this verifier does
//! not understand, before any signature check runs, which shuts out `alg: none` and the
//! HS256-with-the-public-key confusion. The claims are read only once the signature has verified.
//! Times are checked against the `now` the caller passes, so tests and the local API share one
//! clock.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use ed25519_dalek::Signature;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::keys::{
    KeyError, PRIVATE_KEY_VARIABLE, PUBLIC_KEY_VARIABLE, PrivateKey, PublicKey, TokenKeys,
};
use crate::config::ConfigError;
use crate::identity::{Principal, Role, UserId};

/// How long an access token is valid: short, since it cannot be revoked before it expires.
pub const ACCESS_TOKEN_LIFETIME: TimeDelta = TimeDelta::minutes(15);

/// The clock skew tolerated between the issuing and the verifying machine.
pub const DEFAULT_LEEWAY: TimeDelta = TimeDelta::seconds(30);

/// The only `alg` header accepted.
const ALGORITHM: &str = "EdDSA";

/// The only `typ` header accepted, when one is present.
const TYPE: &str = "JWT";

/// The header every issued token carries, before encoding.
const HEADER: &str = r#"{"alg":"EdDSA","typ":"JWT"}"#;

/// The longest token looked at. An issued token is under 500 bytes; anything far larger is
/// refused before any decoding, so a huge header cannot cost memory or parsing time.
const MAX_TOKEN_LENGTH: usize = 4096;

/// A signed access token and how many seconds it stays valid (the response's `expiresIn`).
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken {
    pub token: String,
    pub expires_in: u64,
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &"<redacted>")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// The claims of an access token. Every one is required, and a claim given twice is refused
/// rather than read as its first or last value. Claims not named here are ignored.
///
/// `aud` must be a single string: RFC 7519 also allows an array, but these tokens are only ever
/// issued for one audience, so an array is not something this issuer writes.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    role: Role,
    iss: String,
    aud: String,
    iat: i64,
    nbf: i64,
    exp: i64,
    jti: String,
}

/// The JOSE header a token may carry: `alg`, and optionally `typ` and `kid`. Any other member,
/// `crit` above all, could ask for processing this verifier does not do, so it is refused, as is
/// a member given twice.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JoseHeader {
    alg: String,
    #[serde(default, deserialize_with = "present_string")]
    typ: Option<String>,
    // Accepted so that a key rotation can label tokens; with one key there is nothing to pick.
    #[serde(default, rename = "kid", deserialize_with = "present_string")]
    _kid: Option<String>,
}

/// An optional header member that, when present, must be a string: `null` is not a way to leave
/// it out.
fn present_string<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    String::deserialize(deserializer).map(Some)
}

/// Why a token was refused. For the log only: every variant is the same 401 to the caller, so a
/// client cannot learn which check it failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token's algorithm is not EdDSA")]
    Algorithm,
    #[error("the token's signature does not verify")]
    Signature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token was issued by someone else")]
    Issuer,
    #[error("the token is meant for another audience")]
    Audience,
    #[error("the token's subject or role names no user")]
    Subject,
}

/// Signs access tokens; holds the private key.
pub struct TokenIssuer {
    key: PrivateKey,
    issuer: String,
    audience: String,
}

impl TokenIssuer {
    /// An issuer for `iss` = `issuer` and `aud` = `audience`. Signs one probe token and verifies
    /// it with the key's public half, so that a key that cannot make tokens its verifiers accept
    /// fails here, at start, instead of on a login.
    pub fn new(key: &PrivateKey, issuer: &str, audience: &str) -> Result<Self, KeyError> {
        let issuer = Self {
            key: key.clone(),
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
        };
        let probe = Principal {
            user_id: UserId::from(uuid::Uuid::nil()),
            role: Role::Customer,
        };
        let now = Utc::now();
        let token = issuer.issue(&probe, now).token;
        TokenVerifier::new(&key.public_key(), &issuer.issuer, &issuer.audience)
            .verify(&token, now)
            .map_err(|error| KeyError::Malformed(format!("a probe token was refused: {error}")))?;
        Ok(issuer)
    }

    /// A token for `principal`, valid from `now` for [`ACCESS_TOKEN_LIFETIME`].
    pub fn issue(&self, principal: &Principal, now: DateTime<Utc>) -> AccessToken {
        let claims = serde_json::to_vec(&self.claims(principal, now))
            .expect("claims of strings and integers always serialize");
        AccessToken {
            token: sign(&self.key, HEADER.as_bytes(), &claims),
            expires_in: ACCESS_TOKEN_LIFETIME.num_seconds().unsigned_abs(),
        }
    }

    fn claims(&self, principal: &Principal, now: DateTime<Utc>) -> Claims {
        let issued_at = now.timestamp();
        Claims {
            sub: principal.user_id.to_string(),
            role: principal.role,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: issued_at,
            nbf: issued_at,
            exp: issued_at + ACCESS_TOKEN_LIFETIME.num_seconds(),
            jti: uuid::Uuid::new_v4().to_string(),
        }
    }
}

impl fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

/// The compact serialization of a JWS with `header` and `payload`: both base64url-encoded, and
/// the Ed25519 signature over the ASCII of `header.payload` appended, base64url-encoded too.
fn sign(key: &PrivateKey, header: &[u8], payload: &[u8]) -> String {
    let mut token = URL_SAFE_NO_PAD.encode(header);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(payload, &mut token);
    let signature = key.sign(token.as_bytes());
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature.to_bytes(), &mut token);
    token
}

/// Verifies access tokens; holds only the public key.
#[derive(Clone)]
pub struct TokenVerifier {
    key: PublicKey,
    issuer: String,
    audience: String,
    leeway: TimeDelta,
}

impl TokenVerifier {
    /// A verifier that accepts only tokens from `issuer` for `audience`, with
    /// [`DEFAULT_LEEWAY`] of clock skew.
    pub fn new(key: &PublicKey, issuer: &str, audience: &str) -> Self {
        Self {
            key: *key,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            leeway: DEFAULT_LEEWAY,
        }
    }

    /// The same verifier with another clock-skew allowance.
    pub fn with_leeway(mut self, leeway: TimeDelta) -> Self {
        self.leeway = leeway;
        self
    }

    /// The principal a valid token names.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Principal, TokenError> {
        let claims = self.verified_claims(token)?;
        if claims.iss != self.issuer {
            return Err(TokenError::Issuer);
        }
        if claims.aud != self.audience {
            return Err(TokenError::Audience);
        }
        let now = now.timestamp();
        let leeway = self.leeway.num_seconds();
        if now >= claims.exp.saturating_add(leeway) {
            return Err(TokenError::Expired);
        }
        if now.saturating_add(leeway) < claims.nbf || now.saturating_add(leeway) < claims.iat {
            return Err(TokenError::NotYetValid);
        }
        let user_id = UserId::parse(&claims.sub).ok_or(TokenError::Subject)?;
        Ok(Principal {
            user_id,
            role: claims.role,
        })
    }

    /// The claims of a token whose form, header and signature are all sound, checked in that
    /// order; nothing of the payload is parsed before the signature has verified.
    fn verified_claims(&self, token: &str) -> Result<Claims, TokenError> {
        if token.len() > MAX_TOKEN_LENGTH {
            return Err(TokenError::Malformed);
        }
        let mut segments = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) = (
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
        ) else {
            return Err(TokenError::Malformed);
        };
        let header_json = decode_segment(header)?;
        let payload_json = decode_segment(payload)?;
        let signature = decode_segment(signature)?;
        check_header(&header_json)?;
        let signature = Signature::from_slice(&signature).map_err(|_| TokenError::Signature)?;
        // The signing input is the segments as they were sent, not a re-encoding of them.
        let signing_input = &token[..header.len() + 1 + payload.len()];
        if !self.key.verify_strict(signing_input.as_bytes(), &signature) {
            return Err(TokenError::Signature);
        }
        json_object(&payload_json)
    }
}

impl fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("leeway", &self.leeway)
            .finish_non_exhaustive()
    }
}

/// One segment of a compact JWS: base64url without padding, and nothing else. `=`, `+`, `/` and
/// whitespace are refused, and so are unused low bits that are not zero, so that every byte
/// string has exactly one accepted encoding and a signature cannot be re-encoded into a second
/// token that still verifies.
fn decode_segment(segment: &str) -> Result<Vec<u8>, TokenError> {
    let url_safe = |byte: &u8| byte.is_ascii_alphanumeric() || *byte == b'-' || *byte == b'_';
    if !segment.as_bytes().iter().all(url_safe) {
        return Err(TokenError::Malformed);
    }
    // The engine also refuses padding and non-zero trailing bits; the check above makes the
    // alphabet explicit rather than a property of the engine's configuration.
    URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| TokenError::Malformed)
}

/// A JSON object read into `T`. Serde would also fill a struct from a JSON array of its fields
/// in order; the header and the claims are objects, so anything else is refused.
fn json_object<T: DeserializeOwned>(json: &[u8]) -> Result<T, TokenError> {
    if json.trim_ascii_start().first() != Some(&b'{') {
        return Err(TokenError::Malformed);
    }
    serde_json::from_slice(json).map_err(|_| TokenError::Malformed)
}

/// Pins the algorithm before the signature is looked at: the header must be a JSON object with
/// `alg` = `EdDSA`, `typ` = `JWT` if it has a `typ`, an optional `kid`, and nothing else.
fn check_header(json: &[u8]) -> Result<(), TokenError> {
    let header: JoseHeader = json_object(json)?;
    if header.alg != ALGORITHM {
        return Err(TokenError::Algorithm);
    }
    if header.typ.is_some_and(|typ| typ != TYPE) {
        return Err(TokenError::Malformed);
    }
    Ok(())
}

/// The token side of the configured keys: the keys module knows keys and settings, this one
/// what is built from them.
impl TokenKeys {
    /// The issuer for login and refresh; needs `JWT_PRIVATE_KEY`.
    pub fn token_issuer(&self) -> Result<TokenIssuer, ConfigError> {
        let key = self
            .private_key
            .as_ref()
            .ok_or_else(|| ConfigError::new(PRIVATE_KEY_VARIABLE, "must be set"))?;
        TokenIssuer::new(key, &self.issuer, &self.audience)
            .map_err(|error| ConfigError::new(PRIVATE_KEY_VARIABLE, error.to_string()))
    }

    /// The verifier for the authorizer and the local API; needs `JWT_PUBLIC_KEY`, or derives it
    /// from `JWT_PRIVATE_KEY` when only that is set (a process that issues and verifies).
    pub fn token_verifier(&self) -> Result<TokenVerifier, ConfigError> {
        let key = self
            .public_key
            .or_else(|| self.private_key.as_ref().map(PrivateKey::public_key))
            .ok_or_else(|| ConfigError::new(PUBLIC_KEY_VARIABLE, "must be set"))?;
        Ok(TokenVerifier::new(&key, &self.issuer, &self.audience))
    }
}

#[cfg(test)]
mod tests {
    use hmac::{Hmac, KeyInit, Mac};
    use serde_json::{Value, json};
    use sha2::Sha256;

    use super::*;

    const ISSUER: &str = "itinera";
    const AUDIENCE: &str = "itinera-api";

    struct Fixture {
        private: PrivateKey,
        issuer: TokenIssuer,
        verifier: TokenVerifier,
    }

    fn fixture() -> Fixture {
        let private = PrivateKey::generate().unwrap();
        Fixture {
            issuer: TokenIssuer::new(&private, ISSUER, AUDIENCE).unwrap(),
            verifier: TokenVerifier::new(&private.public_key(), ISSUER, AUDIENCE),
            private,
        }
    }

    fn principal() -> Principal {
        Principal {
            user_id: UserId::parse("0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f").unwrap(),
            role: Role::Staff,
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-21T08:00:00Z")
            .unwrap()
            .to_utc()
    }

    fn encode_part(value: &Value) -> String {
        URL_SAFE_NO_PAD.encode(value.to_string())
    }

    fn decode_part(part: &str) -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    /// Valid claims as the issuer would write them at `now()`.
    fn claims() -> Value {
        let iat = now().timestamp();
        json!({
            "sub": "0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f",
            "role": "admin",
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": iat,
            "nbf": iat,
            "exp": iat + 900,
            "jti": "a",
        })
    }

    /// A token signed with HMAC-SHA256 under `secret`, the way an attacker would build one.
    fn hs256_token(secret: &[u8], claims: &Value) -> String {
        let message = format!(
            "{}.{}",
            encode_part(&json!({"alg": "HS256", "typ": "JWT"})),
            encode_part(claims)
        );
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
        mac.update(message.as_bytes());
        let tag = mac.finalize().into_bytes();
        format!("{message}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// Signs arbitrary claims with the real key under the issuer's own header.
    fn signed(fixture: &Fixture, claims: &Value) -> String {
        signed_raw(fixture, HEADER, &claims.to_string())
    }

    /// Signs `header` and `payload` with the real key, byte for byte as given (so JSON that
    /// `json!` cannot write, such as a repeated member, can be tried), so that a refusal is down
    /// to what they say and not to the signature.
    fn signed_raw(fixture: &Fixture, header: &str, payload: &str) -> String {
        sign(&fixture.private, header.as_bytes(), payload.as_bytes())
    }

    /// The token with its `index`th segment replaced by `segment`.
    fn with_segment(token: &str, index: usize, segment: &str) -> String {
        let mut parts: Vec<&str> = token.split('.').collect();
        parts[index] = segment;
        parts.join(".")
    }

    #[test]
    fn an_issued_token_verifies_to_its_principal() {
        let fixture = fixture();
        let token = fixture.issuer.issue(&principal(), now());
        assert_eq!(token.expires_in, 900);
        assert_eq!(
            fixture.verifier.verify(&token.token, now()),
            Ok(principal())
        );
    }

    #[test]
    fn an_issued_token_carries_every_claim_and_a_pinned_header() {
        let fixture = fixture();
        let token = fixture.issuer.issue(&principal(), now()).token;
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(decode_part(parts[0]), json!({"alg": "EdDSA", "typ": "JWT"}));
        let claims = decode_part(parts[1]);
        let iat = now().timestamp();
        assert_eq!(claims["sub"], "0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f");
        assert_eq!(claims["role"], "staff");
        assert_eq!(claims["iss"], ISSUER);
        assert_eq!(claims["aud"], AUDIENCE);
        assert_eq!(claims["iat"], iat);
        assert_eq!(claims["nbf"], iat);
        assert_eq!(claims["exp"], iat + 15 * 60);
        let other = fixture.issuer.issue(&principal(), now()).token;
        assert_ne!(
            decode_part(other.split('.').nth(1).unwrap())["jti"],
            claims["jti"]
        );
    }

    #[test]
    fn a_token_with_alg_none_is_refused() {
        let fixture = fixture();
        let header = encode_part(&json!({"alg": "none", "typ": "JWT"}));
        for token in [
            format!("{header}.{}.", encode_part(&claims())),
            format!("{header}.{}", encode_part(&claims())),
        ] {
            assert!(fixture.verifier.verify(&token, now()).is_err(), "{token}");
        }
        let token = format!("{header}.{}.", encode_part(&claims()));
        assert_eq!(
            fixture.verifier.verify(&token, now()),
            Err(TokenError::Algorithm)
        );
    }

    #[test]
    fn an_hs256_token_is_refused_even_when_keyed_with_the_public_key() {
        let fixture = fixture();
        let public = fixture.private.public_key();
        for secret in [
            public.to_pem().into_bytes(),
            public.as_bytes().to_vec(),
            b"guessed secret".to_vec(),
        ] {
            assert_eq!(
                fixture
                    .verifier
                    .verify(&hs256_token(&secret, &claims()), now()),
                Err(TokenError::Algorithm)
            );
        }
    }

    #[test]
    fn a_token_signed_by_another_key_is_refused() {
        let fixture = fixture();
        let stranger =
            TokenIssuer::new(&PrivateKey::generate().unwrap(), ISSUER, AUDIENCE).unwrap();
        let token = stranger.issue(&principal(), now()).token;
        assert_eq!(
            fixture.verifier.verify(&token, now()),
            Err(TokenError::Signature)
        );
    }

    #[test]
    fn a_tampered_payload_is_refused() {
        let fixture = fixture();
        let token = fixture.issuer.issue(&principal(), now()).token;
        let parts: Vec<&str> = token.split('.').collect();
        let mut claims = decode_part(parts[1]);
        claims["role"] = json!("admin");
        let forged = format!("{}.{}.{}", parts[0], encode_part(&claims), parts[2]);
        assert_eq!(
            fixture.verifier.verify(&forged, now()),
            Err(TokenError::Signature)
        );
    }

    #[test]
    fn a_tampered_signature_is_refused() {
        let fixture = fixture();
        let token = fixture.issuer.issue(&principal(), now()).token;
        let (message, signature) = token.rsplit_once('.').unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
        bytes[0] ^= 0x01;
        let flipped = format!("{message}.{}", URL_SAFE_NO_PAD.encode(&bytes));
        assert_eq!(
            fixture.verifier.verify(&flipped, now()),
            Err(TokenError::Signature)
        );
        let truncated = format!("{message}.{}", URL_SAFE_NO_PAD.encode(&bytes[..32]));
        assert!(fixture.verifier.verify(&truncated, now()).is_err());
        let stripped = format!("{message}.");
        assert!(fixture.verifier.verify(&stripped, now()).is_err());
    }

    #[test]
    fn an_expired_token_is_refused_after_the_leeway() {
        let fixture = fixture();
        let token = fixture.issuer.issue(&principal(), now()).token;
        let expiry = now() + ACCESS_TOKEN_LIFETIME;
        assert!(fixture.verifier.verify(&token, expiry).is_ok());
        assert!(
            fixture
                .verifier
                .verify(&token, expiry + TimeDelta::seconds(29))
                .is_ok()
        );
        assert_eq!(
            fixture
                .verifier
                .verify(&token, expiry + TimeDelta::seconds(30)),
            Err(TokenError::Expired)
        );
        let strict = fixture.verifier.clone().with_leeway(TimeDelta::zero());
        assert_eq!(strict.verify(&token, expiry), Err(TokenError::Expired));
    }

    #[test]
    fn a_token_from_the_future_is_refused_beyond_the_leeway() {
        let fixture = fixture();
        let token = fixture.issuer.issue(&principal(), now()).token;
        assert!(
            fixture
                .verifier
                .verify(&token, now() - TimeDelta::seconds(30))
                .is_ok()
        );
        assert_eq!(
            fixture
                .verifier
                .verify(&token, now() - TimeDelta::seconds(31)),
            Err(TokenError::NotYetValid)
        );
        let mut claims = claims();
        claims["nbf"] = json!(now().timestamp() + 600);
        assert_eq!(
            fixture.verifier.verify(&signed(&fixture, &claims), now()),
            Err(TokenError::NotYetValid)
        );
    }

    #[test]
    fn a_token_for_another_issuer_or_audience_is_refused() {
        let fixture = fixture();
        let mut claims = claims();
        claims["iss"] = json!("someone-else");
        assert_eq!(
            fixture.verifier.verify(&signed(&fixture, &claims), now()),
            Err(TokenError::Issuer)
        );
        let mut claims = self::claims();
        claims["aud"] = json!("another-api");
        assert_eq!(
            fixture.verifier.verify(&signed(&fixture, &claims), now()),
            Err(TokenError::Audience)
        );
        let staging = TokenVerifier::new(&fixture.private.public_key(), ISSUER, "staging-api");
        let token = fixture.issuer.issue(&principal(), now()).token;
        assert_eq!(staging.verify(&token, now()), Err(TokenError::Audience));
    }

    #[test]
    fn a_token_missing_a_claim_or_naming_no_user_is_refused() {
        let fixture = fixture();
        for claim in ["exp", "nbf", "iat", "iss", "aud", "sub", "role"] {
            let mut claims = claims();
            claims.as_object_mut().unwrap().remove(claim);
            assert!(
                fixture
                    .verifier
                    .verify(&signed(&fixture, &claims), now())
                    .is_err(),
                "without {claim}"
            );
        }
        let mut claims = claims();
        claims["sub"] = json!("root");
        assert_eq!(
            fixture.verifier.verify(&signed(&fixture, &claims), now()),
            Err(TokenError::Subject)
        );
        let mut claims = self::claims();
        claims["role"] = json!("superuser");
        assert_eq!(
            fixture.verifier.verify(&signed(&fixture, &claims), now()),
            Err(TokenError::Malformed)
        );
    }

    #[test]
    fn garbage_and_crit_headers_are_malformed() {
        let fixture = fixture();
        for token in ["", "abc", "a.b.c", "...", "eyJ.eyJ.sig"] {
            assert!(fixture.verifier.verify(token, now()).is_err(), "{token}");
        }
        let token = fixture.issuer.issue(&principal(), now()).token;
        let (_, rest) = token.split_once('.').unwrap();
        let header = encode_part(&json!({"alg": "EdDSA", "crit": ["exp"], "exp": 1}));
        assert_eq!(
            fixture.verifier.verify(&format!("{header}.{rest}"), now()),
            Err(TokenError::Malformed)
        );
    }

    #[test]
    fn padding_and_characters_outside_base64url_are_refused() {
        let fixture = fixture();
        let token = fixture.issuer.issue(&principal(), now()).token;
        let parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        for (index, part) in parts.iter().enumerate() {
            for altered in [
                format!("{part}="),
                format!("{part}=="),
                format!("+{}", &part[1..]),
                format!("/{}", &part[1..]),
                format!(" {part}"),
                format!("{part}\n"),
                format!("{}\t{}", &part[..4], &part[4..]),
                format!("{}%2B", &part[..part.len() - 1]),
            ] {
                let forged = with_segment(&token, index, &altered);
                assert_eq!(
                    fixture.verifier.verify(&forged, now()),
                    Err(TokenError::Malformed),
                    "segment {index} as {altered:?}"
                );
            }
        }
        // The signature as a padded, standard-alphabet encoder would write it.
        let (message, signature) = token.rsplit_once('.').unwrap();
        let bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
        let standard = base64::engine::general_purpose::STANDARD.encode(&bytes);
        assert_eq!(
            fixture
                .verifier
                .verify(&format!("{message}.{standard}"), now()),
            Err(TokenError::Malformed)
        );
    }

    #[test]
    fn a_signature_re_encoded_with_stray_low_bits_is_refused() {
        let fixture = fixture();
        let token = fixture.issuer.issue(&principal(), now()).token;
        let (message, signature) = token.rsplit_once('.').unwrap();
        // 64 bytes take 86 characters; the last one carries 4 bits of the signature and 2
        // unused ones. Setting an unused bit gives another spelling of the same 64 bytes.
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let last = signature.as_bytes()[signature.len() - 1];
        let value = ALPHABET.iter().position(|&c| c == last).unwrap();
        assert_eq!(value & 0b11, 0);
        let respelled = format!(
            "{message}.{}{}",
            &signature[..signature.len() - 1],
            char::from(ALPHABET[value | 0b01])
        );
        assert_ne!(respelled, token);
        assert_eq!(
            fixture.verifier.verify(&respelled, now()),
            Err(TokenError::Malformed)
        );
    }

    #[test]
    fn extra_or_missing_segments_are_refused() {
        let fixture = fixture();
        let token = fixture.issuer.issue(&principal(), now()).token;
        let signature = token.rsplit('.').next().unwrap();
        let (header, _) = token.split_once('.').unwrap();
        for forged in [
            format!("{token}."),
            format!("{token}.{signature}"),
            format!("{header}.{token}"),
            format!(".{token}"),
            format!("{token}.."),
            token.rsplit_once('.').unwrap().0.to_owned(),
            header.to_owned(),
        ] {
            assert_eq!(
                fixture.verifier.verify(&forged, now()),
                Err(TokenError::Malformed),
                "{forged}"
            );
        }
        // Five segments, the shape of an encrypted JWT.
        let jwe = format!("{header}..{}..{signature}", &signature[..22]);
        assert_eq!(
            fixture.verifier.verify(&jwe, now()),
            Err(TokenError::Malformed)
        );
    }

    #[test]
    fn an_oversized_token_is_refused_even_when_signed() {
        let fixture = fixture();
        let padded = |length: usize| {
            let mut claims = claims();
            claims["pad"] = json!("x".repeat(length));
            signed(&fixture, &claims)
        };
        let longest = (2_500..)
            .take_while(|&length| padded(length).len() <= MAX_TOKEN_LENGTH)
            .last()
            .unwrap();
        let at_limit = padded(longest);
        let over_limit = padded(longest + 1);
        assert!(at_limit.len() <= MAX_TOKEN_LENGTH && over_limit.len() > MAX_TOKEN_LENGTH);
        assert!(fixture.verifier.verify(&at_limit, now()).is_ok());
        assert_eq!(
            fixture.verifier.verify(&over_limit, now()),
            Err(TokenError::Malformed)
        );
        let huge = format!("{at_limit}{}", "A".repeat(1 << 20));
        assert_eq!(
            fixture.verifier.verify(&huge, now()),
            Err(TokenError::Malformed)
        );
    }

    #[test]
    fn a_signature_made_over_a_different_header_is_refused() {
        let fixture = fixture();
        let with_kid = signed_raw(
            &fixture,
            r#"{"alg":"EdDSA","typ":"JWT","kid":"2026-11"}"#,
            &claims().to_string(),
        );
        assert!(fixture.verifier.verify(&with_kid, now()).is_ok());
        let swapped = with_segment(&with_kid, 0, &URL_SAFE_NO_PAD.encode(HEADER));
        assert_eq!(
            fixture.verifier.verify(&swapped, now()),
            Err(TokenError::Signature)
        );
        // The same header with its members reordered is different bytes, and those are signed.
        let token = fixture.issuer.issue(&principal(), now()).token;
        let reordered = URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT","alg":"EdDSA"}"#);
        assert_eq!(
            fixture
                .verifier
                .verify(&with_segment(&token, 0, &reordered), now()),
            Err(TokenError::Signature)
        );
    }

    #[test]
    fn a_signature_of_the_wrong_length_is_refused() {
        let fixture = fixture();
        let token = fixture.issuer.issue(&principal(), now()).token;
        let (message, signature) = token.rsplit_once('.').unwrap();
        let bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
        assert_eq!(bytes.len(), 64);
        let mut longer = bytes.clone();
        longer.push(0);
        for wrong in [
            bytes[..63].to_vec(),
            longer,
            bytes.repeat(2),
            bytes[..32].to_vec(),
            Vec::new(),
        ] {
            let forged = format!("{message}.{}", URL_SAFE_NO_PAD.encode(&wrong));
            assert_eq!(
                fixture.verifier.verify(&forged, now()),
                Err(TokenError::Signature),
                "{} bytes",
                wrong.len()
            );
        }
    }

    #[test]
    fn only_alg_typ_and_kid_may_be_in_the_header() {
        let fixture = fixture();
        let payload = claims().to_string();
        for header in [
            r#"{"alg":"EdDSA"}"#,
            r#"{"alg":"EdDSA","typ":"JWT"}"#,
            r#"{"kid":"2026-11","alg":"EdDSA"}"#,
        ] {
            let token = signed_raw(&fixture, header, &payload);
            assert!(fixture.verifier.verify(&token, now()).is_ok(), "{header}");
        }
        for (header, error) in [
            (r#"{"alg":"eddsa"}"#, TokenError::Algorithm),
            (r#"{"alg":"Ed25519"}"#, TokenError::Algorithm),
            (r#"{"alg":"ES256","typ":"JWT"}"#, TokenError::Algorithm),
            (r#"{"typ":"JWT"}"#, TokenError::Malformed),
            (r#"{"alg":"EdDSA","typ":"JOSE"}"#, TokenError::Malformed),
            (r#"{"alg":"EdDSA","typ":null}"#, TokenError::Malformed),
            (r#"{"alg":"EdDSA","kid":7}"#, TokenError::Malformed),
            (r#"{"alg":"EdDSA","kid":null}"#, TokenError::Malformed),
            (r#"{"alg":null}"#, TokenError::Malformed),
            (r#"{"alg":"EdDSA","crit":[]}"#, TokenError::Malformed),
            (
                r#"{"alg":"EdDSA","jku":"https://attacker.example/keys"}"#,
                TokenError::Malformed,
            ),
            (
                r#"{"alg":"EdDSA","jwk":{"kty":"OKP","crv":"Ed25519","x":"AA"}}"#,
                TokenError::Malformed,
            ),
            (r#"{"alg":"none","alg":"EdDSA"}"#, TokenError::Malformed),
            (r#"{"alg":"EdDSA","alg":"EdDSA"}"#, TokenError::Malformed),
            (r#"["EdDSA"]"#, TokenError::Malformed),
            (r#"["EdDSA","JWT"]"#, TokenError::Malformed),
            (r#""EdDSA""#, TokenError::Malformed),
            ("null", TokenError::Malformed),
            ("", TokenError::Malformed),
        ] {
            let token = signed_raw(&fixture, header, &payload);
            assert_eq!(
                fixture.verifier.verify(&token, now()),
                Err(error),
                "{header}"
            );
        }
    }

    #[test]
    fn claims_repeated_listed_or_with_an_audience_list_are_refused() {
        let fixture = fixture();
        let claims_json = claims().to_string();
        let repeated = format!(
            r#"{}, "role": "customer"}}"#,
            claims_json.trim_end_matches('}')
        );
        assert_eq!(
            fixture
                .verifier
                .verify(&signed_raw(&fixture, HEADER, &repeated), now()),
            Err(TokenError::Malformed)
        );
        let as_array = json!([
            "0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f",
            "admin",
            ISSUER,
            AUDIENCE,
            now().timestamp(),
            now().timestamp(),
            now().timestamp() + 900,
            "a",
        ]);
        assert_eq!(
            fixture.verifier.verify(&signed(&fixture, &as_array), now()),
            Err(TokenError::Malformed)
        );
        let mut claims = claims();
        claims["aud"] = json!([AUDIENCE]);
        assert_eq!(
            fixture.verifier.verify(&signed(&fixture, &claims), now()),
            Err(TokenError::Malformed)
        );
    }

    #[test]
    fn the_payload_is_read_only_once_the_signature_verifies() {
        let fixture = fixture();
        let token = fixture.issuer.issue(&principal(), now()).token;
        let not_json = URL_SAFE_NO_PAD.encode("not json");
        assert_eq!(
            fixture
                .verifier
                .verify(&with_segment(&token, 1, &not_json), now()),
            Err(TokenError::Signature)
        );
        assert_eq!(
            fixture
                .verifier
                .verify(&signed_raw(&fixture, HEADER, "not json"), now()),
            Err(TokenError::Malformed)
        );
    }

    #[test]
    fn issuer_and_audience_that_need_json_escapes_round_trip() {
        let private = PrivateKey::generate().unwrap();
        let issuer = TokenIssuer::new(&private, "iss with \"quotes\"", "aud/\u{e9}").unwrap();
        let verifier =
            TokenVerifier::new(&private.public_key(), "iss with \"quotes\"", "aud/\u{e9}");
        let token = issuer.issue(&principal(), now()).token;
        assert_eq!(verifier.verify(&token, now()), Ok(principal()));
    }

    #[test]
    fn debug_output_never_shows_a_token() {
        let fixture = fixture();
        let token = fixture.issuer.issue(&principal(), now());
        let shown = format!("{token:?} {:?} {:?}", fixture.issuer, fixture.verifier);
        assert!(!shown.contains(&token.token));
        assert!(!shown.contains(token.token.split('.').next().unwrap()));
    }
}

/// Generated inputs: whatever a client sends as a bearer token, verification answers without
/// panicking, and only the unchanged token the issuer signed is accepted.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::auth::PrivateKey;

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-21T08:00:00Z")
            .unwrap()
            .to_utc()
    }

    /// One key pair for every case: generating one per case would make the run slow.
    fn keys() -> &'static (TokenIssuer, TokenVerifier) {
        static KEYS: std::sync::LazyLock<(TokenIssuer, TokenVerifier)> =
            std::sync::LazyLock::new(|| {
                let private = PrivateKey::generate().unwrap();
                let issuer = TokenIssuer::new(&private, "itinera", "itinera-api").unwrap();
                let verifier = TokenVerifier::new(&private.public_key(), "itinera", "itinera-api");
                (issuer, verifier)
            });
        &KEYS
    }

    proptest! {
        #[test]
        fn any_text_is_refused_without_panicking(
            token in "\\PC{0,600}|[A-Za-z0-9_-]{0,200}\\.[A-Za-z0-9_-]{0,400}\\.[A-Za-z0-9_-]{0,100}",
        ) {
            let (_, verifier) = keys();
            prop_assert!(verifier.verify(&token, at()).is_err());
        }

        #[test]
        fn a_signed_token_changed_anywhere_is_refused(
            position in any::<prop::sample::Index>(),
            replacement in "[A-Za-z0-9_.=-]",
        ) {
            let (issuer, verifier) = keys();
            let principal = Principal {
                user_id: UserId::from(uuid::Uuid::nil()),
                role: Role::Customer,
            };
            let token = issuer.issue(&principal, at()).token;
            prop_assert_eq!(verifier.verify(&token, at()).unwrap(), principal);
            let index = position.index(token.len());
            let mut changed = token.clone();
            changed.replace_range(index..=index, &replacement);
            if changed != token {
                prop_assert!(verifier.verify(&changed, at()).is_err(), "{changed}");
            }
        }
    }
}
