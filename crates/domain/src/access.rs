//! Who is calling and what they may do. Pure rules: the callers look up the facts (the token,
//! the task's agencies, the report) and these functions decide.

use crate::ids::{AgencyId, ProvinceId, TokenId};
use crate::plan::{Responsibility, ResponsibilityMode, Role, Task};
use crate::report::{Change, ProgressReport, ReportKind, ReportState, Reporter, ReporterRef};
use crate::token::{AccessRole, ApiToken};
use crate::{Error, Result};

/// A token holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token.
    pub token: TokenId,
    /// The token's name.
    pub name: String,
    /// What it may do.
    pub role: AccessRole,
    /// The agency an AGENCY_REPORTER token reports for.
    pub agency: Option<AgencyId>,
    /// The province a PROVINCE_REPORTER token reports for.
    pub province: Option<ProvinceId>,
}

impl From<&ApiToken> for Principal {
    fn from(t: &ApiToken) -> Self {
        Self { token: t.id, name: t.name.clone(), role: t.role, agency: t.agency, province: t.province }
    }
}

impl Principal {
    /// The reporter this principal is bound to, if any.
    pub fn own_reporter(&self) -> Option<Reporter> {
        match self.role {
            AccessRole::AgencyReporter => self.agency.map(Reporter::Agency),
            AccessRole::ProvinceReporter => self.province.map(Reporter::Province),
            _ => None,
        }
    }

    /// How this principal's writes are recorded in history and the change feed (what each
    /// viewer is shown of it is [`crate::actor::shown_to`]).
    pub fn actor(&self) -> String {
        crate::actor::recorded(self)
    }

    /// Which reports this principal may read.
    pub fn report_scope(&self) -> ReportScope {
        match self.role {
            AccessRole::Admin | AccessRole::Supervisor => ReportScope::All,
            AccessRole::Reader => ReportScope::NotDraft,
            AccessRole::AgencyReporter | AccessRole::ProvinceReporter => match self.own_reporter() {
                Some(own) => ReportScope::OwnOrAccepted(own),
                None => ReportScope::Accepted,
            },
        }
    }
}

/// The caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Viewer {
    /// No token.
    Anonymous,
    /// A valid token.
    Token(Principal),
}

/// Which reports a caller may read. There is deliberately no default: every list, count and
/// feed names the scope it means, so a forgotten scope cannot silently include drafts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportScope {
    /// Every report (supervisors, admins, internal use).
    All,
    /// Every report ever submitted: not drafts, nor drafts withdrawn without ever being
    /// submitted (their text was never meant for anyone else).
    NotDraft,
    /// Accepted reports only (anonymous callers).
    Accepted,
    /// The reporter's own reports in any state, and everyone's accepted ones.
    OwnOrAccepted(Reporter),
}

impl ReportScope {
    /// Whether a holder of this scope sees the change-feed entry `change`, as the feed's own
    /// query decides; `None` when the entry alone cannot say: a WITHDRAWN entry is seen under
    /// [`ReportScope::NotDraft`] only if its report was ever submitted, which the caller must
    /// look up (a stream following the feed reads the feed again for it).
    pub fn sees_change(&self, change: &Change) -> Option<bool> {
        match self {
            Self::All => Some(true),
            Self::Accepted => Some(change.state == ReportState::Accepted),
            Self::OwnOrAccepted(own) => Some(change.reporter == *own || change.state == ReportState::Accepted),
            Self::NotDraft => match change.state {
                ReportState::Draft => Some(false),
                ReportState::Withdrawn => None,
                _ => Some(true),
            },
        }
    }
}

impl Viewer {
    /// The principal, or UNAUTHENTICATED.
    pub fn principal(&self) -> Result<&Principal> {
        match self {
            Self::Token(p) => Ok(p),
            Self::Anonymous => Err(Error::Unauthenticated("this needs an API token (Authorization: Bearer …)".into())),
        }
    }

    /// Which reports the viewer may read. Anonymous callers read accepted reports only, and
    /// only while public reading is on.
    pub fn report_scope(&self, public_read: bool) -> Result<ReportScope> {
        match self {
            Self::Anonymous if public_read => Ok(ReportScope::Accepted),
            Self::Anonymous => Err(Error::Unauthenticated("public reading is off: send an API token".into())),
            Self::Token(p) => Ok(p.report_scope()),
        }
    }

