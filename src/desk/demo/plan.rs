//! Planning the demo's requests: pure and deterministic (a request's plan depends only on
//! the seed, its index and the accounts), so requests can be planned in batches on another
//! thread and planned again to the same result.
//!
//! Every request walks its state machine (`domain::workflow`) from the initial state, one
//! table row at a time (`workflow::events_from`, `workflow::next_state` with the facts its
//! guards need), so every state it ends in is reachable, and every step leaves a timeline
//! entry written as `Desk::apply_event` writes it. Each step is taken by the role the access
//! table gives the event (`policy::event_action`): agents verify and prepare, on-call
//! engineers contain, supervisors approve what agents prepared, the desk itself redeems and
//! expires.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use crate::desk::Rules;
use crate::domain::account::ContactId;
use crate::domain::request::{Channel, Queue, RequestKind};
use crate::domain::staff::Role;
use crate::domain::view::EntryKind;
use crate::domain::workflow::{self, EventKind, Facts, Flow, LegalGround, Severity, State};

use super::names::Lang;
use super::rng::Rng;
use super::texts;
use super::walk::{actor, facts_for, path_via, random_path, refusal_reason};

/// What the planner needs to know about an account.
#[derive(Clone, Debug)]
pub struct AccountInfo {
    pub lang: Lang,
    /// (contact id, has an email) of each designated contact.
    pub contacts: Vec<(ContactId, bool)>,
    pub flag: Flag,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flag {
    None,
    Locked,
    Blocked,
    /// Erased through the real erasure path once its requests are in.
    Erased,
}

/// Who acted: a demo staff member (login = role name) or the desk itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who {
    Staff(Role),
    System,
    Requester,
}

impl Who {
    pub fn label(self) -> &'static str {
        match self {
            Who::Staff(r) => r.as_str(),
            Who::System => "system",
            Who::Requester => "client",
        }
    }
}

#[derive(Clone, Debug)]
pub enum Requester {
    Contact(ContactId),
    Other(&'static str),
    Staff,
}

#[derive(Clone, Debug)]
pub struct PlannedEntry {
    pub at: Timestamp,
    pub kind: EntryKind,
    pub author: Who,
    pub text: String,
}

#[derive(Clone, Debug)]
pub struct Planned {
    pub index: u64,
    pub kind: RequestKind,
    pub account: usize,
    pub requester: Requester,
    pub channel: Channel,
    pub received_at: Timestamp,
    pub due_at: Timestamp,
    pub state: State,
    pub assignee: Option<Role>,
    pub filed_by: Role,
    pub prepared_by: Option<Role>,
    pub severity: Option<u8>,
    pub leak: Option<bool>,
    pub identity_verified: bool,
    pub last_actor: Who,
    pub subject: String,
    pub entries: Vec<PlannedEntry>,
}

/// A request whose kind and path are fixed in advance.
#[derive(Clone, Debug)]
enum Assignment {
    /// The deletion or blocking request behind an erased or blocked account.
    Anchor { account: usize, kind: RequestKind },
    /// A request that must end in `target` (so every state of every kind appears), or carry
    /// hostile text on an open request of its queue.
    Forced {
        kind: RequestKind,
        target: State,
        hostile: Option<usize>,
    },
}

/// Everything the planner reads; shared by the planning thread.
pub struct PlanCtx {
    pub seed: u64,
    pub now: Timestamp,
    start: Timestamp,
    /// Milliseconds between consecutive requests' receipt.
    slot_ms: i64,
    pub accounts: Arc<Vec<AccountInfo>>,
    rules: Rules,
    assignments: HashMap<u64, Assignment>,
    hostile: Vec<String>,
    /// Accounts fit for forced requests: not flagged, with a contact that has an email.
    fit: Vec<usize>,
    /// Accounts that are not erased.
    live: Vec<usize>,
}

const DAY_MS: i64 = 86_400_000;

impl PlanCtx {
    pub fn new(
        seed: u64,
        count: u64,
        now: Timestamp,
        accounts: Arc<Vec<AccountInfo>>,
        rules: Rules,
    ) -> PlanCtx {
        let span_days: i64 = match count {
            0..=2_000 => 45,
            2_001..=100_000 => 90,
            _ => 180,
        };
        let span_ms = span_days * DAY_MS;
        let start = now - SignedDuration::from_millis(span_ms);
        let slot_ms = (span_ms / i64::try_from(count.max(1)).unwrap_or(1)).max(1);
        let fit: Vec<usize> = accounts
            .iter()
            .enumerate()
            .filter(|(_, a)| a.flag == Flag::None && a.contacts.iter().any(|(_, e)| *e))
            .map(|(i, _)| i)
            .collect();
        let live: Vec<usize> = accounts
            .iter()
            .enumerate()
            .filter(|(_, a)| a.flag != Flag::Erased)
            .map(|(i, _)| i)
            .collect();
        let hostile = texts::hostile();
        let assignments = assignments(count, &accounts, hostile.len());
        PlanCtx {
            seed,
            now,
            start,
            slot_ms,
            accounts,
            rules,
            assignments,
            hostile,
            fit,
            live,
        }
    }

