package tenant_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/superid/superidtest"
	"github.com/go-superoffice/superoffice/tenant"
)

func TestUnauthorizedReexchangesOnceAndRetriesOnce(t *testing.T) {
	f := setup(t)
	creds := tenant.SystemUser(f.tickets, testSecret)
	var clock testClock
	tenant.SetSystemUserClock(creds, clock.Now)
	c := f.client(t, func(cfg *tenant.Config) { cfg.Credentials = creds })
	ctx := context.Background()
	_, err := whoAmI(ctx, c) // the first exchange
	require.NoError(t, err)
	f.em.ResetRequests()

	// One 401: invalidate, one new exchange, one retry, success.
	f.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Status: 401, Times: 1})
	_, err = whoAmI(ctx, c)
	require.NoError(t, err)
	ex, inv := f.tickets.counts()
	reqs := f.em.Requests(superidtest.EndpointTenantAPI)
	assert.Equal(t, []int{2, 1}, []int{ex, inv}, "exchanges, invalidations after one 401")
	require.Len(t, reqs, 2)
	assert.NotEqual(t, reqs[0].Header.Get("Authorization"), reqs[1].Header.Get("Authorization"), "the retry carried the refused ticket")

	// A 401 on the ticket that retry fetched, within a minute: the ticket
	// is not the problem, so it is kept and the 401 surfaces.
	f.em.ResetRequests()
	f.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Status: 401, Times: 1})
	_, err = whoAmI(ctx, c)
	require.ErrorIs(t, err, tenant.ErrUnauthorized, "401 on a fresh ticket")
	ex, inv = f.tickets.counts()
	assert.Equal(t, []int{1, 2, 1}, []int{f.em.Count(superidtest.EndpointTenantAPI), ex, inv}, "requests, exchanges, invalidations after a 401 on a fresh ticket")

	// Two 401s on an older ticket: one re-exchange, and the second 401
	// surfaces; no loop.
	clock.Advance(2 * time.Minute)
	f.em.ResetRequests()
	f.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Status: 401, Times: 2, Body: `{"Message":"ticket expired"}`})
	_, err = whoAmI(ctx, c)
	require.ErrorIs(t, err, tenant.ErrUnauthorized, "after two 401s")
	assert.Equal(t, "ticket expired", asError(t, err).Message)
	ex, inv = f.tickets.counts()
	assert.Equal(t, []int{2, 3, 2}, []int{f.em.Count(superidtest.EndpointTenantAPI), ex, inv}, "requests, exchanges, invalidations after two 401s")

	// A POST is re-sent after a 401 too (the server did nothing with it).
	clock.Advance(2 * time.Minute)
	f.em.ResetRequests()
	f.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Status: 401, Times: 1})
	var created contact
	require.NoError(t, c.Do(ctx, http.MethodPost, "v1/Contact", contact{Name: "After401"}, &created))
	assert.NotZero(t, created.ContactID)
	assert.Len(t, f.em.Contacts(testCtx), 1)

	// A ticket source that fails: no request, the cause is kept.
	f.tickets.mu.Lock()
	f.tickets.err = errors.New("exchange refused")
	f.tickets.mu.Unlock()
	f.tickets.Invalidate()
	f.em.ResetRequests()
	_, err = whoAmI(ctx, c)
	assert.ErrorContains(t, err, "exchange refused")
	assert.Zero(t, f.em.Count(superidtest.EndpointTenantAPI))
}