    /// Whether the viewer may see review comments and history.
    pub fn can_see_internals(&self) -> bool {
        matches!(self, Self::Token(_))
    }
}

impl ProgressReport {
    /// Whether `scope` lets its holder read this report. Those limited to accepted reports
    /// also read one that was accepted and is being corrected (reopened) — as its accepted
    /// version ([`Self::as_seen_within`]).
    pub fn readable_within(&self, scope: &ReportScope) -> bool {
        in_scope(scope, self.state, self.reporter, self.first_submitted_at.is_some()) || self.has_official_version()
    }

    /// The report as a holder of `scope` sees it: a reader limited to accepted reports sees a
    /// reopened report as its last accepted version (its content, version and time, state
    /// ACCEPTED, no review comment); everyone else sees it as it is.
    #[must_use]
    pub fn as_seen_within(self, scope: &ReportScope) -> Self {
        let limited = match scope {
            ReportScope::Accepted => true,
            ReportScope::OwnOrAccepted(own) => *own != self.reporter,
            ReportScope::All | ReportScope::NotDraft => false,
        };
        if limited { self.as_official() } else { self }
    }

    /// The report as it officially stands: a reopened report as its last accepted version
    /// (what lists of ACCEPTED reports and the latest accepted report show to everyone);
    /// any other report as it is.
    #[must_use]
    pub fn as_official(self) -> Self {
        if self.state == ReportState::Accepted || !self.has_official_version() {
            return self;
        }
        let Some(a) = self.accepted.clone() else { return self };
        Self {
            state: ReportState::Accepted,
            version: a.version,
            period: a.period,
            status: a.status,
            percent_complete: a.percent_complete,
            summary: a.summary,
            evidence_urls: a.evidence_urls,
            health: a.health,
            obstacles: a.obstacles,
            review_comment: None,
            updated_at: a.accepted_at,
            ..self
        }
    }

    /// Whether it has an accepted version that still counts (it was not withdrawn since).
    fn has_official_version(&self) -> bool {
        self.accepted.is_some() && self.state != ReportState::Withdrawn
    }
}

/// Whether `scope` lets its holder see a report in `state` by `reporter`, submitted at least
/// once (`ever_submitted`) or not (for a whole report, use [`ProgressReport::readable_within`],
/// which also admits reopened reports).
pub fn in_scope(scope: &ReportScope, state: ReportState, reporter: Reporter, ever_submitted: bool) -> bool {
    match scope {
        ReportScope::All => true,
        ReportScope::NotDraft => state != ReportState::Draft && ever_submitted,
        ReportScope::Accepted => state == ReportState::Accepted,
        ReportScope::OwnOrAccepted(own) => *own == reporter || state == ReportState::Accepted,
    }
}

/// Who files a new report: the token's own reporter, or — for an admin — the one named. Whether
/// an agency is responsible for the task is checked afterwards ([`check_responsible`]).
pub fn acting_reporter(principal: &Principal, requested: Option<&ReporterRef>) -> Result<ActingReporter> {
    match principal.role {
        AccessRole::Admin => match requested {
            Some(r) => Ok(ActingReporter::OnBehalf(r.clone())),
            None => Err(Error::validation("reporter", "an admin must name the reporter it acts for")),
        },
        AccessRole::AgencyReporter | AccessRole::ProvinceReporter => {
            let own = principal
                .own_reporter()
                .ok_or_else(|| Error::Forbidden("this token is bound to no reporter".into()))?;
            let matches = match (requested, own) {
                (None, _) => true,
                (Some(ReporterRef::Agency(a)), Reporter::Agency(b)) => *a == b,
                (Some(ReporterRef::Province(_)), Reporter::Province(_)) => true, // code checked by the caller
                _ => false,
            };
            if matches {
                Ok(ActingReporter::Own(own, requested.cloned()))
            } else {
                Err(Error::Forbidden(format!("{} may only report for its own {}", principal.name, kind(own))))
            }
        }
        AccessRole::Supervisor | AccessRole::Reader => {
            Err(Error::Forbidden(format!("a {} token cannot file reports", principal.role.as_str())))
        }
    }
}

fn kind(r: Reporter) -> &'static str {
    match r {
        Reporter::Agency(_) => "agency",
        Reporter::Province(_) => "province",
    }
}

