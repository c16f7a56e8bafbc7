//! `workplan serve`: the GraphQL API and GraphiQL until Ctrl-C or SIGTERM.

use std::net::SocketAddr;

use crate::config::Settings;
use crate::{Application, shutdown_signal};

/// Prepares the database, binds `listen` and serves until a shutdown signal.
pub(super) async fn run(settings: &Settings, listen: SocketAddr) -> anyhow::Result<()> {
    let app =
        Application::build(&settings.database_url, listen, &settings.store_options(), settings.api_config()).await?;
    let addr = app.local_addr()?;
    tracing::info!(%addr, "serving GraphQL at http://{addr}/graphql and GraphiQL at http://{addr}/");
    app.run_until(shutdown_signal()).await
}
