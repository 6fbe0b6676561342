//! One desk session over SSH, in one task: the App with its own terminal, the input
//! decoder, the output writer and a guard (idle, lifetime, revocation, shutdown), polled
//! together. A panic anywhere in them ends this session only, and its logout is recorded.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt as _;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use russh::ChannelWriteHalf;
use russh::server::{Handle, Msg};
use tokio::sync::{OwnedSemaphorePermit, mpsc};
use tokio::time::Instant;

use crate::domain::staff::{Actor, Lang};
use crate::tui::{App, Input};

use super::handler::{ClientEnv, Identity};
use super::input::Decoder;
use super::output::{Next, OutputQueue, SharedSize, SshBackend, setup_bytes, teardown_bytes};
use super::server::{ConnLog, Shared};
use super::stream::KillSwitch;
use super::text::{self, Closing};

/// From the connection's handler to its session.
#[derive(Debug)]
pub(crate) enum ClientEvent {
    Data(Vec<u8>),
    Resize(u16, u16),
}

/// Everything a desk session starts with.
pub(crate) struct Start {
    pub shared: Arc<Shared>,
    pub conn: u64,
    pub identity: Identity,
    pub client: SocketAddr,
    pub env: ClientEnv,
    pub size: (u16, u16),
    pub write: ChannelWriteHalf<Msg>,
    pub events: mpsc::Receiver<ClientEvent>,
    pub handle: Handle,
    pub kill: Arc<KillSwitch>,
    pub slot: Option<OwnedSemaphorePermit>,
    pub log: Arc<ConnLog>,
}

/// How often the guard asks whether the member may still work (disabled, role, keys).
const VALIDITY_CHECK: Duration = Duration::from_secs(3);
/// After telling the App to close, how long it gets before the session ends anyway.
const CLOSE_GRACE: Duration = Duration::from_secs(5);
/// How long the last bytes (and the goodbye) get to reach a client after the App ended.
const DRAIN: Duration = Duration::from_secs(3);

/// Why the session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    /// The member quit (or the App ended on its own).
    Quit,
    /// The server closed it.
    Closed(Closing),
    /// The client went away.
    ClientGone,
    /// The terminal could not be written, or a panic.
    Error,
}

impl End {
    fn name(self) -> &'static str {
        match self {
            End::Quit => "quit",
            End::Closed(c) => c.name(),
            End::ClientGone => "client_gone",
            End::Error => "error",
        }
    }
}

/// What the guard decided, shared with the code that writes the goodbye.
#[derive(Default)]
struct Verdict(Mutex<Option<(Closing, String)>>);

impl Verdict {
    fn set(&self, c: Closing, message: String) {
        let mut v = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        v.get_or_insert((c, message));
    }

