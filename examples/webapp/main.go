// Command webapp is the partner web app of SuperOffice's system-user
// scenario (steps 1-6): a tenant administrator signs in with SuperID and
// approves the app, the app stores the tenant's system user token, and the
// home page creates a company as the signed-in user or as the system user.
// The approval also subscribes the tenant's contact.created, .changed and
// .deleted webhook, pointed at the app's own /webhooks/{tenant}, and the
// home page shows the events that arrive.
//
// With no configuration it runs in local mode: it serves an emulator of
// SuperOffice Online on 127.0.0.1:8081, keeps its key, secrets and SQLite
// database in ./data, and serves the app on http://localhost:8080:
//
//	go run ./examples/webapp
//
// In local mode -addr moves the app (the redirect URL follows its port;
// open the app under the host name the banner prints) and -emulator-addr
// the emulator (the console looks for it at the default only).
//
// To use SuperOffice Online set SUPEROFFICE_ENV, SUPEROFFICE_CLIENT_ID,
// SUPEROFFICE_CLIENT_SECRET, SUPEROFFICE_PRIVATE_KEY_FILE and
// SUPEROFFICE_REDIRECT_URL, and optionally DATABASE_URL (a SQLite path or a
// postgres:// URL) and SUPEROFFICE_SEAL_KEY.
//
// SuperOffice POSTs webhook events to the redirect URL's host, which must
// then be reachable from the internet over https; SUPEROFFICE_WEBHOOK_URL
// (an https origin, optionally with a path prefix) names another. Each
// tenant's webhook secret derives from the seal key (see webhooks.go): no
// secret to configure, and none is logged. In local mode the emulator runs
// in this process and delivers to the app's own listener.
//
// SuperOffice POSTs tenant status notifications (a tenant was moved,
// upgraded, restored, suspended, resumed or deleted) to the app's state
// change URL, the redirect URL's origin followed by /superoffice/state
// (https://app.example.com/superoffice/state, say). With SuperOffice Online
// the partner registers that URL as the app's state change URL in the
// developer portal; in local mode the app registers it with the emulator.
// The app verifies each notification's token with SuperID's keys and
// writes the change to the store, where the console's next run for the
// tenant finds it: after a move it asks where the tenant now lives and
// goes straight there, after a suspension or deletion it waits without a
// request.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-superoffice/superoffice/examples/internal/config"
	"github.com/go-superoffice/superoffice/examples/internal/local"
	"github.com/go-superoffice/superoffice/examples/internal/store"
	"github.com/go-superoffice/superoffice/superid"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal starts a graceful shutdown; then the default
	// handling returns, so a second Ctrl+C ends the program at once.
	context.AfterFunc(ctx, stop)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "webapp:", err)
		os.Exit(1)
	}
}

// envWebhookURL names where SuperOffice reaches the app's webhook receiver,
// when not at the redirect URL's host (Options.WebhookURL).
const envWebhookURL = "SUPEROFFICE_WEBHOOK_URL"

// shutdownTimeout bounds the graceful shutdown: requests in flight get
// this long to finish.
const shutdownTimeout = 10 * time.Second

// run serves the app (and in local mode the emulator) until ctx ends, then
// shuts them down gracefully and returns nil. The banner goes to out, the
// log to logOut.
func run(ctx context.Context, args []string, getenv func(string) string, out, logOut io.Writer) error {
	fl := flag.NewFlagSet("webapp", flag.ContinueOnError)
	fl.SetOutput(logOut)
	addr := fl.String("addr", "", "listen address (default localhost:8080 in local mode, :8080 otherwise; it must match the redirect URL)")
	emuAddr := fl.String("emulator-addr", config.LocalEmulatorAddr, "local mode: where the emulator of SuperOffice Online listens (the console looks for it at the default)")
	dataDir := fl.String("data", "data", "directory for the local key, secrets and SQLite database")
	logLevel := fl.String("log-level", "info", "debug, info, warn or error")
	if err := fl.Parse(args); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: level}))

	cfg, err := config.Load(getenv, *dataDir)
	if err != nil {
		return err
	}
	if *addr == "" {
		*addr = ":8080"
		if cfg.Local {
			*addr = config.LocalWebAppAddr
		}
	}
	if cfg.Local {
		// The emulator sends the browser back to the port the app listens
		// on: the redirect URL follows -addr.
		cfg.RedirectURL = config.LocalRedirectURL(*addr)
		if err := checkLocalAddr(*addr, cfg.RedirectURL); err != nil {
			return err
		}
		if *emuAddr != config.LocalEmulatorAddr {
			cfg.Environment = superid.Environment("http://" + *emuAddr)
		}
	}

	st, err := store.OpenConfig(ctx, store.Config{DSN: cfg.DatabaseURL, SealKey: cfg.SealKey, Logger: logger})
	if err != nil {
		return cfg.OpenError(err)
	}
	defer st.Close()

	// Servers in the order they start; the deferred shutdown stops them in
	// reverse, on every return, so that the store closes last.
	var servers []*http.Server
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		shutdown(sctx, logger, servers)
	}()
	if cfg.Local {
		emu, err := startEmulator(ctx, cfg, *emuAddr, st, logger)
		if err != nil {
			return err
		}
		servers = append(servers, emu)
	}

	app, err := NewServer(Options{Config: cfg, Store: st, Logger: logger, AllTenants: cfg.Local,
		WebhookURL: strings.TrimSpace(getenv(envWebhookURL))})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	srv := httpServer(app)
	servers = append(servers, srv)
	go serve(srv, ln, logger)
	go app.CleanSessions(ctx, 15*time.Minute)

	logger.Info("webapp started", "config", cfg.String(), "listen", ln.Addr().String())
	printBanner(out, cfg)

	<-ctx.Done()
	logger.Info("shutting down")
	return nil
}

