//! Access tokens: short-lived EdDSA JWTs. Verification accepts exactly one
//! algorithm, requires `exp`, `iat`, `iss`, `aud` and `sub`, and allows five
//! seconds of clock skew. Every time claim is checked against the injected
//! clock's "now", never the wall clock: `jsonwebtoken` checks the signature,
//! algorithm, issuer, audience and the presence of the claims; [`TokenKeys::verify`]
//! checks `exp`, `nbf` and `iat` itself.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user.
    pub sub: Uuid,
    /// The login session; revoking it invalidates the token at once.
    pub sid: Uuid,
    /// The user's district.
    pub dst: Uuid,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    /// Not before; tokens this platform issues carry it (equal to `iat`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    pub exp: i64,
    pub jti: Uuid,
}

/// Signing and verifying keys with the validation rules.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    kid: String,
    issuer: String,
    audience: String,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// Allowed clock skew in seconds.
pub const LEEWAY_SECS: u64 = 5;

impl TokenKeys {
    pub fn new(
        private_pem: &str,
        public_pem: &str,
        kid: &str,
        issuer: &str,
        audience: &str,
    ) -> Result<TokenKeys, String> {
        let encoding = EncodingKey::from_ed_pem(private_pem.as_bytes())
            .map_err(|e| format!("JWT private key: {e}"))?;
        let decoding = DecodingKey::from_ed_pem(public_pem.as_bytes())
            .map_err(|e| format!("JWT public key: {e}"))?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.algorithms = vec![Algorithm::EdDSA];
        validation.leeway = LEEWAY_SECS;
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        // The library would read the wall clock; the time claims are checked in
        // `verify` against the caller's clock instead.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        Ok(TokenKeys {
            encoding,
            decoding,
            validation,
            kid: kid.into(),
            issuer: issuer.into(),
            audience: audience.into(),
        })
    }

    /// Signs an access token for a session, valid `ttl_secs` from `now`.
    pub fn issue(
        &self,
        user: Uuid,
        session: Uuid,
        district: Uuid,
        now: i64,
        ttl_secs: i64,
    ) -> Result<String, String> {
        let claims = Claims {
            sub: user,
            sid: session,
            dst: district,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now,
            nbf: Some(now),
            exp: now + ttl_secs,
            jti: Uuid::now_v7(),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        encode(&header, &claims, &self.encoding).map_err(|e| e.to_string())
    }

    /// Verifies signature, algorithm and claims; `now` (Unix seconds) is the
    /// injected clock's.
    pub fn verify(&self, token: &str, now: i64) -> Result<Claims, String> {
        let claims = decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|d| d.claims)
            .map_err(|e| e.to_string())?;
        check_times(&claims, now)?;
        Ok(claims)
    }
}

/// The time claims against `now`, each with [`LEEWAY_SECS`] of skew: expired
/// (`exp` at or before now), not yet valid (`nbf` after now) or issued in the
/// future (`iat` after now) are refused.
fn check_times(claims: &Claims, now: i64) -> Result<(), String> {
    let leeway = LEEWAY_SECS as i64;
    if claims.exp.saturating_add(leeway) <= now {
        return Err("ExpiredSignature".into());
    }
    if claims
        .nbf
        .is_some_and(|nbf| nbf.saturating_sub(leeway) > now)
    {
        return Err("ImmatureSignature".into());
    }
    if claims.iat.saturating_sub(leeway) > now {
        return Err("issued in the future".into());
    }
    Ok(())
}
#[cfg(test)]
mod tests {
    use super::*;

    fn claims(iat: i64, nbf: Option<i64>, exp: i64) -> Claims {
        Claims {
            sub: Uuid::nil(),
            sid: Uuid::nil(),
            dst: Uuid::nil(),
            iss: "i".into(),
            aud: "a".into(),
            iat,
            nbf,
            exp,
            jti: Uuid::nil(),
        }
    }

    #[test]
    fn time_claims_are_checked_against_the_given_now_with_leeway() {
        let t = 1_000_000;
        let c = claims(t, Some(t), t + 600);
        assert!(check_times(&c, t).is_ok());
        assert!(check_times(&c, t + 600 + 4).is_ok(), "inside the leeway");
        assert!(check_times(&c, t + 600 + 5).is_err(), "expired");
        assert!(check_times(&c, t - 4).is_ok(), "skew inside the leeway");
        assert!(check_times(&c, t - 6).is_err(), "not yet valid");
        let no_nbf = claims(t, None, t + 600);
        assert!(check_times(&no_nbf, t - 6).is_err(), "issued in the future");
    }
}
