package worker_test

import (
	"context"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
		require.NoError(t, err)
		assert.Equal(t, []int64{n, n, n, n}, []int64{st.OK, st.Done(), st.Claimed, st.Due}, "cycle 1 ok, done, claimed, due: %+v", st)
		name := "SuperId-" + strconv.FormatInt(start.Unix(), 10)
		for i := range n {
			id := demo.ContextID(i)
			cs := sc.srv.Contacts(id)
			if assert.Len(t, cs, 1, id) {
				assert.Equal(t, name, cs[0].Name, id)
			}
			assert.Equal(t, 1, sc.srv.Exchanges(id), "%s: exchanges", id)
		}
		tn := sc.tenant(t, 7)
		assert.Equal(t, store.OutcomeOK, tn.LastOutcome)
		assert.True(t, tn.LastSync.Equal(start), "last sync %s", tn.LastSync)
		assert.True(t, tn.NextRun.Equal(start.Add(time.Hour)), "next run %s", tn.NextRun)
		assert.Equal(t, "created company "+name+" (id 1)", tn.LastResult)
		assert.Empty(t, tn.LeaseOwner)
		assert.Equal(t, n, sc.srv.Count(superidtest.EndpointSystemUser), "exchange requests")

		// Nothing is due until the interval has passed.
		st, err = w.Cycle(ctx)
		require.NoError(t, err)
		assert.Zero(t, st.Claimed, "early cycle")
		sc.clock.Advance(time.Hour)
		st, err = w.Cycle(ctx)
		require.NoError(t, err)
		assert.Equal(t, int64(n), st.OK, "cycle 2")
		assert.Equal(t, n, sc.srv.Count(superidtest.EndpointSystemUser), "cycle 2 exchanged")
		for i := range n {
			assert.Len(t, sc.srv.Contacts(demo.ContextID(i)), 2, "%s: companies after two cycles", demo.ContextID(i))
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
			assert.NoError(t, err)
			stats[i] = st
		})
	}
	wg.Wait()
	var ok int64
	for i, st := range stats {
		t.Logf("instance %d: %d ok", i, st.OK)
		assert.Positive(t, st.OK, "instance %d did nothing", i)
		ok += st.OK
	}
	require.Equal(t, int64(n), ok, "runs in all")
	for i := range n {
		id := demo.ContextID(i)
		assert.Len(t, sc.srv.Contacts(id), 1, "%s: companies", id)
		assert.Equal(t, 1, sc.srv.Exchanges(id), "%s: exchanges", id)
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
			assert.NoError(t, err)
			aDone <- st
		}()
		started.Wait() // a holds two tenants in its jobs and more in its queue

		sc.clock.Advance(3 * time.Minute) // a's leases run out
		st, err := b.Cycle(ctx)
		require.NoError(t, err)
		require.Equal(t, int64(n), st.OK, "b ran: %+v", st)
		close(unblock)
		ast := <-aDone
		assert.Zero(t, ast.OK, "a recorded: %+v", ast)
		assert.Positive(t, ast.Lost, "a lost: %+v", ast)
		assert.Equal(t, ast.Claimed, ast.Lost, "a: every claim lost to b: %+v", ast)
		for i := range n {
			tn := sc.tenant(t, i)
			assert.Equal(t, store.OutcomeOK, tn.LastOutcome, tn.ContextIdentifier)
			assert.NotEqual(t, "late", tn.LastResult, tn.ContextIdentifier)
			assert.Empty(t, tn.LeaseOwner, tn.ContextIdentifier)
			assert.Len(t, sc.srv.Contacts(tn.ContextIdentifier), 1, tn.ContextIdentifier)
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
	st, err := w.Cycle(context.Background())
	require.NoError(t, err)
	require.Equal(t, int64(2), st.OK)
	for id, l := range left {
		assert.Greater(t, l, worker.MinLease(jobTimeout), "%s ran with less of its lease left than a run may take", id)
	}
}

// A shutdown mid-cycle lets runs in flight finish, releases the claimed
// tenants that had not started, and leaves no tenant claimed.
func TestShutdownLeavesNothingClaimed(t *testing.T) {
	eachDB(t, func(t *testing.T, db *database) {
		const n = 300
		sc := setup(t, db, n, setupOpts{})
		sc.srv.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Delay: 20 * time.Millisecond})
		// The signal: the 20th run has done its job.
		var jobs atomic.Int32
		twenty := make(chan struct{})
		w := sc.newWorker(t, nil, func(c *worker.Config) {
			c.Workers, c.Batch = 4, 50
			c.Job = worker.JobFunc(func(ctx context.Context, tn *worker.Tenant) (string, error) {
				s, err := worker.CreateCompany{}.Run(ctx, tn)
				if jobs.Add(1) == 20 {
					close(twenty)
				}
				return s, err
			})
		})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan worker.Stats)
		go func() {
			st, err := w.Cycle(ctx)
			assert.NoError(t, err)
			done <- st
		}()
		<-twenty
		cancel()
		st := <-done
		assert.Positive(t, st.OK, "done: %+v", st)
		assert.Less(t, st.OK, int64(n), "done: %+v", st)
		assert.Positive(t, st.Released, "released: %+v", st)
		assert.Equal(t, st.Claimed, st.Done()+st.Released, "the claimed are done or released: %+v", st)
		c, err := sc.st.Counts(context.Background(), sc.clock.Now())
		require.NoError(t, err)
		assert.Zero(t, c.Leased, "leased after shutdown")
		assert.Equal(t, int(st.OK), c.OK, "recorded ok")
		assert.Equal(t, n-int(st.OK), c.Due, "due again")
		// Every run that started was finished, not cut: one company each.
		companies := 0
		for i := range n {
			companies += len(sc.srv.Contacts(demo.ContextID(i)))
		}
		assert.Equal(t, int(st.OK), companies, "companies for the recorded runs")
	})
}

// A JobTimeout so long that MinLease overflows is refused like any other
// that outlasts the lease, not taken for one that fits in every lease.
func TestNewRefusesAJobTimeoutBeyondTheLease(t *testing.T) {
	sc := setup(t, sqliteDB(t), 0, setupOpts{})
	for _, jt := range []time.Duration{math.MaxInt64 - time.Second, 10 * time.Minute} {
		cfg := sc.workerConfig(t, nil)
		cfg.JobTimeout = jt // the Lease is the default 5 minutes
		_, err := worker.New(cfg)
		assert.ErrorContains(t, err, "must be longer than JobTimeout", "JobTimeout %s", jt)
	}
}
