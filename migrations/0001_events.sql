-- Every state change Berth makes: the basis of /events and the history views.
CREATE TABLE events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    time_nano   INTEGER NOT NULL,
    type        TEXT    NOT NULL,  -- image, container, volume, network, daemon
    action      TEXT    NOT NULL,  -- import, load, tag, untag, delete, save, ...
    object_id   TEXT    NOT NULL,
    attributes  TEXT    NOT NULL DEFAULT '{}',  -- JSON object, e.g. {"name": "busybox:latest"}
    actor       TEXT    NOT NULL DEFAULT ''     -- who: "root" (unix socket) or a peer/user
);
CREATE INDEX events_time ON events (time_nano);
