package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-superoffice/superoffice/examples/internal/store"
	"github.com/go-superoffice/superoffice/systemuser"
	"github.com/go-superoffice/superoffice/tenant"
)

// Config configures a Worker. Store, SystemUser, Resolver and
// ApplicationToken are required; every other zero value is a safe default.
type Config struct {
	// Store holds the tenants and their schedule.
	Store *store.Store
	// SystemUser exchanges system user tokens for tickets. Its TicketSource
	// cache is not used: tickets live in the store, so that every instance
	// reuses them; its ReuseWindow says how long an idle one stays good.
	SystemUser *systemuser.Client
	// Resolver checks each tenant's state and finds its web API (and
	// again after a 421). The state a run ends with is stored with the
	// tenant (Claim.State) and dropped from the Resolver, so that nothing
	// per tenant stays in the process and the next run, by any instance,
	// asks the state API only once the state's life is over.
	Resolver *tenant.Resolver
	// ApplicationToken is the app's client secret, sent as SO-AppToken.
	ApplicationToken string
	// HTTPClient calls the tenants' web services; nil: a client with a 30s
	// timeout.
	HTTPClient *http.Client
	// TenantRetry bounds the tenant client's own retries of GET, PUT and
	// DELETE; zero values pick its defaults.
	TenantRetry tenant.RetryPolicy
	// Job is the work per tenant; nil: CreateCompany.
	Job Job
	// Owner names this process in the leases it takes; empty:
	// store.NewOwner(). It must be unique per process.
	Owner string
	// Workers is how many tenants are processed at once; 0: 8.
	Workers int
	// Batch is how many tenants one claim takes; 0: twice Workers. Small
	// batches share work evenly between instances; large ones make fewer
	// round trips to the database.
	Batch int
	// Lease is how long a claim holds a tenant before another instance may
	// take it over; 0: 5 minutes. It must be longer than MinLease(JobTimeout).
	// A run that starts with less than that left renews the lease first.
	Lease time.Duration
	// JobTimeout bounds one tenant's run (state, exchange, job); 0: 2
	// minutes.
	JobTimeout time.Duration
	// Interval is how often each tenant is run: a tenant run in a cycle
	// that started at t is due again at t+Interval; 0: 1 hour.
	Interval time.Duration
	// Poll is how often Run looks for due tenants between cycles; 0: 10s.
	Poll time.Duration
	// RetryMin and RetryMax bound the backoff after a transient failure
	// (doubling per attempt); 0: 30 seconds and 1 hour.
	RetryMin, RetryMax time.Duration
	// MinWait is the shortest wait for a tenant that is not running, when
	// its ValidUntil is sooner; 0: 1 minute.
	MinWait time.Duration
	// MaxWait is the longest wait for a tenant that is not running, when
	// its ValidUntil is later: it is looked at again then; 0: 1 hour.
	MaxWait time.Duration
	// Grace is how long runs in flight may go on after ctx ends (SIGTERM)
	// before they are cut short and their tenants released; 0: 30s.
	Grace time.Duration
	// Logger receives one line per failed tenant (warn), per deactivated
	// tenant (info) and per tenant at debug, never a secret; nil: silent.
	Logger *slog.Logger
	// Meter counts the tenant clients' calls, retries, 429s and credential
	// exchanges per tenant; give the Resolver the same Meter
	// (ResolverConfig.Meter) to count its state lookups too. Nil counts
	// nothing.
	Meter *tenant.Meter
	// ClientLogger receives the tenant clients' lines (one per request at
	// debug); nil: Logger.
	ClientLogger *slog.Logger
	// Now is the clock for schedules and leases; nil: time.Now.
	Now func() time.Time
}

// Worker runs the job for every due tenant, cycle after cycle. It is safe
// for one goroutine at a time: run one Worker per process, and as many
// processes against one PostgreSQL database as needed.
type Worker struct {
	cfg   Config
	log   *slog.Logger
	cur   atomic.Pointer[counters] // the running (or last) cycle
	hc    *http.Client
	clock func() time.Time
	// clientLog is the tenant clients' logger: ClientLogger, or Logger.
	clientLog *slog.Logger
}

