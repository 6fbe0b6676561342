//! The screen's bytes → the SSH channel, through a bounded queue.
//!
//! ratatui draws a frame as the difference from the frame before, so frames cannot simply
//! be dropped: the client would keep cells ratatui believes are gone. The queue therefore
//! coalesces frames up to [`QUEUE_CAP`] bytes (waiting plus being sent). A frame that does
//! not fit *stalls* the session: what is waiting is discarded, every later frame is dropped,
//! and once the channel has taken what it was sending, the writer asks for a full repaint
//! (the App redraws everything on a resize to the same size). A slow client thus gets fewer,
//! fresher frames; a client that stops reading costs at most the cap, never more memory.
//!
//! The backend wraps crossterm's, so the escape sequences are crossterm's, but answers the
//! size and cursor questions itself: ratatui must never ask the server's own tty.

use std::io::{self, Write};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crossterm::{cursor, event as ct, terminal};
use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use tokio::sync::Notify;

/// Bytes waiting and being sent for one session, at most (a single frame larger than this
/// still goes out when nothing else is queued, so a huge window still draws).
pub const QUEUE_CAP: usize = 64 * 1024;

/// The terminal size a client may ask for, at most.
pub const MAX_COLS: u16 = 500;
pub const MAX_ROWS: u16 = 200;

/// Caps a size asked for by a client (zero means "unknown": 80×24).
pub fn cap_size(cols: u32, rows: u32) -> (u16, u16) {
    let fit = |v: u32, max: u16, default: u16| {
        if v == 0 {
            default
        } else {
            u16::try_from(v).unwrap_or(max).min(max)
        }
    };
    (fit(cols, MAX_COLS, 80), fit(rows, MAX_ROWS, 24))
}

/// Counters of one session's output (tests and benchmarks read them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutputStats {
    /// Bytes waiting or being sent now.
    pub queued: usize,
    /// The most bytes ever waiting or being sent at once.
    pub peak_queued: usize,
    /// Frames accepted and frames dropped while stalled.
    pub frames: u64,
    pub dropped_frames: u64,
    /// Full repaints asked for after a stall.
    pub repaints: u64,
    /// Bytes handed to the channel.
    pub sent: u64,
}

#[derive(Default)]
struct State {
    pending: Vec<u8>,
    in_flight: usize,
    stalled: bool,
    finished: bool,
    stats: OutputStats,
}

impl State {
    fn note_queued(&mut self) {
        self.stats.queued = self.pending.len() + self.in_flight;
        self.stats.peak_queued = self.stats.peak_queued.max(self.stats.queued);
    }
}

/// What the channel writer should do next.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// Send these bytes.
    Send(Vec<u8>),
    /// Frames were dropped: ask the App for a full repaint, then go on.
    Repaint,
    /// The session is over and everything queued was taken.
    Done,
}

/// The queue between one session's terminal and its channel writer.
#[derive(Default)]
pub struct OutputQueue {
    state: Mutex<State>,
    ready: Notify,
}

