package worker_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/go-superoffice/superoffice/examples/console/demo"
	"github.com/go-superoffice/superoffice/examples/console/worker"
	"github.com/go-superoffice/superoffice/examples/internal/store"
	"github.com/go-superoffice/superoffice/superid/superidtest"
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
		if err != nil || st.OK != n {
			t.Fatalf("%s: %+v, %v", name, st, err)
		}
		if got := sc.srv.Count(superidtest.EndpointTenantState) - before; got != wantLookups {
			t.Fatalf("%s: %d state lookups, want %d", name, got, wantLookups)
		}
		sc.clock.Advance(time.Minute)
	}
	// Due again after a minute: well within the state's ValidUntil (10
	// minutes).
	opts := func(c *worker.Config) { c.Job, c.Interval = job, time.Minute }
	w := sc.newWorker(t, nil, opts)
	cycle(w, "first cycle", n+1) // one lookup per tenant, one after the 421
	cycle(w, "second cycle", 1)  // only the moved tenant's 421
	cycle(sc.newWorker(t, nil, opts), "another instance", 1)
	if cs := sc.srv.Contacts(moved); len(cs) != 3 {
		t.Fatalf("moved tenant: %d companies, want 3", len(cs))
	}
	// A stored state pointing outside the environment never gets a ticket.
	if _, err := sc.st.DB().ExecContext(context.Background(), `UPDATE tenants
		SET state_json = replace(replace(state_json, '127.0.0.1', 'evil.example'), 'localhost', 'evil.example')`); err != nil {
		t.Fatal(err)
	}
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
	if st, err := w.Cycle(ctx); err != nil || st.OK != 1 {
		t.Fatalf("first cycle: %+v, %v", st, err)
	}
	if tn := sc.tenant(t, 0); tn.LastOutcome != store.OutcomeOK {
		t.Fatalf("first cycle stored %+v", tn.TenantSummary)
	}
	must(t, sc.srv.SetTenantState(demo.ContextID(0), "OfflineMaintenance"))
	sc.clock.Advance(time.Minute) // due again, well within the stored state's ValidUntil
	st, err := w.Cycle(ctx)
	if err != nil || st.Waiting != 1 || st.Retried != 0 {
		t.Fatalf("cycle after going offline: %+v, %v; want the tenant waiting", st, err)
	}
	tn := sc.tenant(t, 0)
	if tn.LastOutcome != store.OutcomeWaiting || !strings.Contains(tn.LastError, "OfflineMaintenance") || tn.Attempts != 0 {
		t.Fatalf("stored %+v", tn.TenantSummary)
	}
}

// A ValidUntil decades away (the state API's word, or a bug of its) parks
// the tenant for MaxWait at most: nothing else would bring it back sooner.
func TestFarValidUntilWaitsMaxWait(t *testing.T) {
	sc := setup(t, sqliteDB(t), 1, setupOpts{emulator: []superidtest.Option{
		superidtest.WithTenantStateValidity(100 * 365 * 24 * time.Hour)}})
	must(t, sc.srv.SetTenantState(demo.ContextID(0), "OfflineMaintenance"))
	w := sc.newWorker(t, nil, func(c *worker.Config) { c.MaxWait = 3 * time.Hour })
	if st, err := w.Cycle(context.Background()); err != nil || st.Waiting != 1 {
		t.Fatalf("cycle: %+v, %v; want the tenant waiting", st, err)
	}
	tn := sc.tenant(t, 0)
	if want := sc.clock.Now().Add(3 * time.Hour); !tn.NextRun.Equal(want) {
		t.Errorf("next run %s, want %s (MaxWait from now)", tn.NextRun, want)
	}
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
	if st, err := w.Cycle(ctx); err != nil || st.OK != n {
		t.Fatalf("first cycle: %+v, %v", st, err)
	}
	a, b := demo.ContextID(0), demo.ContextID(1)
	db := sc.st.DB()
	if _, err := db.ExecContext(ctx, `UPDATE tenants SET state_json = replace(state_json, '"ContextIdentifier":"`+a+`"', '"ContextIdentifier":"`+b+`"')
		WHERE context_id = $1`, a); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `UPDATE tenants SET state_json = '', state_until = 0 WHERE context_id = $1`, b); err != nil {
		t.Fatal(err)
	}
	sc.clock.Advance(time.Minute)
	if st, err := w.Cycle(ctx); err != nil || st.OK != n {
		t.Fatalf("cycle after the edit: %+v, %v", st, err)
	}
	for i := range n {
		if cs := sc.srv.Contacts(demo.ContextID(i)); len(cs) != 2 {
			t.Fatalf("%s: %d companies, want 2", demo.ContextID(i), len(cs))
		}
	}
	var js string
	if err := db.QueryRowContext(ctx, `SELECT state_json FROM tenants WHERE context_id = $1`, b).Scan(&js); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(js, `"ContextIdentifier":"`+b+`"`) || !strings.Contains(js, "/"+b+"/api") {
		t.Fatalf("%s's stored state: %s", b, js)
	}
}
