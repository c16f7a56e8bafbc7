//! Idempotency keys: a retried write with the same key and the same request replays the first
//! result; the same key with a different request is a CONFLICT. "The same request" is decided
//! by a fingerprint, spelt out field by field so that renaming a Rust field or variant never
//! changes it. Keys stored before that format carry the old fingerprint (the request's `Debug`
//! text); `legacy` rebuilds that text explicitly so those keys keep replaying.

use serde_json::Value;

use crate::access::Principal;
use crate::ids::ReportId;
use crate::ports::Idempotency;
use crate::report::sync::check_client_id;
use crate::report::{Edit, ReportKind, ReportPatch, ReportStatus, ReporterRef, SubmitReport};
use crate::token::hash_secret;
use crate::{Error, Result};

/// Longest idempotency key.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;

/// The request a key covers.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Request<'a> {
    /// A new report, for the named reporter (if any), maybe as a draft.
    Submit { input: &'a SubmitReport, requested: Option<&'a ReporterRef>, as_draft: bool },
    /// An edit of report `id` at `expected_version`.
    Edit { id: ReportId, expected_version: i32, edit: &'a Edit },
}

/// Checks the key and fingerprints the request for `principal` (a key is per token).
pub(crate) fn idempotency(
    key: Option<String>,
    principal: &Principal,
    request: Request<'_>,
) -> Result<Option<Idempotency>> {
    let Some(key) = key else { return Ok(None) };
    check_client_id(&key, "idempotencyKey")?;
    if key.chars().count() > MAX_IDEMPOTENCY_KEY {
        return Err(Error::validation("idempotencyKey", format!("at most {MAX_IDEMPOTENCY_KEY} characters")));
    }
    let token = principal.token.0.to_string();
    let (verb, old) = match request {
        Request::Submit { input, requested, as_draft } => ("submit", legacy::submit(input, requested, as_draft)),
        Request::Edit { id, expected_version, edit } => ("edit", legacy::edit(id, expected_version, edit)),
    };
    let fingerprint = digest(&[&token, &print(request)]);
    // Keys stored in the legacy format were all for PART reports that said no health or
    // obstacles: a request with any of those cannot be one of them.
    let legacy_fingerprint =
        if newer_than_legacy(request) { fingerprint.clone() } else { digest(&[&token, verb, &old]) };
    Ok(Some(Idempotency { key, fingerprint, legacy_fingerprint }))
}

/// Whether the request says something the legacy format could not: a kind other than PART, a
/// health or an obstacles text.
fn newer_than_legacy(request: Request<'_>) -> bool {
    match request {
        Request::Submit { input, .. } => {
            input.kind != ReportKind::Part || input.content.health.is_some() || input.content.obstacles.is_some()
        }
        Request::Edit { edit: Edit::Patch(p), .. } => p.health.is_some() || p.obstacles.is_some(),
        Request::Edit { .. } => false,
    }
}

fn digest(parts: &[&str]) -> String {
    hash_secret(&parts.join("\u{1f}"))
}

/// The request, field by field: `v2|<verb>|name=value|...`. Strings and lists are JSON; absent
/// values are `-`. Append new fields at the end (the version says how to read old ones).
pub(crate) fn print(request: Request<'_>) -> String {
    match request {
        Request::Submit { input, requested, as_draft } => {
            let c = &input.content;
            format!(
                "v2|submit|task={}|period={}|status={}|percent={}|summary={}|evidence={}|reporter={}|draft={as_draft}",
                input.task_number,
                text(&c.period),
                c.status.as_str(),
                opt(c.percent_complete),
                text(&c.summary),
                list(&c.evidence_urls),
                requested.map_or_else(|| "-".to_owned(), reporter),
            ) + &kind(input.kind)
                + &said("health", c.health.map(|h| h.as_str().to_owned()))
                + &said("obstacles", c.obstacles.as_deref().map(text))
        }
        Request::Edit { id, expected_version, edit } => {
            let what = match edit {
                Edit::Withdraw => "withdraw".to_owned(),
                Edit::Review { accept, comment } => {
                    format!("review|accept={accept}|comment={}", comment.as_deref().map_or_else(|| "-".into(), text))
                }
                Edit::Reopen { reason } => format!("reopen|reason={}", text(reason)),
                Edit::Patch(p) => patch(p),
            };
            format!("v2|edit|report={}|version={expected_version}|{what}", id.0)
        }
    }
}

