//! The frozen pre-v2 format: the `Debug` text the request types printed when keys were first
//! stored, rebuilt by hand. Do not change it when the types change: it must keep printing
//! exactly what the old types printed. Strings use `str`'s `Debug` escaping, as they did.

use std::fmt::Write;

use crate::ids::ReportId;
use crate::report::{Edit, ReportStatus, ReporterRef, SubmitReport};

/// `{SubmitReport:?}|{Option<ReporterRef>:?}|{bool}`. The old command carried the named
/// reporter, or an empty province code when none was named.
pub(crate) fn submit(input: &SubmitReport, requested: Option<&ReporterRef>, as_draft: bool) -> String {
    let c = &input.content;
    let placeholder = ReporterRef::Province(String::new());
    format!(
        "SubmitReport {{ task_number: {}, reporter: {}, period: {:?}, status: {}, percent_complete: {}, summary: {:?}, evidence_urls: {} }}|{}|{as_draft}",
        input.task_number,
        reporter(requested.unwrap_or(&placeholder)),
        c.period.as_str(),
        status(c.status),
        option(c.percent_complete.map(|n| n.to_string())),
        c.summary.as_str(),
        strings(&c.evidence_urls),
        option(requested.map(reporter)),
    )
}

/// `{ReportId:?}|{i32}|{Edit:?}`.
pub(crate) fn edit(id: ReportId, expected_version: i32, edit: &Edit) -> String {
    let edit = match edit {
        Edit::Withdraw => "Withdraw".to_owned(),
        Edit::Review { accept, comment } => {
            format!("Review {{ accept: {accept}, comment: {} }}", option(comment.as_deref().map(quoted)))
        }
        // Newer than the legacy format: no key was ever stored with this text.
        Edit::Reopen { reason } => format!("Reopen {{ reason: {} }}", quoted(reason)),
        Edit::Patch(p) => format!(
            "Patch(ReportPatch {{ period: {}, status: {}, percent_complete: {}, summary: {}, evidence_urls: {}, submit: {} }})",
            option(p.period.as_deref().map(quoted)),
            option(p.status.map(|s| status(s).to_owned())),
            option(p.percent_complete.map(|inner| option(inner.map(|n| n.to_string())))),
            option(p.summary.as_deref().map(quoted)),
            option(p.evidence_urls.as_deref().map(strings)),
            p.submit,
        ),
    };
    format!("ReportId({})|{expected_version}|{edit}", id.0)
}

fn quoted(s: &str) -> String {
    format!("{s:?}")
}

fn option(inner: Option<String>) -> String {
    inner.map_or_else(|| "None".to_owned(), |v| format!("Some({v})"))
}

fn strings(items: &[String]) -> String {
    let mut out = String::from("[");
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{:?}", s.as_str());
    }
    out.push(']');
    out
}

fn reporter(r: &ReporterRef) -> String {
    match r {
        ReporterRef::Agency(id) => format!("Agency(AgencyId({}))", id.0),
        ReporterRef::Province(code) => format!("Province({:?})", code.as_str()),
    }
}

fn status(s: ReportStatus) -> &'static str {
    match s {
        ReportStatus::NotStarted => "NotStarted",
        ReportStatus::InProgress => "InProgress",
        ReportStatus::Completed => "Completed",
        ReportStatus::Ongoing => "Ongoing",
    }
}
