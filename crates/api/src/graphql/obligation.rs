//! The reporting matrix: obligations (who owes which report for a scheduled period), their
//! states, filters and pages; the overdue list; a reporter's own to-do list.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use workplan_domain::ids::{ProvinceId, TaskId};
use workplan_domain::plan::numeral;
use workplan_domain::report::Reporter as DomainReporter;
use workplan_domain::supervision::{ObligationFilter as DomainFilter, counts_by_state, overdue};
use workplan_domain::usecases::supervise::{PlanFrame, obligations_of, periods_between, scheduled};

use super::province::Province;
use super::report::{ProgressReport, Reporter};
use super::task::{ResponsibilityRole, Task};
use crate::context::{clock, judged, load, periods, plan, require, scope, supervision};
use crate::error::{GqlResultExt, bad_input};
use crate::ids;

/// The most obligations one page holds.
pub(crate) const MAX_OBLIGATION_PAGE: i32 = 500;
/// The page size when `first` is not given.
const DEFAULT_OBLIGATION_PAGE: i32 = 100;

/// Where an obligation stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "workplan_domain::supervision::ObligationState")]
pub enum ObligationState {
    /// Not reported — no report, a draft, or a RETURNED report not yet resubmitted — and the
    /// due date is still ahead.
    NotDue,
    /// Not reported (as for NOT_DUE), and the due date has passed.
    Overdue,
    /// Submitted and waiting for review (also when submitted after the due date).
    Submitted,
    /// Accepted, or reopened for correction (its last accepted version still counts).
    Accepted,
    /// A supervisor exempted the obligation.
    Exempt,
}

/// Which kind of party owes a report.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "workplan_domain::supervision::PartyKind")]
pub enum PartyKind {
    /// A central agency responsible for the task.
    Agency,
    /// A provincial-level government (every province owes a report on every task).
    Province,
}

/// The plan's tasks and provinces by id, as a list of obligations read them: its obligations
/// resolve `task` and a province's `party` from here instead of loading each (a page of 500
/// obligations names 500 tasks and about 460 provinces). Empty when the list did not read them:
/// then each is loaded.
#[derive(Default)]
pub(crate) struct PlanParts {
    tasks: HashMap<TaskId, workplan_domain::plan::Task>,
    provinces: HashMap<ProvinceId, workplan_domain::province::Province>,
}

impl PlanParts {
    /// The parts of `frame`, which it gives up.
    fn of(frame: &mut PlanFrame) -> Arc<Self> {
        Arc::new(Self {
            tasks: std::mem::take(&mut frame.tasks).into_iter().map(|t| (t.id, t)).collect(),
            provinces: std::mem::take(&mut frame.provinces).into_iter().map(|p| (p.id, p)).collect(),
        })
    }
}

/// One party's obligation to report on one task for one scheduled period.
#[derive(Clone)]
pub(crate) struct Obligation(pub workplan_domain::supervision::Obligation, Arc<PlanParts>);

impl Obligation {
    /// The obligation `o`, its task and party loaded when asked for.
    pub(crate) fn of(o: workplan_domain::supervision::Obligation) -> Self {
        Self(o, Arc::default())
    }
}

/// One party's obligation to file one PART report on one task for one scheduled period. The
/// rules are in docs/supervision.md ("Obligations and the reporting matrix").
#[Object]
impl Obligation {
    /// The task.
    async fn task(&self, ctx: &Context<'_>) -> async_graphql::Result<Task> {
        match self.1.tasks.get(&self.0.task_id) {
            Some(task) => Ok(Task(task.clone())),
            None => require(ctx, self.0.task_id).await.map(Task),
        }
    }

    /// Who owes the report: the Agency (one of the task's responsible agencies) or the Province.
    async fn party(&self, ctx: &Context<'_>) -> async_graphql::Result<Reporter> {
        if let DomainReporter::Province(id) = self.0.party
            && let Some(province) = self.1.provinces.get(&id)
        {
            return Ok(Reporter::Province(Province(province.clone())));
        }
        Reporter::of(ctx, self.0.party).await
    }

    /// The agency's role on the task; null for a province.
    async fn role(&self) -> Option<ResponsibilityRole> {
        self.0.role.map(Into::into)
    }

    /// The period's key, e.g. "2016-Q4".
    async fn period(&self) -> String {
        self.0.period.to_string()
    }

    /// When the report is due: the period's due date, or the obligation's own extension.
    async fn due_at(&self) -> DateTime<Utc> {
        self.0.due_at
    }

