-- The `tidings serve` processes sharing this database: registered at start, seen at each
-- heartbeat, removed at a clean stop; maintenance prunes the ones that died without saying so.

CREATE TABLE instances (
    id           TEXT   PRIMARY KEY,
    host         TEXT   NOT NULL,
    pid          INTEGER NOT NULL,
    version      TEXT   NOT NULL,
    started_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
