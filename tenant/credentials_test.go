package tenant_test

import (
	"context"
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
	"golang.org/x/oauth2"

	"github.com/go-superoffice/superoffice/superid/superidtest"
	"github.com/go-superoffice/superoffice/systemuser"
	"github.com/go-superoffice/superoffice/tenant"
)

// A 401 that a new ticket cannot cure (here a wrong SO-AppToken) must not
// cost one exchange per request, whether the requests share a client or
// each makes its own (as a web handler might) on one ticket source.
func TestPersistent401DoesNotExchangePerRequest(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	sut, err := f.em.Approve(testCtx, testClient)
	require.NoError(t, err)
	su, err := systemuser.New(systemuser.Config{Environment: f.env, ClientSecret: testSecret, PrivateKey: appKey(t)})
	require.NoError(t, err)
	src := su.TicketSource(testCtx, sut)
	newClient := func() *tenant.Client {
		c, err := tenant.New(tenant.Config{BaseURL: f.em.WebAPIURL(testCtx), Environment: f.env,
			Credentials: tenant.SystemUser(src, "not-the-app-secret"), Retry: fastRetry})
		require.NoError(t, err)
		return c
	}

	c := newClient()
	for i := range 10 {
		_, err := whoAmI(ctx, c)
		require.ErrorIs(t, err, tenant.ErrUnauthorized, "call %d", i)
	}
	assert.LessOrEqual(t, f.em.Exchanges(testCtx), 2, "exchanges for 10 refused calls on one client")
	for i := range 10 {
		_, err := whoAmI(ctx, newClient())
		require.ErrorIs(t, err, tenant.ErrUnauthorized, "client %d", i)
	}
	assert.LessOrEqual(t, f.em.Exchanges(testCtx), 2, "exchanges for 20 refused calls")
	assert.LessOrEqual(t, f.em.Count(superidtest.EndpointTenantAPI), 22, "tenant requests for 20 calls")
}

// A ticket older than a minute is still invalidated after a 401: one
// new exchange and one retry, with systemuser's real cache.
func TestOldTicket401ReexchangesWithRealCache(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	sut, err := f.em.Approve(testCtx, testClient)
	require.NoError(t, err)
	su, err := systemuser.New(systemuser.Config{Environment: f.env, ClientSecret: testSecret, PrivateKey: appKey(t)})
	require.NoError(t, err)
	creds := tenant.SystemUser(su.TicketSource(testCtx, sut), testSecret)
	var clock testClock
	tenant.SetSystemUserClock(creds, clock.Now)
	c := f.client(t, func(cfg *tenant.Config) { cfg.Credentials = creds })
	_, err = whoAmI(ctx, c)
	require.NoError(t, err)

	clock.Advance(10 * time.Minute)
	f.em.ExpireTickets(testCtx)
	f.em.ResetRequests()
	_, err = whoAmI(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, 2, f.em.Exchanges(testCtx), "exchanges")
	assert.Equal(t, 2, f.em.Count(superidtest.EndpointTenantAPI), "tenant requests")
}

func TestNewRefusesIncompleteCredentials(t *testing.T) {
	f := setup(t)
	for name, cr := range map[string]tenant.Credentials{
		"empty app token":  tenant.SystemUser(f.tickets, ""),
		"blank app token":  tenant.SystemUser(f.tickets, "  "),
		"no ticket source": tenant.SystemUser(nil, testSecret),
		"no token source":  tenant.AccessToken(nil),
	} {
		_, err := tenant.New(tenant.Config{BaseURL: f.em.WebAPIURL(testCtx), Environment: f.env, Credentials: cr})
		if assert.Error(t, err, name) {
			assert.True(t, strings.HasPrefix(err.Error(), "tenant: "), "%s: %v", name, err)
		}
	}
	_, err := tenant.New(tenant.Config{BaseURL: f.em.WebAPIURL(testCtx), Environment: f.env, Credentials: tenant.SystemUser(f.tickets, "")})
	assert.ErrorContains(t, err, "application token", "empty app token: the error says what is missing")
}

// hangingTokenSource blocks in Token until released, as a token
// endpoint that never answers would; it counts the calls.
type hangingTokenSource struct {
	release chan struct{}
	calls   atomic.Int32
	tok     string
}

func (h *hangingTokenSource) Token() (*oauth2.Token, error) {
	h.calls.Add(1)
	<-h.release
	return &oauth2.Token{AccessToken: h.tok, TokenType: "bearer"}, nil
}

// A refresh that hangs must not hold a request past its ctx; the requests
// waiting meanwhile share the one refresh, which goes on for the next.
func TestAccessTokenRefreshHonoursCtx(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var sent atomic.Int32
		var auth atomic.Value
		rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			sent.Add(1)
			auth.Store(r.Header.Get("Authorization"))
			return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
				Body: io.NopCloser(strings.NewReader(`{"UserType":"InternalAssociate"}`)), Request: r}, nil
		})
		ts := &hangingTokenSource{release: make(chan struct{}), tok: "TOKEN"}
		c, err := tenant.New(tenant.Config{BaseURL: "http://127.0.0.1:1/Cust1/api/", Environment: "http://127.0.0.1:1",
			Credentials: tenant.AccessToken(ts), HTTPClient: &http.Client{Transport: rt}})
		require.NoError(t, err)

		var wg sync.WaitGroup
		errs := make([]error, 4)
		cancels := make([]context.CancelFunc, 4)
		for i := range errs {
			ctx, cancel := context.WithCancel(t.Context())
			cancels[i] = cancel
			wg.Go(func() { _, errs[i] = whoAmI(ctx, c) })
		}
		synctest.Wait() // one refresh hangs, four requests wait on it
		assert.Equal(t, int32(1), ts.calls.Load(), "Token calls for 4 waiting requests")
		for _, cancel := range cancels {
			cancel()
		}
		wg.Wait()
		for i, err := range errs {
			assert.ErrorIs(t, err, context.Canceled, "request %d", i)
		}
		assert.Zero(t, sent.Load(), "requests sent without a token")

		close(ts.release) // the endpoint answers at last
		synctest.Wait()
		me, err := whoAmI(t.Context(), c)
		require.NoError(t, err)
		assert.Equal(t, "InternalAssociate", me.UserType)
		assert.Equal(t, "Bearer TOKEN", auth.Load())
	})
}
