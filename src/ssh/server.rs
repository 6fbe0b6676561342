//! The listener: per-IP rate limit and PROXY header before the handshake, a russh session
//! per connection, a login grace time, one log line per connection, and a clean shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use russh::MethodKind;
use russh::server::Config as RusshConfig;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::config::{SessionConfig, SshConfig};
use crate::desk::Desk;
use crate::domain::staff::{Lang, Source};
use crate::tui::Settings;
use crate::tui::i18n::I18n;

use super::handler::Conn;
use super::hostkey;
use super::limits::RateLimiter;
use super::monitor::Monitor;
use super::proxy::{self, Balancers};
use super::stream::{KillSwitch, Killable};

/// What a client's session brings that shapes its screen.
#[derive(Clone, Debug)]
pub struct SessionEnv {
    /// `ssh ADDRESS`: recorded on every audit record of the session.
    pub source: Source,
    /// From the client's `LANG` / `LC_MESSAGES` / `LC_ALL` (SSH environment requests).
    pub locale: Option<Lang>,
    /// The client's `NO_COLOR`, if sent.
    pub no_color: Option<String>,
}

/// Builds a session's screen settings (`cli::serve` builds them from the configuration,
/// checked once at start).
pub type SettingsFactory = Arc<dyn Fn(&SessionEnv) -> anyhow::Result<Settings> + Send + Sync>;

/// Everything the server needs.
pub struct Setup {
    pub desk: Arc<Desk>,
    pub i18n: Arc<I18n>,
    /// `host:port` to listen on.
    pub listen: String,
    pub ssh: SshConfig,
    pub session: SessionConfig,
    pub settings: SettingsFactory,
}

/// A connection without a desk session by then is cut (OpenSSH's LoginGraceTime).
const LOGIN_GRACE: Duration = Duration::from_mins(1);
/// Connections at most beyond `max_sessions`, counting those still authenticating.
const EXTRA_CONNECTIONS: usize = 128;
/// On shutdown, how long sessions get to say goodbye.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// What every connection shares.
pub(crate) struct Shared {
    pub desk: Arc<Desk>,
    pub i18n: Arc<I18n>,
    pub settings: SettingsFactory,
    pub second_factor: bool,
    /// Refused keys and passwords allowed per connection.
    pub max_auth_attempts: u32,
    pub idle_disconnect: Duration,
    pub max_lifetime: Duration,
    pub max_sessions: u32,
    /// A permit per desk session (`None`: no limit).
    pub slots: Option<Arc<Semaphore>>,
    pub monitor: Monitor,
    pub shutdown: watch::Receiver<bool>,
}

pub struct Server {
    listener: TcpListener,
    shared: Arc<Shared>,
    russh: Arc<RusshConfig>,
    limiter: Arc<RateLimiter>,
    balancers: Arc<Balancers>,
    connections: Arc<Semaphore>,
    shutdown: watch::Sender<bool>,
    host_key: hostkey::HostKey,
}

