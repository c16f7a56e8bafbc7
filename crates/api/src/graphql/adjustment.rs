//! Exemptions and extensions of obligations (SUPERVISOR or ADMIN): making them, one at a time
//! or in bulk, undoing them, and listing them.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use workplan_domain::access::can_supervise;
use workplan_domain::ids::TaskId;
use workplan_domain::report::{Period, Reporter as DomainReporter};
use workplan_domain::supervision::{AdjustmentId, AdjustmentKind, AdjustmentRequest, PartySelection};
use workplan_domain::usecases::supervise::{adjust_obligations, periods_between, revoke_adjustments};

use super::obligation::PartyKind;
use super::report::Reporter;
use super::task::Task;
use crate::context::{adjustments, clock, periods, plan, require, supervision, viewer};
use crate::error::{GqlResultExt, bad_input};
use crate::ids::{self, Kind};

/// The most task numbers, agencies or province codes one request may name.
const MAX_NAMED: usize = 200;

/// What an adjustment does.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "workplan_domain::supervision::AdjustmentKind")]
pub enum ObligationAdjustmentKind {
    /// The party owes no report (state EXEMPT).
    Exempt,
    /// The report is due at the adjustment's `dueAt` instead of the period's due date.
    Extend,
}

/// A supervisor's exemption or extension of one obligation.
pub(crate) struct ObligationAdjustment(pub workplan_domain::supervision::ObligationAdjustment);

/// A supervisor's exemption or extension of one obligation, with who made it and why; undone
/// ones stay listed with who undid them and why.
#[Object]
impl ObligationAdjustment {
    /// The adjustment's ID (pass it to `revokeObligationAdjustments`).
    async fn id(&self) -> ID {
        ids::encode(Kind::ObligationAdjustment, self.0.id.0)
    }

    /// EXEMPT or EXTEND.
    async fn kind(&self) -> ObligationAdjustmentKind {
        self.0.kind.into()
    }

    /// The period's key; null for an exemption from every period.
    async fn period(&self) -> Option<String> {
        self.0.period.map(|p| p.to_string())
    }

    /// The task.
    async fn task(&self, ctx: &Context<'_>) -> async_graphql::Result<Task> {
        require(ctx, self.0.task_id).await.map(Task)
    }

    /// The Agency or Province whose obligation it adjusts.
    async fn party(&self, ctx: &Context<'_>) -> async_graphql::Result<Reporter> {
        Reporter::of(ctx, self.0.party).await
    }

    /// The new due date (EXTEND only).
    async fn due_at(&self) -> Option<DateTime<Utc>> {
        self.0.due_at
    }

    /// Why it was made.
    async fn reason(&self) -> &str {
        &self.0.reason
    }

    /// Who made it (token name and role).
    async fn actor(&self) -> &str {
        &self.0.actor
    }

    /// When it was made.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }

    /// Whether it is in force (made and not undone).
    async fn active(&self) -> bool {
        self.0.revoked.is_none()
    }

    /// When it was undone, if it was.
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked.as_ref().map(|r| r.at)
    }

    /// Who undid it (token name and role), if anyone did.
    async fn revoked_by(&self) -> Option<&str> {
        self.0.revoked.as_ref().map(|r| r.actor.as_str())
    }

    /// Why it was undone, if it was.
    async fn revoke_reason(&self) -> Option<&str> {
        self.0.revoked.as_ref().map(|r| r.reason.as_str())
    }
}

/// Obligations to exempt: a period (or every period), tasks, and either named parties or a
/// party kind.
#[derive(InputObject, Debug)]
pub(crate) struct ExemptObligationsInput {
    /// The period's key; absent or null to exempt from every period.
    pub period: Option<String>,
    /// The tasks, by number (at most 200).
    pub task_numbers: Vec<i32>,
    /// Agencies by name, alias or abbreviation (each where it is responsible for a named task).
    pub agencies: Option<Vec<String>>,
    /// Provinces by GB/T 2260 code.
    pub province_codes: Option<Vec<String>>,
    /// Instead of naming parties: every agency responsible for a named task, or every province.
    pub party_kind: Option<PartyKind>,
    /// Why (required, at most 1000 characters; no control characters but line breaks and tabs, no bidi overrides or isolates); kept in the
    /// record.
    pub reason: String,
}

