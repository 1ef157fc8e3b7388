package tenant_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/superid"
	"github.com/go-superoffice/superoffice/superid/superidtest"
	"github.com/go-superoffice/superoffice/systemuser"
	"github.com/go-superoffice/superoffice/tenant"
)

const (
	testCtx    = "Cust12345"
	testClient = "app-client"
	testSecret = "app-secret"
	testUser   = "ada.lovelace@example.com"
)

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
)

func appKey(t testing.TB) *rsa.PrivateKey {
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		require.NoError(t, err)
		testKey = k
	})
	return testKey
}

// fixture is the emulator mounted under a non-empty path prefix (so an
// absolute-path bug fails), with one tenant, one app and one user.
type fixture struct {
	em      *superidtest.Emulator
	env     superid.Environment
	hs      *httptest.Server
	tickets *fakeTickets
}

func setup(t testing.TB, opts ...superidtest.Option) *fixture {
	t.Helper()
	hs := httptest.NewUnstartedServer(nil)
	root := "http://" + hs.Listener.Addr().String() + "/so"
	em, err := superidtest.New(root, append([]superidtest.Option{superidtest.WithKeySize(1024)}, opts...)...)
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/so/", http.StripPrefix("/so", em))
	hs.Config.Handler = mux
	hs.Start()
	t.Cleanup(hs.Close)
	require.NoError(t, em.RegisterApp(superidtest.App{ClientID: testClient, ClientSecret: testSecret, SystemUser: true, PublicKey: &appKey(t).PublicKey}))
	require.NoError(t, em.AddTenant(superidtest.Tenant{ContextIdentifier: testCtx}))
	require.NoError(t, em.AddUser(superidtest.User{Username: testUser, Password: "pw", ContextIdentifier: testCtx, FullName: "Ada Lovelace"}))
	return &fixture{em: em, env: em.Environment(), hs: hs, tickets: &fakeTickets{em: em, ctxID: testCtx, clientID: testClient}}
}

// fastRetry keeps retry tests quick: real waits, but short ones.
var fastRetry = tenant.RetryPolicy{MaxRetries: 2, MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond}

// client is a system-user client on the tenant's webapi_url.
func (f *fixture) client(t testing.TB, mod ...func(*tenant.Config)) *tenant.Client {
	t.Helper()
	cfg := tenant.Config{
		BaseURL:     f.em.WebAPIURL(testCtx),
		Environment: f.env,
		Credentials: tenant.SystemUser(f.tickets, testSecret),
		Retry:       fastRetry,
	}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := tenant.New(cfg)
	require.NoError(t, err)
	return c
}

// resolved is a system-user client that finds the tenant via the state API.
func (f *fixture) resolved(t testing.TB, now func() time.Time) *tenant.Client {
	t.Helper()
	r, err := tenant.NewResolver(tenant.ResolverConfig{Environment: f.env, Now: now, Retry: fastRetry})
	require.NoError(t, err)
	c, err := tenant.New(tenant.Config{
		Resolver: r, ContextIdentifier: testCtx,
		Credentials: tenant.SystemUser(f.tickets, testSecret), Retry: fastRetry,
	})
	require.NoError(t, err)
	return c
}

// contact is the part of a Contact entity the tests read and write; the
// tests reach the web API through Do only.
type contact struct {
	ContactID int `json:"ContactId,omitempty"`
	Name      string
}

// principal is the part of v1/User/currentPrincipal the tests read.
type principal struct {
	UserType string
}

// whoAmI asks who the client's credentials act as: the simplest
// authenticated GET.
func whoAmI(ctx context.Context, c *tenant.Client) (principal, error) {
	var p principal
	err := c.Do(ctx, http.MethodGet, "v1/User/currentPrincipal", nil, &p)
	return p, err
}

// fakeTickets is a TicketSource whose "exchange" mints a ticket in the
// emulator; it counts exchanges and invalidations.
type fakeTickets struct {
	em              *superidtest.Emulator
	ctxID, clientID string

	mu            sync.Mutex
	cur           string
	exchanges     int
	invalidations int
	err           error
}

var _ systemuser.TicketSource = (*fakeTickets)(nil)

func (f *fakeTickets) Ticket(ctx context.Context) (*systemuser.Ticket, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	if f.cur == "" {
		tok, err := f.em.TicketFor(f.ctxID, f.clientID)
		if err != nil {
			return nil, err
		}
		f.cur = tok
		f.exchanges++
	}
	return &systemuser.Ticket{Value: f.cur, ContextIdentifier: f.ctxID, WebAPIURL: f.em.WebAPIURL(f.ctxID)}, nil
}

func (f *fakeTickets) Invalidate() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cur = ""
	f.invalidations++
}

func (f *fakeTickets) counts() (exchanges, invalidations int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.exchanges, f.invalidations
}

// recordingTransport records every request that reaches it before
// passing it on; tests assert that foreign hosts see nothing.
type recordingTransport struct {
	mu   sync.Mutex
	seen []*http.Request
	next http.RoundTripper
}

func (r *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.seen = append(r.seen, req.Clone(context.Background()))
	r.mu.Unlock()
	if r.next == nil {
		return nil, errors.New("recordingTransport: no network for " + req.URL.Host)
	}
	return r.next.RoundTrip(req)
}

func (r *recordingTransport) hosts() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, q := range r.seen {
		out = append(out, strings.ToLower(q.URL.Host))
	}
	return out
}

func asError(t testing.TB, err error) *tenant.Error {
	t.Helper()
	var te *tenant.Error
	require.ErrorAs(t, err, &te)
	return te
}

// testClock is a settable clock that starts at the real time.
type testClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}