/// A patch, field by field; health and obstacles only when it touches them.
fn patch(p: &ReportPatch) -> String {
    let set_or_clear = |v: Option<String>| v.unwrap_or_else(|| "clear".to_owned());
    format!(
        "patch|period={}|status={}|percent={}|summary={}|evidence={}|submit={}",
        p.period.as_deref().map_or_else(|| "-".into(), text),
        p.status.map_or("-", ReportStatus::as_str),
        match p.percent_complete {
            None => "keep".to_owned(),
            Some(None) => "clear".to_owned(),
            Some(Some(n)) => n.to_string(),
        },
        p.summary.as_deref().map_or_else(|| "-".into(), text),
        p.evidence_urls.as_deref().map_or_else(|| "-".into(), list),
        p.submit,
    ) + &said("health", p.health.map(|h| set_or_clear(h.map(|h| h.as_str().to_owned()))))
        + &said("obstacles", p.obstacles.as_ref().map(|o| set_or_clear(o.as_deref().map(text))))
}

/// `|kind=...` for anything but a PART report (so keys stored before kinds keep matching).
fn kind(kind: ReportKind) -> String {
    match kind {
        ReportKind::Part => String::new(),
        ReportKind::Consolidated => format!("|kind={}", ReportKind::Consolidated.as_str()),
    }
}

/// `|name=value` when the request says it, nothing otherwise (so requests that do not, as all
/// did before the field existed, keep their fingerprints).
fn said(name: &str, value: Option<String>) -> String {
    value.map_or_else(String::new, |v| format!("|{name}={v}"))
}

fn text(s: &str) -> String {
    Value::String(s.to_owned()).to_string()
}

fn list(items: &[String]) -> String {
    Value::from(items.to_vec()).to_string()
}

fn opt(n: Option<i32>) -> String {
    n.map_or_else(|| "-".to_owned(), |n| n.to_string())
}

fn reporter(r: &ReporterRef) -> String {
    match r {
        ReporterRef::Agency(id) => format!("agency:{}", id.0),
        ReporterRef::Province(code) => format!("province:{}", text(code)),
    }
}

pub(crate) mod legacy;

#[cfg(test)]
mod tests {
    //! Fingerprints of stored idempotency keys, captured from the `Debug`-based formatter that
    //! built them (before the v2 format). Keys stored with these must keep replaying.

    use super::*;
    use crate::ids::{AgencyId, ProvinceId, TokenId};
    use crate::report::{Health, ReportContent};
    use crate::token::AccessRole;

    fn principal() -> Principal {
        Principal {
            token: TokenId(7),
            name: "t".into(),
            role: AccessRole::Admin,
            agency: None,
            province: Some(ProvinceId(1)),
        }
    }

    fn key(request: Request<'_>) -> Idempotency {
        idempotency(Some("k".into()), &principal(), request).expect("valid key").expect("a key was given")
    }

    fn input() -> SubmitReport {
        SubmitReport {
            task_number: 12,
            kind: crate::report::ReportKind::Part,
            content: ReportContent {
                period: "2016-Q3".into(),
                status: ReportStatus::InProgress,
                percent_complete: Some(40),
                summary: "Held a \"kick-off\" meeting.\nNext: drafts.".into(),
                evidence_urls: vec!["https://example.org/a.pdf".into(), "http://b.example/x?y=1".into()],
                health: None,
                obstacles: None,
            },
        }
    }

    fn edits() -> [(ReportId, i32, Edit); 5] {
        [
            (ReportId(5), 3, Edit::Withdraw),
            (ReportId(5), 1, Edit::Review { accept: true, comment: None }),
            (ReportId(9), 2, Edit::Review { accept: false, comment: Some("Needs \"data\"".into()) }),
            (
                ReportId(5),
                4,
                Edit::Patch(ReportPatch {
                    period: Some("2016-H2".into()),
                    status: Some(ReportStatus::Completed),
                    percent_complete: Some(Some(100)),
                    summary: None,
                    evidence_urls: Some(vec!["https://e.org/1".into()]),
                    health: None,
                    obstacles: None,
                    submit: true,
                }),
            ),
            (ReportId(5), 4, Edit::Patch(ReportPatch { percent_complete: Some(None), ..ReportPatch::default() })),
        ]
    }

