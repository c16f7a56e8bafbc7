//! workplan-domain: the model of a work plan, its rules, the plan importer and the
//! repository ports.
//!
//! This crate owns *what* workplan means and never *how* it is stored or served: it depends on
//! no IO crate (no sea-orm, sqlx, axum, async-graphql or tokio). Persistence implements the
//! [`ports`]; the API talks to them.

pub mod auth;
pub mod demo;
pub mod error;
pub mod importer;
pub mod model;
pub mod page;
pub mod ports;
pub mod report;
pub mod seed;
pub mod service;
pub mod sync;

pub use error::{Error, Result};
