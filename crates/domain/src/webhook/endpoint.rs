//! A webhook endpoint: where to send, which change kinds, bounded by which token's read rights.

use chrono::{DateTime, Utc};
use url::Url;

use super::address::AddressRule;
use crate::access::{Principal, ReportScope};
use crate::ids::TokenId;
use crate::report::evidence::{check_authority, parse_url};
use crate::report::{ChangeKind, FeedPosition};
use crate::token::ApiToken;
use crate::{Error, Result};

/// How a signing secret starts (Standard Webhooks: `whsec_` and the key in base64).
pub const SECRET_PREFIX: &str = "whsec_";

/// Longest webhook URL, in bytes.
pub const MAX_URL_LEN: usize = 2048;

/// Identifies a webhook endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EndpointId(pub i64);

/// A registered webhook endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    /// Its key.
    pub id: EndpointId,
    /// Where deliveries are POSTed (checked by [`webhook_url`]).
    pub url: String,
    /// The change kinds it wants, in [`ChangeKind::ALL`] order.
    pub kinds: Vec<ChangeKind>,
    /// The token whose read rights bound what it receives.
    pub token: TokenId,
    /// The signing secret (`whsec_…`); shown to the registering ADMIN once, never again.
    pub secret: String,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// When it was disabled; nothing more is enqueued or sent after that.
    pub disabled_at: Option<DateTime<Utc>>,
    /// The last change of the feed it has looked at.
    pub cursor: FeedPosition,
}

/// An endpoint to register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWebhookEndpoint {
    /// Checked by [`webhook_url`].
    pub url: String,
    /// Checked by [`check_kinds`].
    pub kinds: Vec<ChangeKind>,
    /// The token whose read rights bound what it receives.
    pub token: TokenId,
    /// The signing secret.
    pub secret: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl WebhookEndpoint {
    /// Whether it wants changes of `kind`.
    pub fn receives(&self, kind: ChangeKind) -> bool {
        self.kinds.contains(&kind)
    }

    /// Whether deliveries may still go out.
    pub fn is_enabled(&self) -> bool {
        self.disabled_at.is_none()
    }
}

/// Which reports an endpoint bound by `token` may be told of at `now`: the token's own scope,
/// as its queries would have it — or `None` (nothing at all) once the token is revoked or
/// expired. Fails closed: a webhook never outlives the rights it was registered under.
pub fn delivery_scope(token: &ApiToken, now: DateTime<Utc>) -> Option<ReportScope> {
    if token.revoked_at.is_some() || token.expires_at.is_some_and(|at| at <= now) {
        return None;
    }
    Some(Principal::from(token).report_scope())
}

/// Whether `principal` may register, disable and list webhooks: ADMIN only.
///
/// # Errors
/// FORBIDDEN for every other role.
pub fn can_manage_webhooks(principal: &Principal) -> Result<()> {
    match principal.role {
        crate::token::AccessRole::Admin => Ok(()),
        _ => Err(Error::Forbidden("only admins manage webhooks".into())),
    }
}

/// Checks a webhook URL for input `field`: an absolute `https` URL (`http` only when
/// `rule` allows private addresses), with a host, without credentials or fragment, of at most
/// [`MAX_URL_LEN`] bytes. Returns it parsed (the stored form is its serialisation).
pub fn webhook_url(url: &str, field: &str, rule: AddressRule) -> Result<Url> {
    let bad = |why: String| Error::validation(field, why);
    let parsed = parse_url(url, field, MAX_URL_LEN)?;
    match parsed.scheme() {
        "https" => {}
        "http" if rule.allows_http() => {}
        "http" => return Err(bad("webhook URLs must use https".into())),
        other => return Err(bad(format!("webhook URLs must use https, not {other}"))),
    }
    check_authority(url, &parsed, field)?;
    if parsed.fragment().is_some() {
        return Err(bad("URL must not have a fragment (#…)".into()));
    }
    Ok(parsed)
}

