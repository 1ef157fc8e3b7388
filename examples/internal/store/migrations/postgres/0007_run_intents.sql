-- 0005: what a run is about to do, recorded before its side effect (a company created at
-- SuperOffice), so that an attempt that starts again after a crash finds out whether the
-- side effect already happened before doing it a second time. A row stands until a
-- success of the tenant is recorded; the write that records it deletes the tenant's rows.
-- Idempotent: a database that already has the table keeps it.
CREATE TABLE IF NOT EXISTS run_intents (
	context_key TEXT   NOT NULL,                       -- the tenant (tenants.context_key)
	step        TEXT   NOT NULL,                       -- which side effect of the run
	run_id      TEXT   NOT NULL,                       -- the run, the same on every attempt of it
	plan        TEXT   NOT NULL,                       -- what the first attempt recorded (a company name)
	fence       BIGINT NOT NULL,                       -- the claim that recorded it
	recorded_at BIGINT NOT NULL,
	PRIMARY KEY (context_key, step)
);
