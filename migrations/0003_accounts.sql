-- Accounts, teams and what each team owns. Sessions and API tokens are kept
-- as SHA-256 hashes of the secret: the database never holds one that works.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,           -- argon2id PHC string
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
    created_nano  INTEGER NOT NULL
);
CREATE TABLE teams (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT    NOT NULL UNIQUE,
    created_nano INTEGER NOT NULL
);
CREATE TABLE team_members (
    team_id INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, user_id)
);
CREATE TABLE sessions (
    hash         TEXT    PRIMARY KEY,         -- sha256 of the cookie's value
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf         TEXT    NOT NULL,
    address      TEXT    NOT NULL,
    created_nano INTEGER NOT NULL,
    expires_nano INTEGER NOT NULL
);
CREATE TABLE tokens (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name           TEXT    NOT NULL,
    hash           TEXT    NOT NULL UNIQUE,   -- sha256 of the token
    created_nano   INTEGER NOT NULL,
    expires_nano   INTEGER,                   -- NULL: never
    last_used_nano INTEGER,
    UNIQUE (user_id, name)
);
-- Containers, images (by id), volumes: the teams they belong to. An object
-- no team owns was made on the unix socket (root) and only admins act on it;
-- such images can still be read and run by everyone.
CREATE TABLE ownership (
    kind    TEXT    NOT NULL CHECK (kind IN ('container', 'image', 'volume')),
    object  TEXT    NOT NULL,
    team_id INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    PRIMARY KEY (kind, object, team_id)
);
-- Which team a recorded action was made for, and its terminal recording.
ALTER TABLE activity ADD COLUMN team TEXT NOT NULL DEFAULT '';
ALTER TABLE activity ADD COLUMN recording TEXT NOT NULL DEFAULT '';
