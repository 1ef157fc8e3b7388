package worker_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"net/http"
	"strings"
	"sync"
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

// Faults at the exchange, the state API and the tenant API end with every
// tenant done, rescheduled with its reason, or made inactive with its
// reason, once; the other tenants carry on.
func TestFaultsEndWithEveryTenantAccountedFor(t *testing.T) {
	eachDB(t, func(t *testing.T, db *database) {
		const n = 40
		sc := setup(t, db, n, setupOpts{})
		em := sc.srv
		id := demo.ContextID
		fail := func(ep superidtest.Endpoint, i int, f superidtest.Fault) {
			f.ContextIdentifier = id(i)
			em.Fail(ep, f)
		}
		fail(superidtest.EndpointSystemUser, 0, superidtest.Fault{Status: 503})
		fail(superidtest.EndpointSystemUser, 1, superidtest.Fault{Status: 429, Header: http.Header{"Retry-After": {"1"}}})
		em.RevokeApproval(id(2), sc.app.ClientID)
		must(t, em.SetTenantState(id(3), "Deleted"))
		must(t, em.SetTenantState(id(4), "OfflineMaintenance"))
		must(t, em.SetTenantState(id(5), "MigrationPending"))
		fail(superidtest.EndpointTenantState, 6, superidtest.Fault{Status: 500})
		fail(superidtest.EndpointTenantAPI, 7, superidtest.Fault{Status: 503})
		fail(superidtest.EndpointTenantAPI, 8, superidtest.Fault{Status: 429, Header: http.Header{"Retry-After": {"2"}}})
		fail(superidtest.EndpointTenantAPI, 9, superidtest.Fault{Status: 400, Body: `{"Message":"Name is required"}`})
		fail(superidtest.EndpointSystemUser, 10, superidtest.Fault{Delay: 3 * time.Second}) // a timeout
		must(t, em.SetTenantState(id(11), "Suspended"))
		em.ExpireTickets(id(12)) // harmless: no ticket yet
		// A bare 404 (a proxy, a wrong Environment) is no refusal by
		// SuperID, and a 408 asks for another try: neither deactivates.
		// (The Date header is the emulator's clock, or the 404 would read
		// as a clock off by a year.)
		fail(superidtest.EndpointSystemUser, 13, superidtest.Fault{Status: 404, Body: "<html>Not Found</html>",
			Header: http.Header{"Date": {sc.clock.Now().Format(http.TimeFormat)}}})
		fail(superidtest.EndpointSystemUser, 14, superidtest.Fault{Status: 408})
		// A server that asks for a long wait gets it, not the shorter backoff.
		fail(superidtest.EndpointTenantAPI, 17, superidtest.Fault{Status: 429, Header: http.Header{"Retry-After": {"600"}}})
		fail(superidtest.EndpointSystemUser, 18, superidtest.Fault{Status: 503, Header: http.Header{"Retry-After": {"900"}}})
		// A withdrawn approval is found by the exchange even when the
		// state lookup fails: a refusal says more than that failure.
		em.RevokeApproval(id(19), sc.app.ClientID)
		fail(superidtest.EndpointTenantState, 19, superidtest.Fault{Status: 404})
		// Refusals that concern the app's request, not the tenant: every
		// tenant would get them, so none is deactivated for them.
		for i, msg := range map[int]string{15: "The signed system token is malformed.", 16: "Only ReturnTokenType JWT is supported."} {
			fail(superidtest.EndpointSystemUser, i, superidtest.Fault{Status: 200, Body: `{"IsSuccessful":false,"ErrorMessage":"` + msg + `"}`,
				Header: http.Header{"Date": {sc.clock.Now().Format(http.TimeFormat)}}})
		}

		var logs syncBuffer
		logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
		w := sc.newWorker(t, logger, func(c *worker.Config) { c.JobTimeout = 500 * time.Millisecond })
		now := sc.clock.Now()
		st, err := w.Cycle(context.Background())
		require.NoError(t, err)

		type want struct {
			outcome  store.Outcome
			status   store.Status
			errLike  string
			minDelay time.Duration // next run at least this long after now
		}
		wants := map[int]want{
			0:  {store.OutcomeRetry, store.StatusActive, "unavailable", 24 * time.Second},
			1:  {store.OutcomeRetry, store.StatusActive, "rate limited", 24 * time.Second},
			2:  {store.OutcomeFailed, store.StatusInactive, "refused the system user token", 0},
			3:  {store.OutcomeFailed, store.StatusInactive, "tenant deleted (state Deleted)", 0},
			4:  {store.OutcomeWaiting, store.StatusActive, "OfflineMaintenance until", 10 * time.Minute},
			5:  {store.OutcomeWaiting, store.StatusActive, "MigrationPending until", 10 * time.Minute},
			6:  {store.OutcomeRetry, store.StatusActive, "500", 24 * time.Second},
			7:  {store.OutcomeRetry, store.StatusActive, "503", 24 * time.Second},
			8:  {store.OutcomeRetry, store.StatusActive, "429", 24 * time.Second},
			9:  {store.OutcomeFailed, store.StatusActive, "Name is required", time.Hour},
			10: {store.OutcomeRetry, store.StatusActive, "deadline exceeded", 24 * time.Second},
			11: {store.OutcomeWaiting, store.StatusActive, "Suspended until", 10 * time.Minute},
			13: {store.OutcomeFailed, store.StatusActive, "HTTP 404", time.Hour},
			14: {store.OutcomeRetry, store.StatusActive, "HTTP 408", 24 * time.Second},
			15: {store.OutcomeFailed, store.StatusActive, "malformed", time.Hour},
			16: {store.OutcomeFailed, store.StatusActive, "ReturnTokenType", time.Hour},
			17: {store.OutcomeRetry, store.StatusActive, "429", 10 * time.Minute},
			18: {store.OutcomeRetry, store.StatusActive, "unavailable", 15 * time.Minute},
			19: {store.OutcomeFailed, store.StatusInactive, "refused the system user token", 0},
		}
		for i := range n {
			tn := sc.tenant(t, i)
			w, special := wants[i]
			if !special {
				w = want{store.OutcomeOK, store.StatusActive, "", time.Hour}
			}
			id := tn.ContextIdentifier
			assert.Equal(t, w.outcome, tn.LastOutcome, "%s: outcome", id)
			assert.Equal(t, w.status, tn.Status, "%s: status", id)
			assert.Contains(t, tn.LastError, w.errLike, "%s: error", id)
			assert.Empty(t, tn.LeaseOwner, "%s: lease owner", id)
			assert.Equal(t, w.status == store.StatusInactive, tn.StatusReason != "", "%s: status reason %q", id, tn.StatusReason)
			assert.Equal(t, w.outcome == store.OutcomeOK, tn.LastError == "", "%s: error %q", id, tn.LastError)
			if w.status == store.StatusActive {
				assert.GreaterOrEqual(t, tn.NextRun.Sub(now), w.minDelay, "%s: next run", id)
			}
		}
		assert.Equal(t, []int64{n - 19, 9, 3, 3, 4}, []int64{st.OK, st.Retried, st.Waiting, st.Deactivated, st.Failed},
			"ok, retried, waiting, deactivated, failed: %+v", st)
		assert.Equal(t, 3, strings.Count(logs.String(), "tenant deactivated"), "deactivation lines:\n%s", logs.String())

		// The next cycles: the deactivated tenants are not tried again.
		for range 2 {
			sc.clock.Advance(2 * time.Hour)
			st, err = w.Cycle(context.Background())
			require.NoError(t, err)
			assert.Zero(t, st.Deactivated, "later cycle: %+v", st)
			assert.Equal(t, int64(n-3), st.Claimed, "later cycle: %+v", st)
		}
		assert.Equal(t, 3, strings.Count(logs.String(), "tenant deactivated"), "deactivation lines after more cycles")
	})
}

