package systemuser_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/superid"
	"github.com/go-superoffice/superoffice/superid/superidtest"
	"github.com/go-superoffice/superoffice/systemuser"
)

// claimPrefix starts every SuperOffice claim name.
const claimPrefix = superid.ClaimPrefix

const (
	testCtx    = "Cust12345"
	testSecret = "app-secret-do-not-leak"
	testClient = "app1"
	testSerial = "1801550193"
)

// clock is a settable time source for the emulator and the client alike.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().Truncate(time.Second)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	srv    *superidtest.Server
	clock  *clock
	key    *rsa.PrivateKey
	token  string            // the tenant's system user token
	cfg    systemuser.Config // what client was made with
	client *systemuser.Client
}

// partnerKey is the partner's key: 1024 bits, as signing speed matters
// more than strength in these tests.
var partnerKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		panic(err)
	}
	return k
})

// setup starts an emulator with one app and one tenant that approved it,
// on a clock the test controls, and a Client for it; mod edits the Config.
func setup(t testing.TB, mod func(*systemuser.Config)) *fixture {
	t.Helper()
	f := &fixture{clock: newClock(), key: partnerKey()}
	f.srv = superidtest.NewServer(superidtest.WithClock(f.clock.Now), superidtest.WithKeySize(1024))
	t.Cleanup(f.srv.Close)
	require.NoError(t, f.srv.RegisterApp(superidtest.App{
		ClientID: testClient, ClientSecret: testSecret, Name: "Partner App",
		SystemUser: true, PublicKey: &f.key.PublicKey,
	}))
	require.NoError(t, f.srv.AddTenant(superidtest.Tenant{ContextIdentifier: testCtx, Serial: testSerial}))
	tok, err := f.srv.Approve(testCtx, testClient)
	require.NoError(t, err)
	f.token = tok
	f.cfg = systemuser.Config{
		Environment:  f.srv.Environment(),
		ClientSecret: testSecret,
		PrivateKey:   f.key,
		Now:          f.clock.Now,
		Retry:        systemuser.RetryPolicy{MaxRetries: 3, MinWait: time.Millisecond, MaxWait: 20 * time.Millisecond},
	}
	if mod != nil {
		mod(&f.cfg)
	}
	f.client, err = systemuser.New(f.cfg)
	require.NoError(t, err)
	return f
}

// inProcess returns a copy of the fixture's Config whose requests reach
// the emulator's handler without a network, so that a synctest bubble
// runs them on its fake clock. Its key set is made outside the bubble
// (call inProcess outside it), and the tests that use it never need keys.
func (f *fixture) inProcess() systemuser.Config {
	cfg := f.cfg
	cfg.HTTPClient = &http.Client{Transport: handlerTransport{f.srv}}
	cfg.KeySet = superid.NewKeySet(f.srv.Environment().JWKSURL(), nil)
	return cfg
}

// handlerTransport serves each request with a handler, in process.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if r.Body == nil {
		r.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

// gate holds every exchange request until released, and says when one
// has arrived; other requests (the key set's) pass.
type gate struct {
	next     http.RoundTripper
	arrived  chan struct{} // one value per held request
	release  chan struct{} // closed to let them all on
	requests atomic.Int32
}

func newGate() *gate {
	return &gate{next: http.DefaultTransport, arrived: make(chan struct{}, 100), release: make(chan struct{})}
}

func (g *gate) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.Contains(r.URL.Path, "PartnerSystemUser") {
		g.requests.Add(1)
		g.arrived <- struct{}{}
		select {
		case <-g.release:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	return g.next.RoundTrip(r)
}

// assertNoSecrets fails when an error message carries a credential.
func (f *fixture) assertNoSecrets(t *testing.T, err error, extra ...string) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	for _, s := range append([]string{testSecret, f.token, "7T:"}, extra...) {
		if s != "" {
			assert.NotContains(t, msg, s, "the error holds a credential")
		}
	}
	assert.True(t, strings.HasPrefix(msg, "systemuser: "), "error %q lacks the package prefix", msg)
}

// kinds lists the sentinels err matches, of those Exchange promises.
func kinds(err error) []error {
	var out []error
	for _, k := range []error{systemuser.ErrInvalidArgument, systemuser.ErrRejected, systemuser.ErrRateLimited, systemuser.ErrUnavailable, systemuser.ErrInvalidToken} {
		if errors.Is(err, k) {
			out = append(out, k)
		}
	}
	return out
}

func TestExchange(t *testing.T) {
	f := setup(t, nil)
	tk, err := f.client.Exchange(context.Background(), testCtx, f.token)
	require.NoError(t, err)
	assert.Equal(t, testCtx, tk.ContextIdentifier)
	assert.Equal(t, testSerial, tk.Serial)
	assert.True(t, strings.HasPrefix(tk.Value, "7T:"), "ticket value does not look like a ticket")
	assert.Equal(t, f.srv.WebAPIURL(testCtx), tk.WebAPIURL)
	assert.Equal(t, f.srv.NetServerURL(testCtx), tk.NetServerURL)
	assert.True(t, tk.IssuedAt.Equal(f.clock.Now()), "IssuedAt %v", tk.IssuedAt)
	assert.True(t, tk.Expiry.After(f.clock.Now()), "Expiry %v", tk.Expiry)
	assert.Equal(t, 1, f.srv.Exchanges(testCtx))

	reqs := f.srv.Requests(superidtest.EndpointSystemUser)
	require.Len(t, reqs, 1)
	r := reqs[0]
	assert.Equal(t, http.MethodPost, r.Method)
	// (The emulator records the path after folding /Login to /login.)
	assert.True(t, strings.EqualFold(r.Path, "/Login/api/PartnerSystemUser/Authenticate"), "path %s", r.Path)
	assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	assert.Equal(t, "application/json", r.Header.Get("Accept"))
	var body map[string]string
	require.NoError(t, json.Unmarshal(r.Body, &body))
	want, err := systemuser.Sign(f.key, f.token, f.clock.Now())
	require.NoError(t, err)
	assert.Equal(t, map[string]string{
		"SignedSystemToken": want, "ApplicationToken": testSecret,
		"ContextIdentifier": testCtx, "ReturnTokenType": "JWT",
	}, body)
}

