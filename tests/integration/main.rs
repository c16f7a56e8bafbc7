//! Integration tests: the real server over HTTP against a fresh database per test
//! (SQLite, or PostgreSQL when `WORKPLAN_TEST_POSTGRES_URL` is set).

mod agencies;
mod backfill;
mod corrections;
mod duplicates;
mod field_order;
mod http;
mod lifecycle;
mod migration;
mod nodes;
mod pagination;
mod permissions;
mod plan;
mod reports;
mod statements;
mod sync;
mod timestamps;
mod tokens;
mod websocket;
