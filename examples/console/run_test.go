package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-superoffice/superoffice/examples/internal/config"
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
		if err != nil {
			t.Fatal(err)
		}
		err = checkEmulator(context.Background(), http.DefaultClient, &config.Config{Environment: env})
		if (err == nil) != tc.ok || (err != nil && !strings.Contains(err.Error(), "not as the emulator")) {
			t.Errorf("%s: %v", tc.root, err)
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
		err := run(context.Background(), []string{"-once", "-data", t.TempDir(), "-progress", "none"}, getenv, &stdout, &stderr)
		if err == nil {
			t.Fatalf("%s: no error", dsn)
		}
		for _, out := range []string{err.Error(), stdout.String(), stderr.String()} {
			if strings.Contains(out, "s3c") || strings.Contains(out, "pw9x") {
				t.Errorf("the password is out: %s", out)
			}
		}
		if !strings.Contains(err.Error(), "sslmode is invalid") {
			t.Errorf("the cause is lost: %v", err)
		}
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
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "stopped by signal") {
		t.Errorf("no word of the signal:\n%s", stderr.String())
	}
}
