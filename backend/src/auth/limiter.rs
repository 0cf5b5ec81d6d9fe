//! Login throttling: after [`MAX_FAILURES`] failed logins in a row an account
//! is locked for a while (doubling with each further lock, up to an hour),
//! and one address may try at most [`PER_ADDRESS_PER_MINUTE`] logins a
//! minute. Kept in memory: a restart forgives, which an attacker cannot cause.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const MAX_FAILURES: u32 = 5;
pub const PER_ADDRESS_PER_MINUTE: u32 = 30;
const MAX_LOCK: Duration = Duration::from_secs(3600);

#[derive(Debug, Default)]
struct AccountState {
    failures: u32,
    locks: u32,
    locked_until: Option<Instant>,
}

#[derive(Debug)]
pub struct LoginLimiter {
    lockout: Duration,
    accounts: Mutex<HashMap<String, AccountState>>,
    addresses: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

/// Why a login may not be tried now.
#[derive(Debug, PartialEq)]
pub enum Refusal {
    /// The account is locked for this much longer.
    Locked(Duration),
    /// This address tried too often in the last minute.
    TooFast,
}

impl LoginLimiter {
    /// `lockout`: how long the first lock lasts.
    pub fn new(lockout: Duration) -> Self {
        LoginLimiter {
            lockout,
            accounts: Mutex::default(),
            addresses: Mutex::default(),
        }
    }

    /// Called before checking a password.
    pub fn check(&self, user: &str, addr: IpAddr) -> Result<(), Refusal> {
        let now = Instant::now();
        {
            let mut a = self.addresses.lock().unwrap_or_else(|p| p.into_inner());
            let e = a.entry(addr).or_insert((now, 0));
            if now.duration_since(e.0) >= Duration::from_secs(60) {
                *e = (now, 0);
            }
            e.1 += 1;
            if e.1 > PER_ADDRESS_PER_MINUTE {
                return Err(Refusal::TooFast);
            }
        }
        let accounts = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
        match accounts.get(user).and_then(|s| s.locked_until) {
            Some(until) if until > now => Err(Refusal::Locked(until - now)),
            _ => Ok(()),
        }
    }

    /// A wrong password: counts towards a lock.
    pub fn failed(&self, user: &str) {
        let mut accounts = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
        let s = accounts.entry(user.to_string()).or_default();
        s.failures += 1;
        if s.failures >= MAX_FAILURES {
            let lock = self
                .lockout
                .saturating_mul(1 << s.locks.min(12))
                .min(MAX_LOCK);
            s.locked_until = Some(Instant::now() + lock);
            s.locks += 1;
            s.failures = 0;
            tracing::warn!(
                user,
                seconds = lock.as_secs(),
                "account locked after failed logins"
            );
        }
    }

    /// A good password: the count starts again.
    pub fn succeeded(&self, user: &str) {
        self.accounts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(user);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_repeated_failures_and_unlocks_later() {
        let l = LoginLimiter::new(Duration::from_millis(50));
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        for _ in 0..MAX_FAILURES {
            assert!(l.check("ann", ip).is_ok());
            l.failed("ann");
        }
        assert!(matches!(l.check("ann", ip), Err(Refusal::Locked(_))));
        assert!(l.check("bob", ip).is_ok(), "other accounts are not locked");
        std::thread::sleep(Duration::from_millis(60));
        assert!(l.check("ann", ip).is_ok());
        l.succeeded("ann");
    }

    #[test]
    fn limits_attempts_per_address() {
        let l = LoginLimiter::new(Duration::from_secs(1));
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for i in 0..PER_ADDRESS_PER_MINUTE {
            assert!(l.check(&format!("u{i}"), ip).is_ok());
        }
        assert_eq!(l.check("x", ip), Err(Refusal::TooFast));
        assert!(l.check("x", "10.0.0.2".parse().unwrap()).is_ok());
    }
}
