package tenant_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/go-superoffice/superoffice/superid"
	"github.com/go-superoffice/superoffice/superid/superidtest"
	"github.com/go-superoffice/superoffice/systemuser"
	"github.com/go-superoffice/superoffice/tenant"
)

func TestDoReadsAsAsked(t *testing.T) {
	f := setup(t)
	c := f.client(t, func(c *tenant.Config) { c.Language, c.Culture, c.TimeZone = "nb", "nb", "CET" })
	ctx := context.Background()
	seed, err := f.em.AddContact(testCtx, superidtest.Contact{Name: "Raw"})
	require.NoError(t, err)
	path := fmt.Sprintf("v1/Contact/%d", seed.ContactID)

	var raw []byte
	require.NoError(t, c.Do(ctx, http.MethodGet, path, nil, &raw))
	assert.Contains(t, string(raw), `"Name":"Raw"`)
	var rc io.ReadCloser
	require.NoError(t, c.Do(ctx, http.MethodGet, path, nil, &rc))
	streamed, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	assert.Equal(t, raw, streamed, "streamed body differs from the raw one")
	require.NoError(t, c.Do(ctx, http.MethodGet, path, nil, nil))
	var m map[string]any
	require.NoError(t, c.Do(ctx, http.MethodGet, path+"?$select=name", nil, &m))
	assert.Equal(t, "Raw", m["Name"])

	reqs := f.em.Requests(superidtest.EndpointTenantAPI)
	for i, what := range []string{"*[]byte", "*io.ReadCloser"} {
		assert.Equal(t, "application/octet-stream", reqs[i].Header.Get("Accept"), "Accept for %s", what)
	}
	last := reqs[len(reqs)-1]
	for h, want := range map[string]string{"Accept": "application/json", "SO-Language": "nb", "SO-Culture": "nb", "SO-TimeZone": "CET"} {
		assert.Equal(t, want, last.Header.Get(h), h)
	}
	assert.Equal(t, "$select=name", last.RawQuery)

	for _, bad := range []string{"/v1/Contact/1", "http://127.0.0.1/x", "//evil.example.com/x", "%zz"} {
		assert.Error(t, c.Do(ctx, http.MethodGet, bad, nil, nil), "Do(%q)", bad)
	}
	assert.Error(t, c.Do(ctx, http.MethodPost, "v1/Contact", func() {}, nil), "an unencodable body")
	// A body that is not JSON where JSON was asked for.
	f.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Status: 200, Times: 1, Body: "<html>"})
	assert.ErrorContains(t, c.Do(ctx, http.MethodGet, path, nil, &m), "decode")
}

func TestNewValidates(t *testing.T) {
	r, err := tenant.NewResolver(tenant.ResolverConfig{Environment: "http://127.0.0.1:1"})
	require.NoError(t, err)
	for name, cfg := range map[string]tenant.Config{
		"empty":        {},
		"relative":     {BaseURL: "Cust1/api/"},
		"ftp":          {BaseURL: "ftp://x.superoffice.com/Cust1/api/"},
		"user info":    {BaseURL: "https://u:p@sod.superoffice.com/Cust1/api/"},
		"query":        {BaseURL: "https://sod.superoffice.com/Cust1/api/?x=1"},
		"foreign":      {BaseURL: "https://sod.superoffice.com.evil.io/Cust1/api/", Environment: "sod"},
		"bad env":      {BaseURL: "https://sod.superoffice.com/Cust1/api/", Environment: "nowhere"},
		"both":         {BaseURL: "http://127.0.0.1:1/Cust1/api/", Resolver: r, ContextIdentifier: "Cust1"},
		"no ctx":       {Resolver: r},
		"bad ctx":      {Resolver: r, ContextIdentifier: "12345"},
		"env mismatch": {Resolver: r, ContextIdentifier: "Cust1", Environment: "sod"},
	} {
		_, err := tenant.New(cfg)
		if assert.Error(t, err, name) {
			assert.True(t, strings.HasPrefix(err.Error(), "tenant: "), "%s: %v", name, err)
			assert.NotContains(t, err.Error(), "u:p", name)
		}
	}
	_, err = tenant.New(tenant.Config{BaseURL: "https://sod2.superoffice.com/Cust1/api", Environment: "sod"})
	assert.NoError(t, err, "a numbered host of the environment")
	_, err = tenant.NewResolver(tenant.ResolverConfig{})
	assert.Error(t, err, "NewResolver without an environment")
}

