//! Lists: pagination, filters and list queries, independent of how they are stored or served.
//!
//! Lists are keyset-paginated: a page is "the next `n` items after key `k` in sort order", so a
//! page costs the same however deep it is, and pages stay stable while rows are added.

use crate::access::ReportScope;
use crate::ids::{AgencyId, SectionId, SubsectionId};
use crate::plan::{ResponsibilityMode, Role};
use crate::report::{ReportState, ReportStatus};
use crate::{Error, Result};

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
    if search.chars().count() > MAX_SEARCH_LEN {
        return Err(Error::validation(field, format!("at most {MAX_SEARCH_LEN} characters")));
    }
    if search.contains('\0') {
        return Err(Error::validation(field, "must not contain NUL characters"));
    }
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
}

impl TaskFilter {
    /// Checks the filter's rules; `path` prefixes field names in errors.
    pub fn validated(mut self, path: &str) -> Result<Self> {
        if self.role.is_some() && self.agency.is_none() {
            return Err(Error::validation(format!("{path}.role"), "filter by role needs an agency"));
        }
        self.search = normalise_search(self.search, &format!("{path}.search"))?;
        Ok(self)
    }
}

/// A task list query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TaskQuery {
    /// Which tasks.
    pub filter: TaskFilter,
    /// By task number.
    pub order: SortOrder,
    /// Keys are task numbers.
    pub page: PageRequest<i32>,
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
    /// Only demo (true) or only real (false) reports.
    pub demo: Option<bool>,
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
            demo: None,
        }
    }
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
    /// Order by submission time, then id (drafts never submitted by their creation time),
    /// instead of by id. Cursors still name report ids.
    pub by_submission: bool,
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
