//! Accounts in SQL: users, teams and their members, browser sessions, API
//! tokens, and which team owns which container, image or volume. Secrets
//! never reach this module: sessions and tokens arrive as SHA-256 hashes,
//! passwords as argon2 PHC strings.

use super::{Db, DbError};
use serde::Serialize;
use sqlx::Row;

/// A user as stored (the hash stays in the daemon: it is not serialised).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct User {
    pub id: i64,
    pub name: String,
    #[serde(skip)]
    pub password_hash: String,
    pub role: String,
    pub created_nano: i64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Team {
    pub id: i64,
    pub name: String,
    /// Member user names.
    pub members: Vec<String>,
}

/// A token as listed: never the secret.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    pub created_nano: i64,
    pub expires_nano: Option<i64>,
    pub last_used_nano: Option<i64>,
}

/// What a session cookie or a token leads to.
#[derive(Debug, Clone)]
pub struct Credential {
    pub user_id: i64,
    /// The session's CSRF token; `None` for API tokens.
    pub csrf: Option<String>,
    pub expires_nano: Option<i64>,
}

fn user_of(r: &sqlx::sqlite::SqliteRow) -> User {
    User {
        id: r.get(0),
        name: r.get(1),
        password_hash: r.get(2),
        role: r.get(3),
        created_nano: r.get(4),
    }
}

const USER_COLUMNS: &str = "id, name, password_hash, role, created_nano";

impl Db {
    pub async fn user_count(&self) -> Result<i64, DbError> {
        Ok(sqlx::query("SELECT COUNT(*) FROM users")
            .fetch_one(self.pool())
            .await?
            .get(0))
    }