// With credentials and no Environment, only the SuperOffice Online
// environments' hosts (https, default port) are accepted; everything else
// is ErrForeignHost. Without credentials any host may be called.
func TestNewAllowsOnlySuperOfficeHostsWithCredentials(t *testing.T) {
	creds := tenant.SystemUser(fixedTicket("TICKET"), "APP")
	for _, base := range []string{
		"https://sod.superoffice.com/Cust1/api/",
		"https://sod2.superoffice.com/Cust1/api",
		"https://qaonline.superoffice.com/Cust1/api/",
		"https://qaonline3.superoffice.com/Cust1/api/",
		"https://online.superoffice.com/Cust1/api/",
		"https://online10.superoffice.com/Cust1/api/",
		"https://SOD2.SuperOffice.com/Cust1/api/",
		"https://online.superoffice.com:443/Cust1/api/",
	} {
		_, err := tenant.New(tenant.Config{BaseURL: base, Credentials: creds})
		assert.NoError(t, err, base)
	}
	for _, base := range []string{
		"http://sod.superoffice.com/Cust1/api/",
		"HTTP://online.superoffice.com/Cust1/api/",
		"https://sod.superoffice.com:8443/Cust1/api/",
		"https://superoffice.com/Cust1/api/",
		"https://docs.superoffice.com/Cust1/api/",
		"https://evilsod.superoffice.com/Cust1/api/",
		"https://sod-2.superoffice.com/Cust1/api/",
		"https://sod.superoffice.com./Cust1/api/",
		"https://sod.superoffice.com.evil.example/Cust1/api/",
		"https://superoffice.com.evil.example/Cust1/api/",
		"https://crm.example.com/Cust1/api/",
		"https://10.0.0.7/Cust1/api/",
		"https://[2001:db8::1]/Cust1/api/",
		"http://127.0.0.1:8080/Cust1/api/",
		"https://127.0.0.1/Cust1/api/",
		"http://localhost:8080/Cust1/api/",
		"http://[::1]:8080/Cust1/api/",
		"https://sod.superoffice.com@evil.example/Cust1/api/",
		"https://user:secret@sod.superoffice.com/Cust1/api/",
	} {
		_, err := tenant.New(tenant.Config{BaseURL: base, Credentials: creds})
		require.ErrorIs(t, err, tenant.ErrForeignHost, base)
		assert.NotContains(t, err.Error(), "secret", base)
		if !strings.Contains(base, "@") {
			_, err = tenant.New(tenant.Config{BaseURL: base})
			assert.NoError(t, err, "%s without credentials", base)
		}
	}
	// The emulator and tests opt in by naming their environment.
	_, err := tenant.New(tenant.Config{BaseURL: "http://127.0.0.1:8080/Cust1/api/", Environment: "http://127.0.0.1:8080", Credentials: creds})
	assert.NoError(t, err)
}

// hostSpy is a server that counts the requests reaching it and keeps
// their headers, so that a test can assert that a host received nothing.
type hostSpy struct {
	*httptest.Server
	mu      sync.Mutex
	headers []http.Header
}

func newHostSpy(t *testing.T, tls bool) *hostSpy {
	s := &hostSpy{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.headers = append(s.headers, r.Header.Clone())
		s.mu.Unlock()
		_, _ = io.WriteString(w, `{"ContactId":1}`)
	})
	if tls {
		s.Server = httptest.NewTLSServer(h)
	} else {
		s.Server = httptest.NewServer(h)
	}
	t.Cleanup(s.Close)
	return s
}

func (s *hostSpy) seen() []http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]http.Header(nil), s.headers...)
}

