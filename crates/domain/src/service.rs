//! Domain operations that combine rules with lookups. The API calls these; they decide every
//! write, and the store carries them out in one transaction each.

use chrono::Utc;

use crate::auth::{
    ActingReporter, Principal, Viewer, acting_reporter, check_responsible, check_token_binding, hash_secret,
};
use crate::model::{AccessRole, AgencyId, ApiToken, ProgressReport, ReportState, Reporter, Task};
use crate::ports::{Idempotency, NewToken, Store, SyncItemResult};
use crate::report::{Edit, NewReport, ReporterRef, SubmitReport, fingerprint};
use crate::sync::{MAX_BATCH, SyncOutcome, ValidSyncItem, check_client_id};
use crate::{Error, Result};

/// Longest idempotency key.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;

fn idempotency(key: Option<String>, principal: &Principal, parts: &[&str]) -> Result<Option<Idempotency>> {
    let Some(key) = key else { return Ok(None) };
    check_client_id(&key, "idempotencyKey")?;
    if key.chars().count() > MAX_IDEMPOTENCY_KEY {
        return Err(Error::validation("idempotencyKey", format!("at most {MAX_IDEMPOTENCY_KEY} characters")));
    }
    let mut all = vec![principal.token.0.to_string()];
    all.extend(parts.iter().map(|p| (*p).to_owned()));
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    Ok(Some(Idempotency { key, fingerprint: fingerprint(&refs) }))
}

async fn task_by_number(store: &dyn Store, number: i32, field: &str) -> Result<Task> {
    store
        .tasks_by_numbers(&[number])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| Error::not_found(format!("task {number}"), Some(field)))
}

async fn task_agencies(store: &dyn Store, task: &Task) -> Result<Vec<AgencyId>> {
    Ok(store.responsibilities_by_tasks(&[task.id]).await?.iter().map(|r| r.agency_id).collect())
}

/// Resolves who a write acts as: the token's own reporter (checking that what the input named,
/// if anything, is that reporter), or for an admin the reporter it named.
async fn reporter_for(store: &dyn Store, principal: &Principal, requested: Option<&ReporterRef>) -> Result<Reporter> {
    Ok(match acting_reporter(principal, requested)? {
        ActingReporter::Own(own, named) => {
            if let (Some(ReporterRef::Province(code)), Reporter::Province(id)) = (named.as_ref(), own) {
                let named_id = store.provinces_by_codes(std::slice::from_ref(code)).await?.first().map(|p| p.id);
                if named_id != Some(id) {
                    return Err(Error::Forbidden(format!("{} may only report for its own province", principal.name)));
                }
            }
            own
        }
        ActingReporter::OnBehalf(ReporterRef::Agency(id)) => {
            let agency = store.agencies_by_ids(&[id]).await?.into_iter().next();
            Reporter::Agency(agency.ok_or_else(|| Error::not_found("agency", Some("reporter.agencyId")))?.id)
        }
        ActingReporter::OnBehalf(ReporterRef::Province(code)) => {
            let province = store.provinces_by_codes(std::slice::from_ref(&code)).await?.into_iter().next();
            Reporter::Province(
                province
                    .ok_or_else(|| Error::not_found(format!("province {code:?}"), Some("reporter.provinceCode")))?
                    .id,
            )
        }
    })
}

/// [`reporter_for`], and for an agency, a check that it is responsible for `task`.
async fn resolve_reporter(
    store: &dyn Store,
    principal: &Principal,
    requested: Option<&ReporterRef>,
    task: &Task,
) -> Result<Reporter> {
    let reporter = reporter_for(store, principal, requested).await?;
    if let Reporter::Agency(agency) = reporter {
        check_responsible(Some(principal.role), agency, &task_agencies(store, task).await?, task.number)?;
    }
    Ok(reporter)
}

/// Records a progress report (a draft when `as_draft`). Nothing is written unless every rule holds.
pub async fn submit_report(
    store: &dyn Store,
    viewer: &Viewer,
    input: SubmitReport,
    requested: Option<ReporterRef>,
    as_draft: bool,
    idempotency_key: Option<String>,
) -> Result<ProgressReport> {
    let principal = viewer.principal()?;
    let fields = input.validate_fields()?;
    let task = task_by_number(store, input.task_number, "taskNumber").await?;
    let reporter = resolve_reporter(store, principal, requested.as_ref(), &task).await?;
    let print = format!("{input:?}|{requested:?}|{as_draft}");
    let idem = idempotency(idempotency_key, principal, &["submit", &print])?;
    let state = if as_draft { ReportState::Draft } else { ReportState::Submitted };
    let report = NewReport {
        task_id: task.id,
        reporter,
        fields,
        state,
        client_report_id: None,
        submitted_at: Utc::now(),
        is_demo: false,
    };
    store.create_report(principal, report, idem).await
}

