-- 0004: a value sealed with the seal key the database is written with, so that opening
-- it with another key (another data directory, a lost key file) is refused at start-up
-- instead of deactivating every tenant whose token then does not open.
CREATE TABLE seal_check (
	id          INTEGER PRIMARY KEY CHECK (id = 1),
	check_value BYTEA   NOT NULL,                      -- a constant, sealed (AES-GCM, bound to this row)
	created_at  BIGINT  NOT NULL
);
