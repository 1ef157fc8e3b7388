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
// own (a temporary SQLite file, or DATABASE_URL when set, which must then
// hold no tenants) and returns the configuration to process them with.
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

	dsn := strings.TrimSpace(getenv(config.EnvDatabaseURL))
	shared := dsn != ""
	if !shared {
		dsn = filepath.Join(tmp, "demo.db")
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
	if shared && errors.Is(err, store.ErrSealKeyMismatch) {
		// The database has a key of its own, so it is some other program's.
		return fail(fmt.Errorf("demo: the database at %s was written with another seal key (another program's); -demo needs an empty one (or unset %s for a temporary SQLite file)",
			config.RedactDatabaseURL(dsn), config.EnvDatabaseURL))
	}
	if err != nil {
		return fail(err)
	}
	defer st.Close()
	if shared {
		// The demo's own seal key cannot open anyone else's tokens, and its
		// emulator knows no other tenant: real tenants in this database
		// would be deactivated. Refuse rather than harm them.
		n, err := st.Counts(ctx, time.Time{})
		if err != nil {
			return fail(err)
		}
		if n.Total > 0 {
			return fail(fmt.Errorf("demo: the database at %s holds %d tenants; -demo needs an empty one (or unset %s for a temporary SQLite file)",
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