/// Edits, withdraws or reviews a report at `expected_version`.
pub async fn edit_report(
    store: &dyn Store,
    viewer: &Viewer,
    id: crate::model::ReportId,
    expected_version: i32,
    edit: Edit,
    idempotency_key: Option<String>,
) -> Result<ProgressReport> {
    let principal = viewer.principal()?;
    let print = format!("{id:?}|{expected_version}|{edit:?}");
    let idem = idempotency(idempotency_key, principal, &["edit", &print])?;
    store.edit_report(principal, id, expected_version, edit, idem).await
}

/// One item of a batch, as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncItemInput {
    pub client_report_id: String,
    pub report: SubmitReport,
}

/// Applies a batch for the token's reporter (an admin names one). Invalid items are rejected
/// one by one; the valid ones apply together in one transaction.
pub async fn sync_reports(
    store: &dyn Store,
    viewer: &Viewer,
    items: Vec<SyncItemInput>,
    requested: Option<ReporterRef>,
    dry_run: bool,
) -> Result<Vec<SyncItemResult>> {
    let principal = viewer.principal()?;
    if items.len() > MAX_BATCH {
        return Err(Error::validation("reports", format!("at most {MAX_BATCH} items per batch, got {}", items.len())));
    }
    if principal.role == AccessRole::Admin && requested.is_none() {
        return Err(Error::validation("reporter", "an admin must name the reporter it syncs for"));
    }
    // The tasks and their agencies, read once for the whole batch.
    let mut numbers: Vec<i32> = items.iter().map(|i| i.report.task_number).collect();
    numbers.sort_unstable();
    numbers.dedup();
    let tasks = store.tasks_by_numbers(&numbers).await?;
    let responsibilities = store.responsibilities_by_tasks(&tasks.iter().map(|t| t.id).collect::<Vec<_>>()).await?;
    let reporter = reporter_for(store, principal, requested.as_ref()).await?;

    let mut results: Vec<SyncItemResult> = Vec::new();
    let mut valid: Vec<ValidSyncItem> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (index, item) in items.into_iter().enumerate() {
        let checked = (|| -> Result<ValidSyncItem> {
            check_client_id(&item.client_report_id, "clientReportId")?;
            if !seen.insert(item.client_report_id.clone()) {
                return Err(Error::validation("clientReportId", "appears twice in this batch"));
            }
            let fields = item.report.validate_fields()?;
            let task = tasks
                .iter()
                .find(|t| t.number == item.report.task_number)
                .ok_or_else(|| Error::not_found(format!("task {}", item.report.task_number), Some("taskNumber")))?;
            if let Reporter::Agency(agency) = reporter {
                let agencies: Vec<AgencyId> =
                    responsibilities.iter().filter(|r| r.task_id == task.id).map(|r| r.agency_id).collect();
                check_responsible(Some(principal.role), agency, &agencies, task.number)?;
            }
            Ok(ValidSyncItem { index, client_report_id: item.client_report_id.clone(), task_id: task.id, fields })
        })();
        match checked {
            Ok(v) => valid.push(v),
            Err(e) => {
                let (code, message) = item_error(&e);
                results.push(SyncItemResult {
                    index,
                    client_report_id: item.client_report_id,
                    outcome: SyncOutcome::Rejected,
                    report: None,
                    error: Some((code, message)),
                });
            }
        }
    }
    results.extend(store.sync_reports(principal, reporter, valid, dry_run).await?);
    results.sort_by_key(|r| r.index);
    Ok(results)
}

/// The code and message of an item's error (field named in the message).
fn item_error(e: &Error) -> (String, String) {
    match e {
        Error::Validation { .. } => ("BAD_USER_INPUT".into(), e.to_string()),
        Error::NotFound { field, .. } => {
            ("NOT_FOUND".into(), format!("{}{e}", field.as_deref().map(|f| format!("{f}: ")).unwrap_or_default()))
        }
        Error::Forbidden(m) => ("FORBIDDEN".into(), m.clone()),
        Error::Conflict(m) => ("CONFLICT".into(), m.clone()),
        other => ("INTERNAL".into(), other.to_string()),
    }
}

/// A token and its secret, shown once.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: ApiToken,
    pub secret: String,
}

