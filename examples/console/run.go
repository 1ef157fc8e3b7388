package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/go-superoffice/superoffice/examples/console/worker"
	"github.com/go-superoffice/superoffice/examples/internal/config"
	"github.com/go-superoffice/superoffice/examples/internal/store"
	"github.com/go-superoffice/superoffice/systemuser"
	"github.com/go-superoffice/superoffice/tenant"
)

// run is the program: flags, configuration, wiring, the cycles, the
// summary. It returns when the cycles are done or ctx ends (a signal), with
// nil in both cases.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) (err error) {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}

	prog := &worker.Progress{Out: stderr}
	if f, ok := stderr.(*os.File); ok && o.progress == "auto" {
		prog.Terminal = worker.IsTerminal(f)
	}
	prog.Terminal = prog.Terminal || o.progress == "line"
	// -v: the worker's line per tenant (debug); -debug: the libraries'
	// line per request too.
	level, libLevel := slog.LevelInfo, slog.LevelInfo
	if o.verbose || o.debug {
		level = slog.LevelDebug
	}
	if o.debug {
		libLevel = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(prog, &slog.HandlerOptions{Level: level}))
	libLog := slog.New(slog.NewTextHandler(prog, &slog.HandlerOptions{Level: libLevel}))
	if o.progress != "none" {
		prog.Logger = log
	}
	defer func() {
		// A signal during start-up (the demo's set-up, the store's open)
		// is no failure either: nothing has been claimed yet.
		if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
			log.Info("console stopped by signal during start-up")
			err = nil
		}
	}()

	var cfg *config.Config
	var cleanup func()
	if o.demo > 0 {
		cfg, cleanup, err = startDemo(ctx, o, getenv, log)
	} else {
		if localMode(getenv) {
			if err := checkLocalData(o.dataDir, getenv); err != nil {
				return err
			}
		}
		cfg, err = config.Load(getenv, o.dataDir)
		cleanup = func() {}
	}
	if err != nil {
		return err
	}
	defer cleanup()
	log.Info("console starting", "config", cfg.String(), "workers", o.workers, "interval", o.interval)

	// The store first: a database written with another seal key is a
	// mistake in this program's settings, whether the emulator runs or not.
	st, err := store.OpenConfig(ctx, store.Config{DSN: cfg.DatabaseURL, SealKey: cfg.SealKey, Logger: libLog,
		MaxOpenConns: o.workers + 4, SQLiteCacheKiB: sqliteCacheKiB})
	if err != nil {
		return cfg.OpenError(err)
	}
	defer st.Close()

	hc := newHTTPClient(o.workers)
	if cfg.Local && o.demo == 0 {
		if err := checkEmulator(ctx, hc, cfg); err != nil {
			return err
		}
	}
	if err := describeStart(ctx, log, cfg, st, o.demo > 0); err != nil {
		return cfg.OpenError(err)
	}

	su, err := systemuser.New(systemuser.Config{
		Environment:  cfg.Environment,
		ClientSecret: cfg.ClientSecret,
		PrivateKey:   cfg.PrivateKey,
		HTTPClient:   hc,
		Logger:       libLog,
	})
	if err != nil {
		return err
	}
	// With -v, one Meter for the resolver and every tenant client, whose
	// totals are logged after each cycle; without, none: it keeps
	// counters for every tenant it has seen, which nobody would read.
	var meter *tenant.Meter
	if o.verbose || o.debug {
		meter = tenant.NewMeter()
	}
	res, err := tenant.NewResolver(tenant.ResolverConfig{Environment: cfg.Environment, HTTPClient: hc, Logger: libLog, Meter: meter})
	if err != nil {
		return err
	}
	w, err := worker.New(worker.Config{
		Store:            st,
		SystemUser:       su,
		Resolver:         res,
		ApplicationToken: cfg.ClientSecret,
		HTTPClient:       hc,
		Workers:          o.workers,
		Batch:            o.batch,
		Lease:            o.lease,
		JobTimeout:       o.jobTimeout,
		Interval:         o.interval,
		Poll:             o.poll,
		Grace:            max(o.grace, time.Millisecond),
		Logger:           log,
		ClientLogger:     libLog,
		Meter:            meter,
	})
	if err != nil {
		return err
	}

	cycle := 0
	due := &nextDue{log: log, st: st, poll: o.poll, now: time.Now}
	var stopProgress func()
	var failed int64 // runs that failed or deactivated their tenant, with -once or -cycles
	after := func(s worker.Stats) {
		stopProgress()
		cycle++
		if o.cycles > 0 {
			failed += s.Failed + s.Deactivated
			fmt.Fprint(stdout, worker.Summary(s))
		} else {
			if s.Claimed > 0 {
				log.Info("cycle done", "cycle", cycle, "ok", s.OK, "failed", s.Failed+s.Deactivated,
					"rescheduled", s.Retried+s.Waiting, "took", s.Elapsed.Round(time.Millisecond))
			}
			due.report(ctx)
		}
		if o.verbose || o.debug {
			logCalls(log, meter)
		}
		stopProgress = watch(o, prog, w)
	}
	stopProgress = watch(o, prog, w)
	err = w.Run(ctx, o.cycles, after)
	stopProgress()
	if ctx.Err() != nil {
		log.Info("console stopped by signal; in-flight tenants finished or released", "owner", w.Owner())
	}
	if err == nil && failed > 0 {
		// Nonzero, so that cron or CI running -once notices; the summary
		// and each tenant's last error say why.
		err = fmt.Errorf("%d tenant runs failed or deactivated their tenant; see the summary above", failed)
	}
	return err
}

