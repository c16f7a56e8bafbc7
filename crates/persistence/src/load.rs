//! Loading the plan's seed data and demo reports: the administrative writes, outside the ports.

use std::collections::{HashMap, HashSet};

use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter, Set};
use workplan_domain::demo::{DemoReport, DemoTask};
use workplan_domain::ids::{AgencyId, ProvinceId, TaskId};
use workplan_domain::import::seed::{AgencySeed, PlanSeed, ProvinceSeed, SectionSeed, TaskSeed};
use workplan_domain::plan::{DocumentInfo, Responsibility, ResponsibilityMode, Role};
use workplan_domain::ports::Topic;
use workplan_domain::report::{ReportKey, ReportState};
use workplan_domain::{Error, Result};

use crate::convert::{collect, demo_report_active_model, to_report, to_responsibility, to_task};
use crate::entities::{
    agency, agency_alias, plan, progress_report, province, responsibility, section, subsection, task,
};
use crate::error::DbResultExt;
use crate::store::SeaStore;

/// What loading the seed data did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadOutcome {
    /// The plan was inserted (false: it was already there, nothing changed).
    pub plan_inserted: bool,
    /// How many provinces were inserted.
    pub provinces_inserted: usize,
}

impl SeaStore {
    /// Loads the plan and the provinces unless they are already present. Runs in one
    /// transaction: either all of the plan is there afterwards, or none of it.
    pub async fn load_seed(&self, seed: &PlanSeed, provinces: &[ProvinceSeed]) -> Result<LoadOutcome> {
        let _writer = self.sqlite_writer().await;
        let txn = self.begin_writing().await?;
        let existing = plan::Entity::find()
            .filter(plan::Column::DocumentNumber.eq(seed.document.document_number.as_str()))
            .count(&txn)
            .await
            .db()?;
        let plan_inserted = existing == 0;
        if plan_inserted {
            let plan_id = insert_plan(&txn, &seed.document).await?;
            let agency_ids = insert_agencies(&txn, &seed.agencies).await?;
            for (s_pos, s) in seed.sections.iter().enumerate() {
                insert_section(&txn, plan_id, position(s_pos)?, s, &agency_ids).await?;
            }
        }
        let provinces_inserted = insert_provinces(&txn, provinces).await?;
        txn.commit().await.db()?;
        if plan_inserted || provinces_inserted > 0 {
            self.plan_changed().await?;
        }
        Ok(LoadOutcome { plan_inserted, provinces_inserted })
    }

    /// Adds every alias of `agencies` that the database lacks (ignoring case) to the agency of
    /// the same name; returns how many it added. Runs at every start, so a database loaded
    /// before an alias joined the seed gets it too; running it again adds nothing.
    pub async fn add_missing_aliases(&self, agencies: &[AgencySeed]) -> Result<usize> {
        let _writer = self.sqlite_writer().await;
        let txn = self.begin_writing().await?;
        let rows = agency::Entity::find().all(&txn).await.db()?;
        let mut known: HashMap<i64, Vec<String>> = HashMap::new();
        for a in agency_alias::Entity::find().all(&txn).await.db()? {
            known.entry(a.agency_id).or_default().push(a.alias.to_lowercase());
        }
        let mut added = 0;
        for a in agencies {
            let Some(row) = rows.iter().find(|r| r.name == a.name) else {
                continue;
            };
            let have = known.entry(row.id).or_default();
            for alias in &a.aliases {
                let lower = alias.to_lowercase();
                if lower == row.name.to_lowercase() || have.contains(&lower) {
                    continue;
                }
                agency_alias::ActiveModel { agency_id: Set(row.id), alias: Set(alias.clone()), ..Default::default() }
                    .insert(&txn)
                    .await
                    .db()?;
                have.push(lower);
                added += 1;
            }
        }
        txn.commit().await.db()?;
        if added > 0 {
            self.plan_changed().await?;
        }
        Ok(added)
    }

    /// After the plan changed: this store's snapshot is loaded again at once, and the other
    /// replicas are told.
    async fn plan_changed(&self) -> Result<()> {
        self.plan.reload(self).await?;
        self.announce(Topic::Plan).await;
        Ok(())
    }