func TestExchangeArguments(t *testing.T) {
	f := setup(t, nil)
	for _, c := range []struct{ ctx, tok string }{{"", f.token}, {"Cust 1", f.token}, {"Cust1/../x", f.token}, {testCtx, ""}} {
		_, err := f.client.Exchange(context.Background(), c.ctx, c.tok)
		assert.ErrorIs(t, err, systemuser.ErrInvalidArgument, "Exchange(%q, %q)", c.ctx, c.tok)
		f.assertNoSecrets(t, err)
	}
	assert.Zero(t, f.srv.Count(superidtest.EndpointSystemUser), "requests sent for bad arguments")
}

// The context identifier and the token swapped: the error must not
// carry any part of the token (which is where the context identifier
// would be quoted), and nothing may be sent.
func TestExchangeSwappedArgumentsLeakNothing(t *testing.T) {
	f := setup(t, nil)
	ctx := context.Background()
	leaks := func(msg, token string) bool {
		for i := 0; i+6 <= len(token); i++ {
			if w := token[i : i+6]; strings.TrimSpace(w) == w && strings.Contains(msg, w) {
				return true
			}
		}
		return false
	}
	for _, tok := range []string{f.token, "Q7DmBgo8k8XyZwv3", "SuperOffice DevNet Node Q7DmBgo8k8", "Cust12345Q7DmBgo"} {
		_, err := f.client.Exchange(ctx, tok, testCtx)
		require.Error(t, err)
		assert.False(t, leaks(err.Error(), tok), "Exchange(token, ctx) = %v holds part of the token", err)
		assert.Contains(t, err.Error(), "swapped")
		_, err = f.client.TicketSource(tok, testCtx).Ticket(ctx)
		require.Error(t, err)
		assert.False(t, leaks(err.Error(), tok), "TicketSource(token, ctx).Ticket = %v holds part of the token", err)
		var e *systemuser.Error
		assert.False(t, errors.As(err, &e), "the token became Error.ContextIdentifier")
	}
	assert.Zero(t, f.srv.Count(superidtest.EndpointSystemUser), "exchanges sent with swapped arguments")

	// A token passed as the pinned serial is not quoted either.
	_, err := f.client.Exchange(ctx, testCtx, f.token, systemuser.WithSerial(f.token))
	assert.ErrorIs(t, err, systemuser.ErrInvalidToken)
	assert.False(t, leaks(err.Error(), f.token), "pinned serial mismatch: %v", err)
}

// A Client not made by New, or a nil ctx or option, gives an error
// rather than a nil dereference.
func TestZeroClientErrs(t *testing.T) {
	var zero systemuser.Client
	var nilClient *systemuser.Client
	var nilCtx context.Context
	f := setup(t, nil)
	for name, call := range map[string]func() error{
		"zero Client": func() error { _, err := zero.Exchange(context.Background(), testCtx, "tok"); return err },
		"nil Client":  func() error { _, err := nilClient.Exchange(context.Background(), testCtx, "tok"); return err },
		"nil ctx":     func() error { _, err := f.client.Exchange(nilCtx, testCtx, f.token); return err },
		"nil ctx to a TicketSource": func() error {
			_, err := f.client.TicketSource(testCtx, f.token).Ticket(nilCtx)
			return err
		},
	} {
		var err error
		assert.NotPanics(t, func() { err = call() }, name)
		assert.ErrorIs(t, err, systemuser.ErrInvalidArgument, name)
		assert.ErrorContains(t, err, "systemuser: ", name)
	}
	_, err := f.client.Exchange(context.Background(), testCtx, f.token, nil)
	assert.NoError(t, err, "a nil ExchangeOption")
	// The refused nil ctx left the tenant's source usable.
	_, err = f.client.TicketSource(testCtx, f.token).Ticket(context.Background())
	assert.NoError(t, err, "Ticket after a nil ctx")
	assert.Zero(t, nilClient.ReuseWindow(), "nil Client's ReuseWindow")
}