/// Checks the change kinds an endpoint wants (input `field`): at least one. Returns them
/// without repeats, in [`ChangeKind::ALL`] order.
pub fn check_kinds(kinds: &[ChangeKind], field: &str) -> Result<Vec<ChangeKind>> {
    let wanted: Vec<ChangeKind> = ChangeKind::ALL.into_iter().filter(|k| kinds.contains(k)).collect();
    if wanted.is_empty() {
        return Err(Error::validation(field, "name at least one change kind"));
    }
    Ok(wanted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ProvinceId;
    use crate::report::Reporter;
    use crate::token::AccessRole;

    fn token(role: AccessRole) -> ApiToken {
        ApiToken {
            id: TokenId(1),
            name: "sync".into(),
            role,
            agency: None,
            province: (role == AccessRole::ProvinceReporter).then_some(ProvinceId(44)),
            created_at: DateTime::UNIX_EPOCH,
            expires_at: None,
            revoked_at: None,
            last_used_at: None,
        }
    }

    #[test]
    fn urls_must_be_https_unless_private_addresses_are_allowed() {
        let public = AddressRule::PublicOnly;
        assert_eq!(
            webhook_url("https://hooks.example.org/in", "url", public).expect("https").as_str(),
            "https://hooks.example.org/in"
        );
        let err = webhook_url("http://hooks.example.org/in", "url", public).expect_err("plain http");
        assert!(err.to_string().contains("https"), "{err}");
        assert!(webhook_url("http://127.0.0.1:9/in", "url", AddressRule::AllowPrivate).is_ok());
        for bad in [
            "",
            "hooks.example.org/in",
            "ftp://hooks.example.org/",
            "https://user:pw@hooks.example.org/",
            "https://@hooks.example.org/",
            "https://hooks.example.org/in#x",
            "https://hooks.example.org/ in",
            "file:///etc/passwd",
        ] {
            let err = webhook_url(bad, "input.url", public).expect_err(bad);
            assert!(matches!(err, Error::Validation { ref field, .. } if field == "input.url"), "{bad}: {err}");
        }
        let long = format!("https://example.org/{}", "a".repeat(MAX_URL_LEN));
        assert!(webhook_url(&long, "url", public).is_err());
    }

    #[test]
    fn only_admins_manage_webhooks() {
        for role in AccessRole::ALL {
            let principal = Principal::from(&token(role));
            assert_eq!(can_manage_webhooks(&principal).is_ok(), role == AccessRole::Admin, "{role:?}");
        }
    }

    #[test]
    fn kinds_are_needed_and_kept_in_order_once() {
        assert!(check_kinds(&[], "kinds").is_err());
        let kinds =
            check_kinds(&[ChangeKind::Reviewed, ChangeKind::Created, ChangeKind::Reviewed], "kinds").expect("kinds");
        assert_eq!(kinds, vec![ChangeKind::Created, ChangeKind::Reviewed]);
    }

    #[test]
    fn an_endpoint_sees_what_its_token_may_read_while_the_token_lives() {
        let now = DateTime::UNIX_EPOCH + chrono::Duration::days(1);
        assert_eq!(delivery_scope(&token(AccessRole::Admin), now), Some(ReportScope::All));
        assert_eq!(delivery_scope(&token(AccessRole::Reader), now), Some(ReportScope::NotDraft));
        assert_eq!(
            delivery_scope(&token(AccessRole::ProvinceReporter), now),
            Some(ReportScope::OwnOrAccepted(Reporter::Province(ProvinceId(44))))
        );
        let revoked = ApiToken { revoked_at: Some(now), ..token(AccessRole::Admin) };
        assert_eq!(delivery_scope(&revoked, now), None);
        let expired = ApiToken { expires_at: Some(now), ..token(AccessRole::Admin) };
        assert_eq!(delivery_scope(&expired, now), None, "expired at this very instant");
        let later = ApiToken { expires_at: Some(now + chrono::Duration::seconds(1)), ..token(AccessRole::Admin) };
        assert_eq!(delivery_scope(&later, now), Some(ReportScope::All));
    }

    #[test]
    fn an_endpoint_receives_only_its_kinds() {
        let endpoint = WebhookEndpoint {
            id: EndpointId(1),
            url: "https://example.org/".into(),
            kinds: vec![ChangeKind::Reviewed],
            token: TokenId(1),
            secret: "whsec_x".into(),
            created_at: DateTime::UNIX_EPOCH,
            disabled_at: None,
            cursor: FeedPosition::legacy(0),
        };
        assert!(endpoint.receives(ChangeKind::Reviewed));
        assert!(!endpoint.receives(ChangeKind::Created));
        assert!(endpoint.is_enabled());
    }
}