/// The reporter a write acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActingReporter {
    /// The token's own reporter (and what the input named, to be checked against it).
    Own(Reporter, Option<ReporterRef>),
    /// An admin acting for the named reporter.
    OnBehalf(ReporterRef),
}

/// Whether an agency may report on a task: it must be responsible for it. An admin naming the
/// wrong agency made a bad input; a reporter token reaching past its tasks is forbidden.
pub fn check_responsible(
    principal_role: AccessRole,
    agency: AgencyId,
    task_agencies: &[AgencyId],
    task_number: i32,
) -> Result<()> {
    if task_agencies.contains(&agency) {
        return Ok(());
    }
    let message = format!("the agency is not responsible for task {task_number}");
    match principal_role {
        AccessRole::Admin => Err(Error::validation("reporter.agencyId", message)),
        _ => Err(Error::Forbidden(message)),
    }
}

/// Whether `reporter` may file a report of `kind` on `task`, whose responsibilities are
/// `responsibilities`: anyone a PART, only a lead agency of a DIVIDED task a CONSOLIDATED one.
/// Asking it of a JOINT task is bad input; a reporter token that is not a lead is forbidden
/// (an admin naming one made a bad input).
pub fn check_kind(
    principal_role: AccessRole,
    kind: ReportKind,
    reporter: Reporter,
    task: &Task,
    responsibilities: &[Responsibility],
) -> Result<()> {
    if kind == ReportKind::Part {
        return Ok(());
    }
    if task.mode != ResponsibilityMode::Divided {
        return Err(Error::validation(
            "kind",
            format!("task {} is JOINT: only DIVIDED tasks have CONSOLIDATED reports", task.number),
        ));
    }
    let lead = match reporter {
        Reporter::Agency(a) => {
            responsibilities.iter().any(|r| r.task_id == task.id && r.agency_id == a && r.role == Role::Lead)
        }
        Reporter::Province(_) => false,
    };
    if lead {
        return Ok(());
    }
    let message = format!("only a lead agency of task {} may file a CONSOLIDATED report", task.number);
    match principal_role {
        AccessRole::Admin => Err(Error::validation("kind", message)),
        _ => Err(Error::Forbidden(message)),
    }
}

/// Whether `principal` may file a report on a task its own reporter answers for, given the
/// agencies responsible for the task: an admin (for anyone) and a province reporter always, an
/// agency reporter when its agency is among `task_agencies`, nobody else.
pub fn may_report_on(principal: &Principal, task_agencies: &[AgencyId]) -> bool {
    match principal.role {
        AccessRole::Admin | AccessRole::ProvinceReporter => true,
        AccessRole::AgencyReporter => principal.agency.is_some_and(|a| task_agencies.contains(&a)),
        AccessRole::Supervisor | AccessRole::Reader => false,
    }
}

/// Whether `principal` may edit or withdraw `report` (its own reporter, or an admin). Whether the
/// report is still open to change is [`crate::report::can_change`].
pub fn can_edit(principal: &Principal, report: &ProgressReport) -> Result<()> {
    let owner = principal.role == AccessRole::Admin || principal.own_reporter() == Some(report.reporter);
    if !owner {
        return Err(Error::Forbidden("only the report's own reporter (or an admin) may change it".into()));
    }
    Ok(())
}

/// Whether `principal` may review reports.
pub fn can_review(principal: &Principal) -> Result<()> {
    match principal.role {
        AccessRole::Admin | AccessRole::Supervisor => Ok(()),
        _ => Err(Error::Forbidden("only supervisors and admins review reports".into())),
    }
}

/// Whether `principal` may supervise: schedule reporting periods and read their history.
pub fn can_supervise(principal: &Principal) -> Result<()> {
    match principal.role {
        AccessRole::Admin | AccessRole::Supervisor => Ok(()),
        _ => Err(Error::Forbidden("only supervisors and admins schedule reporting periods".into())),
    }
}

/// Whether `principal` may manage tokens.
pub fn can_manage_tokens(principal: &Principal) -> Result<()> {
    match principal.role {
        AccessRole::Admin => Ok(()),
        _ => Err(Error::Forbidden("only admins manage tokens".into())),
    }
}

#[cfg(test)]
mod tests;
