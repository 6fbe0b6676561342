//! privdesk: a terminal support desk where a client privacy policy is kept by the program.
//!
//! Layers (DESIGN.md): `domain` holds pure types and rules; `crypto` the keyring; `store`
//! the only SQL; `desk` the staff operations, each checked by the policy and audited;
//! `tui` and `ssh` the screens and the server, which reach only the desk.

pub mod cli;
pub mod config;
pub mod crypto;
pub mod desk;
pub mod domain;
pub mod logging;
pub mod ssh;
pub mod store;
pub mod tui;