// TestExchangeValidation gives the client system-user JWTs that break one
// rule each, through a fault that answers in place of the exchange.
func TestExchangeValidation(t *testing.T) {
	f := setup(t, nil)
	now := f.clock.Now()
	good := func() map[string]any {
		return map[string]any{
			"iss":                         "SuperOffice AS",
			"aud":                         "spn:" + testSerial,
			"iat":                         fmt.Sprint(now.Unix()),
			"nbf":                         now.Add(-time.Minute).Unix(),
			"exp":                         now.Add(5 * time.Minute).Unix(),
			claimPrefix + "ticket":        "7T:abc",
			claimPrefix + "ctx":           testCtx,
			claimPrefix + "serial":        testSerial,
			claimPrefix + "webapi_url":    f.srv.WebAPIURL(testCtx),
			claimPrefix + "netserver_url": f.srv.NetServerURL(testCtx),
		}
	}
	with := func(k string, v any) map[string]any {
		c := good()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	renamed := func(k, to string) map[string]any {
		c := good()
		c[to] = c[k]
		delete(c, k)
		return c
	}
	// Another emulator's key is one SuperID does not publish.
	stranger := superidtest.NewServer(superidtest.WithKeySize(1024))
	defer stranger.Close()
	hs256, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(good())).SignedString([]byte("k"))
	require.NoError(t, err)
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims(good())).SignedString(jwt.UnsafeAllowNoneSignatureType)
	require.NoError(t, err)
	idToken := map[string]any{ // what the login returns, offered in place of a system-user JWT
		"iss": f.srv.Environment().Issuer(), "aud": testClient, "sub": "admin@example.com",
		"iat": fmt.Sprint(now.Unix()), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		claimPrefix + "ctx": testCtx, claimPrefix + "serial": testSerial,
		claimPrefix + "system_token": f.token, "nonce": "n",
	}
	big := good()
	big["pad"] = strings.Repeat("x", systemuser.MaxJWT)

	tests := []struct {
		name   string
		claims map[string]any
		raw    string // instead of claims
		opts   []systemuser.ExchangeOption
		ok     bool
		cause  error
	}{
		{name: "valid", claims: good(), ok: true},
		{name: "numeric iat", claims: with("iat", now.Unix()), ok: true},
		{name: "aud list", claims: with("aud", []string{"other", "spn:" + testSerial}), ok: true},
		{name: "expired within leeway", claims: with("exp", now.Add(-4*time.Minute).Unix()), ok: true},
		{name: "pinned serial", claims: good(), opts: []systemuser.ExchangeOption{systemuser.WithSerial(testSerial)}, ok: true},
		{name: "ctx case", claims: with(claimPrefix+"ctx", "cust12345"), ok: true},
		{name: "wrong iss", claims: with("iss", "https://sod.superoffice.com"), cause: jwt.ErrTokenInvalidIssuer},
		{name: "no iss", claims: with("iss", nil), cause: jwt.ErrTokenRequiredClaimMissing},
		{name: "wrong aud", claims: with("aud", "spn:999")},
		{name: "aud is client id", claims: with("aud", testClient)},
		{name: "no aud", claims: with("aud", nil)},
		{name: "no serial", claims: with(claimPrefix+"serial", nil)},
		{name: "serial not pinned one", claims: good(), opts: []systemuser.ExchangeOption{systemuser.WithSerial("42")}},
		{name: "wrong ctx", claims: with(claimPrefix+"ctx", "Cust999")},
		{name: "no ctx", claims: with(claimPrefix+"ctx", nil)},
		{name: "expired", claims: with("exp", now.Add(-6*time.Minute).Unix()), cause: jwt.ErrTokenExpired},
		{name: "no exp", claims: with("exp", nil), cause: jwt.ErrTokenRequiredClaimMissing},
		{name: "not yet valid", claims: with("nbf", now.Add(10*time.Minute).Unix()), cause: jwt.ErrTokenNotValidYet},
		{name: "iat not a number", claims: with("iat", "yesterday")},
		{name: "no ticket", claims: with(claimPrefix+"ticket", nil)},
		{name: "empty ticket", claims: with(claimPrefix+"ticket", "")},
		{name: "id_token", claims: idToken},
		// Claim names are case-sensitive (RFC 7519), as superid reads them.
		{name: "ticket claim in other case", claims: renamed(claimPrefix+"ticket", strings.ToUpper(claimPrefix+"ticket"))},
		{name: "ctx claim in other case", claims: renamed(claimPrefix+"ctx", strings.ToUpper(claimPrefix+"ctx"))},
		{name: "ISS for iss", claims: renamed("iss", "ISS"), cause: jwt.ErrTokenRequiredClaimMissing},
		{name: "ticket an object", claims: with(claimPrefix+"ticket", map[string]any{"v": "7T:abc"})},
		{name: "ticket null", claims: with(claimPrefix+"ticket", json.RawMessage("null"))},
		{name: "larger than 64 KiB", claims: big},
		{name: "unknown key", raw: mustSign(t, stranger.Emulator, good()), cause: superid.ErrUnknownKey},
		{name: "HS256", raw: hs256, cause: jwt.ErrTokenSignatureInvalid},
		{name: "alg none", raw: none, cause: jwt.ErrTokenSignatureInvalid},
		{name: "not a JWT", raw: "not.a.jwt", cause: jwt.ErrTokenMalformed},
		{name: "tampered", raw: tamper(mustSign(t, f.srv.Emulator, good())), cause: jwt.ErrTokenSignatureInvalid},
		// encoding/base64 skips line breaks, and the signature segment is
		// not signed: one token would have many spellings.
		{name: "line break in signature", raw: breakLine(mustSign(t, f.srv.Emulator, good()))},
		{name: "trailing CRLF", raw: mustSign(t, f.srv.Emulator, good()) + "\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := tt.raw
			if raw == "" {
				raw = mustSign(t, f.srv.Emulator, tt.claims)
			}
			body, err := json.Marshal(map[string]any{"IsSuccessful": true, "Token": raw, "ErrorMessage": nil})
			require.NoError(t, err)
			f.srv.Fail(superidtest.EndpointSystemUser, superidtest.Fault{Status: 200, Body: string(body), Times: 1})
			tk, err := f.client.Exchange(context.Background(), testCtx, f.token, tt.opts...)
			if tt.ok {
				require.NoError(t, err, "refused a valid JWT")
				assert.Equal(t, "7T:abc", tk.Value)
				return
			}
			require.Error(t, err, "accepted")
			assert.Equal(t, []error{systemuser.ErrInvalidToken}, kinds(err), "%v", err)
			if tt.cause != nil {
				assert.ErrorIs(t, err, tt.cause)
			}
			var e *systemuser.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, 200, e.StatusCode)
			assert.Empty(t, e.Body, "Error.Body kept a body that holds a ticket")
			f.assertNoSecrets(t, err, raw, "7T:abc")
		})
	}
}