    #[test]
    fn the_legacy_format_reproduces_stored_fingerprints() {
        let agency = ReporterRef::Agency(AgencyId(3));
        let province = ReporterRef::Province("110000".into());
        let bare = SubmitReport {
            content: ReportContent {
                status: ReportStatus::NotStarted,
                percent_complete: None,
                summary: "Nothing yet".into(),
                evidence_urls: vec![],
                ..input().content
            },
            ..input()
        };
        let input = input();
        let mut got = vec![
            key(Request::Submit { input: &input, requested: Some(&agency), as_draft: false }),
            key(Request::Submit { input: &input, requested: None, as_draft: true }),
            key(Request::Submit { input: &input, requested: Some(&province), as_draft: false }),
            key(Request::Submit { input: &bare, requested: None, as_draft: false }),
        ];
        let edits = edits();
        got.extend(edits.iter().map(|(id, v, edit)| key(Request::Edit { id: *id, expected_version: *v, edit })));
        let legacy: Vec<&str> = got.iter().map(|k| k.legacy_fingerprint.as_str()).collect();
        assert_eq!(legacy, GOLDEN);
        for k in &got {
            assert!(k.matches(&k.legacy_fingerprint) && k.matches(&k.fingerprint));
            assert_ne!(k.fingerprint, k.legacy_fingerprint);
        }
    }

    #[test]
    fn the_legacy_text_is_the_old_debug_text() {
        let input = input();
        assert_eq!(
            legacy::submit(&input, None, true),
            r#"SubmitReport { task_number: 12, reporter: Province(""), period: "2016-Q3", status: InProgress, percent_complete: Some(40), summary: "Held a \"kick-off\" meeting.\nNext: drafts.", evidence_urls: ["https://example.org/a.pdf", "http://b.example/x?y=1"] }|None|true"#
        );
        let [.., (id, v, patch)] = edits();
        assert_eq!(
            legacy::edit(id, v, &patch),
            "ReportId(5)|4|Patch(ReportPatch { period: None, status: None, percent_complete: Some(None), summary: None, evidence_urls: None, submit: false })"
        );
    }

    #[test]
    fn v2_prints_every_field_by_name() {
        let input = input();
        let agency = ReporterRef::Agency(AgencyId(3));
        assert_eq!(
            print(Request::Submit { input: &input, requested: Some(&agency), as_draft: false }),
            r#"v2|submit|task=12|period="2016-Q3"|status=IN_PROGRESS|percent=40|summary="Held a \"kick-off\" meeting.\nNext: drafts."|evidence=["https://example.org/a.pdf","http://b.example/x?y=1"]|reporter=agency:3|draft=false"#
        );
        let printed: Vec<String> =
            edits().iter().map(|(id, v, edit)| print(Request::Edit { id: *id, expected_version: *v, edit })).collect();
        assert_eq!(
            printed,
            [
                "v2|edit|report=5|version=3|withdraw",
                "v2|edit|report=5|version=1|review|accept=true|comment=-",
                r#"v2|edit|report=9|version=2|review|accept=false|comment="Needs \"data\"""#,
                r#"v2|edit|report=5|version=4|patch|period="2016-H2"|status=COMPLETED|percent=100|summary=-|evidence=["https://e.org/1"]|submit=true"#,
                "v2|edit|report=5|version=4|patch|period=-|status=-|percent=clear|summary=-|evidence=-|submit=false",
            ]
        );
    }

    #[test]
    fn different_requests_differ() {
        let a = input();
        let b = SubmitReport { task_number: 13, ..input() };
        let fa = key(Request::Submit { input: &a, requested: None, as_draft: false });
        let fb = key(Request::Submit { input: &b, requested: None, as_draft: false });
        let fc = key(Request::Submit { input: &a, requested: None, as_draft: true });
        assert!(!fa.matches(&fb.fingerprint) && !fa.matches(&fb.legacy_fingerprint));
        assert!(!fa.matches(&fc.fingerprint));
    }

