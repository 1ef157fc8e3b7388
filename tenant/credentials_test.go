package tenant_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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
	must(t, err)
	su, err := systemuser.New(systemuser.Config{Environment: f.env, ClientSecret: testSecret, PrivateKey: appKey(t)})
	must(t, err)
	src := su.TicketSource(testCtx, sut)
	newClient := func() *tenant.Client {
		c, err := tenant.New(tenant.Config{BaseURL: f.em.WebAPIURL(testCtx), Environment: f.env,
			Credentials: tenant.SystemUser(src, "not-the-app-secret"), Retry: fastRetry})
		must(t, err)
		return c
	}

	c := newClient()
	for i := range 10 {
		if _, err := currentPrincipal(ctx, c); !errors.Is(err, tenant.ErrUnauthorized) {
			t.Fatalf("call %d: %v, want ErrUnauthorized", i, err)
		}
	}
	if n := f.em.Exchanges(testCtx); n > 2 {
		t.Fatalf("%d exchanges for 10 refused calls on one client, want at most 2", n)
	}
	for i := range 10 {
		if _, err := currentPrincipal(ctx, newClient()); !errors.Is(err, tenant.ErrUnauthorized) {
			t.Fatalf("client %d: %v, want ErrUnauthorized", i, err)
		}
	}
	if n := f.em.Exchanges(testCtx); n > 2 {
		t.Fatalf("%d exchanges for 20 refused calls, want at most 2", n)
	}
	if n := f.em.Count(superidtest.EndpointTenantAPI); n > 22 {
		t.Fatalf("%d tenant requests for 20 calls", n)
	}
}

// A ticket older than a minute is still invalidated after a 401: one
// new exchange and one retry, with systemuser's real cache.
func TestOldTicket401ReexchangesWithRealCache(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	sut, err := f.em.Approve(testCtx, testClient)
	must(t, err)
	su, err := systemuser.New(systemuser.Config{Environment: f.env, ClientSecret: testSecret, PrivateKey: appKey(t)})
	must(t, err)
	creds := tenant.SystemUser(su.TicketSource(testCtx, sut), testSecret)
	var clock testClock
	tenant.SetSystemUserClock(creds, clock.Now)
	c := f.client(t, func(cfg *tenant.Config) { cfg.Credentials = creds })
	_, err = currentPrincipal(ctx, c)
	must(t, err)

	clock.Advance(10 * time.Minute)
	f.em.ExpireTickets(testCtx)
	f.em.ResetRequests()
	_, err = currentPrincipal(ctx, c)
	must(t, err)
	if x, n := f.em.Exchanges(testCtx), f.em.Count(superidtest.EndpointTenantAPI); x != 2 || n != 2 {
		t.Fatalf("%d exchanges and %d tenant requests, want 2 and 2", x, n)
	}
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
		if err == nil || !strings.HasPrefix(err.Error(), "tenant: ") {
			t.Errorf("%s: New gave %v, want an error", name, err)
		}
	}
	_, err := tenant.New(tenant.Config{BaseURL: f.em.WebAPIURL(testCtx), Environment: f.env, Credentials: tenant.SystemUser(f.tickets, "")})
	if err == nil || !strings.Contains(err.Error(), "application token") {
		t.Errorf("empty app token: %v does not say what is missing", err)
	}
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

// A refresh that hangs must not hold a request past its ctx; the
// requests waiting meanwhile share the one refresh.
func TestAccessTokenRefreshHonoursCtx(t *testing.T) {
	f := setup(t)
	tok, err := f.em.AccessTokenFor(testUser)
	must(t, err)
	ts := &hangingTokenSource{release: make(chan struct{}), tok: tok}
	c := f.client(t, func(cfg *tenant.Config) { cfg.Credentials = tenant.AccessToken(ts) })

	errs := make(chan error, 4)
	for range 4 {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			_, err := currentPrincipal(ctx, c)
			errs <- err
		}()
	}
	for range 4 {
		select {
		case err := <-errs:
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("got %v, want the ctx's deadline", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a request waited for a hung token refresh past its ctx")
		}
	}
	if n := ts.calls.Load(); n != 1 {
		t.Errorf("%d Token calls for 4 waiting requests, want 1", n)
	}
	if n := f.em.Count(superidtest.EndpointTenantAPI); n != 0 {
		t.Errorf("%d tenant requests without a token", n)
	}

	close(ts.release) // the endpoint answers at last
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	me, err := currentPrincipal(ctx, c)
	must(t, err)
	if me.UserType != "InternalAssociate" {
		t.Errorf("principal %+v", me)
	}
}
