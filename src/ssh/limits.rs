//! Limits applied before the SSH handshake: new connections per address per minute.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Addresses remembered at most; beyond that, addresses whose allowance is full again are
/// forgotten (and, if still too many, all of them: a flood must not grow memory).
const MAX_TRACKED: usize = 50_000;
const WINDOW: Duration = Duration::from_mins(1);

/// A token bucket per address: `per_minute` connections, refilled evenly over a minute.
pub struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimiter {
    /// `per_minute` = 0: no limit.
    pub fn new(per_minute: u32) -> RateLimiter {
        RateLimiter {
            per_minute,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Whether a new connection from `ip` may go on now.
    pub fn allow(&self, ip: IpAddr, now: Instant) -> bool {
        if self.per_minute == 0 {
            return true;
        }
        let cap = f64::from(self.per_minute);
        let rate = cap / WINDOW.as_secs_f64();
        let mut map = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= MAX_TRACKED && !map.contains_key(&ip) {
            map.retain(|_, b| (b.tokens + rate * now.duration_since(b.at).as_secs_f64()) < cap);
            if map.len() >= MAX_TRACKED {
                map.clear();
            }
        }
        let b = map.entry(ip).or_insert(Bucket {
            tokens: cap,
            at: now,
        });
        b.tokens = (b.tokens + rate * now.duration_since(b.at).as_secs_f64()).min(cap);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_gets_its_allowance_refilled_over_a_minute() {
        let r = RateLimiter::new(3);
        let t = Instant::now();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(r.allow(a, t) && r.allow(a, t) && r.allow(a, t));
        assert!(!r.allow(a, t), "a fourth connection within the minute");
        assert!(r.allow(b, t), "another address has its own allowance");
        assert!(!r.allow(a, t + Duration::from_secs(10)));
        assert!(
            r.allow(a, t + Duration::from_secs(21)),
            "one refilled after 20 s"
        );
        assert!(RateLimiter::new(0).allow(a, t));
    }
}
