//! Integration tests: the real server over HTTP against a fresh database per test
//! (SQLite, or PostgreSQL when `WORKPLAN_TEST_POSTGRES_URL` is set).

mod agencies;
mod backfill;
mod batch_statements;
mod connections;
mod corrections;
mod demo;
mod duplicates;
mod export;
mod feed_order;
mod field_order;
mod http;
mod human_keys;
mod lifecycle;
mod migration;
mod nodes;
mod pagination;
mod parallel_writes;
mod periods;
mod permissions;
mod persisted;
mod plan;
mod readiness;
mod replicas;
mod report_filters;
mod reports;
mod reports_health;
mod snapshot_parity;
mod statements;
mod subscriptions;
mod supervision;
mod supervision_store;
mod sync;
mod timestamps;
mod tokens;
mod websocket;
