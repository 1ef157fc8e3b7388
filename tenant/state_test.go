package tenant_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/superid/superidtest"
	"github.com/go-superoffice/superoffice/tenant"
)

// stateRoot is the environment the in-memory state API answers for; no
// request ever leaves the process.
const stateRoot = "http://127.0.0.1:1"

// stateAPI is an in-memory state API (an http.RoundTripper) that answers
// for Cust1 with whatever state holds. Its first hang requests answer only
// when release is closed, or not at all while release is nil: they end
// with their ctx. It needs no network, so it runs inside synctest bubbles.
type stateAPI struct {
	mu      sync.Mutex
	state   map[string]any
	n       atomic.Int32
	hang    int32
	release chan struct{}
}

func newStateAPI(hang int32) *stateAPI {
	s := &stateAPI{hang: hang}
	s.set("Running", "9999-01-01T00:00:00Z")
	return s
}

func (s *stateAPI) RoundTrip(r *http.Request) (*http.Response, error) {
	if s.n.Add(1) <= s.hang {
		select { // a black-holed connection
		case <-s.release:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	s.mu.Lock()
	b, err := json.Marshal(s.state)
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(string(b))), ContentLength: int64(len(b)), Request: r}, nil
}

func (s *stateAPI) set(state, validUntil string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state = map[string]any{"ContextIdentifier": "Cust1", "State": state, "IsRunning": state == "Running",
		"ValidUntil": validUntil, "Api": ""}
	if state == "Running" {
		s.state["Api"] = stateRoot + "/Cust1/api"
	}
}

// resolver is a Resolver that asks s.
func (s *stateAPI) resolver(t *testing.T, cfg tenant.ResolverConfig) *tenant.Resolver {
	t.Helper()
	cfg.Environment, cfg.HTTPClient = stateRoot, &http.Client{Transport: s}
	r, err := tenant.NewResolver(cfg)
	require.NoError(t, err)
	return r
}

// A state request that never answers (an HTTPClient without a timeout)
// must not stall the tenant for good: the shared lookup has its own
// timeout, and the next Resolve asks again.
func TestResolverLookupTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newStateAPI(1)
		r := s.resolver(t, tenant.ResolverConfig{LookupTimeout: 100 * time.Millisecond, Retry: tenant.RetryPolicy{MaxRetries: -1}})
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		_, err := r.Resolve(ctx, "Cust1")
		require.ErrorIs(t, err, context.DeadlineExceeded, "the hung lookup ends by its own timeout")
		require.NoError(t, ctx.Err(), "the lookup's own timeout, well before the caller's")
		st, err := r.Resolve(ctx, "Cust1")
		require.NoError(t, err, "after the hung lookup")
		assert.Equal(t, tenant.StateRunning, st.State)
		assert.Equal(t, int32(2), s.n.Load(), "state requests")
	})
}

// Callers resolving one tenant at once share one state request; a caller
// that leaves returns at once with its ctx's error, and the others still
// get the request's answer.
func TestResolverSharesLookups(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newStateAPI(1)
		s.release = make(chan struct{})
		r := s.resolver(t, tenant.ResolverConfig{LookupTimeout: 20 * time.Second, Retry: tenant.RetryPolicy{MaxRetries: -1}})
		first, leave := context.WithCancel(t.Context())
		var firstErr error
		var wg sync.WaitGroup
		wg.Go(func() { _, firstErr = r.Resolve(first, "Cust1") })
		synctest.Wait() // the first caller's request hangs
		var done atomic.Int32
		others := make([]*tenant.State, 4)
		for i := range others {
			wg.Go(func() {
				st, err := r.Resolve(t.Context(), "Cust1")
				assert.NoError(t, err, "a caller waiting when the first left")
				others[i] = st
				done.Add(1)
			})
		}
		synctest.Wait() // the four wait on the hung request
		assert.Equal(t, int32(1), s.n.Load(), "state requests while one was under way")

		leave()
		synctest.Wait()
		require.ErrorIs(t, firstErr, context.Canceled, "the caller that left returns at once")
		assert.Zero(t, done.Load(), "the others still wait for the answer")

		close(s.release)
		wg.Wait()
		for _, st := range others {
			if assert.NotNil(t, st) {
				assert.Equal(t, tenant.StateRunning, st.State)
			}
		}
		assert.Equal(t, int32(1), s.n.Load(), "one state request for all five callers")
	})
}

