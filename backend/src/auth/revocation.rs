//! Ended credentials, announced to the long-lived connections opened with
//! them (terminals over WebSockets, hijacked attaches), so those close at
//! once on logout, revocation, a removed user or a changed role.

use super::CredentialId;
use tokio::sync::broadcast;

#[derive(Debug, Clone)]
pub enum Ended {
    Credential(CredentialId),
    /// Every credential of this user (logout everywhere, user removed).
    User(i64),
}

#[derive(Debug)]
pub struct Revocations {
    tx: broadcast::Sender<Ended>,
}

impl Default for Revocations {
    fn default() -> Self {
        Revocations {
            tx: broadcast::channel(256).0,
        }
    }
}

impl Revocations {
    pub fn announce(&self, e: Ended) {
        let _ = self.tx.send(e);
    }

    /// Resolves when `cred` (of `user`) ends, or, for the unix socket's root,
    /// never.
    pub fn ended(
        &self,
        cred: CredentialId,
        user: Option<i64>,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.tx.subscribe();
        async move {
            if cred == CredentialId::Root {
                return std::future::pending().await;
            }
            loop {
                match rx.recv().await {
                    Ok(Ended::Credential(c)) if c == cred => return,
                    Ok(Ended::User(u)) if Some(u) == user => return,
                    Ok(_) => {}
                    // Missed announcements may have been ours: end to be safe.
                    Err(broadcast::error::RecvError::Lagged(_)) => return,
                    Err(broadcast::error::RecvError::Closed) => {
                        return std::future::pending().await
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn ends_on_its_credential_or_user_only() {
        let r = Revocations::default();
        let mut a = Box::pin(r.ended(CredentialId::Token(1), Some(7)));
        let b = r.ended(CredentialId::Session("s".into()), Some(8));
        r.announce(Ended::Credential(CredentialId::Token(2)));
        r.announce(Ended::User(9));
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(20), &mut a)
                .await
                .is_err()
        );
        r.announce(Ended::Credential(CredentialId::Token(1)));
        a.await;
        r.announce(Ended::User(8));
        b.await;
    }
}
