package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/go-superoffice/superoffice/examples/console/worker"
)

// options are the command line flags.
type options struct {
	once       bool
	cycles     int
	interval   time.Duration
	poll       time.Duration
	workers    int
	batch      int
	lease      time.Duration
	jobTimeout time.Duration
	grace      time.Duration
	demo       int
	dataDir    string
	verbose    bool
	debug      bool
	progress   string
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("console", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&o.once, "once", false, "run one cycle over the due tenants, print a summary and exit")
	fs.IntVar(&o.cycles, "cycles", 0, "run this many cycles, then exit (0: until stopped; -once is -cycles 1)")
	fs.DurationVar(&o.interval, "interval", time.Hour, "how often each tenant is run")
	fs.DurationVar(&o.poll, "poll", 10*time.Second, "how often the database is polled for due tenants (new approvals are due at once)")
	fs.IntVar(&o.workers, "workers", 8, "tenants processed at once")
	fs.IntVar(&o.batch, "batch", 0, "tenants claimed per database round trip (0: twice -workers)")
	fs.DurationVar(&o.lease, "lease", 5*time.Minute, "how long a claimed tenant is ours before another instance may take it over")
	fs.DurationVar(&o.jobTimeout, "job-timeout", 2*time.Minute, "the longest one tenant's run may take (-lease must outlast it by 46s)")
	fs.DurationVar(&o.grace, "grace", 30*time.Second, "on SIGINT/SIGTERM, how long runs in flight may finish before they are released")
	fs.IntVar(&o.demo, "demo", 0, "start an emulator with this many demo tenants, approved and stored, and process them (no browser, no ./data)")
	fs.StringVar(&o.dataDir, "data", "data", "local mode's data directory (key, app, seal key, SQLite database)")
	fs.BoolVar(&o.verbose, "v", false, "log one line per tenant with its outcome (the stored result or the error; never a secret)")
	fs.BoolVar(&o.debug, "debug", false, "log at debug level: -v, and one line per request (never a secret)")
	fs.StringVar(&o.progress, "progress", "auto", "progress display: auto (a live line on a terminal, log lines otherwise), line, log or none")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: console [flags]\n\nThe partner service: for every due tenant, check its state, exchange its\nsystem user token for a ticket and run the job (create a company).\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if o.once {
		o.cycles = 1
	}
	switch {
	case o.cycles < 0:
		return nil, fmt.Errorf("-cycles must not be negative")
	case o.demo < 0:
		return nil, fmt.Errorf("-demo must not be negative")
	case o.workers < 1 || o.workers > 1000:
		return nil, fmt.Errorf("-workers must be between 1 and 1000")
	case o.interval <= 0 || o.poll <= 0 || o.lease <= 0 || o.jobTimeout <= 0 || o.grace < 0:
		return nil, fmt.Errorf("-interval, -poll, -lease and -job-timeout must be positive")
	case o.lease <= worker.MinLease(o.jobTimeout):
		return nil, fmt.Errorf("-lease (%s) must be longer than -job-timeout (%s) plus %s for the state check and the write that end a run",
			o.lease, o.jobTimeout, worker.MinLease(0))
	}
	switch o.progress {
	case "auto", "line", "log", "none":
	default:
		return nil, fmt.Errorf("-progress must be auto, line, log or none")
	}
	return o, nil
}
