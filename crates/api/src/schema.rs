//! The GraphQL schema: roots split by area and merged.

use std::sync::Arc;

use async_graphql::{Context, EmptySubscription, ID, Interface, MergedObject, Object};
use workplan_domain::model as m;
use workplan_domain::ports::Store;
use workplan_domain::service;

use crate::error::{GqlResultExt, bad_input};
use crate::ids::{self, Kind};
use crate::loaders::{ProvinceCode, TaskNumber};
use crate::types::agency::{self, Agency, AgencyConnection, AgencyFilterInput};
use crate::types::plan::{Plan, Section, Subsection};
use crate::types::province::Province;
use crate::types::report::{
    ProgressReport, ProgressReportConnection, ProgressReportFilter, SubmitProgressReportInput,
    SubmitProgressReportPayload, report_connection, report_query,
};
use crate::types::sync::{
    ApiToken, ChangeConnection, CreateApiTokenInput, CreateApiTokenPayload, ProgressReportPatch, ProgressReportPayload,
    ReviewDecision, SyncProgressReportsInput, SyncProgressReportsPayload, Viewer, change_connection, change_cursor,
    feed_size, report_id,
};
use crate::types::task::{Task, TaskConnection, TaskFilterInput, TaskOrder, task_connection, task_query};
use crate::types::{Total, load, store, viewer};
use workplan_domain::report::Edit;

/// The most IDs `nodes` takes at once.
pub const MAX_NODES: usize = 100;

/// Anything with a global ID.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "The object's global ID."))]
pub enum Node {
    Plan(Plan),
    Section(Section),
    Subsection(Subsection),
    Task(Task),
    Agency(Agency),
    Province(Province),
    ProgressReport(ProgressReport),
}

/// The plan, its sections and tasks.
#[derive(Default)]
pub struct PlanQuery;

/// The plan, its sections and tasks.
#[Object]
impl PlanQuery {
    /// The work plan.
    async fn plan(&self, ctx: &Context<'_>) -> async_graphql::Result<Plan> {
        match store(ctx)?.plan().await.gql()? {
            Some(plan) => Ok(Plan(plan)),
            None => Err(crate::error::to_graphql(&workplan_domain::Error::not_found("plan (none is loaded)", None))),
        }
    }

    /// The plan's sections, in order.
    #[graphql(complexity = "6 * child_complexity")]
    async fn sections(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Section>> {
        Ok(store(ctx)?.sections().await.gql()?.into_iter().map(Section).collect())
    }

    /// A task by its number, or null if there is no such task.
    async fn task(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The task number (1–106).")] number: i32,
    ) -> async_graphql::Result<Option<Task>> {
        Ok(load(ctx, TaskNumber(number)).await?.map(Task))
    }

    /// Tasks, filtered and paginated.
    #[expect(clippy::too_many_arguments, reason = "Relay connection arguments plus filter and order")]
    #[graphql(complexity = "crate::limits::page_cost(first, last) * child_complexity")]
    async fn tasks(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only tasks matching this filter.")] filter: Option<TaskFilterInput>,
        #[graphql(desc = "Sort order (default: by number, ascending).")] order_by: Option<TaskOrder>,
        #[graphql(desc = "Return the first n tasks (1–100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Return tasks after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n tasks (1–100).")] last: Option<i32>,
        #[graphql(desc = "Return tasks before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<TaskConnection> {
        let query = task_query(filter, order_by, first, after, last, before)?;
        let page = store(ctx)?.list_tasks(&query).await.gql()?;
        Ok(task_connection(page, Total::Tasks(query.filter)))
    }
}

/// Central agencies.
#[derive(Default)]
pub struct AgencyQuery;

/// Central agencies.
#[Object]
impl AgencyQuery {
    /// An agency by ID, or by name: its canonical name, any alias or its abbreviation (ignoring
    /// case). Give exactly one.
    async fn agency(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The agency's ID.")] id: Option<ID>,
        #[graphql(desc = "The agency's name, an alias or its abbreviation.")] name: Option<String>,
    ) -> async_graphql::Result<Option<Agency>> {
        match (id, name) {
            (Some(id), None) => {
                let id = ids::decode(Kind::Agency, &id, "id")?;
                Ok(load(ctx, m::AgencyId(id)).await?.map(Agency))
            }
            (None, Some(name)) => {
                if name.len() > 500 {
                    return Err(bad_input("name", "at most 500 characters"));
                }
                Ok(store(ctx)?.agency_by_name(&name).await.gql()?.map(Agency))
            }
            _ => Err(bad_input("id", "give exactly one of id or name")),
        }
    }

