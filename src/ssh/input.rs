//! Bytes from an SSH channel → the desk's input events.
//!
//! The terminal-input parser is termina's (`termina::Parser`, the helix editor's crate,
//! adapted from crossterm's own Unix parser): it works on any byte slice, keeps an
//! incomplete sequence until more bytes come, and knows the CSI, SS3, modifier and mouse
//! encodings. crossterm's parser reads only the local tty; `vte`/`vt100` parse what a
//! terminal *displays*, not what a keyboard sends, and would need a hand-written key table.
//!
//! Two things are added around the parser:
//! - a lone ESC is held until [`ESC_TIMEOUT`] passes without more bytes, because the same
//!   byte begins every escape sequence (a sequence split across two packets is then joined);
//! - a bracketed paste is collected here, between the two fixed markers, and cut at a byte
//!   limit as it streams in: the parser would otherwise buffer a paste without bound until
//!   its end marker.

use std::time::Duration;

use crossterm::event as ct;
use termina::event as tm;
use tokio::time::Instant;

use crate::tui::Input;

/// How long a lone ESC waits for the rest of a sequence before it counts as the Esc key.
pub const ESC_TIMEOUT: Duration = Duration::from_millis(50);
/// A bracketed paste whose end marker does not arrive within this idle time is delivered
/// as it is (a broken client must not leave the session stuck in paste mode).
pub const PASTE_STALL: Duration = Duration::from_secs(1);

const PASTE_START: &[u8] = b"\x1b[200~";
const PASTE_END: &[u8] = b"\x1b[201~";

/// One connection's input decoder.
pub struct Decoder {
    parser: termina::Parser,
    /// Bytes that may begin a paste marker, kept until the next packet or the timeout.
    held: Vec<u8>,
    paste: Option<Paste>,
    paste_limit: usize,
    last_feed: Instant,
}

#[derive(Default)]
struct Paste {
    bytes: Vec<u8>,
    truncated: bool,
}

