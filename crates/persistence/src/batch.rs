//! Statements over a batch of keys whose text does not depend on how many keys there are.
//!
//! A DataLoader batch holds 1 or 106 parents. Were each key a parameter of its own (`IN ($1, …,
//! $n)`, or a `UNION ALL` with an arm per parent), every batch size would be a statement text of
//! its own, and PostgreSQL would parse and plan each of them afresh — for a page per task of the
//! whole plan that planning took 19 ms against 1.4 ms of execution. Here the keys travel as ONE
//! parameter, a `bigint[]` on PostgreSQL and a JSON array (text) on SQLite, so a batch of 2 and a
//! batch of 106 send the same text: sqlx prepares it once per connection and PostgreSQL can
//! reuse its plan. `tests/integration/batch_statements.rs` holds us to it.

use sea_orm::sea_query::extension::postgres::PgFunc;
use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, Func, IntoColumnRef, JoinType, Query, SimpleExpr};
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, FromQueryResult, QueryFilter, QuerySelect, QueryTrait,
    Select, Value,
};

/// The alias of the table of parent ids in [`pages_per_parent`].
const PARENTS: &str = "p";
/// The alias of each parent's page in [`pages_per_parent`].
const PAGE: &str = "r";

/// The distinct `ids`, sorted.
fn distinct(ids: &[i64]) -> Vec<i64> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The ids as a JSON array, SQLite's one parameter for a list (`json_each(?)` reads it).
fn json_array(ids: &[i64]) -> String {
    let items: Vec<String> = ids.iter().map(i64::to_string).collect();
    format!("[{}]", items.join(","))
}

/// The rows of the table of `ids` (each id once) that [`pages_per_parent`] and [`one_of`] read:
/// `unnest($1)` over a `bigint[]` on PostgreSQL, `json_each(?)` over a JSON array on SQLite.
fn id_table(backend: DatabaseBackend, ids: &[i64]) -> sea_orm::sea_query::FunctionCall {
    let ids = distinct(ids);
    match backend {
        DatabaseBackend::Postgres => Func::cust("unnest").arg(Expr::val(Value::from(ids))),
        _ => Func::cust("json_each").arg(Expr::val(json_array(&ids))),
    }
}

/// The column that holds each id in [`id_table`] aliased `alias`: PostgreSQL names the one
/// column of `unnest(…) AS p` after the alias; SQLite's `json_each` calls it `value`.
fn id_column(backend: DatabaseBackend, alias: &'static str) -> (Alias, Alias) {
    match backend {
        DatabaseBackend::Postgres => (Alias::new(alias), Alias::new(alias)),
        _ => (Alias::new(alias), Alias::new("value")),
    }
}

/// "`column` is one of `ids`" with the ids bound as one parameter: `column = ANY($1)` on
/// PostgreSQL (a `bigint[]`), `column IN (SELECT value FROM json_each(?))` on SQLite (a JSON
/// array). Both use an index on `column` as `IN (…)` does.
pub(crate) fn one_of(backend: DatabaseBackend, column: impl IntoColumnRef, ids: &[i64]) -> SimpleExpr {
    if backend == DatabaseBackend::Postgres {
        return Expr::col(column).eq(PgFunc::any(Expr::val(Value::from(distinct(ids)))));
    }
    let values =
        Query::select().column(id_column(backend, "j").1).from_function(id_table(backend, ids), Alias::new("j")).take();
    Expr::col(column).in_subquery(values)
}

/// Every parent's page in ONE statement whose text depends on the page's shape (its filter,
/// cursor, order and limit) but not on how many parents there are.
///
/// `page` is the page of any one parent but for the parent itself: its conditions, `ORDER BY`
/// and `LIMIT`. `parent` is the column naming the parent and `key` the table's primary key.
/// - PostgreSQL: `SELECT r.* FROM unnest($1) AS p JOIN LATERAL (page AND parent = p.p) AS r
///   ON TRUE`, a nested loop that reads each parent's page from the `(parent, sort key)` index
///   and stops at its `LIMIT`, as each arm of the former `UNION ALL` did.
/// - SQLite, which has no `LATERAL`: `SELECT r.* FROM json_each(?) AS p JOIN t AS r ON r.key
///   IN (page's keys AND parent = p.value)`, a correlated subquery per parent over the same
///   index, then each row by its key.
///
/// Rows come back in no particular order; parents without rows have none.
pub(crate) async fn pages_per_parent<E>(
    db: &impl ConnectionTrait,
    page: Select<E>,
    parent: E::Column,
    key: E::Column,
    ids: &[i64],
) -> Result<Vec<E::Model>, DbErr>
where
    E: EntityTrait,
    E::Model: FromQueryResult + Send + Sync,
{
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let of_parent = page.filter(Expr::col((E::default(), parent)).equals(id_column(backend, PARENTS)));
    let mut statement = Query::select();
    statement.column((Alias::new(PAGE), Asterisk)).from_function(id_table(backend, ids), Alias::new(PARENTS));
    if backend == DatabaseBackend::Postgres {
        statement.join_lateral(JoinType::InnerJoin, of_parent.into_query(), Alias::new(PAGE), Expr::cust("TRUE"));
    } else {
        let keys = of_parent.select_only().column(key).into_query();
        let in_page = Expr::col((Alias::new(PAGE), key)).in_subquery(keys);
        statement.join_as(JoinType::InnerJoin, E::default(), Alias::new(PAGE), in_page);
    }
    E::find().from_raw_sql(backend.build(&statement)).all(db).await
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};

    use super::*;

    #[test]
    fn the_ids_are_one_parameter_whatever_their_number() {
        let sql = |backend, ids: &[i64]| {
            let query =
                Query::select().column(Asterisk).from(Alias::new("t")).and_where(one_of(backend, "c", ids)).take();
            match backend {
                DatabaseBackend::Postgres => query.build(PostgresQueryBuilder),
                _ => query.build(SqliteQueryBuilder),
            }
        };
        let (pg, values) = sql(DatabaseBackend::Postgres, &[3, 1, 3]);
        assert_eq!(pg, r#"SELECT * FROM "t" WHERE "c" = ANY($1)"#);
        assert_eq!(values.0, vec![Value::from(vec![1_i64, 3])], "distinct, sorted, one array");
        assert_eq!(sql(DatabaseBackend::Postgres, &(1..=100).collect::<Vec<_>>()).0, pg);
        let (lite, values) = sql(DatabaseBackend::Sqlite, &[3, 1, 3]);
        assert_eq!(lite, r#"SELECT * FROM "t" WHERE "c" IN (SELECT "value" FROM json_each(?) AS "j")"#);
        assert_eq!(values.0, vec![Value::from("[1,3]")]);
        assert_eq!(sql(DatabaseBackend::Sqlite, &(1..=100).collect::<Vec<_>>()).0, lite);
    }
}
