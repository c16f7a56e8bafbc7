//! Who a bearer secret identifies.

use chrono::Utc;

use crate::access::Principal;
use crate::ports::TokenStore;
use crate::token::{SECRET_PREFIX, hash_secret};
use crate::{Error, Result};

/// The principal a bearer secret identifies: UNAUTHENTICATED if unknown, revoked or expired.
pub async fn authenticate(tokens: &dyn TokenStore, secret: &str) -> Result<Principal> {
    let bad = || Error::Unauthenticated("the API token is unknown, revoked or expired".into());
    if !secret.starts_with(SECRET_PREFIX) || secret.len() > 200 {
        return Err(bad());
    }
    let token = tokens.token_by_secret_hash(&hash_secret(secret)).await?.ok_or_else(bad)?;
    let now = Utc::now();
    if token.revoked_at.is_some() || token.expires_at.is_some_and(|at| at <= now) {
        return Err(bad());
    }
    // Record use at most once a minute per token, so reads do not turn into writes.
    if token.last_used_at.is_none_or(|at| now - at > chrono::Duration::seconds(60)) {
        tokens.touch_token(token.id, now).await?;
    }
    Ok(Principal::from(&token))
}