// New validates cfg and returns a worker; it does no I/O.
func New(cfg Config) (*Worker, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("worker: Config.Store is required")
	case cfg.SystemUser == nil:
		return nil, errors.New("worker: Config.SystemUser is required")
	case cfg.Resolver == nil:
		return nil, errors.New("worker: Config.Resolver is required")
	case cfg.ApplicationToken == "":
		return nil, errors.New("worker: Config.ApplicationToken is required")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if cfg.Job == nil {
		cfg.Job = CreateCompany{}
	}
	if cfg.Owner == "" {
		cfg.Owner = store.NewOwner()
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 2 * cfg.Workers
	}
	cfg.Batch = min(cfg.Batch, 1000)
	def(&cfg.Lease, 5*time.Minute)
	def(&cfg.JobTimeout, 2*time.Minute)
	def(&cfg.Interval, time.Hour)
	def(&cfg.Poll, 10*time.Second)
	def(&cfg.RetryMin, 30*time.Second)
	def(&cfg.RetryMax, time.Hour)
	def(&cfg.MinWait, time.Minute)
	def(&cfg.MaxWait, time.Hour)
	cfg.MaxWait = max(cfg.MaxWait, cfg.MinWait)
	def(&cfg.Grace, 30*time.Second)
	if cfg.RetryMax < cfg.RetryMin {
		cfg.RetryMax = cfg.RetryMin
	}
	if m := MinLease(cfg.JobTimeout); m < cfg.JobTimeout || cfg.Lease <= m { // m < JobTimeout: it overflowed
		return nil, fmt.Errorf("worker: Lease (%s) must be longer than JobTimeout (%s) plus %s for the state check and the write that end a run",
			cfg.Lease, cfg.JobTimeout, MinLease(0))
	}
	w := &Worker{cfg: cfg, log: cfg.Logger, hc: cfg.HTTPClient, clock: cfg.Now, clientLog: cfg.ClientLogger}
	if w.clientLog == nil {
		w.clientLog = cfg.Logger
	}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	if w.clock == nil {
		w.clock = time.Now
	}
	w.cur.Store(&counters{})
	return w, nil
}

// Owner is the name this worker's leases carry.
func (w *Worker) Owner() string { return w.cfg.Owner }

