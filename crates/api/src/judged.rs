//! A period's judged obligations, kept between the pages of its reporting matrix.
//!
//! Paging through a period's matrix (3,745 obligations, 500 a page) would judge every
//! obligation again for each page. What a judgement depends on is all compared before one is
//! reused: the period and its due date, the plan's parts obligations are drawn from, the
//! report facts (the very chunk the store handed out: the store replaces it whenever a report
//! changes), the adjustments, and the clock — a judgement made at `judged_at` holds until
//! [`judged_until`] (the next due date to pass, or the next whole day of lateness). Anything
//! different is judged afresh. A few periods are kept; the replica stays stateless in that
//! nothing kept here is ever needed to answer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use workplan_domain::plan::{Responsibility, Task};
use workplan_domain::province::Province;
use workplan_domain::report::Period;
use workplan_domain::supervision::{
    Adjustments, Obligation, ObligationAdjustment, ReportFacts, ReportingPeriod, judged_until, obligations,
};
use workplan_domain::usecases::supervise::PlanFrame;

/// How many periods' judgements are kept.
const KEPT: usize = 4;

/// What a judgement was made from, and when it stops holding.
struct Judgement {
    period: ReportingPeriod,
    tasks: Vec<Task>,
    responsibilities: Vec<Responsibility>,
    provinces: Vec<Province>,
    facts: Vec<Arc<[ReportFacts]>>,
    adjustments: Vec<ObligationAdjustment>,
    judged_at: DateTime<Utc>,
    until: DateTime<Utc>,
    obligations: Arc<Vec<Obligation>>,
}

impl Judgement {
    fn holds_for(
        &self,
        period: &ReportingPeriod,
        frame: &PlanFrame,
        facts: &[Arc<[ReportFacts]>],
        adjustments: &[ObligationAdjustment],
        now: DateTime<Utc>,
    ) -> bool {
        self.judged_at <= now
            && now < self.until
            && self.period == *period
            && self.facts.len() == facts.len()
            && self.facts.iter().zip(facts).all(|(a, b)| Arc::ptr_eq(a, b))
            && self.adjustments == adjustments
            && self.tasks == frame.tasks
            && self.responsibilities == frame.responsibilities
            && self.provinces == frame.provinces
    }
}

/// The judgements kept by this replica (one per schema).
#[derive(Default)]
pub(crate) struct Judged {
    kept: Mutex<HashMap<Period, Judgement>>,
}

impl Judged {
    /// Every obligation of `period`, judged at `now`, from `facts` and `adjustments` (which the
    /// caller read for `period` alone): the kept judgement when nothing it depends on changed.
    pub(crate) fn obligations(
        &self,
        period: &ReportingPeriod,
        frame: &PlanFrame,
        facts: Vec<Arc<[ReportFacts]>>,
        adjustments: Vec<ObligationAdjustment>,
        now: DateTime<Utc>,
    ) -> Arc<Vec<Obligation>> {
        {
            let kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(j) = kept.get(&period.period).filter(|j| j.holds_for(period, frame, &facts, &adjustments, now))
            {
                return j.obligations.clone();
            }
        }
        let index = Adjustments::new(&adjustments);
        let owed =
            Arc::new(obligations(frame.obligation_plan(), period, facts.iter().flat_map(|c| c.iter()), &index, now));
        let mut due_ats: Vec<DateTime<Utc>> = owed.iter().map(|o| o.due_at).collect();
        due_ats.sort_unstable();
        due_ats.dedup();
        let judgement = Judgement {
            period: period.clone(),
            tasks: frame.tasks.clone(),
            responsibilities: frame.responsibilities.clone(),
            provinces: frame.provinces.clone(),
            facts,
            adjustments,
            judged_at: now,
            until: judged_until(due_ats, now),
            obligations: owed.clone(),
        };
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.len() >= KEPT && !kept.contains_key(&period.period) {
            // The oldest judgement makes room.
            if let Some(oldest) = kept.iter().min_by_key(|(_, j)| j.judged_at).map(|(p, _)| *p) {
                kept.remove(&oldest);
            }
        }
        kept.insert(period.period, judgement);
        owed
    }
}
