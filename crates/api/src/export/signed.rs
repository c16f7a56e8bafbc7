//! Signed export links. A link clicked in a browser carries no bearer header, so GraphQL's
//! `exportUrl` hands out a relative URL that carries its own proof:
//!
//! `/export/reporting-matrix.xlsx?period=2016-Q4&expires=1484524800&token=supervisor-1&sig=…`
//!
//! `sig` is HMAC-SHA256, under the server's export key, over every parameter — the kind, the
//! format, the period, the dimension, the expiry, the token's name and its id — so changing
//! any of them invalidates the link. A link is valid for [`LINK_LIFETIME`] and acts with the
//! rights of the token that asked for it, checked again at download (a revoked or expired
//! token's links stop working), or as an anonymous caller when an anonymous caller asked.
//! Replicas behind one balancer must share the key (`WORKPLAN_EXPORT_KEY`).

use std::sync::{Arc, OnceLock};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;
use workplan_domain::access::{Principal, Viewer};
use workplan_domain::ids::TokenId;
use workplan_domain::ports::TokenStore;
use workplan_domain::{Error, Result};

use super::{ExportFormat, ExportKind};

/// How long a signed link works.
pub const LINK_LIFETIME: Duration = Duration::minutes(5);

/// The shortest export key accepted, in bytes.
pub const MIN_KEY_BYTES: usize = 32;

/// The secret export links are signed with. Its `Debug` never shows it.
#[derive(Clone)]
pub struct ExportKey(Arc<[u8]>);

impl std::fmt::Debug for ExportKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ExportKey(***)")
    }
}

impl ExportKey {
    /// A key of at least [`MIN_KEY_BYTES`] bytes, or `None` when it is shorter.
    pub fn new(bytes: &[u8]) -> Option<Self> {
        (bytes.len() >= MIN_KEY_BYTES).then(|| Self(bytes.into()))
    }

    /// The key of this process when none is configured: 32 random bytes, made once. Links it
    /// signs work on this process only, until it stops.
    pub fn per_process() -> Result<Self> {
        static KEY: OnceLock<Option<ExportKey>> = OnceLock::new();
        KEY.get_or_init(|| {
            let mut bytes = [0u8; MIN_KEY_BYTES];
            getrandom::fill(&mut bytes).ok().and_then(|()| Self::new(&bytes))
        })
        .clone()
        .ok_or_else(|| Error::internal(std::io::Error::other("no random source for the export key")))
    }

    fn mac(&self) -> Hmac<Sha256> {
        <Hmac<Sha256>>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"))
    }
}

/// The token a link acts for: its name (in the link) and its id (signed, not shown), so a
/// token made later under a freed name could not use an older token's links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Signer<'a> {
    pub(crate) name: &'a str,
    pub(crate) token: TokenId,
}

/// What a signed link grants: every parameter it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Link<'a> {
    pub(crate) kind: ExportKind,
    pub(crate) format: ExportFormat,
    /// The period as written in the link.
    pub(crate) period: &'a str,
    /// The dimension as written in the link.
    pub(crate) by: Option<&'a str>,
    /// Unix seconds after which the link stops working.
    pub(crate) expires: i64,
    /// `None` for a link an anonymous caller asked for.
    pub(crate) signer: Option<Signer<'a>>,
}

impl Link<'_> {
    /// The signed text: each field with its length, so no two links sign the same text.
    fn message(&self) -> String {
        let by = self.by.unwrap_or_default();
        let (name, token) = self.signer.map_or(("", 0), |s| (s.name, s.token.0));
        let token = token.to_string();
        let expires = self.expires.to_string();
        let fields = [self.kind.slug(), self.format.extension(), self.period, by, &expires, name, &token];
        let mut text = String::from("workplan-export-link-v1\n");
        for field in fields {
            text.push_str(&format!("{}:{field}\n", field.len()));
        }
        text
    }

    /// The link's signature.
    fn sign(&self, key: &ExportKey) -> String {
        let mut mac = key.mac();
        mac.update(self.message().as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// Whether `sig` is this link's signature (compared in constant time).
    fn verify(&self, key: &ExportKey, sig: &str) -> bool {
        let Ok(sig) = URL_SAFE_NO_PAD.decode(sig.as_bytes()) else { return false };
        let mut mac = key.mac();
        mac.update(self.message().as_bytes());
        mac.verify_slice(&sig).is_ok()
    }

    /// The relative URL of the link, signed with `key`.
    pub(crate) fn url(&self, key: &ExportKey) -> String {
        let mut url =
            format!("/export/{}.{}?period={}", self.kind.slug(), self.format.extension(), escape(self.period));
        if let Some(by) = self.by {
            url.push_str(&format!("&by={}", escape(by)));
        }
        url.push_str(&format!("&expires={}", self.expires));
        if let Some(signer) = self.signer {
            url.push_str(&format!("&token={}", escape(signer.name)));
        }
        url.push_str(&format!("&sig={}", self.sign(key)));
        url
    }
}

/// The expiry of a link made at `now`, in Unix seconds.
pub(crate) fn expiry(now: DateTime<Utc>) -> i64 {
    (now + LINK_LIFETIME).timestamp()
}

/// What a downloaded link says, as its query string gave it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Presented<'a> {
    pub(crate) kind: ExportKind,
    pub(crate) format: ExportFormat,
    pub(crate) period: &'a str,
    pub(crate) by: Option<&'a str>,
    pub(crate) expires: Option<&'a str>,
    pub(crate) token: Option<&'a str>,
    pub(crate) sig: &'a str,
}

