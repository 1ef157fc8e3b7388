package systemuser

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/go-superoffice/superoffice/superid"
	"github.com/go-superoffice/superoffice/superid/superidtest"
)

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
	token  string // the tenant's system user token
	client *Client
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
func setup(t testing.TB, mod func(*Config)) *fixture {
	t.Helper()
	f := &fixture{clock: newClock(), key: partnerKey()}
	f.srv = superidtest.NewServer(superidtest.WithClock(f.clock.Now), superidtest.WithKeySize(1024))
	t.Cleanup(f.srv.Close)
	check(t, f.srv.RegisterApp(superidtest.App{
		ClientID: testClient, ClientSecret: testSecret, Name: "Partner App",
		SystemUser: true, PublicKey: &f.key.PublicKey,
	}))
	check(t, f.srv.AddTenant(superidtest.Tenant{ContextIdentifier: testCtx, Serial: testSerial}))
	tok, err := f.srv.Approve(testCtx, testClient)
	check(t, err)
	f.token = tok
	cfg := Config{
		Environment:  f.srv.Environment(),
		ClientSecret: testSecret,
		PrivateKey:   f.key,
		Now:          f.clock.Now,
		Retry:        RetryPolicy{MaxRetries: 3, MinWait: time.Millisecond, MaxWait: 20 * time.Millisecond},
	}
	if mod != nil {
		mod(&cfg)
	}
	f.client, err = New(cfg)
	check(t, err)
	return f
}

func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// assertNoSecrets fails when an error message carries a credential.
func (f *fixture) assertNoSecrets(t *testing.T, err error, extra ...string) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	for _, s := range append([]string{testSecret, f.token, "7T:"}, extra...) {
		if s != "" && strings.Contains(msg, s) {
			t.Errorf("error %q contains a credential", msg)
		}
	}
	if !strings.HasPrefix(msg, "systemuser: ") {
		t.Errorf("error %q lacks the package prefix", msg)
	}
}

