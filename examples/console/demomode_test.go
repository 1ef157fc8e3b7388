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
)

// -demo with DATABASE_URL refuses a database that is someone else's: one
// that holds tenants, and one that another program's seal key wrote even
// with no tenant left, which the demo's new key could never open.
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
			if msg := err.Error(); !strings.Contains(msg, "-demo needs an empty one") || strings.Contains(msg, "SECRET") {
				t.Fatalf("error %q", msg)
			}
		})
	}
}

// A shared database the demo itself made fresh is fine.
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
	defer cleanup()
	st, err := store.Open(context.Background(), cfg.DatabaseURL, cfg.SealKey)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if c, err := st.Counts(context.Background(), time.Time{}); err != nil || c.Total != 2 {
		t.Fatalf("counts %+v, %v", c, err)
	}
}
