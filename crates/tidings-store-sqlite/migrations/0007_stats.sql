-- Dashboard statistics, pre-computed by the `aggregate` job and served by GET /api/stats.
-- A snapshot is its metadata row plus one row per grouping × group × period; stats_current
-- points at the snapshot readers see. A new snapshot is inserted, pointed at and the previous
-- one deleted in one transaction (tidings_store::Store::stats_snapshot_write).

CREATE TABLE stats_snapshots (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    as_of              INTEGER NOT NULL,     -- epoch ms the periods end at
    computed_at        INTEGER NOT NULL,
    duration_ms        INTEGER NOT NULL,
    rows_scanned       INTEGER NOT NULL,
    without_created_at INTEGER NOT NULL,
    group_count        INTEGER NOT NULL,
    errors             TEXT    NOT NULL DEFAULT '[]',  -- JSON array of {grouping, group, error}
    zone               TEXT    NOT NULL,
    run_id             INTEGER
);

CREATE TABLE stats_rows (
    snapshot_id INTEGER NOT NULL REFERENCES stats_snapshots (id) ON DELETE CASCADE,
    grouped_by  TEXT    NOT NULL,    -- group | source | channel
    group_key   TEXT,                -- NULL for the `all` row
    period      TEXT    NOT NULL,
    payload     TEXT    NOT NULL     -- JSON: tidings_store::GroupStats
);
CREATE INDEX stats_rows_by_snapshot ON stats_rows (snapshot_id);

CREATE TABLE stats_current (
    singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
    snapshot_id INTEGER NOT NULL REFERENCES stats_snapshots (id)
);
