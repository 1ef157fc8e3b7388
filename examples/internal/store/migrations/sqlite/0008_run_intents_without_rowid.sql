-- 0008: run_intents as a WITHOUT ROWID table, stored in its primary key's own b-tree. A
-- rowid table keeps that key in a second b-tree beside the rows, so every intent a run
-- records, and every one its success deletes, wrote two b-trees' pages where one does.
-- The same columns and rows; PostgreSQL has no rowid and needs nothing.
CREATE TABLE run_intents_0008 (
	context_key TEXT    NOT NULL,                      -- the tenant (tenants.context_key)
	step        TEXT    NOT NULL,                      -- which side effect of the run
	run_id      TEXT    NOT NULL,                      -- the run, the same on every attempt of it
	plan        TEXT    NOT NULL,                      -- what the first attempt recorded (a company name)
	fence       INTEGER NOT NULL,                      -- the claim that recorded it
	recorded_at INTEGER NOT NULL,
	PRIMARY KEY (context_key, step)
) STRICT, WITHOUT ROWID;
INSERT INTO run_intents_0008 (context_key, step, run_id, plan, fence, recorded_at)
	SELECT context_key, step, run_id, plan, fence, recorded_at FROM run_intents;
DROP TABLE run_intents;
ALTER TABLE run_intents_0008 RENAME TO run_intents;
