-- The feedback cache: records of every source in one table, keyed by (source, external_id), with
-- the columns the API filters and sorts on, and the original's fields as JSON in raw. Full syncs
-- replace a source's rows in one transaction (tidings_store::Store::feedback_replace_source).

CREATE TABLE feedback (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: ids appear in the API
    source          TEXT    NOT NULL,
    external_id     TEXT    NOT NULL CHECK (external_id <> ''),
    created_at      INTEGER,
    updated_at      INTEGER,
    customer_name   TEXT,
    customer_email  TEXT,
    channel         TEXT,
    group_name      TEXT,
    rating          REAL,
    sentiment_label TEXT,
    sentiment_score REAL,
    title           TEXT,
    body            TEXT,
    tags            TEXT    NOT NULL DEFAULT '[]',      -- JSON array of strings
    status          TEXT,
    value           REAL,
    raw             TEXT    NOT NULL,                   -- JSON object
    -- SHA-256 of the mapped record: a sync leaves rows whose hash is unchanged alone.
    content_hash    TEXT    NOT NULL,
    first_seen_at   INTEGER NOT NULL,
    synced_at       INTEGER NOT NULL,
    UNIQUE (source, external_id)
);

-- The sorts (with id, the tie-breaker of keyset pages) and the filters of feedback_list.
CREATE INDEX feedback_by_source_created ON feedback (source, created_at, id);
CREATE INDEX feedback_by_created ON feedback (created_at, id);
CREATE INDEX feedback_by_updated ON feedback (updated_at, id);
CREATE INDEX feedback_by_rating ON feedback (rating, id);
CREATE INDEX feedback_by_group ON feedback (group_name);
CREATE INDEX feedback_by_channel ON feedback (channel);
CREATE INDEX feedback_by_sentiment ON feedback (sentiment_label);
CREATE INDEX feedback_by_status ON feedback (status);

-- Each source's sync bookkeeping.
CREATE TABLE source_state (
    source                  TEXT    PRIMARY KEY,
    -- The latest modification time seen, epoch ms: incremental syncs ask for what changed
    -- after it. Only moves forward.
    watermark               INTEGER,
    last_full_run_id        INTEGER,
    last_incremental_run_id INTEGER,
    last_full_at            INTEGER,
    last_incremental_at     INTEGER
);

-- CSV files already imported: a file is imported again only when its size, mtime or checksum
-- changes.
CREATE TABLE source_files (
    source      TEXT    NOT NULL,
    path        TEXT    NOT NULL,
    size        INTEGER NOT NULL,
    mtime       INTEGER NOT NULL,
    sha256      TEXT    NOT NULL,
    imported_at INTEGER NOT NULL,
    rows        INTEGER NOT NULL,
    PRIMARY KEY (source, path)
);