impl OutputQueue {
    pub fn new() -> Arc<OutputQueue> {
        Arc::new(OutputQueue::default())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock leaves plain bytes and counters: still usable.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Queues one frame, or drops it (see the module's notes). Never blocks.
    pub fn push_frame(&self, frame: &[u8]) {
        if frame.is_empty() {
            return;
        }
        let mut s = self.lock();
        if s.finished {
            return;
        }
        let queued = s.pending.len() + s.in_flight;
        if s.stalled {
            s.stats.dropped_frames += 1;
        } else if queued == 0 || queued + frame.len() <= QUEUE_CAP {
            s.pending.extend_from_slice(frame);
            s.stats.frames += 1;
            s.note_queued();
            drop(s);
            self.ready.notify_one();
        } else {
            s.stalled = true;
            s.pending = Vec::new();
            s.stats.dropped_frames += 1;
            s.note_queued();
            drop(s);
            self.ready.notify_one();
        }
    }

    /// Queues bytes that must reach the client whatever the queue holds (terminal set-up,
    /// tear-down, a last message). They are few and bounded.
    pub fn push_control(&self, bytes: &[u8]) {
        let mut s = self.lock();
        s.pending.extend_from_slice(bytes);
        s.note_queued();
        drop(s);
        self.ready.notify_one();
    }

    /// No more frames: the writer sends what is queued, then ends.
    pub fn finish(&self) {
        self.lock().finished = true;
        self.ready.notify_one();
    }

    /// The next thing for the writer, waiting until there is one.
    pub async fn next(&self) -> Next {
        loop {
            {
                let mut s = self.lock();
                s.in_flight = 0;
                if !s.pending.is_empty() {
                    let bytes = std::mem::take(&mut s.pending);
                    s.in_flight = bytes.len();
                    s.note_queued();
                    return Next::Send(bytes);
                }
                s.note_queued();
                if s.stalled && !s.finished {
                    s.stalled = false;
                    s.stats.repaints += 1;
                    return Next::Repaint;
                }
                if s.finished {
                    return Next::Done;
                }
            }
            self.ready.notified().await;
        }
    }

    /// The writer handed `n` bytes to the channel.
    pub fn sent(&self, n: usize) {
        let mut s = self.lock();
        s.stats.sent += n as u64;
    }

    pub fn stats(&self) -> OutputStats {
        self.lock().stats
    }
}

/// The `Write` crossterm's backend writes into: a frame is collected, then queued whole on
/// `flush` (ratatui flushes once per frame), so the queue only ever holds whole sequences.
pub struct FrameWriter {
    frame: Vec<u8>,
    queue: Arc<OutputQueue>,
}

impl Write for FrameWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.frame.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.queue.push_frame(&self.frame);
        self.frame.clear();
        if self.frame.capacity() > QUEUE_CAP {
            self.frame = Vec::new();
        }
        Ok(())
    }
}

/// The client's terminal size, shared by the connection (which learns it) and the backend.
#[derive(Debug, Default)]
pub struct SharedSize(AtomicU32);

impl SharedSize {
    pub fn new(cols: u16, rows: u16) -> Arc<SharedSize> {
        let s = Arc::new(SharedSize::default());
        s.set(cols, rows);
        s
    }

    pub fn set(&self, cols: u16, rows: u16) {
        self.0
            .store((u32::from(cols) << 16) | u32::from(rows), Ordering::Release);
    }

    pub fn get(&self) -> (u16, u16) {
        let v = self.0.load(Ordering::Acquire);
        let cols = u16::try_from(v >> 16).unwrap_or(MAX_COLS);
        let rows = u16::try_from(v & 0xffff).unwrap_or(MAX_ROWS);
        (cols, rows)
    }
}

/// A ratatui backend for one SSH session.
pub struct SshBackend {
    inner: CrosstermBackend<FrameWriter>,
    size: Arc<SharedSize>,
    cursor: Position,
}

impl SshBackend {
    pub fn new(queue: Arc<OutputQueue>, size: Arc<SharedSize>) -> SshBackend {
        SshBackend {
            inner: CrosstermBackend::new(FrameWriter {
                frame: Vec::new(),
                queue,
            }),
            size,
            cursor: Position::ORIGIN,
        }
    }
}