impl Paste {
    fn push(&mut self, bytes: &[u8], limit: usize) {
        let room = limit.saturating_sub(self.bytes.len());
        if bytes.len() > room {
            self.truncated = true;
        }
        self.bytes
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn into_string(self) -> String {
        let mut bytes = self.bytes;
        if self.truncated
            && let Err(e) = std::str::from_utf8(&bytes)
            && e.error_len().is_none()
        {
            // The cut fell inside a character: drop its first bytes.
            bytes.truncate(e.valid_up_to());
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl Decoder {
    /// `paste_limit`: the most bytes of one paste kept (the rest is dropped).
    pub fn new(paste_limit: usize) -> Decoder {
        Decoder {
            parser: termina::Parser::default(),
            held: Vec::new(),
            paste: None,
            paste_limit,
            last_feed: Instant::now(),
        }
    }

    /// Decodes one packet's bytes, appending complete events to `out`.
    pub fn feed(&mut self, bytes: &[u8], now: Instant, out: &mut Vec<Input>) {
        self.last_feed = now;
        let mut data = std::mem::take(&mut self.held);
        data.extend_from_slice(bytes);
        let mut rest = &data[..];
        while !rest.is_empty() {
            if let Some(paste) = &mut self.paste {
                if let Some(i) = find(rest, PASTE_END) {
                    paste.push(&rest[..i], self.paste_limit);
                    if let Some(p) = self.paste.take() {
                        out.push(Input::Paste(p.into_string()));
                    }
                    rest = &rest[i + PASTE_END.len()..];
                } else {
                    let keep = partial_suffix(rest, PASTE_END);
                    paste.push(&rest[..rest.len() - keep], self.paste_limit);
                    self.held = rest[rest.len() - keep..].to_vec();
                    rest = &[];
                }
            } else if let Some(i) = find(rest, PASTE_START) {
                // Everything before a marker is complete: a trailing ESC is the Esc key.
                self.parse(&rest[..i], false, out);
                self.paste = Some(Paste::default());
                rest = &rest[i + PASTE_START.len()..];
            } else {
                let keep = partial_suffix(rest, PASTE_START);
                self.parse(&rest[..rest.len() - keep], true, out);
                self.held = rest[rest.len() - keep..].to_vec();
                rest = &[];
            }
        }
    }

    /// When [`Decoder::flush`] should run if no more bytes come first.
    pub fn deadline(&self) -> Option<Instant> {
        if self.paste.is_some() {
            Some(self.last_feed + PASTE_STALL)
        } else if self.held.is_empty() {
            None
        } else {
            Some(self.last_feed + ESC_TIMEOUT)
        }
    }

    /// No more bytes came in time: a held ESC is the Esc key; a stalled paste is delivered.
    pub fn flush(&mut self, out: &mut Vec<Input>) {
        if let Some(mut p) = self.paste.take() {
            let held = std::mem::take(&mut self.held);
            p.push(&held, self.paste_limit);
            out.push(Input::Paste(p.into_string()));
            return;
        }
        let held = std::mem::take(&mut self.held);
        self.parse(&held, false, out);
    }

    fn parse(&mut self, bytes: &[u8], maybe_more: bool, out: &mut Vec<Input>) {
        if bytes.is_empty() {
            return;
        }
        self.parser.parse(bytes, maybe_more);
        while let Some(ev) = self.parser.pop() {
            if let Some(i) = input_of(ev) {
                out.push(i);
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The length of the longest end of `data` that begins `marker` (but is not all of it).
fn partial_suffix(data: &[u8], marker: &[u8]) -> usize {
    (1..marker.len())
        .rev()
        .find(|&k| data.ends_with(&marker[..k]))
        .unwrap_or(0)
}

/// termina's event → the App's input (crossterm's types). Terminal replies and focus
/// reports are not input.
pub fn input_of(ev: tm::Event) -> Option<Input> {
    match ev {
        tm::Event::Key(k) => key_of(k).map(Input::Key),
        tm::Event::Paste(s) => Some(Input::Paste(s)),
        tm::Event::Mouse(m) => Some(Input::Mouse(mouse_of(m))),
        _ => None,
    }
}

fn modifiers_of(m: tm::Modifiers) -> ct::KeyModifiers {
    let mut out = ct::KeyModifiers::NONE;
    for (from, to) in [
        (tm::Modifiers::SHIFT, ct::KeyModifiers::SHIFT),
        (tm::Modifiers::ALT, ct::KeyModifiers::ALT),
        (tm::Modifiers::CONTROL, ct::KeyModifiers::CONTROL),
        (tm::Modifiers::SUPER, ct::KeyModifiers::SUPER),
        (tm::Modifiers::HYPER, ct::KeyModifiers::HYPER),
        (tm::Modifiers::META, ct::KeyModifiers::META),
    ] {
        if m.contains(from) {
            out |= to;
        }
    }
    out
}

fn key_of(k: tm::KeyEvent) -> Option<ct::KeyEvent> {
    use ct::KeyCode as C;
    use tm::KeyCode as T;
    let code = match k.code {
        T::Char(c) => C::Char(c),
        T::Enter => C::Enter,
        T::Backspace => C::Backspace,
        T::Tab => C::Tab,
        T::Escape => C::Esc,
        T::Left => C::Left,
        T::Right => C::Right,
        T::Up => C::Up,
        T::Down => C::Down,
        T::Home => C::Home,
        T::End => C::End,
        T::BackTab => C::BackTab,
        T::PageUp => C::PageUp,
        T::PageDown => C::PageDown,
        T::Insert => C::Insert,
        T::Delete => C::Delete,
        T::KeypadBegin => C::KeypadBegin,
        T::CapsLock => C::CapsLock,
        T::ScrollLock => C::ScrollLock,
        T::NumLock => C::NumLock,
        T::PrintScreen => C::PrintScreen,
        T::Pause => C::Pause,
        T::Menu => C::Menu,
        T::Null => C::Null,
        T::Function(n) => C::F(n),
        T::Modifier(_) | T::Media(_) => return None,
    };
    let kind = match k.kind {
        tm::KeyEventKind::Press => ct::KeyEventKind::Press,
        tm::KeyEventKind::Repeat => ct::KeyEventKind::Repeat,
        tm::KeyEventKind::Release => ct::KeyEventKind::Release,
    };
    Some(ct::KeyEvent::new_with_kind(
        code,
        modifiers_of(k.modifiers),
        kind,
    ))
}

fn mouse_of(m: tm::MouseEvent) -> ct::MouseEvent {
    let button = |b: tm::MouseButton| match b {
        tm::MouseButton::Left => ct::MouseButton::Left,
        tm::MouseButton::Right => ct::MouseButton::Right,
        tm::MouseButton::Middle => ct::MouseButton::Middle,
    };
    let kind = match m.kind {
        tm::MouseEventKind::Down(b) => ct::MouseEventKind::Down(button(b)),
        tm::MouseEventKind::Up(b) => ct::MouseEventKind::Up(button(b)),
        tm::MouseEventKind::Drag(b) => ct::MouseEventKind::Drag(button(b)),
        tm::MouseEventKind::Moved => ct::MouseEventKind::Moved,
        tm::MouseEventKind::ScrollDown => ct::MouseEventKind::ScrollDown,
        tm::MouseEventKind::ScrollUp => ct::MouseEventKind::ScrollUp,
        tm::MouseEventKind::ScrollLeft => ct::MouseEventKind::ScrollLeft,
        tm::MouseEventKind::ScrollRight => ct::MouseEventKind::ScrollRight,
    };
    ct::MouseEvent {
        kind,
        column: m.column,
        row: m.row,
        modifiers: modifiers_of(m.modifiers),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ct::{KeyCode, KeyEvent, KeyModifiers};

    fn key(code: KeyCode) -> Input {
        Input::Key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    fn ch(c: char) -> Input {
        key(KeyCode::Char(c))
    }

    fn feed_all(d: &mut Decoder, packets: &[&[u8]]) -> Vec<Input> {
        let mut out = vec![];
        for p in packets {
            d.feed(p, Instant::now(), &mut out);
        }
        out
    }

    #[test]
    fn plain_keys_control_keys_and_utf8() {
        let mut d = Decoder::new(1000);
        let out = feed_all(&mut d, &[b"jk\r\x7f\x04", "я".as_bytes()]);
        assert_eq!(
            out,
            vec![
                ch('j'),
                ch('k'),
                key(KeyCode::Enter),
                key(KeyCode::Backspace),
                Input::Key(KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL)),
                ch('я'),
            ]
        );
        assert_eq!(d.deadline(), None);
    }

    #[test]
    fn sequences_split_across_packets_are_joined() {
        let mut d = Decoder::new(1000);
        // An arrow split after ESC, after ESC [, and a two-byte character split in half.
        let ya = "я".as_bytes();
        let out = feed_all(
            &mut d,
            &[
                b"\x1b",
                b"[A",
                b"\x1b[",
                b"B",
                &ya[..1],
                &ya[1..],
                b"\x1b[1;5",
                b"C",
            ],
        );
        assert_eq!(
            out,
            vec![
                key(KeyCode::Up),
                key(KeyCode::Down),
                ch('я'),
                Input::Key(KeyEvent::new(KeyCode::Right, KeyModifiers::CONTROL)),
            ]
        );
    }

    #[test]
    fn a_lone_esc_waits_for_the_timeout() {
        let mut d = Decoder::new(1000);
        let out = feed_all(&mut d, &[b"\x1b"]);
        assert!(out.is_empty(), "{out:?}");
        assert!(d.deadline().is_some());
        let mut out = vec![];
        d.flush(&mut out);
        assert_eq!(out, vec![key(KeyCode::Esc)]);
        assert_eq!(d.deadline(), None);
        // Alt-x is ESC followed by x in one packet.
        let out = feed_all(&mut d, &[b"\x1bx"]);
        assert_eq!(
            out,
            vec![Input::Key(KeyEvent::new(
                KeyCode::Char('x'),
                KeyModifiers::ALT
            ))]
        );
    }

    #[test]
    fn bracketed_paste_is_collected_split_and_capped() {
        let mut d = Decoder::new(1000);
        let out = feed_all(
            &mut d,
            &[
                b"a\x1b[20",
                b"0~hello\x1b",
                b"[201",
                b"~b",
                b"\x1b[200~x\x1b[201~",
            ],
        );
        assert_eq!(
            out,
            vec![
                ch('a'),
                Input::Paste("hello".into()),
                ch('b'),
                Input::Paste("x".into())
            ]
        );
        // Escape sequences inside a paste are text, not keys.
        let out = feed_all(&mut d, &[b"\x1b[200~\x1b[A\r\x1b[201~"]);
        assert_eq!(out, vec![Input::Paste("\u{1b}[A\r".into())]);
        // A long paste is cut as it streams in, on a character boundary.
        let mut d = Decoder::new(5);
        let mut packets: Vec<Vec<u8>> = vec![b"\x1b[200~".to_vec()];
        for _ in 0..1000 {
            packets.push("яяя".as_bytes().to_vec());
        }
        packets.push(b"\x1b[201~q".to_vec());
        let refs: Vec<&[u8]> = packets.iter().map(Vec::as_slice).collect();
        let out = feed_all(&mut d, &refs);
        assert_eq!(out, vec![Input::Paste("яя".into()), ch('q')]);
        assert!(d.paste.is_none() && d.held.is_empty());
    }

    #[test]
    fn a_paste_without_its_end_is_delivered_after_a_pause() {
        let mut d = Decoder::new(100);
        let out = feed_all(&mut d, &[b"\x1b[200~half"]);
        assert!(out.is_empty());
        assert!(d.deadline().is_some());
        let mut out = vec![];
        d.flush(&mut out);
        assert_eq!(out, vec![Input::Paste("half".into())]);
        assert_eq!(feed_all(&mut d, &[b"j"]), vec![ch('j')]);
    }

    #[test]
    fn an_insert_key_is_not_mistaken_for_a_paste() {
        // ESC [ 2 ~ shares its first three bytes with the paste marker.
        let mut d = Decoder::new(100);
        let out = feed_all(&mut d, &[b"\x1b[2", b"~"]);
        assert_eq!(out, vec![key(KeyCode::Insert)]);
    }
}