    fn get(&self) -> Option<(Closing, String)> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

pub(crate) async fn run(start: Start) {
    let Start {
        shared,
        conn,
        identity,
        client,
        env,
        size: (cols, rows),
        write,
        mut events,
        handle,
        kill,
        slot,
        log,
    } = start;
    let desk = shared.desk.clone();
    let settings = match (shared.settings)(&env.session_env(client)) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(conn, error = %e, "ssh session settings failed");
            let lang = identity.staff.lang.unwrap_or_default();
            let message = shared.i18n.tr(lang, "ssh-error", &[]);
            let _ = write
                .data_bytes(format!("privdesk: {message}\r\n").into_bytes())
                .await;
            log.outcome("error");
            drop(slot);
            close(&write, &handle, &kill, &log, 1).await;
            return;
        }
    };
    let lang = text::lang_for(&settings, Some(&identity.staff));
    let paste_limit = settings.paste_limit.saturating_mul(4);
    let actor = Actor::staff(&identity.staff, settings.source.clone());
    // Fail closed: a desk whose login cannot be recorded does not open.
    let login = desk
        .audit(&actor, "ssh.login")
        .detail(format!("key={}", identity.fingerprint));
    if let Err(e) = desk.commit(vec![], login).await {
        tracing::warn!(conn, error = %e, "ssh login could not be recorded");
        let message = shared.i18n.tr(lang, "ssh-unavailable", &[]);
        let _ = write
            .data_bytes(format!("privdesk: {message}\r\n").into_bytes())
            .await;
        log.outcome("database_unavailable");
        drop(slot);
        close(&write, &handle, &kill, &log, 1).await;
        return;
    }
    let started = Instant::now();
    let out = OutputQueue::new();
    out.push_control(&setup_bytes());
    let size = SharedSize::new(cols, rows);
    let registration = shared.monitor.register(conn, &identity.login, out.clone());
    let (input_tx, input_rx) = mpsc::channel::<Input>(256);
    let last_input = Mutex::new(Instant::now());
    let verdict = Verdict::default();
    let (drained_tx, drained_rx) = tokio::sync::oneshot::channel::<()>();

    let main = async {
        let body = async {
            let mut terminal = Terminal::with_options(
                SshBackend::new(out.clone(), size.clone()),
                TerminalOptions {
                    viewport: Viewport::Fixed(Rect::new(0, 0, cols, rows)),
                },
            )?;
            let app = App::signed_in(
                desk.clone(),
                shared.i18n.clone(),
                settings,
                identity.staff.clone(),
                identity.generation,
            );
            let guard = Guard {
                shared: &shared,
                identity: &identity,
                lang,
                started,
                last_input: &last_input,
                verdict: &verdict,
                input: input_tx.clone(),
            };
            std::io::Result::Ok(tokio::select! {
                r = app.run(&mut terminal, input_rx) => {
                    r?;
                    verdict.get().map_or(End::Quit, |(c, _)| End::Closed(c))
                }
                () = pump_input(&mut events, &input_tx, &size, &last_input, paste_limit) => {
                    End::ClientGone
                }
                c = guard.watch() => End::Closed(c),
            })
        };
        let end = match std::panic::AssertUnwindSafe(body).catch_unwind().await {
            Ok(Ok(end)) => end,
            Ok(Err(e)) => {
                tracing::warn!(conn, error = %e, "ssh session terminal failed");
                End::Error
            }
            Err(_) => {
                tracing::error!(conn, "ssh session panicked; only this session ended");
                End::Error
            }
        };
        let message = match end {
            End::Closed(_) => verdict.get().map(|(_, m)| m),
            End::Error => Some(shared.i18n.tr(lang, "ssh-error", &[])),
            End::Quit | End::ClientGone => None,
        };
        out.push_control(&teardown_bytes(message.as_deref()));
        out.finish();
        let _ = drained_tx.send(());
        end
    };
    let writer = async {
        tokio::select! {
            () = pump_output(&out, &write, &input_tx, &size) => {}
            () = async {
                let _ = drained_rx.await;
                tokio::time::sleep(DRAIN).await;
            } => {}
        }
    };
    let (end, ()) = tokio::join!(main, writer);
    drop(input_tx);
    drop(registration);
    drop(slot);

    let secs = started.elapsed().as_secs();
    let stats = out.stats();
    log.output(stats.sent, stats.dropped_frames);
    log.outcome(end.name());
    let logout = desk
        .audit(&actor, "ssh.logout")
        .detail(format!("duration={secs}s reason={}", end.name()));
    if let Err(e) = desk.commit(vec![], logout).await {
        tracing::warn!(conn, error = %e, "ssh logout could not be recorded");
    }
    log.in_desk
        .store(false, std::sync::atomic::Ordering::Release);
    close(&write, &handle, &kill, &log, u32::from(end == End::Error)).await;
}

/// Ends the channel, then the connection: a client normally leaves once its channel
/// closes; one that does not is disconnected, and one that takes nothing is cut.
async fn close(
    write: &ChannelWriteHalf<Msg>,
    handle: &Handle,
    kill: &KillSwitch,
    log: &ConnLog,
    status: u32,
) {
    let mut ended = log.ended.subscribe();
    let channel = async {
        let _ = write.exit_status(status).await;
        let _ = write.eof().await;
        let _ = write.close().await;
    };
    if tokio::time::timeout(Duration::from_secs(2), channel)
        .await
        .is_err()
    {
        kill.kill();
        return;
    }
    if tokio::time::timeout(Duration::from_secs(2), ended.wait_for(|e| *e))
        .await
        .is_ok()
    {
        return;
    }
    let _ = tokio::time::timeout(
        Duration::from_secs(2),
        handle.disconnect(
            russh::Disconnect::ByApplication,
            "session ended".to_owned(),
            String::new(),
        ),
    )
    .await;
    if tokio::time::timeout(Duration::from_secs(3), ended.wait_for(|e| *e))
        .await
        .is_err()
    {
        kill.kill();
    }
}

