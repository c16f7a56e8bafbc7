//! The `workplan` command: read the settings, start telemetry, run the subcommand. A setting
//! that cannot work ends the process before anything starts, with one line on stderr and exit
//! code 2; a command that fails, with one line and exit code 1.

use std::process::ExitCode;

use clap::Parser as _;
use workplan_server::cli::{Cli, Command, one_line};
use workplan_server::config::{self, Settings};
use workplan_server::telemetry::OtelMode;
use workplan_server::{commands, telemetry};

/// The exit code of a configuration that cannot work (as clap's for a usage error).
const BAD_CONFIGURATION: u8 = 2;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => return fail(BAD_CONFIGURATION, &e.to_string()),
    };
    // Before any HTTP client (the OTLP exporter's, the webhooks') is built.
    workplan_api::webhook::client::install_crypto_provider();
    // Before the settings: the connection cap is derived from the open-file limit.
    workplan_server::listener::raise_open_file_limit();
    let settings = match Settings::from_cli(&cli) {
        Ok(settings) => settings,
        Err(e) => return fail(BAD_CONFIGURATION, &format!("error: {e:#}")),
    };
    // A standard variable this build cannot honour is a configuration error too.
    let otel = match OtelMode::from_env() {
        Ok(otel) => otel,
        Err(e) => return fail(BAD_CONFIGURATION, &format!("error: {e}")),
    };
    let _telemetry = match telemetry::init(settings.log_format, settings.trace_fields, otel) {
        Ok(telemetry) => telemetry,
        Err(e) => return fail(BAD_CONFIGURATION, &format!("error: {e:#}")),
    };
    // `workplan` alone serves on WORKPLAN_LISTEN: an address that cannot be is a setting too.
    let command = match cli.command {
        Some(command) => command,
        None => match config::default_listen() {
            Ok(listen) => Command::Serve { listen },
            Err(e) => return fail(BAD_CONFIGURATION, &format!("error: {e:#}")),
        },
    };
    match commands::run(Some(command), &settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(1, &format!("error: {e:#}")),
    }
}

/// Prints `message` on stderr as one line and gives the exit code `code`.
fn fail(code: u8, message: &str) -> ExitCode {
    eprintln!("{}", one_line(message));
    ExitCode::from(code)
}
