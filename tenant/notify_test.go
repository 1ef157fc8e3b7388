package tenant_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/superid/superidtest"
	"github.com/go-superoffice/superoffice/tenant"
)

// pushFixture is the emulator pushing tenant status notifications to a
// StateChangeHandler that updates the resolver of a system-user client.
type pushFixture struct {
	*fixture
	resolver *tenant.Resolver
	client   *tenant.Client
	app      *httptest.Server

	mu      sync.Mutex
	changes []tenant.StateChange
	fail    error // what OnChange returns
}

func pushSetup(t *testing.T) *pushFixture {
	t.Helper()
	f := &pushFixture{fixture: setup(t)}
	var err error
	f.resolver, err = tenant.NewResolver(tenant.ResolverConfig{Environment: f.env, Retry: fastRetry})
	require.NoError(t, err)
	f.client, err = tenant.New(tenant.Config{Resolver: f.resolver, ContextIdentifier: testCtx,
		Credentials: tenant.SystemUser(f.tickets, testSecret), Retry: fastRetry})
	require.NoError(t, err)
	h, err := tenant.NewStateChangeHandler(tenant.StateChangeConfig{
		Environment: f.env,
		Resolver:    f.resolver,
		OnChange: func(_ context.Context, c *tenant.StateChange) error {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.changes = append(f.changes, *c)
			return f.fail
		},
	})
	require.NoError(t, err)
	f.app = httptest.NewServer(h)
	t.Cleanup(f.app.Close)
	require.NoError(t, f.em.SetStateChangeURL(testClient, f.app.URL+"/superoffice/state", nil))
	return f
}

func (f *pushFixture) seen() []tenant.StateChange {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]tenant.StateChange(nil), f.changes...)
}

// call makes one request and returns the state and tenant API requests
// it took, and its error.
func (f *pushFixture) call(t *testing.T) (stateLookups, apiCalls int, err error) {
	t.Helper()
	f.em.ResetRequests()
	_, err = whoAmI(t.Context(), f.client)
	return f.em.Count(superidtest.EndpointTenantState), f.em.Count(superidtest.EndpointTenantAPI), err
}

// lastDelivery is the emulator's record of its last notification.
func (f *pushFixture) lastDelivery(t *testing.T) superidtest.Notification {
	t.Helper()
	ns := f.em.Notifications()
	require.NotEmpty(t, ns)
	return ns[len(ns)-1]
}

func TestStateChangeMoveGoesToTheNewHost(t *testing.T) {
	f := pushSetup(t)
	lookups, _, err := f.call(t)
	require.NoError(t, err)
	require.Equal(t, 1, lookups)

	require.NoError(t, f.em.MoveTenant(testCtx))
	assert.Equal(t, http.StatusOK, f.lastDelivery(t).Status)
	moved, err := url.Parse(f.em.TenantEndpoint(testCtx))
	require.NoError(t, err)
	changes := f.seen()
	require.Len(t, changes, 1)
	assert.Equal(t, tenant.ChangeMove, changes[0].Type)
	assert.Equal(t, testCtx, changes[0].ContextIdentifier)
	assert.Equal(t, moved.Host, changes[0].PublicEndpoint)
	assert.False(t, changes[0].Expiry.IsZero())

	// The next call asks the state API and goes to the new host: no 421.
	lookups, calls, err := f.call(t)
	require.NoError(t, err)
	assert.Equal(t, 1, lookups, "state lookups")
	assert.Equal(t, 1, calls, "tenant API requests (a 421 would make 2)")
	st, _ := f.resolver.Cached(testCtx)
	require.NotNil(t, st)
	assert.Contains(t, st.API, moved.Host)
}

