//! Scorecards: how well an agency or a province keeps its reporting deadlines.

use async_graphql::{Context, SimpleObject};
use workplan_domain::report::{Period, Reporter};

use crate::context::load;
use crate::error::{bad_input, internal};
use crate::loaders::ScorecardOf;

/// How well a party kept its reporting deadlines over a range of scheduled periods. Of the
/// obligations that are `due`, each is `onTime`, `late` or `missing`.
#[derive(SimpleObject)]
pub(crate) struct Scorecard {
    /// Obligations not exempted whose due date has passed.
    pub due: i64,
    /// Of the due, first submitted by the due date.
    pub on_time: i64,
    /// Of the due, first submitted after the due date.
    pub late: i64,
    /// Of the due, never submitted.
    pub missing: i64,
    /// Obligations whose report a supervisor ever returned (due or not).
    pub returned: i64,
    /// Obligations a supervisor exempted.
    pub exempt: i64,
    /// The mean days late of the late and missing obligations (a missing one counts the days
    /// until now); null when none is.
    pub mean_days_late: Option<f64>,
    /// onTime / due (0–1); null when nothing is due.
    pub on_time_rate: Option<f64>,
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `party`'s scorecard over the scheduled periods starting from `from` to `to` (period keys,
/// compared by start; open when absent), batched with the request's other scorecards.
pub(crate) async fn scorecard_of(
    ctx: &Context<'_>,
    party: Reporter,
    from: Option<String>,
    to: Option<String>,
) -> async_graphql::Result<Scorecard> {
    crate::context::scope(ctx)?;
    let parse = |key: Option<String>| key.map(|k| Period::parse(k.trim())).transpose();
    let from = parse(from)
        .map_err(|_| bad_input("from", "a period key: \"2016\", \"2016-H2\", \"2016-Q4\" or \"2016-09\""))?;
    let to =
        parse(to).map_err(|_| bad_input("to", "a period key: \"2016\", \"2016-H2\", \"2016-Q4\" or \"2016-09\""))?;
    if let (Some(f), Some(t)) = (from, to)
        && f.starts_at() > t.starts_at()
    {
        return Err(bad_input("to", format!("{t} starts before {f}")));
    }
    let card = load(ctx, ScorecardOf { party, from, to }).await?.ok_or_else(internal)?;
    Ok(Scorecard {
        due: count(card.due),
        on_time: count(card.on_time),
        late: count(card.late),
        missing: count(card.missing),
        returned: count(card.returned),
        exempt: count(card.exempt),
        mean_days_late: card.mean_days_late,
        on_time_rate: card.on_time_rate,
    })
}
