package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-superoffice/superoffice/examples/internal/store"
	"github.com/go-superoffice/superoffice/examples/internal/storetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// -demo with a SQLite DATABASE_URL refuses a file that is someone else's
// (or an earlier demo's): one that holds tenants, and one that another
// seal key wrote even with no tenant left, which the demo's new key could
// never open.
func TestDemoRefusesADatabaseInUse(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for name, fill := range map[string]func(t *testing.T, st *store.Store){
		"empty": func(*testing.T, *store.Store) {},
		"holding tenants": func(t *testing.T, st *store.Store) {
			err := st.UpsertTenant(context.Background(), store.Approval{ContextIdentifier: "Cust1", SystemUserToken: "SECRET-token"})
			require.NoError(t, err, "storing a tenant")
		},
	} {
		t.Run(name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "app.db")
			st, err := store.Open(context.Background(), db, store.GenerateSealKey())
			require.NoError(t, err, "opening the store")
			fill(t, st)
			st.Close()
			getenv := func(k string) string {
				if k == "DATABASE_URL" {
					return db
				}
				return ""
			}
			_, cleanup, err := startDemo(context.Background(), &options{demo: 1}, getenv, log)
			if err == nil {
				cleanup()
			}
			require.Error(t, err, "demo started on %s", db)
			assert.Contains(t, err.Error(), "-demo needs a new or empty SQLite file", "error")
			assert.NotContains(t, err.Error(), "SECRET", "error")
		})
	}
}

// A SQLite file the demo itself makes new is fine, and keeps its tenants.
func TestDemoUsesANewSharedDatabase(t *testing.T) {
	db := filepath.Join(t.TempDir(), "new.db")
	getenv := func(k string) string {
		if k == "DATABASE_URL" {
			return db
		}
		return ""
	}
	cfg, cleanup, err := startDemo(context.Background(), &options{demo: 2}, getenv, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err, "startDemo")
	if cfg.DatabaseURL != db {
		cleanup()
	}
	require.Equal(t, db, cfg.DatabaseURL, "the database the demo uses")
	expectTenants(t, db, cfg.SealKey, 2)
	cleanup()
	expectTenants(t, db, cfg.SealKey, 2) // kept for a look after
}

// With a PostgreSQL DATABASE_URL the demo runs in a schema of its own:
// the database's tenants, written with another seal key, are neither
// refused nor touched, and the demo leaves nothing behind, so that it
// can run again.
func TestDemoRunsApartInPostgres(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.PostgresDSN(t, "console_")
	key := store.GenerateSealKey()
	st, err := store.Open(ctx, dsn, key)
	require.NoError(t, err, "opening the store")
	err = st.UpsertTenant(ctx, store.Approval{ContextIdentifier: "Cust1", SystemUserToken: "SECRET-token"})
	require.NoError(t, err, "storing a tenant")
	st.Close()
	getenv := func(k string) string {
		if k == "DATABASE_URL" {
			return dsn
		}
		return ""
	}
	for run := range 2 {
		cfg, cleanup, err := startDemo(ctx, &options{demo: 2}, getenv, slog.New(slog.DiscardHandler))
		require.NoError(t, err, "run %d: startDemo", run)
		apart := cfg.DatabaseURL != dsn && strings.Contains(cfg.DatabaseURL, "superoffice_demo_")
		if !apart {
			cleanup()
		}
		require.True(t, apart, "run %d: the demo uses %s, not a schema of its own", run, cfg.DatabaseURL)
		expectTenants(t, cfg.DatabaseURL, cfg.SealKey, 2)
		cleanup()
		// Opening would make the tables again in a schema that is gone: it
		// must fail.
		again, err := store.Open(ctx, cfg.DatabaseURL, cfg.SealKey)
		if err == nil {
			again.Close()
		}
		require.Error(t, err, "run %d: the demo's schema is still there", run)
	}
	expectTenants(t, dsn, key, 1)
}

func expectTenants(t *testing.T, dsn string, key []byte, want int) {
	t.Helper()
	st, err := store.Open(context.Background(), dsn, key)
	require.NoError(t, err, "opening the store")
	defer st.Close()
	c, err := st.Counts(context.Background(), time.Time{})
	require.NoError(t, err, "counting the tenants")
	assert.Equal(t, want, c.Total, "tenants")
}
