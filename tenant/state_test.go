package tenant_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-superoffice/superoffice/superid"
	"github.com/go-superoffice/superoffice/superid/superidtest"
	"github.com/go-superoffice/superoffice/tenant"
)

// stateServer answers the state API for Cust1 with whatever state holds;
// its first hang requests never answer until the test ends.
type stateServer struct {
	*httptest.Server
	mu    sync.Mutex
	state map[string]any
	n     atomic.Int32
	hang  int32
}

func newStateServer(t *testing.T, hang int32) *stateServer {
	s := &stateServer{hang: hang}
	release := make(chan struct{})
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.n.Add(1) <= s.hang {
			select { // a black-holed connection
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		_ = json.NewEncoder(w).Encode(s.state)
	}))
	t.Cleanup(func() { close(release); s.Close() })
	s.set("Running", "9999-01-01T00:00:00Z")
	return s
}

func (s *stateServer) set(state, validUntil string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state = map[string]any{"ContextIdentifier": "Cust1", "State": state, "IsRunning": state == "Running",
		"ValidUntil": validUntil, "Api": ""}
	if state == "Running" {
		s.state["Api"] = s.URL + "/Cust1/api"
	}
}

// A state request that never answers (an HTTPClient without a timeout)
// must not stall the tenant for good: the shared lookup has its own
// timeout, and the next Resolve asks again.
func TestResolverLookupTimeout(t *testing.T) {
	s := newStateServer(t, 1)
	r, err := tenant.NewResolver(tenant.ResolverConfig{Environment: superid.Environment(s.URL),
		HTTPClient: &http.Client{}, LookupTimeout: 100 * time.Millisecond, Retry: tenant.RetryPolicy{MaxRetries: -1}})
	must(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	_, err = r.Resolve(ctx, "Cust1")
	if !errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		t.Fatalf("hung lookup: %v after %v; want the lookup's own timeout, well before the caller's", err, time.Since(start))
	}
	st, err := r.Resolve(ctx, "Cust1")
	if err != nil || st.State != tenant.StateRunning {
		t.Fatalf("after the hung lookup: %+v, %v", st, err)
	}
	if n := s.n.Load(); n != 2 {
		t.Fatalf("%d state requests, want 2", n)
	}
}

// A ValidUntil far away is capped: an hour for a running tenant, five
// minutes for one that is not running (it may come back any time).
func TestResolverMaxTTL(t *testing.T) {
	s := newStateServer(t, 0)
	var mu sync.Mutex
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	r, err := tenant.NewResolver(tenant.ResolverConfig{Environment: superid.Environment(s.URL), Now: clock})
	must(t, err)
	ctx := context.Background()
	resolve := func(wantLookups int32) error {
		t.Helper()
		_, err := r.Resolve(ctx, "Cust1")
		if n := s.n.Load(); n != wantLookups {
			t.Fatalf("%d state lookups, want %d", n, wantLookups)
		}
		return err
	}

	must(t, resolve(1))
	advance(59 * time.Minute)
	must(t, resolve(1))
	s.set("OfflineMaintenance", "9999-01-01T00:00:00Z")
	advance(2 * time.Minute) // past the hour: asked again
	if err := resolve(2); !errors.Is(err, tenant.ErrTenantNotRunning) || err.Error() != "tenant: tenant Cust1 is OfflineMaintenance" {
		t.Fatalf("offline tenant: %v", err)
	}
	advance(4 * time.Minute)
	if err := resolve(2); !errors.Is(err, tenant.ErrTenantNotRunning) {
		t.Fatalf("offline tenant, cached: %v", err)
	}
	s.set("Running", "9999-01-01T00:00:00Z")
	advance(2 * time.Minute) // past five minutes: asked again
	must(t, resolve(3))

	// Both caps are configurable.
	r, err = tenant.NewResolver(tenant.ResolverConfig{Environment: superid.Environment(s.URL), Now: clock,
		MaxTTL: 10 * time.Minute, NotRunningMaxTTL: time.Minute})
	must(t, err)
	must(t, resolve(4))
	advance(9 * time.Minute)
	must(t, resolve(4))
	advance(2 * time.Minute)
	must(t, resolve(5))
	s.set("Suspended", "9999-01-01T00:00:00Z")
	advance(11 * time.Minute)
	_ = resolve(6)
	advance(2 * time.Minute)
	if err := resolve(7); !errors.Is(err, tenant.ErrTenantNotRunning) {
		t.Fatalf("suspended tenant: %v", err)
	}
}