func TestExchange(t *testing.T) {
	f := setup(t, nil)
	tk, err := f.client.Exchange(context.Background(), testCtx, f.token)
	check(t, err)
	if tk.ContextIdentifier != testCtx || tk.Serial != testSerial {
		t.Errorf("ticket for %q/%q", tk.ContextIdentifier, tk.Serial)
	}
	if !strings.HasPrefix(tk.Value, "7T:") {
		t.Errorf("ticket value does not look like a ticket")
	}
	if tk.WebAPIURL != f.srv.WebAPIURL(testCtx) || tk.NetServerURL != f.srv.NetServerURL(testCtx) {
		t.Errorf("URLs %q %q", tk.WebAPIURL, tk.NetServerURL)
	}
	if !tk.IssuedAt.Equal(f.clock.Now()) || !tk.Expiry.After(f.clock.Now()) {
		t.Errorf("IssuedAt %v Expiry %v", tk.IssuedAt, tk.Expiry)
	}
	if n := f.srv.Exchanges(testCtx); n != 1 {
		t.Errorf("%d exchanges", n)
	}

	reqs := f.srv.Requests(superidtest.EndpointSystemUser)
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	// (The emulator records the path after folding /Login to /login.)
	if r.Method != http.MethodPost || !strings.EqualFold(r.Path, "/Login/api/PartnerSystemUser/Authenticate") {
		t.Errorf("%s %s", r.Method, r.Path)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if a := r.Header.Get("Accept"); a != "application/json" {
		t.Errorf("Accept %q", a)
	}
	var body map[string]string
	check(t, json.Unmarshal(r.Body, &body))
	want, err := Sign(f.key, f.token, f.clock.Now())
	check(t, err)
	if body["SignedSystemToken"] != want || body["ApplicationToken"] != testSecret ||
		body["ContextIdentifier"] != testCtx || body["ReturnTokenType"] != "JWT" || len(body) != 4 {
		t.Errorf("request body fields: %v", keys(body))
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestExchangeArguments(t *testing.T) {
	f := setup(t, nil)
	for _, c := range []struct{ ctx, tok string }{{"", f.token}, {"Cust 1", f.token}, {"Cust1/../x", f.token}, {testCtx, ""}} {
		if _, err := f.client.Exchange(context.Background(), c.ctx, c.tok); err == nil || !strings.HasPrefix(err.Error(), "systemuser: ") {
			t.Errorf("Exchange(%q, %q) = %v", c.ctx, c.tok, err)
		}
	}
	if n := f.srv.Count(superidtest.EndpointSystemUser); n != 0 {
		t.Errorf("%d requests sent for bad arguments", n)
	}
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
		if err == nil || leaks(err.Error(), tok) || !strings.Contains(err.Error(), "swapped") {
			t.Errorf("Exchange(token, ctx) = %v; want an error that holds no part of the token", err)
		}
		_, err = f.client.TicketSource(tok, testCtx).Ticket(ctx)
		if err == nil || leaks(err.Error(), tok) {
			t.Errorf("TicketSource(token, ctx).Ticket = %v; want an error that holds no part of the token", err)
		}
		var e *Error
		if errors.As(err, &e) {
			t.Errorf("the token became Error.ContextIdentifier")
		}
	}
	if n := f.srv.Count(superidtest.EndpointSystemUser); n != 0 {
		t.Errorf("%d exchanges sent with swapped arguments", n)
	}

	// A token passed as the pinned serial is not quoted either.
	_, err := f.client.Exchange(ctx, testCtx, f.token, WithSerial(f.token))
	if !errors.Is(err, ErrInvalidToken) || leaks(err.Error(), f.token) {
		t.Errorf("pinned serial mismatch: %v", err)
	}
}

// A Client not made by New, or a nil ctx or option, gives an error
// rather than a nil dereference.
func TestZeroClientErrs(t *testing.T) {
	var zero Client
	var nilClient *Client
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
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s panicked: %v", name, r)
				}
			}()
			if err := call(); err == nil || !strings.HasPrefix(err.Error(), "systemuser: ") {
				t.Errorf("%s: %v, want a systemuser: error", name, err)
			}
		}()
	}
	if _, err := f.client.Exchange(context.Background(), testCtx, f.token, nil); err != nil {
		t.Errorf("a nil ExchangeOption: %v", err)
	}
	// The refused nil ctx left the tenant's source usable.
	done := make(chan error, 1)
	go func() {
		_, err := f.client.TicketSource(testCtx, f.token).Ticket(context.Background())
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Ticket after a nil ctx: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Ticket after a nil ctx hangs")
	}
	if w := nilClient.ReuseWindow(); w != 0 {
		t.Errorf("nil Client's ReuseWindow = %s", w)
	}
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
	check(t, err)
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims(good())).SignedString(jwt.UnsafeAllowNoneSignatureType)
	check(t, err)
	idToken := map[string]any{ // what the login returns, offered in place of a system-user JWT
		"iss": f.srv.Environment().Issuer(), "aud": testClient, "sub": "admin@example.com",
		"iat": fmt.Sprint(now.Unix()), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		claimPrefix + "ctx": testCtx, claimPrefix + "serial": testSerial,
		claimPrefix + "system_token": f.token, "nonce": "n",
	}

	tests := []struct {
		name   string
		claims map[string]any
		raw    string // instead of claims
		opts   []ExchangeOption
		ok     bool
		cause  error
	}{
		{name: "valid", claims: good(), ok: true},
		{name: "numeric iat", claims: with("iat", now.Unix()), ok: true},
		{name: "aud list", claims: with("aud", []string{"other", "spn:" + testSerial}), ok: true},
		{name: "expired within leeway", claims: with("exp", now.Add(-4*time.Minute).Unix()), ok: true},
		{name: "pinned serial", claims: good(), opts: []ExchangeOption{WithSerial(testSerial)}, ok: true},
		{name: "ctx case", claims: with(claimPrefix+"ctx", "cust12345"), ok: true},
		{name: "wrong iss", claims: with("iss", "https://sod.superoffice.com"), cause: jwt.ErrTokenInvalidIssuer},
		{name: "no iss", claims: with("iss", nil), cause: jwt.ErrTokenRequiredClaimMissing},
		{name: "wrong aud", claims: with("aud", "spn:999")},
		{name: "aud is client id", claims: with("aud", testClient)},
		{name: "no aud", claims: with("aud", nil)},
		{name: "no serial", claims: with(claimPrefix+"serial", nil)},
		{name: "serial not pinned one", claims: good(), opts: []ExchangeOption{WithSerial("42")}},
		{name: "wrong ctx", claims: with(claimPrefix+"ctx", "Cust999")},
		{name: "no ctx", claims: with(claimPrefix+"ctx", nil)},
		{name: "expired", claims: with("exp", now.Add(-6*time.Minute).Unix()), cause: jwt.ErrTokenExpired},
		{name: "no exp", claims: with("exp", nil), cause: jwt.ErrTokenRequiredClaimMissing},
		{name: "not yet valid", claims: with("nbf", now.Add(10*time.Minute).Unix()), cause: jwt.ErrTokenNotValidYet},
		{name: "no ticket", claims: with(claimPrefix+"ticket", nil)},
		{name: "empty ticket", claims: with(claimPrefix+"ticket", "")},
		{name: "id_token", claims: idToken},
		// Claim names are case-sensitive (RFC 7519), as superid reads them.
		{name: "ticket claim in other case", claims: renamed(claimPrefix+"ticket", strings.ToUpper(claimPrefix+"ticket"))},
		{name: "ISS for iss", claims: renamed("iss", "ISS"), cause: jwt.ErrTokenRequiredClaimMissing},
		{name: "ticket an object", claims: with(claimPrefix+"ticket", map[string]any{"v": "7T:abc"})},
		{name: "ticket null", claims: with(claimPrefix+"ticket", json.RawMessage("null"))},
		{name: "unknown key", raw: mustSign(t, stranger.Emulator, good())},
		{name: "HS256", raw: hs256},
		{name: "alg none", raw: none},
		{name: "not a JWT", raw: "not.a.jwt"},
		{name: "tampered", raw: tamper(mustSign(t, f.srv.Emulator, good()))},
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
			body, _ := json.Marshal(map[string]any{"IsSuccessful": true, "Token": raw, "ErrorMessage": nil})
			f.srv.Fail(superidtest.EndpointSystemUser, superidtest.Fault{Status: 200, Body: string(body), Times: 1})
			tk, err := f.client.Exchange(context.Background(), testCtx, f.token, tt.opts...)
			if tt.ok {
				if err != nil {
					t.Fatalf("refused a valid JWT: %v", err)
				}
				if tk.Value != "7T:abc" {
					t.Errorf("ticket %q", tk.Value)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrInvalidToken) {
				t.Errorf("%v does not match ErrInvalidToken", err)
			}
			if errors.Is(err, ErrRejected) || errors.Is(err, ErrUnavailable) {
				t.Errorf("%v matches another kind too", err)
			}
			if tt.cause != nil && !errors.Is(err, tt.cause) {
				t.Errorf("%v does not wrap %v", err, tt.cause)
			}
			var e *Error
			if !errors.As(err, &e) || e.StatusCode != 200 || len(e.Body) != 0 {
				t.Errorf("Error %+v: want status 200 and no body (it holds a ticket)", e)
			}
			f.assertNoSecrets(t, err, raw, "7T:abc")
		})
	}
}

