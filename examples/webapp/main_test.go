package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-superoffice/superoffice/examples/internal/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRunRefusesBadSettings checks that start-up problems are one clear
// line naming the setting, before anything listens.
func TestRunRefusesBadSettings(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	// A database another data directory's seal key wrote: each case has a
	// -data of its own, so a seal.key of its own.
	otherDB := filepath.Join(t.TempDir(), "other.db")
	st, err := store.Open(context.Background(), otherDB, store.GenerateSealKey())
	require.NoError(t, err)
	st.Close()
	for name, tc := range map[string]struct {
		args []string
		env  map[string]string
		want []string
	}{
		"bad log level": {args: []string{"-log-level=loud"}, want: []string{"-log-level"}},
		"unknown flag":  {args: []string{"-nope"}, want: []string{"nope"}},
		"partial SuperOffice settings": {
			env:  map[string]string{"SUPEROFFICE_CLIENT_ID": "abc"},
			want: []string{"SUPEROFFICE_CLIENT_ID set", "SUPEROFFICE_CLIENT_SECRET", "SUPEROFFICE_PRIVATE_KEY_FILE"},
		},
		"missing key file": {
			env: map[string]string{
				"SUPEROFFICE_ENV": "sod", "SUPEROFFICE_CLIENT_ID": "abc", "SUPEROFFICE_CLIENT_SECRET": "s3cret-value",
				"SUPEROFFICE_PRIVATE_KEY_FILE": "/nonexistent/key.xml", "SUPEROFFICE_REDIRECT_URL": "https://app.example.com/callback",
			},
			want: []string{"SUPEROFFICE_PRIVATE_KEY_FILE", "/nonexistent/key.xml"},
		},
		"bad environment": {
			env: map[string]string{
				"SUPEROFFICE_ENV": "nowhere", "SUPEROFFICE_CLIENT_ID": "abc", "SUPEROFFICE_CLIENT_SECRET": "s3cret-value",
				"SUPEROFFICE_PRIVATE_KEY_FILE": "/nonexistent/key.xml", "SUPEROFFICE_REDIRECT_URL": "callback",
			},
			want: []string{"SUPEROFFICE_ENV", "SUPEROFFICE_REDIRECT_URL", "SUPEROFFICE_PRIVATE_KEY_FILE"},
		},
		"local address without a port": {args: []string{"-addr=localhost"}, want: []string{`-addr "localhost"`}},
		"local address on any port":    {args: []string{"-addr=127.0.0.1:0"}, want: []string{`-addr "127.0.0.1:0"`, "fixed port"}},
		"unreachable database": {
			// localhost: pgx tries every address and lists each on a line.
			env:  map[string]string{"DATABASE_URL": "postgres://bob:s3cret-value@localhost:1/db?connect_timeout=5"},
			want: []string{"DATABASE_URL (postgres://bob:xxxxx@localhost:1/db?connect_timeout=5): ", "connection refused"},
		},
		"database written with another seal key": {
			env:  map[string]string{"DATABASE_URL": otherDB},
			want: []string{"DATABASE_URL (" + otherDB + "): ", "another seal key", "seal.key", "SUPEROFFICE_SEAL_KEY"},
		},
		"unreachable database on a Unix socket": {
			// No host in the URL: the password must go all the same.
			env:  map[string]string{"DATABASE_URL": "postgres://bob:s3cret-value@/db?host=/nonexistent-socket-dir&connect_timeout=5"},
			want: []string{"DATABASE_URL (postgres://bob:xxxxx@/db?", "/nonexistent-socket-dir"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			// Every case fails before anything listens: run must return.
			err := run(context.Background(), append(tc.args, "-data", t.TempDir()), env(tc.env), io.Discard, io.Discard)
			require.Error(t, err, "started")
			msg := err.Error()
			assert.False(t, strings.ContainsAny(msg, "\n\r\t"), "error %q is not one line", msg)
			assert.NotContains(t, msg, "s3cret-value", "the error shows the secret")
			for _, w := range tc.want {
				assert.Contains(t, msg, w)
			}
		})
	}
}