func TestMisdirectedReresolvesAndRetriesOnce(t *testing.T) {
	f := setup(t)
	c := f.resolved(t, nil)
	ctx := context.Background()
	_, err := whoAmI(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, 1, f.em.Count(superidtest.EndpointTenantState), "state lookups")
	_, err = whoAmI(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, 1, f.em.Count(superidtest.EndpointTenantState), "state lookups after a second call (cached)")

	// The tenant moves: the old host answers 421, the client looks the
	// tenant up again and retries once on the new host.
	require.NoError(t, f.em.MoveTenant(testCtx))
	f.em.ResetRequests()
	_, err = createCompany(ctx, c, "Moved Inc")
	require.NoError(t, err)
	reqs := f.em.Requests(superidtest.EndpointTenantAPI)
	require.Len(t, reqs, 3, "421, default, create")
	assert.Equal(t, 1, f.em.Count(superidtest.EndpointTenantState))
	assert.Regexp(t, "^SOTicket ", reqs[0].Header.Get("Authorization"), "the ticket on the misdirected request")
	if got := f.em.Contacts(testCtx); assert.Len(t, got, 1) {
		assert.Equal(t, "Moved Inc", got[0].Name)
	}

	// A host that keeps answering 421: one re-resolve, one retry, then
	// ErrMisdirected.
	f.em.ResetRequests()
	f.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Status: 421})
	_, err = whoAmI(ctx, c)
	require.ErrorIs(t, err, tenant.ErrMisdirected)
	assert.NotNil(t, asError(t, err).State)
	assert.Equal(t, 2, f.em.Count(superidtest.EndpointTenantAPI))
	assert.Equal(t, 1, f.em.Count(superidtest.EndpointTenantState))
	f.em.ClearFaults()

	// Without a resolver a 421 surfaces at once.
	fixed := f.client(t)
	f.em.ResetRequests()
	_, err = whoAmI(ctx, fixed) // WebAPIURL follows the move; use the old one
	require.NoError(t, err)
	require.NoError(t, f.em.MoveTenant(testCtx))
	_, err = whoAmI(ctx, fixed)
	assert.ErrorIs(t, err, tenant.ErrMisdirected)
	assert.Equal(t, 2, f.em.Count(superidtest.EndpointTenantAPI))
}

func TestResolverCachesUntilValidUntil(t *testing.T) {
	f := setup(t, superidtest.WithTenantStateValidity(time.Hour))
	var skew atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	c := f.resolved(t, now)
	ctx := context.Background()
	for range 3 {
		_, err := whoAmI(ctx, c)
		require.NoError(t, err)
	}
	assert.Equal(t, 1, f.em.Count(superidtest.EndpointTenantState), "lookups within ValidUntil")
	skew.Store(int64(61 * time.Minute))
	_, err := whoAmI(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, 2, f.em.Count(superidtest.EndpointTenantState), "lookups after ValidUntil")
}

func TestTenantNotRunningIsNeverCalled(t *testing.T) {
	for _, state := range []tenant.StateName{tenant.StateOfflineMaintenance, tenant.StateSuspended, tenant.StateDeleted, tenant.StateMigrationPending} {
		t.Run(string(state), func(t *testing.T) {
			f := setup(t)
			require.NoError(t, f.em.SetTenantState(testCtx, string(state)))
			c := f.resolved(t, nil)
			_, err := createCompany(context.Background(), c, "Nope")
			require.ErrorIs(t, err, tenant.ErrTenantNotRunning)
			te := asError(t, err)
			require.NotNil(t, te.State)
			assert.Equal(t, state, te.State.State)
			assert.False(t, te.State.IsRunning)
			assert.Contains(t, err.Error(), string(state))
			ex, _ := f.tickets.counts()
			assert.Zero(t, f.em.Count(superidtest.EndpointTenantAPI), "tenant requests")
			assert.Zero(t, ex, "exchanges")
		})
	}
	t.Run("OnlineMaintenance", func(t *testing.T) {
		f := setup(t)
		require.NoError(t, f.em.SetTenantState(testCtx, "OnlineMaintenance"))
		_, err := whoAmI(context.Background(), f.resolved(t, nil))
		require.NoError(t, err)
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
	require.ErrorIs(t, err, tenant.ErrForeignHost, "New with a foreign BaseURL")

	// A state API answer whose Api or Endpoint names another host:
	// refused, nothing sent.
	api, endpoint := "http://evil.example.com/"+testCtx+"/api", "http://evil.example.com/"+testCtx
	for name, urls := range map[string][2]string{
		"Api":      {api, f.em.TenantEndpoint(testCtx)},
		"Endpoint": {f.em.TenantEndpoint(testCtx) + "/api", endpoint},
	} {
		rec := &recordingTransport{next: http.DefaultTransport}
		f.em.Fail(superidtest.EndpointTenantState, superidtest.Fault{Status: 200, Body: fmt.Sprintf(
			`{"ContextIdentifier":%q,"Endpoint":%q,"State":"Running","IsRunning":true,"ValidUntil":"2099-01-01T00:00:00.0000000Z","Api":%q}`,
			testCtx, urls[1], urls[0])})
		r, err := tenant.NewResolver(tenant.ResolverConfig{Environment: f.env, HTTPClient: &http.Client{Transport: rec}})
		require.NoError(t, err)
		c, err := tenant.New(tenant.Config{Resolver: r, ContextIdentifier: testCtx, Credentials: tenant.SystemUser(f.tickets, testSecret),
			HTTPClient: &http.Client{Transport: rec}})
		require.NoError(t, err)
		_, err = whoAmI(ctx, c)
		require.ErrorIs(t, err, tenant.ErrForeignHost, "foreign %s from the state API", name)
		for _, h := range rec.hosts() {
			assert.NotContains(t, h, "evil", "the foreign host received a request")
		}
		ex, _ := f.tickets.counts()
		assert.Zero(t, ex, "exchanges")
		assert.Zero(t, f.em.Count(superidtest.EndpointTenantAPI), "tenant requests")
		f.em.ClearFaults()
	}
}

// A redirect is not followed, and no credential reaches its target.
func TestRedirectIsNotFollowed(t *testing.T) {
	f := setup(t)
	other := newHostSpy(t, false)
	c := f.client(t)
	for _, status := range []int{301, 302, 303, 307, 308} {
		f.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Status: status, Times: 1,
			Header: http.Header{"Location": {other.URL + "/steal?ticket=1"}}})
		_, err := getContact(context.Background(), c, 1)
		require.ErrorIs(t, err, tenant.ErrRedirect, "%d", status)
		assert.Equal(t, status, asError(t, err).StatusCode)
		assert.NotContains(t, err.Error(), "steal", "the error repeats the redirect's path and query")
	}
	assert.Empty(t, other.seen(), "the redirect target received requests")
}

