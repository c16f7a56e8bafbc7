//! Issuing API tokens.

use chrono::{DateTime, Utc};

use crate::ids::AgencyId;
use crate::ports::{NewToken, PlanReader, TokenStore};
use crate::text::check_line;
use crate::token::{AccessRole, ApiToken, check_token_binding, hash_secret};
use crate::{Error, Result};

/// Longest token name, in characters.
pub const MAX_TOKEN_NAME: usize = 100;

/// A token and its secret, shown once.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The stored token.
    pub token: ApiToken,
    /// Its secret; only its hash is stored.
    pub secret: String,
}

/// A token to issue, as asked for.
#[derive(Debug, Clone, Copy)]
pub struct TokenRequest<'a> {
    /// Unique name: one line of 1–100 characters, without control or bidi characters.
    pub name: &'a str,
    /// What it may do.
    pub role: AccessRole,
    /// The agency an AGENCY_REPORTER token reports for.
    pub agency: Option<AgencyId>,
    /// The GB/T 2260 code of the province a PROVINCE_REPORTER token reports for.
    pub province_code: Option<&'a str>,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Creates a token. `secret` is fresh randomness from the caller (the domain has no IO).
pub async fn create_token(
    plan: &dyn PlanReader,
    tokens: &dyn TokenStore,
    request: TokenRequest<'_>,
    secret: String,
) -> Result<IssuedToken> {
    let TokenRequest { name, role, agency, province_code, expires_at } = request;
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::validation("name", "1–100 printable characters"));
    }
    check_line(name, "name", MAX_TOKEN_NAME)?;
    if expires_at.is_some_and(|at| at <= Utc::now()) {
        return Err(Error::validation("expiresAt", "must be in the future"));
    }
    if let Some(id) = agency
        && plan.agencies_by_ids(&[id]).await?.is_empty()
    {
        return Err(Error::not_found("agency", Some("agency")));
    }
    let province = match province_code {
        Some(code) => Some(
            plan.provinces_by_codes(&[code.to_owned()])
                .await?
                .first()
                .map(|p| p.id)
                .ok_or_else(|| Error::not_found(format!("province {code:?}"), Some("province")))?,
        ),
        None => None,
    };
    check_token_binding(role, agency, province)?;
    if tokens.token_by_name(name).await?.is_some() {
        return Err(Error::Conflict(format!("a token named {name:?} exists")));
    }
    let token = tokens
        .create_token(NewToken {
            name: name.to_owned(),
            role,
            agency,
            province,
            secret_hash: hash_secret(&secret),
            expires_at,
        })
        .await?;
    Ok(IssuedToken { token, secret })
}
