package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-superoffice/superoffice/examples/console/demo"
	"github.com/go-superoffice/superoffice/examples/internal/config"
	"github.com/go-superoffice/superoffice/examples/internal/store"
	"github.com/go-superoffice/superoffice/superid/superidtest"
)

// startDemo starts an emulator on a free loopback port with o.demo tenants
// that have approved a fresh demo app, stores them in a database of their
// own and returns the configuration to process them with: a temporary
// SQLite file; or, when DATABASE_URL names PostgreSQL, a schema of its own
// there, which the returned cleanup drops; or DATABASE_URL's SQLite file,
// which must then hold no tenants, and keeps the demo's for a look after.
// Nothing under ./data is read or written.
func startDemo(ctx context.Context, o *options, getenv func(string) string, log *slog.Logger) (*config.Config, func(), error) {
	t0 := time.Now()
	tmp, err := os.MkdirTemp("", "superoffice-console-demo-")
	if err != nil {
		return nil, nil, fmt.Errorf("demo: %w", err)
	}
	cleanups := []func(){func() { os.RemoveAll(tmp) }}
	cleanup := func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}
	fail := func(err error) (*config.Config, func(), error) {
		cleanup()
		return nil, nil, err
	}

	app, err := demo.NewApp("demo-app", 2048)
	if err != nil {
		return fail(err)
	}
	// The request log would grow with every tenant; counters are enough.
	srv := superidtest.NewServer(superidtest.WithRequestLogLimit(0))
	cleanups = append(cleanups, srv.Close)
	if err := app.Register(srv.Emulator); err != nil {
		return fail(err)
	}

	dsn := filepath.Join(tmp, "demo.db")
	var file string // DATABASE_URL's SQLite file, which must hold no tenants
	switch shared := strings.TrimSpace(getenv(config.EnvDatabaseURL)); {
	case store.IsPostgres(shared):
		// The demo's tenants and seal key stay apart from whatever the
		// database holds, and leave nothing behind.
		private, drop, err := store.PrivateSchema(ctx, shared, "superoffice_demo_")
		if err != nil {
			return fail(fmt.Errorf("demo: a schema of its own in %s (the role needs the CREATE privilege on the database): %w",
				config.RedactDatabaseURL(shared), err))
		}
		cleanups = append(cleanups, func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := drop(ctx); err != nil {
				log.Warn("demo: dropping its schema failed; drop it by hand", "database", config.RedactDatabaseURL(private), "err", err)
			}
		})
		dsn = private
	case shared != "":
		dsn, file = shared, shared
	}
	cfg := &config.Config{
		Local:        true,
		Environment:  srv.Environment(),
		ClientID:     app.ClientID,
		ClientSecret: app.ClientSecret,
		PrivateKey:   app.PrivateKey,
		RedirectURL:  "http://localhost:8080/callback",
		DatabaseURL:  dsn,
		SealKey:      store.GenerateSealKey(),
		SealKeyFrom:  "the demo, which makes a new one each run",
		DataDir:      tmp,
	}
	st, err := store.Open(ctx, dsn, cfg.SealKey)
	if file != "" && errors.Is(err, store.ErrSealKeyMismatch) {
		// The file has a key of its own: another program's, or an earlier
		// demo's, whose key died with it.
		return fail(fmt.Errorf("demo: %s was written with another seal key (another program's, or an earlier -demo's); -demo needs a new or empty SQLite file (or unset %s for a temporary one)",
			config.RedactDatabaseURL(dsn), config.EnvDatabaseURL))
	}
	if err != nil {
		return fail(err)
	}
	defer st.Close()
	if file != "" {
		// The demo's own seal key cannot open anyone else's tokens, and its
		// emulator knows no other tenant: real tenants in this file would
		// be deactivated. Refuse rather than harm them.
		n, err := st.Counts(ctx, time.Time{})
		if err != nil {
			return fail(err)
		}
		if n.Total > 0 {
			return fail(fmt.Errorf("demo: %s holds %d tenants; -demo needs a new or empty SQLite file (or unset %s for a temporary one)",
				config.RedactDatabaseURL(dsn), n.Total, config.EnvDatabaseURL))
		}
	}
	if err := demo.AddTenants(ctx, srv.Emulator, st, app, 0, o.demo, time.Now()); err != nil {
		return fail(err)
	}
	log.Info("demo ready", "emulator", srv.URL, "tenants", o.demo, "database", config.RedactDatabaseURL(dsn),
		"took", time.Since(t0).Round(time.Millisecond))
	return cfg, cleanup, nil
}