// A minimal config, a webapi_url and credentials, sends nothing to a host
// that is not SuperOffice's: not over http, not over https, not on
// loopback, not through its name.
func TestMinimalConfigSendsNothingToAForeignHost(t *testing.T) {
	plain, secure := newHostSpy(t, false), newHostSpy(t, true)
	_, port, err := net.SplitHostPort(secure.Listener.Addr().String())
	require.NoError(t, err)
	for _, tc := range []struct {
		base string
		hc   *http.Client
	}{
		{plain.URL + "/Cust1/api/", nil},
		{secure.URL + "/Cust1/api/", secure.Client()},
		{"https://localhost:" + port + "/Cust1/api/", secure.Client()},
	} {
		c, err := tenant.New(tenant.Config{BaseURL: tc.base, HTTPClient: tc.hc, Retry: fastRetry,
			Credentials: tenant.SystemUser(fixedTicket("TICKET"), "APP")})
		if err == nil {
			err = c.Do(context.Background(), http.MethodGet, "v1/Contact/1", nil, nil)
		}
		assert.ErrorIs(t, err, tenant.ErrForeignHost, tc.base)
	}
	assert.Empty(t, plain.seen(), "the http server received requests")
	assert.Empty(t, secure.seen(), "the https server received requests")
}

func TestLookup(t *testing.T) {
	f := setup(t, superidtest.WithTenantStateValidity(90*time.Second))
	ctx := context.Background()
	before := time.Now()
	st, err := tenant.Lookup(ctx, f.env, testCtx)
	require.NoError(t, err)
	assert.Equal(t, testCtx, st.ContextIdentifier)
	assert.Equal(t, tenant.StateRunning, st.State)
	assert.True(t, st.IsRunning)
	assert.True(t, st.Running())
	assert.Equal(t, f.em.TenantEndpoint(testCtx)+"/api", st.API)
	assert.Equal(t, f.em.TenantEndpoint(testCtx), st.Endpoint)
	assert.WithinRange(t, st.ValidUntil, before.Add(89*time.Second), before.Add(92*time.Second))
	raw := f.em.Requests(superidtest.EndpointTenantState)
	require.Len(t, raw, 1)
	assert.Empty(t, raw[0].Header.Get("Authorization"), "the state API must be asked without credentials")

	require.NoError(t, f.em.SetTenantState(testCtx, "Suspended"))
	st, err = tenant.Lookup(ctx, f.env, testCtx)
	require.NoError(t, err) // Lookup reports; only the Resolver refuses
	assert.False(t, st.Running())
	assert.Equal(t, tenant.StateSuspended, st.State)
	_, err = tenant.Lookup(ctx, f.env, "Cust999")
	assert.ErrorIs(t, err, tenant.ErrNotFound, "unknown tenant")
	_, err = tenant.Lookup(ctx, f.env, "../login")
	assert.Error(t, err, "a malformed context identifier")
	f.em.Fail(superidtest.EndpointTenantState, superidtest.Fault{Status: 200, Times: 1, Body: `{"ContextIdentifier":"Cust1","State":"Running","IsRunning":true}`})
	_, err = tenant.Lookup(ctx, f.env, testCtx)
	assert.Error(t, err, "an answer about another tenant")
}

func TestErrorText(t *testing.T) {
	f := setup(t)
	c := f.client(t)
	f.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Status: 400, Body: strings.Repeat("x", 2<<20), Header: http.Header{"Content-Type": {"text/plain"}}})
	err := c.Do(context.Background(), http.MethodGet, "v1/Contact?$filter=name%20eq%20'secret'", nil, nil)
	te := asError(t, err)
	assert.Len(t, te.Body, 1<<20, "the body is kept up to 1 MiB")
	assert.NotContains(t, err.Error(), "secret", "the error leaks the query")
	assert.NotContains(t, err.Error(), "7T:", "the error leaks the ticket")
	assert.Contains(t, te.URL, "REDACTED")
	assert.LessOrEqual(t, len(te.Message), 310)

	// No answer at all: the transport's error quotes the URL too, and
	// stays a net.Error for callers that retry on those.
	closed := f.client(t, func(c *tenant.Config) {
		c.BaseURL, c.Environment = "http://127.0.0.1:1/"+testCtx+"/api/", "http://127.0.0.1:1"
	})
	err = closed.Do(context.Background(), http.MethodGet, "v1/Contact?$filter=email%20eq%20'private@example.com'", nil, nil)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "private")
	var ne net.Error
	assert.ErrorAs(t, err, &ne)
}