func mustSign(t testing.TB, e *superidtest.Emulator, claims map[string]any) string {
	t.Helper()
	s, err := e.SignJWT(claims)
	require.NoError(t, err)
	return s
}

// breakLine puts a line break in the middle of the signature.
func breakLine(tok string) string {
	i := strings.LastIndexByte(tok, '.') + 20
	return tok[:i] + "\n" + tok[i:]
}

// tamper changes one character of the signature.
func tamper(tok string) string {
	b := []byte(tok)
	i := len(b) - 5
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func TestExchangeRejected(t *testing.T) {
	t.Run("IsSuccessful false", func(t *testing.T) {
		f := setup(t, nil)
		f.srv.RevokeApproval(testCtx, testClient)
		_, err := f.client.Exchange(context.Background(), testCtx, f.token)
		var e *systemuser.Error
		require.ErrorAs(t, err, &e)
		assert.ErrorIs(t, err, systemuser.ErrRejected)
		assert.NotErrorIs(t, err, systemuser.ErrClockSkew)
		assert.Equal(t, 200, e.StatusCode)
		assert.NotEmpty(t, e.ErrorMessage)
		assert.Contains(t, err.Error(), e.ErrorMessage)
		assert.Equal(t, 1, f.srv.Count(superidtest.EndpointSystemUser), "a rejection was retried")
		f.assertNoSecrets(t, err)
	})
	t.Run("wrong application token", func(t *testing.T) {
		f := setup(t, func(c *systemuser.Config) { c.ClientSecret = "wrong-secret" })
		_, err := f.client.Exchange(context.Background(), testCtx, f.token)
		var e *systemuser.Error
		require.ErrorAs(t, err, &e)
		assert.ErrorIs(t, err, systemuser.ErrRejected)
		assert.Equal(t, 401, e.StatusCode)
		assert.NotEmpty(t, e.ErrorMessage)
		assert.NotEmpty(t, e.Body)
		f.assertNoSecrets(t, err, "wrong-secret")
	})
	t.Run("clock skew", func(t *testing.T) {
		f := setup(t, nil)
		f.srv.ClearFaults()
		// The partner's clock runs 10 minutes fast.
		fast := func() time.Time { return f.clock.Now().Add(10 * time.Minute) }
		c, err := systemuser.New(systemuser.Config{Environment: f.srv.Environment(), ClientSecret: testSecret, PrivateKey: f.key, Now: fast})
		require.NoError(t, err)
		_, err = c.Exchange(context.Background(), testCtx, f.token)
		var e *systemuser.Error
		require.ErrorAs(t, err, &e)
		assert.ErrorIs(t, err, systemuser.ErrRejected)
		assert.ErrorIs(t, err, systemuser.ErrClockSkew)
		assert.Equal(t, -10*time.Minute, e.ClockSkew)
		assert.Contains(t, err.Error(), "ahead of SuperID's by 10m0s", "the message does not explain the clock")
	})
	t.Run("tenant suspended", func(t *testing.T) {
		f := setup(t, nil)
		require.NoError(t, f.srv.SetTenantState(testCtx, "Suspended"))
		_, err := f.client.Exchange(context.Background(), testCtx, f.token)
		assert.ErrorIs(t, err, systemuser.ErrRejected)
	})
}

func TestExchangeRetries(t *testing.T) {
	ctx := context.Background()
	// The waits run on synctest's clock: their length is exact, and the
	// test takes no time.
	for _, tc := range []struct {
		name       string
		retry      systemuser.RetryPolicy
		retryAfter string
		wantWait   time.Duration
		wantSent   int
		why        string
	}{
		{"Retry-After honoured", systemuser.RetryPolicy{MaxRetries: 1, MinWait: time.Millisecond, MaxWait: 5 * time.Second},
			"2", 2 * time.Second, 2, "the retry did not wait for Retry-After"},
		{"Retry-After capped", systemuser.RetryPolicy{MaxRetries: 2, MinWait: time.Millisecond, MaxWait: 20 * time.Millisecond},
			"3600", 40 * time.Millisecond, 3, "two waits of MaxWait each"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t, func(c *systemuser.Config) { c.Retry = tc.retry })
			cfg := f.inProcess()
			f.srv.Fail(superidtest.EndpointSystemUser, superidtest.Fault{Status: 429, Header: http.Header{"Retry-After": {tc.retryAfter}}})
			synctest.Test(t, func(t *testing.T) {
				c, err := systemuser.New(cfg)
				require.NoError(t, err)
				start := time.Now()
				_, err = c.Exchange(ctx, testCtx, f.token)
				assert.ErrorIs(t, err, systemuser.ErrRateLimited)
				assert.Equal(t, tc.wantWait, time.Since(start), tc.why)
			})
			assert.Equal(t, tc.wantSent, f.srv.Count(superidtest.EndpointSystemUser))
		})
	}
	t.Run("ctx ends the backoff", func(t *testing.T) {
		f := setup(t, func(c *systemuser.Config) {
			c.Retry = systemuser.RetryPolicy{MaxRetries: 5, MinWait: 10 * time.Second, MaxWait: 10 * time.Second}
		})
		cfg := f.inProcess()
		f.srv.Fail(superidtest.EndpointSystemUser, superidtest.Fault{Status: 503, Header: http.Header{"Retry-After": {"10"}}})
		synctest.Test(t, func(t *testing.T) {
			c, err := systemuser.New(cfg)
			require.NoError(t, err)
			cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err = c.Exchange(cctx, testCtx, f.token)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Empty(t, kinds(err), "a caller's deadline is no kind of failure")
			assert.Equal(t, 100*time.Millisecond, time.Since(start), "returned later than its ctx")
		})
	})
	t.Run("429 then 200", func(t *testing.T) {
		f := setup(t, nil)
		f.srv.Fail(superidtest.EndpointSystemUser, superidtest.Fault{Status: 429, Header: http.Header{"Retry-After": {"3600"}}, Times: 2})
		_, err := f.client.Exchange(ctx, testCtx, f.token)
		require.NoError(t, err)
		assert.Equal(t, 3, f.srv.Count(superidtest.EndpointSystemUser))
	})
	t.Run("429 until give-up", func(t *testing.T) {
		f := setup(t, nil)
		f.srv.Fail(superidtest.EndpointSystemUser, superidtest.Fault{Status: 429, Body: "slow down",
			Header: http.Header{"Retry-After": {"3600"}}})
		_, err := f.client.Exchange(ctx, testCtx, f.token)
		var e *systemuser.Error
		require.ErrorAs(t, err, &e)
		assert.ErrorIs(t, err, systemuser.ErrRateLimited)
		assert.Equal(t, 429, e.StatusCode)
		// What SuperID asked for, for a caller that schedules the next try.
		assert.Equal(t, time.Hour, e.RetryAfter)
	})
	t.Run("503 then 200, signed afresh", func(t *testing.T) {
		// Each clock read moves a minute on, so each attempt's signature
		// carries its own timestamp; the emulator's clock sits mid-way.
		f := setup(t, func(c *systemuser.Config) {
			var n atomic.Int64
			base := time.Now().Truncate(time.Minute)
			c.Now = func() time.Time { return base.Add(time.Duration(n.Add(1)) * 61 * time.Second) }
		})
		f.clock.Add(3 * time.Minute)
		f.srv.Fail(superidtest.EndpointSystemUser, superidtest.Fault{Status: 503, Times: 1})
		_, err := f.client.Exchange(ctx, testCtx, f.token)
		require.NoError(t, err)
		reqs := f.srv.Requests(superidtest.EndpointSystemUser)
		require.Len(t, reqs, 2)
		var a, b map[string]string
		require.NoError(t, json.Unmarshal(reqs[0].Body, &a))
		require.NoError(t, json.Unmarshal(reqs[1].Body, &b))
		assert.NotEqual(t, a["SignedSystemToken"], b["SignedSystemToken"], "the retry reused the first attempt's signature")
	})
	t.Run("408 and 425 are retried, and unavailable, not rejected", func(t *testing.T) {
		for _, status := range []int{http.StatusRequestTimeout, http.StatusTooEarly} {
			f := setup(t, func(c *systemuser.Config) { c.Retry.MaxRetries = 1 })
			f.srv.Fail(superidtest.EndpointSystemUser, superidtest.Fault{Status: status, Times: 1})
			_, err := f.client.Exchange(ctx, testCtx, f.token)
			require.NoError(t, err, "%d once", status)
			f.srv.Fail(superidtest.EndpointSystemUser, superidtest.Fault{Status: status})
			_, err = f.client.Exchange(ctx, testCtx, f.token)
			assert.Equal(t, []error{systemuser.ErrUnavailable}, kinds(err), "%d until give-up: %v", status, err)
			assert.Equal(t, 2+2, f.srv.Count(superidtest.EndpointSystemUser), "%d: requests", status)
		}
	})
	t.Run("500 until give-up", func(t *testing.T) {
		f := setup(t, func(c *systemuser.Config) { c.Retry.MaxRetries = 2 })
		f.srv.Fail(superidtest.EndpointSystemUser, superidtest.Fault{Status: 500, Body: `{"Message":"An error has occurred."}`})
		_, err := f.client.Exchange(ctx, testCtx, f.token)
		var e *systemuser.Error
		require.ErrorAs(t, err, &e)
		assert.ErrorIs(t, err, systemuser.ErrUnavailable)
		assert.Equal(t, 500, e.StatusCode)
		assert.Contains(t, string(e.Body), "An error has occurred.")
		assert.Equal(t, 3, f.srv.Count(superidtest.EndpointSystemUser), "1 + 2 retries")
		f.assertNoSecrets(t, err)
	})
	t.Run("no retries", func(t *testing.T) {
		f := setup(t, func(c *systemuser.Config) { c.Retry.MaxRetries = -1 })
		f.srv.Fail(superidtest.EndpointSystemUser, superidtest.Fault{Status: 503})
		_, err := f.client.Exchange(ctx, testCtx, f.token)
		assert.ErrorIs(t, err, systemuser.ErrUnavailable)
		assert.Equal(t, 1, f.srv.Count(superidtest.EndpointSystemUser))
	})
	t.Run("connection refused", func(t *testing.T) {
		f := setup(t, nil)
		f.srv.Close()
		_, err := f.client.Exchange(ctx, testCtx, f.token)
		var e *systemuser.Error
		require.ErrorAs(t, err, &e)
		assert.ErrorIs(t, err, systemuser.ErrUnavailable)
		assert.Zero(t, e.StatusCode)
		assert.Error(t, e.Err)
	})
}

