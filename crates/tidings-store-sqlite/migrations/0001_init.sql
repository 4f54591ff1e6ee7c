-- tidings on SQLite: schedules, runs and attempts.
-- Every instant is INTEGER epoch milliseconds (text timestamps sort wrongly); durations are
-- milliseconds too. JSON values are TEXT. Booleans are 0/1.

CREATE TABLE schedules (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL UNIQUE,
    description   TEXT,
    "trigger"     TEXT    NOT NULL,               -- JSON of tidings_core::Trigger
    kind          TEXT    NOT NULL,
    params        TEXT    NOT NULL,               -- JSON
    enabled       INTEGER NOT NULL,
    policy        TEXT    NOT NULL,               -- JSON of SchedulePolicy
    max_instances INTEGER NOT NULL,               -- policy.fire.max_instances, for the claim query
    origin        TEXT    NOT NULL CHECK (origin IN ('config', 'api', 'cli', 'default')),
    source        TEXT,
    tags          TEXT    NOT NULL DEFAULT '[]',  -- JSON array of strings
    callback_url  TEXT,
    next_run_at   INTEGER,
    total         INTEGER NOT NULL DEFAULT 0,
    succeeded     INTEGER NOT NULL DEFAULT 0,
    failed        INTEGER NOT NULL DEFAULT 0,
    skipped       INTEGER NOT NULL DEFAULT 0,
    missed        INTEGER NOT NULL DEFAULT 0,
    last_run_at   INTEGER,
    last_run_id   INTEGER,
    last_state    TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- The scheduler's question: which enabled schedules are due, earliest first.
CREATE INDEX schedules_due ON schedules (enabled, next_run_at);

CREATE TABLE runs (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    schedule_id       INTEGER REFERENCES schedules (id) ON DELETE SET NULL,
    kind              TEXT    NOT NULL,
    params            TEXT    NOT NULL,           -- JSON
    "trigger"         TEXT    NOT NULL CHECK ("trigger" IN ('schedule', 'manual', 'api', 'startup')),
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
    -- The fire key: one row per occurrence of a schedule, whoever fires it.
    UNIQUE (schedule_id, scheduled_for)
);

-- Partial indexes hold only the few rows the scheduler's hot queries look at, and cost nothing
-- to maintain for the many finished runs. A query uses one only when its WHERE repeats the
-- index's condition word for word.
-- Claims: queued runs by run_after.
CREATE INDEX runs_claim ON runs (run_after) WHERE state = 'queued';
-- Rescue: running runs by lease expiry.
CREATE INDEX runs_rescue ON runs (lease_expires_at) WHERE state = 'running';
-- max_instances: a schedule's queued and running runs, without reading its history.
CREATE INDEX runs_active ON runs (schedule_id, state) WHERE state IN ('queued', 'running');
CREATE INDEX runs_by_schedule ON runs (schedule_id, id);
CREATE INDEX runs_by_state ON runs (state, id);
CREATE INDEX runs_by_kind ON runs (kind, id);
CREATE INDEX runs_by_created ON runs (created_at);

CREATE TABLE run_attempts (
    run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    number      INTEGER NOT NULL,                 -- 1-based
    instance    TEXT    NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    outcome     TEXT,                             -- a RunState name; NULL while running
    error       TEXT,
    PRIMARY KEY (run_id, number)
) WITHOUT ROWID;
