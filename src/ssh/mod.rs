//! `privdesk serve`: the built-in SSH server. Staff log in with their registered keys (and,
//! when configured, their password as a second factor) and land in the desk: one App per
//! connection, with its own terminal and input decoder. Nothing else is offered: no
//! commands, no file transfer, no forwarding.
//!
//! Like the screens, this module reaches only the desk layer and knows no screen but the
//! App.

mod handler;
pub mod hostkey;
pub mod input;
pub mod limits;
pub mod monitor;
pub mod output;
pub mod proxy;
mod server;
mod session;
mod stream;
mod text;

pub use monitor::{Monitor, SessionInfo};
pub use output::{OutputStats, QUEUE_CAP};
pub use server::{Server, SessionEnv, SettingsFactory, Setup};
