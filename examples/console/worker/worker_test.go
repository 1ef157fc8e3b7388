package worker_test

import (
	"context"
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-superoffice/superoffice/examples/console/demo"
	"github.com/go-superoffice/superoffice/examples/console/worker"
	"github.com/go-superoffice/superoffice/examples/internal/store"
	"github.com/go-superoffice/superoffice/superid/superidtest"
)

// One cycle over 1,000 tenants creates exactly one company in each with
// exactly one exchange each; the next cycle uses the cached tickets.
func TestCycleOneCompanyAndOneExchangePerTenant(t *testing.T) {
	eachDB(t, func(t *testing.T, db *database) {
		const n = 1000
		sc := setup(t, db, n, setupOpts{})
		w := sc.newWorker(t, nil, func(c *worker.Config) { c.Workers = 8 })
		ctx := context.Background()
		start := sc.clock.Now()

		st, err := w.Cycle(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.OK != n || st.Done() != n || st.Claimed != n || st.Due != n {
			t.Fatalf("cycle 1: %+v", st)
		}
		name := "SuperId-" + strconv.FormatInt(start.Unix(), 10)
		for i := range n {
			id := demo.ContextID(i)
			cs := sc.srv.Contacts(id)
			if len(cs) != 1 || cs[0].Name != name {
				t.Fatalf("%s: companies %+v, want one named %s", id, cs, name)
			}
			if x := sc.srv.Exchanges(id); x != 1 {
				t.Fatalf("%s: %d exchanges, want 1", id, x)
			}
		}
		tn := sc.tenant(t, 7)
		if tn.LastOutcome != store.OutcomeOK || !tn.LastSync.Equal(start) || !tn.NextRun.Equal(start.Add(time.Hour)) ||
			tn.LastResult != "created company "+name+" (id 1)" || tn.LeaseOwner != "" {
			t.Fatalf("stored: %+v", tn.TenantSummary)
		}
		if got := sc.srv.Count(superidtest.EndpointSystemUser); got != n {
			t.Fatalf("%d exchange requests, want %d", got, n)
		}

		// Nothing is due until the interval has passed.
		if st, err := w.Cycle(ctx); err != nil || st.Claimed != 0 {
			t.Fatalf("early cycle: %+v, %v", st, err)
		}
		sc.clock.Advance(time.Hour)
		st, err = w.Cycle(ctx)
		if err != nil || st.OK != n {
			t.Fatalf("cycle 2: %+v, %v", st, err)
		}
		if got := sc.srv.Count(superidtest.EndpointSystemUser); got != n {
			t.Fatalf("cycle 2 exchanged: %d exchange requests in all, want still %d", got, n)
		}
		for i := range n {
			if cs := sc.srv.Contacts(demo.ContextID(i)); len(cs) != 2 {
				t.Fatalf("%s: %d companies after two cycles", demo.ContextID(i), len(cs))
			}
		}
	})
}

// Three instances on one PostgreSQL database run each tenant exactly once.
func TestThreeInstancesShareTheWork(t *testing.T) {
	const n = 1000
	sc := setup(t, postgresDB(t), n, setupOpts{})
	var ws []*worker.Worker
	for range 3 {
		ws = append(ws, sc.newWorker(t, nil, func(c *worker.Config) { c.Workers = 4; c.Batch = 8 }))
	}
	stats := make([]worker.Stats, 3)
	var wg sync.WaitGroup
	for i, w := range ws {
		wg.Go(func() {
			st, err := w.Cycle(context.Background())
			if err != nil {
				t.Error(err)
			}
			stats[i] = st
		})
	}
	wg.Wait()
	var ok int64
	for i, st := range stats {
		t.Logf("instance %d: %d ok", i, st.OK)
		if st.OK == 0 {
			t.Errorf("instance %d did nothing", i)
		}
		ok += st.OK
	}
	if ok != n {
		t.Fatalf("%d runs in all, want %d", ok, n)
	}
	for i := range n {
		id := demo.ContextID(i)
		if cs := sc.srv.Contacts(id); len(cs) != 1 {
			t.Fatalf("%s: %d companies, want 1", id, len(cs))
		}
		if x := sc.srv.Exchanges(id); x != 1 {
			t.Fatalf("%s: %d exchanges, want 1", id, x)
		}
	}
}

// An instance that stalls (or dies) mid-cycle holding claims loses
// nothing: once its leases run out another instance takes the tenants
// over, and the stalled one's late writes are refused by the fencing token.
func TestStalledInstanceIsTakenOver(t *testing.T) {
	eachDB(t, func(t *testing.T, db *database) {
		const n = 60
		sc := setup(t, db, n, setupOpts{})
		ctx := context.Background()

		var started sync.WaitGroup
		started.Add(2)
		unblock := make(chan struct{})
		stalled := worker.JobFunc(func(ctx context.Context, tn *worker.Tenant) (string, error) {
			started.Done()
			<-unblock // the process hangs here (or was killed)
			return "late", nil
		})
		a := sc.newWorker(t, nil, func(c *worker.Config) {
			c.Job, c.Workers, c.Batch, c.Lease, c.JobTimeout = stalled, 2, 4, 2*time.Minute, 30*time.Second
		})
		b := sc.newWorker(t, nil, func(c *worker.Config) { c.Lease, c.JobTimeout = 2*time.Minute, 30*time.Second })

		aDone := make(chan worker.Stats)
		go func() {
			st, err := a.Cycle(ctx)
			if err != nil {
				t.Error(err)
			}
			aDone <- st
		}()
		started.Wait() // a holds two tenants in its jobs and more in its queue

		sc.clock.Advance(3 * time.Minute) // a's leases run out
		st, err := b.Cycle(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.OK != n {
			t.Fatalf("b ran %d tenants, want all %d: %+v", st.OK, n, st)
		}
		close(unblock)
		ast := <-aDone
		if ast.OK != 0 || ast.Lost == 0 || ast.Lost != ast.Claimed {
			t.Fatalf("a: %+v; want every claim lost to b, none recorded", ast)
		}
		for i := range n {
			tn := sc.tenant(t, i)
			if tn.LastOutcome != store.OutcomeOK || tn.LastResult == "late" || tn.LeaseOwner != "" || len(sc.srv.Contacts(tn.ContextIdentifier)) != 1 {
				t.Fatalf("%s: %+v", tn.ContextIdentifier, tn.TenantSummary)
			}
		}
	})
}

// A claim that waited in the queue is renewed before its run whenever the
// run could outlast what is left of its lease (MinLease), not only once
// half the lease is gone: otherwise another instance could take the tenant
// over mid-run and create its company a second time.
func TestLeaseRenewedWhenTheRunCouldOutlastIt(t *testing.T) {
	sc := setup(t, sqliteDB(t), 2, setupOpts{})
	const lease, jobTimeout = 3 * time.Minute, 2 * time.Minute
	var mu sync.Mutex
	left := map[string]time.Duration{}
	job := worker.JobFunc(func(ctx context.Context, tn *worker.Tenant) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		row, err := sc.st.Tenant(ctx, tn.ContextIdentifier)
		if err != nil {
			return "", err
		}
		left[tn.ContextIdentifier] = row.LeaseUntil.Sub(sc.clock.Now())
		sc.clock.Advance(20 * time.Second) // the other claim waits in the queue meanwhile
		return "ok", nil
	})
	w := sc.newWorker(t, nil, func(c *worker.Config) {
		c.Job, c.Workers, c.Batch, c.Lease, c.JobTimeout = job, 1, 2, lease, jobTimeout
	})
	if st, err := w.Cycle(context.Background()); err != nil || st.OK != 2 {
		t.Fatalf("cycle: %+v, %v", st, err)
	}
	for id, l := range left {
		if l <= worker.MinLease(jobTimeout) {
			t.Errorf("%s ran with %s of its lease left, less than the %s a run may take", id, l, worker.MinLease(jobTimeout))
		}
	}
}

// A shutdown mid-cycle lets runs in flight finish, releases the claimed
// tenants that had not started, and leaves no tenant claimed.
func TestShutdownLeavesNothingClaimed(t *testing.T) {
	eachDB(t, func(t *testing.T, db *database) {
		const n = 300
		sc := setup(t, db, n, setupOpts{})
		sc.srv.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Delay: 20 * time.Millisecond})
		w := sc.newWorker(t, nil, func(c *worker.Config) { c.Workers, c.Batch = 4, 50 })
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan worker.Stats)
		go func() {
			st, err := w.Cycle(ctx)
			if err != nil {
				t.Error(err)
			}
			done <- st
		}()
		for w.Stats().OK < 20 {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
		st := <-done
		if st.OK == 0 || st.OK >= n || st.Released == 0 || st.Done()+st.Released != st.Claimed {
			t.Fatalf("stats %+v: want some done, the rest of the claimed released", st)
		}
		c, err := sc.st.Counts(context.Background(), sc.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if c.Leased != 0 || c.OK != int(st.OK) || c.Due != n-int(st.OK) {
			t.Fatalf("counts %+v after shutdown with %d done", c, st.OK)
		}
		// Every run that started was finished, not cut: one company each.
		companies := 0
		for i := range n {
			companies += len(sc.srv.Contacts(demo.ContextID(i)))
		}
		if companies != int(st.OK) {
			t.Fatalf("%d companies for %d recorded runs", companies, st.OK)
		}
	})
}

// A JobTimeout so long that MinLease overflows is refused like any other
// that outlasts the lease, not taken for one that fits in every lease.
func TestNewRefusesAJobTimeoutBeyondTheLease(t *testing.T) {
	sc := setup(t, sqliteDB(t), 0, setupOpts{})
	for _, jt := range []time.Duration{math.MaxInt64 - time.Second, 10 * time.Minute} {
		cfg := sc.workerConfig(t, nil)
		cfg.JobTimeout = jt // the Lease is the default 5 minutes
		if _, err := worker.New(cfg); err == nil || !strings.Contains(err.Error(), "must be longer than JobTimeout") {
			t.Errorf("JobTimeout %s: %v", jt, err)
		}
	}
}
