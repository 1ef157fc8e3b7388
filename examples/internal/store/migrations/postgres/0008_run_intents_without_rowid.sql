-- 0008: SQLite rebuilds run_intents as a WITHOUT ROWID table. PostgreSQL has no rowid and
-- needs nothing; the migration is here so that both dialects count the same versions.
SELECT 1;
