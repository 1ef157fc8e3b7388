-- 0006: the web app's recent webhook events per tenant (a bounded window, not a log),
-- for its "Recent events" panel. IF NOT EXISTS: safe to apply again under another number.
CREATE TABLE IF NOT EXISTS webhook_events (
	id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- arrival order
	context_key TEXT    NOT NULL,                    -- lower-cased context identifier
	context_id  TEXT    NOT NULL,                    -- as the event spelled it
	event_id    TEXT,                                -- SuperOffice's EventId; NULL: none sent
	event       TEXT    NOT NULL,                    -- "contact.created"
	entity      TEXT    NOT NULL DEFAULT '',         -- "contact"
	primary_key BIGINT  NOT NULL DEFAULT 0,
	changed_by  BIGINT  NOT NULL DEFAULT 0,          -- the associate whose change fired it
	occurred_at BIGINT  NOT NULL DEFAULT 0,          -- the event's Timestamp; 0: not sent
	received_at BIGINT  NOT NULL
);

CREATE UNIQUE INDEX IF NOT EXISTS webhook_events_once ON webhook_events (context_key, event_id);
CREATE INDEX IF NOT EXISTS webhook_events_recent ON webhook_events (context_key, id);
