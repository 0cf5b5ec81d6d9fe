//! Engine API types shared by the daemon, the `berth` CLI and the dashboard.
//!
//! This crate owns the JSON shapes that cross the wire, spelled as the Docker
//! Engine API spells them (`PascalCase` field names), so the real docker CLI,
//! Berth's own CLI and the WebAssembly dashboard decode the same bytes. It must
//! stay dependency-light and build for `wasm32-unknown-unknown`: no I/O here.

pub mod units;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The API version Berth speaks and advertises in `Api-Version`.
pub const API_VERSION: &str = "1.47";
/// The oldest API version accepted in a `/vX.Y/` path prefix.
pub const MIN_API_VERSION: &str = "1.40";

/// Docker's error body: `{"message": "..."}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ErrorResponse {
    pub message: String,
}

/// One row of `GET /images/json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct ImageSummary {
    pub id: String,
    pub parent_id: String,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    /// Unix seconds.
    pub created: i64,
    pub size: i64,
    pub shared_size: i64,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    pub containers: i64,
}

/// A page of one of the dashboard's long lists (`/berth/containers`,
/// `/berth/images`): filtered and sorted by the daemon.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct ListPage<T> {
    /// Everything the caller may see, before the filter.
    pub total: usize,
    /// What the filter kept.
    pub matched: usize,
    pub offset: usize,
    pub items: Vec<T>,
}

/// An image under one of its tags, as the dashboard's image list shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct ImageRow {
    pub repository: String,
    pub tag: String,
    pub id: String,
    /// Unix seconds.
    pub created: i64,
    pub size: i64,
}

/// One entry of `GET /images/{name}/history`, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct HistoryItem {
    /// The image id of this step where a local image has it, else `<missing>`.
    pub id: String,
    /// Unix seconds.
    pub created: i64,
    pub created_by: String,
    pub tags: Option<Vec<String>>,
    pub size: i64,
    pub comment: String,
}

/// One entry of the `DELETE /images/{name}` response.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct ImageDeleteItem {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub untagged: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub deleted: Option<String>,
}

/// The object an event is about, as `/events` reports it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "PascalCase")]
pub struct EventActor {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// One line of `GET /events`, in Docker's shape plus Berth's `actor` (who did it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EventMessage {
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(rename = "Action")]
    pub action: String,
    #[serde(rename = "Actor")]
    pub object: EventActor,
    pub scope: String,
    /// Unix seconds.
    pub time: i64,
    #[serde(rename = "timeNano")]
    pub time_nano: i64,
    /// Docker's legacy fields, kept for old clients.
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub id: String,
    /// Who caused the event (Berth extension): `root` on the unix socket, else the
    /// authenticated user or the peer address.
    #[serde(rename = "berthActor", default)]
    pub berth_actor: String,
}

/// A streamed progress or result line of import/load/build/pull.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct JsonMessage {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub stream: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub id: Option<String>,
    /// Bytes done and total of a download or extraction.
    #[serde(
        rename = "progressDetail",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub progress_detail: Option<ProgressDetail>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
    #[serde(
        rename = "errorDetail",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub error_detail: Option<ErrorDetail>,
    /// A result beside the text, as `{"ID": "sha256:…"}` at the end of a build.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub aux: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ProgressDetail {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub current: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub total: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ErrorDetail {
    pub message: String,
}

impl JsonMessage {
    pub fn status(s: impl Into<String>) -> Self {
        Self {
            status: Some(s.into()),
            ..Self::default()
        }
    }
    /// A status about one layer, as pull prints them (`id` is the short digest).
    pub fn layer(
        id: &str,
        status: impl Into<String>,
        current: Option<u64>,
        total: Option<u64>,
    ) -> Self {
        Self {
            status: Some(status.into()),
            id: Some(id.to_string()),
            progress_detail: Some(ProgressDetail { current, total }),
            ..Self::default()
        }
    }
    pub fn stream(s: impl Into<String>) -> Self {
        Self {
            stream: Some(s.into()),
            ..Self::default()
        }
    }
    pub fn error(s: impl Into<String>) -> Self {
        let message = s.into();
        Self {
            error: Some(message.clone()),
            error_detail: Some(ErrorDetail { message }),
            ..Self::default()
        }
    }
}

/// One result of `GET /images/search` (Docker Hub's format).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SearchResult {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub star_count: u64,
    #[serde(default)]
    pub is_official: bool,
    #[serde(default)]
    pub is_automated: bool,
}

/// The short form of an image id: 12 hex digits, no `sha256:`.
pub fn short_id(id: &str) -> &str {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    &hex[..hex.len().min(12)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_summary_uses_docker_field_names() {
        let s = ImageSummary {
            id: "sha256:ab".into(),
            parent_id: String::new(),
            repo_tags: vec!["busybox:latest".into()],
            repo_digests: vec![],
            created: 1,
            size: 2,
            shared_size: -1,
            labels: BTreeMap::new(),
            containers: -1,
        };
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["RepoTags"][0], "busybox:latest");
        assert_eq!(v["ParentId"], "");
    }

    #[test]
    fn short_id_strips_algorithm() {
        assert_eq!(short_id("sha256:0123456789abcdef"), "0123456789ab");
        assert_eq!(short_id("abc"), "abc");
    }
}
