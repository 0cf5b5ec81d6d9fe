//! Who may do what on the TCP listener: accounts and roles ([`Principal`]),
//! passwords and secrets (`secrets.rs`), login throttling (`limiter.rs`),
//! the route → permission table (`policy.rs`), and the signal that closes
//! terminals when a session or token ends (`revocation.rs`). No HTTP here:
//! `api/auth.rs` applies it to requests.

pub mod limiter;
pub mod policy;
pub mod revocation;
pub mod secrets;

use serde::Serialize;

/// A user's role. Admins do everything; operators run, stop, exec, build,
/// pull and push within their teams; viewers read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Operator,
    Admin,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "operator" => Some(Role::Operator),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Viewer => "viewer",
        }
    }
}

/// What proved who a request comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum CredentialId {
    /// The root-only unix socket.
    Root,
    /// A browser session (the SHA-256 of its cookie).
    Session(String),
    /// An API token, by id.
    Token(i64),
    /// A user's password sent with the request (Basic, registry clients).
    Password(i64),
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The account name; `root` on the unix socket.
    pub user: String,
    pub user_id: Option<i64>,
    pub role: Role,
    /// The teams the user belongs to, `(id, name)`.
    pub teams: Vec<(i64, String)>,
    /// The team new objects go to: the one named in `X-Berth-Team`, else the first.
    pub team: Option<(i64, String)>,
    pub credential: CredentialId,
    /// The session's CSRF token (browser sessions only).
    pub csrf: Option<String>,
    /// When the credential expires (unix nanoseconds), if it does.
    pub expires_nano: Option<i64>,
}

impl Principal {
    /// The unix socket's caller: root, trusted like docker.sock.
    pub fn root() -> Self {
        Principal {
            user: "root".into(),
            user_id: None,
            role: Role::Admin,
            teams: Vec::new(),
            team: None,
            credential: CredentialId::Root,
            csrf: None,
            expires_nano: None,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Whether this caller may act on an object owned by `owners` (team ids).
    /// Objects no team owns are the host's: only admins act on them.
    pub fn owns(&self, owners: &[i64]) -> bool {
        self.is_admin()
            || owners
                .iter()
                .any(|o| self.teams.iter().any(|(t, _)| t == o))
    }

    /// Whether this caller may see an object owned by `owners`: also true for
    /// images no team owns (the host's base images), when `host_visible`.
    pub fn sees(&self, owners: &[i64], host_visible: bool) -> bool {
        self.owns(owners) || (host_visible && owners.is_empty())
    }

    pub fn team_name(&self) -> String {
        self.team.as_ref().map(|t| t.1.clone()).unwrap_or_default()
    }
}

/// The daemon's account state that is not in the database.
#[derive(Debug)]
pub struct AuthState {
    pub limiter: limiter::LoginLimiter,
    pub revocations: revocation::Revocations,
    /// How long a browser session lasts.
    pub session_ttl: std::time::Duration,
}
