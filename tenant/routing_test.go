package tenant_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-superoffice/superoffice/superid/superidtest"
	"github.com/go-superoffice/superoffice/tenant"
	"github.com/go-superoffice/superoffice/tenant/webapi"
)

func TestUnauthorizedReexchangesOnceAndRetriesOnce(t *testing.T) {
	f := setup(t)
	creds := tenant.SystemUser(f.tickets, testSecret)
	var clock testClock
	tenant.SetSystemUserClock(creds, clock.Now)
	c := f.client(t, func(cfg *tenant.Config) { cfg.Credentials = creds })
	ctx := context.Background()
	_, err := currentPrincipal(ctx, c) // the first exchange
	must(t, err)
	f.em.ResetRequests()

	// One 401: invalidate, one new exchange, one retry, success.
	f.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Status: 401, Times: 1})
	_, err = currentPrincipal(ctx, c)
	must(t, err)
	ex, inv := f.tickets.counts()
	reqs := f.em.Requests(superidtest.EndpointTenantAPI)
	if ex != 2 || inv != 1 || len(reqs) != 2 {
		t.Fatalf("after one 401: %d exchanges, %d invalidations, %d requests; want 2, 1, 2", ex, inv, len(reqs))
	}
	if reqs[0].Header.Get("Authorization") == reqs[1].Header.Get("Authorization") {
		t.Fatal("the retry carried the refused ticket")
	}

	// A 401 on the ticket that retry fetched, within a minute: the ticket
	// is not the problem, so it is kept and the 401 surfaces.
	f.em.ResetRequests()
	f.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Status: 401, Times: 1})
	_, err = currentPrincipal(ctx, c)
	ex, inv = f.tickets.counts()
	if !errors.Is(err, tenant.ErrUnauthorized) || f.em.Count(superidtest.EndpointTenantAPI) != 1 || ex != 2 || inv != 1 {
		t.Fatalf("401 on a fresh ticket: %v after %d requests, %d exchanges, %d invalidations; want ErrUnauthorized, 1, 2, 1",
			err, f.em.Count(superidtest.EndpointTenantAPI), ex, inv)
	}

	// Two 401s on an older ticket: one re-exchange, and the second 401
	// surfaces; no loop.
	clock.Advance(2 * time.Minute)
	f.em.ResetRequests()
	f.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Status: 401, Times: 2, Body: `{"Message":"ticket expired"}`})
	_, err = currentPrincipal(ctx, c)
	if !errors.Is(err, tenant.ErrUnauthorized) || asError(t, err).Message != "ticket expired" {
		t.Fatalf("after two 401s: %v, want ErrUnauthorized", err)
	}
	ex, inv = f.tickets.counts()
	if n := f.em.Count(superidtest.EndpointTenantAPI); n != 2 || ex != 3 || inv != 2 {
		t.Fatalf("after two 401s: %d requests, %d exchanges, %d invalidations; want 2, 3, 2", n, ex, inv)
	}

	// A POST is re-sent after a 401 too (the server did nothing with it).
	clock.Advance(2 * time.Minute)
	f.em.ResetRequests()
	f.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Status: 401, Times: 1})
	created, err := postContact(ctx, c, "After401")
	must(t, err)
	if created.ContactID == 0 || len(f.em.Contacts(testCtx)) != 1 {
		t.Fatalf("create after a 401: %+v", created)
	}

	// A ticket source that fails: no request, the cause is kept.
	f.tickets.mu.Lock()
	f.tickets.err = errors.New("exchange refused")
	f.tickets.mu.Unlock()
	f.tickets.Invalidate()
	f.em.ResetRequests()
	_, err = currentPrincipal(ctx, c)
	if err == nil || !strings.Contains(err.Error(), "exchange refused") || f.em.Count(superidtest.EndpointTenantAPI) != 0 {
		t.Fatalf("failing ticket source: %v after %d requests", err, f.em.Count(superidtest.EndpointTenantAPI))
	}
}