// A redirect from the tenant's host means it may have moved: the cached
// state goes, and the next call asks the state API first. The redirect
// target receives nothing.
func TestRedirectDropsTheCachedState(t *testing.T) {
	f := setup(t, superidtest.WithTenantStateValidity(time.Hour))
	other := newHostSpy(t, false)
	c := f.resolved(t, nil)
	ctx := context.Background()
	_, err := whoAmI(ctx, c)
	require.NoError(t, err)
	require.Equal(t, 1, f.em.Count(superidtest.EndpointTenantState))

	f.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Status: http.StatusFound, Times: 1,
		Header: http.Header{"Location": {other.URL + "/" + testCtx + "/api/v1/User/currentPrincipal"}}})
	_, err = whoAmI(ctx, c)
	require.ErrorIs(t, err, tenant.ErrRedirect)
	assert.Equal(t, 1, f.em.Count(superidtest.EndpointTenantState), "the redirect itself is not retried")

	f.em.ResetRequests()
	_, err = whoAmI(ctx, c)
	require.NoError(t, err)
	require.Equal(t, 1, f.em.Count(superidtest.EndpointTenantState), "the call after the redirect asks the state API")
	all := f.em.Requests("")
	if assert.NotEmpty(t, all) {
		assert.Equal(t, superidtest.EndpointTenantState, all[0].Endpoint, "the state API is asked first")
	}
	assert.Empty(t, other.seen(), "the redirect target received requests")
}

