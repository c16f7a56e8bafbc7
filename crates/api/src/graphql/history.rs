//! The audit history of a report: every write, with each changed field before and after.

use async_graphql::{Context, Object};
use chrono::{DateTime, Utc};
use workplan_domain::actor::shown_to;
use workplan_domain::report::Reporter;

use crate::context::{require, viewer};

/// One write to a report, and the report's reporter (whom a reporter token's write is shown as).
pub(crate) struct HistoryEntry(pub workplan_domain::report::HistoryEntry, pub Reporter);

/// What the caller is shown of the actor `recorded` of a write to a report by `reporter`: ADMIN
/// and SUPERVISOR tokens read the token's name and role; everyone else reads the role (`ADMIN`,
/// `SUPERVISOR`, `READER`), or for a reporter token's write the reporter's name and the role
/// (`Guangdong (PROVINCE_REPORTER)`), and `unknown` for a record without a role.
pub(crate) async fn shown_actor(
    ctx: &Context<'_>,
    recorded: &str,
    reporter: Reporter,
) -> async_graphql::Result<String> {
    let shown = shown_to(viewer(ctx), recorded);
    let name = if shown.names_the_reporter() {
        match reporter {
            Reporter::Agency(id) => require(ctx, id).await?.name,
            Reporter::Province(id) => require(ctx, id).await?.name,
        }
    } else {
        String::new()
    };
    Ok(shown.text(&name))
}

/// One write to a report: who, when, what, and the fields it changed.
#[Object]
impl HistoryEntry {
    /// The version the write produced.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// CREATE, UPDATE, SUBMIT, SYNC, WITHDRAW, ACCEPT, RETURN, REOPEN or BACKFILL (an ADMIN import of a
    /// historical report).
    async fn action(&self) -> &str {
        &self.0.action
    }

    /// Who wrote. ADMIN and SUPERVISOR tokens read the token's name and role
    /// (`ops-bot (ADMIN)`); everyone else reads the role alone (`SUPERVISOR`), or, for a
    /// reporter's own write, the reporter and the role (`Guangdong (PROVINCE_REPORTER)`);
    /// `unknown` for a record that names no role.
    async fn actor(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        shown_actor(ctx, &self.0.actor, self.1).await
    }

    /// When.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }

    /// The fields that changed.
    async fn changes(&self) -> Vec<FieldChange> {
        self.0.changes.iter().cloned().map(FieldChange).collect()
    }
}

/// One field's value before and after a write.
pub(crate) struct FieldChange(pub workplan_domain::report::FieldChange);

/// One field's value before and after a write (as JSON; null when absent).
#[Object]
impl FieldChange {
    /// The field's name, as in ProgressReport.
    async fn field(&self) -> &str {
        &self.0.field
    }

    /// The value before.
    async fn before(&self) -> Option<async_graphql::Json<serde_json::Value>> {
        self.0.before.clone().map(async_graphql::Json)
    }

    /// The value after.
    async fn after(&self) -> Option<async_graphql::Json<serde_json::Value>> {
        self.0.after.clone().map(async_graphql::Json)
    }
}
