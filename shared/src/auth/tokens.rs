//! Access tokens: JWTs signed with Ed25519 (`alg: EdDSA`), so that verifiers hold only the
//! public key and a leaked verifier configuration cannot mint tokens.
//!
//! The algorithm is pinned: the header must say `EdDSA` before any signature check runs, which
//! shuts out `alg: none` and the HS256-with-the-public-key confusion. Times are checked against
//! the `now` the caller passes, so tests and the local API share one clock.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::keys::{KeyError, PrivateKey, PublicKey};
use crate::identity::{Principal, Role, UserId};

/// How long an access token is valid: short, since it cannot be revoked before it expires.
pub const ACCESS_TOKEN_LIFETIME: TimeDelta = TimeDelta::minutes(15);

/// The clock skew tolerated between the issuing and the verifying machine.
pub const DEFAULT_LEEWAY: TimeDelta = TimeDelta::seconds(30);

/// The only `alg` header accepted.
const ALGORITHM: &str = "EdDSA";

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

/// The claims of an access token.
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
    key: EncodingKey,
    header: Header,
    issuer: String,
    audience: String,
}

impl TokenIssuer {
    /// An issuer for `iss` = `issuer` and `aud` = `audience`. Signs one probe token, so that a key
    /// the signing library cannot use fails here, at start, instead of on a login.
    pub fn new(key: &PrivateKey, issuer: &str, audience: &str) -> Result<Self, KeyError> {
        let issuer = Self {
            key: EncodingKey::from_ed_der(&key.to_pkcs8_der()),
            header: Header::new(Algorithm::EdDSA),
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
        };
        let probe = Principal {
            user_id: UserId::from(uuid::Uuid::nil()),
            role: Role::Customer,
        };
        issuer
            .sign(&issuer.claims(&probe, Utc::now()))
            .map_err(|error| KeyError::Malformed(error.to_string()))?;
        Ok(issuer)
    }

    /// A token for `principal`, valid from `now` for [`ACCESS_TOKEN_LIFETIME`].
    pub fn issue(&self, principal: &Principal, now: DateTime<Utc>) -> AccessToken {
        let token = self
            .sign(&self.claims(principal, now))
            .expect("the key was proven to sign when the issuer was built");
        AccessToken {
            token,
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

    fn sign(&self, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
        jsonwebtoken::encode(&self.header, claims, &self.key)
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

/// Verifies access tokens; holds only the public key.
#[derive(Clone)]
pub struct TokenVerifier {
    key: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    leeway: TimeDelta,
}

impl TokenVerifier {
    /// A verifier that accepts only tokens from `issuer` for `audience`, with
    /// [`DEFAULT_LEEWAY`] of clock skew.
    pub fn new(key: &PublicKey, issuer: &str, audience: &str) -> Self {
        let mut validation = Validation::new(Algorithm::EdDSA);
        // Times are checked in `verify` against the caller's clock, not the library's.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        Self {
            key: DecodingKey::from_ed_der(key.as_bytes()),
            validation,
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
        check_header(token)?;
        let claims = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)
            .map_err(|error| match error.kind() {
                ErrorKind::InvalidSignature => TokenError::Signature,
                ErrorKind::InvalidAlgorithm
                | ErrorKind::InvalidAlgorithmName
                | ErrorKind::MissingAlgorithm
                | ErrorKind::InvalidKeyFormat => TokenError::Algorithm,
                ErrorKind::InvalidIssuer => TokenError::Issuer,
                ErrorKind::InvalidAudience => TokenError::Audience,
                _ => TokenError::Malformed,
            })?
            .claims;
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

/// Pins the algorithm before the library looks at the token: `alg` must be `EdDSA`, and no
/// `crit` extension may ask for processing this verifier does not do.
fn check_header(token: &str) -> Result<(), TokenError> {
    let encoded = token.split('.').next().ok_or(TokenError::Malformed)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| TokenError::Malformed)?;
    let header: serde_json::Map<String, Value> =
        serde_json::from_slice(&bytes).map_err(|_| TokenError::Malformed)?;
    if header.get("alg").and_then(Value::as_str) != Some(ALGORITHM) {
        return Err(TokenError::Algorithm);
    }
    if header.contains_key("crit") {
        return Err(TokenError::Malformed);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use hmac::{Hmac, KeyInit, Mac};
    use serde_json::json;
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

    /// Signs arbitrary claims with the real key, through the library, with an EdDSA header.
    fn signed(fixture: &Fixture, claims: &Value) -> String {
        let key = EncodingKey::from_ed_der(&fixture.private.to_pkcs8_der());
        jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), claims, &key).unwrap()
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
    fn debug_output_never_shows_a_token() {
        let fixture = fixture();
        let token = fixture.issuer.issue(&principal(), now());
        let shown = format!("{token:?} {:?} {:?}", fixture.issuer, fixture.verifier);
        assert!(!shown.contains(&token.token));
        assert!(!shown.contains(token.token.split('.').next().unwrap()));
    }
}
