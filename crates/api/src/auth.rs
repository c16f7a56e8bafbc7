//! Who is calling: the bearer token of an HTTP request or of a WebSocket `connection_init`
//! payload, and the secrets new tokens get.

use axum::http::{HeaderMap, header};
use workplan_domain::access::Viewer;
use workplan_domain::ports::TokenStore;
use workplan_domain::token::SECRET_PREFIX;
use workplan_domain::{Error, Result, usecases};

/// A fresh token secret: the prefix and 32 random bytes in hex.
pub fn new_secret() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| Error::internal(std::io::Error::other(e.to_string())))?;
    Ok(format!("{SECRET_PREFIX}{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()))
}

/// The viewer an `Authorization` header names: anonymous without one, UNAUTHENTICATED for a
/// malformed, unknown, revoked or expired token.
pub async fn viewer_from_headers(tokens: &dyn TokenStore, headers: &HeaderMap) -> Result<Viewer> {
    let Some(value) = headers.get(header::AUTHORIZATION) else { return Ok(Viewer::Anonymous) };
    let value = value.to_str().map_err(|_| Error::Unauthenticated("the Authorization header is not text".into()))?;
    let secret = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .ok_or_else(|| Error::Unauthenticated("use Authorization: Bearer <token>".into()))?;
    usecases::authenticate(tokens, secret).await.map(Viewer::Token)
}
