//! An immutable, in-memory snapshot of the whole plan that answers every [`PlanReader`] query
//! with the same results as the SQL implementation (order, filters, keyset pages, counts,
//! case-insensitive agency names and aliases). The plan changes only when it is loaded, so a
//! snapshot can serve plan reads without a database; today it lets use cases and resolvers be
//! tested without one.

use std::collections::HashMap;

use async_trait::async_trait;

use crate::agency::Agency;
use crate::ids::{AgencyId, PlanId, ProvinceId, SectionId, SubsectionId, TaskId};
use crate::import::seed::{PlanSeed, ProvinceSeed};
use crate::listing::{
    AgencyFilter, AgencyQuery, Direction, Page, PageRequest, SortOrder, TaskFilter, TaskKey, TaskPage, TaskParent,
    TaskQuery, TaskSort, TaskSortValue,
};
use crate::plan::{Plan, Responsibility, Role, Section, Subsection, Task};
use crate::ports::PlanReader;
use crate::province::Province;
use crate::{Error, Result};

/// The rows a snapshot is built from, in any order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanData {
    /// The plan, if one is loaded.
    pub plan: Option<Plan>,
    /// Its sections.
    pub sections: Vec<Section>,
    /// Its subsections.
    pub subsections: Vec<Subsection>,
    /// Its tasks.
    pub tasks: Vec<Task>,
    /// Which agency answers for which task.
    pub responsibilities: Vec<Responsibility>,
    /// The agencies (their task counts are recomputed from `responsibilities`).
    pub agencies: Vec<Agency>,
    /// The provinces.
    pub provinces: Vec<Province>,
}

/// The whole plan in memory, sorted once for every query.
#[derive(Debug, Clone, Default)]
pub struct PlanSnapshot {
    data: PlanData,
}

fn index(n: usize) -> Result<i64> {
    i64::try_from(n + 1).map_err(Error::internal)
}

fn position(n: usize) -> Result<i32> {
    i32::try_from(n + 1).map_err(Error::internal)
}

impl PlanSnapshot {
    /// A snapshot of `data`. Sections, subsections and responsibilities are kept in position
    /// order, tasks by number, agencies by name and provinces by code.
    pub fn new(mut data: PlanData) -> Self {
        data.sections.sort_by_key(|s| (s.plan_id, s.position));
        data.subsections.sort_by_key(|s| (s.section_id, s.position));
        data.tasks.sort_by_key(|t| t.number);
        data.responsibilities.sort_by_key(|r| (r.task_id, r.position));
        let mut counts: HashMap<AgencyId, (i64, i64)> = HashMap::new();
        for r in &data.responsibilities {
            let c = counts.entry(r.agency_id).or_default();
            c.0 += 1;
            c.1 += i64::from(r.role == Role::Lead);
        }
        for a in &mut data.agencies {
            (a.task_count, a.lead_task_count) = counts.get(&a.id).copied().unwrap_or_default();
        }
        data.agencies.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        data.provinces.sort_by(|a, b| a.code.cmp(&b.code));
        Self { data }
    }