impl Server {
    /// Loads (or creates) the host key and binds the listening socket.
    pub async fn bind(setup: Setup) -> anyhow::Result<Server> {
        let balancers = Balancers::parse(&setup.ssh.proxy_from)?;
        let host_key = hostkey::load_or_create(&setup.ssh.host_key)?;
        let listener = TcpListener::bind(&setup.listen).await.with_context(|| {
            format!(
                "cannot listen on {}: is another server using it? Choose another with --listen or ssh.listen",
                setup.listen
            )
        })?;
        let methods = russh::MethodSet::from(&[MethodKind::PublicKey][..]);
        let russh = RusshConfig {
            server_id: russh::SshId::Standard("SSH-2.0-privdesk".into()),
            methods,
            auth_rejection_time: Duration::from_secs(1),
            auth_rejection_time_initial: Some(Duration::ZERO),
            keys: vec![host_key.key.clone()],
            max_auth_attempts: usize::try_from(setup.ssh.max_auth_attempts.max(1)).unwrap_or(6),
            // Input is keys and pastes: a small receive window bounds what a client can push.
            window_size: 256 * 1024,
            // Idle sessions are closed by the desk's own rule (session.idle_disconnect);
            // keepalives find the clients that vanished.
            inactivity_timeout: None,
            keepalive_interval: Some(Duration::from_secs(30)),
            keepalive_max: 4,
            nodelay: true,
            ..RusshConfig::default()
        };
        let (shutdown, shutdown_rx) = watch::channel(false);
        let max_sessions = setup.ssh.max_sessions;
        let slots = (max_sessions > 0)
            .then(|| Arc::new(Semaphore::new(usize::try_from(max_sessions).unwrap_or(200))));
        let connections = Arc::new(Semaphore::new(
            usize::try_from(max_sessions)
                .unwrap_or(200)
                .max(32)
                .saturating_add(EXTRA_CONNECTIONS),
        ));
        let shared = Arc::new(Shared {
            desk: setup.desk,
            i18n: setup.i18n,
            settings: setup.settings,
            second_factor: setup.ssh.password_second_factor,
            max_auth_attempts: setup.ssh.max_auth_attempts.max(1),
            idle_disconnect: setup.session.idle_disconnect.unsigned_abs(),
            max_lifetime: setup.session.max_lifetime.unsigned_abs(),
            max_sessions,
            slots,
            monitor: Monitor::default(),
            shutdown: shutdown_rx,
        });
        Ok(Server {
            listener,
            shared,
            russh: Arc::new(russh),
            limiter: Arc::new(RateLimiter::new(setup.ssh.connections_per_minute_per_ip)),
            balancers: Arc::new(balancers),
            connections,
            shutdown,
            host_key,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The host key's fingerprint (`SHA256:…`) and whether it was generated by this start.
    pub fn host_key(&self) -> (String, bool) {
        (self.host_key.fingerprint(), self.host_key.created)
    }

    pub fn monitor(&self) -> Monitor {
        self.shared.monitor.clone()
    }

    /// Serves until `stop` completes; then every session is told the server is shutting
    /// down, gets a moment to draw that and record its logout, and the server returns.
    pub async fn run(self, stop: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
        let mut tasks = JoinSet::new();
        let next_id = AtomicU64::new(1);
        tokio::pin!(stop);
        loop {
            tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok((tcp, peer)) => {
                        let id = next_id.fetch_add(1, Ordering::Relaxed);
                        let Ok(permit) = self.connections.clone().try_acquire_owned() else {
                            tracing::warn!(conn = id, outcome = "too_many_connections", "ssh connection");
                            continue;
                        };
                        let c = Connection {
                            shared: self.shared.clone(),
                            russh: self.russh.clone(),
                            limiter: self.limiter.clone(),
                            balancers: self.balancers.clone(),
                            id,
                        };
                        tasks.spawn(async move {
                            c.serve(tcp, peer).await;
                            drop(permit);
                        });
                    }
                    // Out of file descriptors and the like: wait a little rather than spin.
                    Err(e) => {
                        tracing::warn!(error = %e, "ssh accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
                () = &mut stop => break,
            }
        }
        drop(self.listener);
        let _ = self.shutdown.send(true);
        let sessions = self.shared.monitor.count();
        let clean = self.shared.monitor.wait_empty(SHUTDOWN_GRACE).await;
        // Connections end once their sessions said goodbye (or were cut).
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        tasks.abort_all();
        tracing::info!(sessions, clean, "ssh server stopped");
        Ok(())
    }
}

/// What one connection's log line says (no personal values: a staff login is an id).
pub(crate) struct ConnLog {
    pub authenticated: AtomicBool,
    /// Becomes true when the SSH session of the connection has ended.
    pub ended: watch::Sender<bool>,
    /// A desk session runs on this connection.
    pub in_desk: AtomicBool,
    state: Mutex<LogState>,
}

#[derive(Default)]
struct LogState {
    login: Option<String>,
    outcome: Option<&'static str>,
    refusals: u32,
    bytes_out: u64,
    dropped_frames: u64,
}

impl Default for ConnLog {
    fn default() -> ConnLog {
        ConnLog {
            authenticated: AtomicBool::new(false),
            ended: watch::Sender::new(false),
            in_desk: AtomicBool::new(false),
            state: Mutex::default(),
        }
    }
}

impl ConnLog {
    fn with<R>(&self, f: impl FnOnce(&mut LogState) -> R) -> R {
        let mut s = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut s)
    }

    pub fn login(&self, login: &str) {
        self.with(|s| s.login = Some(login.to_owned()));
    }

    pub fn outcome(&self, outcome: &'static str) {
        self.with(|s| s.outcome = Some(outcome));
    }

    pub fn refused(&self, reason: &'static str) {
        self.with(|s| {
            s.refusals += 1;
            s.outcome = Some(reason);
        });
    }

    pub fn output(&self, bytes_out: u64, dropped_frames: u64) {
        self.with(|s| {
            s.bytes_out = bytes_out;
            s.dropped_frames = dropped_frames;
        });
    }
}

struct Connection {
    shared: Arc<Shared>,
    russh: Arc<RusshConfig>,
    limiter: Arc<RateLimiter>,
    balancers: Arc<Balancers>,
    id: u64,
}

impl Connection {
    async fn serve(self, mut tcp: TcpStream, peer: SocketAddr) {
        let started = Instant::now();
        let id = self.id;
        let via_proxy = self.balancers.contains(peer.ip());
        // A balancer's own connection (a LOCAL header: its health check) is not a client's.
        let mut balancer_itself = false;
        let client = if via_proxy {
            match tokio::time::timeout(proxy::HEADER_TIMEOUT, proxy::read_header(&mut tcp)).await {
                Ok(Ok(Some(addr))) => addr,
                Ok(Ok(None)) => {
                    balancer_itself = true;
                    peer
                }
                Ok(Err(proxy::ProxyError::Io(e)))
                    if e.kind() == std::io::ErrorKind::UnexpectedEof =>
                {
                    // Connected and closed: a plain TCP health check.
                    tracing::debug!(
                        conn = id,
                        "balancer connection closed before a PROXY header"
                    );
                    return;
                }
                Ok(Err(e)) => {
                    tracing::warn!(conn = id, error = %e, outcome = "bad_proxy_header", "ssh connection");
                    return;
                }
                Err(_) => {
                    tracing::warn!(conn = id, outcome = "no_proxy_header", "ssh connection");
                    return;
                }
            }
        } else {
            peer
        };
        if !balancer_itself && !self.limiter.allow(client.ip(), started) {
            // Before any SSH: a line a client may show, then the door closes.
            let _ = tcp.try_write(
                b"privdesk: too many connections from this address; try again in a minute\r\n",
            );
            tracing::info!(
                conn = id,
                via_proxy,
                outcome = "rate_limited",
                "ssh connection"
            );
            return;
        }
        let _ = tcp.set_nodelay(true);
        let kill = KillSwitch::new();
        let log = Arc::new(ConnLog::default());
        let handler = Conn::new(self.shared.clone(), id, client, log.clone(), kill.clone());
        let stream = Killable::new(tcp, kill.clone());
        let error = match russh::server::run_stream(self.russh.clone(), stream, handler).await {
            Ok(session) => {
                let mut shutdown = self.shared.shutdown.clone();
                let grace = tokio::time::sleep(LOGIN_GRACE);
                tokio::pin!(session, grace);
                let mut grace_over = false;
                let mut shutting_down = false;
                loop {
                    tokio::select! {
                        r = &mut session => break r.err(),
                        () = &mut grace, if !grace_over => {
                            grace_over = true;
                            // Logged in or not, a connection here is for the desk only.
                            if !log.in_desk.load(Ordering::Acquire) {
                                log.outcome(if log.authenticated.load(Ordering::Acquire) {
                                    "no_desk_timeout"
                                } else {
                                    "login_timeout"
                                });
                                kill.kill();
                            }
                        }
                        _ = shutdown.changed(), if !shutting_down => {
                            // A desk session closes itself politely; a connection without
                            // one has nothing to lose.
                            shutting_down = true;
                            if !log.in_desk.load(Ordering::Acquire) {
                                kill.kill();
                            }
                        }
                    }
                }
            }
            Err(e) => Some(e),
        };
        log.ended.send_replace(true);
        let secs = started.elapsed().as_secs();
        log.with(|s| {
            let outcome = s
                .outcome
                .unwrap_or(if error.is_some() { "error" } else { "closed" });
            tracing::info!(
                conn = id,
                via_proxy,
                login = s.login.as_deref().unwrap_or("-"),
                outcome,
                refusals = s.refusals,
                secs,
                bytes_out = s.bytes_out,
                dropped_frames = s.dropped_frames,
                error = error
                    .as_ref()
                    .map(ToString::to_string)
                    .as_deref()
                    .unwrap_or(""),
                "ssh connection"
            );
        });
    }
}