// checkLocalAddr refuses a listen address the browser could not come back
// to in local mode: without a fixed port, or on another port than the
// redirect URL registered at the emulator.
func checkLocalAddr(addr, redirectURL string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %v", addr, err)
	}
	if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
		return fmt.Errorf("-addr %q: local mode needs a fixed port, which the redirect URL names", addr)
	}
	u, err := url.Parse(redirectURL)
	if err != nil {
		return fmt.Errorf("-addr %q: redirect URL %q: %v", addr, redirectURL, err)
	}
	if u.Port() != port {
		return fmt.Errorf("-addr %q: port %s is not the redirect URL's (%s); the browser would come back to another port", addr, port, redirectURL)
	}
	return nil
}

// shutdown stops servers in the reverse of their start order: the app
// first, so that its requests in flight can still call the emulator while
// they finish. A server that does not drain in time is closed.
func shutdown(ctx context.Context, logger *slog.Logger, servers []*http.Server) {
	for i := len(servers) - 1; i >= 0; i-- {
		if err := servers[i].Shutdown(ctx); err != nil {
			logger.Warn("graceful shutdown failed; closing", "err", err)
			_ = servers[i].Close()
		}
	}
}

// startEmulator serves the local SuperOffice Online at its fixed address,
// with the approvals the store already holds.
func startEmulator(ctx context.Context, cfg *config.Config, addr string, st *store.Store, logger *slog.Logger) (*http.Server, error) {
	em, err := local.NewEmulator(cfg)
	if err != nil {
		return nil, err
	}
	if n, err := local.RestoreApprovals(ctx, em, st, cfg.ClientID); err != nil {
		logger.Warn("some stored approvals were not restored", "restored", n, "err", err)
	} else if n > 0 {
		logger.Info("stored approvals restored in the emulator", "count", n)
	}
	// The emulator tells the app when a tenant moves, is suspended,
	// resumed or deleted, as SuperOffice does at the state change URL.
	if err := em.SetStateChangeURL(cfg.ClientID, stateChangeURL(cfg.RedirectURL), nil); err != nil {
		return nil, fmt.Errorf("start the local emulator: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("start the local emulator: %w (is another webapp running?)", err)
	}
	srv := httpServer(em)
	go serve(srv, ln, logger)
	return srv, nil
}

// stateChangeURL is the app's state change URL: the redirect URL's
// origin followed by statePath.
func stateChangeURL(redirectURL string) string {
	u, err := url.Parse(redirectURL)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host + statePath
}

// httpServer serves h with every timeout set, so that a slow or idle
// client cannot hold a connection and its goroutine for ever. A response
// may take as long as an action's whole deadline, and then some.
func httpServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      DefaultActionTimeout + 30*time.Second,
		IdleTimeout:       2 * time.Minute,
	}
}

func serve(srv *http.Server, ln net.Listener, logger *slog.Logger) {
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Error("server stopped", "addr", ln.Addr().String(), "err", err)
	}
}

func printBanner(out io.Writer, cfg *config.Config) {
	base := cfg.RedirectURL
	if u, err := url.Parse(cfg.RedirectURL); err == nil {
		base = u.Scheme + "://" + u.Host + "/"
	}
	fmt.Fprintf(out, "\nSuperOffice partner web app: open %s\n", base)
	if !cfg.Local {
		return
	}
	fmt.Fprintf(out, "Local mode: SuperOffice Online is emulated at %s, data in %s\n", cfg.Environment, cfg.DataDir)
	fmt.Fprintf(out, "Demo tenant %s (%s), users:\n", local.DemoContextID, local.DemoCompanyName)
	for _, u := range local.DemoUsers {
		role := "user"
		if u.Administrator {
			role = "administrator (approves the app)"
		}
		fmt.Fprintf(out, "  %-22s password %-12s %s\n", u.Username, u.Password, role)
	}
	fmt.Fprintln(out, "Press Ctrl+C to stop.")
}