func TestMisdirectedReresolvesAndRetriesOnce(t *testing.T) {
	f := setup(t)
	c := f.resolved(t, nil)
	ctx := context.Background()
	_, err := currentPrincipal(ctx, c)
	must(t, err)
	if n := f.em.Count(superidtest.EndpointTenantState); n != 1 {
		t.Fatalf("%d state lookups, want 1", n)
	}
	_, err = currentPrincipal(ctx, c)
	must(t, err)
	if n := f.em.Count(superidtest.EndpointTenantState); n != 1 {
		t.Fatalf("%d state lookups after a second call, want 1 (cached)", n)
	}

	// The tenant moves: the old host answers 421, the client looks the
	// tenant up again and retries once on the new host.
	must(t, f.em.MoveTenant(testCtx))
	f.em.ResetRequests()
	_, err = createCompany(ctx, c, "Moved Inc")
	must(t, err)
	reqs := f.em.Requests(superidtest.EndpointTenantAPI)
	if len(reqs) != 3 || f.em.Count(superidtest.EndpointTenantState) != 1 {
		t.Fatalf("after the move: %d tenant requests, %d lookups; want 3 (421, default, create), 1", len(reqs), f.em.Count(superidtest.EndpointTenantState))
	}
	if !strings.HasPrefix(reqs[0].Header.Get("Authorization"), "SOTicket") {
		t.Fatal("no ticket on the misdirected request")
	}
	if got := f.em.Contacts(testCtx); len(got) != 1 || got[0].Name != "Moved Inc" {
		t.Fatalf("contacts after the move: %+v", got)
	}

	// A host that keeps answering 421: one re-resolve, one retry, then
	// ErrMisdirected.
	f.em.ResetRequests()
	f.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Status: 421})
	_, err = currentPrincipal(ctx, c)
	if !errors.Is(err, tenant.ErrMisdirected) || asError(t, err).State == nil {
		t.Fatalf("persistent 421: %v, want ErrMisdirected with the state", err)
	}
	if n, s := f.em.Count(superidtest.EndpointTenantAPI), f.em.Count(superidtest.EndpointTenantState); n != 2 || s != 1 {
		t.Fatalf("persistent 421: %d requests, %d lookups; want 2, 1", n, s)
	}
	f.em.ClearFaults()

	// Without a resolver a 421 surfaces at once.
	fixed := f.client(t)
	f.em.ResetRequests()
	_, err = currentPrincipal(ctx, fixed) // WebAPIURL follows the move; use the old one
	must(t, err)
	must(t, f.em.MoveTenant(testCtx))
	_, err = currentPrincipal(ctx, fixed)
	if !errors.Is(err, tenant.ErrMisdirected) || f.em.Count(superidtest.EndpointTenantAPI) != 2 {
		t.Fatalf("421 without a resolver: %v after %d requests", err, f.em.Count(superidtest.EndpointTenantAPI))
	}
}

func TestResolverCachesUntilValidUntil(t *testing.T) {
	f := setup(t, superidtest.WithTenantStateValidity(time.Hour))
	var skew atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	c := f.resolved(t, now)
	ctx := context.Background()
	for range 3 {
		_, err := currentPrincipal(ctx, c)
		must(t, err)
	}
	if n := f.em.Count(superidtest.EndpointTenantState); n != 1 {
		t.Fatalf("%d lookups within ValidUntil, want 1", n)
	}
	skew.Store(int64(61 * time.Minute))
	_, err := currentPrincipal(ctx, c)
	must(t, err)
	if n := f.em.Count(superidtest.EndpointTenantState); n != 2 {
		t.Fatalf("%d lookups after ValidUntil, want 2", n)
	}
}

func TestTenantNotRunningIsNeverCalled(t *testing.T) {
	for _, state := range []tenant.StateName{tenant.StateOfflineMaintenance, tenant.StateSuspended, tenant.StateDeleted, tenant.StateMigrationPending} {
		t.Run(string(state), func(t *testing.T) {
			f := setup(t)
			must(t, f.em.SetTenantState(testCtx, string(state)))
			c := f.resolved(t, nil)
			_, err := createCompany(context.Background(), c, "Nope")
			if !errors.Is(err, tenant.ErrTenantNotRunning) {
				t.Fatalf("error %v, want ErrTenantNotRunning", err)
			}
			te := asError(t, err)
			if te.State == nil || te.State.State != state || te.State.IsRunning {
				t.Fatalf("error state = %+v", te.State)
			}
			if !strings.Contains(err.Error(), string(state)) {
				t.Fatalf("error %q does not name the state", err)
			}
			ex, _ := f.tickets.counts()
			if n := f.em.Count(superidtest.EndpointTenantAPI); n != 0 || ex != 0 {
				t.Fatalf("%d tenant requests and %d exchanges for a %s tenant, want none", n, ex, state)
			}
		})
	}
	t.Run("OnlineMaintenance", func(t *testing.T) {
		f := setup(t)
		must(t, f.em.SetTenantState(testCtx, "OnlineMaintenance"))
		_, err := currentPrincipal(context.Background(), f.resolved(t, nil))
		must(t, err)
	})
}

