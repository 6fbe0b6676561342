//! The test's side of SSH: a server on a test desk, staff with fresh keys, and a russh
//! client whose screen is rebuilt by vt100, with waits on conditions (never bare sleeps).

use std::net::SocketAddr;
use std::num::NonZeroU16;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::task::AtomicWaker;
use privdesk::config::Config;
use privdesk::desk::Desk;
use privdesk::domain::staff::{Actor, Role, Source, Staff};
use privdesk::ssh::{Monitor, Server, SessionEnv, SettingsFactory, Setup};
use privdesk::tui::i18n::I18n;
use russh::client;
use russh::keys::{Algorithm, PrivateKey, PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use russh::{ChannelMsg, ChannelWriteHalf};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{Notify, oneshot};

use crate::support::TestDesk;

pub const WAIT: Duration = Duration::from_secs(15);

/// A server on a test desk, on a free local port.
pub struct TestServer {
    pub addr: SocketAddr,
    pub monitor: Monitor,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

pub fn settings_factory(config: &Config) -> SettingsFactory {
    let config = config.clone();
    Arc::new(move |env: &SessionEnv| {
        privdesk::cli::tui::settings(
            &config,
            env.source.clone(),
            env.locale,
            env.no_color.as_deref(),
        )
    })
}

impl TestServer {
    pub async fn start(desk: Arc<Desk>, config: &Config) -> TestServer {
        Self::start_with(desk, config, |_| {}).await
    }

    /// A server whose sessions first pass their environment to `hook`.
    pub async fn start_with(
        desk: Arc<Desk>,
        config: &Config,
        hook: impl Fn(&SessionEnv) + Send + Sync + 'static,
    ) -> TestServer {
        let inner = settings_factory(config);
        let settings: SettingsFactory = Arc::new(move |env: &SessionEnv| {
            hook(env);
            inner(env)
        });
        let server = Server::bind(Setup {
            desk,
            i18n: Arc::new(I18n::new().unwrap()),
            listen: "127.0.0.1:0".to_owned(),
            ssh: config.ssh.clone(),
            session: config.session.clone(),
            settings,
        })
        .await
        .unwrap();
        let addr = server.local_addr().unwrap();
        let monitor = server.monitor();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async {
            let _ = rx.await;
        }));
        TestServer {
            addr,
            monitor,
            stop: Some(tx),
            task,
        }
    }

    /// Stops the server as SIGTERM would, and waits until it returned.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        tokio::time::timeout(Duration::from_secs(30), &mut self.task)
            .await
            .expect("the server stops within 30 s")
            .unwrap()
            .unwrap();
    }
}

pub fn new_key() -> PrivateKey {
    PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519).unwrap()
}

/// A staff member with a fresh registered key.
pub async fn member(td: &TestDesk, login: &str, role: Role) -> (Staff, Actor, PrivateKey) {
    let (staff, _) = td.staff(login, role).await;
    let key = new_key();
    let line = key.public_key().to_openssh().unwrap();
    td.desk
        .add_staff_key(&td.shell(), login, &line)
        .await
        .unwrap();
    let actor = Actor::staff(&staff, Source::Local);
    (staff, actor, key)
}

pub struct Client;

impl client::Handler for Client {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        _key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

pub fn client_config() -> Arc<client::Config> {
    Arc::new(client::Config {
        inactivity_timeout: Some(Duration::from_mins(1)),
        ..client::Config::default()
    })
}

/// Connects and offers `key` for `login`: the session, or `None` if refused.
pub async fn try_login(
    addr: SocketAddr,
    login: &str,
    key: &PrivateKey,
) -> Option<client::Handle<Client>> {
    let mut h = client::connect(client_config(), addr, Client)
        .await
        .unwrap();
    login_on(&mut h, login, key).await.then_some(h)
}

pub async fn login_on(h: &mut client::Handle<Client>, login: &str, key: &PrivateKey) -> bool {
    h.authenticate_publickey(
        login,
        PrivateKeyWithHashAlg::new(Arc::new(key.clone()), None),
    )
    .await
    .unwrap()
    .success()
}

pub async fn login(addr: SocketAddr, login: &str, key: &PrivateKey) -> client::Handle<Client> {
    try_login(addr, login, key)
        .await
        .unwrap_or_else(|| panic!("{login} could not log in"))
}

/// What a session channel showed.
#[derive(Default)]
struct Seen {
    closed: bool,
    exit_status: Option<u32>,
    stderr: Vec<u8>,
}

/// A terminal on a desk session: the client's screen, rebuilt by vt100.
pub struct Term {
    write: ChannelWriteHalf<client::Msg>,
    screen: Arc<Mutex<vt100::Parser>>,
    seen: Arc<Mutex<Seen>>,
    changed: Arc<Notify>,
}

fn nz(v: u16) -> NonZeroU16 {
    NonZeroU16::new(v).unwrap()
}

impl Term {
    /// Opens a pty session of `cols`×`rows` (with `env` sent first) and asks for a shell.
    pub async fn open_with_env(
        h: &client::Handle<Client>,
        cols: u16,
        rows: u16,
        env: &[(&str, &str)],
    ) -> Term {
        let channel = h.channel_open_session().await.unwrap();
        let (mut read, write) = channel.split();
        for (k, v) in env {
            write.set_env(false, *k, *v).await.unwrap();
        }
        write
            .request_pty(
                true,
                "xterm-256color",
                u32::from(cols),
                u32::from(rows),
                0,
                0,
                &[],
            )
            .await
            .unwrap();
        write.request_shell(true).await.unwrap();
        let screen = Arc::new(Mutex::new(vt100::Parser::new(nz(rows), nz(cols), 0)));
        let seen = Arc::new(Mutex::new(Seen::default()));
        let changed = Arc::new(Notify::new());
        let (s, k, c) = (screen.clone(), seen.clone(), changed.clone());
        tokio::spawn(async move {
            while let Some(msg) = read.wait().await {
                match msg {
                    ChannelMsg::Data { data } => {
                        s.lock().unwrap().process(&data);
                    }
                    ChannelMsg::ExtendedData { data, .. } => {
                        k.lock().unwrap().stderr.extend_from_slice(&data);
                    }
                    ChannelMsg::ExitStatus { exit_status } => {
                        k.lock().unwrap().exit_status = Some(exit_status);
                    }
                    ChannelMsg::Close => break,
                    _ => {}
                }
                c.notify_waiters();
            }
            k.lock().unwrap().closed = true;
            c.notify_waiters();
        });
        Term {
            write,
            screen,
            seen,
            changed,
        }
    }