    /// The snapshot of a plan seed and the province seed, with the ids a fresh database gives
    /// them when they are loaded (1, 2, ... per table, in file order).
    pub fn from_seeds(seed: &PlanSeed, provinces: &[ProvinceSeed]) -> Result<Self> {
        let plan_id = PlanId(1);
        let mut data =
            PlanData { plan: Some(Plan { id: plan_id, document: seed.document.clone() }), ..PlanData::default() };
        let mut agency_ids = HashMap::new();
        for (i, a) in seed.agencies.iter().enumerate() {
            let id = AgencyId(index(i)?);
            agency_ids.insert(a.name.as_str(), id);
            data.agencies.push(Agency {
                id,
                name: a.name.clone(),
                name_zh: a.name_zh.clone(),
                abbreviation: a.abbreviation.clone(),
                aliases: a.aliases.clone(),
                task_count: 0,
                lead_task_count: 0,
            });
        }
        for (s_pos, s) in seed.sections.iter().enumerate() {
            let section_id = SectionId(index(s_pos)?);
            let (numeral, title) = (s.numeral.clone(), s.title.clone());
            data.sections.push(Section { id: section_id, plan_id, position: position(s_pos)?, numeral, title });
            for (ss_pos, ss) in s.subsections.iter().enumerate() {
                let subsection_id = SubsectionId(index(data.subsections.len())?);
                data.subsections.push(Subsection {
                    id: subsection_id,
                    section_id,
                    position: position(ss_pos)?,
                    numeral: ss.numeral.clone(),
                    title: ss.title.clone(),
                });
                for t in &ss.tasks {
                    let task_id = TaskId(index(data.tasks.len())?);
                    data.tasks.push(Task {
                        id: task_id,
                        plan_id,
                        section_id,
                        subsection_id,
                        number: t.number,
                        text: t.text.clone(),
                        mode: t.mode,
                    });
                    for (r_pos, r) in t.responsibilities.iter().enumerate() {
                        let agency_id = *agency_ids.get(r.agency.as_str()).ok_or_else(|| {
                            Error::validation("plan", format!("task {} names unknown agency {:?}", t.number, r.agency))
                        })?;
                        let position = position(r_pos)?;
                        data.responsibilities.push(Responsibility { task_id, agency_id, role: r.role, position });
                    }
                }
            }
        }
        for (i, p) in provinces.iter().enumerate() {
            data.provinces.push(Province {
                id: ProvinceId(index(i)?),
                code: p.code.clone(),
                name: p.name.clone(),
                name_zh: p.name_zh.clone(),
                kind: p.kind,
            });
        }
        Ok(Self::new(data))
    }

    /// The rows the snapshot holds.
    pub fn data(&self) -> &PlanData {
        &self.data
    }

    fn task_matches(&self, filter: &TaskFilter, task: &Task) -> bool {
        let named = |agency: AgencyId| {
            filter
                .agency_name
                .as_deref()
                .is_none_or(|name| self.data.agencies.iter().any(|a| a.id == agency && agency_named(a, name)))
        };
        let on_task = self.data.responsibilities.iter().any(|r| {
            r.task_id == task.id
                && filter.agency.is_none_or(|a| r.agency_id == a)
                && named(r.agency_id)
                && filter.role.is_none_or(|role| r.role == role)
        });
        let by_agency = filter.agency.is_none() && filter.agency_name.is_none();
        filter.section.is_none_or(|s| task.section_id == s)
            && filter.subsection.is_none_or(|s| task.subsection_id == s)
            && (by_agency || on_task)
            && filter.mode.is_none_or(|m| task.mode == m)
            && filter.search.as_deref().is_none_or(|s| contains(&task.text, s))
            && self.numeral_matches(filter, task)
    }

    fn numeral_matches(&self, filter: &TaskFilter, task: &Task) -> bool {
        let section = filter.section_numeral.as_deref().is_none_or(|n| {
            self.data.sections.iter().any(|s| s.id == task.section_id && s.numeral.to_lowercase() == n)
        });
        let subsection = filter.subsection_numeral.as_deref().is_none_or(|n| {
            self.data.subsections.iter().any(|s| s.id == task.subsection_id && s.numeral.to_lowercase() == n)
        });
        section && subsection
    }

    /// Where `task` stands when sorting by `sort`, as the SQL computes it.
    fn task_key(&self, sort: TaskSort, task: &Task) -> TaskKey {
        let value = match sort {
            TaskSort::Number => TaskSortValue::None,
            TaskSort::Section => TaskSortValue::Position(
                self.data.sections.iter().find(|s| s.id == task.section_id).map_or(0, |s| s.position),
            ),
            TaskSort::LeadAgency => {
                let lead = self
                    .data
                    .responsibilities
                    .iter()
                    .filter(|r| r.task_id == task.id && r.role == Role::Lead)
                    .min_by_key(|r| r.position)
                    .and_then(|r| self.data.agencies.iter().find(|a| a.id == r.agency_id));
                TaskSortValue::Name(lead.map(|a| a.name.clone()).unwrap_or_default())
            }
        };
        TaskKey { value, number: task.number }
    }

