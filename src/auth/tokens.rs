//! Access tokens are short-lived HS256 JWTs; refresh tokens are random strings stored
//! only as SHA-256 hashes (see `models::logins`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::domain::Role;
use crate::error::ApiError;
use crate::i18n::Code;

pub const ISSUER: &str = "ocod";
pub const AUDIENCE: &str = "ocod-api";

/// What an access token says: who, in which login session, with which role, until when.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    /// The login session (refresh-token family), so logout can end the access token too.
    pub sid: String,
    pub role: Role,
    pub iat: i64,
    pub exp: i64,
}

/// Keys and validation rules, built once at start.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub access_ttl_secs: i64,
}

impl TokenKeys {
    pub fn new(settings: &Settings) -> anyhow::Result<Self> {
        let secret = settings.jwt_secret.expose();
        // Pin the algorithm: a token claiming `none` or RS256 is refused, whatever its header says.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        Ok(TokenKeys {
            encoding: EncodingKey::from_secret(secret)?,
            decoding: DecodingKey::from_secret(secret)?,
            validation,
            access_ttl_secs: settings.access_token_ttl.as_secs() as i64,
        })
    }

    pub fn issue_access(
        &self,
        user_id: &str,
        session_id: &str,
        role: Role,
    ) -> anyhow::Result<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = AccessClaims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: user_id.into(),
            sid: session_id.into(),
            role,
            iat: now,
            exp: now + self.access_ttl_secs,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| anyhow::anyhow!("cannot sign access token: {e}"))
    }

    /// Checks signature, algorithm, issuer, audience and expiry.
    pub fn verify_access(&self, token: &str) -> Result<AccessClaims, ApiError> {
        decode::<AccessClaims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => ApiError::Unauthorized(Code::TokenExpired),
                _ => ApiError::Unauthorized(Code::InvalidToken),
            })
    }
}

/// A new refresh token: 256 random bits, URL-safe.
pub fn new_refresh_token() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// What is stored for a refresh token: a database leak does not hand out sessions.
pub fn hash_refresh_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