// The server's error type is kept beside its message, in every shape the
// web API and its hosting send.
func TestErrorKeepsServerType(t *testing.T) {
	f := setup(t)
	c := f.client(t)
	for _, tc := range []struct {
		name, body, typ, msg string
	}{
		{"SuperOffice", `{"Error":true,"ErrorType":"SoNotFoundException","ErrorMessage":"Contact 7 not found","ErrorSource":"SuperOffice.Services.Implementation"}`,
			"SoNotFoundException", "Contact 7 not found"},
		{"lower case names", `{"error":true,"errorType":"SoSecurityException","errorMessage":"No access"}`, "SoSecurityException", "No access"},
		{"ASP.NET", `{"Message":"An error has occurred.","ExceptionMessage":"Object reference not set","ExceptionType":"System.NullReferenceException","StackTrace":null}`,
			"System.NullReferenceException", "Object reference not set"},
		{"message only", `{"Message":"The request is invalid."}`, "", "The request is invalid."},
		{"OAuth", `{"error":"invalid_request","error_description":"bad ticket"}`, "", "bad ticket"},
		{"odd types", `{"ErrorType":5,"ErrorMessage":{"x":1},"Message":"plain"}`, "", "plain"},
		{"not JSON", `{oops`, "", ""},
	} {
		f.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Status: 404, Times: 1, Body: tc.body, Header: http.Header{"Content-Type": {"application/json"}}})
		err := c.Do(context.Background(), http.MethodGet, "v1/Contact/7", nil, nil)
		te := asError(t, err)
		assert.Equal(t, tc.typ, te.Type, tc.name)
		assert.Equal(t, tc.msg, te.Message, tc.name)
		assert.ErrorIs(t, err, tenant.ErrNotFound, tc.name)
		if tc.typ != "" {
			assert.Contains(t, err.Error(), tc.typ+": "+tc.msg, tc.name)
		}
	}
}

// A server's message is clipped between letters, never inside one, and
// what is not UTF-8 in a text/plain body is replaced: the message goes to
// logs and stores, and PostgreSQL's text refuses invalid UTF-8.
func TestErrorMessageStaysValidUTF8(t *testing.T) {
	f := setup(t)
	c := f.client(t)
	for _, tc := range []struct {
		body, contentType string
		want              string
	}{
		{`{"Message":"` + strings.Repeat("x", 299) + `ø and more"}`, "application/json", strings.Repeat("x", 299) + "..."},
		{strings.Repeat("y", 298) + "€ and more", "text/plain", strings.Repeat("y", 298) + "..."},
		{"caf\xe9 ferm\xe9", "text/plain; charset=iso-8859-1", "caf\uFFFD ferm\uFFFD"},
	} {
		f.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Status: 400, Body: tc.body, Header: http.Header{"Content-Type": {tc.contentType}}, Times: 1})
		te := asError(t, c.Do(context.Background(), http.MethodGet, "v1/Contact/1", nil, nil))
		assert.Equal(t, tc.want, te.Message, "%.20q...", tc.body)
		assert.True(t, utf8.ValidString(te.Error()), "%.20q...", tc.body)
	}
}

func TestZeroClientErrsInsteadOfPanicking(t *testing.T) {
	var c tenant.Client
	assert.ErrorContains(t, c.Do(context.Background(), http.MethodGet, "v1/Contact/1", nil, nil), "New", "zero Client")
	var nilClient *tenant.Client
	assert.Error(t, nilClient.Do(context.Background(), http.MethodGet, "v1/Contact/1", nil, nil), "nil Client")
}

// fixedTicket is a TicketSource that always hands out one ticket.
type fixedTicket string

func (f fixedTicket) Ticket(context.Context) (*systemuser.Ticket, error) {
	return &systemuser.Ticket{Value: string(f)}, nil
}

func (fixedTicket) Invalidate() {}

// failingTokenSource is an oauth2.TokenSource whose refresh fails.
type failingTokenSource struct{}

func (failingTokenSource) Token() (*oauth2.Token, error) { return nil, errors.New("refresh failed") }

