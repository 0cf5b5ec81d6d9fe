//! `GET /berth/openapi.json`: an OpenAPI 3.0 document of every endpoint the
//! daemon answers — the Engine API subset and Berth's `/berth/…` and `/v2/`
//! additions — built from one table. A test reads the router in `mod.rs`
//! and checks that the table and the routes name the same operations.

use axum::Json;
use serde_json::{json, Map, Value};

/// One operation.
struct Op {
    method: &'static str,
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
    /// Query parameters (strings unless named in `BOOL_PARAMS`/`INT_PARAMS`).
    query: &'static [&'static str],
    /// The request body's media type, if it takes one.
    body: Option<&'static str>,
    /// The success status.
    ok: u16,
}

const fn op(
    method: &'static str,
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
    query: &'static [&'static str],
    body: Option<&'static str>,
    ok: u16,
) -> Op {
    Op {
        method,
        path,
        tag,
        summary,
        query,
        body,
        ok,
    }
}

const JSON: Option<&str> = Some("application/json");
const TAR: Option<&str> = Some("application/x-tar");

const BOOL_PARAMS: &[&str] = &[
    "all",
    "stream",
    "one-shot",
    "follow",
    "stdout",
    "stderr",
    "timestamps",
    "logs",
    "stdin",
    "force",
    "v",
    "noprune",
    "verbose",
    "nocache",
    "q",
    "pause",
    "everywhere",
    "copyUIDGID",
    "noOverwriteDirNonDir",
    "quiet",
];
const INT_PARAMS: &[&str] = &[
    "t", "timeout", "limit", "offset", "h", "w", "n", "since", "until", "tail",
];

