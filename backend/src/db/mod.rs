//! The daemon's SQLite state (sqlx): the pool, the embedded migrations from the
//! top-level `migrations/` folder, and one module per table group.
//!
//! Owns: `<data-root>/berth.db`. Blobs and layers never go in here.

pub mod accounts;
pub mod activity;
pub mod events;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::borrow::Cow;
use std::path::Path;
use std::time::Duration;

/// The migrations, in order. A test checks that every file in `migrations/` is listed.
pub const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "events",
        include_str!("../../../migrations/0001_events.sql"),
    ),
    (
        2,
        "activity",
        include_str!("../../../migrations/0002_activity.sql"),
    ),
    (
        3,
        "accounts",
        include_str!("../../../migrations/0003_accounts.sql"),
    ),
    (
        4,
        "network_ownership",
        include_str!("../../../migrations/0004_network_ownership.sql"),
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database {path}: {source}")]
    Open { path: String, source: sqlx::Error },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database query failed: {0}")]
    Query(#[from] sqlx::Error),
}

#[derive(Debug, Clone)]
pub struct Db {
    pool: SqlitePool,
    events: events::EventBus,
}

impl Db {
    /// Opens (creating) the database at `path` and applies pending migrations.
    pub async fn open(path: &Path) -> Result<Self, DbError> {
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await
            .map_err(|source| DbError::Open {
                path: path.display().to_string(),
                source,
            })?;
        migrator().run(&pool).await?;
        Ok(Self {
            pool,
            events: events::EventBus::new(),
        })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

fn migrator() -> Migrator {
    let migrations = MIGRATIONS
        .iter()
        .map(|(v, name, sql)| {
            Migration::new(
                *v,
                Cow::Borrowed(*name),
                MigrationType::Simple,
                Cow::Borrowed(*sql),
                false,
            )
        })
        .collect::<Vec<_>>();
    Migrator {
        migrations: Cow::Owned(migrations),
        ..Migrator::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_file_is_embedded() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        files.sort();
        let listed: Vec<String> = MIGRATIONS
            .iter()
            .map(|(v, n, _)| format!("{v:04}_{n}.sql"))
            .collect();
        assert_eq!(files, listed);
    }

    #[tokio::test]
    async fn migrations_apply_twice_without_error() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("t.db");
        Db::open(&p).await.unwrap();
        Db::open(&p).await.unwrap();
    }
}