// A ticket that SuperOffice has dropped (401) is exchanged again once and
// the run succeeds.
func TestExpiredTicketIsExchangedAgain(t *testing.T) {
	sc := setup(t, sqliteDB(t), 3, setupOpts{})
	w := sc.newWorker(t, nil, nil)
	st, err := w.Cycle(context.Background())
	require.NoError(t, err)
	require.Equal(t, int64(3), st.OK)
	sc.srv.ExpireTickets(demo.ContextID(1))
	sc.clock.Advance(time.Hour)
	st, err = w.Cycle(context.Background())
	require.NoError(t, err)
	require.Equal(t, int64(3), st.OK)
	assert.Equal(t, 2, sc.srv.Exchanges(demo.ContextID(1)), "exchanges: one after the 401")
	assert.Equal(t, 1, sc.srv.Exchanges(demo.ContextID(0)), "exchanges")
}

// A log captured at debug level, through faults and re-exchanges, holds
// no secret: not the client secret, a system user token, a signed token,
// a ticket or the private key.
func TestDebugLogHoldsNoSecret(t *testing.T) {
	const n = 12
	sc := setup(t, sqliteDB(t), n, setupOpts{requestLog: true})
	em := sc.srv
	em.Fail(superidtest.EndpointSystemUser, superidtest.Fault{Status: 503, ContextIdentifier: demo.ContextID(0)})
	em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Status: 400, ContextIdentifier: demo.ContextID(1), Body: `{"Message":"no"}`})
	em.RevokeApproval(demo.ContextID(2), sc.app.ClientID)

	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	w := sc.newWorker(t, logger, nil)
	st, err := w.Cycle(context.Background())
	require.NoError(t, err)
	em.ExpireTickets(demo.ContextID(3)) // a 401 and a second exchange
	sc.clock.Advance(2 * time.Hour)
	_, err = w.Cycle(context.Background())
	require.NoError(t, err)
	logs.WriteString(worker.Summary(st) + worker.Line(st))

	secrets := map[string]string{"client secret": sc.app.ClientSecret}
	for i := range n {
		if tn, err := sc.st.Tenant(context.Background(), demo.ContextID(i)); err == nil {
			secrets["system user token of "+tn.ContextIdentifier] = tn.SystemUserToken
		}
	}
	for _, r := range em.Requests(superidtest.EndpointSystemUser) {
		var in struct{ SignedSystemToken string }
		if json.Unmarshal(r.Body, &in) == nil && in.SignedSystemToken != "" {
			secrets["signed token"] = in.SignedSystemToken
			secrets["signature"] = in.SignedSystemToken[strings.LastIndexByte(in.SignedSystemToken, '.')+1:]
		}
	}
	tickets := 0
	for _, r := range em.Requests(superidtest.EndpointTenantAPI) {
		if v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "SOTicket "); ok {
			secrets["ticket "+v[:6]] = v
			// Its identifying part, in case something prints it decoded.
			secrets["ticket body "+v[:6]] = v[3:20]
			tickets++
		}
	}
	der, err := x509.MarshalPKCS8PrivateKey(sc.app.PrivateKey)
	require.NoError(t, err)
	key := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	for _, line := range strings.Split(string(key), "\n") {
		if len(line) == 64 {
			secrets["private key line"] = line
		}
	}
	secrets["private exponent"] = base64.StdEncoding.EncodeToString(sc.app.PrivateKey.D.Bytes())[:24]
	require.GreaterOrEqual(t, tickets, n, "too little to check: tickets seen")
	require.GreaterOrEqual(t, len(logs.String()), 1000, "too little to check: bytes of log")
	for what, s := range secrets {
		require.GreaterOrEqual(t, len(s), 8, "%s is too short to search for", what)
		assert.NotContains(t, logs.String(), s, "the log holds the %s", what)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	require.NoError(t, err)
}

