//! The `events` table: every state change, recorded once and fanned out live to
//! `/events` subscribers.

use super::{Db, DbError};
use berth_types::{EventActor, EventMessage};
use sqlx::Row;
use std::collections::BTreeMap;
use tokio::sync::broadcast;

/// A state change to record.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// `image`, `container`, …
    pub kind: &'static str,
    pub action: String,
    pub object_id: String,
    pub attributes: BTreeMap<String, String>,
    /// Who did it.
    pub actor: String,
}

impl NewEvent {
    pub fn image(
        action: &'static str,
        id: impl Into<String>,
        name: Option<String>,
        actor: &str,
    ) -> Self {
        let mut attributes = BTreeMap::new();
        if let Some(n) = name {
            attributes.insert("name".to_string(), n);
        }
        Self {
            kind: "image",
            action: action.to_string(),
            object_id: id.into(),
            attributes,
            actor: actor.to_string(),
        }
    }
}

/// Live fan-out of recorded events: (row id, event).
#[derive(Debug, Clone)]
pub struct EventBus(broadcast::Sender<(i64, EventMessage)>);

impl EventBus {
    pub fn new() -> Self {
        Self(broadcast::channel(1024).0)
    }
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

fn message(
    kind: String,
    action: String,
    object_id: String,
    attributes: BTreeMap<String, String>,
    time_nano: i64,
    actor: String,
) -> EventMessage {
    EventMessage {
        status: action.clone(),
        id: object_id.clone(),
        kind,
        action,
        object: EventActor {
            id: object_id,
            attributes,
        },
        scope: "local".into(),
        time: time_nano.div_euclid(1_000_000_000),
        time_nano,
        berth_actor: actor,
    }
}

impl Db {
    /// Records an event and sends it to live subscribers.
    pub async fn record_event(&self, e: NewEvent) -> Result<EventMessage, DbError> {
        let now = crate::timefmt::unix_nanos_now();
        let attrs = serde_json::to_string(&e.attributes).unwrap_or_else(|_| "{}".into());
        let id: i64 = sqlx::query(
            "INSERT INTO events (time_nano, type, action, object_id, attributes, actor) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(now)
        .bind(e.kind)
        .bind(&e.action)
        .bind(&e.object_id)
        .bind(&attrs)
        .bind(&e.actor)
        .fetch_one(self.pool())
        .await?
        .get(0);
        let msg = message(
            e.kind.into(),
            e.action,
            e.object_id,
            e.attributes,
            now,
            e.actor,
        );
        let _ = self.events.0.send((id, msg.clone())); // no subscribers is fine
        Ok(msg)
    }

    /// Recorded events with `since <= time <= until` (unix nanoseconds), oldest first.
    pub async fn events_between(
        &self,
        since: Option<i64>,
        until: Option<i64>,
    ) -> Result<Vec<(i64, EventMessage)>, DbError> {
        let rows = sqlx::query(
            "SELECT id, time_nano, type, action, object_id, attributes, actor FROM events \
             WHERE time_nano >= ? AND time_nano <= ? ORDER BY id",
        )
        .bind(since.unwrap_or(i64::MIN))
        .bind(until.unwrap_or(i64::MAX))
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let attrs: String = r.get(5);
                let attributes = serde_json::from_str(&attrs).unwrap_or_default();
                (
                    r.get(0),
                    message(r.get(2), r.get(3), r.get(4), attributes, r.get(1), r.get(6)),
                )
            })
            .collect())
    }

    /// Events recorded from now on.
    pub fn subscribe_events(&self) -> broadcast::Receiver<(i64, EventMessage)> {
        self.events.0.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn records_and_queries_by_time() {
        let d = tempfile::tempdir().unwrap();
        let db = Db::open(&d.path().join("t.db")).await.unwrap();
        let mut live = db.subscribe_events();
        let e = db
            .record_event(NewEvent::image(
                "tag",
                "sha256:x",
                Some("a:b".into()),
                "root",
            ))
            .await
            .unwrap();
        assert_eq!(live.recv().await.unwrap().1, e);
        assert_eq!(
            db.events_between(Some(e.time_nano), None)
                .await
                .unwrap()
                .len(),
            1
        );
        assert!(db
            .events_between(Some(e.time_nano + 1), None)
            .await
            .unwrap()
            .is_empty());
        assert!(db
            .events_between(None, Some(e.time_nano - 1))
            .await
            .unwrap()
            .is_empty());
    }
}
