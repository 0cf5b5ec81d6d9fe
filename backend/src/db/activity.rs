//! The activity history (`activity` table): one row per state-changing
//! request — who, from where, which action on which object, when, and the
//! answer's status — queried with filters for the API, the CSV export and
//! the dashboard, and pruned after the retention period.

use super::{Db, DbError};
use serde::Serialize;
use sqlx::Row;

/// One recorded action.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Activity {
    pub id: i64,
    /// Unix nanoseconds.
    pub time_nano: i64,
    pub actor: String,
    pub address: String,
    pub action: String,
    pub object: String,
    pub method: String,
    pub path: String,
    pub status: i64,
    /// The team the action was made for ("" for root and admins without one).
    pub team: String,
    /// The id of the terminal recording (asciicast v2), if one was made.
    pub recording: String,
}

/// What to look for; empty fields match everything.
#[derive(Debug, Clone, Default)]
pub struct ActivityFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub object: Option<String>,
    pub team: Option<String>,
    /// Only these teams' rows (what a non-admin may see); `None`: all.
    pub within_teams: Option<Vec<String>>,
    /// Unix nanoseconds, inclusive.
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub limit: Option<i64>,
}

impl Db {
    /// Records one action now.
    pub async fn record_activity(&self, a: &Activity) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO activity (time_nano, actor, address, action, object, method, path, status, team, recording) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(a.time_nano)
        .bind(&a.actor)
        .bind(&a.address)
        .bind(&a.action)
        .bind(&a.object)
        .bind(&a.method)
        .bind(&a.path)
        .bind(a.status)
        .bind(&a.team)
        .bind(&a.recording)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Matching actions, newest first. `action` matches a prefix
    /// (`container` finds `container.start`); `object` a prefix of the id or
    /// the whole name.
    pub async fn activity(&self, f: &ActivityFilter) -> Result<Vec<Activity>, DbError> {
        let rows = sqlx::query(
            "SELECT id, time_nano, actor, address, action, object, method, path, status, team, recording \
             FROM activity \
             WHERE time_nano >= ? AND time_nano <= ? \
               AND (? = '' OR actor = ?) \
               AND (? = '' OR team = ?) \
               AND (? = 0 OR team IN (SELECT value FROM json_each(?))) \
               AND (? = '' OR action = ? OR action LIKE ? || '.%') \
               AND (? = '' OR object = ? OR object LIKE ? || '%') \
             ORDER BY id DESC LIMIT ?",
        )
        .bind(f.since.unwrap_or(i64::MIN))
        .bind(f.until.unwrap_or(i64::MAX))
        .bind(f.actor.clone().unwrap_or_default())
        .bind(f.actor.clone().unwrap_or_default())
        .bind(f.team.clone().unwrap_or_default())
        .bind(f.team.clone().unwrap_or_default())
        .bind(i64::from(f.within_teams.is_some()))
        .bind(serde_json::to_string(&f.within_teams).unwrap_or_default())
        .bind(f.action.clone().unwrap_or_default())
        .bind(f.action.clone().unwrap_or_default())
        .bind(f.action.clone().unwrap_or_default())
        .bind(f.object.clone().unwrap_or_default())
        .bind(f.object.clone().unwrap_or_default())
        .bind(f.object.clone().unwrap_or_default())
        .bind(f.limit.unwrap_or(1000))
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| Activity {
                id: r.get(0),
                time_nano: r.get(1),
                actor: r.get(2),
                address: r.get(3),
                action: r.get(4),
                object: r.get(5),
                method: r.get(6),
                path: r.get(7),
                status: r.get(8),
                team: r.get(9),
                recording: r.get(10),
            })
            .collect())
    }

    /// Drops the actions older than `before` (unix nanoseconds); how many.
    pub async fn prune_activity(&self, before: i64) -> Result<u64, DbError> {
        let r = sqlx::query("DELETE FROM activity WHERE time_nano < ?")
            .bind(before)
            .execute(self.pool())
            .await?;
        Ok(r.rows_affected())
    }
}

/// The activity as CSV (RFC 4180 quoting), with a header line.
pub fn to_csv(rows: &[Activity]) -> String {
    let q = |s: &str| {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let mut out = String::from("time,actor,team,address,action,object,method,path,status\n");
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{}\n",
            crate::timefmt::rfc3339_of_nanos(r.time_nano),
            q(&r.actor),
            q(&r.team),
            q(&r.address),
            q(&r.action),
            q(&r.object),
            q(&r.method),
            q(&r.path),
            r.status
        ));
    }
    out
}

