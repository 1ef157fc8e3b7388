// Package storetest gives tests of the examples a private PostgreSQL
// schema, so that the store, the web app and the console all run against
// a real PostgreSQL in CI without seeing each other's rows.
package storetest

import (
	"context"
	"os"
	"testing"

	"github.com/go-superoffice/superoffice/examples/internal/store"
	"github.com/stretchr/testify/require"
)

// PostgresDSN creates a schema named prefix + random hex in the database at
// TEST_DATABASE_URL (store.PrivateSchema), drops it when the test ends, and
// returns a URL whose search_path is that schema. Without TEST_DATABASE_URL
// the test is skipped, except under CI=true, where a PostgreSQL path left
// untested is a failure (.ci/start-postgres provides one).
func PostgresDSN(t testing.TB, prefix string) string {
	t.Helper()
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		require.NotEqual(t, "true", os.Getenv("CI"),
			"TEST_DATABASE_URL is not set but CI=true: start PostgreSQL with `eval \"$(.ci/start-postgres)\"`")
		t.Skip("TEST_DATABASE_URL not set; skipping PostgreSQL (eval \"$(.ci/start-postgres)\" to run it)")
	}
	dsn, drop, err := store.PrivateSchema(context.Background(), base, prefix)
	require.NoError(t, err, "postgres")
	t.Cleanup(func() { _ = drop(context.Background()) })
	return dsn
}
