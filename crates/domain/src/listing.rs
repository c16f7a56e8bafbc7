//! Lists: pagination, filters and list queries, independent of how they are stored or served.
//!
//! Lists are keyset-paginated: a page is "the next `n` items after key `k` in sort order", so a
//! page costs the same however deep it is, and pages stay stable while rows are added.

use crate::access::ReportScope;
use crate::ids::{AgencyId, ReportId, SectionId, SubsectionId};
use crate::plan::{ResponsibilityMode, Role};
use crate::report::period::Period;
use crate::report::{ReportKind, ReportState, ReportStatus};
use crate::text::check_text;
use crate::{Error, Result};

mod task_key;
pub use task_key::{TaskKey, TaskPage, TaskSort, TaskSortValue};

/// Page size when neither `first` nor `last` is given.
pub const DEFAULT_PAGE_SIZE: u32 = 20;
/// The largest page a client may ask for.
pub const MAX_PAGE_SIZE: u32 = 100;
/// The largest `first` on a list of tasks: the whole plan (106 tasks) fits in one page.
pub const MAX_TASK_PAGE_SIZE: u32 = 200;
/// The longest text search accepted.
pub const MAX_SEARCH_LEN: usize = 200;

/// Which way a page is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `first`/`after`: from the start of the range.
    Forward,
    /// `last`/`before`: from the end of the range.
    Backward,
}

/// A validated page request over keys of type `K`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageRequest<K> {
    /// How many items at most.
    pub size: u32,
    /// Which end of the range to read from.
    pub direction: Direction,
    /// Only items strictly after this key (in sort order).
    pub after: Option<K>,
    /// Only items strictly before this key (in sort order).
    pub before: Option<K>,
}

impl<K> Default for PageRequest<K> {
    fn default() -> Self {
        Self { size: DEFAULT_PAGE_SIZE, direction: Direction::Forward, after: None, before: None }
    }
}

impl<K> PageRequest<K> {
    /// The first `size` items.
    pub fn first(size: u32) -> Self {
        Self { size, ..Self::default() }
    }

    /// Validates Relay arguments: `first`/`last` in 1..=100 (default 20), not both.
    pub fn new(first: Option<i32>, after: Option<K>, last: Option<i32>, before: Option<K>) -> Result<Self> {
        Self::with_max_first(MAX_PAGE_SIZE, first, after, last, before)
    }

    /// Like [`PageRequest::new`], but `first` may go up to `max_first`.
    pub fn with_max_first(
        max_first: u32,
        first: Option<i32>,
        after: Option<K>,
        last: Option<i32>,
        before: Option<K>,
    ) -> Result<Self> {
        let check = |field: &str, n: i32, max: u32| -> Result<u32> {
            u32::try_from(n)
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| Error::validation(field, format!("must be between 1 and {max}, got {n}")))
        };
        let (size, direction) = match (first, last) {
            (Some(_), Some(_)) => {
                return Err(Error::validation("last", "give `first` or `last`, not both"));
            }
            (Some(n), None) => (check("first", n, max_first)?, Direction::Forward),
            (None, Some(n)) => (check("last", n, MAX_PAGE_SIZE)?, Direction::Backward),
            (None, None) if before.is_some() && after.is_none() => (DEFAULT_PAGE_SIZE, Direction::Backward),
            (None, None) => (DEFAULT_PAGE_SIZE, Direction::Forward),
        };
        Ok(Self { size, direction, after, before })
    }

    /// Turns rows fetched in reading order (at most `size + 1`) into a page in sort order.
    pub fn finish<T>(&self, mut rows: Vec<T>) -> Page<T> {
        let more = rows.len() > self.size as usize;
        rows.truncate(self.size as usize);
        match self.direction {
            Direction::Forward => Page { items: rows, has_next_page: more, has_previous_page: self.after.is_some() },
            Direction::Backward => {
                rows.reverse();
                Page { items: rows, has_next_page: self.before.is_some(), has_previous_page: more }
            }
        }
    }
}

/// One page of a list, in sort order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items, in sort order.
    pub items: Vec<T>,
    /// Whether items follow the last one.
    pub has_next_page: bool,
    /// Whether items precede the first one.
    pub has_previous_page: bool,
}

impl<T> Default for Page<T> {
    fn default() -> Self {
        Self { items: Vec::new(), has_next_page: false, has_previous_page: false }
    }
}

/// Sort direction of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SortOrder {
    /// Smallest first.
    #[default]
    Ascending,
    /// Largest first.
    Descending,
}

fn normalise_search(search: Option<String>, field: &str) -> Result<Option<String>> {
    let Some(search) = search else {
        return Ok(None);
    };
    let search = search.trim();
    check_text(search, field, MAX_SEARCH_LEN)?;
    Ok((!search.is_empty()).then(|| search.to_owned()))
}