    /// One page of `tasks`, sorted as `query` asks.
    fn task_page<'a>(&self, tasks: impl Iterator<Item = &'a Task>, query: &TaskQuery) -> TaskPage {
        let mut keyed: Vec<(TaskKey, Task)> = tasks.map(|t| (self.task_key(query.sort, t), t.clone())).collect();
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        let ascending = query.order == SortOrder::Ascending;
        keyset_page(keyed.iter(), |(k, _)| k.clone(), ascending, &query.page)
    }

    fn agency_matches(&self, filter: &AgencyFilter, agency: &Agency) -> bool {
        let search = filter.search.as_deref().is_none_or(|s| {
            contains(&agency.name, s)
                || agency.abbreviation.as_deref().is_some_and(|a| contains(a, s))
                || contains(&agency.name_zh, s)
                || agency.aliases.iter().any(|a| contains(a, s))
        });
        let role = filter
            .role
            .is_none_or(|role| self.data.responsibilities.iter().any(|r| r.agency_id == agency.id && r.role == role));
        search && role
    }

    fn tasks_where<'a>(&'a self, filter: &'a TaskFilter) -> impl Iterator<Item = &'a Task> + 'a {
        self.data.tasks.iter().filter(move |t| self.task_matches(filter, t))
    }
}

/// Whether `name` (lower-case) is the agency's name, Chinese name, abbreviation or an alias,
/// ignoring case — as [`PlanReader::agency_by_name`] finds it.
fn agency_named(agency: &Agency, name: &str) -> bool {
    agency.name.to_lowercase() == name
        || agency.name_zh.to_lowercase() == name
        || agency.abbreviation.as_deref().is_some_and(|x| x.to_lowercase() == name)
        || agency.aliases.iter().any(|x| x.to_lowercase() == name)
}

/// Case-insensitive substring, as the SQL `lower(column) LIKE lower('%needle%')`.
fn contains(haystack: &str, needle: &str) -> bool {
    haystack.to_lowercase().contains(&needle.to_lowercase())
}

