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
			if err := st.UpsertTenant(context.Background(), store.Approval{ContextIdentifier: "Cust1", SystemUserToken: "SECRET-token"}); err != nil {
				t.Fatal(err)
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "app.db")
			st, err := store.Open(context.Background(), db, store.GenerateSealKey())
			if err != nil {
				t.Fatal(err)
			}
			fill(t, st)
			st.Close()
			getenv := func(k string) string {
				if k == "DATABASE_URL" {
					return db
				}
				return ""
			}
			cfg, cleanup, err := startDemo(context.Background(), &options{demo: 1}, getenv, log)
			if err == nil {
				cleanup()
				t.Fatalf("demo started on %s", cfg.DatabaseURL)
			}
			if msg := err.Error(); !strings.Contains(msg, "-demo needs a new or empty SQLite file") || strings.Contains(msg, "SECRET") {
				t.Fatalf("error %q", msg)
			}
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
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DatabaseURL != db {
		cleanup()
		t.Fatalf("the demo uses %s, not %s", cfg.DatabaseURL, db)
	}
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
	if err != nil {
		t.Fatal(err)
	}
	if err := st.UpsertTenant(ctx, store.Approval{ContextIdentifier: "Cust1", SystemUserToken: "SECRET-token"}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	getenv := func(k string) string {
		if k == "DATABASE_URL" {
			return dsn
		}
		return ""
	}
	for run := range 2 {
		cfg, cleanup, err := startDemo(ctx, &options{demo: 2}, getenv, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if cfg.DatabaseURL == dsn || !strings.Contains(cfg.DatabaseURL, "superoffice_demo_") {
			cleanup()
			t.Fatalf("run %d: the demo uses %s", run, cfg.DatabaseURL)
		}
		expectTenants(t, cfg.DatabaseURL, cfg.SealKey, 2)
		cleanup()
		if st, err := store.Open(ctx, cfg.DatabaseURL, cfg.SealKey); err == nil {
			// Opening would make the tables again in a schema that is
			// gone: it must fail.
			st.Close()
			t.Fatalf("run %d: the demo's schema is still there", run)
		}
	}
	expectTenants(t, dsn, key, 1)
}

func expectTenants(t *testing.T, dsn string, key []byte, want int) {
	t.Helper()
	st, err := store.Open(context.Background(), dsn, key)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if c, err := st.Counts(context.Background(), time.Time{}); err != nil || c.Total != want {
		t.Fatalf("%d tenants (%v), want %d", c.Total, err, want)
	}
}
