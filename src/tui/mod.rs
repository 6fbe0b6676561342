//! The desk in the terminal. The App (app.rs) is the same code locally and over SSH: its
//! input and output are passed in. Screens receive only views from the desk layer; this
//! module reaches neither the store nor the keyring (a test checks it).

mod admin;
pub mod app;
mod draw;
mod handlers;
pub mod i18n;
pub mod keymap;
pub mod local;
pub mod state;
pub mod theme;

pub use app::{App, Input, Settings};