/// Which tasks a list holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TaskFilter {
    /// Only tasks in this section.
    pub section: Option<SectionId>,
    /// Only tasks in this subsection.
    pub subsection: Option<SubsectionId>,
    /// Tasks this agency is responsible for...
    pub agency: Option<AgencyId>,
    /// ...in this role (needs `agency`).
    pub role: Option<Role>,
    /// Only tasks shared in this mode.
    pub mode: Option<ResponsibilityMode>,
    /// Case-insensitive substring of the task text.
    pub search: Option<String>,
    /// Only tasks in sections with this numeral (stored form: lower-case Roman, see
    /// [`crate::plan::numeral::normalise`]).
    pub section_numeral: Option<String>,
    /// Only tasks in subsections with this numeral (in any section unless one is given).
    pub subsection_numeral: Option<String>,
    /// Tasks an agency known by this name is responsible for (lower-case; matches its name,
    /// Chinese name, abbreviation or an alias, ignoring case)... in `role` if given.
    pub agency_name: Option<String>,
}

impl TaskFilter {
    /// Checks the filter's rules and normalises numerals and names; `path` prefixes field
    /// names in errors.
    pub fn validated(mut self, path: &str) -> Result<Self> {
        if self.role.is_some() && self.agency.is_none() && self.agency_name.is_none() {
            return Err(Error::validation(format!("{path}.role"), "filter by role needs an agency or agencyName"));
        }
        self.search = normalise_search(self.search, &format!("{path}.search"))?;
        self.section_numeral = numeral(self.section_numeral, &format!("{path}.sectionNumeral"))?;
        self.subsection_numeral = numeral(self.subsection_numeral, &format!("{path}.subsectionNumeral"))?;
        self.agency_name = agency_name(self.agency_name, &format!("{path}.agencyName"))?;
        Ok(self)
    }
}

/// A typed agency name as filters compare it (trimmed, lower-case), or a validation error
/// naming `field`.
pub fn agency_name(typed: Option<String>, field: &str) -> Result<Option<String>> {
    Ok(normalise_search(typed, field)?.map(|n| n.to_lowercase()))
}

/// The stored form of a typed numeral, or a validation error naming `field`.
pub fn numeral(typed: Option<String>, field: &str) -> Result<Option<String>> {
    typed
        .map(|t| {
            crate::plan::numeral::normalise(&t).ok_or_else(|| {
                Error::validation(field, format!("{t:?} is not a numeral: give e.g. \"III\", \"3\" or \"三\""))
            })
        })
        .transpose()
}

/// A task list query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TaskQuery {
    /// Which tasks.
    pub filter: TaskFilter,
    /// What they are sorted by.
    pub sort: TaskSort,
    /// Which way.
    pub order: SortOrder,
    /// Keys fit `sort` (see [`TaskQuery::validated`]).
    pub page: PageRequest<TaskKey>,
}

impl TaskQuery {
    /// Checks that the cursors were made by a list with the same sort.
    pub fn validated(self) -> Result<Self> {
        for (field, key) in [("after", &self.page.after), ("before", &self.page.before)] {
            if key.as_ref().is_some_and(|k| !k.fits(self.sort)) {
                return Err(Error::validation(field, "the cursor comes from a list in another order"));
            }
        }
        Ok(self)
    }
}

/// Which agencies a list holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct AgencyFilter {
    /// Case-insensitive substring of the name, Chinese name, abbreviation or an alias.
    pub search: Option<String>,
    /// Agencies with at least one task in this role.
    pub role: Option<Role>,
}

impl AgencyFilter {
    /// Checks the filter's rules.
    pub fn validated(mut self, path: &str) -> Result<Self> {
        self.search = normalise_search(self.search, &format!("{path}.search"))?;
        Ok(self)
    }
}

/// An agency list query, sorted by name; keys are names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct AgencyQuery {
    /// Which agencies.
    pub filter: AgencyFilter,
    /// Which page of them.
    pub page: PageRequest<String>,
}

/// Which reports a list holds.
///
/// It has no `Default`: build it with [`ReportFilter::new`], which needs the caller's scope, so
/// no list can forget it (and so include drafts by accident):
///
/// ```compile_fail
/// let filter: workplan_domain::listing::ReportFilter = Default::default();
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReportFilter {
    /// What the caller may see; always applied.
    pub scope: ReportScope,
    /// Only reports in this lifecycle state (within the scope).
    pub state: Option<ReportState>,
    /// Only reports on this task.
    pub task_number: Option<i32>,
    /// Only reports by this agency.
    pub agency: Option<AgencyId>,
    /// GB/T 2260 code of the reporting province.
    pub province_code: Option<String>,
    /// Exact, normalised period (see [`crate::report::period::Period`]).
    pub period: Option<String>,
    /// Only reports with this status.
    pub status: Option<ReportStatus>,
    /// Only reports of this kind (an agency's or province's own PART, or a lead's CONSOLIDATED).
    pub kind: Option<ReportKind>,
    /// Only demo (true) or only real (false) reports.
    pub demo: Option<bool>,
    /// Only the report a sync client filed under this id.
    pub client_report_id: Option<String>,
    /// Only reports by an agency known by this name (lower-case; any name, as tasks filter).
    pub agency_name: Option<String>,
    /// Only reports whose period starts on or after this period's start.
    pub period_from: Option<Period>,
    /// Only reports whose period starts on or before this period's start.
    pub period_to: Option<Period>,
    /// Only reports in one of these states (within the scope; with `state`, both hold).
    pub states: Option<Vec<ReportState>>,
    /// Only reports on tasks in the section with this numeral (stored form, see
    /// [`crate::plan::numeral::normalise`]).
    pub section_numeral: Option<String>,
    /// Only these reports (a subscription checks which of the reports that just changed
    /// match its filter).
    pub ids: Option<Vec<ReportId>>,
}

