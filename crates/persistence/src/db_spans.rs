//! Database spans to the OpenTelemetry conventions. SeaORM opens a client span around every
//! statement (`sea_orm.query_all`, `sea_orm.execute`, …, its `tracing-spans` feature) with
//! `db.system` and `db.operation`; the store's statement callback, which runs inside that span,
//! adds `db.system.name`, `db.operation.name` and `db.collection.name` and renames the span
//! `{operation} {table}` (`SELECT progress_reports`). Never the statement's values: SeaORM is
//! told not to record the statement text at all.

use opentelemetry::KeyValue;
use opentelemetry::trace::TraceContextExt as _;
use sea_orm::DatabaseBackend;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// The statement kind and the table it names first, read from its SQL text.
pub(crate) fn describe(sql: &str) -> (String, Option<String>) {
    let mut words = sql.split_whitespace();
    let operation = words.next().unwrap_or_default().to_ascii_uppercase();
    let after = match operation.as_str() {
        "SELECT" | "DELETE" => "FROM",
        "INSERT" => "INTO",
        "UPDATE" => return (operation, words.next().map(table_name).filter(|t| !t.is_empty())),
        _ => return (operation, None),
    };
    let table = words.skip_while(|w| !w.eq_ignore_ascii_case(after)).nth(1).map(table_name);
    (operation, table.filter(|t| !t.is_empty()))
}

/// `"report_history"` or `"report_history"("id", …` → `report_history`.
fn table_name(word: &str) -> String {
    word.split(['(', ',', ')']).next().unwrap_or(word).trim_matches(|c| c == '"' || c == '`').to_owned()
}

/// Names the current span, when it is one of SeaORM's statement spans, after `sql`.
pub(crate) fn name_current(sql: &str, backend: DatabaseBackend) {
    let span = tracing::Span::current();
    if !span.metadata().is_some_and(|m| m.name().starts_with("sea_orm.")) {
        return;
    }
    let (operation, table) = describe(sql);
    let context = span.context();
    let otel = context.span();
    if !otel.is_recording() {
        return;
    }
    let system = match backend {
        DatabaseBackend::Postgres => "postgresql",
        DatabaseBackend::Sqlite => "sqlite",
        _ => "other_sql",
    };
    otel.set_attribute(KeyValue::new("db.system.name", system));
    otel.set_attribute(KeyValue::new("db.operation.name", operation.clone()));
    match table {
        Some(table) => {
            otel.update_name(format!("{operation} {table}"));
            otel.set_attribute(KeyValue::new("db.collection.name", table));
        }
        None => otel.update_name(operation),
    }
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn reads_kind_and_table() {
        let d = |sql: &str| describe(sql);
        assert_eq!(
            d(r#"SELECT "id" FROM "progress_reports" WHERE "id" = $1"#),
            ("SELECT".into(), Some("progress_reports".into()))
        );
        assert_eq!(
            d(r#"INSERT INTO "report_history" ("a", "b") VALUES ($1, $2)"#),
            ("INSERT".into(), Some("report_history".into()))
        );
        assert_eq!(d(r#"INSERT INTO "t"("a") VALUES (?)"#), ("INSERT".into(), Some("t".into())));
        assert_eq!(d(r#"update "api_tokens" SET "x" = $1"#), ("UPDATE".into(), Some("api_tokens".into())));
        assert_eq!(
            d(r#"DELETE FROM "idempotency_keys" WHERE "k" = ?"#),
            ("DELETE".into(), Some("idempotency_keys".into()))
        );
        assert_eq!(d("BEGIN"), ("BEGIN".into(), None));
        assert_eq!(d("SELECT 1"), ("SELECT".into(), None));
    }
}
