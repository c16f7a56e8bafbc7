//! workplan-api: the GraphQL schema (async-graphql), its DataLoaders, the mapping of errors to
//! GraphQL errors, and the HTTP surface (axum): `/graphql`, GraphiQL, spreadsheet exports
//! (`/export/…`), health checks, and the webhook worker ([`webhook`]).
//!
//! Talks to storage only through the domain's ports; knows nothing of SeaORM.
//! [`schema_builder`] needs no database, so the SDL can be printed anywhere.

pub mod admission;
pub mod auth;
pub mod client_address;
pub mod config;
mod connection;
mod context;
pub mod cost;
pub mod documents;
pub mod due_date_timer;
pub mod error;
pub mod export;
mod feed_follower;
mod graphql;
pub mod http;
mod ids;
mod judged;
pub mod limits;
mod loaders;
pub mod metrics;
pub mod rate;
mod report_wake;
pub mod schema;
pub mod socket_limits;
mod watch;
pub mod webhook;

pub use http::{AppState, router};
pub use schema::{WorkplanSchema, build_schema, schema_builder, sdl};