/// Creates a token. `secret` is fresh randomness from the caller (the domain has no IO).
pub async fn create_token(
    store: &dyn Store,
    name: &str,
    role: AccessRole,
    agency: Option<AgencyId>,
    province_code: Option<&str>,
    expires_at: Option<chrono::DateTime<Utc>>,
    secret: String,
) -> Result<IssuedToken> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(Error::validation("name", "1–100 printable characters"));
    }
    if expires_at.is_some_and(|at| at <= Utc::now()) {
        return Err(Error::validation("expiresAt", "must be in the future"));
    }
    if let Some(id) = agency
        && store.agencies_by_ids(&[id]).await?.is_empty()
    {
        return Err(Error::not_found("agency", Some("agency")));
    }
    let province = match province_code {
        Some(code) => Some(
            store
                .provinces_by_codes(&[code.to_owned()])
                .await?
                .first()
                .map(|p| p.id)
                .ok_or_else(|| Error::not_found(format!("province {code:?}"), Some("province")))?,
        ),
        None => None,
    };
    check_token_binding(role, agency, province)?;
    if store.token_by_name(name).await?.is_some() {
        return Err(Error::Conflict(format!("a token named {name:?} exists")));
    }
    let token = store
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

/// The viewer a bearer secret identifies: UNAUTHENTICATED if unknown, revoked or expired.
pub async fn authenticate(store: &dyn Store, secret: &str) -> Result<Principal> {
    let bad = || Error::Unauthenticated("the API token is unknown, revoked or expired".into());
    if !secret.starts_with(crate::auth::SECRET_PREFIX) || secret.len() > 200 {
        return Err(bad());
    }
    let token = store.token_by_secret_hash(&hash_secret(secret)).await?.ok_or_else(bad)?;
    let now = Utc::now();
    if token.revoked_at.is_some() || token.expires_at.is_some_and(|at| at <= now) {
        return Err(bad());
    }
    // Record use at most once a minute per token, so reads do not turn into writes.
    if token.last_used_at.is_none_or(|at| now - at > chrono::Duration::seconds(60)) {
        store.touch_token(token.id, now).await?;
    }
    Ok(Principal::from(&token))
}

#[cfg(test)]
mod golden_fingerprints {
    //! Fingerprints of stored idempotency keys, captured from the `Debug`-based formatter that
    //! built them. Keys stored with these must keep replaying whatever the Rust types become.

    use super::*;
    use crate::model::{ProvinceId, ReportId, ReportStatus, TokenId};
    use crate::report::ReportPatch;

    fn principal() -> Principal {
        Principal {
            token: TokenId(7),
            name: "t".into(),
            role: AccessRole::Admin,
            agency: None,
            province: Some(ProvinceId(1)),
        }
    }

    fn submit_print(input: &SubmitReport, requested: Option<&ReporterRef>, as_draft: bool) -> String {
        let requested = requested.cloned();
        let print = format!("{input:?}|{requested:?}|{as_draft}");
        idempotency(Some("k".into()), &principal(), &["submit", &print]).expect("key").expect("some").fingerprint
    }

    fn edit_print(id: ReportId, expected_version: i32, edit: &Edit) -> String {
        let print = format!("{id:?}|{expected_version}|{edit:?}");
        idempotency(Some("k".into()), &principal(), &["edit", &print]).expect("key").expect("some").fingerprint
    }

    fn input(reporter: ReporterRef) -> SubmitReport {
        SubmitReport {
            task_number: 12,
            reporter,
            period: "2016-Q3".into(),
            status: ReportStatus::InProgress,
            percent_complete: Some(40),
            summary: "Held a \"kick-off\" meeting.\nNext: drafts.".into(),
            evidence_urls: vec!["https://example.org/a.pdf".into(), "http://b.example/x?y=1".into()],
        }
    }

    #[test]
    fn golden() {
        let agency = ReporterRef::Agency(AgencyId(3));
        let province = ReporterRef::Province("110000".into());
        let placeholder = ReporterRef::Province(String::new());
        let got = [
            submit_print(&input(agency.clone()), Some(&agency), false),
            submit_print(&input(placeholder.clone()), None, true),
            submit_print(&input(province.clone()), Some(&province), false),
            submit_print(
                &SubmitReport {
                    status: ReportStatus::NotStarted,
                    percent_complete: None,
                    summary: "Nothing yet".into(),
                    evidence_urls: vec![],
                    ..input(placeholder.clone())
                },
                None,
                false,
            ),
            edit_print(ReportId(5), 3, &Edit::Withdraw),
            edit_print(ReportId(5), 1, &Edit::Review { accept: true, comment: None }),
            edit_print(ReportId(9), 2, &Edit::Review { accept: false, comment: Some("Needs \"data\"".into()) }),
            edit_print(
                ReportId(5),
                4,
                &Edit::Patch(ReportPatch {
                    period: Some("2016-H2".into()),
                    status: Some(ReportStatus::Completed),
                    percent_complete: Some(Some(100)),
                    summary: None,
                    evidence_urls: Some(vec!["https://e.org/1".into()]),
                    submit: true,
                }),
            ),
            edit_print(
                ReportId(5),
                4,
                &Edit::Patch(ReportPatch { percent_complete: Some(None), ..ReportPatch::default() }),
            ),
        ];
        let expected: [&str; 9] = GOLDEN;
        assert_eq!(got, expected.map(str::to_owned));
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