    /// What the demo generator draws from: every task with its agencies (and, on a DIVIDED
    /// task, its first listed lead), and every province.
    pub async fn demo_inputs(&self) -> Result<(Vec<DemoTask>, Vec<ProvinceId>)> {
        let tasks = collect(task::Entity::find().all(&self.db).await.db()?, to_task)?;
        let mut resps = collect(responsibility::Entity::find().all(&self.db).await.db()?, to_responsibility)?;
        resps.sort_by_key(|r| (r.task_id, r.position));
        let mut by_task: HashMap<TaskId, Vec<Responsibility>> = HashMap::new();
        for r in resps {
            by_task.entry(r.task_id).or_default().push(r);
        }
        let mut demo: Vec<DemoTask> = tasks
            .into_iter()
            .map(|t| {
                let resps = by_task.remove(&t.id).unwrap_or_default();
                let divided_lead = (t.mode == ResponsibilityMode::Divided)
                    .then(|| resps.iter().find(|r| r.role == Role::Lead).map(|r| r.agency_id))
                    .flatten();
                let mut agencies: Vec<AgencyId> = resps.iter().map(|r| r.agency_id).collect();
                agencies.sort();
                DemoTask { id: t.id, agencies, divided_lead }
            })
            .collect();
        demo.sort_by_key(|t| t.id);
        let mut provinces: Vec<ProvinceId> =
            province::Entity::find().all(&self.db).await.db()?.into_iter().map(|p| ProvinceId(p.id)).collect();
        provinces.sort();
        Ok((demo, provinces))
    }

    /// How many reports are real (not demo) and how many are demo.
    pub async fn report_counts(&self) -> Result<(u64, u64)> {
        let real = progress_report::Entity::find()
            .filter(progress_report::Column::IsDemo.eq(false))
            .count(&self.db)
            .await
            .db()?;
        let demo = progress_report::Entity::find()
            .filter(progress_report::Column::IsDemo.eq(true))
            .count(&self.db)
            .await
            .db()?;
        Ok((real, demo))
    }

    /// Inserts demo reports as their stories left them, in batches, in one transaction,
    /// skipping any whose key (reporter, task, period, kind) a live report already holds;
    /// returns how many were inserted.
    pub async fn insert_demo_reports(&self, reports: Vec<DemoReport>) -> Result<usize> {
        if reports.iter().any(|d| !d.report.is_demo) {
            return Err(Error::validation("reports", "only demo reports can be bulk-inserted"));
        }
        let _writer = self.sqlite_writer().await;
        let txn = self.begin_writing().await?;
        let live = progress_report::Entity::find()
            .filter(progress_report::Column::State.ne(ReportState::Withdrawn.as_str()))
            .all(&txn)
            .await
            .db()?;
        let mut taken: HashSet<ReportKey> =
            live.into_iter().map(|row| to_report(row).map(|r| r.key())).collect::<Result<_>>()?;
        let reports: Vec<DemoReport> = reports.into_iter().filter(|d| taken.insert(d.report.key())).collect();
        let total = reports.len();
        let mut batch = Vec::with_capacity(500);
        for report in reports {
            batch.push(demo_report_active_model(report)?);
            if batch.len() == 500 {
                progress_report::Entity::insert_many(std::mem::take(&mut batch)).exec(&txn).await.db()?;
            }
        }
        if !batch.is_empty() {
            progress_report::Entity::insert_many(batch).exec(&txn).await.db()?;
        }
        txn.commit().await.db()?;
        // Usually run by another process (`seed --demo`), which has no keeper to announce for it.
        self.facts.invalidate();
        self.announce(Topic::Reports).await;
        Ok(total)
    }
}

fn position(index: usize) -> Result<i32> {
    i32::try_from(index + 1).map_err(Error::internal)
}

/// Inserts the plan's document row; returns its id.
async fn insert_plan(txn: &DatabaseTransaction, d: &DocumentInfo) -> Result<i64> {
    let plan = plan::ActiveModel {
        document_number: Set(d.document_number.clone()),
        title: Set(d.title.clone()),
        plan_title: Set(d.plan_title.clone()),
        issuing_office: Set(d.issuing_office.clone()),
        issue_date: Set(d.issue_date),
        implements_title: Set(d.implements_title.clone()),
        implements_reference: Set(d.implements_reference.clone()),
        notice: Set(d.notice.clone()),
        ..Default::default()
    }
    .insert(txn)
    .await
    .db()?;
    Ok(plan.id)
}

