//! privdesk's integration tests: one binary (fast to build), driving the desk layer and the
//! real program as a user's program would. Store tests run on SQLite and on PostgreSQL
//! (`PRIVDESK_TEST_PG_URL`; required when `CI=true`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test crate: its helpers too

mod support;
mod terminal;

mod architecture;
mod at_rest;
mod audit_chain;
mod canaries;
mod cli;
mod demo;
mod desk_requests;
mod docs;
mod e2e;
mod effects;
mod faults;
mod import;
mod import_batches;
mod keys_and_erasure;
mod reveal;
mod rolling;
mod ssh;
mod staff_accounts;
mod store_ops;
mod tui;
mod tui_reveal;
mod tui_search;
