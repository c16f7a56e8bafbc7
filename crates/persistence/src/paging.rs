//! Keyset pagination on SeaORM selects, for one list or one page per parent in one statement,
//! and the matching counts per parent (both over a batch of parents, see `batch.rs`).

use std::collections::HashMap;

use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, Query, SelectStatement, UnionType};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, Order, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Select, Value,
};

use crate::batch::{one_of, pages_per_parent};
use workplan_domain::listing::{Direction, PageRequest};

/// Restricts `select` to one page: the cursor bounds, the reading order and `size + 1` rows
/// (the extra row tells whether there is more).
pub(crate) fn keyset<E, C, K>(select: Select<E>, key: C, ascending: bool, page: &PageRequest<K>) -> Select<E>
where
    E: EntityTrait,
    C: ColumnTrait,
    K: Into<Value> + Clone,
{
    let mut select = select;
    if let Some(after) = &page.after {
        select = select.filter(if ascending { key.gt(after.clone()) } else { key.lt(after.clone()) });
    }
    if let Some(before) = &page.before {
        select = select.filter(if ascending { key.lt(before.clone()) } else { key.gt(before.clone()) });
    }
    let reading_ascending = ascending == (page.direction == Direction::Forward);
    select.order_by(key, if reading_ascending { Order::Asc } else { Order::Desc }).limit(u64::from(page.size) + 1)
}

/// The parents of a grouped page query, and the order rows are read in.
pub(crate) struct GroupedArms<'a, C> {
    /// The parent column.
    pub(crate) parent_col: C,
    /// The table's primary key.
    pub(crate) key_col: C,
    /// The parents.
    pub(crate) parent_ids: &'a [i64],
    /// Whether each group reads in ascending key order.
    pub(crate) reading_ascending: bool,
}

/// One keyset page per parent in a single statement of a text that does not depend on the
/// number of parents ([`pages_per_parent`]), grouped by parent in reading order: any page
/// restriction (`page_of`: bounds, order and limit) and any sort key (`key_of`, the key
/// `page_of` orders by).
pub(crate) async fn grouped_pages_with<E, S, Kf, Pf, Gf>(
    db: &impl ConnectionTrait,
    base: Select<E>,
    arms: GroupedArms<'_, E::Column>,
    page_of: Gf,
    parent_of: Pf,
    key_of: Kf,
) -> Result<HashMap<i64, Vec<E::Model>>, DbErr>
where
    E: EntityTrait,
    E::Model: FromQueryResult + Send + Sync,
    S: Ord,
    Gf: Fn(Select<E>) -> Select<E>,
    Pf: Fn(&E::Model) -> Option<i64>,
    Kf: Fn(&E::Model) -> S,
{
    let rows = pages_per_parent(db, page_of(base), arms.parent_col, arms.key_col, arms.parent_ids).await?;
    let mut groups: HashMap<i64, Vec<E::Model>> = HashMap::new();
    for row in rows {
        if let Some(parent) = parent_of(&row) {
            groups.entry(parent).or_default().push(row);
        }
    }
    for rows in groups.values_mut() {
        rows.sort_by_key(|r| key_of(r));
        if !arms.reading_ascending {
            rows.reverse();
        }
    }
    Ok(groups)
}

/// Counts the rows of `select` per parent in one `GROUP BY` statement, the parents bound as
/// one parameter ([`one_of`]). Parents without rows are absent from the map.
pub(crate) async fn grouped_counts<E: EntityTrait>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    parent: impl ColumnTrait,
    ids: &[i64],
) -> Result<HashMap<i64, i64>, DbErr> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Option<i64>, i64)> = select
        .filter(one_of(db.get_database_backend(), (E::default(), parent), ids))
        .select_only()
        .column(parent)
        .column_as(Expr::col(parent).count(), "n")
        .group_by(parent)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().filter_map(|(p, n)| Some((p?, n))).collect())
}

/// `LIKE` pattern matching `needle` anywhere, with `\` escaping the wildcards.
pub(crate) fn contains_pattern(needle: &str) -> String {
    let mut pattern = String::with_capacity(needle.len() + 2);
    pattern.push('%');
    for c in needle.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// One arm per distinct parent id — `page_of` applied to `base` restricted to that parent, so
/// each arm uses the `(parent, key)` index and stops at its limit — joined by `UNION ALL`.
/// `None` when there are no parents.
pub(crate) fn union_of_pages<E: EntityTrait>(
    base: &Select<E>,
    parent_col: impl ColumnTrait,
    parent_ids: &[i64],
    page_of: impl Fn(Select<E>) -> Select<E>,
) -> Option<SelectStatement> {
    let mut ids: Vec<i64> = parent_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let mut union: Option<SelectStatement> = None;
    for (i, id) in ids.iter().enumerate() {
        let arm = page_of(base.clone().filter(parent_col.eq(*id))).into_query();
        let wrapped = Query::select().column(Asterisk).from_subquery(arm, Alias::new(format!("p{i}"))).take();
        match union.as_mut() {
            None => union = Some(wrapped),
            Some(u) => {
                u.union(UnionType::All, wrapped);
            }
        }
    }
    union
}