func TestStateChangeSuspendAndDeleteFailFast(t *testing.T) {
	for _, tc := range []struct {
		state string
		want  tenant.StateName
	}{{"Suspended", tenant.StateSuspended}, {"Deleted", tenant.StateDeleted}} {
		t.Run(tc.state, func(t *testing.T) {
			f := pushSetup(t)
			_, _, err := f.call(t)
			require.NoError(t, err)

			require.NoError(t, f.em.SetTenantState(testCtx, tc.state))
			assert.Equal(t, http.StatusOK, f.lastDelivery(t).Status)
			lookups, calls, err := f.call(t)
			require.ErrorIs(t, err, tenant.ErrTenantNotRunning)
			assert.Equal(t, tc.want, asError(t, err).State.State)
			assert.Zero(t, lookups, "no state request")
			assert.Zero(t, calls, "no tenant API request")
		})
	}
}

func TestStateChangeResumeAndUpgradeClearSuspension(t *testing.T) {
	f := pushSetup(t)
	require.NoError(t, f.em.SetTenantState(testCtx, "Suspended"))
	_, _, err := f.call(t)
	require.ErrorIs(t, err, tenant.ErrTenantNotRunning)

	// Resume: the next call asks the state API, and runs.
	require.NoError(t, f.em.SetTenantState(testCtx, "Running"))
	lookups, calls, err := f.call(t)
	require.NoError(t, err)
	assert.Equal(t, 1, lookups)
	assert.Equal(t, 1, calls)

	// Deleted, then back without a notification: still refused without a
	// request, until an Upgrade (or a restore) clears it.
	require.NoError(t, f.em.SetTenantState(testCtx, "Deleted"))
	require.NoError(t, f.em.SetTenantState(testCtx, "Running"))
	lookups, _, err = f.call(t)
	require.ErrorIs(t, err, tenant.ErrTenantNotRunning)
	assert.Zero(t, lookups)
	for _, change := range []superidtest.StateChange{superidtest.StateChangeUpgrade, superidtest.StateChangeBackupRestored} {
		require.NoError(t, f.em.NotifyStateChange(testCtx, change))
		lookups, calls, err = f.call(t)
		require.NoError(t, err)
		assert.Equal(t, 1, lookups, "%v: state lookups", change)
		assert.Equal(t, 1, calls, "%v: tenant API requests", change)
	}
	var types []tenant.ChangeType
	for _, c := range f.seen() {
		types = append(types, c.Type)
	}
	assert.Equal(t, []tenant.ChangeType{tenant.ChangeSuspend, tenant.ChangeResume, tenant.ChangeDelete,
		tenant.ChangeUpgrade, tenant.ChangeBackupRestored}, types)
}

func TestStateChangeSuspensionLastsNotRunningMaxTTL(t *testing.T) {
	f := pushSetup(t)
	clock := &testClock{}
	r, err := tenant.NewResolver(tenant.ResolverConfig{Environment: f.env, Now: clock.Now, NotRunningMaxTTL: time.Minute})
	require.NoError(t, err)
	r.Apply(&tenant.StateChange{Type: tenant.ChangeSuspend, ContextIdentifier: testCtx})
	_, err = r.Resolve(t.Context(), testCtx)
	require.ErrorIs(t, err, tenant.ErrTenantNotRunning)
	clock.Advance(time.Minute + time.Second)
	// The state API has the last word: the tenant runs.
	st, err := r.Resolve(t.Context(), testCtx)
	require.NoError(t, err)
	assert.Equal(t, tenant.StateRunning, st.State)
}

func TestStateChangeAppFailureAnswers500(t *testing.T) {
	f := pushSetup(t)
	f.fail = errors.New("database down")
	require.NoError(t, f.em.SetTenantState(testCtx, "Suspended"))
	assert.Equal(t, http.StatusInternalServerError, f.lastDelivery(t).Status)
	_, _, err := f.call(t)
	assert.ErrorIs(t, err, tenant.ErrTenantNotRunning, "the resolver is updated all the same")
}