/// Obligations whose due date to extend: one period, tasks, and either named parties or a
/// party kind.
#[derive(InputObject, Debug)]
pub(crate) struct ExtendObligationsInput {
    /// The period's key.
    pub period: String,
    /// The tasks, by number (at most 200).
    pub task_numbers: Vec<i32>,
    /// Agencies by name, alias or abbreviation (each where it is responsible for a named task).
    pub agencies: Option<Vec<String>>,
    /// Provinces by GB/T 2260 code.
    pub province_codes: Option<Vec<String>>,
    /// Instead of naming parties: every agency responsible for a named task, or every province.
    pub party_kind: Option<PartyKind>,
    /// The new due date: an instant, not before the period starts.
    pub due_at: DateTime<Utc>,
    /// Why (required, at most 1000 characters; no control characters but line breaks and tabs, no bidi overrides or isolates); kept in the
    /// record.
    pub reason: String,
}

/// Adjustments to undo.
#[derive(InputObject, Debug)]
pub(crate) struct RevokeObligationAdjustmentsInput {
    /// The adjustments' IDs.
    pub ids: Vec<ID>,
    /// Why (required, at most 1000 characters; no control characters but line breaks and tabs, no bidi overrides or isolates); kept in the
    /// record.
    pub reason: String,
}

/// The adjustments a write made or changed.
#[derive(SimpleObject)]
pub(crate) struct ObligationAdjustmentsPayload {
    /// The adjustments as they now stand, one per obligation.
    pub adjustments: Vec<ObligationAdjustment>,
}

/// The parties and tasks a request names, resolved against the plan.
struct Selection {
    tasks: Vec<TaskId>,
    parties: PartySelection,
}

async fn select(
    ctx: &Context<'_>,
    task_numbers: &[i32],
    agencies: Option<Vec<String>>,
    province_codes: Option<Vec<String>>,
    party_kind: Option<PartyKind>,
) -> async_graphql::Result<Selection> {
    let named = agencies.iter().chain(province_codes.iter()).map(Vec::len).sum::<usize>();
    if task_numbers.len() > MAX_NAMED || named > MAX_NAMED {
        return Err(bad_input("taskNumbers", format!("at most {MAX_NAMED} tasks and {MAX_NAMED} parties")));
    }
    let plan = plan(ctx)?;
    let tasks = plan.tasks_by_numbers(task_numbers).await.gql()?;
    if let Some(n) = task_numbers.iter().find(|n| !tasks.iter().any(|t| t.number == **n)) {
        return Err(workplan_domain::Error::not_found(format!("task {n}"), Some("taskNumbers"))).gql();
    }
    let parties = match (named > 0, party_kind) {
        (true, Some(_)) => return Err(bad_input("partyKind", "name parties or give a party kind, not both")),
        (false, None) => return Err(bad_input("partyKind", "name agencies or provinces, or give a party kind")),
        (false, Some(kind)) => PartySelection::Kind(kind.into()),
        (true, None) => {
            let mut parties = Vec::with_capacity(named);
            for name in agencies.unwrap_or_default() {
                let agency = plan
                    .agency_by_name(&name)
                    .await
                    .gql()?
                    .ok_or_else(|| workplan_domain::Error::not_found(format!("agency {name:?}"), Some("agencies")));
                parties.push(DomainReporter::Agency(agency.gql()?.id));
            }
            let codes = province_codes.unwrap_or_default();
            let provinces = plan.provinces_by_codes(&codes).await.gql()?;
            for code in &codes {
                let province = provinces.iter().find(|p| &p.code == code).ok_or_else(|| {
                    workplan_domain::Error::not_found(format!("province {code:?}"), Some("provinceCodes"))
                });
                parties.push(DomainReporter::Province(province.gql()?.id));
            }
            PartySelection::Parties(parties)
        }
    };
    Ok(Selection { tasks: tasks.into_iter().map(|t| t.id).collect(), parties })
}

fn period_key(key: &str, field: &str) -> async_graphql::Result<Period> {
    Period::parse(key.trim())
        .map_err(|_| bad_input(field, "a period key: \"2016\", \"2016-H2\", \"2016-Q4\" or \"2016-09\""))
}

async fn apply(ctx: &Context<'_>, request: AdjustmentRequest) -> async_graphql::Result<ObligationAdjustmentsPayload> {
    let made = adjust_obligations(plan(ctx)?.as_ref(), adjustments(ctx)?.as_ref(), clock(ctx), viewer(ctx), &request)
        .await
        .gql()?;
    Ok(ObligationAdjustmentsPayload { adjustments: made.into_iter().map(ObligationAdjustment).collect() })
}