// Run runs cycles until ctx ends: a cycle, then every Poll another one for
// the tenants that have come due (new approvals are due at once). On
// ctx's end it stops claiming, lets runs in flight finish (for up to
// Grace), releases the rest and returns nil. Each cycle's stats go to
// after, when not nil.
//
// With cycles > 0 it runs that many and returns the first store error
// (see Cycle). With cycles <= 0 it runs until ctx ends: a cycle the store
// cut short is logged, and the next poll tries again, as a service rides
// out a database that is briefly away.
func (w *Worker) Run(ctx context.Context, cycles int, after func(Stats)) error {
	for i := 0; cycles <= 0 || i < cycles; i++ {
		st, err := w.Cycle(ctx)
		if after != nil {
			after(st)
		}
		if err != nil {
			if cycles > 0 {
				return err
			}
			w.log.LogAttrs(ctx, slog.LevelError, "worker: cycle cut short by the store; trying again at the next poll",
				slog.Duration("poll", w.cfg.Poll), slog.String("err", err.Error()))
		}
		if ctx.Err() != nil || (cycles > 0 && i == cycles-1) {
			return nil
		}
		t := time.NewTimer(w.cfg.Poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
	return nil
}

// Cycle runs the job once for every tenant that is due now, streaming
// them from the store a batch at a time, and returns what happened. A
// tenant that the cycle reschedules is not run again in it. When ctx ends
// the cycle stops claiming, runs in flight get Grace to finish, claimed
// tenants not yet started are released, and Cycle returns the stats with
// a nil error: a shutdown is not a failure. An error means the store
// failed.
func (w *Worker) Cycle(ctx context.Context) (Stats, error) {
	start := w.clock()
	c := &counters{started: start, startedWall: time.Now()}
	if n, err := w.cfg.Store.Counts(ctx, start); err == nil {
		c.due.Store(int64(n.Due))
	}
	w.cur.Store(c)

	// Runs in flight outlive ctx by up to Grace: a shutdown lets them
	// finish instead of throwing away work half done.
	runCtx, cutShort := context.WithCancel(context.WithoutCancel(ctx))
	defer cutShort()
	stopGrace := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(w.cfg.Grace, cutShort)
		context.AfterFunc(runCtx, func() { t.Stop() })
	})
	defer stopGrace()

	queue := make(chan store.Claim, w.cfg.Batch)
	oks := make(chan success, maxSuccessBatch)
	var writer sync.WaitGroup
	writer.Go(func() { w.writeSuccesses(oks, c) })
	var wg sync.WaitGroup
	for range w.cfg.Workers {
		wg.Go(func() {
			for cl := range queue {
				if ctx.Err() != nil {
					// Shutting down: not started, so given back unchanged.
					w.release(cl, c)
					continue
				}
				w.process(runCtx, cl, c, oks)
			}
		})
	}

	var claimErr error
	for ctx.Err() == nil {
		claims, deactivated, err := w.cfg.Store.ClaimDueBy(ctx, w.cfg.Owner, w.clock(), start, w.cfg.Lease, w.cfg.Batch)
		if err != nil {
			if ctx.Err() == nil {
				claimErr = fmt.Errorf("worker: %w", err)
			}
			break
		}
		// Tenants whose stored token does not open were claimed and
		// deactivated in one go: runs of this cycle, ended.
		c.claimed.Add(int64(deactivated))
		c.byOutcome[outcomeDeactivate].Add(int64(deactivated))
		if len(claims) == 0 && deactivated == 0 {
			break
		}
		c.claimed.Add(int64(len(claims)))
		for i, cl := range claims {
			select {
			case queue <- cl:
			case <-ctx.Done():
				for _, rest := range claims[i:] {
					w.release(rest, c)
				}
				claims = nil
			}
			if claims == nil {
				break
			}
		}
	}
	close(queue)
	wg.Wait()
	close(oks)
	writer.Wait()

	if ctx.Err() != nil {
		// A release that failed (the database was briefly away) would
		// leave a tenant leased until its lease ends; try once more for all.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		if n, err := w.cfg.Store.ReleaseOwner(rctx, w.cfg.Owner); err != nil {
			w.log.LogAttrs(rctx, slog.LevelWarn, "worker: release at shutdown failed; the leases will run out", slog.String("err", err.Error()))
		} else if n > 0 {
			c.released.Add(n)
		}
		cancel()
	}
	c.ended.Store(true)
	c.elapsed.Store(int64(time.Since(c.startedWall)))
	return c.snapshot(), claimErr
}

// MinLease is the longest a run may hold its claim, from its start to the
// write that ends it: jobTimeout, then the state check that sorts a
// failure, then that write (and a second for a success's wait to be
// written with others). A lease must outlast it, or another instance
// could take the tenant over and run it again while the run goes on.
func MinLease(jobTimeout time.Duration) time.Duration {
	return jobTimeout + checkTimeout + storeTimeout + time.Second
}

// checkTimeout bounds the state check that sorts a failed run.
const checkTimeout = 30 * time.Second

// storeTimeout bounds a write that records a run's end; it runs even
// during shutdown, so that the run is not lost.
const storeTimeout = 15 * time.Second

func (w *Worker) release(cl store.Claim, c *counters) {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if err := w.cfg.Store.Release(ctx, cl); err != nil && !errors.Is(err, store.ErrLeaseLost) {
		w.log.LogAttrs(ctx, slog.LevelWarn, "worker: release failed", slog.String("context_id", cl.ContextIdentifier), slog.String("err", err.Error()))
		return
	}
	c.released.Add(1)
}