func mustSign(t testing.TB, e *superidtest.Emulator, claims map[string]any) string {
	t.Helper()
	s, err := e.SignJWT(claims)
	check(t, err)
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
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, ErrRejected) || errors.Is(err, ErrClockSkew) {
			t.Fatalf("err = %v", err)
		}
		if e.StatusCode != 200 || e.ErrorMessage == "" || !strings.Contains(err.Error(), e.ErrorMessage) {
			t.Errorf("status %d, ErrorMessage %q, message %q", e.StatusCode, e.ErrorMessage, err)
		}
		if f.srv.Count(superidtest.EndpointSystemUser) != 1 {
			t.Error("a rejection was retried")
		}
		f.assertNoSecrets(t, err)
	})
	t.Run("wrong application token", func(t *testing.T) {
		f := setup(t, func(c *Config) { c.ClientSecret = "wrong-secret" })
		_, err := f.client.Exchange(context.Background(), testCtx, f.token)
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, ErrRejected) || e.StatusCode != 401 || e.ErrorMessage == "" || len(e.Body) == 0 {
			t.Fatalf("err = %v (%+v)", err, e)
		}
		f.assertNoSecrets(t, err, "wrong-secret")
	})
	t.Run("clock skew", func(t *testing.T) {
		f := setup(t, nil)
		f.srv.ClearFaults()
		// The partner's clock runs 10 minutes fast.
		fast := func() time.Time { return f.clock.Now().Add(10 * time.Minute) }
		c, err := New(Config{Environment: f.srv.Environment(), ClientSecret: testSecret, PrivateKey: f.key, Now: fast})
		check(t, err)
		_, err = c.Exchange(context.Background(), testCtx, f.token)
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, ErrRejected) || !errors.Is(err, ErrClockSkew) {
			t.Fatalf("err = %v", err)
		}
		if e.ClockSkew != -10*time.Minute {
			t.Errorf("ClockSkew = %v, want -10m", e.ClockSkew)
		}
		if !strings.Contains(err.Error(), "ahead of SuperID's by 10m0s") {
			t.Errorf("message %q does not explain the clock", err)
		}
	})
	t.Run("tenant suspended", func(t *testing.T) {
		f := setup(t, nil)
		check(t, f.srv.SetTenantState(testCtx, "Suspended"))
		_, err := f.client.Exchange(context.Background(), testCtx, f.token)
		if !errors.Is(err, ErrRejected) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestExchangeRetries(t *testing.T) {
	ctx := context.Background()
	t.Run("429 with Retry-After", func(t *testing.T) {
		f := setup(t, func(c *Config) { c.Retry.MaxWait = 5 * time.Second })
		f.srv.Fail(superidtest.EndpointSystemUser, superidtest.Fault{
			Status: 429, Header: http.Header{"Retry-After": {"1"}}, Times: 1,
		})
		start := time.Now()
		_, err := f.client.Exchange(ctx, testCtx, f.token)
		check(t, err)
		if d := time.Since(start); d < time.Second {
			t.Errorf("retried after %v, before Retry-After", d)
		}
		if n := f.srv.Count(superidtest.EndpointSystemUser); n != 2 {
			t.Errorf("%d requests", n)
		}
	})
	t.Run("Retry-After capped", func(t *testing.T) {
		f := setup(t, nil) // MaxWait 20ms
		f.srv.Fail(superidtest.EndpointSystemUser, superidtest.Fault{
			Status: 429, Header: http.Header{"Retry-After": {"3600"}}, Times: 2,
		})
		start := time.Now()
		_, err := f.client.Exchange(ctx, testCtx, f.token)
		check(t, err)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %v", d)
		}
	})
	t.Run("429 until give-up", func(t *testing.T) {
		f := setup(t, nil)
		f.srv.Fail(superidtest.EndpointSystemUser, superidtest.Fault{Status: 429, Body: "slow down",
			Header: http.Header{"Retry-After": {"3600"}}})
		_, err := f.client.Exchange(ctx, testCtx, f.token)
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, ErrRateLimited) || e.StatusCode != 429 {
			t.Fatalf("err = %v", err)
		}
		// What SuperID asked for, for a caller that schedules the next try.
		if e.RetryAfter != time.Hour {
			t.Errorf("RetryAfter %v, want 1h", e.RetryAfter)
		}
	})
	t.Run("503 then 200, signed afresh", func(t *testing.T) {
		// Each clock read moves a minute on, so each attempt's signature
		// carries its own timestamp; the emulator's clock sits mid-way.
		f := setup(t, func(c *Config) {
			var n atomic.Int64
			base := time.Now().Truncate(time.Minute)
			c.Now = func() time.Time { return base.Add(time.Duration(n.Add(1)) * 61 * time.Second) }
		})
		f.clock.Add(3 * time.Minute)
		f.srv.Fail(superidtest.EndpointSystemUser, superidtest.Fault{Status: 503, Times: 1})
		_, err := f.client.Exchange(ctx, testCtx, f.token)
		check(t, err)
		reqs := f.srv.Requests(superidtest.EndpointSystemUser)
		if len(reqs) != 2 {
			t.Fatalf("%d requests", len(reqs))
		}
		var a, b map[string]string
		check(t, json.Unmarshal(reqs[0].Body, &a))
		check(t, json.Unmarshal(reqs[1].Body, &b))
		if a["SignedSystemToken"] == b["SignedSystemToken"] {
			t.Error("the retry reused the first attempt's signature")
		}
	})
	t.Run("408 and 425 are retried, and unavailable, not rejected", func(t *testing.T) {
		for _, status := range []int{http.StatusRequestTimeout, http.StatusTooEarly} {
			f := setup(t, func(c *Config) { c.Retry.MaxRetries = 1 })
			f.srv.Fail(superidtest.EndpointSystemUser, superidtest.Fault{Status: status, Times: 1})
			if _, err := f.client.Exchange(ctx, testCtx, f.token); err != nil {
				t.Fatalf("%d once: %v", status, err)
			}
			f.srv.Fail(superidtest.EndpointSystemUser, superidtest.Fault{Status: status})
			_, err := f.client.Exchange(ctx, testCtx, f.token)
			if !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrRejected) {
				t.Errorf("%d until give-up: %v, want ErrUnavailable", status, err)
			}
			if n := f.srv.Count(superidtest.EndpointSystemUser); n != 2+2 {
				t.Errorf("%d: %d requests, want 2 + 2", status, n)
			}
		}
	})
	t.Run("500 until give-up", func(t *testing.T) {
		f := setup(t, func(c *Config) { c.Retry.MaxRetries = 2 })
		f.srv.Fail(superidtest.EndpointSystemUser, superidtest.Fault{Status: 500, Body: `{"Message":"An error has occurred."}`})
		_, err := f.client.Exchange(ctx, testCtx, f.token)
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, ErrUnavailable) || e.StatusCode != 500 {
			t.Fatalf("err = %v", err)
		}
		if !strings.Contains(string(e.Body), "An error has occurred.") {
			t.Errorf("body %q not kept", e.Body)
		}
		if n := f.srv.Count(superidtest.EndpointSystemUser); n != 3 {
			t.Errorf("%d requests, want 1 + 2 retries", n)
		}
		f.assertNoSecrets(t, err)
	})
	t.Run("no retries", func(t *testing.T) {
		f := setup(t, func(c *Config) { c.Retry.MaxRetries = -1 })
		f.srv.Fail(superidtest.EndpointSystemUser, superidtest.Fault{Status: 503})
		_, err := f.client.Exchange(ctx, testCtx, f.token)
		if !errors.Is(err, ErrUnavailable) || f.srv.Count(superidtest.EndpointSystemUser) != 1 {
			t.Fatalf("err = %v after %d requests", err, f.srv.Count(superidtest.EndpointSystemUser))
		}
	})
	t.Run("ctx ends the backoff", func(t *testing.T) {
		f := setup(t, func(c *Config) {
			c.Retry = RetryPolicy{MaxRetries: 5, MinWait: 10 * time.Second, MaxWait: 10 * time.Second}
		})
		f.srv.Fail(superidtest.EndpointSystemUser, superidtest.Fault{Status: 503, Header: http.Header{"Retry-After": {"10"}}})
		cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := f.client.Exchange(cctx, testCtx, f.token)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("returned after %v", d)
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		f := setup(t, nil)
		f.srv.Close()
		_, err := f.client.Exchange(ctx, testCtx, f.token)
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, ErrUnavailable) || e.StatusCode != 0 || e.Err == nil {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestExchangeRedirectNotFollowed(t *testing.T) {
	var hits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
	}))
	defer other.Close()
	f := setup(t, nil)
	for _, status := range []int{301, 302, 307, 308} {
		f.srv.Fail(superidtest.EndpointSystemUser, superidtest.Fault{
			Status: status, Header: http.Header{"Location": {other.URL + "/steal?x=1"}}, Times: 1,
		})
		_, err := f.client.Exchange(context.Background(), testCtx, f.token)
		var e *Error
		if !errors.As(err, &e) || e.StatusCode != status || !strings.Contains(err.Error(), "redirect") {
			t.Errorf("%d: err = %v", status, err)
		}
		if errors.Is(err, ErrRejected) || errors.Is(err, ErrUnavailable) {
			t.Errorf("%d: a redirect is classified as %v", status, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the other host received %d requests", n)
	}
}

func TestExchangeOddResponses(t *testing.T) {
	f := setup(t, nil)
	cases := []struct {
		name string
		body string
		kind error
	}{
		{"html", "<html>proxy login</html>", nil},
		{"success without token", `{"IsSuccessful":true}`, ErrInvalidToken},
		{"failure without message", `{"IsSuccessful":false}`, ErrRejected},
		{"string IsSuccessful", `{"IsSuccessful":"False","ErrorMessage":"nope"}`, ErrRejected},
	}
	for _, c := range cases {
		f.srv.Fail(superidtest.EndpointSystemUser, superidtest.Fault{Status: 200, Body: c.body, Times: 1})
		_, err := f.client.Exchange(context.Background(), testCtx, f.token)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: err = %v", c.name, err)
			continue
		}
		if c.kind != nil && !errors.Is(err, c.kind) {
			t.Errorf("%s: %v does not match %v", c.name, err, c.kind)
		}
		if c.kind == nil && (errors.Is(err, ErrRejected) || errors.Is(err, ErrInvalidToken) || errors.Is(err, ErrUnavailable)) {
			t.Errorf("%s: %v has a kind", c.name, err)
		}
	}
}