func TestStateChangeRefused(t *testing.T) {
	f := pushSetup(t)
	foreign, err := superidtest.New("http://127.0.0.1:1", superidtest.WithKeySize(1024))
	require.NoError(t, err)
	now := time.Now()
	claims := func(mod func(map[string]any)) map[string]any {
		c := map[string]any{"iss": f.env.Issuer(), "exp": now.Add(5 * time.Minute).Unix(),
			"http://schemes.superoffice.net/identity/ctx": testCtx}
		if mod != nil {
			mod(c)
		}
		return c
	}
	sign := func(em *superidtest.Emulator, c map[string]any) string {
		tok, err := em.SignJWT(c)
		require.NoError(t, err)
		return tok
	}
	good := sign(f.em, claims(nil))
	unsigned := strings.Join(strings.Split(good, ".")[:2], ".") + "."
	body := func(change any, ctxID, token string) string {
		b, err := json.Marshal(map[string]any{"ChangeType": change, "ContextIdentifier": ctxID, "Token": token})
		require.NoError(t, err)
		return string(b)
	}

	for _, tc := range []struct {
		name   string
		method string
		body   string
		status int
	}{
		{"GET", http.MethodGet, "", http.StatusMethodNotAllowed},
		{"not JSON", http.MethodPost, "ChangeType=5", http.StatusBadRequest},
		{"unknown ChangeType", http.MethodPost, body(9, testCtx, good), http.StatusBadRequest},
		{"no ChangeType", http.MethodPost, `{"ContextIdentifier":"` + testCtx + `","Token":"` + good + `"}`, http.StatusBadRequest},
		{"unknown ChangeType name", http.MethodPost, body("Explode", testCtx, good), http.StatusBadRequest},
		{"bad context identifier", http.MethodPost, body(2, "Cust12345/../x", good), http.StatusBadRequest},
		{"no token", http.MethodPost, body(2, testCtx, ""), http.StatusUnauthorized},
		{"unsigned", http.MethodPost, body(2, testCtx, unsigned), http.StatusUnauthorized},
		{"alg none", http.MethodPost, body(2, testCtx, noneToken(t, claims(nil))), http.StatusUnauthorized},
		{"another SuperID's key", http.MethodPost, body(2, testCtx, sign(foreign, claims(nil))), http.StatusUnauthorized},
		{"expired", http.MethodPost, body(2, testCtx, sign(f.em, claims(func(c map[string]any) { c["exp"] = now.Add(-time.Hour).Unix() }))), http.StatusUnauthorized},
		{"no expiry", http.MethodPost, body(2, testCtx, sign(f.em, claims(func(c map[string]any) { delete(c, "exp") }))), http.StatusUnauthorized},
		{"foreign issuer", http.MethodPost, body(2, testCtx, sign(f.em, claims(func(c map[string]any) { c["iss"] = "https://online.superoffice.com" }))), http.StatusUnauthorized},
		{"another tenant's token", http.MethodPost, body(2, testCtx, sign(f.em, claims(func(c map[string]any) {
			c["http://schemes.superoffice.net/identity/ctx"] = "Cust999"
		}))), http.StatusUnauthorized},
		{"too large", http.MethodPost, body(2, testCtx, good) + strings.Repeat(" ", 70<<10), http.StatusRequestEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := f.call(t) // caches the running tenant
			require.NoError(t, err)
			req, err := http.NewRequestWithContext(t.Context(), tc.method, f.app.URL, strings.NewReader(tc.body))
			require.NoError(t, err)
			resp, err := f.app.Client().Do(req)
			require.NoError(t, err)
			var msg bytes.Buffer
			_, _ = msg.ReadFrom(resp.Body)
			resp.Body.Close()
			assert.Equal(t, tc.status, resp.StatusCode, msg.String())
			assert.NotContains(t, msg.String(), good, "the answer quotes no token")
			st, _ := f.resolver.Cached(testCtx)
			assert.NotNil(t, st, "the cached state is kept")
			lookups, _, err := f.call(t)
			assert.NoError(t, err)
			assert.Zero(t, lookups, "nothing changed")
		})
	}
	assert.Empty(t, f.seen(), "the app got no change")

	// A token without a context claim, or with the short one, is accepted,
	// and ChangeType may come by name.
	for _, tok := range []string{
		sign(f.em, claims(func(c map[string]any) { delete(c, "http://schemes.superoffice.net/identity/ctx") })),
		sign(f.em, claims(func(c map[string]any) { c["ctx"] = strings.ToLower(testCtx) })),
	} {
		resp, err := f.app.Client().Post(f.app.URL, "application/json", strings.NewReader(body("Upgrade", testCtx, tok)))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	}
	assert.Len(t, f.seen(), 2)
}