// A redirect from the exchange endpoint is not followed, so that the
// application token and the signed token never reach its target, and it
// is a rejection: the same request meets it again.
func TestExchangeRedirectNotFollowed(t *testing.T) {
	var hits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
	}))
	defer other.Close()
	f := setup(t, nil)
	for _, status := range []int{301, 302, 303, 307, 308} {
		f.srv.Fail(superidtest.EndpointSystemUser, superidtest.Fault{
			Status: status, Header: http.Header{"Location": {other.URL + "/steal?x=1"}}, Times: 1,
		})
		_, err := f.client.Exchange(context.Background(), testCtx, f.token)
		var e *systemuser.Error
		require.ErrorAs(t, err, &e, "%d", status)
		assert.Equal(t, status, e.StatusCode)
		assert.Contains(t, err.Error(), "redirect")
		assert.NotContains(t, err.Error(), "x=1", "the redirect target's query is not redacted")
		assert.Equal(t, []error{systemuser.ErrRejected}, kinds(err), "%d: %v", status, err)
		assert.False(t, e.Refused(), "%d: a redirect is no refusal by SuperID", status)
		f.assertNoSecrets(t, err)
	}
	assert.Zero(t, hits.Load(), "the redirect target received requests")
}

func TestExchangeOddResponses(t *testing.T) {
	f := setup(t, nil)
	for _, c := range []struct {
		name string
		body string
		kind error
	}{
		{"html", "<html>proxy login</html>", systemuser.ErrUnavailable},
		{"success without token", `{"IsSuccessful":true}`, systemuser.ErrInvalidToken},
		{"failure without message", `{"IsSuccessful":false}`, systemuser.ErrRejected},
		{"string IsSuccessful", `{"IsSuccessful":"False","ErrorMessage":"nope"}`, systemuser.ErrRejected},
		{"IsSuccessful neither", `{"IsSuccessful":"maybe"}`, systemuser.ErrUnavailable},
	} {
		f.srv.Fail(superidtest.EndpointSystemUser, superidtest.Fault{Status: 200, Body: c.body, Times: 1})
		_, err := f.client.Exchange(context.Background(), testCtx, f.token)
		var e *systemuser.Error
		if assert.ErrorAs(t, err, &e, c.name) {
			assert.Equal(t, []error{c.kind}, kinds(err), "%s: %v", c.name, err)
		}
	}
}

