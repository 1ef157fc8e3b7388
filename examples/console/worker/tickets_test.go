package worker_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/go-superoffice/superoffice/examples/console/demo"
	"github.com/go-superoffice/superoffice/examples/console/worker"
	"github.com/go-superoffice/superoffice/examples/internal/store"
	"github.com/go-superoffice/superoffice/superid/superidtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cycleAll runs one cycle on every worker at once and returns the runs
// that succeeded in all.
func cycleAll(t *testing.T, ws []*worker.Worker) int64 {
	t.Helper()
	var mu sync.Mutex
	var ok int64
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Go(func() {
			st, err := w.Cycle(context.Background())
			assert.NoError(t, err, "cycle") // not require: this is not the test's goroutine
			mu.Lock()
			ok += st.OK
			mu.Unlock()
		})
	}
	wg.Wait()
	return ok
}

// cycleOK runs one cycle on w and requires that it ends without an error
// and with want successful runs.
func cycleOK(t *testing.T, w *worker.Worker, want int64) worker.Stats {
	t.Helper()
	st, err := w.Cycle(context.Background())
	require.NoError(t, err, "cycle")
	require.Equal(t, want, st.OK, "runs that succeeded: %+v", st)
	return st
}

// Tickets live in the database: three instances share a first cycle, three
// new instances (fresh processes, nothing in memory) run the second one on
// the stored tickets without a single exchange, and SuperOffice sees each
// tenant's one ticket used in both.
func TestTicketsReusedAcrossInstances(t *testing.T) {
	const n = 300
	sc := setup(t, postgresDB(t), n, setupOpts{})
	instances := func() []*worker.Worker {
		var ws []*worker.Worker
		for range 3 {
			ws = append(ws, sc.newWorker(t, nil, func(c *worker.Config) { c.Workers, c.Batch = 4, 8 }))
		}
		return ws
	}
	require.Equal(t, int64(n), cycleAll(t, instances()), "first cycle: runs that succeeded")
	require.Equal(t, n, sc.srv.Count(superidtest.EndpointSystemUser), "first cycle: exchanges")
	first := make([]*store.Ticket, n)
	for i := range n {
		tn := sc.tenant(t, i)
		require.NotNil(t, tn.Ticket, "%s: no ticket stored: %+v", tn.ContextIdentifier, tn.TenantSummary)
		require.True(t, tn.TicketIssuedAt.Equal(sc.clock.Now()),
			"%s: ticket issued %s, want now (%s)", tn.ContextIdentifier, tn.TicketIssuedAt, sc.clock.Now())
		first[i] = tn.Ticket
	}

	sc.clock.Advance(time.Hour)
	require.Equal(t, int64(n), cycleAll(t, instances()), "second cycle: runs that succeeded")
	require.Zero(t, sc.srv.Count(superidtest.EndpointSystemUser)-n, "second cycle: exchanges")
	for i := range n {
		id := demo.ContextID(i)
		tn := sc.tenant(t, i)
		require.Len(t, sc.srv.Contacts(id), 2, "%s: companies after two cycles", id)
		require.NotNil(t, tn.Ticket, "%s: the stored ticket is gone", id)
		require.Equal(t, first[i].Value, tn.Ticket.Value, "%s: the stored ticket changed", id)
		require.True(t, tn.TicketUsedAt.Equal(sc.clock.Now()) && tn.TicketIssuedAt.Equal(first[i].IssuedAt),
			"%s: last use %s, issued %s: the second run's use was not recorded", id, tn.TicketUsedAt, tn.TicketIssuedAt)
		require.Equal(t, 1, sc.srv.LiveTickets(id), "%s: live tickets at SuperOffice", id)
	}
}

// A ticket idle for longer than the reuse window (six hours less five
// minutes) is not handed out again: the run exchanges for a new one and
// stores it in place of the old.
func TestIdleTicketIsReplaced(t *testing.T) {
	sc := setup(t, sqliteDB(t), 3, setupOpts{})
	w := sc.newWorker(t, nil, nil)
	cycleOK(t, w, 3)
	old := sc.tenant(t, 0).Ticket
	require.NotNil(t, old, "no ticket stored after the first cycle")
	sc.clock.Advance(6*time.Hour - 5*time.Minute)
	cycleOK(t, w, 3)
	for i := range 3 {
		assert.Equal(t, 2, sc.srv.Exchanges(demo.ContextID(i)), "%s: exchanges", demo.ContextID(i))
	}
	tn := sc.tenant(t, 0)
	require.NotNil(t, tn.Ticket, "no ticket stored after the second cycle: %+v", tn.TenantSummary)
	assert.NotEqual(t, old.Value, tn.Ticket.Value, "the idle ticket was kept: %+v", tn.TenantSummary)
	assert.True(t, tn.TicketIssuedAt.Equal(sc.clock.Now()),
		"ticket issued %s, want now (%s): %+v", tn.TicketIssuedAt, sc.clock.Now(), tn.TenantSummary)
}