/// `POST /containers/abc/start` → (`container.start`, `abc`): the kind of
/// object, what was done, and to which object.
pub fn describe(method: &str, path: &str) -> (String, String) {
    let segs: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let kind = |s: &str| -> String {
        match s {
            "containers" => "container",
            "images" => "image",
            "volumes" => "volume",
            "exec" => "exec",
            other => other,
        }
        .to_string()
    };
    let (root, segs) = match segs.split_first() {
        Some((&"berth", rest)) => rest
            .split_first()
            .map_or(("berth", &[][..]), |(r, s)| (*r, s)),
        Some((r, rest)) => (*r, rest),
        None => return (method.to_lowercase(), String::new()),
    };
    if root == "v2" {
        // Berth's own registry: `/v2/NAME/blobs/…`, `/v2/NAME/manifests/REF`.
        let at = segs
            .iter()
            .position(|s| *s == "blobs" || *s == "manifests")
            .unwrap_or(segs.len());
        let what = if segs.get(at) == Some(&"manifests") {
            "manifest"
        } else {
            "blob"
        };
        return (
            format!("registry.{what}.{}", method.to_lowercase()),
            segs[..at].join("/"),
        );
    }
    let k = kind(root);
    let mut segs: Vec<&str> = segs.to_vec();
    if segs.last() == Some(&"ws") {
        segs.pop(); // `…/attach/ws` is an attach
    }
    match (method, segs.as_slice()) {
        ("DELETE", [_, ..]) => (format!("{k}.delete"), segs.join("/")),
        (_, []) => (k, String::new()),
        (_, [verb]) => (format!("{k}.{verb}"), String::new()),
        // Image names may hold slashes: the verb is the last part.
        (_, [obj @ .., verb]) => (format!("{k}.{verb}"), obj.join("/")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_and_objects() {
        assert_eq!(
            describe("POST", "/containers/abc/start"),
            ("container.start".into(), "abc".into())
        );
        assert_eq!(
            describe("POST", "/containers/create"),
            ("container.create".into(), String::new())
        );
        assert_eq!(
            describe("DELETE", "/images/busybox"),
            ("image.delete".into(), "busybox".into())
        );
        assert_eq!(describe("POST", "/build"), ("build".into(), String::new()));
        assert_eq!(
            describe("GET", "/berth/containers/abc/shell/ws"),
            ("container.shell".into(), "abc".into())
        );
        assert_eq!(describe("POST", "/auth"), ("auth".into(), String::new()));
        assert_eq!(
            describe("POST", "/images/127.0.0.1:5000/team/app/push"),
            ("image.push".into(), "127.0.0.1:5000/team/app".into())
        );
        assert_eq!(
            describe("GET", "/containers/abc/attach/ws"),
            ("container.attach".into(), "abc".into())
        );
    }

    #[tokio::test]
    async fn filters_and_retention() {
        let d = tempfile::tempdir().unwrap();
        let db = Db::open(&d.path().join("t.db")).await.unwrap();
        let row = |t: i64, action: &str, object: &str| Activity {
            id: 0,
            time_nano: t,
            actor: "root".into(),
            address: "unix".into(),
            action: action.into(),
            object: object.into(),
            method: "POST".into(),
            path: "/x".into(),
            status: 204,
            team: if action.starts_with("image") {
                "blue".into()
            } else {
                String::new()
            },
            recording: String::new(),
        };
        db.record_activity(&row(10, "container.start", "abc123"))
            .await
            .unwrap();
        db.record_activity(&row(20, "container.stop", "abc123"))
            .await
            .unwrap();
        db.record_activity(&row(30, "image.push", "team/app"))
            .await
            .unwrap();
        let get = |f: ActivityFilter| {
            let db = db.clone();
            async move {
                db.activity(&f)
                    .await
                    .unwrap()
                    .iter()
                    .map(|a| a.action.clone())
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            get(ActivityFilter::default()).await,
            ["image.push", "container.stop", "container.start"]
        );
        let f = ActivityFilter {
            action: Some("container".into()),
            ..Default::default()
        };
        assert_eq!(get(f).await, ["container.stop", "container.start"]);
        let f = ActivityFilter {
            object: Some("abc".into()),
            since: Some(15),
            ..Default::default()
        };
        assert_eq!(get(f).await, ["container.stop"]);
        let f = ActivityFilter {
            within_teams: Some(vec!["blue".into()]),
            ..Default::default()
        };
        assert_eq!(get(f).await, ["image.push"]);
        let f = ActivityFilter {
            within_teams: Some(vec![]),
            ..Default::default()
        };
        assert!(get(f).await.is_empty());
        assert_eq!(db.prune_activity(25).await.unwrap(), 2);
        assert_eq!(get(ActivityFilter::default()).await, ["image.push"]);
    }

    #[test]
    fn csv_quotes_what_needs_it() {
        let a = Activity {
            id: 1,
            time_nano: 0,
            actor: "root".into(),
            address: "unix".into(),
            action: "container.create".into(),
            object: "a,b \"c\"".into(),
            method: "POST".into(),
            path: "/containers/create".into(),
            status: 201,
            team: String::new(),
            recording: String::new(),
        };
        let csv = to_csv(&[a]);
        assert!(csv.starts_with("time,actor,team,address,action,object,method,path,status\n"));
        assert!(
            csv.contains(",\"a,b \"\"c\"\"\",POST,/containers/create,201\n"),
            "{csv}"
        );
    }
}
