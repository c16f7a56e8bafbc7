//! The `workplan` command: read the settings, start telemetry, run the subcommand.

use clap::Parser as _;
use workplan_server::cli::Cli;
use workplan_server::config::Settings;
use workplan_server::telemetry::OtelMode;
use workplan_server::{commands, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::from_cli(&cli)?;
    // A standard variable this build cannot honour is a configuration error: one line, exit 2.
    let otel = OtelMode::from_env().unwrap_or_else(|e| {
        eprintln!("workplan: {e}");
        std::process::exit(2)
    });
    let _telemetry = telemetry::init(settings.log_format, settings.trace_fields, otel)?;
    commands::run(cli.command, &settings).await
}
