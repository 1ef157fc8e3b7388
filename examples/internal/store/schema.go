package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// IsPostgres reports whether Open would take dsn for a PostgreSQL database
// (a postgres:// URL or libpq's keyword form) rather than a SQLite file.
func IsPostgres(dsn string) bool {
	dsn = strings.TrimSpace(dsn)
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") || pgKeywordDSN.MatchString(dsn)
}

var schemaPrefix = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,40}$`)

// PrivateSchema creates a schema named prefix plus random hex in the
// PostgreSQL database at dsn and returns a DSN whose search_path is that
// schema, so that a store opened with it sees nothing else in the database,
// and a function that drops the schema with all in it. Tests and the
// console's -demo use it to run next to real data without touching it.
func PrivateSchema(ctx context.Context, dsn, prefix string) (string, func(context.Context) error, error) {
	const op = "private schema"
	dsn = strings.TrimSpace(dsn)
	switch {
	case !IsPostgres(dsn):
		return "", nil, invalid(op, "a schema of its own needs PostgreSQL, not a SQLite file")
	case !schemaPrefix.MatchString(prefix):
		return "", nil, invalid(op, "prefix %q is not a lower-case SQL name", prefix)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := prefix + hex.EncodeToString(b[:])
	withPath := dsn + " search_path=" + schema
	if !pgKeywordDSN.MatchString(dsn) {
		u, err := url.Parse(dsn)
		if err != nil {
			// url's error quotes the URL, password and all.
			return "", nil, invalid(op, "the database URL does not parse")
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		withPath = u.String()
	}
	exec := func(ctx context.Context, stmt string) error {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			return wrap(op, driverError(err))
		}
		defer db.Close()
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return wrap(op, fmt.Errorf("%s: %w", strings.Fields(stmt)[0], driverError(err)))
		}
		return nil
	}
	if err := exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, err
	}
	drop := func(ctx context.Context) error { return exec(ctx, "DROP SCHEMA "+schema+" CASCADE") }
	return withPath, drop, nil
}