    /// Whether `dueAt` is an extension granted for this obligation.
    async fn extended(&self) -> bool {
        self.0.extended
    }

    /// The report that counts — the party's live PART report for exactly this period — if
    /// there is one and the caller may see it (anonymous callers: only when it is ACCEPTED).
    async fn report(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ProgressReport>> {
        let Some(facts) = &self.0.report else { return Ok(None) };
        if !facts.readable_within(&scope(ctx)?) {
            return Ok(None);
        }
        match load(ctx, facts.id).await? {
            Some(report) => super::official::seen(ctx, report),
            None => Ok(None),
        }
    }

    /// NOT_DUE, OVERDUE, SUBMITTED, ACCEPTED or EXEMPT (see the enum).
    async fn state(&self) -> ObligationState {
        self.0.state().into()
    }

    /// Whether the report was first submitted by `dueAt` (a report returned and resubmitted
    /// after the due date still counts as on time if it was first submitted in time); false
    /// once OVERDUE with nothing ever submitted; null while nothing was ever submitted and the
    /// obligation is NOT_DUE, and when EXEMPT.
    async fn on_time(&self) -> Option<bool> {
        self.0.standing.on_time
    }

    /// Whole days, rounded up, from `dueAt` to the first submission — or to now while
    /// OVERDUE with nothing ever submitted; 0 when on time; null when NOT_DUE or EXEMPT.
    async fn days_late(&self) -> Option<i64> {
        self.0.standing.days_late
    }
}

/// How many obligations are in one state.
#[derive(SimpleObject, Clone, Copy)]
pub(crate) struct ObligationStateCount {
    /// The state.
    pub state: ObligationState,
    /// How many obligations are in it.
    pub count: i64,
}

/// Every state with its count, zeros included, in the enum's order.
pub(crate) fn state_counts(
    counts: Vec<(workplan_domain::supervision::ObligationState, usize)>,
) -> Vec<ObligationStateCount> {
    counts
        .into_iter()
        .map(|(state, n)| ObligationStateCount { state: state.into(), count: i64::try_from(n).unwrap_or(i64::MAX) })
        .collect()
}

/// One obligation with its cursor.
#[derive(SimpleObject, Clone)]
pub(crate) struct ObligationEdge {
    /// Pass as `after` to continue after this obligation.
    pub cursor: String,
    /// The obligation.
    pub node: Obligation,
}

/// A page of obligations.
pub(crate) struct ObligationConnection {
    edges: Vec<ObligationEdge>,
    has_next_page: bool,
    has_previous_page: bool,
    total: usize,
    counts: Vec<ObligationStateCount>,
}

/// A page of obligations, with the size of the whole list and its counts by state.
#[Object]
impl ObligationConnection {
    /// The obligations with their cursors.
    async fn edges(&self) -> &[ObligationEdge] {
        &self.edges
    }

    /// The obligations, without cursors.
    async fn nodes(&self) -> Vec<Obligation> {
        self.edges.iter().map(|e| e.node.clone()).collect()
    }

    /// Where this page is in the list.
    async fn page_info(&self) -> crate::connection::PageInfo {
        crate::connection::PageInfo {
            has_next_page: self.has_next_page,
            has_previous_page: self.has_previous_page,
            start_cursor: self.edges.first().map(|e| e.cursor.clone()),
            end_cursor: self.edges.last().map(|e| e.cursor.clone()),
        }
    }

    /// How many obligations the whole list holds (all pages, with the filter applied).
    async fn total_count(&self) -> i64 {
        i64::try_from(self.total).unwrap_or(i64::MAX)
    }

