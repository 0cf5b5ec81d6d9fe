//! The permission table: for a request's method and path (version prefix
//! already stripped), the least role it needs and the objects it touches.
//! Pure, so the matrix is unit-tested here and end to end in
//! `tests/tests/accounts.rs`.

use super::Role;

/// What a request needs from its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Nobody needs to be logged in: `/_ping`, the login form, the dashboard's files.
    Public,
    /// Any logged-in account, whatever its role: its own session and tokens.
    Account,
    /// At least this role.
    Role(Role),
}

/// An object named in the request, and whether the request changes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Object {
    Container(String),
    Exec(String),
    /// An image reference or id; `change`: tag target, removal (must own),
    /// else reading or running it (must see).
    Image {
        name: String,
        change: bool,
    },
    Volume(String),
    /// A network by name or id; `change`: connect, disconnect, removal.
    Network {
        name: String,
        change: bool,
    },
    /// A name a request tags an image with (tag, commit, build): taking it
    /// from an image the caller does not own is refused.
    TagTarget(String),
}

impl Object {
    /// The name as the request gave it.
    pub fn name(&self) -> &str {
        match self {
            Object::Container(n) | Object::Exec(n) | Object::Volume(n) | Object::TagTarget(n) => n,
            Object::Image { name, .. } | Object::Network { name, .. } => name,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub need: Need,
    pub objects: Vec<Object>,
}

fn rule(need: Need) -> Rule {
    Rule {
        need,
        objects: Vec::new(),
    }
}

fn with(need: Need, o: Object) -> Rule {
    Rule {
        need,
        objects: vec![o],
    }
}

const READ: Need = Need::Role(Role::Viewer);
const OPERATE: Need = Need::Role(Role::Operator);
const ADMIN: Need = Need::Role(Role::Admin);

/// The first path segments the API answers; GETs elsewhere are the dashboard's files.
const API_ROOTS: &[&str] = &[
    "_ping",
    "version",
    "info",
    "events",
    "auth",
    "berth",
    "images",
    "containers",
    "exec",
    "commit",
    "build",
    "volumes",
    "networks",
    "system",
    "v2",
    "session",
    "swarm",
    "plugins",
    "distribution",
    "secrets",
    "configs",
    "services",
    "nodes",
    "tasks",
];

/// The rule for `method path?query`.
pub fn classify(method: &str, path: &str, query: Option<&str>) -> Rule {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let read = method == "GET" || method == "HEAD";
    let query_values = |key: &str| -> Vec<String> {
        form_urlencoded::parse(query.unwrap_or("").as_bytes())
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
            .collect()
    };
    let Some(&root) = segs.first() else {
        return rule(if read { Need::Public } else { OPERATE });
    };
    if !API_ROOTS.contains(&root) {
        return rule(if read { Need::Public } else { OPERATE });
    }
    match (root, &segs[1..]) {
        ("_ping", []) if read => rule(Need::Public),
        ("version" | "info" | "events", []) => rule(READ),
        ("auth", []) => rule(ADMIN),
        ("berth", rest) => berth_rule(method, rest),
        ("containers", ["json"]) => rule(READ),
        ("containers", ["create"]) => rule(OPERATE),
        ("containers", [id, tail @ ..]) => {
            let o = Object::Container((*id).to_string());
            let need = match (method, tail) {
                // Viewers may watch: input is refused to them by the handler.
                ("GET", ["attach", "ws"]) | ("POST", ["attach" | "wait"]) => READ,
                (_, _) if read => READ,
                _ => OPERATE,
            };
            with(need, o)
        }
        ("exec", [id, ..]) => with(
            if read { READ } else { OPERATE },
            Object::Exec((*id).to_string()),
        ),
        ("commit", []) => Rule {
            need: OPERATE,
            objects: query_values("container")
                .into_iter()
                .map(Object::Container)
                .chain(tag_target(&query_values("repo"), &query_values("tag")))
                .collect(),
        },
        ("build", _) => Rule {
            need: OPERATE,
            objects: query_values("t")
                .into_iter()
                .map(Object::TagTarget)
                .collect(),
        },
        ("images", ["json" | "search"]) => rule(READ),
        ("images", ["get"]) => Rule {
            need: READ,
            objects: query_values("names")
                .into_iter()
                .map(|name| Object::Image {
                    name,
                    change: false,
                })
                .collect(),
        },
        ("images", ["create" | "load" | "prune"]) => rule(OPERATE),
        ("images", [name @ .., verb]) if !name.is_empty() && read => with(
            READ,
            Object::Image {
                name: name.join("/"),
                change: false,
            },
        ),
        ("images", [name @ .., "push"]) if !name.is_empty() => with(
            OPERATE,
            Object::Image {
                name: name.join("/"),
                change: false,
            },
        ),
        ("images", [name @ .., "tag"]) if !name.is_empty() => Rule {
            need: OPERATE,
            objects: std::iter::once(Object::Image {
                name: name.join("/"),
                change: false,
            })
            .chain(tag_target(&query_values("repo"), &query_values("tag")))
            .collect(),
        },
        ("images", name) if method == "DELETE" && !name.is_empty() => with(
            OPERATE,
            Object::Image {
                name: name.join("/"),
                change: true,
            },
        ),
        ("volumes", [] | ["create"]) => rule(if read { READ } else { OPERATE }),
        ("volumes", [name]) => with(
            if read { READ } else { OPERATE },
            Object::Volume((*name).to_string()),
        ),
        ("networks", [] | ["create" | "prune"]) => rule(if read { READ } else { OPERATE }),
        ("networks", [name, ..]) => with(
            if read { READ } else { OPERATE },
            Object::Network {
                name: (*name).to_string(),
                change: !read,
            },
        ),
        // Berth's own registry: pulling reads, pushing operates.
        ("v2", _) => rule(if read { READ } else { OPERATE }),
        _ => rule(if read { READ } else { OPERATE }),
    }
}

/// `repo` and `tag` query values as the name they make.
fn tag_target(repo: &[String], tag: &[String]) -> Option<Object> {
    let repo = repo.first().filter(|r| !r.is_empty())?;
    Some(Object::TagTarget(
        match tag.first().filter(|t| !t.is_empty()) {
            Some(t) => format!("{repo}:{t}"),
            None => repo.clone(),
        },
    ))
}

/// `/berth/…`: Berth's own endpoints.
fn berth_rule(method: &str, rest: &[&str]) -> Rule {
    let read = method == "GET" || method == "HEAD";
    match rest {
        ["login" | "openapi.json"] => rule(Need::Public),
        ["session" | "logout" | "password"] | ["tokens", ..] => rule(Need::Account),
        ["users", ..] | ["teams", ..] | ["recordings", ..] | ["system", "check"] => rule(ADMIN),
        ["auth", ..] => rule(ADMIN),
        ["registries" | "activity"] if read => rule(READ),
        ["containers", id, "shell", "ws"] => with(OPERATE, Object::Container((*id).to_string())),
        ["containers", id, ..] => with(
            if read { READ } else { OPERATE },
            Object::Container((*id).to_string()),
        ),
        _ => rule(if read { READ } else { ADMIN }),
    }
}

/// The host-level options in a container's create request that only admins
/// may use, as the flags a user would know them by.
pub fn host_options(req: &crate::container::CreateRequest) -> Vec<String> {
    let hc = &req.host_config;
    let mut out = Vec::new();
    for b in hc.binds.iter().flatten() {
        if b.starts_with('/') {
            out.push(format!(
                "a bind mount of the host path {:?}",
                b.split(':').next().unwrap_or(b)
            ));
        }
    }
    if hc.privileged {
        out.push("--privileged".into());
    }
    if hc.cap_add.as_ref().is_some_and(|c| !c.is_empty()) {
        out.push("--cap-add".into());
    }
    if hc.network_mode == "host" {
        out.push("--network host".into());
    }
    if hc
        .security_opt
        .iter()
        .flatten()
        .any(|o| o.contains("unconfined"))
    {
        out.push("--security-opt seccomp=unconfined".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn need(method: &str, path: &str) -> Need {
        classify(method, path, None).need
    }

    #[test]
    fn routes_need_the_right_role() {
        assert_eq!(need("GET", "/_ping"), Need::Public);
        assert_eq!(need("GET", "/"), Need::Public);
        assert_eq!(need("GET", "/ui/containers"), Need::Public);
        assert_eq!(need("GET", "/berth_frontend_bg.wasm"), Need::Public);
        assert_eq!(need("POST", "/berth/login"), Need::Public);
        assert_eq!(need("GET", "/berth/session"), Need::Account);
        assert_eq!(need("DELETE", "/berth/tokens/3"), Need::Account);
        assert_eq!(need("GET", "/containers/json"), READ);
        assert_eq!(need("GET", "/containers/abc/logs"), READ);
        assert_eq!(need("GET", "/containers/abc/attach/ws"), READ);
        assert_eq!(need("POST", "/containers/abc/wait"), READ);
        assert_eq!(need("POST", "/containers/abc/start"), OPERATE);
        assert_eq!(need("DELETE", "/containers/abc"), OPERATE);
        assert_eq!(need("POST", "/containers/create"), OPERATE);
        assert_eq!(need("GET", "/berth/containers/abc/shell/ws"), OPERATE);
        assert_eq!(
            classify("GET", "/berth/containers/abc/files", None).objects,
            [Object::Container("abc".into())]
        );
        assert_eq!(need("POST", "/exec/e1/start"), OPERATE);
        assert_eq!(need("POST", "/build"), OPERATE);
        assert_eq!(need("POST", "/images/create"), OPERATE);
        assert_eq!(need("GET", "/images/a/b/json"), READ);
        assert_eq!(need("POST", "/auth"), ADMIN);
        assert_eq!(need("DELETE", "/berth/auth/reg"), ADMIN);
        assert_eq!(need("POST", "/berth/users"), ADMIN);
        assert_eq!(need("GET", "/berth/recordings/1"), ADMIN);
        assert_eq!(need("GET", "/berth/activity"), READ);
        assert_eq!(need("PUT", "/v2/app/manifests/1"), OPERATE);
        assert_eq!(need("GET", "/v2/app/manifests/1"), READ);
        assert_eq!(need("POST", "/somewhere/else"), OPERATE);
    }

    #[test]
    fn objects_are_named() {
        assert_eq!(
            classify("POST", "/containers/web/stop", None).objects,
            [Object::Container("web".into())]
        );
        assert_eq!(
            classify("DELETE", "/images/reg:5000/team/app:1", None).objects,
            [Object::Image {
                name: "reg:5000/team/app:1".into(),
                change: true
            }]
        );
        assert_eq!(
            classify("POST", "/images/team/app/push", None).objects,
            [Object::Image {
                name: "team/app".into(),
                change: false
            }]
        );
        assert_eq!(
            classify("POST", "/commit", Some("container=web&repo=x")).objects,
            [
                Object::Container("web".into()),
                Object::TagTarget("x".into())
            ]
        );
        assert_eq!(
            classify("GET", "/images/get", Some("names=a&names=b"))
                .objects
                .len(),
            2
        );
        assert_eq!(
            classify("GET", "/volumes/data", None).objects,
            [Object::Volume("data".into())]
        );
        assert_eq!(
            classify("POST", "/networks/app/connect", None),
            with(
                OPERATE,
                Object::Network {
                    name: "app".into(),
                    change: true
                }
            )
        );
        assert_eq!(classify("GET", "/networks", None).need, READ);
        assert_eq!(classify("POST", "/networks/prune", None).objects, []);
    }

    #[test]
    fn host_options_are_named() {
        let mut req: crate::container::CreateRequest =
            serde_json::from_str(r#"{"Image":"x","HostConfig":{"Binds":["/etc:/x","vol:/y"],"CapAdd":["NET_ADMIN"],"NetworkMode":"host"}}"#).unwrap();
        let o = host_options(&req);
        assert_eq!(o.len(), 3, "{o:?}");
        assert!(o[0].contains("/etc"));
        req.host_config = Default::default();
        assert!(host_options(&req).is_empty());
    }
}
