//! One connection's SSH protocol handler: staff authentication, and nothing but one
//! interactive desk session. Every other request is refused.

use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use futures::FutureExt as _;
use russh::keys::HashAlg;
use russh::server::{
    Auth, ChannelOpenHandle, Handler, Msg, PublicKeyOffer, Response, Session, VerifiedPublicKey,
};
use russh::{Channel, ChannelId, ChannelOpenFailure, ChannelWriteHalf, MethodKind, MethodSet, Pty};
use tokio::sync::mpsc;

use crate::desk::DeskError;
use crate::desk::auth::AuthError;
use crate::domain::personal::Secret;
use crate::domain::staff::{Lang, Source, Staff};

use super::output::cap_size;
use super::server::{ConnLog, SessionEnv, Shared};
use super::session::{self, ClientEvent, Start};
use super::stream::KillSwitch;
use super::text;

/// What a verified key (and, when configured, the password after it) established.
#[derive(Clone)]
pub(crate) struct Identity {
    pub login: String,
    pub fingerprint: String,
    pub staff: Staff,
    pub generation: i64,
}

/// The session channel, before and after the desk starts on it.
struct Chan {
    id: ChannelId,
    write: Option<ChannelWriteHalf<Msg>>,
    pty: Option<(u16, u16)>,
    env: ClientEnv,
    events: Option<mpsc::Sender<ClientEvent>>,
    used: bool,
}

/// Environment variables a client may send (`SendEnv`); everything else is refused.
#[derive(Clone, Debug, Default)]
pub(crate) struct ClientEnv {
    lc_all: Option<String>,
    lc_messages: Option<String>,
    lang: Option<String>,
    no_color: Option<String>,
}

impl ClientEnv {
    fn set(&mut self, name: &str, value: &str) -> bool {
        // A locale name is short; anything longer is not one.
        let value = value.chars().take(64).collect::<String>();
        let slot = match name {
            "LC_ALL" => &mut self.lc_all,
            "LC_MESSAGES" => &mut self.lc_messages,
            "LANG" => &mut self.lang,
            "NO_COLOR" => &mut self.no_color,
            _ => return false,
        };
        *slot = Some(value);
        true
    }

    /// The language of the client's locale, as a local terminal's would be chosen.
    pub fn locale(&self) -> Option<Lang> {
        [&self.lc_all, &self.lc_messages, &self.lang]
            .into_iter()
            .find_map(|v| v.as_deref().filter(|s| !s.is_empty()))
            .and_then(Lang::from_locale)
    }

    pub fn session_env(&self, client: SocketAddr) -> SessionEnv {
        SessionEnv {
            source: Source::Ssh {
                addr: client.to_string(),
            },
            locale: self.locale(),
            no_color: self.no_color.clone(),
        }
    }
}

pub(crate) struct Conn {
    shared: Arc<Shared>,
    id: u64,
    client: SocketAddr,
    log: Arc<ConnLog>,
    kill: Arc<KillSwitch>,
    /// The key was verified; the password is still to come (second factor).
    key_verified: Option<Identity>,
    identity: Option<Identity>,
    chan: Option<Chan>,
    /// Refused keys (offered or signed) and passwords on this connection.
    refusals: u32,
}

type Result<T> = std::result::Result<T, russh::Error>;

fn refusal(e: &DeskError) -> &'static str {
    match e {
        DeskError::Auth(AuthError::UnknownKey) => "unknown_key",
        DeskError::Auth(AuthError::Disabled) => "disabled",
        DeskError::Auth(AuthError::LockedOut { .. }) => "locked_out",
        DeskError::Auth(AuthError::DemoOnly) => "demo_only",
        DeskError::Auth(AuthError::InvalidCredentials) => "wrong_password",
        e if e.is_unavailable() => "database_unavailable",
        _ => "auth_error",
    }
}

impl Conn {
    /// Refuses a forwarding channel (X11, ports, sockets): the desk is all there is.
    async fn prohibit(&self, what: &'static str, reply: ChannelOpenHandle) {
        self.log.refused(what);
        reply
            .reject(ChannelOpenFailure::AdministrativelyProhibited)
            .await;
    }

    pub fn new(
        shared: Arc<Shared>,
        id: u64,
        client: SocketAddr,
        log: Arc<ConnLog>,
        kill: Arc<KillSwitch>,
    ) -> Conn {
        Conn {
            shared,
            id,
            client,
            log,
            kill,
            key_verified: None,
            identity: None,
            chan: None,
            refusals: 0,
        }
    }