// process runs one claimed tenant: state, ticket, job, and records the end
// with the ticket and state the run leaves behind.
func (w *Worker) process(ctx context.Context, cl store.Claim, c *counters, oks chan<- success) {
	now, wall := w.clock(), time.Now()
	if cl.LeaseUntil.Sub(now) <= MinLease(w.cfg.JobTimeout) {
		// It waited in the queue long enough that the run could outlast
		// the lease: renew before work.
		rctx, cancel := context.WithTimeout(ctx, storeTimeout)
		renewed, err := w.cfg.Store.Renew(rctx, cl, now, w.cfg.Lease)
		cancel()
		if err != nil {
			msg := "worker: lease renewal failed; tenant left to its new owner"
			if errors.Is(err, store.ErrLeaseLost) {
				c.lost.Add(1)
			} else {
				// Still ours, but not run: it is claimable again once the
				// lease runs out.
				c.storeErrs.Add(1)
				msg = "worker: lease renewal failed; the tenant runs when its lease runs out"
			}
			w.log.LogAttrs(ctx, slog.LevelWarn, msg,
				slog.String("context_id", cl.ContextIdentifier), slog.String("err", err.Error()))
			return
		}
		cl = renewed
	}

	w.rememberState(ctx, cl)
	tickets := w.tickets(cl)
	jctx, cancel := context.WithTimeout(ctx, w.cfg.JobTimeout)
	summary, err := w.runTenant(jctx, cl, tickets, now)
	cancel()
	cl.Ticket = tickets.stored()

	v := verdict{outcome: outcomeOK}
	if err != nil {
		if ctx.Err() != nil {
			// Cut short by shutdown: give it back to run again whole.
			v = verdict{outcome: outcomeRelease}
		} else {
			sctx, scancel := context.WithTimeout(ctx, checkTimeout)
			v = w.classify(err, cl.Attempts, w.clock(), func() (*tenant.State, error) {
				w.cfg.Resolver.Forget(cl.ContextIdentifier)
				return w.cfg.Resolver.Resolve(sctx, cl.ContextIdentifier)
			})
			scancel()
		}
	}
	cl.State, cl.StateUntil = w.cfg.Resolver.Cached(cl.ContextIdentifier)
	w.cfg.Resolver.Forget(cl.ContextIdentifier)
	if v.outcome == outcomeOK {
		oks <- success{claim: cl, at: w.clock(), next: c.started.Add(w.cfg.Interval), summary: summary, wall: wall}
		return
	}
	w.record(cl, c, v, summary, wall)
}

// rememberState hands the Resolver the tenant's stored state, so that a
// run within its life makes no state request. A stored state the Resolver
// refuses (altered to point outside the environment, or another tenant's)
// is looked up instead.
func (w *Worker) rememberState(ctx context.Context, cl store.Claim) {
	if cl.State == nil {
		return
	}
	if err := w.cfg.Resolver.Remember(cl.ContextIdentifier, cl.State, cl.StateUntil); err != nil {
		w.log.LogAttrs(ctx, slog.LevelWarn, "worker: stored tenant state refused; looking it up",
			slog.String("context_id", cl.ContextIdentifier), slog.String("err", err.Error()))
	}
}

