-- The `tidings serve` processes sharing this database: registered at start, seen at each
-- heartbeat, removed at a clean stop; maintenance prunes the ones that died without saying so.

CREATE TABLE instances (
    id           TEXT   PRIMARY KEY,
    host         TEXT   NOT NULL,
    pid          BIGINT NOT NULL,
    version      TEXT   NOT NULL,
    started_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);

-- Wakes idle workers of every instance when runs are queued: one notification per inserting
-- statement (PostgreSQL folds identical ones within a transaction, and delivers them at
-- commit). The payload names the schema, so that instances on other schemas of the same
-- database ignore it.
CREATE FUNCTION tidings_notify_runs_queued() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM queued WHERE state = 'queued') THEN
        PERFORM pg_notify('tidings', 'runs:' || current_schema());
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER runs_queued_notify
    AFTER INSERT ON runs
    REFERENCING NEW TABLE AS queued
    FOR EACH STATEMENT EXECUTE FUNCTION tidings_notify_runs_queued();
