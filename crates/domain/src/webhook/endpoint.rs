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

/// How long a rotated-out secret keeps signing by default, in hours.
pub const DEFAULT_SECRET_OVERLAP_HOURS: i32 = 24;

/// The longest a rotated-out secret may keep signing, in hours (a week).
pub const MAX_SECRET_OVERLAP_HOURS: i32 = 168;

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
    /// The secret the last rotation replaced, while it still signs.
    pub previous_secret: Option<RetiringSecret>,
}

/// A signing secret on its way out: deliveries carry a signature under it too until `until`,
/// so the receiver can move to the new secret at its own pace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetiringSecret {
    /// The secret (`whsec_…`).
    pub secret: String,
    /// When it stops signing.
    pub until: DateTime<Utc>,
}

/// Where a re-enabled endpoint picks up the change feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resume {
    /// With the changes made from now on; those made while it was disabled are not sent (the
    /// receiver can read them with `changes(after:)` from the last cursor it got).
    FromNow,
    /// Where it stopped: every change made while it was disabled is sent, in feed order.
    WhereItStopped,
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

    /// The secrets a delivery sent at `now` is signed with: the current one, and the one a
    /// rotation replaced while it still signs.
    pub fn signing_secrets(&self, now: DateTime<Utc>) -> Vec<&str> {
        let retiring = self.previous_secret.as_ref().filter(|p| p.until > now).map(|p| p.secret.as_str());
        std::iter::once(self.secret.as_str()).chain(retiring).collect()
    }
}

/// How long the secret a rotation replaces keeps signing (input `field`, in hours):
/// [`DEFAULT_SECRET_OVERLAP_HOURS`] when not given, 0 (at once) to
/// [`MAX_SECRET_OVERLAP_HOURS`].
///
/// # Errors
/// BAD_USER_INPUT outside that range.
pub fn secret_overlap(hours: Option<i32>, field: &str) -> Result<chrono::Duration> {
    let hours = hours.unwrap_or(DEFAULT_SECRET_OVERLAP_HOURS);
    if !(0..=MAX_SECRET_OVERLAP_HOURS).contains(&hours) {
        return Err(Error::validation(
            field,
            format!("must be between 0 and {MAX_SECRET_OVERLAP_HOURS} hours, got {hours}"),
        ));
    }
    Ok(chrono::Duration::hours(i64::from(hours)))
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
            previous_secret: None,
        };
        assert!(endpoint.receives(ChangeKind::Reviewed));
        assert!(!endpoint.receives(ChangeKind::Created));
        assert!(endpoint.is_enabled());
    }

    #[test]
    fn a_rotated_out_secret_signs_beside_the_new_one_until_its_time_is_up() {
        let now = DateTime::UNIX_EPOCH + chrono::Duration::days(1);
        let until = now + chrono::Duration::hours(2);
        let endpoint = WebhookEndpoint {
            id: EndpointId(1),
            url: "https://example.org/".into(),
            kinds: vec![ChangeKind::Reviewed],
            token: TokenId(1),
            secret: "whsec_new".into(),
            created_at: DateTime::UNIX_EPOCH,
            disabled_at: None,
            cursor: FeedPosition::legacy(0),
            previous_secret: Some(RetiringSecret { secret: "whsec_old".into(), until }),
        };
        assert_eq!(endpoint.signing_secrets(now), ["whsec_new", "whsec_old"]);
        assert_eq!(endpoint.signing_secrets(until), ["whsec_new"], "not at its very end");
        let settled = WebhookEndpoint { previous_secret: None, ..endpoint };
        assert_eq!(settled.signing_secrets(now), ["whsec_new"]);
    }

    #[test]
    fn a_rotation_keeps_the_old_secret_a_day_unless_told_otherwise_and_a_week_at_most() {
        assert_eq!(secret_overlap(None, "h").expect("default"), chrono::Duration::hours(24));
        assert_eq!(secret_overlap(Some(0), "h").expect("at once"), chrono::Duration::zero());
        assert_eq!(secret_overlap(Some(168), "h").expect("a week"), chrono::Duration::hours(168));
        for bad in [-1, 169, i32::MAX, i32::MIN] {
            let err = secret_overlap(Some(bad), "input.keepPreviousHours").expect_err("out of range");
            assert!(matches!(err, Error::Validation { ref field, .. } if field == "input.keepPreviousHours"), "{err}");
        }
    }
}
