//! Scorecards, batched: the scorecards of every agency and province a request asks for come
//! from one read of the calendar and the plan and one read of report facts per distinct range
//! of periods.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use workplan_domain::Error;
use workplan_domain::report::{Period, Reporter};
use workplan_domain::supervision::{ReportingPeriod, Scorecard, tally};
use workplan_domain::usecases::supervise::{PlanFrame, obligations_of};

use super::{LoadResult, StoreLoader};

/// A party's scorecard over the scheduled periods starting from `from` to `to` (inclusive, by
/// start; open when `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ScorecardOf {
    /// The agency or province.
    pub party: Reporter,
    /// The first period (by start).
    pub from: Option<Period>,
    /// The last period (by start).
    pub to: Option<Period>,
}

/// Whether `p` falls in the range.
fn within(p: &ReportingPeriod, from: Option<Period>, to: Option<Period>) -> bool {
    from.is_none_or(|f| p.starts_at >= f.starts_at()) && to.is_none_or(|t| p.starts_at <= t.starts_at())
}

impl Loader<ScorecardOf> for StoreLoader {
    type Value = Scorecard;
    type Error = Arc<Error>;

    async fn load(&self, keys: &[ScorecardOf]) -> LoadResult<ScorecardOf, Scorecard> {
        let calendar = self.periods.periods().await.map_err(Arc::new)?;
        let frame = PlanFrame::load(self.plan.as_ref()).await.map_err(Arc::new)?;
        let now = self.clock.now();
        let mut ranges: HashMap<(Option<Period>, Option<Period>), Vec<Reporter>> = HashMap::new();
        for k in keys {
            ranges.entry((k.from, k.to)).or_default().push(k.party);
        }
        let mut out = HashMap::with_capacity(keys.len());
        for ((from, to), parties) in ranges {
            let periods: Vec<ReportingPeriod> = calendar.iter().filter(|p| within(p, from, to)).cloned().collect();
            let owed = obligations_of(self.supervision.as_ref(), &frame, &periods, Some(&parties), now)
                .await
                .map_err(Arc::new)?;
            for party in parties {
                let card = tally(owed.iter().filter(|o| o.party == party), now);
                out.insert(ScorecardOf { party, from, to }, card);
            }
        }
        Ok(out)
    }
}