func TestNew(t *testing.T) {
	k := partnerKey()
	ok := Config{Environment: "http://127.0.0.1:1", ClientSecret: "s", PrivateKey: k}
	if _, err := New(ok); err != nil {
		t.Fatal(err)
	}
	bad := func(edit func(*Config)) Config { c := ok; edit(&c); return c }
	for name, cfg := range map[string]Config{
		"no environment":  bad(func(c *Config) { c.Environment = "" }),
		"bad environment": bad(func(c *Config) { c.Environment = "ftp://x" }),
		"no secret":       bad(func(c *Config) { c.ClientSecret = "" }),
		"no key":          bad(func(c *Config) { c.PrivateKey = nil }),
		"empty key":       bad(func(c *Config) { c.PrivateKey = &rsa.PrivateKey{} }),
		"renew too early": bad(func(c *Config) { c.RenewBefore = 7 * time.Hour }),
	} {
		if _, err := New(cfg); err == nil || !strings.HasPrefix(err.Error(), "systemuser: ") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestSharedKeySetAndRotation(t *testing.T) {
	f := setup(t, nil)
	ks := superid.NewKeySet(f.srv.Environment().JWKSURL(), nil)
	a, err := New(Config{Environment: f.srv.Environment(), ClientSecret: testSecret, PrivateKey: f.key, Now: f.clock.Now, KeySet: ks})
	check(t, err)
	b, err := New(Config{Environment: f.srv.Environment(), ClientSecret: testSecret, PrivateKey: f.key, Now: f.clock.Now, KeySet: ks})
	check(t, err)
	ctx := context.Background()
	for _, c := range []*Client{a, b, a} {
		if _, err := c.Exchange(ctx, testCtx, f.token); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.srv.Count(superidtest.EndpointJWKS); n != 1 {
		t.Errorf("two clients sharing a key set fetched it %d times", n)
	}
	// SuperID rotates its key: the next JWT names a key the set lacks.
	check(t, f.srv.RotateKey())
	if _, err := b.Exchange(ctx, testCtx, f.token); err != nil {
		t.Fatalf("after a key rotation: %v", err)
	}
}

func TestKeySetUnavailable(t *testing.T) {
	f := setup(t, nil)
	f.srv.Fail(superidtest.EndpointJWKS, superidtest.Fault{Status: 503})
	_, err := f.client.Exchange(context.Background(), testCtx, f.token)
	if !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrInvalidToken) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if !errors.Is(err, superid.ErrKeySet) {
		t.Errorf("err = %v does not wrap superid.ErrKeySet", err)
	}
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
	} {
		f := setup(t, func(c *Config) { c.Retry.MaxRetries = 0 })
		f.srv.Fail(superidtest.EndpointSystemUser, tc.fault)
		_, err := f.client.Exchange(ctx, testCtx, f.token)
		var e *Error
		if !errors.As(err, &e) || e.Refused() != tc.want {
			t.Errorf("%s: %v, Refused() = %v, want %v", tc.name, err, e.Refused(), tc.want)
		}
	}
	var nilErr *Error
	if nilErr.Refused() {
		t.Error("a nil *Error is refused")
	}
}

// TestErrorStatusWithTokenKeepsNoBody: Error.Body is documented empty
// when the body carried a system-user JWT, whatever the status: with no
// ErrorMessage, Error() would print it, ticket and all.
func TestErrorStatusWithTokenKeepsNoBody(t *testing.T) {
	f := setup(t, func(c *Config) { c.Retry.MaxRetries = -1 })
	jwt := "eyJhbGciOiJSUzI1NiJ9.eyJ0aWNrZXQiOiI3VDpzZWNyZXQifQ.c2ln"
	for _, status := range []int{400, 503} {
		f.srv.Fail(superidtest.EndpointSystemUser, superidtest.Fault{Status: status, Times: 1,
			Body: `{"IsSuccessful":true,"Token":"` + jwt + `","ErrorMessage":null}`})
		_, err := f.client.Exchange(context.Background(), testCtx, f.token)
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%d: %v", status, err)
		}
		if len(e.Body) != 0 {
			t.Errorf("%d: Body kept %q", status, e.Body)
		}
		f.assertNoSecrets(t, err, jwt)
	}
}
