package worker_test

import (
	"context"
	"testing"
	"time"

	"github.com/go-superoffice/superoffice/examples/console/demo"
	"github.com/go-superoffice/superoffice/examples/console/worker"
	"github.com/go-superoffice/superoffice/examples/internal/store"
	"github.com/go-superoffice/superoffice/superid/superidtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A tenant's state travels with its row, not in the process: the first
// run asks the state API, the next runs (by any instance) reuse the stored
// answer until its ValidUntil, a tenant that moves in the middle of a run
// is followed after its 421 (and its new state stored), and a stored state
// altered to point outside the environment is refused and looked up.
func TestStateStoredWithTheTenantAndMovesFollowed(t *testing.T) {
	const n = 5
	db := sqliteDB(t)
	sc := setup(t, db, n, setupOpts{})
	moved := demo.ContextID(2)
	job := worker.JobFunc(func(ctx context.Context, tn *worker.Tenant) (string, error) {
		if tn.ContextIdentifier == moved {
			// SuperOffice moves the tenant after the run looked it up.
			if err := sc.srv.MoveTenant(moved); err != nil {
				return "", err
			}
		}
		return worker.CreateCompany{}.Run(ctx, tn)
	})
	cycle := func(w *worker.Worker, name string, wantLookups int) {
		t.Helper()
		before := sc.srv.Count(superidtest.EndpointTenantState)
		st, err := w.Cycle(context.Background())
		require.NoError(t, err, name)
		require.Equal(t, int64(n), st.OK, "%s: runs that succeeded: %+v", name, st)
		require.Equal(t, wantLookups, sc.srv.Count(superidtest.EndpointTenantState)-before, "%s: state lookups", name)
		sc.clock.Advance(time.Minute)
	}
	// Due again after a minute: well within the state's ValidUntil (10
	// minutes).
	opts := func(c *worker.Config) { c.Job, c.Interval = job, time.Minute }
	w := sc.newWorker(t, nil, opts)
	cycle(w, "first cycle", n+1) // one lookup per tenant, one after the 421
	cycle(w, "second cycle", 1)  // only the moved tenant's 421
	cycle(sc.newWorker(t, nil, opts), "another instance", 1)
	require.Len(t, sc.srv.Contacts(moved), 3, "moved tenant: companies")
	// A stored state pointing outside the environment never gets a ticket.
	_, err := sc.st.DB().ExecContext(context.Background(), `UPDATE tenants
		SET state_json = replace(replace(state_json, '127.0.0.1', 'evil.example'), 'localhost', 'evil.example')`)
	require.NoError(t, err, "altering the stored states")
	cycle(w, "altered states", n+1)

	sc.clock.Advance(10 * time.Minute) // past every ValidUntil
	cycle(w, "after ValidUntil", n+1)
}

// A tenant that goes offline after a run stored its Running state is
// waited for, not retried until the stored state runs out: the 503 makes
// the worker look the state up again.
func TestOfflineAfterStoredStateWaits(t *testing.T) {
	sc := setup(t, sqliteDB(t), 1, setupOpts{})
	w := sc.newWorker(t, nil, func(c *worker.Config) { c.Interval = time.Minute })
	ctx := context.Background()
	st, err := w.Cycle(ctx)
	require.NoError(t, err, "first cycle")
	require.Equal(t, int64(1), st.OK, "first cycle: runs that succeeded: %+v", st)
	tn := sc.tenant(t, 0)
	require.Equal(t, store.OutcomeOK, tn.LastOutcome, "first cycle stored %+v", tn.TenantSummary)
	must(t, sc.srv.SetTenantState(demo.ContextID(0), "OfflineMaintenance"))
	sc.clock.Advance(time.Minute) // due again, well within the stored state's ValidUntil
	st, err = w.Cycle(ctx)
	require.NoError(t, err, "cycle after going offline")
	assert.Equal(t, int64(1), st.Waiting, "cycle after going offline: tenants waiting: %+v", st)
	assert.Zero(t, st.Retried, "cycle after going offline: runs retried: %+v", st)
	tn = sc.tenant(t, 0)
	assert.Equal(t, store.OutcomeWaiting, tn.LastOutcome, "stored %+v", tn.TenantSummary)
	assert.Contains(t, tn.LastError, "OfflineMaintenance", "stored error")
	assert.Zero(t, tn.Attempts, "stored attempts: %+v", tn.TenantSummary)
}

// A ValidUntil decades away (the state API's word, or a bug of its) parks
// the tenant for MaxWait at most: nothing else would bring it back sooner.
func TestFarValidUntilWaitsMaxWait(t *testing.T) {
	sc := setup(t, sqliteDB(t), 1, setupOpts{emulator: []superidtest.Option{
		superidtest.WithTenantStateValidity(100 * 365 * 24 * time.Hour)}})
	must(t, sc.srv.SetTenantState(demo.ContextID(0), "OfflineMaintenance"))
	w := sc.newWorker(t, nil, func(c *worker.Config) { c.MaxWait = 3 * time.Hour })
	st, err := w.Cycle(context.Background())
	require.NoError(t, err, "cycle")
	require.Equal(t, int64(1), st.Waiting, "tenants waiting: %+v", st)
	tn := sc.tenant(t, 0)
	want := sc.clock.Now().Add(3 * time.Hour)
	assert.True(t, tn.NextRun.Equal(want), "next run %s, want %s (MaxWait from now)", tn.NextRun, want)
}

// A row whose stored state was altered to name another tenant (keeping its
// own API URL) neither stands in for that tenant's state nor spreads to
// its row: every tenant runs against its own API.
func TestStoredStateOfAnotherTenantIgnored(t *testing.T) {
	const n = 3
	sc := setup(t, sqliteDB(t), n, setupOpts{})
	// One at a time, in context id order: the altered row runs first.
	w := sc.newWorker(t, nil, func(c *worker.Config) { c.Interval, c.Workers, c.Batch = time.Minute, 1, 1 })
	ctx := context.Background()
	st, err := w.Cycle(ctx)
	require.NoError(t, err, "first cycle")
	require.Equal(t, int64(n), st.OK, "first cycle: runs that succeeded: %+v", st)
	a, b := demo.ContextID(0), demo.ContextID(1)
	db := sc.st.DB()
	_, err = db.ExecContext(ctx, `UPDATE tenants SET state_json = replace(state_json, '"ContextIdentifier":"`+a+`"', '"ContextIdentifier":"`+b+`"')
		WHERE context_id = $1`, a)
	require.NoError(t, err, "pointing %s's stored state at %s", a, b)
	_, err = db.ExecContext(ctx, `UPDATE tenants SET state_json = '', state_until = 0 WHERE context_id = $1`, b)
	require.NoError(t, err, "dropping %s's stored state", b)
	sc.clock.Advance(time.Minute)
	st, err = w.Cycle(ctx)
	require.NoError(t, err, "cycle after the edit")
	require.Equal(t, int64(n), st.OK, "cycle after the edit: runs that succeeded: %+v", st)
	for i := range n {
		assert.Len(t, sc.srv.Contacts(demo.ContextID(i)), 2, "%s: companies", demo.ContextID(i))
	}
	var js string
	require.NoError(t, db.QueryRowContext(ctx, `SELECT state_json FROM tenants WHERE context_id = $1`, b).Scan(&js), "reading %s's stored state", b)
	assert.Contains(t, js, `"ContextIdentifier":"`+b+`"`, "%s's stored state names another tenant", b)
	assert.Contains(t, js, "/"+b+"/api", "%s's stored state points at another API", b)
}

// A tenant that is not running is seen in its state before its ticket: it
// costs a state lookup, and no signature or exchange.
func TestSuspendedTenantCostsNoExchange(t *testing.T) {
	const n = 3
	sc := setup(t, sqliteDB(t), n, setupOpts{requestLog: true})
	suspended := demo.ContextID(1)
	require.NoError(t, sc.srv.SetTenantState(suspended, "Suspended"))

	st, err := sc.newWorker(t, nil, nil).Cycle(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int64(n-1), st.OK)
	assert.Equal(t, int64(1), st.Waiting)
	assert.Equal(t, n-1, sc.srv.Count(superidtest.EndpointSystemUser), "exchanges")
	for _, r := range sc.srv.Requests(superidtest.EndpointSystemUser) {
		assert.NotEqual(t, suspended, r.ContextIdentifier, "the suspended tenant was exchanged")
	}
	assert.Equal(t, store.OutcomeWaiting, sc.tenant(t, 1).LastOutcome)
}
