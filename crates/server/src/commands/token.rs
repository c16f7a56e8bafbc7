//! `workplan token create|list|revoke`: API tokens, managed from the host.

use std::time::Duration;

use anyhow::Context as _;
use workplan_domain::ports::{PlanReader as _, TokenStore as _};
use workplan_domain::usecases::{self, TokenRequest};
use workplan_persistence::SeaStore;

use crate::cli::{TokenCommand, TokenCreateArgs};
use crate::config::Settings;
use crate::prepare_database;

/// Runs one token command against the configured database.
pub(super) async fn run(settings: &Settings, command: TokenCommand) -> anyhow::Result<()> {
    let store = prepare_database(&settings.database_url, &settings.store_options()).await?;
    match command {
        TokenCommand::Create(args) => create(&store, args).await,
        TokenCommand::List => list(&store).await,
        TokenCommand::Revoke { name } => {
            let token = store.token_by_name(&name).await?.with_context(|| format!("no token is named {name:?}"))?;
            store.revoke_token(token.id).await?;
            eprintln!("revoked token {name:?}");
            Ok(())
        }
    }
}

/// Creates a token and prints its secret, once, as the last line of stdout (scripts read it there).
async fn create(store: &SeaStore, args: TokenCreateArgs) -> anyhow::Result<()> {
    let TokenCreateArgs { name, role, agency, province, expires_in_days } = args;
    let agency = match agency {
        Some(a) => Some(store.agency_by_name(&a).await?.with_context(|| format!("no agency is named {a:?}"))?.id),
        None => None,
    };
    let expires_at = expires_in_days.map(|d| chrono::Utc::now() + Duration::from_secs(u64::from(d) * 86_400));
    let secret = workplan_api::auth::new_secret()?;
    let request =
        TokenRequest { name: &name, role: role.into(), agency, province_code: province.as_deref(), expires_at };
    let issued = usecases::create_token(store, store, request, secret).await?;
    eprintln!("created token {:?} ({}); the secret is shown once:", issued.token.name, issued.token.role.as_str());
    println!("{}", issued.secret);
    Ok(())
}

/// One line per token: name, role, status, last use. Never the secret.
async fn list(store: &SeaStore) -> anyhow::Result<()> {
    for t in store.tokens().await? {
        let status = match (t.revoked_at, t.expires_at) {
            (Some(at), _) => format!("revoked {at}"),
            (None, Some(at)) => format!("expires {at}"),
            (None, None) => "active".to_owned(),
        };
        let used = t.last_used_at.map_or("never used".to_owned(), |at| format!("last used {at}"));
        println!("{}\t{}\t{}\t{}", t.name, t.role.as_str(), status, used);
    }
    Ok(())
}