// A ValidUntil far away is capped: an hour for a running tenant, five
// minutes for one that is not running (it may come back any time).
func TestResolverMaxTTL(t *testing.T) {
	s := newStateAPI(0)
	var mu sync.Mutex
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	r := s.resolver(t, tenant.ResolverConfig{Now: clock})
	ctx := context.Background()
	resolve := func(wantLookups int32) error {
		t.Helper()
		_, err := r.Resolve(ctx, "Cust1")
		require.Equal(t, wantLookups, s.n.Load(), "state lookups")
		return err
	}

	require.NoError(t, resolve(1))
	advance(59 * time.Minute)
	require.NoError(t, resolve(1))
	s.set("OfflineMaintenance", "9999-01-01T00:00:00Z")
	advance(2 * time.Minute) // past the hour: asked again
	err := resolve(2)
	require.ErrorIs(t, err, tenant.ErrTenantNotRunning, "offline tenant")
	assert.EqualError(t, err, "tenant: tenant Cust1 is OfflineMaintenance")
	advance(4 * time.Minute)
	require.ErrorIs(t, resolve(2), tenant.ErrTenantNotRunning, "offline tenant, cached")
	s.set("Running", "9999-01-01T00:00:00Z")
	advance(2 * time.Minute) // past five minutes: asked again
	require.NoError(t, resolve(3))

	// Both caps are configurable.
	r = s.resolver(t, tenant.ResolverConfig{Now: clock, MaxTTL: 10 * time.Minute, NotRunningMaxTTL: time.Minute})
	require.NoError(t, resolve(4))
	advance(9 * time.Minute)
	require.NoError(t, resolve(4))
	advance(2 * time.Minute)
	require.NoError(t, resolve(5))
	s.set("Suspended", "9999-01-01T00:00:00Z")
	advance(11 * time.Minute)
	_ = resolve(6)
	advance(2 * time.Minute)
	require.ErrorIs(t, resolve(7), tenant.ErrTenantNotRunning, "suspended tenant")
}