    /// Plans request `index` (0-based, in order of receipt).
    pub fn plan(&self, index: u64) -> Planned {
        let mut rng = Rng::stream(self.seed, "request", index);
        let slot = i64::try_from(index)
            .unwrap_or(i64::MAX)
            .saturating_mul(self.slot_ms);
        let jitter = rng.between(0, self.slot_ms - 1);
        let received_at = self.start + SignedDuration::from_millis(slot + jitter);
        let age_days = (self.now - received_at).as_secs() / 86_400;
        let (kind, account, goal, hostile) = match self.assignments.get(&index) {
            Some(Assignment::Anchor { account, kind }) => (
                *kind,
                *account,
                Goal::Via(vec![State::Executed, State::Closed]),
                None,
            ),
            Some(Assignment::Forced {
                kind,
                target,
                hostile,
            }) => {
                let account = if self.fit.is_empty() {
                    self.any_live(&mut rng)
                } else {
                    *rng.pick(&self.fit)
                };
                (*kind, account, Goal::Via(vec![*target]), *hostile)
            }
            None => {
                let kind = random_kind(&mut rng);
                let account = self.any_live(&mut rng);
                (
                    kind,
                    account,
                    Goal::Random {
                        open: rng.chance(open_chance(age_days)),
                    },
                    None,
                )
            }
        };
        let info = &self.accounts[account];
        let requester = match goal {
            Goal::Via(_)
                if matches!(
                    kind,
                    RequestKind::PasswordReset | RequestKind::ContactChange
                ) =>
            {
                info.contacts.iter().find(|(_, e)| *e).map_or_else(
                    || Requester::Other(texts::requester_description(&mut rng, info.lang)),
                    |(c, _)| Requester::Contact(*c),
                )
            }
            _ => random_requester(&mut rng, kind, info),
        };
        let has_email = match &requester {
            Requester::Contact(c) => info.contacts.iter().any(|(id, e)| id == c && *e),
            _ => false,
        };
        let channel = match &requester {
            Requester::Staff => Channel::Internal,
            _ => *rng.pick(&[
                Channel::Email,
                Channel::Email,
                Channel::Phone,
                Channel::Portal,
                Channel::Letter,
            ]),
        };
        let base = Facts {
            requester_is_designated_contact: matches!(requester, Requester::Contact(_)),
            contact_has_email: has_email,
            actor_is_preparer: false,
            identity_verified: false,
        };
        let path = match goal {
            Goal::Via(targets) => path_via(kind, &base, &targets),
            Goal::Random { open } => random_path(&mut rng, kind, &base, open),
        };
        self.build(
            rng,
            index,
            kind,
            account,
            requester,
            channel,
            received_at,
            &path,
            &base,
            hostile,
        )
    }

