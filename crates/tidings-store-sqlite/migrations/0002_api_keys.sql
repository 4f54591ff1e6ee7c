-- API keys: who may call the API, and as what. A key is shown once when it is made and never
-- stored: only its SHA-256, and its prefix, the public part a presented key is found by.

CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT    NOT NULL,
    role         TEXT    NOT NULL CHECK (role IN ('read', 'write', 'admin')),
    prefix       TEXT    NOT NULL UNIQUE,    -- unique among all keys, revoked ones included
    hash         BLOB    NOT NULL,           -- SHA-256 of the whole key
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);

-- One active key per name; a revoked key's name may be given to a new key.
CREATE UNIQUE INDEX api_keys_active_name ON api_keys (name) WHERE revoked_at IS NULL;