    /// How many obligations are in each state — every state, zeros included — over the whole
    /// list with every criterion of the filter but `states` applied, so that "312 of 459
    /// reported, 40 overdue" needs no paging.
    async fn counts_by_state(&self) -> &[ObligationStateCount] {
        &self.counts
    }
}

/// Pages a list: `first` (1–500, default 100) after the cursor `after` of list `list`.
fn page(
    list: &str,
    items: impl Iterator<Item = (usize, workplan_domain::supervision::Obligation)>,
    total: usize,
    first: Option<i32>,
    after: Option<String>,
    counts: Vec<ObligationStateCount>,
    parts: &Arc<PlanParts>,
) -> async_graphql::Result<ObligationConnection> {
    let size = first.unwrap_or(DEFAULT_OBLIGATION_PAGE);
    if !(1..=MAX_OBLIGATION_PAGE).contains(&size) {
        return Err(bad_input("first", format!("between 1 and {MAX_OBLIGATION_PAGE}")));
    }
    let after: Option<usize> = ids::parse_cursor(list, after, "after")?;
    let size = usize::try_from(size).unwrap_or(1);
    // Only the page's obligations are kept: the items come by position, so those up to the
    // cursor are passed over and counted.
    let mut start = 0;
    let mut rest = items.skip_while(|(i, _)| {
        let before = after.is_some_and(|a| *i <= a);
        start += usize::from(before);
        before
    });
    let edges: Vec<ObligationEdge> = rest
        .by_ref()
        .take(size)
        .map(|(i, o)| ObligationEdge { cursor: ids::cursor(list, &i.to_string()), node: Obligation(o, parts.clone()) })
        .collect();
    let has_next_page = rest.next().is_some();
    Ok(ObligationConnection { edges, has_next_page, has_previous_page: start > 0, total, counts })
}

/// Which obligations to list. All conditions must hold.
#[derive(InputObject, Default, Debug)]
pub(crate) struct ObligationFilterInput {
    /// Only obligations in these states (all when absent or empty).
    pub states: Option<Vec<ObligationState>>,
    /// Only tasks in the section with this numeral, typed as printed or as a number ("III",
    /// "3", "三").
    pub section_numeral: Option<String>,
    /// Only tasks in subsections with this numeral ("ii", "2", "二"), in every section unless
    /// `sectionNumeral` picks one.
    pub subsection_numeral: Option<String>,
    /// Only this task (by number).
    pub task_number: Option<i32>,
    /// Only this agency's obligations: its English or Chinese name, abbreviation or any alias,
    /// ignoring case, as in the task filters. An unknown name matches nothing.
    pub agency: Option<String>,
    /// Only this province's obligations, by GB/T 2260 code ("110000"). An unknown code matches
    /// nothing.
    pub province_code: Option<String>,
    /// Only agencies' or only provinces' obligations.
    pub party_kind: Option<PartyKind>,
}

impl ObligationFilterInput {
    /// Resolves names, codes and numerals against the plan.
    pub(crate) async fn resolve(self, ctx: &Context<'_>, frame: &PlanFrame) -> async_graphql::Result<DomainFilter> {
        let mut filter = DomainFilter {
            states: self.states.unwrap_or_default().into_iter().map(Into::into).collect(),
            task_number: self.task_number,
            party_kind: self.party_kind.map(Into::into),
            ..DomainFilter::default()
        };
        let parse = |typed: &str, field: &str| {
            numeral::normalise(typed)
                .ok_or_else(|| bad_input(field, format!("{typed:?} is not a numeral (\"III\", \"3\", \"三\")")))
        };
        let section = match &self.section_numeral {
            Some(typed) => {
                let n = parse(typed, "filter.sectionNumeral")?;
                match frame.sections.iter().find(|s| s.numeral.eq_ignore_ascii_case(&n)) {
                    Some(s) => Some(s.id),
                    None => return Ok(DomainFilter::nothing()),
                }
            }
            None => None,
        };
        filter.section = section;
        if let Some(typed) = &self.subsection_numeral {
            let n = parse(typed, "filter.subsectionNumeral")?;
            let matching: Vec<_> = frame
                .subsections
                .iter()
                .filter(|s| s.numeral.eq_ignore_ascii_case(&n) && section.is_none_or(|id| s.section_id == id))
                .map(|s| s.id)
                .collect();
            // Without a section, the numeral names one subsection in each section that has it.
            if matching.is_empty() {
                return Ok(DomainFilter::nothing());
            }
            filter.subsections = matching;
        }
        if let Some(name) = &self.agency {
            match plan(ctx)?.agency_by_name(name).await.gql()? {
                Some(agency) => filter.agency = Some(agency.id),
                None => return Ok(DomainFilter::nothing()),
            }
        }
        if let Some(code) = &self.province_code {
            match frame.provinces.iter().find(|p| p.code == code.trim()) {
                Some(p) => filter.province = Some(ProvinceId(p.id.0)),
                None => return Ok(DomainFilter::nothing()),
            }
        }
        Ok(filter)
    }
}

/// The reporting matrix and the overdue list.
#[derive(Default)]
pub(crate) struct ObligationQueryRoot;

/// The reporting matrix and the overdue list.
#[Object]
impl ObligationQueryRoot {
    /// The reporting matrix of a scheduled period: every obligation — each responsibility
    /// (task × responsible agency) and each province on each task owes one PART report —
    /// by task number, then the task's agencies in listed order, then the provinces by code.
    /// Everyone who may read the plan sees every obligation's state (anonymous callers
    /// included); `report` follows the report read rules. An unscheduled period is NOT_FOUND,
    /// a malformed one BAD_USER_INPUT.
    async fn reporting_matrix(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The scheduled period's key, e.g. \"2016-Q4\".")] period: String,
        #[graphql(desc = "Which obligations to list.")] filter: Option<ObligationFilterInput>,
        #[graphql(desc = "How many obligations (1–500, default 100).")] first: Option<i32>,
        #[graphql(desc = "Continue after this cursor.")] after: Option<String>,
    ) -> async_graphql::Result<ObligationConnection> {
        scope(ctx)?;
        let period = scheduled(periods(ctx)?.as_ref(), &period, "period").await.gql()?;
        let mut frame = PlanFrame::load(plan(ctx)?.as_ref()).await.gql()?;
        let filter = filter.unwrap_or_default().resolve(ctx, &frame).await?;
        let now = clock(ctx).now();
        // The period's facts and adjustments (the facts from the store's memory), then its
        // obligations judged once for all its pages while none of that changes (`judged.rs`).
        let facts_of = supervision(ctx)?;
        let keys = [period.period];
        let facts = facts_of.report_facts(&keys, None).await.gql()?;
        let adjustments = facts_of.adjustments(&keys).await.gql()?;
        let all = judged(ctx)?.obligations(&period, &frame, facts, adjustments, now);
        let unstated = filter.without_states();
        let counts = state_counts(counts_by_state(all.iter().filter(|o| unstated.matches(o))));
        let total = all.iter().filter(|o| filter.matches(o)).count();
        let items = all.iter().cloned().enumerate().filter(|(_, o)| filter.matches(o));
        page("obligation", items, total, first, after, counts, &PlanParts::of(&mut frame))
    }