func TestRetryRules(t *testing.T) {
	f := setup(t)
	c := f.client(t)
	ctx := context.Background()
	seed, err := f.em.AddContact(testCtx, superidtest.Contact{Name: "Seed"})
	require.NoError(t, err)
	get := func() error { _, err := getContact(ctx, c, seed.ContactID); return err }
	create := func() error { return c.Do(ctx, http.MethodPost, "v1/Contact", contact{Name: "Once"}, nil) }

	cases := []struct {
		name      string
		fault     superidtest.Fault
		call      func() error
		wantErr   error
		wantCalls int
	}{
		{"GET retried on 503", superidtest.Fault{Status: 503, Times: 2}, get, nil, 3},
		{"GET retried on 429 with Retry-After", superidtest.Fault{Status: 429, Times: 1, Header: http.Header{"Retry-After": {"0"}}}, get, nil, 2},
		{"GET gives up after MaxRetries", superidtest.Fault{Status: 502}, get, tenant.ErrServer, 3},
		{"429 exhausted is ErrRateLimited", superidtest.Fault{Status: 429}, get, tenant.ErrRateLimited, 3},
		{"501 not retried", superidtest.Fault{Status: 501}, get, tenant.ErrServer, 1},
		{"404 not retried", superidtest.Fault{Status: 404}, get, tenant.ErrNotFound, 1},
		{"PUT retried", superidtest.Fault{Status: 500, Times: 1},
			func() error {
				return c.Do(ctx, http.MethodPut, fmt.Sprintf("v1/Contact/%d", seed.ContactID), contact{ContactID: seed.ContactID, Name: "Seed 2"}, nil)
			}, nil, 2},
		{"DELETE retried", superidtest.Fault{Status: 503, Times: 1},
			func() error {
				s, err := f.em.AddContact(testCtx, superidtest.Contact{Name: "Doomed"})
				require.NoError(t, err)
				return c.Do(ctx, http.MethodDelete, fmt.Sprintf("v1/Contact/%d", s.ContactID), nil, nil)
			}, nil, 2},
		{"POST not retried", superidtest.Fault{Status: 503, Times: 1}, create, tenant.ErrServer, 1},
		{"POST not retried on 429", superidtest.Fault{Status: 429, Times: 1}, create, tenant.ErrRateLimited, 1},
		{"POST marked Idempotent retried", superidtest.Fault{Status: 503, Times: 1},
			func() error {
				return c.Do(ctx, http.MethodPost, "v1/Contact", contact{Name: "Twice-safe"}, nil, tenant.Idempotent())
			}, nil, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.em.ClearFaults()
			f.em.ResetRequests()
			f.em.Fail(superidtest.EndpointTenantAPI, tc.fault)
			err := tc.call()
			f.em.ClearFaults()
			if tc.wantErr == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tc.wantErr)
			}
			assert.Equal(t, tc.wantCalls, f.em.Count(superidtest.EndpointTenantAPI), "requests")
		})
	}
	for _, c := range f.em.Contacts(testCtx) {
		assert.NotEqual(t, "Once", c.Name, "a POST that failed with 503/429 was repeated and created a contact")
	}

	// The last answer's Retry-After is on the error, for a caller that
	// schedules the next try; a date counts from the answer's own Date.
	date := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	for ra, want := range map[string]time.Duration{
		"120": 2 * time.Minute, date.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second, "": 0, "soon": 0,
	} {
		f.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Status: 429, Times: 1,
			Header: http.Header{"Retry-After": {ra}, "Date": {date.Format(http.TimeFormat)}}})
		assert.Equal(t, want, asError(t, create()).RetryAfter, "Retry-After %q", ra)
	}

	// A slow server and a caller who gives up: the ctx error comes back.
	f.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Delay: time.Minute})
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = getContact(cctx, c, seed.ContactID)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "canceled call")
	f.em.ClearFaults()

	// Connection errors are retried, then reported with the cause.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	dc, err := tenant.New(tenant.Config{BaseURL: dead.URL + "/Cust1/api/", Retry: fastRetry})
	require.NoError(t, err)
	err = dc.Do(ctx, http.MethodGet, "v1/Contact/1", nil, nil)
	assert.Zero(t, asError(t, err).StatusCode)
	assert.Error(t, errors.Unwrap(err), "the cause is kept")
}

// A tenant that goes offline after its state was cached answers 503; the
// client then drops the cached state, so that the next request finds the
// tenant not running without calling it.
func TestServerErrorDropsTheCachedState(t *testing.T) {
	f := setup(t, superidtest.WithTenantStateValidity(time.Hour))
	c := f.resolved(t, nil)
	ctx := context.Background()
	_, err := whoAmI(ctx, c)
	require.NoError(t, err)
	require.NoError(t, f.em.SetTenantState(testCtx, string(tenant.StateOfflineMaintenance)))
	_, err = whoAmI(ctx, c)
	require.ErrorIs(t, err, tenant.ErrServer, "call to a tenant gone offline")
	calls := f.em.Count(superidtest.EndpointTenantAPI)
	_, err = whoAmI(ctx, c)
	require.ErrorIs(t, err, tenant.ErrTenantNotRunning, "next call")
	assert.Equal(t, calls, f.em.Count(superidtest.EndpointTenantAPI), "the next call reached the offline tenant")
	assert.Equal(t, 2, f.em.Count(superidtest.EndpointTenantState), "state lookups")
}
