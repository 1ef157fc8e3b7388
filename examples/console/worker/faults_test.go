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

	"github.com/go-superoffice/superoffice/examples/console/demo"
	"github.com/go-superoffice/superoffice/examples/console/worker"
	"github.com/go-superoffice/superoffice/examples/internal/store"
	"github.com/go-superoffice/superoffice/superid/superidtest"
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
		if err != nil {
			t.Fatal(err)
		}

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
		}
		for i := range n {
			tn := sc.tenant(t, i)
			w, special := wants[i]
			if !special {
				w = want{store.OutcomeOK, store.StatusActive, "", time.Hour}
			}
			ok := tn.LastOutcome == w.outcome && tn.Status == w.status && strings.Contains(tn.LastError, w.errLike) &&
				tn.LeaseOwner == "" && (w.status == store.StatusInactive) == (tn.StatusReason != "") &&
				(w.outcome == store.OutcomeOK) == (tn.LastError == "")
			if w.status == store.StatusActive && tn.NextRun.Sub(now) < w.minDelay {
				ok = false
			}
			if !ok {
				t.Errorf("%s: outcome %q status %q reason %q error %q next run +%s; want %+v",
					tn.ContextIdentifier, tn.LastOutcome, tn.Status, tn.StatusReason, tn.LastError, tn.NextRun.Sub(now), w)
			}
		}
		if st.OK != n-18 || st.Retried != 9 || st.Waiting != 3 || st.Deactivated != 2 || st.Failed != 4 {
			t.Errorf("stats %+v", st)
		}
		if got := strings.Count(logs.String(), "tenant deactivated"); got != 2 {
			t.Errorf("%d deactivation lines, want 2:\n%s", got, logs.String())
		}

		// The next cycles: the deactivated tenants are not tried again.
		for range 2 {
			sc.clock.Advance(2 * time.Hour)
			st, err = w.Cycle(context.Background())
			if err != nil || st.Deactivated != 0 || st.Claimed != n-2 {
				t.Fatalf("later cycle: %+v, %v", st, err)
			}
		}
		if got := strings.Count(logs.String(), "tenant deactivated"); got != 2 {
			t.Errorf("%d deactivation lines after more cycles, want still 2", got)
		}
	})
}

// A ticket that SuperOffice has dropped (401) is exchanged again once and
// the run succeeds.
func TestExpiredTicketIsExchangedAgain(t *testing.T) {
	sc := setup(t, sqliteDB(t), 3, setupOpts{})
	w := sc.newWorker(t, nil, nil)
	if st, err := w.Cycle(context.Background()); err != nil || st.OK != 3 {
		t.Fatalf("%+v, %v", st, err)
	}
	sc.srv.ExpireTickets(demo.ContextID(1))
	sc.clock.Advance(time.Hour)
	if st, err := w.Cycle(context.Background()); err != nil || st.OK != 3 {
		t.Fatalf("%+v, %v", st, err)
	}
	if x := sc.srv.Exchanges(demo.ContextID(1)); x != 2 {
		t.Fatalf("%d exchanges, want 2 (one after the 401)", x)
	}
	if x := sc.srv.Exchanges(demo.ContextID(0)); x != 1 {
		t.Fatalf("%d exchanges, want 1", x)
	}
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
	if err != nil {
		t.Fatal(err)
	}
	em.ExpireTickets(demo.ContextID(3)) // a 401 and a second exchange
	sc.clock.Advance(2 * time.Hour)
	if _, err := w.Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
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
	must(t, err)
	key := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	for _, line := range strings.Split(string(key), "\n") {
		if len(line) == 64 {
			secrets["private key line"] = line
		}
	}
	secrets["private exponent"] = base64.StdEncoding.EncodeToString(sc.app.PrivateKey.D.Bytes())[:24]
	if tickets < n || len(logs.String()) < 1000 {
		t.Fatalf("too little to check: %d tickets seen, %d bytes of log", tickets, len(logs.String()))
	}
	for what, s := range secrets {
		if len(s) < 8 {
			t.Fatalf("%s is too short to search for", what)
		}
		if strings.Contains(logs.String(), s) {
			t.Errorf("the log holds the %s", what)
		}
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
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
	w := sc.newWorker(t, nil, func(c *worker.Config) { c.Grace = time.Millisecond })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := w.Cycle(ctx)
		done <- err
	}()
	for deadline := time.Now().Add(10 * time.Second); sc.srv.Count(superidtest.EndpointTenantState) == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the refusal was not followed by a state check")
		}
		time.Sleep(time.Millisecond)
	}
	cancel() // SIGTERM while the state check waits for its answer
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if tn := sc.tenant(t, 0); tn.Status != store.StatusActive || tn.LeaseOwner != "" {
		t.Fatalf("after a cut-short check: %+v, status reason %q", tn.TenantSummary, tn.StatusReason)
	}
}