    /// Agencies by name, filtered and paginated.
    #[graphql(complexity = "crate::limits::page_cost(first, last) * child_complexity")]
    async fn agencies(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only agencies matching this filter.")] filter: Option<AgencyFilterInput>,
        #[graphql(desc = "Return the first n agencies (1–100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Return agencies after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n agencies (1–100).")] last: Option<i32>,
        #[graphql(desc = "Return agencies before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<AgencyConnection> {
        agency::list(ctx, filter, first, after, last, before).await
    }
}

/// Provinces.
#[derive(Default)]
pub struct ProvinceQuery;

/// Provinces.
#[Object]
impl ProvinceQuery {
    /// The 31 provincial-level divisions, by code.
    #[graphql(complexity = "31 * child_complexity")]
    async fn provinces(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Province>> {
        Ok(store(ctx)?.provinces().await.gql()?.into_iter().map(Province).collect())
    }

    /// A province by GB/T 2260 code (e.g. "440000"), or null.
    async fn province(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The six-digit GB/T 2260 code.")] code: String,
    ) -> async_graphql::Result<Option<Province>> {
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad_input("code", "a GB/T 2260 code is six digits"));
        }
        Ok(load(ctx, ProvinceCode(code)).await?.map(Province))
    }
}

/// Progress reports.
#[derive(Default)]
pub struct ReportQuery;

/// Progress reports.
#[Object]
impl ReportQuery {
    /// Progress reports, newest first, filtered and paginated.
    #[graphql(complexity = "crate::limits::page_cost(first, last) * child_complexity")]
    async fn progress_reports(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only reports matching this filter.")] filter: Option<ProgressReportFilter>,
        #[graphql(desc = "Return the first n reports (1–100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Return reports after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n reports (1–100).")] last: Option<i32>,
        #[graphql(desc = "Return reports before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<ProgressReportConnection> {
        let query = report_query(ctx, filter, first, after, last, before)?;
        let page = store(ctx)?.list_reports(&query).await.gql()?;
        Ok(report_connection(page, Total::Reports(query.filter)))
    }
}

async fn node_by_id(ctx: &Context<'_>, id: &str) -> async_graphql::Result<Option<Node>> {
    let Some((kind, n)) = ids::decode_any(id) else {
        return Ok(None);
    };
    Ok(match kind {
        Kind::Plan => store(ctx)?.plan().await.gql()?.filter(|p| p.id.0 == n).map(|p| Node::Plan(Plan(p))),
        Kind::Section => load(ctx, m::SectionId(n)).await?.map(|v| Node::Section(Section(v))),
        Kind::Subsection => load(ctx, m::SubsectionId(n)).await?.map(|v| Node::Subsection(Subsection(v))),
        Kind::Task => load(ctx, m::TaskId(n)).await?.map(|v| Node::Task(Task(v))),
        Kind::Agency => load(ctx, m::AgencyId(n)).await?.map(|v| Node::Agency(Agency(v))),
        Kind::Province => load(ctx, m::ProvinceId(n)).await?.map(|v| Node::Province(Province(v))),
        Kind::ProgressReport => match load(ctx, m::ReportId(n)).await? {
            Some(r) if crate::types::report::visible(ctx, &r)? => Some(Node::ProgressReport(ProgressReport(r))),
            _ => None,
        },
        Kind::ApiToken => None,
    })
}

/// Objects by global ID.
#[derive(Default)]
pub struct NodeQuery;

/// Objects by global ID.
#[Object]
impl NodeQuery {
    /// The object with this global ID, or null if there is none.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A global ID.")] id: ID,
    ) -> async_graphql::Result<Option<Node>> {
        node_by_id(ctx, &id).await
    }

    /// The objects with these global IDs (at most 100), in the same order; null where none.
    #[graphql(complexity = "ids.len().max(1) * child_complexity")]
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global IDs.")] ids: Vec<ID>,
    ) -> async_graphql::Result<Vec<Option<Node>>> {
        if ids.len() > MAX_NODES {
            return Err(bad_input("ids", format!("at most {MAX_NODES} IDs")));
        }
        futures::future::try_join_all(ids.iter().map(|id| node_by_id(ctx, id))).await
    }
}

/// Writers: who is calling, the review queue, the change feed and tokens.
#[derive(Default)]
pub struct SyncQuery;

/// Writers: who is calling, the review queue, the change feed and tokens.
#[Object]
impl SyncQuery {
    /// Who is calling: anonymous, or a token with its role and scope.
    async fn viewer(&self, ctx: &Context<'_>) -> Viewer {
        Viewer(viewer(ctx).clone())
    }