// syncBuffer is a bytes.Buffer for several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) WriteString(p string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.WriteString(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A shutdown that cuts short the state check after a refused exchange
// reschedules the tenant: without its state a withdrawn approval cannot be
// told from a deleted tenant, and nothing is deactivated on a guess.
func TestShutdownDuringTheRefusalCheckDeactivatesNothing(t *testing.T) {
	sc := setup(t, sqliteDB(t), 1, setupOpts{})
	id := demo.ContextID(0)
	sc.srv.Fail(superidtest.EndpointSystemUser, superidtest.Fault{ContextIdentifier: id, Status: 400,
		Body:   `{"IsSuccessful":false,"ErrorMessage":"system user token revoked"}`,
		Header: http.Header{"Date": {sc.clock.Now().Format(http.TimeFormat)}}})
	sc.srv.Fail(superidtest.EndpointTenantState, superidtest.Fault{ContextIdentifier: id, Delay: 2 * time.Second})
	// The signal: the state check's request leaves for the emulator.
	checking := make(chan struct{})
	var once sync.Once
	cfg := sc.workerConfig(t, nil)
	hc := &http.Client{Transport: onRequest{httpClient().Transport, func(r *http.Request) {
		if strings.Contains(r.URL.Path, "/api/state/") {
			once.Do(func() { close(checking) })
		}
	}}}
	res, err := tenant.NewResolver(tenant.ResolverConfig{Environment: sc.srv.Environment(), HTTPClient: hc,
		Now: sc.clock.Now, Retry: tenant.RetryPolicy{MaxRetries: -1}})
	require.NoError(t, err)
	cfg.Resolver, cfg.Grace = res, time.Millisecond
	w, err := worker.New(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := w.Cycle(ctx)
		done <- err
	}()
	select {
	case <-checking:
	case <-time.After(10 * time.Second):
		require.FailNow(t, "the refusal was not followed by a state check")
	}
	cancel() // SIGTERM while the state check waits for its answer
	require.NoError(t, <-done)
	tn := sc.tenant(t, 0)
	assert.Equal(t, store.StatusActive, tn.Status, "status reason %q", tn.StatusReason)
	assert.Empty(t, tn.LeaseOwner)
}

// onRequest is a RoundTripper that calls f with each request before
// sending it: a test's signal that a request left.
type onRequest struct {
	http.RoundTripper
	f func(*http.Request)
}

func (t onRequest) RoundTrip(r *http.Request) (*http.Response, error) {
	t.f(r)
	return t.RoundTripper.RoundTrip(r)
}
