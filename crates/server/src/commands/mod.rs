//! The subcommands, one file each; `migrate` and `schema` are a line or two and live here.

mod export;
mod import_plan;
pub mod seed;
mod serve;
mod token;

use crate::cli::Command;
use crate::config::{self, Settings};

/// Runs `command`, or `serve` when there is none.
///
/// # Errors
/// Whatever the command fails with, with context for the person at the terminal.
pub async fn run(command: Option<Command>, settings: &Settings) -> anyhow::Result<()> {
    match command {
        None => serve::run(settings, config::default_listen()?).await,
        Some(Command::Serve { listen }) => serve::run(settings, listen).await,
        Some(Command::Migrate) => {
            crate::prepare_database(&settings.database_url, &settings.store_options()).await?;
            tracing::info!("the database is up to date");
            Ok(())
        }
        Some(Command::ImportPlan(args)) => import_plan::run(&args),
        Some(Command::Seed(args)) => seed::run(settings, &args).await,
        Some(Command::Schema) => {
            print!("{}", workplan_api::sdl());
            Ok(())
        }
        Some(Command::Token(command)) => token::run(settings, command).await,
        Some(Command::Export(command)) => export::run(settings, command).await,
    }
}
