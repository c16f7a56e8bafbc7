//! The `workplan` command: read the settings, start telemetry, run the subcommand.

use clap::Parser as _;
use workplan_server::cli::Cli;
use workplan_server::config::Settings;
use workplan_server::{commands, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::from_cli(&cli)?;
    let _telemetry = telemetry::init(settings.log_format, settings.trace_fields)?;
    commands::run(cli.command, &settings).await
}
