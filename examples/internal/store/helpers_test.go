package store

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
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
	require.NoError(t, err, "open %s", d.name)
	t.Cleanup(func() { s.Close() })
	return s
}

// newPostgresDB gives the test a private schema in the test database, dropped afterwards,
// so tests cannot see each other's rows.
func newPostgresDB(t testing.TB) *testDB {
	t.Helper()
	return &testDB{name: "postgres", dsn: postgresDSN(t), key: GenerateSealKey(), clock: newClock()}
}

// postgresDSN is storetest.PostgresDSN, which the store's own tests cannot
// import (it imports the store): a private schema in TEST_DATABASE_URL,
// dropped at the end; skipped without one, but a failure under CI=true.
func postgresDSN(t testing.TB) string {
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		require.NotEqual(t, "true", os.Getenv("CI"),
			"TEST_DATABASE_URL is not set but CI=true: start PostgreSQL with `eval \"$(.ci/start-postgres)\"`")
		t.Skip("TEST_DATABASE_URL not set; skipping PostgreSQL (eval \"$(.ci/start-postgres)\" to run it)")
	}
	dsn, drop, err := PrivateSchema(context.Background(), base, "t_")
	require.NoError(t, err, "postgres")
	t.Cleanup(func() { _ = drop(context.Background()) })
	return dsn
}

func newSQLiteDB(t testing.TB) *testDB {
	return &testDB{name: "sqlite", dsn: filepath.Join(t.TempDir(), "store.db"), key: GenerateSealKey(), clock: newClock()}
}

// eachDB runs f against SQLite and against PostgreSQL.
func eachDB(t *testing.T, f func(t *testing.T, db *testDB)) {
	t.Run("sqlite", func(t *testing.T) { f(t, newSQLiteDB(t)) })
	t.Run("postgres", func(t *testing.T) { f(t, newPostgresDB(t)) })
}