/// Who a presented link acts as, at `now`: the token that asked for it (still valid), or an
/// anonymous caller. UNAUTHENTICATED when the link is malformed, altered or expired, or its
/// token was revoked or has expired.
pub(crate) async fn signer_of(
    tokens: &dyn TokenStore,
    key: &ExportKey,
    link: Presented<'_>,
    now: DateTime<Utc>,
) -> Result<Viewer> {
    let invalid = || Error::Unauthenticated("the export link is malformed or was altered: ask for a new one".into());
    let expires: i64 = link.expires.and_then(|e| e.parse().ok()).ok_or_else(invalid)?;
    let token = match link.token {
        Some(name) => Some(tokens.token_by_name(name).await?.ok_or_else(invalid)?),
        None => None,
    };
    let signed = Link {
        kind: link.kind,
        format: link.format,
        period: link.period,
        by: link.by,
        expires,
        signer: token.as_ref().map(|t| Signer { name: &t.name, token: t.id }),
    };
    if !signed.verify(key, link.sig) {
        return Err(invalid());
    }
    if expires <= now.timestamp() {
        return Err(Error::Unauthenticated("the export link has expired: ask for a new one".into()));
    }
    match token {
        None => Ok(Viewer::Anonymous),
        Some(t) if t.revoked_at.is_some() || t.expires_at.is_some_and(|at| at <= now) => {
            Err(Error::Unauthenticated("the token that asked for this export link was revoked or has expired".into()))
        }
        Some(t) => Ok(Viewer::Token(Principal::from(&t))),
    }
}

/// `text` escaped for a query string: everything but unreserved characters percent-encoded.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> ExportKey {
        ExportKey::new(&[byte; 32]).expect("long enough")
    }

    fn link(signer: Option<Signer<'_>>) -> Link<'_> {
        Link {
            kind: ExportKind::Rollup,
            format: ExportFormat::Csv,
            period: "2016-Q4",
            by: Some("section"),
            expires: 1_484_524_800,
            signer,
        }
    }

    #[test]
    fn keys_are_long_and_never_printed() {
        assert!(ExportKey::new(&[1; 31]).is_none());
        assert_eq!(format!("{:?}", key(7)), "ExportKey(***)");
        assert!(ExportKey::per_process().is_ok());
    }

    #[test]
    fn every_parameter_is_signed() {
        let signer = Signer { name: "sup", token: TokenId(3) };
        let base = link(Some(signer));
        let sig = base.sign(&key(1));
        assert!(base.verify(&key(1), &sig));
        assert!(!base.verify(&key(2), &sig), "another key");
        let altered = [
            Link { kind: ExportKind::ReportingMatrix, by: None, ..base },
            Link { format: ExportFormat::Xlsx, ..base },
            Link { period: "2016-Q3", ..base },
            Link { by: Some("agency"), ..base },
            Link { by: None, ..base },
            Link { expires: base.expires + 1, ..base },
            Link { signer: Some(Signer { name: "sup2", ..signer }), ..base },
            Link { signer: Some(Signer { token: TokenId(4), ..signer }), ..base },
            Link { signer: None, ..base },
        ];
        for a in altered {
            assert!(!a.verify(&key(1), &sig), "{a:?}");
        }
        assert!(!base.verify(&key(1), "not base64!"));
        assert!(!base.verify(&key(1), ""));
    }

    #[test]
    fn urls_are_relative_and_escaped() {
        let url = link(Some(Signer { name: "a b&c", token: TokenId(1) })).url(&key(1));
        assert!(
            url.starts_with("/export/rollup.csv?period=2016-Q4&by=section&expires=1484524800&token=a%20b%26c&sig="),
            "{url}"
        );
        assert!(!link(None).url(&key(1)).contains("token="));
    }
}
