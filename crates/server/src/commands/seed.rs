//! `workplan seed --demo`: deterministic demo reports, kept apart from real ones, and the demo
//! reporting calendar.

use std::collections::BTreeMap;

use anyhow::bail;
use workplan_domain::demo::{self, DemoReport};
use workplan_persistence::SeaStore;

use crate::cli::SeedArgs;
use crate::config::Settings;
use crate::prepare_database;

/// Who the history says scheduled the demo calendar.
const DEMO_ACTOR: &str = "system (seed --demo)";

/// What [`seed_demo`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSeeded {
    /// How many demo reports were inserted.
    pub inserted: usize,
    /// How many of the generated reports are in each lifecycle state ("ACCEPTED", "DRAFT", …);
    /// a report whose key a live report already holds was generated but not inserted.
    pub by_state: BTreeMap<&'static str, usize>,
    /// How many periods of the demo calendar were scheduled (those already scheduled are kept).
    pub scheduled: usize,
    /// How many real and how many demo reports the database held before.
    pub before: (u64, u64),
}

/// Adds `reports` demo reports generated from `seed` to `store` and schedules the demo
/// calendar, refusing to mix demo data into real data unless `allow_mixed`.
///
/// # Errors
/// When the database holds real reports (and mixing was not allowed), or a read or write fails.
pub async fn seed_demo(store: &SeaStore, reports: usize, seed: u64, allow_mixed: bool) -> anyhow::Result<DemoSeeded> {
    let (real, existing_demo) = store.report_counts().await?;
    if real > 0 && !allow_mixed {
        bail!(
            "the database holds {real} real reports; refusing to mix in demo data (pass --allow-mixed to do it anyway)"
        );
    }
    let (tasks, provinces) = store.demo_inputs().await?;
    let generated = demo::generate(&tasks, &provinces, reports, seed)?;
    let by_state = count_states(&generated);
    let inserted = store.insert_demo_reports(generated).await?;
    let scheduled = store.schedule_missing_periods(&demo::calendar(), DEMO_ACTOR, chrono::Utc::now()).await?;
    Ok(DemoSeeded { inserted, by_state, scheduled, before: (real, existing_demo) })
}

fn count_states(reports: &[DemoReport]) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for d in reports {
        *counts.entry(d.report.state.as_str()).or_insert(0) += 1;
    }
    counts
}

/// Adds the demo reports `args` asks for, refusing to mix them into real data unless told to.
pub(super) async fn run(settings: &Settings, args: &SeedArgs) -> anyhow::Result<()> {
    let SeedArgs { demo, reports, seed, allow_mixed } = *args;
    if !demo {
        bail!("only demo data can be generated: pass --demo (real reports come through the API)");
    }
    let store = prepare_database(&settings.database_url, &settings.store_options()).await?;
    let seeded = seed_demo(&store, reports, seed, allow_mixed).await?;
    let (real, existing_demo) = seeded.before;
    println!(
        "inserted {} demo reports (seed {seed}); the database now holds {} demo and {real} real reports",
        seeded.inserted,
        existing_demo + seeded.inserted as u64
    );
    let states: Vec<String> = seeded.by_state.iter().map(|(state, n)| format!("{n} {state}")).collect();
    println!("generated, by state: {}", states.join(", "));
    println!(
        "scheduled {} reporting periods of the demo calendar ({} quarters, due {} days after each ends)",
        seeded.scheduled,
        demo::calendar().len(),
        demo::DEMO_GRACE_DAYS
    );
    Ok(())
}
