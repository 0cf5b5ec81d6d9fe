-- Networks belong to teams as containers, images and volumes do. SQLite
-- cannot change a CHECK constraint: the table is made again.
CREATE TABLE ownership_new (
    kind    TEXT    NOT NULL CHECK (kind IN ('container', 'image', 'volume', 'network')),
    object  TEXT    NOT NULL,
    team_id INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    PRIMARY KEY (kind, object, team_id)
);
INSERT INTO ownership_new (kind, object, team_id) SELECT kind, object, team_id FROM ownership;
DROP TABLE ownership;
ALTER TABLE ownership_new RENAME TO ownership;