    /// Counts a refused attempt. Russh counts refused signatures and passwords, but not
    /// refused key offers; this counts all, as OpenSSH's MaxAuthTries does.
    fn refused(&mut self, reason: &'static str) {
        self.log.refused(reason);
        self.refusals += 1;
        if self.spent() {
            self.log.outcome("too_many_attempts");
        }
    }

    fn spent(&self) -> bool {
        self.refusals >= self.shared.max_auth_attempts
    }

    /// No method is left: the client stops trying (the connection is cut by the login
    /// grace time if it does not leave).
    fn no_more() -> Auth {
        Auth::Reject {
            proceed_with_methods: Some(MethodSet::empty()),
            partial_success: false,
        }
    }

    fn source(&self) -> Source {
        Source::Ssh {
            addr: self.client.to_string(),
        }
    }

    async fn identity_for(&mut self, user: &str, key: &russh::keys::PublicKey) -> Option<Identity> {
        let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
        match self.shared.desk.staff_for_key(user, &fingerprint).await {
            Ok((staff, generation)) => Some(Identity {
                login: user.to_owned(),
                fingerprint,
                staff,
                generation,
            }),
            Err(e) => {
                self.refused(refusal(&e));
                None
            }
        }
    }

    fn accept(&mut self, who: Identity) -> Auth {
        self.log.login(&who.login);
        self.log.outcome("authenticated");
        self.log.authenticated.store(true, Ordering::Release);
        self.identity = Some(who);
        Auth::Accept
    }

    fn keyboard_interactive_only() -> Auth {
        Auth::Reject {
            proceed_with_methods: Some(MethodSet::from(&[MethodKind::KeyboardInteractive][..])),
            partial_success: true,
        }
    }

    fn ours(&mut self, channel: ChannelId) -> Option<&mut Chan> {
        self.chan.as_mut().filter(|c| c.id == channel)
    }

    /// The language for a refusal before the desk starts.
    fn lang(&self) -> Lang {
        let env = self.chan.as_ref().map_or_else(
            || ClientEnv::default().session_env(self.client),
            |c| c.env.session_env(self.client),
        );
        let staff = self.identity.as_ref().map(|i| &i.staff);
        match (self.shared.settings)(&env) {
            Ok(settings) => text::lang_for(&settings, staff),
            Err(_) => staff.and_then(|s| s.lang).unwrap_or_default(),
        }
    }