/// After a refusal: the client normally leaves once its channel closed; if it has not in
/// a moment it is disconnected, and cut if it does not take that either.
pub(crate) fn end_connection_later(handle: Handle, kill: Arc<KillSwitch>, log: Arc<ConnLog>) {
    tokio::spawn(async move {
        let mut ended = log.ended.subscribe();
        if tokio::time::timeout(Duration::from_secs(2), ended.wait_for(|e| *e))
            .await
            .is_ok()
        {
            return;
        }
        let _ = tokio::time::timeout(
            Duration::from_secs(2),
            handle.disconnect(
                russh::Disconnect::ByApplication,
                "refused".to_owned(),
                String::new(),
            ),
        )
        .await;
        if tokio::time::timeout(Duration::from_secs(3), ended.wait_for(|e| *e))
            .await
            .is_err()
        {
            kill.kill();
        }
    });
}

/// Client bytes → the App's input: decoded, with the lone-ESC and paste timeouts.
async fn pump_input(
    events: &mut mpsc::Receiver<ClientEvent>,
    input: &mpsc::Sender<Input>,
    size: &SharedSize,
    last_input: &Mutex<Instant>,
    paste_limit: usize,
) {
    let mut decoder = Decoder::new(paste_limit);
    let mut out = Vec::new();
    loop {
        let event = match decoder.deadline() {
            Some(at) => tokio::select! {
                e = events.recv() => Some(e),
                () = tokio::time::sleep_until(at) => None,
            },
            None => Some(events.recv().await),
        };
        match event {
            None => decoder.flush(&mut out),
            Some(None) => return,
            Some(Some(ClientEvent::Data(bytes))) => {
                let now = Instant::now();
                *last_input
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = now;
                decoder.feed(&bytes, now, &mut out);
            }
            Some(Some(ClientEvent::Resize(cols, rows))) => {
                // The backend answers with the new size before the App resizes to it.
                size.set(cols, rows);
                out.push(Input::Resize(cols, rows));
            }
        }
        for i in out.drain(..) {
            if input.send(i).await.is_err() {
                return;
            }
        }
    }
}

/// The queue → the channel, as fast as the client's window allows; a stall ends with a
/// full repaint (see `output`).
async fn pump_output(
    out: &OutputQueue,
    write: &ChannelWriteHalf<Msg>,
    input: &mpsc::Sender<Input>,
    size: &SharedSize,
) {
    loop {
        match out.next().await {
            Next::Send(bytes) => {
                let n = bytes.len();
                if write.data_bytes(bytes).await.is_err() {
                    return;
                }
                out.sent(n);
            }
            Next::Repaint => {
                out.push_control(&setup_bytes());
                let (cols, rows) = size.get();
                // A resize to the same size makes the App clear and draw everything.
                let _ = input.send(Input::Resize(cols, rows)).await;
            }
            Next::Done => return,
        }
    }
}

/// Closes the session from outside: shutdown, idle, lifetime, revocation.
struct Guard<'a> {
    shared: &'a Shared,
    identity: &'a Identity,
    lang: Lang,
    started: Instant,
    last_input: &'a Mutex<Instant>,
    verdict: &'a Verdict,
    input: mpsc::Sender<Input>,
}

impl Guard<'_> {
    /// Returns only if the App did not end within [`CLOSE_GRACE`] of being told to close.
    async fn watch(self) -> Closing {
        let mut shutdown = self.shared.shutdown.clone();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut next_check = Instant::now() + VALIDITY_CHECK;
        let closing = loop {
            let stopping = tokio::select! {
                _ = tick.tick() => false,
                r = shutdown.changed() => r.is_err() || *shutdown.borrow(),
            };
            if stopping || *shutdown.borrow() {
                break Closing::Shutdown;
            }
            let now = Instant::now();
            let idle = now.duration_since(
                *self
                    .last_input
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            );
            if idle >= self.shared.idle_disconnect {
                break Closing::Idle;
            }
            if now.duration_since(self.started) >= self.shared.max_lifetime {
                break Closing::Lifetime;
            }
            if now >= next_check {
                next_check = now + VALIDITY_CHECK;
                let still = self
                    .shared
                    .desk
                    .session_still_valid(&self.identity.staff, self.identity.generation)
                    .await;
                // A database that is away is the App's banner, not a reason to close.
                if matches!(still, Ok(false)) {
                    break Closing::Revoked;
                }
            }
        };
        let message = closing.message(
            &self.shared.i18n,
            self.lang,
            self.shared.idle_disconnect,
            self.shared.max_lifetime,
        );
        self.verdict.set(closing, message.clone());
        let _ = self.input.send(Input::Close(message)).await;
        tokio::time::sleep(CLOSE_GRACE).await;
        closing
    }
}
