//! Requests of every kind, the queues they belong to, and their common record.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::account::{AccountId, ContactId};
use super::staff::{Login, StaffId};
use super::workflow::{Severity, State};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RequestId(pub i64);

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

impl FromStr for RequestId {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim().trim_start_matches('#').parse().map(RequestId)
    }
}

/// The three queues staff work (DOMAIN.md, "Who may do what").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Queue {
    /// Password resets and changes to who may ask for one (§4).
    Reset,
    /// Compromise reports (§4, §9).
    Compromise,
    /// Data-subject requests (§14).
    Subject,
}

impl Queue {
    pub const ALL: [Queue; 3] = [Queue::Reset, Queue::Compromise, Queue::Subject];

    pub fn as_str(self) -> &'static str {
        match self {
            Queue::Reset => "reset",
            Queue::Compromise => "compromise",
            Queue::Subject => "subject",
        }
    }

    pub fn parse(s: &str) -> Option<Queue> {
        Queue::ALL.into_iter().find(|q| q.as_str() == s)
    }

    /// A small integer for compact storage and indexes.
    pub fn code(self) -> i16 {
        match self {
            Queue::Reset => 1,
            Queue::Compromise => 2,
            Queue::Subject => 3,
        }
    }

    pub fn from_code(code: i64) -> Option<Queue> {
        Queue::ALL.into_iter().find(|q| i64::from(q.code()) == code)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    PasswordReset,
    ContactChange,
    Compromise,
    SubjectReport,
    SubjectBlocking,
    SubjectUnblocking,
    SubjectDeletion,
}

impl RequestKind {
    pub const ALL: [RequestKind; 7] = [
        RequestKind::PasswordReset,
        RequestKind::ContactChange,
        RequestKind::Compromise,
        RequestKind::SubjectReport,
        RequestKind::SubjectBlocking,
        RequestKind::SubjectUnblocking,
        RequestKind::SubjectDeletion,
    ];

    pub fn queue(self) -> Queue {
        match self {
            RequestKind::PasswordReset | RequestKind::ContactChange => Queue::Reset,
            RequestKind::Compromise => Queue::Compromise,
            RequestKind::SubjectReport
            | RequestKind::SubjectBlocking
            | RequestKind::SubjectUnblocking
            | RequestKind::SubjectDeletion => Queue::Subject,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::PasswordReset => "password_reset",
            RequestKind::ContactChange => "contact_change",
            RequestKind::Compromise => "compromise",
            RequestKind::SubjectReport => "subject_report",
            RequestKind::SubjectBlocking => "subject_blocking",
            RequestKind::SubjectUnblocking => "subject_unblocking",
            RequestKind::SubjectDeletion => "subject_deletion",
        }
    }

    pub fn parse(s: &str) -> Option<RequestKind> {
        RequestKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn is_subject_request(self) -> bool {
        self.queue() == Queue::Subject
    }
}

/// How a request reached the desk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Phone,
    Portal,
    Letter,
    /// Raised by staff themselves (e.g. a compromise found by monitoring).
    Internal,
}

impl Channel {
    pub const ALL: [Channel; 5] = [
        Channel::Email,
        Channel::Phone,
        Channel::Portal,
        Channel::Letter,
        Channel::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Phone => "phone",
            Channel::Portal => "portal",
            Channel::Letter => "letter",
            Channel::Internal => "internal",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Who asked. A designated contact is referenced by id; anyone else is described in free
/// text, which is personal data and sealed like any other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requester {
    Contact(ContactId),
    /// The account holder or someone not (yet) known to be a designated contact.
    Other,
    /// Staff raised it (compromise found by monitoring).
    Staff,
}

/// The record of a request, without its free text (which the desk opens separately).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub id: RequestId,
    pub kind: RequestKind,
    pub account: AccountId,
    pub requester: Requester,
    pub channel: Channel,
    pub state: State,
    pub assignee: Option<Assignee>,
    pub received_at: Timestamp,
    pub due_at: Timestamp,
    /// Bumped on every change; a write naming an older version is refused.
    pub version: i64,
    pub filed_by: Option<StaffId>,
    pub prepared_by: Option<StaffId>,
    pub severity: Option<Severity>,
    pub personal_data_leak: Option<bool>,
    pub identity_verified: bool,
    pub extended: bool,
    pub updated_at: Timestamp,
    pub updated_by: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignee {
    pub id: StaffId,
    pub login: Login,
}

impl Request {
    pub fn queue(&self) -> Queue {
        self.kind.queue()
    }

    pub fn is_open(&self) -> bool {
        !self.state.is_terminal()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_belong_to_queues() {
        assert_eq!(RequestKind::PasswordReset.queue(), Queue::Reset);
        assert_eq!(RequestKind::ContactChange.queue(), Queue::Reset);
        assert_eq!(RequestKind::Compromise.queue(), Queue::Compromise);
        for k in [
            RequestKind::SubjectReport,
            RequestKind::SubjectBlocking,
            RequestKind::SubjectUnblocking,
            RequestKind::SubjectDeletion,
        ] {
            assert_eq!(k.queue(), Queue::Subject);
        }
    }

    #[test]
    fn names_round_trip() {
        for k in RequestKind::ALL {
            assert_eq!(RequestKind::parse(k.as_str()), Some(k));
        }
        for q in Queue::ALL {
            assert_eq!(Queue::parse(q.as_str()), Some(q));
            assert_eq!(Queue::from_code(q.code().into()), Some(q));
        }
        for c in Channel::ALL {
            assert_eq!(Channel::parse(c.as_str()), Some(c));
        }
        assert_eq!("#17".parse::<RequestId>(), Ok(RequestId(17)));
    }
}