    fn any_live(&self, rng: &mut Rng) -> usize {
        if self.live.is_empty() {
            rng.index(self.accounts.len())
        } else {
            *rng.pick(&self.live)
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn build(
        &self,
        mut rng: Rng,
        index: u64,
        kind: RequestKind,
        account: usize,
        requester: Requester,
        channel: Channel,
        received_at: Timestamp,
        path: &[EventKind],
        base: &Facts,
        hostile: Option<usize>,
    ) -> Planned {
        let lang = self.accounts[account].lang;
        let filed_by = match (&requester, kind.queue()) {
            (Requester::Staff, _) => Role::Oncall,
            (_, Queue::Compromise) if rng.chance(0.5) => Role::Oncall,
            _ => Role::Agent,
        };
        let mut entries = vec![PlannedEntry {
            at: received_at,
            kind: EntryKind::Timeline,
            author: Who::Staff(filed_by),
            text: format!("filed ({})", channel.as_str()),
        }];
        if !matches!(requester, Requester::Staff) && rng.chance(0.55) {
            entries.push(PlannedEntry {
                at: (received_at + SignedDuration::from_secs(20)).min(self.now),
                kind: EntryKind::Incoming,
                author: Who::Requester,
                text: texts::incoming(&mut rng, kind, lang).to_owned(),
            });
        }
        let mut state = Flow::of(kind).initial();
        let mut identity_verified = false;
        let mut prepared_by = None;
        let (mut severity, mut leak) = (None, None);
        let mut last_actor = Who::Staff(filed_by);
        let mut at = (received_at + SignedDuration::from_secs(60)).min(self.now);
        let steps = path.len();
        for (k, &event) in path.iter().enumerate() {
            let Ok(to) =
                workflow::next_state(kind, state, event, &facts_for(base, identity_verified))
            else {
                break;
            };
            let who = actor(kind, state, event);
            at = self.next_time(&mut rng, at, steps - k);
            let mut detail = format!("{state} -> {to}");
            match event {
                EventKind::Triage => {
                    let level = u8::try_from(rng.weighted(&[1, 2, 4, 3]) + 1).unwrap_or(3);
                    let personal_data_leak = rng.chance(0.3);
                    severity = Some(level);
                    leak = Some(personal_data_leak);
                    let _ = write!(detail, " severity={level} leak={personal_data_leak}");
                }
                EventKind::Refuse => {
                    let reason = refusal_reason(&mut rng, kind, state, base);
                    let _ = write!(detail, " reason={}", reason.as_str());
                }
                EventKind::ProposeRefusal => {
                    let ground = *rng.pick(&LegalGround::ALL);
                    let _ = write!(detail, " ground={}", ground.as_str());
                }
                _ => {}
            }
            if event.marks_preparer()
                && let Who::Staff(r) = who
            {
                prepared_by = Some(r);
            }
            identity_verified |= event.marks_identity_verified();
            entries.push(PlannedEntry {
                at,
                kind: EntryKind::Timeline,
                author: who,
                text: detail,
            });
            let tells_client = matches!(
                event,
                EventKind::SendLink | EventKind::NotifyClient | EventKind::NotifyContacts
            );
            if tells_client || rng.chance(0.08) {
                entries.push(PlannedEntry {
                    at: at + SignedDuration::from_secs(5),
                    kind: EntryKind::Outgoing,
                    author: if who == Who::System {
                        Who::Staff(Role::Agent)
                    } else {
                        who
                    },
                    text: texts::outgoing(&mut rng, lang).to_owned(),
                });
            }
            last_actor = who;
            state = to;
        }
        let note_author = match kind.queue() {
            Queue::Compromise => Role::Oncall,
            _ => Role::Agent,
        };
        if rng.chance(0.2) {
            entries.push(PlannedEntry {
                at: Self::note_time(&mut rng, received_at, at),
                kind: EntryKind::Note,
                author: Who::Staff(note_author),
                text: texts::note(&mut rng, lang).to_owned(),
            });
        }
        let hostile = hostile.or_else(|| rng.chance(0.004).then(|| rng.index(self.hostile.len())));
        if let Some(h) = hostile {
            let incoming = h % 2 == 0;
            entries.push(PlannedEntry {
                at: Self::note_time(&mut rng, received_at, at),
                kind: if incoming {
                    EntryKind::Incoming
                } else {
                    EntryKind::Note
                },
                author: if incoming {
                    Who::Requester
                } else {
                    Who::Staff(note_author)
                },
                text: self.hostile[h % self.hostile.len()].clone(),
            });
        }
        for e in &mut entries {
            e.at = e.at.min(self.now);
        }
        entries.sort_by_key(|e| e.at);
        let open = !state.is_terminal();
        let assignee = if open && rng.chance(0.55) || !open && rng.chance(0.3) {
            Some(match kind.queue() {
                Queue::Reset => {
                    *rng.pick(&[Role::Agent, Role::Agent, Role::Agent, Role::Supervisor])
                }
                Queue::Compromise => {
                    *rng.pick(&[Role::Oncall, Role::Oncall, Role::Oncall, Role::Supervisor])
                }
                Queue::Subject => *rng.pick(&[Role::Agent, Role::Supervisor]),
            })
        } else {
            None
        };
        let sev = severity.and_then(|s| Severity::new(s).ok());
        let d = &self.rules.deadlines;
        let (cal, tz) = (&self.rules.calendar, &self.rules.tz);
        let due_at = match sev {
            Some(s) if kind == RequestKind::Compromise => {
                d.compromise_due(s, leak == Some(true), received_at, cal, tz)
            }
            _ => d.due(kind, sev, received_at, cal, tz),
        }
        .unwrap_or(received_at + SignedDuration::from_hours(7 * 24));
        Planned {
            index,
            kind,
            account,
            requester,
            channel,
            received_at,
            due_at,
            state,
            assignee,
            filed_by,
            prepared_by,
            severity,
            leak,
            identity_verified,
            last_actor,
            subject: texts::subject(&mut rng, kind, lang),
            entries,
        }
    }

    /// The time of the next step: minutes to a day later, never after now.
    fn next_time(&self, rng: &mut Rng, after: Timestamp, remaining: usize) -> Timestamp {
        let room = (self.now - after).as_millis();
        let room = i64::try_from(room).unwrap_or(i64::MAX).max(0);
        let share = room / i64::try_from(remaining + 1).unwrap_or(1);
        let gap = rng.between(5 * 60_000, 26 * 3_600_000).min(share).max(0);
        after + SignedDuration::from_millis(gap)
    }

    fn note_time(rng: &mut Rng, from: Timestamp, to: Timestamp) -> Timestamp {
        let span = i64::try_from((to - from).as_millis()).unwrap_or(0).max(1);
        from + SignedDuration::from_millis(rng.between(1_000, span.max(1_000)))
    }
}

enum Goal {
    Via(Vec<State>),
    Random { open: bool },
}

/// How likely a request received `age_days` ago is still open.
fn open_chance(age_days: i64) -> f64 {
    match age_days {
        i64::MIN..=0 => 0.9,
        1..=2 => 0.55,
        3..=6 => 0.25,
        7..=13 => 0.06,
        14..=29 => 0.015,
        _ => 0.002,
    }
}

fn random_kind(rng: &mut Rng) -> RequestKind {
    const KINDS: [RequestKind; 7] = RequestKind::ALL;
    KINDS[rng.weighted(&[45, 7, 13, 15, 7, 3, 10])]
}

fn random_requester(rng: &mut Rng, kind: RequestKind, info: &AccountInfo) -> Requester {
    let contact =
        (!info.contacts.is_empty()).then(|| info.contacts[rng.index(info.contacts.len())].0);
    let p_contact = match kind.queue() {
        Queue::Reset => 0.88,
        Queue::Compromise => 0.4,
        Queue::Subject => 0.3,
    };
    if kind == RequestKind::Compromise && rng.chance(0.4) {
        return Requester::Staff;
    }
    match contact {
        Some(c) if rng.chance(p_contact) => Requester::Contact(c),
        _ => Requester::Other(texts::requester_description(rng, info.lang)),
    }
}

/// Which requests are fixed: the oldest ones are the deletion and blocking requests behind
/// erased and blocked accounts; spread over the newer half, one request ends in each state
/// of each kind, and each queue gets every hostile text on an open request.
fn assignments(count: u64, accounts: &[AccountInfo], hostile: usize) -> HashMap<u64, Assignment> {
    let mut out = HashMap::new();
    let mut next = 0_u64;
    for (i, a) in accounts.iter().enumerate() {
        let kind = match a.flag {
            Flag::Erased => RequestKind::SubjectDeletion,
            Flag::Blocked => RequestKind::SubjectBlocking,
            _ => continue,
        };
        if next >= count / 2 {
            break;
        }
        out.insert(next, Assignment::Anchor { account: i, kind });
        next += 1;
    }
    let mut forced = vec![];
    for kind in RequestKind::ALL {
        for &target in Flow::of(kind).states() {
            forced.push(Assignment::Forced {
                kind,
                target,
                hostile: None,
            });
        }
    }
    for (kind, target) in [
        (RequestKind::PasswordReset, State::Verifying),
        (RequestKind::Compromise, State::Triaged),
        (RequestKind::SubjectReport, State::IdentityVerified),
    ] {
        for h in 0..hostile {
            forced.push(Assignment::Forced {
                kind,
                target,
                hostile: Some(h),
            });
        }
    }
    let room = count.saturating_sub(next);
    let n = u64::try_from(forced.len()).unwrap_or(0).min(room);
    if n == 0 {
        return out;
    }
    let stride = (room / (2 * n)).max(1);
    for (j, f) in (0..n).zip(forced) {
        let pos = count - 1 - j * stride;
        if pos < next {
            break;
        }
        out.insert(pos, f);
    }
    out
}