// A relative path must not lead the ticket out of the tenant's base path,
// not with "../" nor with dot segments a server may decode later.
func TestDoStaysUnderBasePath(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.URL.EscapedPath())
		mu.Unlock()
		_, _ = w.Write([]byte("{}"))
	}))
	defer srv.Close()
	requested := func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := got
		got = nil
		return out
	}
	c, err := tenant.New(tenant.Config{BaseURL: srv.URL + "/Cust12345/api/", Environment: superid.Environment(srv.URL),
		Credentials: tenant.SystemUser(fixedTicket("TICKET"), "APP")})
	require.NoError(t, err)
	ctx := context.Background()
	for _, p := range []string{
		"../../Cust99999/api/v1/Contact/1",
		"v1/../../../Cust99999/api/v1/Contact/1",
		"%2e%2e/%2e%2e/Cust99999/api/v1/Contact/1",
		"%2E%2E/%2E%2E/Cust99999/api/v1/Contact/1",
		"v1/.%2e/.%2e/.%2e/Cust99999/api/v1/Contact/1",
		"..%2f..%2fCust99999/api/v1/Contact/1",
		`v1\..\..\..\Cust99999\api\v1\Contact\1`,
		"v1/%5c..%5c..%5c..%5cCust99999/api",
		"%252e%252e/%252e%252e/Cust99999/api/v1/Contact/1",
		"..",
		"./..",
	} {
		err := c.Do(ctx, http.MethodGet, p, nil, &map[string]any{})
		if assert.ErrorIs(t, err, tenant.ErrForeignHost, p) {
			assert.NotContains(t, err.Error(), "TICKET", p)
		}
	}
	require.Empty(t, requested(), "requests reached the server")
	for p, want := range map[string]string{
		"v1/Contact/../Person/1": "/Cust12345/api/v1/Person/1",
		"./v1/Contact/1":         "/Cust12345/api/v1/Contact/1",
		"":                       "/Cust12345/api/",
		"v1/List/a%2Fb/Items":    "/Cust12345/api/v1/List/a%2Fb/Items",
	} {
		require.NoError(t, c.Do(ctx, http.MethodGet, p, nil, &map[string]any{}))
		assert.Equal(t, []string{want}, requested(), p)
	}
}

// Only methods that are safe to repeat are retried, whatever their case;
// any other verb (PATCH, a custom one) only when marked Idempotent.
func TestRetryOnlySafeMethods(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("{}"))
	}))
	defer srv.Close()
	c, err := tenant.New(tenant.Config{BaseURL: srv.URL + "/Cust1/api/", Retry: fastRetry})
	require.NoError(t, err)
	for _, tc := range []struct {
		method     string
		idempotent bool
		want       int32
	}{
		{"GET", false, 2}, {"get", false, 2}, {"HEAD", false, 2}, {"Put", false, 2}, {"delete", false, 2}, {"OPTIONS", false, 2},
		{"POST", false, 1}, {"post", false, 1}, {"PATCH", false, 1}, {"patch", false, 1}, {"MERGE", false, 1}, {"PROPFIND", false, 1},
		{"post", true, 2}, {"PATCH", true, 2}, {"MERGE", true, 2},
	} {
		calls.Store(0)
		var opts []tenant.RequestOption
		if tc.idempotent {
			opts = append(opts, tenant.Idempotent())
		}
		err := c.Do(context.Background(), tc.method, "v1/x", nil, nil, opts...)
		assert.Equal(t, tc.want, calls.Load(), "%s (idempotent %v): %v", tc.method, tc.idempotent, err)
	}
}