// freeAddr returns a loopback address nothing listens on (right now).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// signalWriter closes seen once want was written to it.
type signalWriter struct {
	mu   sync.Mutex
	buf  strings.Builder
	want string
	seen chan struct{}
	once sync.Once
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

// TestRunServesAndShutsDown starts the program in local mode on free
// ports, uses it, and ends it as a signal would: run returns nil and both
// servers are gone.
func TestRunServesAndShutsDown(t *testing.T) {
	appAddr, emuAddr := freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	banner := &signalWriter{want: "Press Ctrl+C", seen: make(chan struct{})}
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", appAddr, "-emulator-addr", emuAddr, "-data", t.TempDir()},
			func(string) string { return "" }, banner, logs)
	}()
	select {
	case <-banner.seen:
	case err := <-done:
		require.FailNow(t, "run returned before serving", "err %v; log:\n%s", err, logs)
	}
	assert.Contains(t, banner.buf.String(), "http://"+emuAddr, "the banner does not name the emulator")

	// The emulator is told to send the browser back to the app's port.
	noFollow := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get("http://" + appAddr + "/login")
	require.NoError(t, err)
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	assert.True(t, strings.HasPrefix(loc, "http://"+emuAddr+"/"), "sign-in goes to %s", loc)
	assert.Contains(t, loc, "redirect_uri="+url.QueryEscape("http://"+appAddr+"/callback"), "sign-in goes to %s", loc)

	client := &http.Client{Timeout: 10 * time.Second}
	for url, want := range map[string]string{
		"http://" + appAddr + "/": "Sign in with SuperOffice",
		"http://" + emuAddr + "/login/.well-known/openid-configuration": "authorization_endpoint",
	} {
		resp, err := client.Get(url)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, resp.StatusCode, "GET %s", url)
		assert.Contains(t, string(body), want, "GET %s", url)
	}

	cancel()
	require.NoError(t, <-done, "run after a graceful shutdown")
	for _, addr := range []string{appAddr, emuAddr} {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if !assert.Error(t, err, "%s still accepts connections", addr) {
			c.Close()
		}
	}
	assert.Contains(t, logs.String(), "shutting down")
}

// TestShutdownStopsTheAppFirst: a request the app is still finishing
// when shutdown begins can call the emulator, because the emulator stops
// only after the app drained.
func TestShutdownStopsTheAppFirst(t *testing.T) {
	emu := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "emulator answered") })}
	emuLn, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go emu.Serve(emuLn)
	defer emu.Close()

	entered, release := make(chan struct{}), make(chan struct{})
	app := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release // shutdown has begun
		resp, err := http.Get("http://" + emuLn.Addr().String() + "/")
		if err != nil {
			io.WriteString(w, "emulator gone: "+err.Error())
			return
		}
		defer resp.Body.Close()
		io.Copy(w, resp.Body)
	})}
	app.RegisterOnShutdown(func() { close(release) })
	appLn, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go app.Serve(appLn)
	defer app.Close()

	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + appLn.Addr().String() + "/")
		if err != nil {
			got <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- string(b)
	}()
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	shutdown(ctx, slog.New(slog.DiscardHandler), []*http.Server{emu, app}) // start order
	assert.Equal(t, "emulator answered", <-got, "the app's request in flight")
}

// TestServersHaveEveryTimeout: without ReadTimeout, WriteTimeout and
// IdleTimeout a client that trickles or idles keeps its connection for
// ever. The write deadline must leave an action its whole time.
func TestServersHaveEveryTimeout(t *testing.T) {
	srv := httpServer(http.NotFoundHandler())
	assert.Positive(t, srv.ReadHeaderTimeout, "ReadHeaderTimeout")
	assert.Positive(t, srv.ReadTimeout, "ReadTimeout")
	assert.Positive(t, srv.IdleTimeout, "IdleTimeout")
	assert.Greater(t, srv.WriteTimeout, DefaultActionTimeout, "the write timeout does not leave an action its time")
}