func TestForeignHostReceivesNothing(t *testing.T) {
	f := setup(t)
	ctx := context.Background()

	// A webapi_url from a token that names another host: refused by New.
	_, err := tenant.New(tenant.Config{
		BaseURL: "http://evil.example.com/" + testCtx + "/api/", Environment: f.env,
		Credentials: tenant.SystemUser(f.tickets, testSecret),
	})
	if !errors.Is(err, tenant.ErrForeignHost) {
		t.Fatalf("New with a foreign BaseURL: %v", err)
	}

	// A state API answer that names another host: refused, nothing sent.
	rec := &recordingTransport{next: http.DefaultTransport}
	f.em.Fail(superidtest.EndpointTenantState, superidtest.Fault{Status: 200, Body: fmt.Sprintf(
		`{"ContextIdentifier":%q,"Endpoint":"http://evil.example.com/%[1]s","State":"Running","IsRunning":true,"ValidUntil":"2099-01-01T00:00:00.0000000Z","Api":"http://evil.example.com/%[1]s/api"}`, testCtx)})
	r, err := tenant.NewResolver(tenant.ResolverConfig{Environment: f.env, HTTPClient: &http.Client{Transport: rec}})
	must(t, err)
	c, err := tenant.New(tenant.Config{Resolver: r, ContextIdentifier: testCtx, Credentials: tenant.SystemUser(f.tickets, testSecret),
		HTTPClient: &http.Client{Transport: rec}})
	must(t, err)
	_, err = currentPrincipal(ctx, c)
	if !errors.Is(err, tenant.ErrForeignHost) {
		t.Fatalf("foreign Api from the state API: %v", err)
	}
	for _, h := range rec.hosts() {
		if strings.Contains(h, "evil") {
			t.Fatalf("the foreign host received a request")
		}
	}
	if ex, _ := f.tickets.counts(); ex != 0 || f.em.Count(superidtest.EndpointTenantAPI) != 0 {
		t.Fatalf("%d exchanges, %d tenant requests; want none", ex, f.em.Count(superidtest.EndpointTenantAPI))
	}
	f.em.ClearFaults()

	// An odata.nextLink to another host: the iterator stops there.
	rec2 := &recordingTransport{next: http.DefaultTransport}
	lc := f.client(t, func(c *tenant.Config) { c.HTTPClient = &http.Client{Transport: rec2} })
	f.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Status: 200, Times: 1,
		Body: `{"odata.nextLink":"http://evil.example.com/x?$skip=1","value":[{"PrimaryKey":1,"EntityName":"contact","name":"A"}]}`})
	var rows int
	for _, err = range tenant.All[contactRow](ctx, lc, "v1/Contact", nil) {
		if err != nil {
			break
		}
		rows++
	}
	if rows != 1 || !errors.Is(err, tenant.ErrForeignHost) {
		t.Fatalf("foreign next link: %d rows, %v", rows, err)
	}
	for _, h := range rec2.hosts() {
		if strings.Contains(h, "evil") {
			t.Fatalf("the foreign host received a request")
		}
	}
}

func TestRedirectIsNotFollowed(t *testing.T) {
	f := setup(t)
	var hits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
	}))
	defer other.Close()
	c := f.client(t)
	for _, status := range []int{301, 302, 307, 308} {
		f.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Status: status, Times: 1,
			Header: http.Header{"Location": {other.URL + "/steal?ticket=1"}}})
		_, err := getContact(context.Background(), c, 1)
		if !errors.Is(err, tenant.ErrRedirect) || asError(t, err).StatusCode != status {
			t.Fatalf("%d: %v, want ErrRedirect", status, err)
		}
		if strings.Contains(err.Error(), "steal") {
			t.Fatalf("error %q repeats the redirect's path and query", err)
		}
	}
	if hits.Load() != 0 {
		t.Fatalf("the redirect target received %d requests", hits.Load())
	}
}

