//! Running the App in the local terminal: raw mode, the alternate screen, bracketed paste,
//! crossterm's event stream as input, and the terminal restored on exit and on panic.

use std::io::Write as _;
use std::sync::Arc;

use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste, Event, EventStream};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, execute};
use futures::StreamExt as _;
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use tokio::sync::mpsc;

use crate::desk::Desk;

use super::app::{App, Input, Settings};
use super::i18n::I18n;

fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(
        std::io::stdout(),
        DisableBracketedPaste,
        LeaveAlternateScreen,
        cursor::Show
    );
    let _ = std::io::stdout().flush();
}

/// Restores the terminal when dropped, whatever happened.
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Maps a crossterm event to the App's input.
pub fn input_of(ev: Event) -> Option<Input> {
    match ev {
        Event::Key(k) => Some(Input::Key(k)),
        Event::Paste(s) => Some(Input::Paste(s)),
        Event::Resize(w, h) => Some(Input::Resize(w, h)),
        Event::Mouse(m) => Some(Input::Mouse(m)),
        Event::FocusGained | Event::FocusLost => None,
    }
}

/// Opens the desk in this terminal, starting at the login screen.
pub async fn run(desk: Arc<Desk>, settings: Settings) -> anyhow::Result<()> {
    let i18n = Arc::new(I18n::new()?);
    // A panic restores the terminal before the message is printed.
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
    enable_raw_mode()?;
    let _guard = TerminalGuard;
    execute!(
        std::io::stdout(),
        EnterAlternateScreen,
        EnableBracketedPaste,
        cursor::Hide
    )?;
    let (w, h) = crossterm::terminal::size()?;
    let backend = CrosstermBackend::new(std::io::stdout());
    let mut terminal = Terminal::with_options(
        backend,
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, w, h)),
        },
    )?;
    terminal.clear()?;
    let (tx, rx) = mpsc::channel(256);
    let reader = tokio::spawn(async move {
        let mut events = EventStream::new();
        while let Some(Ok(ev)) = events.next().await {
            if let Some(i) = input_of(ev)
                && tx.send(i).await.is_err()
            {
                break;
            }
        }
    });
    desk.watch_changes();
    let app = App::new(desk, i18n, settings);
    let result = app.run(&mut terminal, rx).await;
    reader.abort();
    result?;
    Ok(())
}
