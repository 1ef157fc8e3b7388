-- 0001: tenants and sessions. Times are unix microseconds (UTC); 0 means "never" / "none".
CREATE TABLE tenants (
	context_key       TEXT    PRIMARY KEY,             -- lower-cased context identifier
	context_id        TEXT    NOT NULL,                -- as the last approval spelled it
	system_user_token BLOB    NOT NULL,                -- sealed (AES-GCM, bound to this row)
	serial            TEXT    NOT NULL DEFAULT '',
	web_api_url       TEXT    NOT NULL DEFAULT '',
	company_name      TEXT    NOT NULL DEFAULT '',
	approved_by       TEXT    NOT NULL DEFAULT '',
	approved_at       INTEGER NOT NULL,
	approvals         INTEGER NOT NULL DEFAULT 1,      -- bumped by every re-approval
	created_at        INTEGER NOT NULL,
	updated_at        INTEGER NOT NULL,
	status            TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
	status_reason     TEXT    NOT NULL DEFAULT '',
	last_run          INTEGER NOT NULL DEFAULT 0,
	last_sync         INTEGER NOT NULL DEFAULT 0,
	last_outcome      TEXT    NOT NULL DEFAULT '',
	last_result       TEXT    NOT NULL DEFAULT '',
	last_error        TEXT    NOT NULL DEFAULT '',
	attempts          INTEGER NOT NULL DEFAULT 0,
	next_run          INTEGER NOT NULL,
	lease_owner       TEXT    NOT NULL DEFAULT '',
	lease_until       INTEGER NOT NULL DEFAULT 0,
	fence             INTEGER NOT NULL DEFAULT 0       -- bumped by every claim, never lowered
) STRICT;

CREATE INDEX tenants_due ON tenants (next_run, context_key) WHERE status = 'active';

CREATE TABLE sessions (
	id_hash    TEXT    PRIMARY KEY,                    -- hex SHA-256 of the session id
	data       BLOB    NOT NULL,                       -- sealed JSON, bound to id_hash
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX sessions_expiry ON sessions (expires_at);
