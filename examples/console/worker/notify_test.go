package worker_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/examples/console/demo"
	"github.com/go-superoffice/superoffice/examples/console/worker"
	"github.com/go-superoffice/superoffice/examples/internal/store"
	"github.com/go-superoffice/superoffice/superid/superidtest"
	"github.com/go-superoffice/superoffice/tenant"
)

// stateChangeURL serves the web app's state change handler as
// examples/webapp mounts it (tenant.StateChangeHandler, whose OnChange
// writes the change to the store) and returns its URL.
func stateChangeURL(t *testing.T, sc *scenario) string {
	t.Helper()
	h, err := tenant.NewStateChangeHandler(tenant.StateChangeConfig{
		Environment: sc.srv.Environment(),
		HTTPClient:  httpClient(),
		Now:         sc.clock.Now,
		OnChange: func(ctx context.Context, c *tenant.StateChange) error {
			return sc.st.ApplyStateChange(ctx, c, 0)
		},
	})
	require.NoError(t, err)
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	return hs.URL
}

// After a Move notification, stored as the web app stores it
// (store.ApplyStateChange), the moved tenant's next run asks the state API
// first and goes straight to the new host: no request meets a 421 at the
// old one. A tenant moved without a notification still pays that round
// trip, which shows what the notification saves.
func TestMoveNotificationSavesThe421(t *testing.T) {
	const n = 3
	sc := setup(t, sqliteDB(t), n, setupOpts{requestLog: true})
	notified, silent, still := demo.ContextID(0), demo.ContextID(1), demo.ContextID(2)

	stateURL := stateChangeURL(t, sc)

	meter := tenant.NewMeter()
	w := sc.newWorker(t, nil, func(c *worker.Config) { c.Interval, c.Meter = time.Minute, meter })
	cycle := func(name string) {
		t.Helper()
		st, err := w.Cycle(context.Background())
		require.NoError(t, err, name)
		require.Equal(t, int64(n), st.OK, name)
	}
	cycle("first cycle") // stores every tenant's state, valid for 10 minutes
	sc.clock.Advance(time.Minute)

	require.NoError(t, sc.srv.SetStateChangeURL(sc.app.ClientID, stateURL, nil))
	require.NoError(t, sc.srv.MoveTenant(notified))
	ns := sc.srv.Notifications()
	require.Len(t, ns, 1)
	require.Equal(t, http.StatusOK, ns[0].Status, ns[0].Err)
	assert.Equal(t, superidtest.StateChangeMove, ns[0].Change)
	require.NoError(t, sc.srv.SetStateChangeURL(sc.app.ClientID, "", nil))
	require.NoError(t, sc.srv.MoveTenant(silent))

	before := meter.Tenant(notified)
	beforeSilent, beforeStill := meter.Tenant(silent), meter.Tenant(still)
	from := len(sc.srv.Requests(""))
	cycle("after the moves")
	reqs := sc.srv.Requests("")[from:]

	// Each tenant's requests in the cycle, in order: "state" or "api".
	seq := map[string][]string{}
	for _, r := range reqs {
		switch r.Endpoint {
		case superidtest.EndpointTenantState:
			seq[strings.ToLower(r.ContextIdentifier)] = append(seq[strings.ToLower(r.ContextIdentifier)], "state")
		case superidtest.EndpointTenantAPI:
			seq[strings.ToLower(r.ContextIdentifier)] = append(seq[strings.ToLower(r.ContextIdentifier)], "api")
		}
	}
	of := func(id string) []string { return seq[strings.ToLower(id)] }
	apis := func(id string) int {
		k := 0
		for _, s := range of(id) {
			if s == "api" {
				k++
			}
		}
		return k
	}
	require.NotEmpty(t, of(still))
	assert.NotContains(t, of(still), "state", "the unmoved tenant's stored state was not used")

	require.NotEmpty(t, of(notified))
	assert.Equal(t, "state", of(notified)[0], "the notified tenant's run did not ask the state API first: %v", of(notified))
	assert.Equal(t, apis(still), apis(notified), "the notified tenant made an extra API request (a 421): %v", of(notified))
	after := meter.Tenant(notified)
	assert.Zero(t, after.Retries-before.Retries, "the notified tenant's run retried")
	assert.Equal(t, meter.Tenant(still).Calls-beforeStill.Calls, after.Calls-before.Calls,
		"the notified tenant made more calls than an unmoved one")

	// Without the notification the stored state sends the run to the old
	// host first: one more request, answered 421, and a retry.
	assert.Equal(t, apis(still)+1, apis(silent), "the silent move cost no 421: %v", of(silent))
	assert.Equal(t, int64(1), meter.Tenant(silent).Retries-beforeSilent.Retries)
}

