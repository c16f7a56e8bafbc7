//! Sorted task pages: by number, or by section or lead agency with the number breaking ties,
//! read with compound keyset cursors `(value, number)`. Each row comes back with its key, so
//! the cursors a page hands out are the keys the next page starts from.

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, ExprTrait, SimpleExpr};
use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, FromQueryResult, Order, QueryFilter, QueryOrder, QueryResult, QuerySelect,
    QueryTrait, Select, Value,
};
use workplan_domain::listing::{Direction, SortOrder, TaskKey, TaskQuery, TaskSort, TaskSortValue};

use crate::entities::task;
use crate::paging::union_of_pages;

const SORT_KEY: &str = "sort_key";

/// The value tasks are sorted by before their number, as SQL; `None` when sorting by number.
/// Names compare byte by byte on both databases (as the in-memory snapshot does).
fn sort_value(sort: TaskSort, backend: DbBackend) -> Option<SimpleExpr> {
    match sort {
        TaskSort::Number => None,
        TaskSort::Section => {
            Some(Expr::cust("(SELECT sections.position FROM sections WHERE sections.id = tasks.section_id)"))
        }
        TaskSort::LeadAgency => {
            let lead = "COALESCE((SELECT agencies.name FROM responsibilities \
                        JOIN agencies ON agencies.id = responsibilities.agency_id \
                        WHERE responsibilities.task_id = tasks.id AND responsibilities.role = 'LEAD' \
                        ORDER BY responsibilities.position LIMIT 1), '')";
            Some(Expr::cust(match backend {
                DbBackend::Postgres => format!("({lead} COLLATE \"C\")"),
                _ => format!("({lead})"),
            }))
        }
    }
}

fn value_of(key: &TaskKey) -> Option<Value> {
    match &key.value {
        TaskSortValue::None => None,
        TaskSortValue::Position(p) => Some((*p).into()),
        TaskSortValue::Name(n) => Some(n.clone().into()),
    }
}

/// `(value, number)` strictly beyond `key` in the direction `greater`.
fn beyond(value: Option<&SimpleExpr>, key: &TaskKey, greater: bool) -> SimpleExpr {
    let number = Expr::col((task::Entity, task::Column::Number));
    let past = |e: SimpleExpr, v: Value| if greater { e.gt(v) } else { e.lt(v) };
    let by_number = past(number, key.number.into());
    match (value, value_of(key)) {
        (Some(e), Some(v)) => past(e.clone(), v.clone()).or(e.clone().eq(v).and(by_number)),
        _ => by_number,
    }
}

/// Restricts `select` to one page of `query` (bounds, reading order, `size + 1` rows), with
/// the sort value selected as `sort_key`.
fn page_of(select: Select<task::Entity>, query: &TaskQuery, backend: DbBackend) -> Select<task::Entity> {
    let ascending = query.order == SortOrder::Ascending;
    let value = sort_value(query.sort, backend);
    let mut select = select;
    if let Some(v) = &value {
        select = select.column_as(v.clone(), SORT_KEY);
    }
    if let Some(after) = &query.page.after {
        select = select.filter(beyond(value.as_ref(), after, ascending));
    }
    if let Some(before) = &query.page.before {
        select = select.filter(beyond(value.as_ref(), before, !ascending));
    }
    let reading_ascending = ascending == (query.page.direction == Direction::Forward);
    let order = if reading_ascending { Order::Asc } else { Order::Desc };
    if let Some(v) = value {
        select = select.order_by(v, order.clone());
    }
    select.order_by(task::Column::Number, order).limit(u64::from(query.page.size) + 1)
}

/// A row and its key.
fn keyed(row: &QueryResult, sort: TaskSort) -> Result<(TaskKey, task::Model), DbErr> {
    let model = task::Model::from_query_result(row, "")?;
    let value = match sort {
        TaskSort::Number => TaskSortValue::None,
        TaskSort::Section => TaskSortValue::Position(row.try_get("", SORT_KEY)?),
        TaskSort::LeadAgency => TaskSortValue::Name(row.try_get("", SORT_KEY)?),
    };
    Ok((TaskKey { value, number: model.number }, model))
}

/// Sorts rows into reading order (as they were fetched).
fn in_reading_order(rows: &mut [(TaskKey, task::Model)], query: &TaskQuery) {
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    if (query.order == SortOrder::Ascending) != (query.page.direction == Direction::Forward) {
        rows.reverse();
    }
}

/// One page of `base` in reading order (at most `size + 1` rows).
pub(crate) async fn task_rows(
    db: &impl ConnectionTrait,
    base: Select<task::Entity>,
    query: &TaskQuery,
) -> Result<Vec<(TaskKey, task::Model)>, DbErr> {
    let statement = page_of(base, query, db.get_database_backend()).into_query();
    let rows = db.query_all(&statement).await?;
    rows.iter().map(|r| keyed(r, query.sort)).collect()
}

/// One page per parent as a single `UNION ALL` statement (each arm stops after `size + 1`
/// rows), grouped by parent, each group in reading order.
pub(crate) async fn grouped_task_rows(
    db: &impl ConnectionTrait,
    base: Select<task::Entity>,
    parent: task::Column,
    parent_ids: &[i64],
    query: &TaskQuery,
) -> Result<HashMap<i64, Vec<(TaskKey, task::Model)>>, DbErr> {
    let backend = db.get_database_backend();
    let Some(union) = union_of_pages(&base, parent, parent_ids, |s| page_of(s, query, backend)) else {
        return Ok(HashMap::new());
    };
    let mut groups: HashMap<i64, Vec<(TaskKey, task::Model)>> = HashMap::new();
    for row in db.query_all(&union).await? {
        let (key, model) = keyed(&row, query.sort)?;
        let id = match parent {
            task::Column::SectionId => model.section_id,
            _ => model.subsection_id,
        };
        groups.entry(id).or_default().push((key, model));
    }
    for rows in groups.values_mut() {
        in_reading_order(rows, query);
    }
    Ok(groups)
}