impl Backend for SshBackend {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        self.inner.draw(content)
    }

    fn append_lines(&mut self, n: u16) -> io::Result<()> {
        self.inner.append_lines(n)
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        self.inner.hide_cursor()
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        self.inner.show_cursor()
    }

    fn get_cursor_position(&mut self) -> io::Result<Position> {
        Ok(self.cursor)
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        let p = position.into();
        self.cursor = p;
        self.inner.set_cursor_position(p)
    }

    fn clear(&mut self) -> io::Result<()> {
        self.inner.clear()
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        self.inner.clear_region(clear_type)
    }

    fn size(&self) -> io::Result<Size> {
        let (width, height) = self.size.get();
        Ok(Size { width, height })
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        Ok(WindowSize {
            columns_rows: self.size()?,
            pixels: Size::default(),
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        Backend::flush(&mut self.inner)
    }
}

/// The client's terminal set up for the desk: the alternate screen, no cursor, bracketed
/// paste, a clear screen. Sent again before a repaint (it may have been dropped).
pub fn setup_bytes() -> Vec<u8> {
    let mut v = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = crossterm::queue!(
        v,
        terminal::EnterAlternateScreen,
        ct::EnableBracketedPaste,
        cursor::Hide,
        terminal::Clear(terminal::ClearType::All)
    );
    v
}

/// The client's terminal given back as it was, then `message` on its own line, if any.
pub fn teardown_bytes(message: Option<&str>) -> Vec<u8> {
    let mut v = Vec::new();
    let _ = crossterm::queue!(
        v,
        ct::DisableBracketedPaste,
        cursor::Show,
        terminal::LeaveAlternateScreen
    );
    if let Some(m) = message {
        v.extend_from_slice(b"\r\nprivdesk: ");
        v.extend_from_slice(m.replace('\n', "\r\n").as_bytes());
        v.extend_from_slice(b"\r\n");
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_coalesce_until_the_cap_then_stall_and_repaint() {
        let q = OutputQueue::new();
        let frame = vec![b'x'; 10_000];
        q.push_frame(&frame);
        q.push_frame(&frame);
        // The writer takes both at once.
        assert_eq!(q.next().await, Next::Send(vec![b'x'; 20_000]));
        // While those are in flight, frames fill the rest of the cap.
        for _ in 0..4 {
            q.push_frame(&frame);
        }
        assert_eq!(q.stats().queued, 60_000);
        // The next does not fit: the waiting frames go, and so does everything after.
        q.push_frame(&frame);
        q.push_frame(&frame);
        let s = q.stats();
        assert_eq!(s.queued, 20_000, "only the bytes in flight remain");
        assert_eq!(s.dropped_frames, 2);
        assert!(s.peak_queued <= QUEUE_CAP);
        // Once the channel took the bytes in flight, the writer asks for a repaint; frames
        // are accepted again.
        assert_eq!(q.next().await, Next::Repaint);
        q.push_frame(&frame);
        assert_eq!(q.next().await, Next::Send(frame.clone()));
        q.finish();
        assert_eq!(q.next().await, Next::Done);
        assert!(q.stats().peak_queued <= QUEUE_CAP);
    }

    #[tokio::test]
    async fn one_huge_frame_goes_out_when_nothing_waits() {
        let q = OutputQueue::new();
        q.push_frame(&vec![b'y'; QUEUE_CAP * 2]);
        assert!(matches!(q.next().await, Next::Send(b) if b.len() == QUEUE_CAP * 2));
        assert_eq!(q.stats().dropped_frames, 0);
    }

    #[tokio::test]
    async fn control_bytes_are_never_dropped() {
        let q = OutputQueue::new();
        q.push_frame(&vec![b'x'; QUEUE_CAP]);
        q.push_frame(b"more");
        q.push_control(b"bye");
        q.finish();
        q.push_frame(b"late");
        assert_eq!(q.next().await, Next::Send(b"bye".to_vec()));
        assert_eq!(q.next().await, Next::Done);
    }

    #[test]
    fn sizes_are_capped() {
        assert_eq!(cap_size(100, 30), (100, 30));
        assert_eq!(cap_size(0, 0), (80, 24));
        assert_eq!(cap_size(100_000, 70_000), (MAX_COLS, MAX_ROWS));
        let s = SharedSize::new(120, 40);
        assert_eq!(s.get(), (120, 40));
    }

    #[test]
    fn the_backend_never_asks_the_local_tty() {
        let q = OutputQueue::new();
        let mut b = SshBackend::new(q.clone(), SharedSize::new(90, 20));
        assert_eq!(
            b.size().unwrap(),
            Size {
                width: 90,
                height: 20
            }
        );
        b.set_cursor_position((3, 4)).unwrap();
        assert_eq!(b.get_cursor_position().unwrap(), Position { x: 3, y: 4 });
        Backend::flush(&mut b).unwrap();
        assert_eq!(q.stats().frames, 1);
    }
}