// A ticket SuperOffice refuses (401) is replaced, and the replacement is
// what the store keeps, for every instance.
func TestRefusedTicketIsReplacedInTheStore(t *testing.T) {
	sc := setup(t, sqliteDB(t), 3, setupOpts{})
	id := demo.ContextID(1)
	cycleOK(t, sc.newWorker(t, nil, nil), 3)
	old := sc.tenant(t, 1).Ticket
	require.NotNil(t, old, "no ticket stored after the first cycle")
	sc.srv.ExpireTickets(id)
	sc.clock.Advance(time.Hour)
	cycleOK(t, sc.newWorker(t, nil, nil), 3)
	tn := sc.tenant(t, 1)
	require.Equal(t, 2, sc.srv.Exchanges(id), "after the 401: exchanges")
	require.NotNil(t, tn.Ticket, "after the 401: no ticket stored: %+v", tn.TenantSummary)
	require.NotEqual(t, old.Value, tn.Ticket.Value, "after the 401: the refused ticket was kept: %+v", tn.TenantSummary)
	require.Equal(t, 1, sc.srv.LiveTickets(id), "after the 401: live tickets at SuperOffice")
	// And the next run, anywhere, uses it.
	sc.clock.Advance(time.Hour)
	cycleOK(t, sc.newWorker(t, nil, nil), 3)
	assert.Equal(t, 4, sc.srv.Count(superidtest.EndpointSystemUser), "exchanges in all")
}

// A re-approval (a new system user token) drops the stored ticket: the
// next run exchanges the new token; a withdrawn approval deactivates the
// tenant and drops its ticket.
func TestReapprovalDropsTheStoredTicket(t *testing.T) {
	eachDB(t, func(t *testing.T, db *database) {
		sc := setup(t, db, 3, setupOpts{})
		ctx := context.Background()
		w := sc.newWorker(t, nil, nil)
		cycleOK(t, w, 3)

		// Tenant 0 approves the app again and gets a new token.
		id := demo.ContextID(0)
		sc.srv.RevokeApproval(id, sc.app.ClientID)
		tok, err := sc.srv.Approve(id, sc.app.ClientID)
		must(t, err)
		must(t, sc.st.UpsertTenant(ctx, store.Approval{ContextIdentifier: id, SystemUserToken: tok}))
		require.Nil(t, sc.tenant(t, 0).Ticket, "the re-approval kept the ticket")
		// Tenant 1 withdraws its approval.
		sc.srv.RevokeApproval(demo.ContextID(1), sc.app.ClientID)

		sc.clock.Advance(time.Hour)
		st := cycleOK(t, w, 2)
		assert.Equal(t, int64(1), st.Deactivated, "tenants deactivated: %+v", st)
		assert.Equal(t, 2, sc.srv.Exchanges(id), "re-approved tenant: exchanges")
		assert.Equal(t, 1, sc.srv.Exchanges(demo.ContextID(2)), "untouched tenant: exchanges")
		tn := sc.tenant(t, 0)
		assert.NotNil(t, tn.Ticket, "re-approved tenant: no ticket stored: %+v", tn.TenantSummary)
		assert.True(t, tn.SystemUserToken == tok, "re-approved tenant: the stored token is not the new one")
		// Tenant 1's stored ticket was refused (401), so its run exchanged,
		// SuperID refused the old token and the tenant was deactivated.
		tn = sc.tenant(t, 1)
		assert.Equal(t, store.StatusInactive, tn.Status, "withdrawn tenant: %+v", tn.TenantSummary)
		assert.Nil(t, tn.Ticket, "withdrawn tenant: the ticket was kept: %+v", tn.TenantSummary)
		assert.True(t, tn.TicketUsedAt.IsZero(), "withdrawn tenant: last ticket use %s, want none", tn.TicketUsedAt)
	})
}