// Nil and zero values of the exported types give errors, not panics
// (a zero Resolver's panic would even be in a goroutine of its own).
func TestNilAndZeroValuesErrInsteadOfPanicking(t *testing.T) {
	ctx := context.Background()
	var nilCtx context.Context
	c, err := tenant.New(tenant.Config{BaseURL: "http://127.0.0.1:1/Cust1/api/"})
	require.NoError(t, err)
	var (
		zc  tenant.Client
		zr  tenant.Resolver
		nr  *tenant.Resolver
		nst *tenant.State
	)
	errs := map[string]func() error{
		"Do with nil ctx":       func() error { return c.Do(nilCtx, http.MethodGet, "v1/Contact/1", nil, nil) },
		"zero Client's Do":      func() error { return zc.Do(ctx, http.MethodGet, "v1/Contact/1", nil, nil) },
		"zero Resolver Resolve": func() error { _, err := zr.Resolve(ctx, "Cust1"); return err },
		"zero Resolver Lookup":  func() error { _, err := zr.Lookup(ctx, "Cust1"); return err },
		"nil Resolver Resolve":  func() error { _, err := nr.Resolve(ctx, "Cust1"); return err },
		"Resolve with nil ctx": func() error {
			r, _ := tenant.NewResolver(tenant.ResolverConfig{Environment: "http://127.0.0.1:1"})
			_, err := r.Resolve(nilCtx, "Cust1")
			return err
		},
		"New with a zero Resolver": func() error {
			_, err := tenant.New(tenant.Config{Resolver: &zr, ContextIdentifier: "Cust1"})
			return err
		},
		"SystemUser Authorize(nil)":  func() error { return tenant.SystemUser(fixedTicket("T"), "A").Authorize(ctx, nil) },
		"AccessToken Authorize(nil)": func() error { return tenant.AccessToken(failingTokenSource{}).Authorize(ctx, nil) },
	}
	for name, f := range errs {
		var err error
		require.NotPanics(t, func() { err = f() }, name)
		if assert.Error(t, err, name) {
			assert.True(t, strings.HasPrefix(err.Error(), "tenant: "), "%s: %v", name, err)
		}
	}
	nr.Forget("Cust1")
	assert.Empty(t, nr.Environment(), "nil Resolver")
	assert.False(t, nst.Running(), "nil State")
}

// A DELETE whose first attempt got a 5xx (the server may have carried it
// out) and whose retry finds nothing returns ErrNotFound, like one that
// never found it: Do reports what the server said last.
func TestRetriedDeleteThatFindsItGoneIsNotFound(t *testing.T) {
	var mu sync.Mutex
	var answers []int // the statuses still to give, one per request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.Method != http.MethodDelete || len(answers) == 0 {
			w.WriteHeader(http.StatusTeapot)
			return
		}
		status := answers[0]
		answers = answers[1:]
		w.WriteHeader(status)
	}))
	defer srv.Close()
	c, err := tenant.New(tenant.Config{BaseURL: srv.URL + "/Cust12345/api/", Retry: fastRetry})
	require.NoError(t, err)
	for _, tc := range []struct {
		answers  []int
		notFound bool
	}{
		{[]int{http.StatusGatewayTimeout, http.StatusNotFound}, true},
		{[]int{http.StatusNotFound}, true},
		{[]int{http.StatusTooManyRequests, http.StatusNotFound}, true},
		{[]int{http.StatusServiceUnavailable, http.StatusNoContent}, false},
		{[]int{http.StatusNoContent}, false},
	} {
		mu.Lock()
		answers = tc.answers
		mu.Unlock()
		err := c.Do(context.Background(), http.MethodDelete, "v1/Sale/7", nil, nil)
		if tc.notFound {
			assert.ErrorIs(t, err, tenant.ErrNotFound, "answers %v", tc.answers)
		} else {
			assert.NoError(t, err, "answers %v", tc.answers)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A response's declared length only sizes the read: a HEAD answer (its
// length, no body) reads as empty, and a hand-built response in a
// partner's test (ContentLength left 0) or one shorter than its body
// still decodes whole.
func TestDeclaredLengthOnlySizesTheRead(t *testing.T) {
	for _, tc := range []struct {
		name, method, body string
		length             int64
	}{
		{"HEAD", http.MethodHead, "", 25},
		{"ContentLength left 0", http.MethodGet, `{"ContactId":5,"Name":"Stub AS"}`, 0},
		{"shorter than its body", http.MethodGet, `{"ContactId":5,"Name":"Stub AS"}`, 3},
	} {
		rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
				Body: io.NopCloser(strings.NewReader(tc.body)), ContentLength: tc.length, Request: r}, nil
		})
		c, err := tenant.New(tenant.Config{BaseURL: "http://tenant.test/Cust12345/api/", HTTPClient: &http.Client{Transport: rt}})
		require.NoError(t, err)
		var got contact
		err = c.Do(context.Background(), tc.method, "v1/Contact/5", nil, &got)
		want := contact{}
		if tc.body != "" {
			want = contact{ContactID: 5, Name: "Stub AS"}
		}
		assert.NoError(t, err, tc.name)
		assert.Equal(t, want, got, tc.name)
	}
}

