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
    let store = match SeaStore::connect(database_url, options).await {
        Ok(store) => store,
        // A fresh error with the cause chain flattened and scrubbed: a driver's message may
        // quote the URL it could not parse, password and all.
        Err(error) => {
            let mut text = error.to_string();
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                text = format!("{text}: {cause}");
                source = cause.source();
            }
            anyhow::bail!("cannot connect to the database at {}: {}", redact(database_url), scrub(&text, database_url));
        }
    };
    // Replicas started together take turns: the first migrates and loads, the others then
    // find it done.
    let preparing = store.preparation_lock().await.context("waiting for another replica to prepare the database")?;
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
    preparing.release().await;
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

/// The password of a database URL, if it has one: what lies between the first `:` of the
/// credentials and the last `@` (however malformed the rest is).
fn password_of(url: &str) -> Option<&str> {
    let creds_start = url.find("://").map_or(0, |i| i + 3);
    let at = url.rfind('@').filter(|&at| at > creds_start)?;
    let (_, password) = url[creds_start..at].split_once(':')?;
    (!password.is_empty()).then_some(password)
}

/// `text` with the URL's password taken out, wherever it appears (as typed or
/// percent-decoded), for errors about `url`.
pub(crate) fn scrub(text: &str, url: &str) -> String {
    let Some(password) = password_of(url) else {
        return text.to_owned();
    };
    let mut out = text.replace(url, &redact(url)).replace(password, "***");
    let decoded = percent_encoding::percent_decode_str(password).decode_utf8_lossy();
    if !decoded.is_empty() {
        out = out.replace(decoded.as_ref(), "***");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every malformed variant the hardening review tried: the error, with its whole chain and
    /// in its debug form (what `main` prints), never holds the password.
    #[tokio::test]
    async fn a_bad_database_url_never_prints_its_password() {
        let options =
            StoreOptions { acquire_timeout: std::time::Duration::from_millis(300), ..StoreOptions::default() };
        for url in [
            "postgres://user:s3cr3tpw@127.0.0.1:notaport/db",
            "postgress://user:s3cr3tpw@127.0.0.1:5432/db",
            "postgres://user:s3cr3tpw@127.0.0.1:99999/db",
            "postgres://user:s3cr3tpw@/db",
            "postgres://user:s3cr3tpw@127.0.0.1:5432/db?sslmode=bogus",
            "postgres://user:s3cr3tpw@127.0.0.1:1/db",
            "postgres://user:s3cr%33tpw@127.0.0.1:notaport/db",
            "sqlite://user:s3cr3tpw@/nonexistent/dir/x.db",
            "mysql://user:s3cr3tpw@127.0.0.1:1/db",
            "postgres://user:s3cr3tpw@[::1:5432/db",
        ] {
            let Err(error) = prepare_database(url, &options).await else {
                panic!("{url} connected");
            };
            for shown in [format!("{error:#}"), format!("{error:?}"), error.to_string()] {
                assert!(!shown.contains("s3cr3tpw") && !shown.contains("s3cr%33tpw"), "{url}: {shown}");
                assert!(shown.contains("cannot connect to the database"), "{url}: {shown}");
            }
        }
    }

    #[test]
    fn scrubs_the_password_wherever_it_appears() {
        let url = "postgres://u:p%40ss@h/db";
        assert_eq!(scrub("bad url postgres://u:p%40ss@h/db (p@ss)", url), "bad url postgres://u:***@h/db (***)");
        assert_eq!(scrub("no secret here", "sqlite://x.db"), "no secret here");
    }

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