const OPS: &[Op] = &[
    op("GET", "/_ping", "System", "Ping the daemon", &[], None, 200),
    op(
        "HEAD",
        "/_ping",
        "System",
        "Ping the daemon (headers only)",
        &[],
        None,
        200,
    ),
    op(
        "GET",
        "/version",
        "System",
        "Versions of the daemon and its API",
        &[],
        None,
        200,
    ),
    op(
        "GET",
        "/info",
        "System",
        "System-wide information",
        &[],
        None,
        200,
    ),
    op(
        "GET",
        "/events",
        "System",
        "Recorded, then live events (NDJSON)",
        &["since", "until", "filters"],
        None,
        200,
    ),
    op(
        "GET",
        "/system/df",
        "System",
        "Disk usage of images, containers, volumes, build cache",
        &[],
        None,
        200,
    ),
    op(
        "POST",
        "/auth",
        "Registries",
        "Log in to a registry (kept by the daemon)",
        &[],
        JSON,
        200,
    ),
    op(
        "GET",
        "/images/json",
        "Images",
        "List images",
        &["all", "filters"],
        None,
        200,
    ),
    op(
        "GET",
        "/images/search",
        "Registries",
        "Search registries and local images",
        &["term", "limit", "filters"],
        None,
        200,
    ),
    op(
        "GET",
        "/images/get",
        "Images",
        "Save images as a tar",
        &["names"],
        None,
        200,
    ),
    op(
        "POST",
        "/images/load",
        "Images",
        "Load images from a tar",
        &["quiet"],
        TAR,
        200,
    ),
    op(
        "POST",
        "/images/create",
        "Images",
        "Pull (fromImage) or import (fromSrc) an image",
        &[
            "fromImage",
            "fromSrc",
            "repo",
            "tag",
            "platform",
            "message",
            "changes",
        ],
        TAR,
        200,
    ),
    op(
        "POST",
        "/images/prune",
        "Images",
        "Remove unused images",
        &["filters"],
        None,
        200,
    ),
    op(
        "GET",
        "/images/{name}/json",
        "Images",
        "Inspect an image",
        &[],
        None,
        200,
    ),
    op(
        "GET",
        "/images/{name}/history",
        "Images",
        "An image's history",
        &[],
        None,
        200,
    ),
    op(
        "GET",
        "/images/{name}/get",
        "Images",
        "Save one image as a tar",
        &[],
        None,
        200,
    ),
    op(
        "POST",
        "/images/{name}/tag",
        "Images",
        "Tag an image",
        &["repo", "tag"],
        None,
        201,
    ),
    op(
        "POST",
        "/images/{name}/push",
        "Images",
        "Push an image (NDJSON progress)",
        &["tag"],
        None,
        200,
    ),
    op(
        "DELETE",
        "/images/{name}",
        "Images",
        "Remove an image",
        &["force", "noprune"],
        None,
        200,
    ),
    op(
        "POST",
        "/build",
        "Images",
        "Build an image from a context tar (NDJSON)",
        &[
            "t",
            "dockerfile",
            "buildargs",
            "nocache",
            "target",
            "labels",
            "q",
        ],
        TAR,
        200,
    ),
    op(
        "POST",
        "/build/prune",
        "Images",
        "Forget the build cache (admins)",
        &["filters"],
        None,
        200,
    ),
    op(
        "POST",
        "/commit",
        "Images",
        "Make an image of a container",
        &[
            "container",
            "repo",
            "tag",
            "author",
            "comment",
            "changes",
            "pause",
        ],
        JSON,
        201,
    ),
    op(
        "GET",
        "/containers/json",
        "Containers",
        "List containers",
        &["all", "limit", "filters"],
        None,
        200,
    ),
    op(
        "POST",
        "/containers/create",
        "Containers",
        "Create a container",
        &["name"],
        JSON,
        201,
    ),
    op(
        "POST",
        "/containers/prune",
        "Containers",
        "Remove stopped containers",
        &["filters"],
        None,
        200,
    ),
    op(
        "GET",
        "/containers/{id}/json",
        "Containers",
        "Inspect a container",
        &[],
        None,
        200,
    ),
    op(
        "GET",
        "/containers/{id}/logs",
        "Containers",
        "A container's logs",
        &[
            "follow",
            "stdout",
            "stderr",
            "since",
            "until",
            "timestamps",
            "tail",
        ],
        None,
        200,
    ),
    op(
        "GET",
        "/containers/{id}/top",
        "Containers",
        "A container's processes",
        &[],
        None,
        200,
    ),
    op(
        "GET",
        "/containers/{id}/stats",
        "Containers",
        "Resource use (once or streamed)",
        &["stream", "one-shot"],
        None,
        200,
    ),
    op(
        "GET",
        "/containers/{id}/changes",
        "Containers",
        "Changes to the image's files",
        &[],
        None,
        200,
    ),
    op(
        "GET",
        "/containers/{id}/archive",
        "Containers",
        "A path of the container as a tar",
        &["path"],
        None,
        200,
    ),
    op(
        "HEAD",
        "/containers/{id}/archive",
        "Containers",
        "Stat a path of the container",
        &["path"],
        None,
        200,
    ),
    op(
        "PUT",
        "/containers/{id}/archive",
        "Containers",
        "Unpack a tar into a directory of the container",
        &["path", "noOverwriteDirNonDir", "copyUIDGID"],
        TAR,
        200,
    ),
    op(
        "GET",
        "/containers/{id}/export",
        "Containers",
        "The container's filesystem as a tar",
        &[],
        None,
        200,
    ),
    op(
        "POST",
        "/containers/{id}/start",
        "Containers",
        "Start a container",
        &[],
        None,
        204,
    ),
    op(
        "POST",
        "/containers/{id}/stop",
        "Containers",
        "Stop a container",
        &["t", "signal"],
        None,
        204,
    ),
    op(
        "POST",
        "/containers/{id}/restart",
        "Containers",
        "Restart a container",
        &["t"],
        None,
        204,
    ),
    op(
        "POST",
        "/containers/{id}/kill",
        "Containers",
        "Send a signal",
        &["signal"],
        None,
        204,
    ),
    op(
        "POST",
        "/containers/{id}/wait",
        "Containers",
        "Wait for a condition",
        &["condition"],
        None,
        200,
    ),
    op(
        "POST",
        "/containers/{id}/rename",
        "Containers",
        "Rename a container",
        &["name"],
        None,
        204,
    ),
    op(
        "POST",
        "/containers/{id}/attach",
        "Containers",
        "Attach (hijacked stream)",
        &["stream", "logs", "stdin", "stdout", "stderr", "detachKeys"],
        None,
        200,
    ),
    op(
        "POST",
        "/containers/{id}/resize",
        "Containers",
        "Resize the terminal",
        &["h", "w"],
        None,
        200,
    ),
    op(
        "GET",
        "/containers/{id}/attach/ws",
        "Containers",
        "Attach over a WebSocket",
        &["stdin", "h", "w"],
        None,
        101,
    ),
    op(
        "POST",
        "/containers/{id}/exec",
        "Exec",
        "Create an exec",
        &[],
        JSON,
        201,
    ),
    op(
        "DELETE",
        "/containers/{id}",
        "Containers",
        "Remove a container",
        &["force", "v"],
        None,
        204,
    ),
    op(
        "POST",
        "/exec/{id}/start",
        "Exec",
        "Start an exec (detached or hijacked)",
        &[],
        JSON,
        200,
    ),
    op(
        "POST",
        "/exec/{id}/resize",
        "Exec",
        "Resize an exec's terminal",
        &["h", "w"],
        None,
        200,
    ),
    op(
        "GET",
        "/exec/{id}/json",
        "Exec",
        "Inspect an exec",
        &[],
        None,
        200,
    ),
    op(
        "GET",
        "/volumes",
        "Volumes",
        "List volumes",
        &["filters"],
        None,
        200,
    ),
    op(
        "POST",
        "/volumes/create",
        "Volumes",
        "Create a volume",
        &[],
        JSON,
        201,
    ),
    op(
        "POST",
        "/volumes/prune",
        "Volumes",
        "Remove unused volumes",
        &["filters"],
        None,
        200,
    ),
    op(
        "GET",
        "/volumes/{name}",
        "Volumes",
        "Inspect a volume",
        &[],
        None,
        200,
    ),
    op(
        "DELETE",
        "/volumes/{name}",
        "Volumes",
        "Remove a volume",
        &["force"],
        None,
        204,
    ),
    op(
        "GET",
        "/networks",
        "Networks",
        "List networks",
        &["filters"],
        None,
        200,
    ),
    op(
        "POST",
        "/networks/create",
        "Networks",
        "Create a network",
        &[],
        JSON,
        201,
    ),
    op(
        "POST",
        "/networks/prune",
        "Networks",
        "Remove unused networks",
        &["filters"],
        None,
        200,
    ),
    op(
        "GET",
        "/networks/{id}",
        "Networks",
        "Inspect a network",
        &["verbose", "scope"],
        None,
        200,
    ),
    op(
        "DELETE",
        "/networks/{id}",
        "Networks",
        "Remove a network",
        &[],
        None,
        204,
    ),
    op(
        "POST",
        "/networks/{id}/connect",
        "Networks",
        "Connect a container to a network",
        &[],
        JSON,
        200,
    ),
    op(
        "POST",
        "/networks/{id}/disconnect",
        "Networks",
        "Disconnect a container from a network",
        &[],
        JSON,
        200,
    ),
    op(
        "GET",
        "/berth/system/check",
        "Berth",
        "Verify every blob, reference and layer of the image store (admins)",
        &[],
        None,
        200,
    ),
    op(
        "GET",
        "/berth/containers",
        "Berth",
        "Containers filtered, sorted and paged for the dashboard",
        &["q", "state", "sort", "order", "offset", "limit", "id"],
        None,
        200,
    ),
    op(
        "GET",
        "/berth/images",
        "Berth",
        "Image rows (one per tag) filtered, sorted and paged for the dashboard",
        &["q", "sort", "order", "offset", "limit"],
        None,
        200,
    ),
    op(
        "GET",
        "/berth/host",
        "Berth",
        "Host CPU, memory, disk and counts",
        &[],
        None,
        200,
    ),
    op(
        "DELETE",
        "/berth/auth/{server}",
        "Registries",
        "Forget a registry login",
        &[],
        None,
        204,
    ),
    op(
        "GET",
        "/berth/registries",
        "Registries",
        "Registry logins (server, user)",
        &[],
        None,
        200,
    ),
    op(
        "GET",
        "/berth/containers/{id}/files",
        "Containers",
        "A directory's entries (file browser)",
        &["path"],
        None,
        200,
    ),
    op(
        "GET",
        "/berth/containers/{id}/files/content",
        "Containers",
        "A file's bytes (file browser)",
        &["path"],
        None,
        200,
    ),
    op(
        "GET",
        "/berth/containers/{id}/shell/ws",
        "Exec",
        "A new shell over a WebSocket",
        &["cmd", "h", "w"],
        None,
        101,
    ),
    op(
        "GET",
        "/berth/activity",
        "Accounts",
        "The activity history (JSON or CSV)",
        &[
            "actor", "team", "action", "object", "since", "until", "limit", "format",
        ],
        None,
        200,
    ),
    op(
        "GET",
        "/berth/recordings/{id}",
        "Accounts",
        "A terminal recording, asciicast v2 (admins)",
        &[],
        None,
        200,
    ),
    op(
        "POST",
        "/berth/login",
        "Accounts",
        "Log in: a session cookie and its CSRF token",
        &[],
        JSON,
        200,
    ),
    op(
        "POST",
        "/berth/logout",
        "Accounts",
        "End this session (or all of them)",
        &["everywhere"],
        None,
        204,
    ),
    op(
        "GET",
        "/berth/session",
        "Accounts",
        "Who is logged in",
        &[],
        None,
        200,
    ),
    op(
        "PUT",
        "/berth/password",
        "Accounts",
        "Change one's password",
        &[],
        JSON,
        204,
    ),
    op(
        "GET",
        "/berth/tokens",
        "Accounts",
        "One's API tokens",
        &[],
        None,
        200,
    ),
    op(
        "POST",
        "/berth/tokens",
        "Accounts",
        "Make an API token (shown once)",
        &[],
        JSON,
        201,
    ),
    op(
        "DELETE",
        "/berth/tokens/{id}",
        "Accounts",
        "Revoke an API token",
        &[],
        None,
        204,
    ),
    op(
        "GET",
        "/berth/users",
        "Accounts",
        "Users (admins)",
        &[],
        None,
        200,
    ),
    op(
        "POST",
        "/berth/users",
        "Accounts",
        "Create a user (admins)",
        &[],
        JSON,
        201,
    ),
    op(
        "PATCH",
        "/berth/users/{name}",
        "Accounts",
        "Change a user's role or password (admins)",
        &[],
        JSON,
        204,
    ),
    op(
        "DELETE",
        "/berth/users/{name}",
        "Accounts",
        "Remove a user (admins)",
        &[],
        None,
        204,
    ),
    op(
        "GET",
        "/berth/teams",
        "Accounts",
        "Teams and members (admins)",
        &[],
        None,
        200,
    ),
    op(
        "POST",
        "/berth/teams",
        "Accounts",
        "Create a team (admins)",
        &[],
        JSON,
        201,
    ),
    op(
        "DELETE",
        "/berth/teams/{name}",
        "Accounts",
        "Remove a team (admins)",
        &[],
        None,
        204,
    ),
    op(
        "PUT",
        "/berth/teams/{team}/members/{user}",
        "Accounts",
        "Add a member (admins)",
        &[],
        None,
        204,
    ),
    op(
        "DELETE",
        "/berth/teams/{team}/members/{user}",
        "Accounts",
        "Remove a member (admins)",
        &[],
        None,
        204,
    ),
    op(
        "GET",
        "/berth/openapi.json",
        "Berth",
        "This document",
        &[],
        None,
        200,
    ),
    op(
        "GET",
        "/v2/",
        "Registry",
        "Distribution API base",
        &[],
        None,
        200,
    ),
    op(
        "GET",
        "/v2/_catalog",
        "Registry",
        "Repositories",
        &["n", "last"],
        None,
        200,
    ),
    op(
        "GET",
        "/v2/{name}/tags/list",
        "Registry",
        "A repository's tags",
        &["n", "last"],
        None,
        200,
    ),
    op(
        "GET",
        "/v2/{name}/manifests/{reference}",
        "Registry",
        "A manifest",
        &[],
        None,
        200,
    ),
    op(
        "HEAD",
        "/v2/{name}/manifests/{reference}",
        "Registry",
        "A manifest's digest and size",
        &[],
        None,
        200,
    ),
    op(
        "PUT",
        "/v2/{name}/manifests/{reference}",
        "Registry",
        "Push a manifest",
        &[],
        Some("application/vnd.oci.image.manifest.v1+json"),
        201,
    ),
    op(
        "DELETE",
        "/v2/{name}/manifests/{reference}",
        "Registry",
        "Delete a manifest by digest",
        &[],
        None,
        202,
    ),
    op(
        "GET",
        "/v2/{name}/blobs/{digest}",
        "Registry",
        "A blob (ranges allowed)",
        &[],
        None,
        200,
    ),
    op(
        "HEAD",
        "/v2/{name}/blobs/{digest}",
        "Registry",
        "A blob's size",
        &[],
        None,
        200,
    ),
    op(
        "DELETE",
        "/v2/{name}/blobs/{digest}",
        "Registry",
        "Delete an unused blob",
        &[],
        None,
        202,
    ),
    op(
        "POST",
        "/v2/{name}/blobs/uploads/",
        "Registry",
        "Start (or finish, with digest) an upload; mount",
        &["digest", "mount", "from"],
        Some("application/octet-stream"),
        202,
    ),
    op(
        "GET",
        "/v2/{name}/blobs/uploads/{uuid}",
        "Registry",
        "An upload's progress",
        &[],
        None,
        204,
    ),
    op(
        "PATCH",
        "/v2/{name}/blobs/uploads/{uuid}",
        "Registry",
        "Send a chunk",
        &[],
        Some("application/octet-stream"),
        202,
    ),
    op(
        "PUT",
        "/v2/{name}/blobs/uploads/{uuid}",
        "Registry",
        "Finish an upload",
        &["digest"],
        Some("application/octet-stream"),
        201,
    ),
    op(
        "DELETE",
        "/v2/{name}/blobs/uploads/{uuid}",
        "Registry",
        "Cancel an upload",
        &[],
        None,
        204,
    ),
];