// A state kept from Cached (in a database, say) and Remembered by another
// resolver, as in another process, saves that resolver the state request
// until the first one would have asked again; an altered one is refused.
func TestResolverRemember(t *testing.T) {
	s := newStateServer(t, 0)
	var mu sync.Mutex
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	cfg := tenant.ResolverConfig{Environment: superid.Environment(s.URL), Now: clock}
	first, err := tenant.NewResolver(cfg)
	must(t, err)
	ctx := context.Background()
	if st, _ := first.Cached("Cust1"); st != nil {
		t.Fatalf("Cached before any lookup: %+v", st)
	}
	_, err = first.Resolve(ctx, "Cust1")
	must(t, err)
	kept, until := first.Cached("cust1") // any case, as Resolve
	if kept == nil || kept.API != s.URL+"/Cust1/api" || !until.Equal(now.Add(tenant.DefaultMaxTTL)) {
		t.Fatalf("Cached: %+v until %v", kept, until)
	}

	advance(20 * time.Minute)
	second, err := tenant.NewResolver(cfg)
	must(t, err)
	must(t, second.Remember("Cust1", kept, until))
	kept.API = "https://evil.example/Cust1/api" // the caller's copy, not the cache's
	st, err := second.Resolve(ctx, "Cust1")
	if err != nil || st.API != s.URL+"/Cust1/api" || s.n.Load() != 1 {
		t.Fatalf("Resolve after Remember: %+v, %v, %d state requests, want the remembered state and 1", st, err, s.n.Load())
	}
	if _, u := second.Cached("Cust1"); !u.Equal(until) {
		t.Fatalf("remembered until %v, want %v (the first lookup's)", u, until)
	}
	advance(41 * time.Minute) // past the first lookup's hour
	if st, _ := second.Cached("Cust1"); st != nil {
		t.Fatalf("Cached after its time: %+v", st)
	}
	_, err = second.Resolve(ctx, "Cust1")
	must(t, err)
	if n := s.n.Load(); n != 2 {
		t.Fatalf("%d state requests, want 2: the remembered state ran out", n)
	}

	// A remembered until is bounded like a looked-up one, and one past is no-op.
	third, err := tenant.NewResolver(cfg)
	must(t, err)
	good := &tenant.State{ContextIdentifier: "Cust2", State: tenant.StateRunning, API: s.URL + "/Cust2/api"}
	must(t, third.Remember("Cust2", good, now.Add(24*time.Hour)))
	if _, u := third.Cached("Cust2"); !u.Equal(now.Add(tenant.DefaultMaxTTL)) {
		t.Fatalf("remembered for a day: kept until %v, want MaxTTL from now", u)
	}
	must(t, third.Remember("Cust3", &tenant.State{ContextIdentifier: "Cust3", State: tenant.StateRunning, API: s.URL + "/Cust3/api"}, now))
	if st, _ := third.Cached("Cust3"); st != nil {
		t.Fatalf("an until already past was cached: %+v", st)
	}

	// A tenant that is not running is kept for NotRunningMaxTTL at most.
	must(t, third.Remember("Cust5", &tenant.State{ContextIdentifier: "Cust5", State: tenant.StateOfflineMaintenance}, now.Add(time.Hour)))
	if st, u := third.Cached("Cust5"); st == nil || !u.Equal(now.Add(tenant.DefaultNotRunningMaxTTL)) {
		t.Fatalf("remembered offline state: %+v until %v, want NotRunningMaxTTL from now", st, u)
	}
	if _, err := third.Resolve(ctx, "Cust5"); !errors.Is(err, tenant.ErrTenantNotRunning) {
		t.Fatalf("Resolve of a remembered offline tenant: %v", err)
	}

	for _, tc := range []struct {
		name string
		id   string
		st   *tenant.State
		want error
	}{
		{"foreign API", "Cust4", &tenant.State{ContextIdentifier: "Cust4", State: tenant.StateRunning, API: "https://evil.example/Cust4/api"}, tenant.ErrForeignHost},
		{"no API", "Cust4", &tenant.State{ContextIdentifier: "Cust4", IsRunning: true}, tenant.ErrForeignHost},
		{"another tenant's", "Cust4", &tenant.State{ContextIdentifier: "Cust2", State: tenant.StateRunning, API: s.URL + "/Cust2/api"}, tenant.ErrBadRequest},
		{"another tenant's API path", "Cust4", &tenant.State{ContextIdentifier: "Cust4", State: tenant.StateRunning, API: s.URL + "/Cust2/api"}, tenant.ErrForeignHost},
		{"a path beside the API", "Cust4", &tenant.State{ContextIdentifier: "Cust4", State: tenant.StateRunning, API: s.URL + "/Cust4/api/../../Cust2/api"}, tenant.ErrForeignHost},
		{"bad context id", "../x", &tenant.State{ContextIdentifier: "../x", State: tenant.StateRunning, API: s.URL + "/x/api"}, tenant.ErrBadRequest},
		{"nil", "Cust4", nil, nil},
	} {
		err := third.Remember(tc.id, tc.st, now.Add(time.Minute))
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("Remember %s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if st, _ := third.Cached("Cust4"); st != nil {
		t.Fatalf("a refused state was cached: %+v", st)
	}
	// The tenant's own path, in another case and with a slash, is its own.
	must(t, third.Remember("Cust6", &tenant.State{ContextIdentifier: "Cust6", State: tenant.StateRunning, API: s.URL + "/cust6/API/"}, now.Add(time.Minute)))
	if st, _ := third.Cached("Cust2"); st == nil || st.API != good.API {
		t.Fatalf("another tenant's state replaced Cust2's: %+v", st)
	}
	var zero tenant.Resolver
	if err := zero.Remember("Cust2", good, now.Add(time.Minute)); err == nil {
		t.Fatal("Remember on a zero Resolver: no error")
	}
	if st, _ := zero.Cached("Cust2"); st != nil {
		t.Fatal("Cached on a zero Resolver returned a state")
	}
}

// Cached, Remember, Forget and Resolve may run at once (go test -race).
func TestResolverCacheConcurrent(t *testing.T) {
	s := newStateServer(t, 0)
	r, err := tenant.NewResolver(tenant.ResolverConfig{Environment: superid.Environment(s.URL)})
	must(t, err)
	ctx := context.Background()
	st := &tenant.State{ContextIdentifier: "Cust1", State: tenant.StateRunning, API: s.URL + "/Cust1/api"}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for range 50 {
				switch i {
				case 0:
					if err := r.Remember("Cust1", st, time.Now().Add(time.Minute)); err != nil {
						t.Error(err)
					}
				case 1:
					if got, _ := r.Cached("Cust1"); got != nil && got.ContextIdentifier != "Cust1" {
						t.Errorf("Cached: %+v", got)
					}
				case 2:
					r.Forget("Cust1")
				default:
					if _, err := r.Resolve(ctx, "Cust1"); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
}

// Callers resolving one tenant at once share one state request; when the
// caller that started it gives up, those waiting ask again rather than
// fail with its cancellation.
func TestResolverSharesLookups(t *testing.T) {
	s := newStateServer(t, 1) // the first request never answers
	r, err := tenant.NewResolver(tenant.ResolverConfig{Environment: superid.Environment(s.URL),
		LookupTimeout: 20 * time.Second, Retry: tenant.RetryPolicy{MaxRetries: -1}})
	must(t, err)
	first, leave := context.WithCancel(context.Background())
	firstErr := make(chan error, 1)
	go func() {
		_, err := r.Resolve(first, "Cust1")
		firstErr <- err
	}()
	for s.n.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if st, err := r.Resolve(ctx, "Cust1"); err != nil || st.State != tenant.StateRunning {
				t.Errorf("a caller waiting when the first left: %+v, %v", st, err)
			}
		})
	}
	time.Sleep(100 * time.Millisecond) // the four wait on the hung request
	if n := s.n.Load(); n != 1 {
		t.Fatalf("%d state requests while one was under way, want 1", n)
	}
	leave()
	if err := <-firstErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("the caller that left: %v, want its cancellation", err)
	}
	wg.Wait()
	if n := s.n.Load(); n != 2 {
		t.Fatalf("%d state requests, want 2: the hung one, and one that the four shared", n)
	}
}

// The state request that a call makes on its way is the state's own: its
// resend after a 5xx is not the call's. A DELETE answered 404 on its one
// attempt did not find its own work done, whatever the state request met.
func TestStateResendIsNotTheCallers(t *testing.T) {
	f := setup(t)
	r, err := tenant.NewResolver(tenant.ResolverConfig{Environment: f.env, Retry: fastRetry})
	must(t, err)
	c, err := tenant.New(tenant.Config{Resolver: r, ContextIdentifier: testCtx,
		Credentials: tenant.SystemUser(f.tickets, testSecret), Retry: fastRetry})
	must(t, err)
	f.em.Fail(superidtest.EndpointTenantState, superidtest.Fault{Status: 503, Times: 1})
	if err := deleteContact(context.Background(), c, 987654); !errors.Is(err, tenant.ErrNotFound) {
		t.Fatalf("DELETE of a contact that never was, after a state request resent: %v, want ErrNotFound", err)
	}
	if n := len(f.em.Requests(superidtest.EndpointTenantState)); n != 2 {
		t.Fatalf("%d state requests, want 2 (a 503, then the answer)", n)
	}
}