    #[test]
    fn health_and_obstacles_change_the_fingerprint_only_when_said() {
        let plain = input();
        let with = |health, obstacles: Option<&str>| SubmitReport {
            content: ReportContent { health, obstacles: obstacles.map(str::to_owned), ..input().content },
            ..input()
        };
        let (at_risk, off_track, blocked) =
            (with(Some(Health::AtRisk), None), with(Some(Health::OffTrack), None), with(None, Some("Blocked.")));
        let submit = |input| key(Request::Submit { input, requested: None, as_draft: false });
        let base = submit(&plain);
        assert!(
            print(Request::Submit { input: &at_risk, requested: None, as_draft: false }).ends_with("|health=AT_RISK")
        );
        assert!(
            print(Request::Submit { input: &blocked, requested: None, as_draft: false })
                .ends_with(r#"|obstacles="Blocked.""#)
        );
        let said = [submit(&at_risk), submit(&off_track), submit(&blocked)];
        for k in &said {
            assert!(!base.matches(&k.fingerprint) && !k.matches(&base.fingerprint), "differs from the plain request");
            assert!(!k.matches(&base.legacy_fingerprint), "no legacy key was stored with health or obstacles");
            assert_eq!(k.legacy_fingerprint, k.fingerprint);
        }
        assert_ne!(said[0].fingerprint, said[1].fingerprint);

        let edit =
            |health, obstacles| Edit::Patch(ReportPatch { health, obstacles, submit: true, ..ReportPatch::default() });
        let patches = [
            edit(None, None),
            edit(Some(Some(Health::OnTrack)), None),
            edit(Some(None), None),
            edit(None, Some(Some("Late.".into()))),
            edit(None, Some(None)),
        ];
        let printed: Vec<String> =
            patches.iter().map(|e| print(Request::Edit { id: ReportId(5), expected_version: 2, edit: e })).collect();
        let tails: Vec<&str> = printed.iter().map(|p| p.split("|submit=true").nth(1).unwrap_or("?")).collect();
        assert_eq!(tails, ["", "|health=ON_TRACK", "|health=clear", r#"|obstacles="Late.""#, "|obstacles=clear"]);
        let keys: Vec<Idempotency> =
            patches.iter().map(|e| key(Request::Edit { id: ReportId(5), expected_version: 2, edit: e })).collect();
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert!(!a.matches(&b.fingerprint) && !a.matches(&b.legacy_fingerprint));
            }
        }
    }

    #[test]
    fn keys_are_checked() {
        let input = input();
        let request = Request::Submit { input: &input, requested: None, as_draft: false };
        assert!(idempotency(None, &principal(), request).expect("no key").is_none());
        assert!(idempotency(Some(" ".into()), &principal(), request).is_err());
        assert!(idempotency(Some("x".repeat(256)), &principal(), request).is_err());
    }

    const GOLDEN: [&str; 9] = [
        "2a58025c3f6fa8f88c8c092122c546e7fb85893fc9add17e250285d99d5f2128",
        "0bf5529bcc0ade6f261995b244ce250bf4f46372980ae18470421caa3cc84e6f",
        "b4b92adadd123ccdf7210ec8f1499bd9fb62c4e83fd1ddc305f65b080c03bdb6",
        "9f8ea367992705d9ae9ce7f373de214d5ebbe481e825c7d32e7602a40790f22f",
        "cb908aabf70ea0f743681dba1c2111d9e0d4183fbceba53ece32da63efbcc13c",
        "17b9664cb51b80476a312731d5746424f860c4e2be268d7d880edf5dc3257e2e",
        "3148e1e4a30da6afcd64973444db49f08d84294d51808c367bb0b34d5d63f870",
        "19e7f192319d0274ecb969612079666891532a98c208bdd001a1538136166799",
        "233a0ffb1e3e23b261d60fe667bfbc78877580c9b2e0979d54cfddf55ac05fda",
    ];
}