fn schema_of(param: &str) -> Value {
    if BOOL_PARAMS.contains(&param) {
        json!({"type": "boolean"})
    } else if INT_PARAMS.contains(&param) {
        json!({"type": "integer"})
    } else {
        json!({"type": "string"})
    }
}

fn operation(o: &Op) -> Value {
    let mut params: Vec<Value> = o
        .path
        .split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|p| json!({"name": p, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect();
    params.extend(
        o.query
            .iter()
            .map(|q| json!({"name": q, "in": "query", "required": false, "schema": schema_of(q)})),
    );
    let mut v = json!({
        "tags": [o.tag],
        "summary": o.summary,
        "operationId": format!("{}{}", o.method.to_lowercase(), o.path.replace(['/', '{', '}', '.', '-'], "_")),
        "parameters": params,
        "responses": {
            o.ok.to_string(): {"description": "success"},
            "default": {
                "description": "an error, as Docker answers it",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
            }
        }
    });
    if let Some(ct) = o.body {
        v["requestBody"] = json!({"required": false, "content": {ct: {"schema": {}}}});
    }
    v
}

/// The whole document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for o in OPS {
        let entry = paths.entry(o.path.to_string()).or_insert_with(|| json!({}));
        entry[o.method.to_lowercase()] = operation(o);
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Berth API",
            "version": berth_types::API_VERSION,
            "description": "The Docker Engine API subset Berth serves (also under /v1.40 … /v1.47), \
                Berth's own /berth/ endpoints, and the OCI distribution API at /v2/. On TCP every \
                request but /_ping, /berth/login and the dashboard's files needs a session cookie \
                (with X-CSRF-Token on state changes), a Bearer token, or Basic credentials.",
        },
        "servers": [{"url": "/"}],
        "components": {
            "schemas": {"ErrorResponse": {"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]}},
            "securitySchemes": {
                "token": {"type": "http", "scheme": "bearer"},
                "basic": {"type": "http", "scheme": "basic"},
                "session": {"type": "apiKey", "in": "cookie", "name": "berth_session"},
            },
        },
        "security": [{"token": []}, {"basic": []}, {"session": []}],
        "paths": paths,
    })
}