/// Exemptions and extensions.
#[derive(Default)]
pub(crate) struct AdjustmentMutationRoot;

/// Exemptions and extensions.
#[Object]
impl AdjustmentMutationRoot {
    /// Exempts obligations (SUPERVISOR or ADMIN): for one period or every period, the named
    /// tasks, and the named parties (each where it owes a report) or every party of a kind —
    /// e.g. every province from task 1 for every period. Exempted obligations are EXEMPT.
    /// An exemption already in force is returned as it stands. Undo with
    /// `revokeObligationAdjustments`. On any error nothing is written.
    async fn exempt_obligations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to exempt, and why.")] input: ExemptObligationsInput,
    ) -> async_graphql::Result<ObligationAdjustmentsPayload> {
        can_supervise(viewer(ctx).principal().gql()?).gql()?;
        let period = input.period.as_deref().map(|p| period_key(p, "period")).transpose()?;
        let s = select(ctx, &input.task_numbers, input.agencies, input.province_codes, input.party_kind).await?;
        let request = AdjustmentRequest {
            kind: AdjustmentKind::Exempt,
            period,
            tasks: s.tasks,
            parties: s.parties,
            due_at: None,
            reason: input.reason,
        };
        apply(ctx, request).await
    }

    /// Extends the due date of obligations for one period (SUPERVISOR or ADMIN): the named
    /// tasks, and the named parties or every party of a kind. The latest extension in force
    /// sets an obligation's `dueAt`; undoing it brings back the one before (or the period's
    /// due date). On any error nothing is written.
    async fn extend_obligations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to extend, to when, and why.")] input: ExtendObligationsInput,
    ) -> async_graphql::Result<ObligationAdjustmentsPayload> {
        can_supervise(viewer(ctx).principal().gql()?).gql()?;
        let period = period_key(&input.period, "period")?;
        let s = select(ctx, &input.task_numbers, input.agencies, input.province_codes, input.party_kind).await?;
        let request = AdjustmentRequest {
            kind: AdjustmentKind::Extend,
            period: Some(period),
            tasks: s.tasks,
            parties: s.parties,
            due_at: Some(input.due_at),
            reason: input.reason,
        };
        apply(ctx, request).await
    }

    /// Undoes exemptions and extensions (SUPERVISOR or ADMIN), recording who, when and why.
    /// Ones already undone stay as they were. An unknown ID is NOT_FOUND and nothing changes.
    async fn revoke_obligation_adjustments(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to undo, and why.")] input: RevokeObligationAdjustmentsInput,
    ) -> async_graphql::Result<ObligationAdjustmentsPayload> {
        can_supervise(viewer(ctx).principal().gql()?).gql()?;
        let ids: Vec<AdjustmentId> = input
            .ids
            .iter()
            .map(|id| ids::decode(Kind::ObligationAdjustment, id, "ids").map(AdjustmentId))
            .collect::<async_graphql::Result<_>>()?;
        let done =
            revoke_adjustments(adjustments(ctx)?.as_ref(), clock(ctx), viewer(ctx), &ids, &input.reason).await.gql()?;
        Ok(ObligationAdjustmentsPayload { adjustments: done.into_iter().map(ObligationAdjustment).collect() })
    }
}

/// The record of exemptions and extensions.
#[derive(Default)]
pub(crate) struct AdjustmentQueryRoot;

/// The record of exemptions and extensions.
#[Object]
impl AdjustmentQueryRoot {
    /// Exemptions and extensions (SUPERVISOR or ADMIN), oldest first: those for `period` and
    /// those for every period, or, without `period`, those of every scheduled period.
    async fn obligation_adjustments(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The period's key; absent for every scheduled period.")] period: Option<String>,
        #[graphql(desc = "Include undone ones.", default = false)] include_revoked: bool,
    ) -> async_graphql::Result<Vec<ObligationAdjustment>> {
        can_supervise(viewer(ctx).principal().gql()?).gql()?;
        let keys: Vec<Period> = match period {
            Some(p) => vec![period_key(&p, "period")?],
            None => {
                periods_between(periods(ctx)?.as_ref(), None, None).await.gql()?.into_iter().map(|p| p.period).collect()
            }
        };
        let mut found = supervision(ctx)?.adjustments(&keys).await.gql()?;
        found.retain(|a| include_revoked || a.revoked.is_none());
        found.sort_by_key(|a| a.id);
        Ok(found.into_iter().map(ObligationAdjustment).collect())
    }
}