/// One keyset page of `sorted` (ascending by `key`), read as the SQL does: the cursor bounds,
/// the reading order, `size + 1` rows, then [`PageRequest::finish`].
fn keyset_page<'a, T: Clone + 'a, K: Ord>(
    sorted: impl DoubleEndedIterator<Item = &'a T>,
    key: impl Fn(&T) -> K,
    ascending: bool,
    page: &PageRequest<K>,
) -> Page<T> {
    let in_range = |item: &&T| {
        let k = key(item);
        let after = page.after.as_ref().is_none_or(|a| if ascending { k > *a } else { k < *a });
        let before = page.before.as_ref().is_none_or(|b| if ascending { k < *b } else { k > *b });
        after && before
    };
    let limit = page.size as usize + 1;
    let reading_ascending = ascending == (page.direction == Direction::Forward);
    let rows: Vec<T> = if reading_ascending {
        sorted.filter(in_range).take(limit).cloned().collect()
    } else {
        sorted.rev().filter(in_range).take(limit).cloned().collect()
    };
    page.finish(rows)
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn by_ids<T: Clone, K: PartialEq>(items: &[T], ids: &[K], id: impl Fn(&T) -> K) -> Vec<T> {
    items.iter().filter(|i| ids.contains(&id(i))).cloned().collect()
}

fn task_parent(parent: TaskParent, task: &Task) -> i64 {
    match parent {
        TaskParent::Section => task.section_id.0,
        TaskParent::Subsection => task.subsection_id.0,
    }
}

#[async_trait]
impl PlanReader for PlanSnapshot {
    async fn plan(&self) -> Result<Option<Plan>> {
        Ok(self.data.plan.clone())
    }

    async fn sections(&self) -> Result<Vec<Section>> {
        Ok(self.data.sections.clone())
    }

    async fn sections_by_ids(&self, ids: &[SectionId]) -> Result<Vec<Section>> {
        Ok(by_ids(&self.data.sections, ids, |s| s.id))
    }

    async fn subsections_by_ids(&self, ids: &[SubsectionId]) -> Result<Vec<Subsection>> {
        Ok(by_ids(&self.data.subsections, ids, |s| s.id))
    }

    async fn subsections_by_sections(&self, ids: &[SectionId]) -> Result<Vec<Subsection>> {
        Ok(by_ids(&self.data.subsections, ids, |s| s.section_id))
    }

    async fn tasks(&self) -> Result<Vec<Task>> {
        let mut tasks = self.data.tasks.clone();
        tasks.sort_by_key(|t| t.number);
        Ok(tasks)
    }

    async fn tasks_by_ids(&self, ids: &[TaskId]) -> Result<Vec<Task>> {
        Ok(by_ids(&self.data.tasks, ids, |t| t.id))
    }

    async fn tasks_by_numbers(&self, numbers: &[i32]) -> Result<Vec<Task>> {
        Ok(by_ids(&self.data.tasks, numbers, |t| t.number))
    }

    async fn list_tasks(&self, query: &TaskQuery) -> Result<TaskPage> {
        Ok(self.task_page(self.tasks_where(&query.filter), query))
    }

    async fn count_tasks(&self, filter: &TaskFilter) -> Result<i64> {
        Ok(count(self.tasks_where(filter).count()))
    }

    async fn list_tasks_grouped(
        &self,
        parent: TaskParent,
        ids: &[i64],
        query: &TaskQuery,
    ) -> Result<HashMap<i64, TaskPage>> {
        let mut pages = HashMap::new();
        for &id in ids {
            let page = self.task_page(self.tasks_where(&query.filter).filter(|t| task_parent(parent, t) == id), query);
            // The SQL groups the rows it fetched, so a parent whose page is empty is absent.
            if !page.items.is_empty() {
                pages.insert(id, page);
            }
        }
        Ok(pages)
    }

    async fn count_tasks_grouped(
        &self,
        parent: TaskParent,
        ids: &[i64],
        filter: &TaskFilter,
    ) -> Result<HashMap<i64, i64>> {
        let mut counts = HashMap::new();
        for t in self.tasks_where(filter) {
            let p = task_parent(parent, t);
            if ids.contains(&p) {
                *counts.entry(p).or_insert(0) += 1;
            }
        }
        Ok(counts)
    }

    async fn agencies_by_ids(&self, ids: &[AgencyId]) -> Result<Vec<Agency>> {
        let mut agencies = by_ids(&self.data.agencies, ids, |a| a.id);
        agencies.sort_by_key(|a| a.id);
        Ok(agencies)
    }

    async fn agency_by_name(&self, name: &str) -> Result<Option<Agency>> {
        let name = name.trim().to_lowercase();
        Ok(self.data.agencies.iter().filter(|a| agency_named(a, &name)).min_by_key(|a| a.id).cloned())
    }

    async fn list_agencies(&self, query: &AgencyQuery) -> Result<Page<Agency>> {
        let agencies: Vec<&Agency> =
            self.data.agencies.iter().filter(|a| self.agency_matches(&query.filter, a)).collect();
        Ok(keyset_page(agencies.into_iter(), |a| a.name.clone(), true, &query.page))
    }

    async fn count_agencies(&self, filter: &AgencyFilter) -> Result<i64> {
        Ok(count(self.data.agencies.iter().filter(|a| self.agency_matches(filter, a)).count()))
    }

    async fn responsibilities(&self) -> Result<Vec<Responsibility>> {
        let mut rows = self.data.responsibilities.clone();
        rows.sort_by_key(|r| (r.task_id, r.position));
        Ok(rows)
    }

    async fn responsibilities_by_tasks(&self, ids: &[TaskId]) -> Result<Vec<Responsibility>> {
        Ok(by_ids(&self.data.responsibilities, ids, |r| r.task_id))
    }

    async fn responsibilities_by_agencies(&self, ids: &[AgencyId], role: Option<Role>) -> Result<Vec<Responsibility>> {
        let mut rows = by_ids(&self.data.responsibilities, ids, |r| r.agency_id);
        rows.retain(|r| role.is_none_or(|role| r.role == role));
        Ok(rows)
    }

    async fn provinces(&self) -> Result<Vec<Province>> {
        Ok(self.data.provinces.clone())
    }

    async fn provinces_by_ids(&self, ids: &[ProvinceId]) -> Result<Vec<Province>> {
        let mut provinces = by_ids(&self.data.provinces, ids, |p| p.id);
        provinces.sort_by_key(|p| p.id);
        Ok(provinces)
    }

    async fn provinces_by_codes(&self, codes: &[String]) -> Result<Vec<Province>> {
        Ok(by_ids(&self.data.provinces, codes, |p| p.code.clone()))
    }
}

#[cfg(test)]
mod tests;