// runTenant is steps 8 to 10 of the scenario for one tenant.
func (w *Worker) runTenant(ctx context.Context, cl store.Claim, src *runTickets, now time.Time) (string, error) {
	// The tenant state first: a tenant that is not running waits (or,
	// deleted, stops), and needs no ticket, so it costs no signature and
	// no exchange.
	st, stateErr := w.cfg.Resolver.Resolve(ctx, cl.ContextIdentifier)
	if notRunning(stateErr) != nil {
		return "", stateErr
	}
	// Steps 8 and 9: sign, exchange, validate, unless the stored ticket
	// is still good. Also when the state lookup failed: SuperID's refusal
	// of the token (a withdrawn approval) says more than that failure.
	if _, err := src.Ticket(ctx); err != nil {
		return "", err
	}
	if stateErr != nil {
		return "", stateErr
	}
	client, err := tenant.New(tenant.Config{
		Resolver:          w.cfg.Resolver,
		ContextIdentifier: cl.ContextIdentifier,
		Credentials:       tenant.SystemUser(src, w.cfg.ApplicationToken),
		HTTPClient:        w.hc,
		Logger:            w.clientLog,
		Retry:             w.cfg.TenantRetry,
		Meter:             w.cfg.Meter,
	})
	if err != nil {
		return "", err
	}
	// Step 10: the job, through the tenant's web services.
	return w.cfg.Job.Run(ctx, &Tenant{
		ContextIdentifier: cl.ContextIdentifier,
		Serial:            cl.Serial,
		CompanyName:       cl.CompanyName,
		LastSync:          cl.LastSync,
		State:             st,
		Client:            client,
		Started:           now,
		intend: func(ctx context.Context, step, plan string) (store.Intent, error) {
			return w.cfg.Store.RecordIntent(ctx, cl, step, plan)
		},
	})
}

// record writes the run's end to the store, fenced by the claim.
func (w *Worker) record(cl store.Claim, c *counters, v verdict, summary string, wall time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	at := w.clock()
	// Anchored to the cycle's start, so that every tenant of a cycle is
	// due again together, one Interval later.
	next := c.started.Add(w.cfg.Interval)
	var err error
	switch v.outcome {
	case outcomeOK: // written in batches by writeSuccesses; here for completeness
		err = w.cfg.Store.Complete(ctx, cl, store.Result{At: at, NextRun: next, Summary: summary})
	case outcomeFailed:
		err = w.cfg.Store.Complete(ctx, cl, store.Result{At: at, NextRun: next, Err: v.reason})
	case outcomeDeactivate:
		err = w.cfg.Store.Complete(ctx, cl, store.Result{At: at, Deactivate: true, Reason: v.reason, Err: v.reason})
	case outcomeRetry:
		err = w.cfg.Store.Reschedule(ctx, cl, store.Retry{At: at, NextRun: v.until, Err: v.reason})
	case outcomeWait:
		err = w.cfg.Store.Postpone(ctx, cl, v.until, v.reason)
	case outcomeRelease:
		err = w.cfg.Store.Release(ctx, cl)
	}
	attrs := []slog.Attr{slog.String("context_id", cl.ContextIdentifier), slog.String("outcome", v.outcome.String()),
		slog.Duration("took", time.Since(wall).Round(time.Microsecond))}
	if err != nil {
		if errors.Is(err, store.ErrLeaseLost) {
			// Another instance took the tenant over after our lease ran
			// out; its run counts, ours is refused by the fencing token.
			c.lost.Add(1)
			w.log.LogAttrs(ctx, slog.LevelWarn, "worker: lease lost; result discarded, the tenant's new owner runs it", attrs...)
			return
		}
		c.storeErrs.Add(1)
		w.log.LogAttrs(ctx, slog.LevelError, "worker: recording the run failed; the lease will run out and the tenant run again",
			append(attrs, slog.String("err", err.Error()))...)
		return
	}
	c.add(v.outcome)
	switch v.outcome {
	case outcomeOK:
		w.log.LogAttrs(ctx, slog.LevelDebug, "tenant done", append(attrs, slog.String("result", summary))...)
	case outcomeRelease:
		w.log.LogAttrs(ctx, slog.LevelDebug, "tenant released", attrs...)
	case outcomeDeactivate:
		w.log.LogAttrs(ctx, slog.LevelWarn, "tenant deactivated", append(attrs, slog.String("reason", v.reason))...)
	case outcomeRetry, outcomeWait:
		w.log.LogAttrs(ctx, slog.LevelInfo, "tenant rescheduled", append(attrs, slog.String("reason", v.reason),
			slog.Time("next_run", v.until))...)
	default:
		w.log.LogAttrs(ctx, slog.LevelWarn, "tenant failed", append(attrs, slog.String("err", v.reason))...)
	}
}
