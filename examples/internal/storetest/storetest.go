// Package storetest gives tests of the examples a private PostgreSQL
// schema, so that the store, the web app and the console all run against
// a real PostgreSQL in CI without seeing each other's rows.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the pgx driver
)

// PostgresDSN creates a schema named prefix + random hex in the database at
// TEST_DATABASE_URL, drops it when the test ends, and returns a URL whose
// search_path is that schema. Without TEST_DATABASE_URL the test is
// skipped, except under CI=true, where a PostgreSQL path left untested is a
// failure (.ci/start-postgres provides one).
func PostgresDSN(t testing.TB, prefix string) string {
	t.Helper()
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("TEST_DATABASE_URL is not set but CI=true: start PostgreSQL with `eval \"$(.ci/start-postgres)\"`")
		}
		t.Skip("TEST_DATABASE_URL not set; skipping PostgreSQL (eval \"$(.ci/start-postgres)\" to run it)")
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("TEST_DATABASE_URL: %v", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := prefix + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	defer admin.Close()
	if _, err := admin.ExecContext(context.Background(), `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("postgres: create schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`)
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
