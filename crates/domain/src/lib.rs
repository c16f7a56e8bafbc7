//! workplan-domain: the model of a work plan, its rules, the plan importer and the
//! repository ports.
//!
//! This crate owns *what* workplan means and never *how* it is stored or served: it depends on
//! no IO crate (no sea-orm, sqlx, axum, async-graphql or tokio). Persistence implements the
//! [`ports`]; the API talks to them through the [`usecases`] and the ports.
//!
//! One concept per module: [`plan`], [`agency`], [`province`], [`report`] (with its period,
//! submit, edit, sync and history rules), [`supervision`] (the reporting calendar), [`access`] (who may do what), [`actor`] (who wrote, as each viewer is shown it), [`text`] (the characters free text may hold), [`token`], [`listing`]
//! (pages and filters), [`webhook`] (endpoints, deliveries, their address guard and retries), [`ports`], [`usecases`], [`import`] and [`demo`].

#![warn(missing_docs)]

pub mod access;
pub mod actor;
pub mod agency;
pub mod demo;
pub mod error;
pub mod ids;
pub mod import;
pub mod listing;
pub mod plan;
pub mod ports;
pub mod province;
pub mod report;
pub mod supervision;
pub mod text;
pub mod token;
pub mod usecases;
pub mod webhook;

pub use error::{Error, Result};