func TestRetryRules(t *testing.T) {
	f := setup(t)
	c := f.client(t)
	ctx := context.Background()
	seed, err := f.em.AddContact(testCtx, superidtest.Contact{Name: "Seed"})
	must(t, err)
	tenantCalls := func() int { return f.em.Count(superidtest.EndpointTenantAPI) }

	cases := []struct {
		name      string
		fault     superidtest.Fault
		call      func() error
		wantErr   error
		wantCalls int
	}{
		{"GET retried on 503", superidtest.Fault{Status: 503, Times: 2},
			func() error { _, err := getContact(ctx, c, seed.ContactID); return err }, nil, 3},
		{"GET retried on 429 with Retry-After", superidtest.Fault{Status: 429, Times: 1, Header: http.Header{"Retry-After": {"0"}}},
			func() error { _, err := getContact(ctx, c, seed.ContactID); return err }, nil, 2},
		{"GET gives up after MaxRetries", superidtest.Fault{Status: 502},
			func() error { _, err := getContact(ctx, c, seed.ContactID); return err }, tenant.ErrServer, 3},
		{"429 exhausted is ErrRateLimited", superidtest.Fault{Status: 429},
			func() error { _, err := getContact(ctx, c, seed.ContactID); return err }, tenant.ErrRateLimited, 3},
		{"501 not retried", superidtest.Fault{Status: 501},
			func() error { _, err := getContact(ctx, c, seed.ContactID); return err }, tenant.ErrServer, 1},
		{"404 not retried", superidtest.Fault{Status: 404},
			func() error { _, err := getContact(ctx, c, seed.ContactID); return err }, tenant.ErrNotFound, 1},
		{"PUT retried", superidtest.Fault{Status: 500, Times: 1},
			func() error {
				id := int64(seed.ContactID)
				_, err := webapi.New(c).Contact.PutByID(ctx, id, &webapi.ContactEntity{ContactID: id, Name: "Seed 2"})
				return err
			}, nil, 2},
		{"DELETE retried", superidtest.Fault{Status: 503, Times: 1},
			func() error {
				s, err := f.em.AddContact(testCtx, superidtest.Contact{Name: "Doomed"})
				must(t, err)
				return deleteContact(ctx, c, s.ContactID)
			}, nil, 2},
		{"POST not retried", superidtest.Fault{Status: 503, Times: 1},
			func() error { _, err := postContact(ctx, c, "Once"); return err }, tenant.ErrServer, 1},
		{"POST not retried on 429", superidtest.Fault{Status: 429, Times: 1},
			func() error { _, err := postContact(ctx, c, "Once"); return err }, tenant.ErrRateLimited, 1},
		{"POST marked Idempotent retried", superidtest.Fault{Status: 503, Times: 1},
			func() error {
				return c.Do(ctx, http.MethodPost, "v1/Contact", webapi.ContactEntity{Name: "Twice-safe"}, nil, tenant.Idempotent())
			}, nil, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.em.ClearFaults()
			f.em.ResetRequests()
			f.em.Fail(superidtest.EndpointTenantAPI, tc.fault)
			err := tc.call()
			f.em.ClearFaults()
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if n := tenantCalls(); n != tc.wantCalls {
				t.Fatalf("%d requests, want %d", n, tc.wantCalls)
			}
		})
	}
	for _, c := range f.em.Contacts(testCtx) {
		if c.Name == "Once" {
			t.Fatal("a POST that failed with 503/429 was repeated and created a contact")
		}
	}

	// The last answer's Retry-After is on the error, for a caller that
	// schedules the next try; a date counts from the answer's own Date.
	date := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	for ra, want := range map[string]time.Duration{
		"120": 2 * time.Minute, date.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second, "": 0, "soon": 0,
	} {
		f.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Status: 429, Times: 1,
			Header: http.Header{"Retry-After": {ra}, "Date": {date.Format(http.TimeFormat)}}})
		_, err := postContact(ctx, c, "Once")
		if te := asError(t, err); te.RetryAfter != want {
			t.Errorf("Retry-After %q: RetryAfter %v, want %v", ra, te.RetryAfter, want)
		}
	}

	// A slow server and a caller who gives up: the ctx error comes back.
	f.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Delay: time.Minute})
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = getContact(cctx, c, seed.ContactID)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("canceled call: %v, want context.DeadlineExceeded", err)
	}
	f.em.ClearFaults()

	// Connection errors are retried, then reported with the cause.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	dc, err := tenant.New(tenant.Config{BaseURL: dead.URL + "/Cust1/api/", Retry: fastRetry})
	must(t, err)
	if err := dc.Do(ctx, http.MethodGet, "v1/Contact/1", nil, nil); err == nil || asError(t, err).StatusCode != 0 || errors.Unwrap(err) == nil {
		t.Fatalf("dead server: %v", err)
	}
}

// A tenant that goes offline after its state was cached answers 503; the
// client then drops the cached state, so that the next request finds the
// tenant not running without calling it.
func TestServerErrorDropsTheCachedState(t *testing.T) {
	f := setup(t, superidtest.WithTenantStateValidity(time.Hour))
	c := f.resolved(t, nil)
	ctx := context.Background()
	_, err := currentPrincipal(ctx, c)
	must(t, err)
	must(t, f.em.SetTenantState(testCtx, string(tenant.StateOfflineMaintenance)))
	if _, err := currentPrincipal(ctx, c); !errors.Is(err, tenant.ErrServer) {
		t.Fatalf("call to a tenant gone offline: %v, want a server error", err)
	}
	calls := f.em.Count(superidtest.EndpointTenantAPI)
	if _, err := currentPrincipal(ctx, c); !errors.Is(err, tenant.ErrTenantNotRunning) {
		t.Fatalf("next call: %v, want ErrTenantNotRunning", err)
	}
	if n := f.em.Count(superidtest.EndpointTenantAPI); n != calls {
		t.Fatalf("the next call reached the offline tenant (%d requests, want %d)", n, calls)
	}
	if n := f.em.Count(superidtest.EndpointTenantState); n != 2 {
		t.Fatalf("%d state lookups, want 2", n)
	}
}
