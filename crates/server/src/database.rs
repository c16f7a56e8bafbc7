//! The database's first-start preparation: connect, migrate, load the embedded plan.

use anyhow::Context as _;
use workplan_domain::import::seed::{AgencyRegistry, PlanSeed, ProvinceSeed, provinces_from_json};
use workplan_persistence::{SeaStore, StoreOptions};

/// The plan the service loads on first start (made by `workplan import-plan`).
pub const PLAN_JSON: &str = include_str!("../../../seeds/plan-2016-66.json");
/// The provincial-level divisions.
pub const PROVINCES_JSON: &str = include_str!("../../../seeds/provinces.json");
/// The agency registry the importer places agency names against.
pub const AGENCIES_JSON: &str = include_str!("../../../seeds/agencies.json");

/// The embedded plan (its agencies with every name the registry knows) and provinces.
///
/// # Errors
/// When the embedded files do not parse (a build made from broken seeds).
pub fn seed_data() -> anyhow::Result<(PlanSeed, Vec<ProvinceSeed>)> {
    let registry = AgencyRegistry::from_json(AGENCIES_JSON).context("the embedded agency registry is invalid")?;
    let plan =
        PlanSeed::from_json(PLAN_JSON).context("the embedded plan is invalid")?.with_registry_spellings(&registry);
    let provinces = provinces_from_json(PROVINCES_JSON).context("the embedded provinces are invalid")?;
    Ok((plan, provinces))
}

/// Connects, migrates and loads the plan if it is not there yet. Running it again changes
/// nothing.
///
/// # Errors
/// When the database cannot be reached, migrated or loaded; the message never holds a password.
pub async fn prepare_database(database_url: &str, options: &StoreOptions) -> anyhow::Result<SeaStore> {
    let store = SeaStore::connect(database_url, options)
        .await
        .with_context(|| format!("cannot connect to the database at {}", redact(database_url)))?;
    store.migrate().await.context("migrating the database failed")?;
    let (plan, provinces) = seed_data()?;
    let outcome = store.load_seed(&plan, &provinces).await.context("loading the plan failed")?;
    if outcome.plan_inserted {
        tracing::info!(document = %plan.document.document_number, "loaded the plan");
    }
    if outcome.provinces_inserted > 0 {
        tracing::info!(count = outcome.provinces_inserted, "loaded the provinces");
    }
    let aliases = store.add_missing_aliases(&plan.agencies).await.context("adding agency aliases failed")?;
    if aliases > 0 {
        tracing::info!(count = aliases, "added agency aliases");
    }
    Ok(store)
}

/// A database URL with any password replaced, for logs and errors.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme + 3], user, &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact("sqlite://workplan.db?mode=rwc"), "sqlite://workplan.db?mode=rwc");
    }

    #[test]
    fn embedded_seed_data_is_valid() {
        let (plan, provinces) = seed_data().expect("valid");
        assert_eq!(plan.tasks().count(), 106);
        assert_eq!(provinces.len(), 31);
        let aqsiq = plan.agencies.iter().find(|a| a.abbreviation.as_deref() == Some("AQSIQ")).expect("AQSIQ");
        let full = "General Administration of Quality Supervision, Inspection and Quarantine";
        assert!(aqsiq.aliases.iter().any(|a| a == full), "{:?}", aqsiq.aliases);
        let lao = plan.agencies.iter().find(|a| a.name == "Legislative Affairs Office").expect("LAO");
        assert!(lao.aliases.iter().any(|a| a == "Legislative Affairs Office of the State Council"));
    }
}