// failingBody is a response body that breaks off.
type failingBody struct{}

func (failingBody) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }
func (failingBody) Close() error             { return nil }

type brokenBodyTransport struct{}

func (brokenBodyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: failingBody{}, Request: r}, nil
}

// TestExchangeFailuresMatchTheirSentinel walks every way Exchange can
// fail and checks that the failure matches the one sentinel its doc
// promises for it, and no other (or, for a caller's ctx, none).
func TestExchangeFailuresMatchTheirSentinel(t *testing.T) {
	var (
		nilClient *systemuser.Client
		nilCtx    context.Context
	)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	fault := func(fl superidtest.Fault) func(*fixture) {
		return func(f *fixture) { f.srv.Fail(superidtest.EndpointSystemUser, fl) }
	}
	body := func(status int, b string) func(*fixture) { return fault(superidtest.Fault{Status: status, Body: b}) }
	redirect := func(status int) func(*fixture) {
		return fault(superidtest.Fault{Status: status, Header: http.Header{"Location": {"https://elsewhere.example/"}}})
	}
	tests := []struct {
		name   string
		cfg    func(*systemuser.Config)
		before func(*fixture)
		call   func(*fixture) error // nil: Exchange(background, testCtx, token)
		want   error                // nil: only ctx's error
		ctxErr error
	}{
		{name: "nil Client", want: systemuser.ErrInvalidArgument, call: func(f *fixture) error {
			_, err := nilClient.Exchange(context.Background(), testCtx, f.token)
			return err
		}},
		{name: "zero Client", want: systemuser.ErrInvalidArgument, call: func(f *fixture) error {
			_, err := (&systemuser.Client{}).Exchange(context.Background(), testCtx, f.token)
			return err
		}},
		{name: "nil ctx", want: systemuser.ErrInvalidArgument, call: func(f *fixture) error {
			_, err := f.client.Exchange(nilCtx, testCtx, f.token)
			return err
		}},
		{name: "bad context identifier", want: systemuser.ErrInvalidArgument, call: func(f *fixture) error {
			_, err := f.client.Exchange(context.Background(), "12345", f.token)
			return err
		}},
		{name: "empty token", want: systemuser.ErrInvalidArgument, call: func(f *fixture) error {
			_, err := f.client.Exchange(context.Background(), testCtx, "")
			return err
		}},
		{name: "ctx ended", ctxErr: context.Canceled, call: func(f *fixture) error {
			_, err := f.client.Exchange(cancelled, testCtx, f.token)
			return err
		}},
		{name: "connection refused", want: systemuser.ErrUnavailable, before: func(f *fixture) { f.srv.Close() }},
		{name: "body breaks off", want: systemuser.ErrUnavailable, cfg: func(c *systemuser.Config) {
			c.HTTPClient = &http.Client{Transport: brokenBodyTransport{}}
		}},
		{name: "301", want: systemuser.ErrRejected, before: redirect(301)},
		{name: "302", want: systemuser.ErrRejected, before: redirect(302)},
		{name: "303", want: systemuser.ErrRejected, before: redirect(303)},
		{name: "304", want: systemuser.ErrRejected, before: fault(superidtest.Fault{Status: 304})},
		{name: "307", want: systemuser.ErrRejected, before: redirect(307)},
		{name: "308", want: systemuser.ErrRejected, before: redirect(308)},
		{name: "400 SystemUserResult", want: systemuser.ErrRejected, before: body(400, `{"IsSuccessful":false,"ErrorMessage":"no"}`)},
		{name: "401", want: systemuser.ErrRejected, before: body(401, "")},
		{name: "403", want: systemuser.ErrRejected, before: body(403, "<html>forbidden</html>")},
		{name: "404", want: systemuser.ErrRejected, before: body(404, "")},
		{name: "408", want: systemuser.ErrUnavailable, before: body(408, "")},
		{name: "425", want: systemuser.ErrUnavailable, before: body(425, "")},
		{name: "429", want: systemuser.ErrRateLimited, before: body(429, "")},
		{name: "500", want: systemuser.ErrUnavailable, before: body(500, "")},
		{name: "502", want: systemuser.ErrUnavailable, before: body(502, "<html>bad gateway</html>")},
		{name: "503", want: systemuser.ErrUnavailable, before: body(503, "")},
		{name: "200 not JSON", want: systemuser.ErrUnavailable, before: body(200, "<html>proxy</html>")},
		{name: "200 JSON without IsSuccessful", want: systemuser.ErrRejected, before: body(200, `{"Message":"?"}`)},
		{name: "200 IsSuccessful false", want: systemuser.ErrRejected, before: body(200, `{"IsSuccessful":false,"ErrorMessage":"no"}`)},
		{name: "200 without Token", want: systemuser.ErrInvalidToken, before: body(200, `{"IsSuccessful":true}`)},
		{name: "200 with a bad JWT", want: systemuser.ErrInvalidToken, before: body(200, `{"IsSuccessful":true,"Token":"not.a.jwt"}`)},
		{name: "key set unavailable", want: systemuser.ErrUnavailable, before: func(f *fixture) {
			f.srv.Fail(superidtest.EndpointJWKS, superidtest.Fault{Status: 503})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t, func(c *systemuser.Config) {
				c.Retry.MaxRetries = -1
				if tt.cfg != nil {
					tt.cfg(c)
				}
			})
			if tt.before != nil {
				tt.before(f)
			}
			var err error
			if tt.call != nil {
				err = tt.call(f)
			} else {
				_, err = f.client.Exchange(context.Background(), testCtx, f.token)
			}
			require.Error(t, err)
			if tt.want == nil {
				assert.Empty(t, kinds(err), "%v", err)
				assert.ErrorIs(t, err, tt.ctxErr)
				return
			}
			assert.Equal(t, []error{tt.want}, kinds(err), "%v", err)
			var e *systemuser.Error
			assert.Equal(t, tt.want != systemuser.ErrInvalidArgument, errors.As(err, &e), "an *Error iff SuperID was asked: %v", err)
			f.assertNoSecrets(t, err)
		})
	}
}

