-- Completion webhooks: a delivery is a run of trigger and kind `webhook` whose parent_run_id is
-- the finished run it reports (tidings_store::WebhookDelivery).
--
-- SQLite cannot change a CHECK constraint in place, and the trigger column must now accept
-- `webhook`, so runs is rebuilt: a new table, the rows copied, the old one dropped, the new one
-- renamed, its indexes made again (SQLite's procedure for "other kinds of table schema changes").
-- It all happens in this migration's transaction, where foreign keys cannot be switched off:
-- dropping the old table deletes every attempt through run_attempts' ON DELETE CASCADE, so the
-- attempts are kept aside in a temporary table and put back once the new runs is in place.

CREATE TEMP TABLE run_attempts_kept AS SELECT * FROM run_attempts;
-- AUTOINCREMENT's high-water mark, which dropping the table forgets: ids of deleted runs are
-- never given again.
CREATE TEMP TABLE runs_sequence_kept AS SELECT seq FROM sqlite_sequence WHERE name = 'runs';

CREATE TABLE runs_new (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    schedule_id       INTEGER REFERENCES schedules (id) ON DELETE SET NULL,
    kind              TEXT    NOT NULL,
    params            TEXT    NOT NULL,           -- JSON
    "trigger"         TEXT    NOT NULL CHECK ("trigger" IN ('schedule', 'manual', 'api', 'startup',
                                                            'webhook')),
    scheduled_for     INTEGER,
    state             TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed',
                                                        'timed_out', 'cancelled', 'skipped', 'missed')),
    attempt           INTEGER NOT NULL DEFAULT 0,
    retry             TEXT    NOT NULL,           -- JSON of RetryPolicy
    timeout_ms        INTEGER NOT NULL,
    run_after         INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    started_at        INTEGER,
    finished_at       INTEGER,
    lease_owner       TEXT,
    lease_expires_at  INTEGER,
    cancel_requested  INTEGER NOT NULL DEFAULT 0,
    error             TEXT,
    summary           TEXT,                       -- JSON
    progress          TEXT,                       -- JSON
    occurrences_count INTEGER,                    -- missed/skipped records: how many occurrences,
    occurrences_last  INTEGER,                    -- from scheduled_for to this one
    -- A webhook delivery's finished run. Named `runs`: once renamed, the table refers to itself.
    parent_run_id     INTEGER REFERENCES runs (id) ON DELETE SET NULL,
    -- The fire key: one row per occurrence of a schedule, whoever fires it.
    UNIQUE (schedule_id, scheduled_for)
);

-- A run's deliveries (`run_list` with `parent`), and the foreign key's lookups. Partial: the
-- many runs without a parent cost nothing. Made before the old table is dropped, whose implicit
-- DELETE looks up each of its rows here.
CREATE INDEX runs_by_parent ON runs_new (parent_run_id, id) WHERE parent_run_id IS NOT NULL;

INSERT INTO runs_new (id, schedule_id, kind, params, "trigger", scheduled_for, state, attempt,
                      retry, timeout_ms, run_after, created_at, started_at, finished_at,
                      lease_owner, lease_expires_at, cancel_requested, error, summary, progress,
                      occurrences_count, occurrences_last)
SELECT id, schedule_id, kind, params, "trigger", scheduled_for, state, attempt,
       retry, timeout_ms, run_after, created_at, started_at, finished_at,
       lease_owner, lease_expires_at, cancel_requested, error, summary, progress,
       occurrences_count, occurrences_last
FROM runs;

DROP TABLE runs;
ALTER TABLE runs_new RENAME TO runs;

UPDATE sqlite_sequence
SET seq = MAX(seq, COALESCE((SELECT seq FROM temp.runs_sequence_kept), 0))
WHERE name = 'runs';
INSERT INTO sqlite_sequence (name, seq)
SELECT 'runs', seq FROM temp.runs_sequence_kept
WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'runs');

-- The indexes of 0001, as they were.
CREATE INDEX runs_claim ON runs (run_after) WHERE state = 'queued';
CREATE INDEX runs_rescue ON runs (lease_expires_at) WHERE state = 'running';
CREATE INDEX runs_active ON runs (schedule_id, state) WHERE state IN ('queued', 'running');
CREATE INDEX runs_by_schedule ON runs (schedule_id, id);
CREATE INDEX runs_by_state ON runs (state, id);
CREATE INDEX runs_by_kind ON runs (kind, id);
CREATE INDEX runs_by_created ON runs (created_at);

INSERT INTO run_attempts SELECT * FROM temp.run_attempts_kept;

DROP TABLE temp.run_attempts_kept;
DROP TABLE temp.runs_sequence_kept;
