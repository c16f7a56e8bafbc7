//! Report facts in memory: the states and times of the live PART reports of each period the
//! reporting matrix, the overdue list and the scorecards read — never report text — so that
//! paging through a period's matrix reads its facts once, not once a page.
//!
//! A period's facts are read again when they are older than [`MAX_AGE`], and at once after a
//! report changes: a write through this store marks every period stale before it returns (even
//! when it fails or its caller goes away: [`FactsChanged`] does it on drop), and the keeper
//! ([`SeaStore::keep_fresh`]) announces [`Topic::Reports`](workplan_domain::ports::Topic) to
//! the other replicas, which mark theirs stale when they hear it. A lost announcement (or a
//! writer in another process on SQLite, which cannot announce) is covered by the age limit: a
//! change reaches every replica's matrix within a second.
//!
//! A read that overlaps a change is answered but not kept: the generation is taken before the
//! rows are read, and facts read under an older generation than the current one are dropped.
//! Periods nobody reads are not kept either: every change empties the table, and every load
//! drops what has aged out.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use workplan_domain::Result;
use workplan_domain::report::Period;
use workplan_domain::supervision::ReportFacts;

use crate::store::SeaStore;

/// The oldest a period's facts may be when they are read.
pub(crate) const MAX_AGE: Duration = Duration::from_secs(1);

/// One period's facts, when they were read, and how many changes were known then.
#[derive(Debug)]
struct Entry {
    facts: Arc<[ReportFacts]>,
    read_at: Instant,
    generation: u64,
}

impl Entry {
    fn fresh(&self, generation: u64) -> bool {
        self.generation == generation && self.read_at.elapsed() < MAX_AGE
    }
}

/// The report facts a store answers supervision reads from.
#[derive(Debug, Default)]
pub(crate) struct LiveFacts {
    periods: RwLock<HashMap<Period, Entry>>,
    /// Counts the changes made or announced: facts read before the latest one are stale.
    changes: AtomicU64,
    /// Held while reading facts, so concurrent first reads of a period read it once.
    loading: tokio::sync::Mutex<()>,
}

impl LiveFacts {
    /// The facts of each of `periods` that are fresh, and the periods that are not.
    fn cached(&self, periods: &[Period]) -> (Vec<Arc<[ReportFacts]>>, Vec<Period>) {
        let generation = self.changes.load(Ordering::Acquire);
        let table = self.periods.read().unwrap_or_else(PoisonError::into_inner);
        let (mut found, mut missing) = (Vec::new(), Vec::new());
        for period in periods {
            match table.get(period).filter(|e| e.fresh(generation)) {
                Some(entry) => found.push(entry.facts.clone()),
                None => missing.push(*period),
            }
        }
        (found, missing)
    }

    /// The facts of every live PART report of `periods`, each period read at most once a
    /// [`MAX_AGE`] (in one statement for all the periods not in memory).
    pub(crate) async fn of(&self, store: &SeaStore, periods: &[Period]) -> Result<Vec<Arc<[ReportFacts]>>> {
        let mut wanted: Vec<Period> = Vec::with_capacity(periods.len());
        for period in periods {
            if !wanted.contains(period) {
                wanted.push(*period);
            }
        }
        let (mut found, missing) = self.cached(&wanted);
        if !missing.is_empty() {
            let _loading = self.loading.lock().await;
            // Another read may have loaded some of them while this one waited.
            let (more, missing) = self.cached(&missing);
            found.extend(more);
            if !missing.is_empty() {
                found.extend(self.load(store, &missing).await?);
            }
        }
        Ok(found)
    }

    /// The facts of `periods` when all of them are in memory and fresh.
    pub(crate) fn of_cached(&self, periods: &[Period]) -> Option<Vec<Arc<[ReportFacts]>>> {
        let (found, missing) = self.cached(periods);
        missing.is_empty().then_some(found)
    }

    /// Reads `periods`' facts (the caller holds `loading`) and keeps them unless a change came
    /// while they were read.
    async fn load(&self, store: &SeaStore, periods: &[Period]) -> Result<Vec<Arc<[ReportFacts]>>> {
        // Taken before reading: a change made while the rows are read leaves them stale.
        let generation = self.changes.load(Ordering::Acquire);
        let rows = store.read_report_facts(periods, None).await?;
        let mut by_period: HashMap<Period, Vec<ReportFacts>> = periods.iter().map(|p| (*p, Vec::new())).collect();
        for facts in rows {
            by_period.entry(facts.period).or_default().push(facts);
        }
        let read: Vec<(Period, Arc<[ReportFacts]>)> = by_period.into_iter().map(|(p, f)| (p, f.into())).collect();
        let mut table = self.periods.write().unwrap_or_else(PoisonError::into_inner);
        table.retain(|_, entry| entry.fresh(generation));
        if self.changes.load(Ordering::Acquire) == generation {
            let read_at = Instant::now();
            for (period, facts) in &read {
                table.insert(*period, Entry { facts: facts.clone(), read_at, generation });
            }
        }
        Ok(read.into_iter().map(|(_, facts)| facts).collect())
    }

    /// A report changed: forget every period's facts.
    pub(crate) fn invalidate(&self) {
        self.changes.fetch_add(1, Ordering::AcqRel);
        self.periods.write().unwrap_or_else(PoisonError::into_inner).clear();
    }
}

/// Marks the store's report facts stale when dropped, and asks the keeper to announce the
/// change to the other replicas: hold one across a report write, so that however the write
/// ends — committed, failed, or abandoned by its caller — no stale facts outlive it.
pub(crate) struct FactsChanged<'a>(pub(crate) &'a SeaStore);

impl Drop for FactsChanged<'_> {
    fn drop(&mut self) {
        self.0.reports_changed();
    }
}