    /// Submitted reports waiting for review, oldest first (SUPERVISOR and ADMIN).
    #[graphql(complexity = "crate::limits::page_cost(first, None) * child_complexity")]
    async fn review_queue(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first n reports (1–100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Return reports after this cursor.")] after: Option<String>,
    ) -> async_graphql::Result<ProgressReportConnection> {
        workplan_domain::auth::can_review(viewer(ctx).principal().gql()?).gql()?;
        let filter = workplan_domain::page::ReportFilter {
            state: Some(m::ReportState::Submitted),
            ..workplan_domain::page::ReportFilter::new(workplan_domain::page::ReportScope::All)
        };
        let query = workplan_domain::page::ReportQuery {
            filter,
            page: crate::types::page_request("report", first, after, None, None)?,
            oldest_first: true,
        };
        let page = store(ctx)?.list_reports(&query).await.gql()?;
        Ok(report_connection(page, Total::Reports(query.filter)))
    }

    /// Every change to the reports the caller may see, in commit order. Poll with
    /// `after: <last endCursor>`: every change is seen exactly once, even while many writers
    /// commit concurrently.
    #[graphql(complexity = "crate::limits::page_cost(first.or(Some(100)), None) * child_complexity")]
    async fn changes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Continue after this cursor (from a previous page's endCursor).")] after: Option<String>,
        #[graphql(desc = "At most this many changes (1–500, default 100).")] first: Option<i32>,
    ) -> async_graphql::Result<ChangeConnection> {
        let scope = crate::types::scope(ctx)?;
        let size = feed_size(first)?;
        let after_id = change_cursor(after.clone())?;
        let (changes, more) = store(ctx)?.list_changes(after_id, size, &scope).await.gql()?;
        Ok(change_connection(changes, more, after_id, after))
    }

    /// Every API token (ADMIN).
    #[graphql(complexity = "100 * child_complexity")]
    async fn api_tokens(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ApiToken>> {
        workplan_domain::auth::can_manage_tokens(viewer(ctx).principal().gql()?).gql()?;
        Ok(store(ctx)?.tokens().await.gql()?.into_iter().map(ApiToken).collect())
    }
}

/// Every query.
#[derive(MergedObject, Default)]
pub struct Query(PlanQuery, AgencyQuery, ProvinceQuery, ReportQuery, NodeQuery, SyncQuery);

/// Writes.
#[derive(Default)]
pub struct Mutation;

/// Applies `edit` to the report `id` at `expected_version`: the one path for every edit.
async fn edit(
    ctx: &Context<'_>,
    id: &ID,
    expected_version: i32,
    edit: Edit,
    idempotency_key: Option<String>,
) -> async_graphql::Result<ProgressReportPayload> {
    let id = report_id(id)?;
    let report = service::edit_report(store(ctx)?.as_ref(), viewer(ctx), id, expected_version, edit, idempotency_key)
        .await
        .gql()?;
    Ok(ProgressReportPayload { report: ProgressReport(report) })
}

/// Writes. Every write checks every rule first; on any error nothing is written.
#[Object]
impl Mutation {
    /// Records a progress report: SUBMITTED for review, or a DRAFT. The reporter comes from the
    /// token; an admin names it. On any error nothing is written and `extensions.field` names
    /// the input field at fault.
    async fn submit_progress_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The report.")] input: SubmitProgressReportInput,
    ) -> async_graphql::Result<SubmitProgressReportPayload> {
        let (command, reporter, as_draft, key) = input.into_command()?;
        let report =
            service::submit_report(store(ctx)?.as_ref(), viewer(ctx), command, reporter, as_draft, key).await.gql()?;
        Ok(SubmitProgressReportPayload { report: ProgressReport(report) })
    }

    /// Edits a DRAFT, SUBMITTED or RETURNED report (its reporter, or an admin). A stale
    /// `expectedVersion` is a CONFLICT carrying `extensions.currentVersion`.
    async fn update_progress_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The report's ID.")] id: ID,
        #[graphql(desc = "The version the edit is based on.")] expected_version: i32,
        #[graphql(desc = "What to change.")] patch: ProgressReportPatch,
        #[graphql(desc = "Retries with the same key return the first result.")] idempotency_key: Option<String>,
    ) -> async_graphql::Result<ProgressReportPayload> {
        edit(ctx, &id, expected_version, patch.into(), idempotency_key).await
    }

