package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/examples/internal/config"
	"github.com/go-superoffice/superoffice/examples/internal/store"
)

// SIGTERM mid-cycle: the binary stops claiming, finishes or releases its
// tenants, exits 0, and leaves no tenant claimed.
func TestSIGTERMMidCycleLeavesNothingClaimed(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "console")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "build:\n%s", out)
	db := filepath.Join(dir, "demo.db")
	const n = 600
	// -v: a line per tenant done, the signal that the cycle is under way.
	cmd := exec.Command(bin, "-demo", "600", "-once", "-workers", "2", "-progress", "log", "-v")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+db, "SUPEROFFICE_ENV=", "SUPEROFFICE_CLIENT_ID=")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	var logs strings.Builder
	var mu sync.Mutex
	running := make(chan struct{})
	var readDone sync.WaitGroup
	readDone.Go(func() {
		sc := bufio.NewScanner(stderr)
		once := sync.Once{}
		for sc.Scan() {
			mu.Lock()
			logs.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if strings.Contains(sc.Text(), "tenant done") {
				once.Do(func() { close(running) })
			}
		}
	})
	select {
	case <-running:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		require.FailNow(t, "no tenant was done within a minute")
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	errc := make(chan error, 1)
	go func() { readDone.Wait(); errc <- cmd.Wait() }()
	select {
	case err := <-errc:
		require.NoError(t, err, "exit:\n%s", logs.String())
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		require.FailNow(t, "no exit after SIGTERM")
	}
	t.Logf("stdout:\n%s", stdout.String())
	assert.Contains(t, logs.String(), "stopped by signal", "no shutdown line")
	assert.Contains(t, stdout.String(), "cycle:", "no summary")

	// The demo's seal key died with it, and the store opens a database only with the
	// key it was written with: count with plain SQL.
	sdb, err := sql.Open("sqlite", db)
	require.NoError(t, err)
	defer sdb.Close()
	now := time.Now().UnixMicro()
	var total, leased, ok, due int
	require.NoError(t, sdb.QueryRow(`SELECT COUNT(*),
		COALESCE(SUM(CASE WHEN lease_until > $1 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'active' AND last_outcome = 'ok' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'active' AND next_run <= $1 AND lease_until <= $1 THEN 1 ELSE 0 END), 0)
		FROM tenants`, now).Scan(&total, &leased, &ok, &due))
	assert.Equal(t, n, total, "tenants")
	assert.Zero(t, leased, "tenants still leased")
	assert.Positive(t, ok, "tenants done")
	assert.Less(t, ok, n, "tenants done: the signal came after the cycle")
	assert.Equal(t, n, ok+due, "done and due again")
}

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		ok   bool
	}{
		{nil, true},
		{[]string{"-once", "-workers", "3", "-demo", "5"}, true},
		{[]string{"-v", "-debug"}, true},
		{[]string{"-workers", "0"}, false},
		{[]string{"-job-timeout", "10m", "-lease", "5m"}, false},
		{[]string{"-progress", "fancy"}, false},
		{[]string{"-bound"}, false},
		{[]string{"extra"}, false},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			o, err := parseFlags(tc.args, &bytes.Buffer{})
			if !tc.ok {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			if len(tc.args) > 0 && tc.args[0] == "-once" {
				assert.Equal(t, 1, o.cycles, "-once")
			}
		})
	}
}

// localData makes dir what the web app leaves in its data directory in
// local mode (the app registration, the partner key, the seal key), the
// way the web app makes it, and returns dir.
func localData(t *testing.T, dir string) string {
	t.Helper()
	_, err := config.Load(func(string) string { return "" }, dir)
	require.NoError(t, err)
	return dir
}

// A database another seal key wrote (another -data directory, a lost
// seal.key) stops the console at start-up with one line naming the key's
// source, before the emulator is even looked for; it does not deactivate
// every tenant whose token would not open.
func TestRunRefusesAnotherSealKey(t *testing.T) {
	db := filepath.Join(t.TempDir(), "other.db")
	st, err := store.Open(context.Background(), db, store.GenerateSealKey())
	require.NoError(t, err)
	st.Close()
	dataDir := localData(t, t.TempDir())
	getenv := func(k string) string {
		if k == "DATABASE_URL" {
			return db
		}
		return ""
	}
	err = run(context.Background(), []string{"-once", "-data", dataDir}, getenv, io.Discard, io.Discard)
	require.ErrorIs(t, err, store.ErrSealKeyMismatch)
	msg := err.Error()
	assert.NotContains(t, msg, "\n", "one line")
	assert.Contains(t, msg, filepath.Join(dataDir, "seal.key"))
	assert.Contains(t, msg, "SUPEROFFICE_SEAL_KEY")
}