// logCalls logs the meter's totals since the start: numbers only, no
// tenant, URL or credential.
func logCalls(log *slog.Logger, m *tenant.Meter) {
	t := m.Total()
	log.Info("calls so far", "calls", t.Calls, "retries", t.Retries, "rate_limited", t.RateLimited,
		"exchanges", t.Exchanges, "state_lookups", t.StateLookups)
}

func watch(o *options, p *worker.Progress, w *worker.Worker) func() {
	if o.progress == "none" {
		return func() {}
	}
	return p.Watch(w.Stats)
}

// sqliteCacheKiB bounds the SQLite connection's page cache. A cycle
// reads and writes each tenant's row once, so a cache holding more of the
// table saves nothing, and one smaller than SQLite's default (2 MiB) keeps
// the process's memory nearly flat as the tenants grow.
var sqliteCacheKiB = 512

// newHTTPClient is the one client for SuperID and the tenants: enough idle
// connections per host for every worker, so that connections are reused
// rather than opened per request. It has no Timeout of its own: every
// call the worker makes is bounded by its ctx (the run's JobTimeout, the
// state check's), and a Client.Timeout would cost a timer per request.
func newHTTPClient(workers int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 4*workers + 16
	t.MaxIdleConnsPerHost = 2*workers + 4
	return &http.Client{Transport: t}
}

// checkEmulator tells a local-mode user what to start when the web app's
// emulator is not there, instead of failing every tenant.
func checkEmulator(ctx context.Context, hc *http.Client, cfg *config.Config) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Environment.DiscoveryURL(), nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		var oe *net.OpError
		if errors.As(err, &oe) || errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("local mode: no emulator at %s: start the web app first (go run ./examples/webapp), "+
				"or run a self-contained demo with -demo 10", config.LocalEmulatorAddr)
		}
		return fmt.Errorf("local mode: emulator at %s: %w", config.LocalEmulatorAddr, err)
	}
	defer resp.Body.Close()
	// Another program on the port answers too: only SuperID's discovery
	// document is the emulator.
	var doc struct {
		Issuer string `json:"issuer"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&doc) != nil || doc.Issuer == "" {
		return fmt.Errorf("local mode: %s answers (HTTP %d), but not as the emulator: is another program on the port? "+
			"Stop it and start the web app (go run ./examples/webapp), or run a self-contained demo with -demo 10",
			config.LocalEmulatorAddr, resp.StatusCode)
	}
	return nil
}
