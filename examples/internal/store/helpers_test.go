package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// clock is a settable test clock: tests move time instead of sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// testDB is one database a test runs against; open may be called several times to get
// several independent *Store on the same data (several processes).
type testDB struct {
	name  string
	dsn   string
	key   []byte
	clock *clock
}

func (d *testDB) open(t testing.TB) *Store {
	t.Helper()
	s, err := OpenConfig(context.Background(), Config{DSN: d.dsn, SealKey: d.key, Now: d.clock.Now})
	if err != nil {
		t.Fatalf("open %s: %v", d.name, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// postgresURL returns TEST_DATABASE_URL, skipping the test when it is unset, except
// under CI=true where a missing PostgreSQL is a failure: the PostgreSQL path must not
// go untested unnoticed.
func postgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("TEST_DATABASE_URL")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("TEST_DATABASE_URL is not set but CI=true: start PostgreSQL with `eval \"$(.ci/start-postgres)\"` (see .ci/start-postgres)")
		}
		t.Skip("TEST_DATABASE_URL not set; skipping PostgreSQL (eval \"$(.ci/start-postgres)\" to run it)")
	}
	return u
}

// newPostgresDB gives the test a private schema in the test database, dropped afterwards,
// so tests cannot see each other's rows.
func newPostgresDB(t testing.TB) *testDB {
	t.Helper()
	base := postgresURL(t)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	defer admin.Close()
	schema := "t_" + hex.EncodeToString(GenerateSealKey()[:6])
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("postgres: create schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		db.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`)
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("TEST_DATABASE_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return &testDB{name: "postgres", dsn: u.String(), key: GenerateSealKey(), clock: newClock()}
}

func newSQLiteDB(t testing.TB) *testDB {
	return &testDB{name: "sqlite", dsn: filepath.Join(t.TempDir(), "store.db"), key: GenerateSealKey(), clock: newClock()}
}

// eachDB runs f against SQLite and against PostgreSQL.
func eachDB(t *testing.T, f func(t *testing.T, db *testDB)) {
	t.Run("sqlite", func(t *testing.T) { f(t, newSQLiteDB(t)) })
	t.Run("postgres", func(t *testing.T) { f(t, newPostgresDB(t)) })
}