    /// Withdraws a report that was not accepted (its reporter, or an admin). The change feed
    /// keeps a tombstone.
    async fn withdraw_progress_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The report's ID.")] id: ID,
        #[graphql(desc = "The version the withdrawal is based on.")] expected_version: i32,
        #[graphql(desc = "Retries with the same key return the first result.")] idempotency_key: Option<String>,
    ) -> async_graphql::Result<ProgressReportPayload> {
        edit(ctx, &id, expected_version, Edit::Withdraw, idempotency_key).await
    }

    /// Accepts or returns a SUBMITTED report (SUPERVISOR and ADMIN). Returning needs a comment.
    async fn review_progress_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The report's ID.")] id: ID,
        #[graphql(desc = "The version the review is based on.")] expected_version: i32,
        #[graphql(desc = "ACCEPT or RETURN.")] decision: ReviewDecision,
        #[graphql(desc = "The reviewer's comment; the reason when returning.")] comment: Option<String>,
        #[graphql(desc = "Retries with the same key return the first result.")] idempotency_key: Option<String>,
    ) -> async_graphql::Result<ProgressReportPayload> {
        edit(
            ctx,
            &id,
            expected_version,
            Edit::Review { accept: decision == ReviewDecision::Accept, comment },
            idempotency_key,
        )
        .await
    }

    /// Applies a batch of reports keyed by the caller's own ids: identical re-sends change
    /// nothing, changed items update their report, new ones create one. Invalid items are
    /// rejected one by one with field-level messages; the valid items of the same batch still
    /// apply, together in one transaction. At most 500 items.
    async fn sync_progress_reports(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The batch.")] input: SyncProgressReportsInput,
    ) -> async_graphql::Result<SyncProgressReportsPayload> {
        let (items, reporter, dry_run) = input.into_items()?;
        let results = service::sync_reports(store(ctx)?.as_ref(), viewer(ctx), items, reporter, dry_run).await.gql()?;
        if let (Ok(metrics), false) = (ctx.data::<Arc<crate::metrics::Metrics>>(), dry_run) {
            for (outcome, label) in [
                (workplan_domain::sync::SyncOutcome::Created, "CREATED"),
                (workplan_domain::sync::SyncOutcome::Updated, "UPDATED"),
                (workplan_domain::sync::SyncOutcome::Unchanged, "UNCHANGED"),
                (workplan_domain::sync::SyncOutcome::Rejected, "REJECTED"),
            ] {
                metrics.sync_items(label, results.iter().filter(|r| r.outcome == outcome).count() as u64);
            }
        }
        Ok(SyncProgressReportsPayload::from_results(results, dry_run))
    }

    /// Creates an API token (ADMIN). Its secret is in the payload, once.
    async fn create_api_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The token to create.")] input: CreateApiTokenInput,
    ) -> async_graphql::Result<CreateApiTokenPayload> {
        workplan_domain::auth::can_manage_tokens(viewer(ctx).principal().gql()?).gql()?;
        let agency = input.agency_id.map(|id| ids::decode(Kind::Agency, &id, "agencyId")).transpose()?.map(m::AgencyId);
        let secret = crate::auth::new_secret().gql()?;
        let issued = service::create_token(
            store(ctx)?.as_ref(),
            &input.name,
            input.role.into(),
            agency,
            input.province_code.as_deref(),
            input.expires_at,
            secret,
        )
        .await
        .gql()?;
        Ok(CreateApiTokenPayload { token: ApiToken(issued.token), secret: issued.secret })
    }

    /// Revokes an API token (ADMIN). It stops working at once.
    async fn revoke_api_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The token's ID.")] id: ID,
    ) -> async_graphql::Result<ApiToken> {
        workplan_domain::auth::can_manage_tokens(viewer(ctx).principal().gql()?).gql()?;
        let id = ids::decode(Kind::ApiToken, &id, "id")?;
        Ok(ApiToken(store(ctx)?.revoke_token(m::TokenId(id)).await.gql()?))
    }
}

/// The workplan schema.
pub type WorkplanSchema = async_graphql::Schema<Query, Mutation, EmptySubscription>;

/// The schema builder with every type, and no data or limits: enough to print the SDL.
pub fn schema_builder() -> async_graphql::SchemaBuilder<Query, Mutation, EmptySubscription> {
    async_graphql::Schema::build(Query::default(), Mutation, EmptySubscription)
        .extension(async_graphql::extensions::Tracing)
        .extension(crate::rate::RateLimitExtension)
}

/// The schema serving `store`, with `config`'s limits.
pub fn build_schema(store: Arc<dyn Store>, config: &crate::auth::ApiConfig) -> WorkplanSchema {
    let l = &config.limits;
    let mut builder = schema_builder()
        .limit_depth(l.max_depth)
        .limit_complexity(l.max_complexity)
        .limit_directives(l.max_directives)
        .limit_recursive_depth(l.max_nesting)
        .data(store);
    if !config.suggestions {
        builder = builder.disable_suggestions();
    }
    builder.finish()
}

/// The SDL clients see (`schema.graphql`).
pub fn sdl() -> String {
    schema_builder().finish().sdl()
}