impl ReportFilter {
    /// Every report `scope` lets its holder see; narrow it with the other fields:
    ///
    /// ```
    /// use workplan_domain::access::ReportScope;
    /// use workplan_domain::listing::ReportFilter;
    /// use workplan_domain::report::ReportState;
    ///
    /// let queue = ReportFilter { state: Some(ReportState::Submitted), ..ReportFilter::new(ReportScope::All) };
    /// assert_eq!(queue.scope, ReportScope::All);
    /// ```
    pub fn new(scope: ReportScope) -> Self {
        Self {
            scope,
            state: None,
            task_number: None,
            agency: None,
            province_code: None,
            period: None,
            status: None,
            kind: None,
            demo: None,
            client_report_id: None,
            agency_name: None,
            period_from: None,
            period_to: None,
            states: None,
            section_numeral: None,
            ids: None,
        }
    }
}

/// What a report list is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ReportOrder {
    /// By report id: the order reports were first recorded.
    #[default]
    Recorded,
    /// By when each report was submitted, then by id. Cursors stay report ids: a page
    /// continues from where its cursor's report stands. Flat lists only (nested report lists
    /// are by id).
    Submitted,
}

/// A report list query; keys are report ids. No `Default`, like [`ReportFilter`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReportQuery {
    /// Which reports.
    pub filter: ReportFilter,
    /// Which page of them.
    pub page: PageRequest<i64>,
    /// Oldest first instead of newest first.
    pub oldest_first: bool,
    /// What "oldest" means: by id, or by submission time then id (drafts never submitted by
    /// their creation time). Cursors name report ids either way.
    pub order: ReportOrder,
}

/// What a nested task list hangs off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskParent {
    /// Keys are section ids.
    Section,
    /// Keys are subsection ids.
    Subsection,
}

/// What a nested report list hangs off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportParent {
    /// Keys are task ids.
    Task,
    /// Keys are agency ids.
    Agency,
    /// Keys are province ids.
    Province,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_bounds() {
        assert!(PageRequest::<i32>::new(Some(0), None, None, None).is_err());
        assert!(PageRequest::<i32>::new(Some(101), None, None, None).is_err());
        assert!(PageRequest::<i32>::new(None, None, Some(-1), None).is_err());
        assert!(PageRequest::<i32>::new(Some(1), None, Some(1), None).is_err());
        let p = PageRequest::<i32>::new(None, None, None, None).expect("default");
        assert_eq!(p.size, DEFAULT_PAGE_SIZE);
        let p = PageRequest::<i32>::new(None, None, Some(100), None).expect("last");
        assert_eq!(p.direction, Direction::Backward);
        let tasks = |first, last| PageRequest::<i32>::with_max_first(MAX_TASK_PAGE_SIZE, first, None, last, None);
        assert_eq!(tasks(Some(200), None).map(|p| p.size).ok(), Some(200));
        assert!(tasks(Some(201), None).is_err());
        assert!(tasks(None, Some(101)).is_err(), "`last` keeps the common maximum");
    }

    #[test]
    fn finish_forward_and_backward() {
        let p = PageRequest::<i32>::new(Some(2), Some(0), None, None).expect("ok");
        let page = p.finish(vec![1, 2, 3]);
        assert_eq!(page.items, [1, 2]);
        assert!(page.has_next_page && page.has_previous_page);
        let p = PageRequest::<i32>::new(None, None, Some(2), None).expect("ok");
        let page = p.finish(vec![9, 8]);
        assert_eq!(page.items, [8, 9]);
        assert!(!page.has_next_page && !page.has_previous_page);
    }

    #[test]
    fn filters_validate() {
        let f = TaskFilter { role: Some(Role::Lead), ..Default::default() };
        assert!(f.validated("filter").is_err());
        let f = TaskFilter { search: Some("  ".into()), ..Default::default() };
        assert_eq!(f.validated("filter").expect("ok").search, None);
        let f = AgencyFilter { search: Some("x".repeat(201)), ..Default::default() };
        assert!(f.validated("filter").is_err());
    }

    #[test]
    fn a_report_filter_starts_from_the_scope_it_is_given() {
        let own = ReportScope::OwnOrAccepted(crate::report::Reporter::Agency(AgencyId(7)));
        for scope in [ReportScope::All, ReportScope::NotDraft, ReportScope::Accepted, own] {
            let filter = ReportFilter::new(scope);
            assert_eq!(filter.scope, scope);
            assert_eq!(filter, ReportFilter { scope, ..ReportFilter::new(ReportScope::Accepted) });
        }
    }
}