// noneToken is an unsigned JWT with alg "none".
func noneToken(t *testing.T, claims map[string]any) string {
	t.Helper()
	h, err := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
	require.NoError(t, err)
	p, err := json.Marshal(claims)
	require.NoError(t, err)
	enc := base64.RawURLEncoding.EncodeToString
	return enc(h) + "." + enc(p) + "."
}

func TestNewStateChangeHandlerChecksConfig(t *testing.T) {
	_, err := tenant.NewStateChangeHandler(tenant.StateChangeConfig{})
	assert.ErrorContains(t, err, "Environment is required")
	r, err := tenant.NewResolver(tenant.ResolverConfig{Environment: "sod"})
	require.NoError(t, err)
	_, err = tenant.NewStateChangeHandler(tenant.StateChangeConfig{Environment: "online", Resolver: r})
	assert.ErrorContains(t, err, "environment differs")
	_, err = tenant.NewStateChangeHandler(tenant.StateChangeConfig{Environment: "sod", Resolver: &tenant.Resolver{}})
	assert.ErrorContains(t, err, "NewResolver")

	var zero tenant.StateChangeHandler
	rec := httptest.NewRecorder()
	zero.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", nil))
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
}

func TestChangeTypeString(t *testing.T) {
	assert.Equal(t, "Move", tenant.ChangeMove.String())
	assert.Equal(t, "ChangeType(9)", tenant.ChangeType(9).String())
}

// holdFirst holds the first request until release is closed, after
// telling started; the others pass at once.
type holdFirst struct {
	once             sync.Once
	started, release chan struct{}
}

func (h *holdFirst) RoundTrip(req *http.Request) (*http.Response, error) {
	h.once.Do(func() {
		close(h.started)
		<-h.release
	})
	return http.DefaultTransport.RoundTrip(req)
}

// A lookup under way when a Suspend is applied, or the tenant forgotten
// (after a redirect), answers its caller as it found the tenant, but does
// not put that answer in the cache over the change.
func TestResolverLookupUnderWayDoesNotUndoAChange(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(r *tenant.Resolver)
		check  func(t *testing.T, err error, lookups int)
	}{
		{"Suspend", func(r *tenant.Resolver) {
			r.Apply(&tenant.StateChange{Type: tenant.ChangeSuspend, ContextIdentifier: testCtx})
		}, func(t *testing.T, err error, lookups int) {
			require.ErrorIs(t, err, tenant.ErrTenantNotRunning)
			assert.Zero(t, lookups, "state lookups")
		}},
		{"Forget", func(r *tenant.Resolver) { r.Forget(testCtx) }, func(t *testing.T, err error, lookups int) {
			require.NoError(t, err)
			assert.Equal(t, 1, lookups, "state lookups: the answer from before the Forget was not kept")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t)
			hold := &holdFirst{started: make(chan struct{}), release: make(chan struct{})}
			r, err := tenant.NewResolver(tenant.ResolverConfig{Environment: f.env, Retry: fastRetry,
				HTTPClient: &http.Client{Transport: hold}})
			require.NoError(t, err)
			done := make(chan error, 1)
			go func() {
				_, err := r.Resolve(t.Context(), testCtx)
				done <- err
			}()
			<-hold.started
			tc.change(r)
			close(hold.release)
			require.NoError(t, <-done, "the lookup answers as it found the tenant")

			f.em.ResetRequests()
			_, err = r.Resolve(t.Context(), testCtx)
			tc.check(t, err, f.em.Count(superidtest.EndpointTenantState))
		})
	}
}
