//! `workplan seed --demo`: deterministic demo reports, kept apart from real ones.

use crate::cli::SeedArgs;
use crate::config::Settings;
use crate::prepare_database;
use anyhow::bail;

/// Who the history says scheduled the demo calendar.
const DEMO_ACTOR: &str = "system (seed --demo)";

/// Adds the demo reports `args` asks for, refusing to mix them into real data unless told to.
pub(super) async fn run(settings: &Settings, args: &SeedArgs) -> anyhow::Result<()> {
    let SeedArgs { demo, reports, seed, allow_mixed } = *args;
    if !demo {
        bail!("only demo data can be generated: pass --demo (real reports come through the API)");
    }
    let store = prepare_database(&settings.database_url, &settings.store_options()).await?;
    let (real, existing_demo) = store.report_counts().await?;
    if real > 0 && !allow_mixed {
        bail!(
            "the database holds {real} real reports; refusing to mix in demo data (pass --allow-mixed to do it anyway)"
        );
    }
    let (tasks, provinces) = store.demo_inputs().await?;
    let generated = workplan_domain::demo::generate(&tasks, &provinces, reports, seed);
    let n = store.insert_demo_reports(generated).await?;
    println!(
        "inserted {n} demo reports (seed {seed}); the database now holds {} demo and {real} real reports",
        existing_demo + n as u64
    );
    let calendar = workplan_domain::demo::calendar();
    let scheduled = store.schedule_missing_periods(&calendar, DEMO_ACTOR, chrono::Utc::now()).await?;
    println!(
        "scheduled {scheduled} reporting periods of the demo calendar ({} quarters, due {} days after each ends)",
        calendar.len(),
        workplan_domain::demo::DEMO_GRACE_DAYS
    );
    Ok(())
}