    pub async fn open(h: &client::Handle<Client>, cols: u16, rows: u16) -> Term {
        Self::open_with_env(h, cols, rows, &[]).await
    }

    pub fn text(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    /// Row `n` of the screen.
    pub fn row(&self, n: usize) -> String {
        let p = self.screen.lock().unwrap();
        let cols = p.screen().size().1.get();
        p.screen().rows(0, cols).nth(n).unwrap_or_default()
    }

    pub fn alternate_screen(&self) -> bool {
        self.screen.lock().unwrap().screen().alternate_screen()
    }

    pub fn exit_status(&self) -> Option<u32> {
        self.seen.lock().unwrap().exit_status
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.seen.lock().unwrap().stderr).into_owned()
    }

    pub fn is_closed(&self) -> bool {
        self.seen.lock().unwrap().closed
    }

    pub async fn keys(&self, bytes: &[u8]) {
        self.write.data_bytes(bytes.to_vec()).await.unwrap();
    }

    pub async fn resize(&self, cols: u16, rows: u16) {
        self.screen
            .lock()
            .unwrap()
            .screen_mut()
            .set_size(nz(rows), nz(cols));
        self.write
            .window_change(u32::from(cols), u32::from(rows), 0, 0)
            .await
            .unwrap();
    }

    /// Waits until `cond` holds for the screen's text; panics with the screen if it does
    /// not within [`WAIT`].
    pub async fn wait_for(&self, what: &str, cond: impl Fn(&str) -> bool) -> String {
        self.wait_until(what, WAIT, || cond(&self.text())).await;
        self.text()
    }

    pub async fn wait_text(&self, needle: &str) -> String {
        self.wait_for(needle, |t| t.contains(needle)).await
    }

    pub async fn wait_closed(&self) {
        self.wait_until("the channel to close", WAIT, || self.is_closed())
            .await;
    }

    pub async fn wait_until(&self, what: &str, limit: Duration, cond: impl Fn() -> bool) {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let notified = self.changed.notified();
            if cond() {
                return;
            }
            let timed_out = tokio::time::timeout_at(deadline, notified).await.is_err();
            assert!(
                !timed_out || cond(),
                "waited {limit:?} for {what}; the screen shows:\n{}\nstderr: {}",
                self.text(),
                self.stderr()
            );
        }
    }
}

/// Polls `cond` every 50 ms until it holds, or panics after `limit`.
pub async fn eventually<F, Fut>(what: &str, limit: Duration, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    while !cond().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited {limit:?} for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A TCP stream whose reading can be paused: a client that stops reading its socket, so
/// it never processes data nor adjusts the server's window.
pub struct Pausable {
    inner: TcpStream,
    pub control: Arc<PauseControl>,
}

#[derive(Default)]
pub struct PauseControl {
    paused: AtomicBool,
    waker: AtomicWaker,
}

impl PauseControl {
    pub fn pause(&self) {
        self.paused.store(true, Ordering::SeqCst);
    }

    pub fn resume(&self) {
        self.paused.store(false, Ordering::SeqCst);
        self.waker.wake();
    }
}

impl Pausable {
    pub async fn connect(addr: SocketAddr) -> Pausable {
        Pausable {
            inner: TcpStream::connect(addr).await.unwrap(),
            control: Arc::new(PauseControl::default()),
        }
    }
}

impl AsyncRead for Pausable {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        self.control.waker.register(cx.waker());
        if self.control.paused.load(Ordering::SeqCst) {
            return Poll::Pending;
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Pausable {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
