package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/examples/internal/config"
	"github.com/go-superoffice/superoffice/examples/internal/store"
	"github.com/go-superoffice/superoffice/superid"
	"github.com/go-superoffice/superoffice/superid/superidtest"
)

// Local mode checks that the emulator is what answers on its port:
// another program there gets a message saying so, not a failed run for
// every tenant.
func TestCheckEmulator(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "<!DOCTYPE HTML><title>Error response</title>", http.StatusNotImplemented)
	}))
	defer other.Close()
	em := superidtest.NewServer()
	defer em.Close()
	for _, tc := range []struct {
		root string
		ok   bool
	}{{em.URL, true}, {other.URL, false}} {
		env, err := superid.ParseEnvironment(tc.root)
		require.NoError(t, err)
		err = checkEmulator(context.Background(), http.DefaultClient, &config.Config{Environment: env})
		if tc.ok {
			assert.NoError(t, err, tc.root)
		} else {
			assert.ErrorContains(t, err, "not as the emulator", tc.root)
		}
	}
}

// A DATABASE_URL that does not parse is reported without its password,
// however libpq's keyword form spells it (spaces around '=', an escaped
// quote inside a quoted value): the driver's own redaction misses those.
func TestUnparsableDatabaseURLKeepsItsPassword(t *testing.T) {
	for _, dsn := range []string{
		`host=127.0.0.1 port=1 user=u password = s3cretpw dbname=x sslmode=bogus`,
		`host=127.0.0.1 port=1 user=u password='s3c\'ret pw9x' dbname=x sslmode=bogus`,
	} {
		getenv := func(k string) string {
			if k == config.EnvDatabaseURL {
				return dsn
			}
			return ""
		}
		var stdout, stderr strings.Builder
		err := run(context.Background(), []string{"-once", "-data", localData(t, t.TempDir()), "-progress", "none"}, getenv, &stdout, &stderr)
		require.Error(t, err, dsn)
		for _, out := range []string{err.Error(), stdout.String(), stderr.String()} {
			assert.NotContains(t, out, "s3c", "the password is out")
			assert.NotContains(t, out, "pw9x", "the password is out")
		}
		assert.ErrorContains(t, err, "sslmode is invalid", "the cause is lost")
	}
}

// A signal during start-up (the demo's set-up, the store's open) ends the
// program as one during the cycles does: with nothing claimed, and exit 0.
func TestSignalDuringStartUpIsNoFailure(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr strings.Builder
	err := run(ctx, []string{"-demo", "50", "-once", "-data", t.TempDir(), "-progress", "none"},
		func(string) string { return "" }, &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	assert.Contains(t, stderr.String(), "stopped by signal", "no word of the signal")
}

// Local mode started away from the web app's data directory says where it
// looked and where the web app keeps its data, and creates nothing: not
// a new data directory, not a key, not a database.
func TestLocalModeNeedsTheWebAppsData(t *testing.T) {
	for name, prepare := range map[string]func(dir string){
		"no directory":    func(string) {},
		"empty directory": func(dir string) { require.NoError(t, os.Mkdir(dir, 0o700)) },
		"no database":     func(dir string) { localData(t, dir) },
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			prepare(dir)
			before := listDir(t, dir)
			var stdout, stderr strings.Builder
			err := run(context.Background(), []string{"-once", "-data", dir, "-progress", "none"},
				func(string) string { return "" }, &stdout, &stderr)
			require.Error(t, err)
			msg := err.Error()
			assert.Contains(t, msg, dir, "where it looked")
			assert.Contains(t, msg, "superoffice.db")
			assert.Contains(t, msg, "./data under the directory it is started from", "where the web app keeps its data")
			assert.Equal(t, before, listDir(t, dir), "files created")
		})
	}
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// On start the console says which database and data directory it uses and
// how many tenants are active; with none, why, and where approvals come
// from.
func TestStartSaysWhatItUses(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "superoffice.db")
	st, err := store.Open(ctx, db, store.GenerateSealKey())
	require.NoError(t, err)
	defer st.Close()
	cfg := &config.Config{Local: true, DatabaseURL: db, DataDir: dir}
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, nil))

	require.NoError(t, describeStart(ctx, log, cfg, st, false))
	out := logs.String()
	assert.Contains(t, out, "database="+db)
	assert.Contains(t, out, "data="+dir)
	assert.Contains(t, out, "active_tenants=0")
	assert.Contains(t, out, "no tenant has approved the app yet")
	assert.Contains(t, out, "./data under the directory it is started from")

	require.NoError(t, st.UpsertTenant(ctx, store.Approval{ContextIdentifier: "Cust1", SystemUserToken: "t"}))
	logs.Reset()
	require.NoError(t, describeStart(ctx, log, cfg, st, false))
	assert.Contains(t, logs.String(), "active_tenants=1")
	assert.NotContains(t, logs.String(), "nothing to do")
}

// Between cycles the console says when the next run is due, once per
// change rather than at every poll.
func TestNextDueShownOncePerChange(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 3, 14, 9, 26, 0, 0, time.UTC)
	st, err := store.OpenConfig(ctx, store.Config{DSN: filepath.Join(t.TempDir(), "app.db"), SealKey: store.GenerateSealKey(),
		Now: func() time.Time { return now }})
	require.NoError(t, err)
	defer st.Close()
	var logs strings.Builder
	n := &nextDue{log: slog.New(slog.NewTextHandler(&logs, nil)), st: st, poll: 10 * time.Second, now: func() time.Time { return now }}

	n.report(ctx)
	n.report(ctx)
	assert.Equal(t, 1, strings.Count(logs.String(), "no active tenant"), logs.String())

	require.NoError(t, st.UpsertTenant(ctx, store.Approval{ContextIdentifier: "Cust1", SystemUserToken: "t"}))
	cs, err := st.ClaimDue(ctx, "me", now, time.Minute, 1)
	require.NoError(t, err)
	require.Len(t, cs, 1)
	require.NoError(t, st.Complete(ctx, cs[0], store.Result{NextRun: now.Add(time.Hour), Summary: "ok"}))
	n.report(ctx)
	n.report(ctx)
	assert.Equal(t, 1, strings.Count(logs.String(), "next run due"), logs.String())
	assert.Contains(t, logs.String(), "in=1h0m0s")
}

// -v logs one line per tenant with its stored result, and not the
// requests (-debug adds those).
func TestVerboseShowsEachTenantsOutcome(t *testing.T) {
	var stdout, stderr strings.Builder
	err := run(context.Background(), []string{"-demo", "2", "-once", "-v", "-progress", "none"},
		func(string) string { return "" }, &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	logs := stderr.String()
	assert.Equal(t, 2, strings.Count(logs, `msg="tenant done"`), logs)
	assert.Equal(t, 2, strings.Count(logs, `result="created company SuperId-`), logs)
	assert.Contains(t, logs, "active_tenants=2")
	assert.NotContains(t, logs, "performing request", "-v logs the requests")
	// The meter's totals after the cycle, numbers only (the pattern runs
	// to the line's end: no tenant, URL or secret): two tenants, one
	// exchange and one state lookup each.
	calls := regexp.MustCompile(`msg="calls so far" calls=(\d+) retries=0 rate_limited=0 exchanges=2 state_lookups=2\n`).FindStringSubmatch(logs)
	require.NotNil(t, calls, logs)
	n, err := strconv.Atoi(calls[1])
	require.NoError(t, err)
	assert.GreaterOrEqual(t, n, 2, "each tenant's job calls its API")
	assert.Contains(t, stdout.String(), "ok 2, failed 0")
}