    /// Refuses what the client asked of this channel with a one-line message on its
    /// standard error, then closes the channel and, shortly after, the connection.
    fn refuse(
        &mut self,
        channel: ChannelId,
        key: &str,
        args: &[(&str, crate::tui::i18n::Arg<'_>)],
        session: &mut Session,
        outcome: &'static str,
    ) -> Result<()> {
        let message = self.shared.i18n.tr(self.lang(), key, args);
        self.log.outcome(outcome);
        if let Some(c) = self.ours(channel) {
            c.used = true;
            c.events = None;
            c.write = None;
        }
        session.extended_data(channel, 1, format!("privdesk: {message}\r\n").into_bytes())?;
        session.exit_status_request(channel, 1)?;
        session.eof(channel)?;
        session.close(channel)?;
        session::end_connection_later(session.handle(), self.kill.clone(), self.log.clone());
        Ok(())
    }

    fn start_desk(&mut self, channel: ChannelId, session: &mut Session) -> Result<()> {
        let Some(identity) = self.identity.clone() else {
            session.channel_failure(channel)?;
            return Ok(());
        };
        let slot = match &self.shared.slots {
            Some(slots) => {
                let Ok(permit) = slots.clone().try_acquire_owned() else {
                    session.channel_success(channel)?;
                    let n = i64::from(self.shared.max_sessions);
                    return self.refuse(channel, "ssh-full", &[("n", n.into())], session, "full");
                };
                Some(permit)
            }
            None => None,
        };
        let Some(c) = self.ours(channel) else {
            session.channel_failure(channel)?;
            return Ok(());
        };
        let (Some(write), Some((cols, rows))) = (c.write.take(), c.pty) else {
            session.channel_failure(channel)?;
            return Ok(());
        };
        c.used = true;
        let (tx, rx) = mpsc::channel(64);
        c.events = Some(tx);
        let env = c.env.clone();
        session.channel_success(channel)?;
        self.log.in_desk.store(true, Ordering::Release);
        let start = Start {
            shared: self.shared.clone(),
            conn: self.id,
            identity,
            client: self.client,
            env,
            size: (cols, rows),
            write,
            events: rx,
            handle: session.handle(),
            kill: self.kill.clone(),
            slot,
            log: self.log.clone(),
        };
        let (conn, kill, log) = (self.id, self.kill.clone(), self.log.clone());
        tokio::spawn(async move {
            // The session guards the App itself (and records the logout); a panic outside
            // that still ends this connection only.
            if AssertUnwindSafe(session::run(start))
                .catch_unwind()
                .await
                .is_err()
            {
                tracing::error!(conn, "ssh session panicked; only this session ended");
                log.outcome("panic");
                kill.kill();
            }
        });
        Ok(())
    }
}

impl Handler for Conn {
    type Error = russh::Error;

    async fn auth_publickey_offered(
        &mut self,
        user: &str,
        offer: PublicKeyOffer<'_>,
    ) -> Result<Auth> {
        // Only a key registered to this login is worth a signature.
        Ok(
            if self.identity_for(user, offer.public_key).await.is_some() {
                Auth::Accept
            } else {
                Auth::reject()
            },
        )
    }

    async fn auth_publickey(&mut self, user: &str, key: VerifiedPublicKey<'_>) -> Result<Auth> {
        if self.spent() {
            return Ok(Self::no_more());
        }
        // Checked again now that the key is proven: the member may have changed meanwhile.
        let Some(who) = self.identity_for(user, key.public_key).await else {
            return Ok(if self.spent() {
                Self::no_more()
            } else {
                Auth::reject()
            });
        };
        if self.shared.second_factor {
            self.log.login(user);
            self.key_verified = Some(who);
            return Ok(Self::keyboard_interactive_only());
        }
        Ok(self.accept(who))
    }

    async fn auth_keyboard_interactive<'a>(
        &'a mut self,
        user: &str,
        _submethods: &str,
        response: Option<Response<'a>>,
    ) -> Result<Auth> {
        if self.spent() {
            return Ok(Self::no_more());
        }
        // The password is a second factor only: without a verified key it opens nothing.
        let Some(who) = self.key_verified.clone().filter(|w| w.login == user) else {
            return Ok(Auth::reject());
        };
        let Some(mut response) = response else {
            let prompt = self.shared.i18n.tr(self.lang(), "login-password", &[]);
            return Ok(Auth::Partial {
                name: "privdesk".into(),
                instructions: "".into(),
                prompts: vec![(format!("{prompt}: ").into(), false)].into(),
            });
        };
        let password = response
            .next()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        let desk = self.shared.desk.clone();
        match desk.login(user, Secret::new(password), self.source()).await {
            Ok(staff) if staff.id == who.staff.id => {
                let generation = desk
                    .staff_generation(&staff)
                    .await
                    .unwrap_or(who.generation);
                Ok(self.accept(Identity {
                    staff,
                    generation,
                    ..who
                }))
            }
            Ok(_) => Ok(Auth::reject()),
            Err(e) => {
                self.refused(refusal(&e));
                Ok(if self.spent() {
                    Self::no_more()
                } else {
                    Self::keyboard_interactive_only()
                })
            }
        }
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<()> {
        if self.identity.is_none() || self.chan.is_some() {
            reply
                .reject(ChannelOpenFailure::AdministrativelyProhibited)
                .await;
            return Ok(());
        }
        let id = channel.id();
        // Channel requests and data reach the callbacks below; the read half is not used.
        let (_read, write) = channel.split();
        self.chan = Some(Chan {
            id,
            write: Some(write),
            pty: None,
            env: ClientEnv::default(),
            events: None,
            used: false,
        });
        reply.accept().await;
        Ok(())
    }

    async fn channel_open_x11(
        &mut self,
        _channel: Channel<Msg>,
        _originator_address: &str,
        _originator_port: u32,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<()> {
        self.prohibit("x11", reply).await;
        Ok(())
    }

    async fn channel_open_direct_tcpip(
        &mut self,
        _channel: Channel<Msg>,
        _host_to_connect: &str,
        _port_to_connect: u32,
        _originator_address: &str,
        _originator_port: u32,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<()> {
        self.prohibit("port_forwarding", reply).await;
        Ok(())
    }

    async fn channel_open_forwarded_tcpip(
        &mut self,
        _channel: Channel<Msg>,
        _host_to_connect: &str,
        _port_to_connect: u32,
        _originator_address: &str,
        _originator_port: u32,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<()> {
        self.prohibit("port_forwarding", reply).await;
        Ok(())
    }

    async fn channel_open_direct_streamlocal(
        &mut self,
        _channel: Channel<Msg>,
        _socket_path: &str,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<()> {
        self.prohibit("socket_forwarding", reply).await;
        Ok(())
    }

    async fn tcpip_forward(
        &mut self,
        _address: &str,
        _port: &mut u32,
        _session: &mut Session,
    ) -> Result<bool> {
        self.log.refused("port_forwarding");
        Ok(false)
    }

    async fn streamlocal_forward(
        &mut self,
        _socket_path: &str,
        _session: &mut Session,
    ) -> Result<bool> {
        self.log.refused("socket_forwarding");
        Ok(false)
    }

    async fn agent_request(&mut self, _channel: ChannelId, _session: &mut Session) -> Result<bool> {
        self.log.refused("agent_forwarding");
        Ok(false)
    }

    async fn x11_request(
        &mut self,
        channel: ChannelId,
        _single_connection: bool,
        _x11_auth_protocol: &str,
        _x11_auth_cookie: &str,
        _x11_screen_number: u32,
        session: &mut Session,
    ) -> Result<()> {
        self.log.refused("x11");
        session.channel_failure(channel)?;
        Ok(())
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        col_width: u32,
        row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(Pty, u32)],
        session: &mut Session,
    ) -> Result<()> {
        match self.ours(channel).filter(|c| !c.used) {
            Some(c) => {
                c.pty = Some(cap_size(col_width, row_height));
                session.channel_success(channel)?;
            }
            None => session.channel_failure(channel)?,
        }
        Ok(())
    }

    async fn env_request(
        &mut self,
        channel: ChannelId,
        variable_name: &str,
        variable_value: &str,
        session: &mut Session,
    ) -> Result<()> {
        let accepted = self
            .ours(channel)
            .filter(|c| !c.used)
            .is_some_and(|c| c.env.set(variable_name, variable_value));
        if accepted {
            session.channel_success(channel)?;
        } else {
            session.channel_failure(channel)?;
        }
        Ok(())
    }

    async fn shell_request(&mut self, channel: ChannelId, session: &mut Session) -> Result<()> {
        match self.ours(channel).map(|c| (c.used, c.pty.is_some())) {
            Some((false, true)) => self.start_desk(channel, session),
            Some((false, false)) => {
                session.channel_success(channel)?;
                self.refuse(channel, "ssh-no-pty", &[], session, "refused_no_pty")
            }
            _ => {
                session.channel_failure(channel)?;
                Ok(())
            }
        }
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        _data: &[u8],
        session: &mut Session,
    ) -> Result<()> {
        if self.ours(channel).is_some_and(|c| !c.used) {
            session.channel_success(channel)?;
            return self.refuse(channel, "ssh-no-exec", &[], session, "refused_exec");
        }
        session.channel_failure(channel)?;
        Ok(())
    }

    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        _name: &str,
        session: &mut Session,
    ) -> Result<()> {
        session.channel_failure(channel)?;
        if self.ours(channel).is_some_and(|c| !c.used) {
            return self.refuse(
                channel,
                "ssh-no-subsystem",
                &[],
                session,
                "refused_subsystem",
            );
        }
        Ok(())
    }

    async fn window_change_request(
        &mut self,
        channel: ChannelId,
        col_width: u32,
        row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _session: &mut Session,
    ) -> Result<()> {
        if let Some(tx) = self.ours(channel).and_then(|c| c.events.clone()) {
            let (cols, rows) = cap_size(col_width, row_height);
            let _ = tx.send(ClientEvent::Resize(cols, rows)).await;
        }
        Ok(())
    }

    async fn data(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        _session: &mut Session,
    ) -> Result<()> {
        if let Some(tx) = self.ours(channel).and_then(|c| c.events.clone()) {
            // A full queue holds this connection's reading back (only this one).
            let _ = tx.send(ClientEvent::Data(data.to_vec())).await;
        }
        Ok(())
    }

    async fn channel_eof(&mut self, channel: ChannelId, _session: &mut Session) -> Result<()> {
        if let Some(c) = self.ours(channel) {
            c.events = None;
        }
        Ok(())
    }

    async fn channel_close(&mut self, channel: ChannelId, _session: &mut Session) -> Result<()> {
        if let Some(c) = self.ours(channel) {
            c.events = None;
            c.write = None;
        }
        Ok(())
    }
}