// After a Suspend notification the tenant's next run waits without a
// request: no state lookup, no call to its API.
func TestSuspendNotificationWaitsWithoutARequest(t *testing.T) {
	const n = 2
	sc := setup(t, sqliteDB(t), n, setupOpts{requestLog: true})
	suspended := demo.ContextID(0)
	stateURL := stateChangeURL(t, sc)

	w := sc.newWorker(t, nil, func(c *worker.Config) { c.Interval = time.Minute })
	st, err := w.Cycle(context.Background())
	require.NoError(t, err)
	require.Equal(t, int64(n), st.OK)
	sc.clock.Advance(time.Minute)

	require.NoError(t, sc.srv.SetStateChangeURL(sc.app.ClientID, stateURL, nil))
	require.NoError(t, sc.srv.SetTenantState(suspended, "Suspended"))
	ns := sc.srv.Notifications()
	require.Len(t, ns, 1)
	require.Equal(t, http.StatusOK, ns[0].Status, ns[0].Err)

	from := len(sc.srv.Requests(""))
	st, err = w.Cycle(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int64(n-1), st.OK)
	assert.Equal(t, int64(1), st.Waiting)
	for _, r := range sc.srv.Requests("")[from:] {
		assert.False(t, strings.EqualFold(r.ContextIdentifier, suspended), "a request for the suspended tenant: %s %s", r.Endpoint, r.Path)
	}
	tn := sc.tenant(t, 0)
	assert.Equal(t, store.OutcomeWaiting, tn.LastOutcome)
}

// A Delete notification is no proof (its token can be replayed): a
// tenant stored as Deleted by one is made inactive only when the state
// API confirms it, and one that runs is tried again instead.
func TestDeleteNotificationIsConfirmedBeforeDeactivating(t *testing.T) {
	const n = 2
	sc := setup(t, sqliteDB(t), n, setupOpts{})
	replayed, deleted := demo.ContextID(0), demo.ContextID(1)
	require.NoError(t, sc.srv.SetStateChangeURL(sc.app.ClientID, stateChangeURL(t, sc), nil))
	require.NoError(t, sc.srv.NotifyStateChange(replayed, superidtest.StateChangeDelete)) // the tenant still runs
	require.NoError(t, sc.srv.SetTenantState(deleted, "Deleted"))                         // notifies, too
	for _, nt := range sc.srv.Notifications() {
		require.Equal(t, http.StatusOK, nt.Status, nt.Err)
	}

	_, err := sc.newWorker(t, nil, nil).Cycle(context.Background())
	require.NoError(t, err)
	tn := sc.tenant(t, 0)
	assert.Equal(t, store.StatusActive, tn.Status, "replayed Delete: %s", tn.LastError)
	assert.Equal(t, store.OutcomeRetry, tn.LastOutcome)
	assert.Contains(t, tn.LastError, "does not confirm")
	tn = sc.tenant(t, 1)
	assert.Equal(t, store.StatusInactive, tn.Status, "deleted tenant")
	assert.Contains(t, tn.LastError, "tenant deleted")
}