/// Inserts the agencies with their aliases; returns their ids by canonical name, which is how
/// the tasks name them.
async fn insert_agencies<'a>(txn: &DatabaseTransaction, agencies: &'a [AgencySeed]) -> Result<HashMap<&'a str, i64>> {
    let mut agency_ids = HashMap::new();
    for a in agencies {
        let row = agency::ActiveModel {
            name: Set(a.name.clone()),
            name_zh: Set(a.name_zh.clone()),
            abbreviation: Set(a.abbreviation.clone()),
            ..Default::default()
        }
        .insert(txn)
        .await
        .db()?;
        for alias in &a.aliases {
            agency_alias::ActiveModel { agency_id: Set(row.id), alias: Set(alias.clone()), ..Default::default() }
                .insert(txn)
                .await
                .db()?;
        }
        agency_ids.insert(a.name.as_str(), row.id);
    }
    Ok(agency_ids)
}

/// Inserts a section, its subsections and their tasks.
async fn insert_section(
    txn: &DatabaseTransaction,
    plan_id: i64,
    pos: i32,
    s: &SectionSeed,
    agency_ids: &HashMap<&str, i64>,
) -> Result<()> {
    let section = section::ActiveModel {
        plan_id: Set(plan_id),
        position: Set(pos),
        numeral: Set(s.numeral.clone()),
        title: Set(s.title.clone()),
        ..Default::default()
    }
    .insert(txn)
    .await
    .db()?;
    for (ss_pos, ss) in s.subsections.iter().enumerate() {
        let subsection = subsection::ActiveModel {
            section_id: Set(section.id),
            position: Set(position(ss_pos)?),
            numeral: Set(ss.numeral.clone()),
            title: Set(ss.title.clone()),
            ..Default::default()
        }
        .insert(txn)
        .await
        .db()?;
        for t in &ss.tasks {
            let place = task::ActiveModel {
                plan_id: Set(plan_id),
                section_id: Set(section.id),
                subsection_id: Set(subsection.id),
                ..Default::default()
            };
            insert_task(txn, place, t, agency_ids).await?;
        }
    }
    Ok(())
}

/// Inserts a task at `place` (its plan, section and subsection) with its responsibilities, in
/// listed order.
async fn insert_task(
    txn: &DatabaseTransaction,
    place: task::ActiveModel,
    t: &TaskSeed,
    agency_ids: &HashMap<&str, i64>,
) -> Result<()> {
    let task = task::ActiveModel {
        number: Set(t.number),
        text: Set(t.text.clone()),
        responsibility_mode: Set(t.mode.as_str().to_owned()),
        ..place
    }
    .insert(txn)
    .await
    .db()?;
    let mut rows = Vec::with_capacity(t.responsibilities.len());
    for (r_pos, r) in t.responsibilities.iter().enumerate() {
        let agency_id = *agency_ids.get(r.agency.as_str()).ok_or_else(|| {
            Error::validation("plan", format!("task {} names unknown agency {:?}", t.number, r.agency))
        })?;
        rows.push(responsibility::ActiveModel {
            task_id: Set(task.id),
            agency_id: Set(agency_id),
            role: Set(r.role.as_str().to_owned()),
            position: Set(position(r_pos)?),
            ..Default::default()
        });
    }
    responsibility::Entity::insert_many(rows).exec(txn).await.db()?;
    Ok(())
}

/// Inserts the provinces if there are none yet; returns how many it inserted.
async fn insert_provinces(txn: &DatabaseTransaction, provinces: &[ProvinceSeed]) -> Result<usize> {
    if province::Entity::find().count(txn).await.db()? != 0 || provinces.is_empty() {
        return Ok(0);
    }
    let rows = provinces.iter().map(|p| province::ActiveModel {
        code: Set(p.code.clone()),
        name: Set(p.name.clone()),
        name_zh: Set(p.name_zh.clone()),
        kind: Set(p.kind.as_str().to_owned()),
        ..Default::default()
    });
    province::Entity::insert_many(rows).exec(txn).await.db()?;
    Ok(provinces.len())
}
