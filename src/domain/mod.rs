//! Pure types and rules, no I/O: accounts, staff and roles, requests and their state
//! machines, the access table, masking, deadlines, untrusted text.

pub mod account;
pub mod calendar;
pub mod deadline;
pub mod mask;
pub mod normalize;
pub mod personal;
pub mod policy;
pub mod request;
pub mod staff;
pub mod text;
pub mod view;
pub mod workflow;
