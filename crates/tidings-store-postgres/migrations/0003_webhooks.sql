-- Completion webhooks: a delivery is a run of trigger and kind `webhook` whose parent_run_id is
-- the finished run it reports (tidings_store::WebhookDelivery). The trigger column has no CHECK
-- here, so `webhook` needs no change to it.

ALTER TABLE runs ADD COLUMN parent_run_id BIGINT REFERENCES runs (id) ON DELETE SET NULL;

-- A run's deliveries (`run_list` with `parent`), and the foreign key's lookups when a run is
-- deleted. Partial: the many runs without a parent cost nothing.
CREATE INDEX runs_parent_idx ON runs (parent_run_id, id) WHERE parent_run_id IS NOT NULL;