func TestNew(t *testing.T) {
	k := partnerKey()
	ok := systemuser.Config{Environment: "http://127.0.0.1:1", ClientSecret: "s", PrivateKey: k}
	_, err := systemuser.New(ok)
	require.NoError(t, err)
	bad := func(edit func(*systemuser.Config)) systemuser.Config { c := ok; edit(&c); return c }
	for name, cfg := range map[string]systemuser.Config{
		"no environment":  bad(func(c *systemuser.Config) { c.Environment = "" }),
		"bad environment": bad(func(c *systemuser.Config) { c.Environment = "ftp://x" }),
		"no secret":       bad(func(c *systemuser.Config) { c.ClientSecret = "" }),
		"no key":          bad(func(c *systemuser.Config) { c.PrivateKey = nil }),
		"empty key":       bad(func(c *systemuser.Config) { c.PrivateKey = &rsa.PrivateKey{} }),
		"renew too early": bad(func(c *systemuser.Config) { c.RenewBefore = 7 * time.Hour }),
	} {
		_, err := systemuser.New(cfg)
		assert.ErrorContains(t, err, "systemuser: ", name)
	}
}

func TestSharedKeySetAndRotation(t *testing.T) {
	f := setup(t, nil)
	ks := superid.NewKeySet(f.srv.Environment().JWKSURL(), nil)
	a, err := systemuser.New(systemuser.Config{Environment: f.srv.Environment(), ClientSecret: testSecret, PrivateKey: f.key, Now: f.clock.Now, KeySet: ks})
	require.NoError(t, err)
	b, err := systemuser.New(systemuser.Config{Environment: f.srv.Environment(), ClientSecret: testSecret, PrivateKey: f.key, Now: f.clock.Now, KeySet: ks})
	require.NoError(t, err)
	ctx := context.Background()
	for _, c := range []*systemuser.Client{a, b, a} {
		_, err := c.Exchange(ctx, testCtx, f.token)
		require.NoError(t, err)
	}
	assert.Equal(t, 1, f.srv.Count(superidtest.EndpointJWKS), "two clients sharing a key set fetched it more than once")
	// SuperID rotates its key: the next JWT names a key the set lacks.
	require.NoError(t, f.srv.RotateKey())
	_, err = b.Exchange(ctx, testCtx, f.token)
	assert.NoError(t, err, "after a key rotation")
}

