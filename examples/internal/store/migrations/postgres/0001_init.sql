-- 0001: tenants and sessions. Times are unix microseconds (UTC); 0 means "never" / "none".
CREATE TABLE tenants (
	context_key       TEXT    PRIMARY KEY,             -- lower-cased context identifier
	context_id        TEXT    NOT NULL,                -- as the last approval spelled it
	system_user_token BYTEA   NOT NULL,                -- sealed (AES-GCM, bound to this row)
	serial            TEXT    NOT NULL DEFAULT '',
	web_api_url       TEXT    NOT NULL DEFAULT '',
	company_name      TEXT    NOT NULL DEFAULT '',
	approved_by       TEXT    NOT NULL DEFAULT '',
	approved_at       BIGINT  NOT NULL,
	approvals         BIGINT  NOT NULL DEFAULT 1,      -- bumped by every re-approval
	created_at        BIGINT  NOT NULL,
	updated_at        BIGINT  NOT NULL,
	status            TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
	status_reason     TEXT    NOT NULL DEFAULT '',
	last_run          BIGINT  NOT NULL DEFAULT 0,
	last_sync         BIGINT  NOT NULL DEFAULT 0,
	last_outcome      TEXT    NOT NULL DEFAULT '',
	last_result       TEXT    NOT NULL DEFAULT '',
	last_error        TEXT    NOT NULL DEFAULT '',
	attempts          BIGINT  NOT NULL DEFAULT 0,
	next_run          BIGINT  NOT NULL,
	lease_owner       TEXT    NOT NULL DEFAULT '',
	lease_until       BIGINT  NOT NULL DEFAULT 0,
	fence             BIGINT  NOT NULL DEFAULT 0       -- bumped by every claim, never lowered
);

CREATE INDEX tenants_due ON tenants (next_run, context_key) WHERE status = 'active';

CREATE TABLE sessions (
	id_hash    TEXT    PRIMARY KEY,                    -- hex SHA-256 of the session id
	data       BYTEA   NOT NULL,                       -- sealed JSON, bound to id_hash
	created_at BIGINT  NOT NULL,
	updated_at BIGINT  NOT NULL,
	expires_at BIGINT  NOT NULL
);

CREATE INDEX sessions_expiry ON sessions (expires_at);
