//! Integration tests: the real server over HTTP against a fresh database per test
//! (SQLite, or PostgreSQL when `WORKPLAN_TEST_POSTGRES_URL` is set).

mod agencies;
mod connections;
mod field_order;
mod http;
mod human_keys;
mod lifecycle;
mod migration;
mod nodes;
mod pagination;
mod permissions;
mod plan;
mod report_filters;
mod reports;
mod snapshot_parity;
mod statements;
mod sync;
mod tokens;
mod websocket;
