package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

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
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	db := filepath.Join(dir, "demo.db")
	const n = 600
	cmd := exec.Command(bin, "-demo", "600", "-once", "-workers", "2", "-progress", "log")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+db, "SUPEROFFICE_ENV=", "SUPEROFFICE_CLIENT_ID=")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	var mu sync.Mutex
	ready := make(chan struct{})
	var readDone sync.WaitGroup
	readDone.Go(func() {
		sc := bufio.NewScanner(stderr)
		once := sync.Once{}
		for sc.Scan() {
			mu.Lock()
			logs.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if strings.Contains(sc.Text(), "console starting") {
				once.Do(func() { close(ready) })
			}
		}
	})
	select {
	case <-ready:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the demo did not start")
	}
	time.Sleep(700 * time.Millisecond) // into the cycle
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { readDone.Wait(); errc <- cmd.Wait() }()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, logs.String())
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("no exit after SIGTERM")
	}
	t.Logf("stdout:\n%s", stdout.String())
	if !strings.Contains(logs.String(), "stopped by signal") || !strings.Contains(stdout.String(), "cycle:") {
		t.Fatalf("no shutdown line or summary:\n%s\n%s", logs.String(), stdout.String())
	}

	// The demo's seal key died with it, and the store opens a database only with the
	// key it was written with: count with plain SQL.
	sdb, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	now := time.Now().UnixMicro()
	var total, leased, ok, due int
	if err := sdb.QueryRow(`SELECT COUNT(*),
		COALESCE(SUM(CASE WHEN lease_until > $1 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'active' AND last_outcome = 'ok' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'active' AND next_run <= $1 AND lease_until <= $1 THEN 1 ELSE 0 END), 0)
		FROM tenants`, now).Scan(&total, &leased, &ok, &due); err != nil {
		t.Fatal(err)
	}
	if total != n || leased != 0 || ok == 0 || ok == n || ok+due != n {
		t.Fatalf("counts after SIGTERM: total %d leased %d ok %d due %d", total, leased, ok, due)
	}
}

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		ok   bool
	}{
		{nil, true},
		{[]string{"-once", "-workers", "3", "-demo", "5"}, true},
		{[]string{"-workers", "0"}, false},
		{[]string{"-job-timeout", "10m", "-lease", "5m"}, false},
		{[]string{"-progress", "fancy"}, false},
		{[]string{"extra"}, false},
	} {
		o, err := parseFlags(tc.args, &bytes.Buffer{})
		if (err == nil) != tc.ok {
			t.Errorf("%v: %v", tc.args, err)
		}
		if err == nil && len(tc.args) > 0 && tc.args[0] == "-once" && o.cycles != 1 {
			t.Errorf("-once: cycles %d", o.cycles)
		}
	}
}

// A database another seal key wrote (another -data directory, a lost
// seal.key) stops the console at start-up with one line naming the key's
// source, before the emulator is even looked for; it does not deactivate
// every tenant whose token would not open.
func TestRunRefusesAnotherSealKey(t *testing.T) {
	db := filepath.Join(t.TempDir(), "other.db")
	st, err := store.Open(context.Background(), db, store.GenerateSealKey())
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	dataDir := t.TempDir()
	getenv := func(k string) string {
		if k == "DATABASE_URL" {
			return db
		}
		return ""
	}
	err = run(context.Background(), []string{"-once", "-data", dataDir}, getenv, io.Discard, io.Discard)
	if !errors.Is(err, store.ErrSealKeyMismatch) {
		t.Fatalf("run: %v, want ErrSealKeyMismatch", err)
	}
	msg := err.Error()
	if strings.ContainsAny(msg, "\n\r\t") || !strings.Contains(msg, filepath.Join(dataDir, "seal.key")) || !strings.Contains(msg, "SUPEROFFICE_SEAL_KEY") {
		t.Fatalf("error %q is not one line naming the key's source", msg)
	}
}
