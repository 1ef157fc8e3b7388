-- 0005: the web app's finished sign-ins, so that a replayed callback (the same OIDC state
-- again) is refused on every instance and after a restart, before any token request.
CREATE TABLE IF NOT EXISTS used_sign_ins (
	state_hash TEXT    PRIMARY KEY,                    -- hex SHA-256 of the sign-in's state
	used_at    INTEGER NOT NULL,
	expires_at INTEGER NOT NULL                        -- kept until then; the sign-in cannot finish later anyway
) STRICT;

CREATE INDEX IF NOT EXISTS used_sign_ins_expiry ON used_sign_ins (expires_at);