    /// A new user's id; `None` when the name is taken.
    pub async fn create_user(
        &self,
        name: &str,
        password_hash: &str,
        role: &str,
    ) -> Result<Option<i64>, DbError> {
        let r = sqlx::query(
            "INSERT INTO users (name, password_hash, role, created_nano) VALUES (?, ?, ?, ?) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(password_hash)
        .bind(role)
        .bind(crate::timefmt::unix_nanos_now())
        .execute(self.pool())
        .await?;
        Ok((r.rows_affected() == 1).then(|| r.last_insert_rowid()))
    }

    pub async fn user_by_name(&self, name: &str) -> Result<Option<User>, DbError> {
        let q = format!("SELECT {USER_COLUMNS} FROM users WHERE name = ?");
        let r = sqlx::query(&q)
            .bind(name)
            .fetch_optional(self.pool())
            .await?;
        Ok(r.as_ref().map(user_of))
    }

    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>, DbError> {
        let q = format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?");
        let r = sqlx::query(&q).bind(id).fetch_optional(self.pool()).await?;
        Ok(r.as_ref().map(user_of))
    }

    pub async fn users(&self) -> Result<Vec<User>, DbError> {
        let q = format!("SELECT {USER_COLUMNS} FROM users ORDER BY name");
        let rows = sqlx::query(&q).fetch_all(self.pool()).await?;
        Ok(rows.iter().map(user_of).collect())
    }

    pub async fn admin_count(&self) -> Result<i64, DbError> {
        Ok(
            sqlx::query("SELECT COUNT(*) FROM users WHERE role = 'admin'")
                .fetch_one(self.pool())
                .await?
                .get(0),
        )
    }

    /// Changes a user's role and/or password hash; whether the user exists.
    pub async fn update_user(
        &self,
        id: i64,
        role: Option<&str>,
        password_hash: Option<&str>,
    ) -> Result<bool, DbError> {
        let r = sqlx::query(
            "UPDATE users SET role = COALESCE(?, role), password_hash = COALESCE(?, password_hash) \
             WHERE id = ?",
        )
        .bind(role)
        .bind(password_hash)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Removes a user with their sessions, tokens and memberships.
    pub async fn delete_user(&self, id: i64) -> Result<bool, DbError> {
        let r = sqlx::query("DELETE FROM users WHERE id = ?")
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// A new team's id; `None` when the name is taken.
    pub async fn create_team(&self, name: &str) -> Result<Option<i64>, DbError> {
        let r = sqlx::query(
            "INSERT INTO teams (name, created_nano) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(crate::timefmt::unix_nanos_now())
        .execute(self.pool())
        .await?;
        Ok((r.rows_affected() == 1).then(|| r.last_insert_rowid()))
    }

    pub async fn team_by_name(&self, name: &str) -> Result<Option<i64>, DbError> {
        Ok(sqlx::query("SELECT id FROM teams WHERE name = ?")
            .bind(name)
            .fetch_optional(self.pool())
            .await?
            .map(|r| r.get(0)))
    }

    pub async fn teams(&self) -> Result<Vec<Team>, DbError> {
        let rows = sqlx::query(
            "SELECT t.id, t.name, COALESCE(json_group_array(u.name) FILTER (WHERE u.name IS NOT NULL), '[]') \
             FROM teams t LEFT JOIN team_members m ON m.team_id = t.id \
             LEFT JOIN users u ON u.id = m.user_id GROUP BY t.id ORDER BY t.name",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| {
                let members: String = r.get(2);
                let mut members: Vec<String> = serde_json::from_str(&members).unwrap_or_default();
                members.sort();
                Team {
                    id: r.get(0),
                    name: r.get(1),
                    members,
                }
            })
            .collect())
    }

    pub async fn delete_team(&self, id: i64) -> Result<bool, DbError> {
        let r = sqlx::query("DELETE FROM teams WHERE id = ?")
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(r.rows_affected() == 1)
    }

    pub async fn add_member(&self, team: i64, user: i64) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO team_members (team_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(team)
        .bind(user)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn remove_member(&self, team: i64, user: i64) -> Result<bool, DbError> {
        let r = sqlx::query("DELETE FROM team_members WHERE team_id = ? AND user_id = ?")
            .bind(team)
            .bind(user)
            .execute(self.pool())
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// The teams a user belongs to, `(id, name)` in the order they joined.
    pub async fn teams_of(&self, user: i64) -> Result<Vec<(i64, String)>, DbError> {
        let rows = sqlx::query(
            "SELECT t.id, t.name FROM team_members m JOIN teams t ON t.id = m.team_id \
             WHERE m.user_id = ? ORDER BY m.rowid",
        )
        .bind(user)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    pub async fn create_session(
        &self,
        hash: &str,
        user: i64,
        csrf: &str,
        address: &str,
        expires_nano: i64,
    ) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO sessions (hash, user_id, csrf, address, created_nano, expires_nano) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(hash)
        .bind(user)
        .bind(csrf)
        .bind(address)
        .bind(crate::timefmt::unix_nanos_now())
        .bind(expires_nano)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// A live session by its hash (expired ones are not found).
    pub async fn session(&self, hash: &str) -> Result<Option<Credential>, DbError> {
        let r = sqlx::query(
            "SELECT user_id, csrf, expires_nano FROM sessions WHERE hash = ? AND expires_nano > ?",
        )
        .bind(hash)
        .bind(crate::timefmt::unix_nanos_now())
        .fetch_optional(self.pool())
        .await?;
        Ok(r.map(|r| Credential {
            user_id: r.get(0),
            csrf: Some(r.get(1)),
            expires_nano: Some(r.get(2)),
        }))
    }

    pub async fn delete_session(&self, hash: &str) -> Result<(), DbError> {
        sqlx::query("DELETE FROM sessions WHERE hash = ?")
            .bind(hash)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Ends every session of a user; the hashes ended.
    pub async fn delete_sessions_of(&self, user: i64) -> Result<Vec<String>, DbError> {
        self.delete_other_sessions(user, "").await
    }

    /// Ends every session of a user but `keep` (a hash); the hashes ended.
    pub async fn delete_other_sessions(
        &self,
        user: i64,
        keep: &str,
    ) -> Result<Vec<String>, DbError> {
        let rows =
            sqlx::query("DELETE FROM sessions WHERE user_id = ? AND hash != ? RETURNING hash")
                .bind(user)
                .bind(keep)
                .fetch_all(self.pool())
                .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// Drops expired sessions and tokens.
    pub async fn prune_credentials(&self) -> Result<(), DbError> {
        let now = crate::timefmt::unix_nanos_now();
        sqlx::query("DELETE FROM sessions WHERE expires_nano <= ?")
            .bind(now)
            .execute(self.pool())
            .await?;
        sqlx::query("DELETE FROM tokens WHERE expires_nano IS NOT NULL AND expires_nano <= ?")
            .bind(now)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// A new token's id; `None` when the user already has one by that name.
    pub async fn create_token(
        &self,
        user: i64,
        name: &str,
        hash: &str,
        expires_nano: Option<i64>,
    ) -> Result<Option<i64>, DbError> {
        let r = sqlx::query(
            "INSERT INTO tokens (user_id, name, hash, created_nano, expires_nano) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (user_id, name) DO NOTHING",
        )
        .bind(user)
        .bind(name)
        .bind(hash)
        .bind(crate::timefmt::unix_nanos_now())
        .bind(expires_nano)
        .execute(self.pool())
        .await?;
        Ok((r.rows_affected() == 1).then(|| r.last_insert_rowid()))
    }

    /// A live token by its hash, marked as used now: `(token id, credential)`.
    pub async fn use_token(&self, hash: &str) -> Result<Option<(i64, Credential)>, DbError> {
        let now = crate::timefmt::unix_nanos_now();
        let r = sqlx::query(
            "UPDATE tokens SET last_used_nano = ? \
             WHERE hash = ? AND (expires_nano IS NULL OR expires_nano > ?) \
             RETURNING id, user_id, expires_nano",
        )
        .bind(now)
        .bind(hash)
        .bind(now)
        .fetch_optional(self.pool())
        .await?;
        Ok(r.map(|r| {
            (
                r.get(0),
                Credential {
                    user_id: r.get(1),
                    csrf: None,
                    expires_nano: r.get(2),
                },
            )
        }))
    }

    pub async fn tokens_of(&self, user: i64) -> Result<Vec<TokenInfo>, DbError> {
        let rows = sqlx::query(
            "SELECT id, name, created_nano, expires_nano, last_used_nano FROM tokens \
             WHERE user_id = ? ORDER BY id",
        )
        .bind(user)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| TokenInfo {
                id: r.get(0),
                name: r.get(1),
                created_nano: r.get(2),
                expires_nano: r.get(3),
                last_used_nano: r.get(4),
            })
            .collect())
    }

    /// Revokes one of a user's tokens; whether it existed.
    pub async fn delete_token(&self, user: i64, id: i64) -> Result<bool, DbError> {
        let r = sqlx::query("DELETE FROM tokens WHERE user_id = ? AND id = ?")
            .bind(user)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Records that `team` owns an object (idempotent).
    pub async fn claim(&self, kind: &str, object: &str, team: i64) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO ownership (kind, object, team_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(kind)
        .bind(object)
        .bind(team)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The teams owning an object (empty: the host's, made by root).
    pub async fn owners(&self, kind: &str, object: &str) -> Result<Vec<i64>, DbError> {
        let rows = sqlx::query("SELECT team_id FROM ownership WHERE kind = ? AND object = ?")
            .bind(kind)
            .bind(object)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// Every owned object of a kind, with its teams.
    pub async fn ownership(
        &self,
        kind: &str,
    ) -> Result<std::collections::HashMap<String, Vec<i64>>, DbError> {
        let rows = sqlx::query("SELECT object, team_id FROM ownership WHERE kind = ?")
            .bind(kind)
            .fetch_all(self.pool())
            .await?;
        let mut m = std::collections::HashMap::<String, Vec<i64>>::new();
        for r in rows {
            m.entry(r.get(0)).or_default().push(r.get(1));
        }
        Ok(m)
    }

    /// Forgets an object's owners (it was removed), or one team's claim.
    pub async fn release(
        &self,
        kind: &str,
        object: &str,
        team: Option<i64>,
    ) -> Result<(), DbError> {
        sqlx::query(
            "DELETE FROM ownership WHERE kind = ? AND object = ? AND (? IS NULL OR team_id = ?)",
        )
        .bind(kind)
        .bind(object)
        .bind(team)
        .bind(team)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn users_teams_tokens_and_ownership() {
        let d = tempfile::tempdir().unwrap();
        let db = Db::open(&d.path().join("t.db")).await.unwrap();
        let ann = db
            .create_user("ann", "h", "operator")
            .await
            .unwrap()
            .unwrap();
        assert!(db
            .create_user("ann", "h", "viewer")
            .await
            .unwrap()
            .is_none());
        let blue = db.create_team("blue").await.unwrap().unwrap();
        db.add_member(blue, ann).await.unwrap();
        assert_eq!(
            db.teams_of(ann).await.unwrap(),
            [(blue, "blue".to_string())]
        );
        assert_eq!(db.teams().await.unwrap()[0].members, ["ann"]);

        let t = db
            .create_token(ann, "ci", "hash1", None)
            .await
            .unwrap()
            .unwrap();
        assert!(db
            .create_token(ann, "ci", "hash2", None)
            .await
            .unwrap()
            .is_none());
        let (id, c) = db.use_token("hash1").await.unwrap().unwrap();
        assert_eq!((id, c.user_id), (t, ann));
        assert!(db.tokens_of(ann).await.unwrap()[0].last_used_nano.is_some());
        db.create_token(ann, "old", "hash3", Some(1)).await.unwrap();
        assert!(db.use_token("hash3").await.unwrap().is_none(), "expired");
        assert!(db.delete_token(ann, t).await.unwrap());
        assert!(db.use_token("hash1").await.unwrap().is_none(), "revoked");

        db.create_session("s1", ann, "c", "127.0.0.1", i64::MAX)
            .await
            .unwrap();
        assert_eq!(db.session("s1").await.unwrap().unwrap().user_id, ann);
        db.create_session("s2", ann, "c", "127.0.0.1", i64::MAX)
            .await
            .unwrap();
        assert_eq!(db.delete_other_sessions(ann, "s1").await.unwrap(), ["s2"]);
        assert_eq!(db.delete_sessions_of(ann).await.unwrap(), ["s1"]);
        assert!(db.session("s1").await.unwrap().is_none());

        db.claim("container", "abc", blue).await.unwrap();
        db.claim("container", "abc", blue).await.unwrap();
        assert_eq!(db.owners("container", "abc").await.unwrap(), [blue]);
        assert_eq!(db.ownership("container").await.unwrap()["abc"], [blue]);
        db.release("container", "abc", None).await.unwrap();
        assert!(db.owners("container", "abc").await.unwrap().is_empty());

        assert!(db.delete_user(ann).await.unwrap());
        assert!(db.teams().await.unwrap()[0].members.is_empty());
    }
}