func TestKeySetUnavailable(t *testing.T) {
	f := setup(t, nil)
	f.srv.Fail(superidtest.EndpointJWKS, superidtest.Fault{Status: 503})
	_, err := f.client.Exchange(context.Background(), testCtx, f.token)
	assert.Equal(t, []error{systemuser.ErrUnavailable}, kinds(err), "%v", err)
	assert.ErrorIs(t, err, superid.ErrKeySet)
}

// Refused tells SuperID's own refusal (a SystemUserResult with
// IsSuccessful false, at any status) from a bare 4xx or a failure, which
// say nothing about the tenant's approval.
func TestErrorRefused(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		fault superidtest.Fault
		want  bool
	}{
		{"400 with a SystemUserResult", superidtest.Fault{Status: 400, Body: `{"IsSuccessful":false,"ErrorMessage":"Token is revoked","Token":null}`}, true},
		{"200 with IsSuccessful false", superidtest.Fault{Status: 200, Body: `{"IsSuccessful":false,"ErrorMessage":null}`}, true},
		{"a proxy's 404", superidtest.Fault{Status: 404, Body: "<html>Not Found</html>"}, false},
		{"JSON without IsSuccessful", superidtest.Fault{Status: 400, Body: `{"Message":"The request is invalid.","ErrorMessage":"x"}`}, false},
		{"500", superidtest.Fault{Status: 500, Body: `{"IsSuccessful":false}`}, false},
		{"302 with a SystemUserResult", superidtest.Fault{Status: 302, Body: `{"IsSuccessful":false}`}, false},
	} {
		f := setup(t, func(c *systemuser.Config) { c.Retry.MaxRetries = -1 })
		f.srv.Fail(superidtest.EndpointSystemUser, tc.fault)
		_, err := f.client.Exchange(ctx, testCtx, f.token)
		var e *systemuser.Error
		if assert.ErrorAs(t, err, &e, tc.name) {
			assert.Equal(t, tc.want, e.Refused(), "%s: %v", tc.name, err)
		}
	}
	var nilErr *systemuser.Error
	assert.False(t, nilErr.Refused(), "a nil *Error is refused")
}

// TestErrorStatusWithTokenKeepsNoBody: Error.Body is documented empty
// when the body carried a system-user JWT, whatever the status: with no
// ErrorMessage, Error() would print it, ticket and all.
func TestErrorStatusWithTokenKeepsNoBody(t *testing.T) {
	f := setup(t, func(c *systemuser.Config) { c.Retry.MaxRetries = -1 })
	jwt := "eyJhbGciOiJSUzI1NiJ9.eyJ0aWNrZXQiOiI3VDpzZWNyZXQifQ.c2ln"
	for _, status := range []int{400, 503} {
		f.srv.Fail(superidtest.EndpointSystemUser, superidtest.Fault{Status: status, Times: 1,
			Body: `{"IsSuccessful":true,"Token":"` + jwt + `","ErrorMessage":null}`})
		_, err := f.client.Exchange(context.Background(), testCtx, f.token)
		var e *systemuser.Error
		require.ErrorAs(t, err, &e, "%d", status)
		assert.Empty(t, e.Body, "%d: Body kept", status)
		f.assertNoSecrets(t, err, jwt)
	}
}

// Something in SuperID's place that echoes the request in its error page
// would echo the application token and the system user token: Error.Body
// and the message keep neither.
func TestErrorBodyOfAnEchoKeepsNoSecret(t *testing.T) {
	for _, status := range []int{http.StatusBadRequest, http.StatusOK} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			w.WriteHeader(status)
			_, _ = fmt.Fprintf(w, "<html>bad request: %s</html>", body)
		}))
		c, err := systemuser.New(systemuser.Config{Environment: superid.Environment(srv.URL), ClientSecret: testSecret,
			PrivateKey: partnerKey(), Retry: systemuser.RetryPolicy{MaxRetries: -1}})
		require.NoError(t, err)
		const token = "Partner App-sut-token-do-not-leak"
		_, err = c.Exchange(context.Background(), testCtx, token)
		srv.Close()
		var e *systemuser.Error
		require.ErrorAs(t, err, &e, "%d", status)
		assert.NotEmpty(t, e.Body, "%d", status)
		for _, s := range []string{testSecret, token} {
			assert.NotContains(t, string(e.Body), s, "%d: Body", status)
			assert.NotContains(t, err.Error(), s, "%d: message", status)
		}
	}
}