/// `GET /berth/openapi.json`
pub async fn serve() -> Json<Value> {
    Json(document())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// (METHOD, path) of every route in `api_routes()`, read from mod.rs.
    fn routes() -> BTreeSet<(String, String)> {
        let src = include_str!("mod.rs");
        let body = &src[src.find("fn api_routes").unwrap()..];
        let body = &body[..body.find("\n}\n").unwrap()];
        let mut out = BTreeSet::new();
        for chunk in body.split(".route(").skip(1) {
            let path = chunk.split('"').nth(1).unwrap().to_string();
            let rest = chunk.split_once(',').unwrap().1;
            let end = rest.find("\n        .route").unwrap_or(rest.len());
            for (word, method) in [
                ("get(", "GET"),
                ("head(", "HEAD"),
                ("post(", "POST"),
                ("put(", "PUT"),
                ("delete(", "DELETE"),
                ("patch(", "PATCH"),
                ("any(", "ANY"),
            ] {
                if rest[..end].contains(word) {
                    out.insert((method.to_string(), path.clone()));
                }
            }
        }
        out
    }

    /// Whether a documented operation is served by the route `(m, p)`.
    fn served_by(o: &Op, m: &str, p: &str) -> bool {
        let method = m == "ANY" || m == o.method;
        match p.split_once("{*rest}") {
            Some((prefix, _)) => method && o.path.starts_with(prefix) && o.path != prefix,
            None => method && o.path == p,
        }
    }

    #[test]
    fn the_document_names_every_route_and_only_those() {
        let routes = routes();
        assert!(routes.len() > 60, "{routes:?}");
        let mut missing = Vec::new();
        for (m, p) in &routes {
            if p == "/berth/openapi.json" {
                continue;
            }
            if !OPS.iter().any(|o| served_by(o, m, p)) {
                missing.push(format!("{m} {p}"));
            }
        }
        assert!(
            missing.is_empty(),
            "routes not in the document: {missing:?}"
        );
        let extra: Vec<String> = OPS
            .iter()
            .filter(|o| !routes.iter().any(|(m, p)| served_by(o, m, p)))
            .map(|o| format!("{} {}", o.method, o.path))
            .collect();
        assert!(extra.is_empty(), "documented but not served: {extra:?}");
        // Catch-all routes: every method they answer is documented under them.
        for (m, p) in routes.iter().filter(|(_, p)| p.contains("{*rest}")) {
            assert!(OPS.iter().any(|o| served_by(o, m, p)), "{m} {p}");
        }
    }

    #[test]
    fn the_document_is_openapi_3() {
        let d = document();
        assert_eq!(d["openapi"], "3.0.3");
        let paths = d["paths"].as_object().unwrap();
        assert!(paths["/containers/{id}/json"]["get"]["parameters"][0]["in"] == "path");
        let ids: BTreeSet<&str> = OPS.iter().map(|o| o.path).collect();
        assert_eq!(paths.len(), ids.len());
        let mut op_ids = BTreeSet::new();
        for p in paths.values() {
            for o in p.as_object().unwrap().values() {
                assert!(
                    op_ids.insert(o["operationId"].as_str().unwrap().to_string()),
                    "unique ids"
                );
            }
        }
    }
}
