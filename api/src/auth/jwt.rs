//! Access tokens: short-lived EdDSA JWTs. Verification accepts exactly one
//! algorithm, requires `exp`, `iat`, `iss`, `aud` and `sub`, and allows five
//! seconds of clock skew.

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
        validation.validate_exp = true;
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
            exp: now + ttl_secs,
            jti: Uuid::now_v7(),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        encode(&header, &claims, &self.encoding).map_err(|e| e.to_string())
    }

    /// Verifies signature, algorithm and claims.
    pub fn verify(&self, token: &str) -> Result<Claims, String> {
        decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|d| d.claims)
            .map_err(|e| e.to_string())
    }
}