// A state kept from Cached (in a database, say) and Remembered by another
// resolver, as in another process, saves that resolver the state request
// until the first one would have asked again; an altered one is refused.
func TestResolverRemember(t *testing.T) {
	s := newStateAPI(0)
	var mu sync.Mutex
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	cfg := tenant.ResolverConfig{Now: clock}
	first := s.resolver(t, cfg)
	ctx := context.Background()
	st, _ := first.Cached("Cust1")
	assert.Nil(t, st, "Cached before any lookup")
	_, err := first.Resolve(ctx, "Cust1")
	require.NoError(t, err)
	kept, until := first.Cached("cust1") // any case, as Resolve
	require.NotNil(t, kept)
	assert.Equal(t, stateRoot+"/Cust1/api", kept.API)
	assert.Equal(t, now.Add(tenant.DefaultMaxTTL), until)

	advance(20 * time.Minute)
	second := s.resolver(t, cfg)
	require.NoError(t, second.Remember("Cust1", kept, until))
	kept.API = "https://evil.example/Cust1/api" // the caller's copy, not the cache's
	st, err = second.Resolve(ctx, "Cust1")
	require.NoError(t, err, "Resolve after Remember")
	assert.Equal(t, stateRoot+"/Cust1/api", st.API, "the remembered state")
	assert.Equal(t, int32(1), s.n.Load(), "state requests")
	_, u := second.Cached("Cust1")
	assert.Equal(t, until, u, "remembered until the first lookup's time")
	advance(41 * time.Minute) // past the first lookup's hour
	st, _ = second.Cached("Cust1")
	assert.Nil(t, st, "Cached after its time")
	_, err = second.Resolve(ctx, "Cust1")
	require.NoError(t, err)
	assert.Equal(t, int32(2), s.n.Load(), "state requests: the remembered state ran out")

	// A remembered until is bounded like a looked-up one, and one past is no-op.
	third := s.resolver(t, cfg)
	good := &tenant.State{ContextIdentifier: "Cust2", State: tenant.StateRunning, API: stateRoot + "/Cust2/api"}
	require.NoError(t, third.Remember("Cust2", good, now.Add(24*time.Hour)))
	_, u = third.Cached("Cust2")
	assert.Equal(t, now.Add(tenant.DefaultMaxTTL), u, "remembered for a day: kept MaxTTL from now")
	require.NoError(t, third.Remember("Cust3", &tenant.State{ContextIdentifier: "Cust3", State: tenant.StateRunning, API: stateRoot + "/Cust3/api"}, now))
	st, _ = third.Cached("Cust3")
	assert.Nil(t, st, "an until already past is not cached")

	// A tenant that is not running is kept for NotRunningMaxTTL at most.
	require.NoError(t, third.Remember("Cust5", &tenant.State{ContextIdentifier: "Cust5", State: tenant.StateOfflineMaintenance}, now.Add(time.Hour)))
	st, u = third.Cached("Cust5")
	assert.NotNil(t, st, "remembered offline state")
	assert.Equal(t, now.Add(tenant.DefaultNotRunningMaxTTL), u, "remembered offline state: NotRunningMaxTTL from now")
	_, err = third.Resolve(ctx, "Cust5")
	assert.ErrorIs(t, err, tenant.ErrTenantNotRunning, "Resolve of a remembered offline tenant")

	for _, tc := range []struct {
		name string
		id   string
		st   *tenant.State
		want error
	}{
		{"foreign API", "Cust4", &tenant.State{ContextIdentifier: "Cust4", State: tenant.StateRunning, API: "https://evil.example/Cust4/api"}, tenant.ErrForeignHost},
		{"foreign Endpoint", "Cust4", &tenant.State{ContextIdentifier: "Cust4", State: tenant.StateRunning, API: stateRoot + "/Cust4/api", Endpoint: "https://evil.example/Cust4"}, tenant.ErrForeignHost},
		{"no API", "Cust4", &tenant.State{ContextIdentifier: "Cust4", IsRunning: true}, tenant.ErrForeignHost},
		{"another tenant's", "Cust4", &tenant.State{ContextIdentifier: "Cust2", State: tenant.StateRunning, API: stateRoot + "/Cust2/api"}, tenant.ErrBadRequest},
		{"another tenant's API path", "Cust4", &tenant.State{ContextIdentifier: "Cust4", State: tenant.StateRunning, API: stateRoot + "/Cust2/api"}, tenant.ErrForeignHost},
		{"a path beside the API", "Cust4", &tenant.State{ContextIdentifier: "Cust4", State: tenant.StateRunning, API: stateRoot + "/Cust4/api/../../Cust2/api"}, tenant.ErrForeignHost},
		{"bad context id", "../x", &tenant.State{ContextIdentifier: "../x", State: tenant.StateRunning, API: stateRoot + "/x/api"}, tenant.ErrBadRequest},
		{"nil", "Cust4", nil, nil},
	} {
		err := third.Remember(tc.id, tc.st, now.Add(time.Minute))
		if tc.want == nil {
			assert.Error(t, err, "Remember %s", tc.name)
		} else {
			assert.ErrorIs(t, err, tc.want, "Remember %s", tc.name)
		}
	}
	st, _ = third.Cached("Cust4")
	assert.Nil(t, st, "a refused state was cached")
	// The tenant's own path, in another case and with a slash, is its own.
	require.NoError(t, third.Remember("Cust6", &tenant.State{ContextIdentifier: "Cust6", State: tenant.StateRunning, API: stateRoot + "/cust6/API/"}, now.Add(time.Minute)))
	st, _ = third.Cached("Cust2")
	if assert.NotNil(t, st) {
		assert.Equal(t, good.API, st.API, "another tenant's state replaced Cust2's")
	}
	var zero tenant.Resolver
	assert.Error(t, zero.Remember("Cust2", good, now.Add(time.Minute)), "Remember on a zero Resolver")
	st, _ = zero.Cached("Cust2")
	assert.Nil(t, st, "Cached on a zero Resolver")
}

// Cached, Remember, Forget and Resolve may run at once (go test -race).
func TestResolverCacheConcurrent(t *testing.T) {
	s := newStateAPI(0)
	r := s.resolver(t, tenant.ResolverConfig{})
	ctx := context.Background()
	st := &tenant.State{ContextIdentifier: "Cust1", State: tenant.StateRunning, API: stateRoot + "/Cust1/api"}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for range 50 {
				switch i {
				case 0:
					assert.NoError(t, r.Remember("Cust1", st, time.Now().Add(time.Minute)))
				case 1:
					if got, _ := r.Cached("Cust1"); got != nil {
						assert.Equal(t, "Cust1", got.ContextIdentifier)
					}
				case 2:
					r.Forget("Cust1")
				default:
					_, err := r.Resolve(ctx, "Cust1")
					assert.NoError(t, err)
				}
			}
		})
	}
	wg.Wait()
}

// The state request a call makes on its way is the state's own: the
// call's outcome is what the tenant answered it. A DELETE of an entity
// that never was is ErrNotFound, whatever the state request met.
func TestStateResendIsNotTheCallers(t *testing.T) {
	f := setup(t)
	c := f.resolved(t, nil)
	f.em.Fail(superidtest.EndpointTenantState, superidtest.Fault{Status: 503, Times: 1})
	err := c.Do(context.Background(), http.MethodDelete, "v1/Contact/987654", nil, nil)
	require.ErrorIs(t, err, tenant.ErrNotFound, "DELETE of a contact that never was, after a state request resent")
	assert.Len(t, f.em.Requests(superidtest.EndpointTenantState), 2, "state requests: a 503, then the answer")
}
