//! The `workplan` command: read the settings, start telemetry, run the subcommand.

use clap::Parser as _;
use workplan_server::cli::Cli;
use workplan_server::config::Settings;
use workplan_server::{commands, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // Before the settings: the connection cap is derived from the open-file limit.
    workplan_server::listener::raise_open_file_limit();
    let settings = Settings::from_cli(&cli)?;
    let _telemetry = telemetry::init(settings.log_format, settings.trace_fields)?;
    commands::run(cli.command, &settings).await
}
