//! The audit history of a report: every write, with each changed field before and after.

use async_graphql::Object;
use chrono::{DateTime, Utc};

/// One write to a report.
pub(crate) struct HistoryEntry(pub workplan_domain::report::HistoryEntry);

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

    /// Who wrote (token name and role).
    async fn actor(&self) -> &str {
        &self.0.actor
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
