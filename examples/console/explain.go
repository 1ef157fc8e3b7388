package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-superoffice/superoffice/examples/internal/config"
	"github.com/go-superoffice/superoffice/examples/internal/store"
)

// localMode reports whether config.Load will run in local mode: none of
// the SuperOffice variables is set.
func localMode(getenv func(string) string) bool {
	for _, n := range []string{config.EnvEnvironment, config.EnvClientID, config.EnvClientSecret,
		config.EnvPrivateKeyFile, config.EnvRedirectURL} {
		if strings.TrimSpace(getenv(n)) != "" {
			return false
		}
	}
	return true
}

// absDir is dir as an absolute path, for messages: a relative one says
// nothing about which directory the program was started from.
func absDir(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}

// checkLocalData makes sure, in local mode, that dataDir holds what the web
// app wrote there (its app registration, the partner key, the seal key,
// the database), before config.Load would create any of it: a console
// started from another directory would otherwise make a new, empty data
// directory of its own, register nothing, and find no tenant.
func checkLocalData(dataDir string, getenv func(string) string) error {
	files := []string{"local-app.json", "partner-key.pem"}
	if strings.TrimSpace(getenv(config.EnvSealKey)) == "" {
		files = append(files, "seal.key")
	}
	if strings.TrimSpace(getenv(config.EnvDatabaseURL)) == "" {
		files = append(files, "superoffice.db")
	}
	var missing []string
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(dataDir, f)); errors.Is(err, fs.ErrNotExist) {
			missing = append(missing, f)
		} else if err != nil {
			return fmt.Errorf("local mode: %w", err)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	dir := absDir(dataDir)
	what := "no " + strings.Join(missing, ", ") + " in " + dir
	if _, err := os.Stat(dataDir); errors.Is(err, fs.ErrNotExist) {
		what = "no data directory " + dir
	}
	return fmt.Errorf("local mode: %s (looked for %s): the web app keeps its data in ./data under the directory "+
		"it is started from (go run ./examples/webapp, its -data flag); start the console from that directory or pass "+
		"-data with the web app's data directory, or run a self-contained demo with -demo 10",
		what, strings.Join(files, ", "))
}

// describeStart says which database and data directory the console uses
// and how many tenants are active; with none, why there is nothing to do
// and where approvals come from.
func describeStart(ctx context.Context, log *slog.Logger, cfg *config.Config, st *store.Store, demo bool) error {
	c, err := st.Counts(ctx, time.Time{})
	if err != nil {
		return err
	}
	db := config.RedactDatabaseURL(cfg.DatabaseURL)
	attrs := []any{"database", db}
	if cfg.Local && !demo {
		attrs = append(attrs, "data", absDir(cfg.DataDir))
	}
	attrs = append(attrs, "active_tenants", c.Active, "inactive_tenants", c.Inactive, "due_now", c.Due)
	log.Info("console ready", attrs...)
	if c.Active > 0 {
		return nil
	}
	why := "no tenant has approved the app yet"
	if c.Inactive > 0 {
		why = fmt.Sprintf("all %d tenants are inactive (approval withdrawn or tenant deleted; the tenants page of the web app says why)", c.Inactive)
	}
	where := "the web app stores each approval in " + config.EnvDatabaseURL + " (" + db + ")"
	if cfg.Local {
		where = "the web app stores each approval in its data directory, ./data under the directory it is started from; " +
			"this console reads " + db + ": start the web app (go run ./examples/webapp), sign in at http://" +
			config.LocalWebAppAddr + " as an administrator and approve the app, or pass -data with the web app's data directory"
	}
	log.Warn("nothing to do: "+why+"; "+where, "database", db)
	return nil
}

// nextDue reports, between cycles, when the next tenant is due: once per
// change, not at every poll.
type nextDue struct {
	log   *slog.Logger
	st    *store.Store
	poll  time.Duration
	now   func() time.Time
	shown time.Time
	none  bool
}

func (n *nextDue) report(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	now := n.now()
	next, err := n.st.NextDue(qctx, now)
	switch {
	case err != nil:
		return // the next cycle reports the store's trouble
	case next.IsZero():
		if !n.none {
			n.log.Info("waiting: no active tenant; new approvals are looked for at every poll", "poll", n.poll)
		}
		n.none, n.shown = true, time.Time{}
	case !next.Equal(n.shown):
		n.none, n.shown = false, next
		in := max(next.Sub(now), 0).Round(time.Second)
		n.log.Info("waiting: next run due", "at", next.Local().Format(time.DateTime), "in", in, "poll", n.poll)
	}
}