    /// Every OVERDUE obligation across the scheduled periods, most overdue first (most days
    /// late, then the earliest due date, then task number).
    async fn overdue(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which obligations to list (`states` is ignored: all are OVERDUE).")] filter: Option<
            ObligationFilterInput,
        >,
        #[graphql(desc = "How many obligations (1–500, default 100).")] first: Option<i32>,
        #[graphql(desc = "Continue after this cursor.")] after: Option<String>,
    ) -> async_graphql::Result<ObligationConnection> {
        scope(ctx)?;
        let now = clock(ctx).now();
        let due: Vec<_> = periods_between(periods(ctx)?.as_ref(), None, None)
            .await
            .gql()?
            .into_iter()
            .filter(|p| p.due_at <= now)
            .collect();
        let mut frame = PlanFrame::load(plan(ctx)?.as_ref()).await.gql()?;
        let filter = filter.unwrap_or_default().resolve(ctx, &frame).await?.without_states();
        let all = obligations_of(supervision(ctx)?.as_ref(), &frame, &due, None, now).await.gql()?;
        let late: Vec<_> = overdue(all.iter().filter(|o| filter.matches(o))).into_iter().cloned().enumerate().collect();
        let counts = state_counts(counts_by_state(late.iter().map(|(_, o)| o)));
        let total = late.len();
        page("overdue", late.into_iter(), total, first, after, counts, &PlanParts::of(&mut frame))
    }
}

/// A reporter's own obligations (`Viewer.obligations`): of `period`, or of every scheduled
/// period; empty for a token that reports for no one.
pub(crate) async fn own_obligations(
    ctx: &Context<'_>,
    party: Option<DomainReporter>,
    period: Option<String>,
    states: Option<Vec<ObligationState>>,
) -> async_graphql::Result<Vec<Obligation>> {
    let Some(party) = party else { return Ok(Vec::new()) };
    let store = periods(ctx)?;
    let periods = match period {
        Some(p) => vec![scheduled(store.as_ref(), &p, "period").await.gql()?],
        None => periods_between(store.as_ref(), None, None).await.gql()?,
    };
    let mut frame = PlanFrame::load(plan(ctx)?.as_ref()).await.gql()?;
    let now = clock(ctx).now();
    let owed = obligations_of(supervision(ctx)?.as_ref(), &frame, &periods, Some(&[party]), now).await.gql()?;
    let states: Vec<workplan_domain::supervision::ObligationState> =
        states.unwrap_or_default().into_iter().map(Into::into).collect();
    let parts = PlanParts::of(&mut frame);
    Ok(owed
        .into_iter()
        .filter(|o| states.is_empty() || states.contains(&o.state()))
        .map(|o| Obligation(o, parts.clone()))
        .collect())
}