// TestDoRefusesNilOutPointersUnsent: an out that cannot receive the answer
// (a nil *[]byte or *io.ReadCloser, which panicked, or a nil or non-pointer
// for JSON) is refused before anything is sent: a POST must not be carried
// out and its answer then lost.
func TestDoRefusesNilOutPointersUnsent(t *testing.T) {
	f := setup(t)
	c := f.client(t)
	for name, out := range map[string]any{
		"*[]byte": (*[]byte)(nil), "*io.ReadCloser": (*io.ReadCloser)(nil),
		"*contact": (*contact)(nil), "contact": contact{},
	} {
		f.em.ResetRequests()
		var err error
		require.NotPanics(t, func() {
			err = c.Do(context.Background(), http.MethodPost, "v1/Contact", map[string]string{"Name": "Twice?"}, out)
		}, name)
		if assert.Error(t, err, name) {
			assert.True(t, strings.HasPrefix(err.Error(), "tenant: "), "%s: %v", name, err)
		}
		assert.Zero(t, f.em.Count(superidtest.EndpointTenantAPI), "%s: requests sent", name)
	}
}

// The request body is what encoding/json writes, sent as JSON.
func TestDoSendsJSON(t *testing.T) {
	f := setup(t)
	c := f.client(t)
	in := map[string]any{"Name": "<A & B>", "Emails": []any{}}
	_ = c.Do(context.Background(), http.MethodPost, "v1/Contact", in, nil)
	reqs := f.em.Requests(superidtest.EndpointTenantAPI)
	require.NotEmpty(t, reqs)
	last := reqs[len(reqs)-1]
	assert.JSONEq(t, `{"Name":"<A & B>","Emails":[]}`, string(last.Body))
	assert.True(t, bytes.Contains(last.Body, []byte(`\u003cA \u0026 B\u003e`)), "encoding/json's HTML escaping: %s", last.Body)
	assert.Equal(t, "application/json; charset=utf-8", last.Header.Get("Content-Type"))
}

// A path Do refuses is quoted in its error without its query or user
// info, where a caller's credential may sit, as every URL in an error is
// redacted.
func TestDoRefusedPathQuotesNoQuery(t *testing.T) {
	c, err := tenant.New(tenant.Config{BaseURL: "http://127.0.0.1:1/Cust12345/api/"})
	require.NoError(t, err)
	ctx := context.Background()
	for _, p := range []string{
		"/v1/Contact?ticket=S3CRET",
		`\v1\Contact?ticket=S3CRET`,
		"v1/%zz?ticket=S3CRET",
		"https://u:S3CRET@example.com/x?ticket=S3CRET",
		"https://example.com/x?ticket=S3CRET",
	} {
		err := c.Do(ctx, http.MethodGet, p, nil, nil)
		if assert.Error(t, err, p) {
			assert.NotContains(t, err.Error(), "S3CRET", p)
		}
	}
	err = c.Do(ctx, http.MethodPost, "v1/Contact?ticket=S3CRET", func() {}, nil)
	if assert.Error(t, err) {
		assert.Contains(t, err.Error(), "v1/Contact")
		assert.NotContains(t, err.Error(), "S3CRET")
	}
}

// A tenant API (or something in between) that echoes the request in its
// error puts neither the ticket nor the application token into the
// *Error's Body or message.
func TestErrorOfAnEchoKeepsNoCredential(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusBadRequest)
		_ = r.Header.Write(w)
	}))
	defer srv.Close()
	c, err := tenant.New(tenant.Config{BaseURL: srv.URL + "/Cust12345/api/", Environment: superid.Environment(srv.URL),
		Credentials: tenant.SystemUser(fixedTicket("7T:TICKET-do-not-leak"), "APPTOKEN-do-not-leak")})
	require.NoError(t, err)
	err = c.Do(context.Background(), http.MethodGet, "v1/Contact/1", nil, nil)
	var e *tenant.Error
	require.ErrorAs(t, err, &e)
	assert.Contains(t, string(e.Body), "REDACTED", "the echo is kept, redacted")
	for _, s := range []string{"TICKET-do-not-leak", "APPTOKEN-do-not-leak"} {
		assert.NotContains(t, string(e.Body), s)
		assert.NotContains(t, err.Error(), s)
	}
}
