-- The activity history: every state-changing request (and every terminal
-- opened), who made it, from where, and how it ended.
CREATE TABLE activity (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    time_nano   INTEGER NOT NULL,
    actor       TEXT    NOT NULL,  -- "root" (unix socket) or the account, later
    address     TEXT    NOT NULL,  -- the peer's address, or "unix"
    action      TEXT    NOT NULL,  -- "container.start", "image.push", "build", …
    object      TEXT    NOT NULL DEFAULT '',  -- the id or name acted on
    method      TEXT    NOT NULL,
    path        TEXT    NOT NULL,  -- without the /vX.Y prefix, without the query
    status      INTEGER NOT NULL   -- the HTTP status of the answer
);
CREATE INDEX activity_time ON activity (time_nano);
