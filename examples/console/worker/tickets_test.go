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
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			ok += st.OK
			mu.Unlock()
		})
	}
	wg.Wait()
	return ok
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
	if ok := cycleAll(t, instances()); ok != n {
		t.Fatalf("first cycle: %d runs, want %d", ok, n)
	}
	if x := sc.srv.Count(superidtest.EndpointSystemUser); x != n {
		t.Fatalf("first cycle: %d exchanges, want %d", x, n)
	}
	first := make([]*store.Ticket, n)
	for i := range n {
		tn := sc.tenant(t, i)
		if tn.Ticket == nil || !tn.TicketIssuedAt.Equal(sc.clock.Now()) {
			t.Fatalf("%s: no ticket stored: %+v", tn.ContextIdentifier, tn.TenantSummary)
		}
		first[i] = tn.Ticket
	}

	sc.clock.Advance(time.Hour)
	if ok := cycleAll(t, instances()); ok != n {
		t.Fatalf("second cycle: %d runs, want %d", ok, n)
	}
	if x := sc.srv.Count(superidtest.EndpointSystemUser); x != n {
		t.Fatalf("second cycle made %d exchanges, want none", x-n)
	}
	for i := range n {
		id := demo.ContextID(i)
		tn := sc.tenant(t, i)
		switch {
		case len(sc.srv.Contacts(id)) != 2:
			t.Fatalf("%s: %d companies after two cycles", id, len(sc.srv.Contacts(id)))
		case tn.Ticket == nil || tn.Ticket.Value != first[i].Value:
			t.Fatalf("%s: the stored ticket changed", id)
		case !tn.TicketUsedAt.Equal(sc.clock.Now()) || !tn.TicketIssuedAt.Equal(first[i].IssuedAt):
			t.Fatalf("%s: last use %s, issued %s: the second run's use was not recorded", id, tn.TicketUsedAt, tn.TicketIssuedAt)
		case sc.srv.LiveTickets(id) != 1:
			t.Fatalf("%s: %d live tickets at SuperOffice", id, sc.srv.LiveTickets(id))
		}
	}
}

// A ticket idle for longer than the reuse window (six hours less five
// minutes) is not handed out again: the run exchanges for a new one and
// stores it in place of the old.
func TestIdleTicketIsReplaced(t *testing.T) {
	sc := setup(t, sqliteDB(t), 3, setupOpts{})
	w := sc.newWorker(t, nil, nil)
	if st, err := w.Cycle(context.Background()); err != nil || st.OK != 3 {
		t.Fatalf("%+v, %v", st, err)
	}
	old := sc.tenant(t, 0).Ticket
	sc.clock.Advance(6*time.Hour - 5*time.Minute)
	if st, err := w.Cycle(context.Background()); err != nil || st.OK != 3 {
		t.Fatalf("%+v, %v", st, err)
	}
	for i := range 3 {
		if x := sc.srv.Exchanges(demo.ContextID(i)); x != 2 {
			t.Fatalf("%s: %d exchanges, want 2", demo.ContextID(i), x)
		}
	}
	tn := sc.tenant(t, 0)
	if tn.Ticket == nil || tn.Ticket.Value == old.Value || !tn.TicketIssuedAt.Equal(sc.clock.Now()) {
		t.Fatalf("the idle ticket was kept: %+v", tn.TenantSummary)
	}
}

// A ticket SuperOffice refuses (401) is replaced, and the replacement is
// what the store keeps, for every instance.
func TestRefusedTicketIsReplacedInTheStore(t *testing.T) {
	sc := setup(t, sqliteDB(t), 3, setupOpts{})
	w := sc.newWorker(t, nil, nil)
	if st, err := w.Cycle(context.Background()); err != nil || st.OK != 3 {
		t.Fatalf("%+v, %v", st, err)
	}
	old := sc.tenant(t, 1).Ticket
	sc.srv.ExpireTickets(demo.ContextID(1))
	sc.clock.Advance(time.Hour)
	if st, err := sc.newWorker(t, nil, nil).Cycle(context.Background()); err != nil || st.OK != 3 {
		t.Fatalf("%+v, %v", st, err)
	}
	tn := sc.tenant(t, 1)
	if sc.srv.Exchanges(demo.ContextID(1)) != 2 || tn.Ticket == nil || tn.Ticket.Value == old.Value || sc.srv.LiveTickets(demo.ContextID(1)) != 1 {
		t.Fatalf("after the 401: %d exchanges, stored %+v", sc.srv.Exchanges(demo.ContextID(1)), tn.TenantSummary)
	}
	// And the next run, anywhere, uses it.
	sc.clock.Advance(time.Hour)
	if st, err := sc.newWorker(t, nil, nil).Cycle(context.Background()); err != nil || st.OK != 3 {
		t.Fatalf("%+v, %v", st, err)
	}
	if x := sc.srv.Count(superidtest.EndpointSystemUser); x != 4 {
		t.Fatalf("%d exchanges in all, want 4", x)
	}
}

// A re-approval (a new system user token) drops the stored ticket: the
// next run exchanges the new token; a withdrawn approval deactivates the
// tenant and drops its ticket.
func TestReapprovalDropsTheStoredTicket(t *testing.T) {
	eachDB(t, func(t *testing.T, db *database) {
		sc := setup(t, db, 3, setupOpts{})
		ctx := context.Background()
		w := sc.newWorker(t, nil, nil)
		if st, err := w.Cycle(ctx); err != nil || st.OK != 3 {
			t.Fatalf("%+v, %v", st, err)
		}

		// Tenant 0 approves the app again and gets a new token.
		id := demo.ContextID(0)
		sc.srv.RevokeApproval(id, sc.app.ClientID)
		tok, err := sc.srv.Approve(id, sc.app.ClientID)
		must(t, err)
		must(t, sc.st.UpsertTenant(ctx, store.Approval{ContextIdentifier: id, SystemUserToken: tok}))
		if tn := sc.tenant(t, 0); tn.Ticket != nil {
			t.Fatal("the re-approval kept the ticket")
		}
		// Tenant 1 withdraws its approval.
		sc.srv.RevokeApproval(demo.ContextID(1), sc.app.ClientID)

		sc.clock.Advance(time.Hour)
		st, err := w.Cycle(ctx)
		if err != nil || st.OK != 2 || st.Deactivated != 1 {
			t.Fatalf("%+v, %v", st, err)
		}
		if x := sc.srv.Exchanges(id); x != 2 {
			t.Fatalf("re-approved tenant: %d exchanges, want 2", x)
		}
		if x := sc.srv.Exchanges(demo.ContextID(2)); x != 1 {
			t.Fatalf("untouched tenant: %d exchanges, want 1", x)
		}
		if tn := sc.tenant(t, 0); tn.Ticket == nil || tn.SystemUserToken != tok {
			t.Fatalf("re-approved tenant: %+v", tn.TenantSummary)
		}
		// Tenant 1's stored ticket was refused (401), so its run exchanged,
		// SuperID refused the old token and the tenant was deactivated.
		if tn := sc.tenant(t, 1); tn.Status != store.StatusInactive || tn.Ticket != nil || !tn.TicketUsedAt.IsZero() {
			t.Fatalf("withdrawn tenant: %+v", tn.TenantSummary)
		}
	})
}
