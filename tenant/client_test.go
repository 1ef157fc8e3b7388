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
	must(t, err)
	path := fmt.Sprintf("v1/Contact/%d", seed.ContactID)

	var raw []byte
	must(t, c.Do(ctx, http.MethodGet, path, nil, &raw))
	if !bytes.Contains(raw, []byte(`"Name":"Raw"`)) {
		t.Fatalf("raw body %s", raw)
	}
	var rc io.ReadCloser
	must(t, c.Do(ctx, http.MethodGet, path, nil, &rc))
	streamed, err := io.ReadAll(rc)
	must(t, err)
	must(t, rc.Close())
	if !bytes.Equal(streamed, raw) {
		t.Fatal("streamed body differs from the raw one")
	}
	must(t, c.Do(ctx, http.MethodGet, path, nil, nil))
	var m map[string]any
	must(t, c.Do(ctx, http.MethodGet, path+"?$select=name", nil, &m))
	if m["Name"] != "Raw" {
		t.Fatalf("decoded %v", m)
	}

	reqs := f.em.Requests(superidtest.EndpointTenantAPI)
	for i, what := range []string{"*[]byte", "*io.ReadCloser"} {
		if got := reqs[i].Header.Get("Accept"); got != "application/octet-stream" {
			t.Fatalf("Accept for %s = %q", what, got)
		}
	}
	last := reqs[len(reqs)-1]
	for h, want := range map[string]string{"Accept": "application/json", "SO-Language": "nb", "SO-Culture": "nb", "SO-TimeZone": "CET"} {
		if got := last.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if last.RawQuery != "$select=name" {
		t.Errorf("query %q", last.RawQuery)
	}

	for _, bad := range []string{"/v1/Contact/1", "http://127.0.0.1/x", "//evil.example.com/x", "%zz"} {
		if err := c.Do(ctx, http.MethodGet, bad, nil, nil); err == nil {
			t.Errorf("Do(%q) accepted", bad)
		}
	}
	if err := c.Do(ctx, http.MethodPost, "v1/Contact", func() {}, nil); err == nil {
		t.Error("Do with an unencodable body accepted")
	}
	// A body that is not JSON where JSON was asked for.
	f.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Status: 200, Times: 1, Body: "<html>"})
	if err := c.Do(ctx, http.MethodGet, path, nil, &m); err == nil || !strings.Contains(err.Error(), "decode") {
		t.Fatalf("HTML body: %v", err)
	}
}

func TestNewValidates(t *testing.T) {
	r, err := tenant.NewResolver(tenant.ResolverConfig{Environment: "http://127.0.0.1:1"})
	must(t, err)
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
		if _, err := tenant.New(cfg); err == nil || !strings.HasPrefix(err.Error(), "tenant: ") {
			t.Errorf("%s: New = %v, want a tenant: error", name, err)
		}
	}
	if _, err := tenant.New(tenant.Config{BaseURL: "https://sod2.superoffice.com/Cust1/api", Environment: "sod"}); err != nil {
		t.Errorf("a numbered host of the environment was refused: %v", err)
	}
	if _, err := tenant.NewResolver(tenant.ResolverConfig{}); err == nil {
		t.Error("NewResolver without an environment accepted")
	}
}

func TestLookup(t *testing.T) {
	f := setup(t, superidtest.WithTenantStateValidity(90*time.Second))
	ctx := context.Background()
	before := time.Now()
	st, err := tenant.Lookup(ctx, f.env, testCtx)
	must(t, err)
	if st.ContextIdentifier != testCtx || st.State != tenant.StateRunning || !st.IsRunning || !st.Running() ||
		st.API != f.em.TenantEndpoint(testCtx)+"/api" || st.Endpoint != f.em.TenantEndpoint(testCtx) {
		t.Fatalf("state = %+v", st)
	}
	if d := st.ValidUntil.Sub(before); d < 89*time.Second || d > 92*time.Second {
		t.Fatalf("ValidUntil %v is %v ahead, want about 90s", st.ValidUntil, d)
	}
	raw := f.em.Requests(superidtest.EndpointTenantState)
	if len(raw) != 1 || raw[0].Header.Get("Authorization") != "" {
		t.Fatal("the state API must be asked without credentials")
	}

	must(t, f.em.SetTenantState(testCtx, "Suspended"))
	st, err = tenant.Lookup(ctx, f.env, testCtx)
	must(t, err) // Lookup reports; only the Resolver refuses
	if st.Running() || st.State != tenant.StateSuspended {
		t.Fatalf("suspended state = %+v", st)
	}
	if _, err := tenant.Lookup(ctx, f.env, "Cust999"); !errors.Is(err, tenant.ErrNotFound) {
		t.Fatalf("unknown tenant: %v", err)
	}
	if _, err := tenant.Lookup(ctx, f.env, "../login"); err == nil {
		t.Fatal("a malformed context identifier was looked up")
	}
	f.em.Fail(superidtest.EndpointTenantState, superidtest.Fault{Status: 200, Times: 1, Body: `{"ContextIdentifier":"Cust1","State":"Running","IsRunning":true}`})
	if _, err := tenant.Lookup(ctx, f.env, testCtx); err == nil {
		t.Fatal("an answer about another tenant was accepted")
	}
}

func TestErrorText(t *testing.T) {
	f := setup(t)
	c := f.client(t)
	f.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Status: 400, Body: strings.Repeat("x", 2<<20), Header: http.Header{"Content-Type": {"text/plain"}}})
	err := c.Do(context.Background(), http.MethodGet, "v1/Contact?$filter=name%20eq%20'secret'", nil, nil)
	te := asError(t, err)
	if len(te.Body) != 1<<20 {
		t.Fatalf("body kept %d bytes, want 1 MiB", len(te.Body))
	}
	if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "7T:") {
		t.Fatalf("error %q leaks the query or the ticket", err)
	}
	if !strings.Contains(te.URL, "REDACTED") || len(te.Message) > 310 {
		t.Fatalf("URL %q, message length %d", te.URL, len(te.Message))
	}

	// No answer at all: the transport's error quotes the URL too, and
	// stays a net.Error for callers that retry on those.
	closed := f.client(t, func(c *tenant.Config) {
		c.BaseURL, c.Environment = "http://127.0.0.1:1/"+testCtx+"/api/", ""
	})
	err = closed.Do(context.Background(), http.MethodGet, "v1/Contact?$filter=email%20eq%20'private@example.com'", nil, nil)
	var ne net.Error
	if err == nil || strings.Contains(err.Error(), "private") || !errors.As(err, &ne) {
		t.Fatalf("error %v leaks the query, or is no longer a net.Error", err)
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
		if te.Message != tc.want || !utf8.ValidString(te.Error()) {
			t.Errorf("%.20q...: message %q, want %q", tc.body, te.Message, tc.want)
		}
	}
}

func TestZeroClientErrsInsteadOfPanicking(t *testing.T) {
	var c tenant.Client
	if err := c.Do(context.Background(), http.MethodGet, "v1/Contact/1", nil, nil); err == nil || !strings.Contains(err.Error(), "New") {
		t.Fatalf("zero Client: %v", err)
	}
	var nilClient *tenant.Client
	if err := nilClient.Do(context.Background(), http.MethodGet, "v1/Contact/1", nil, nil); err == nil {
		t.Fatal("nil Client: no error")
	}
}

// Without an Environment any BaseURL host is called, but credentials go
// only over https or to a loopback host.
func TestCredentialsOnlyOverHTTPSOrLoopback(t *testing.T) {
	creds := tenant.SystemUser(fixedTicket("TICKET"), "APP")
	for _, base := range []string{"http://crm.example.com/Cust1/api/", "http://10.0.0.7:8080/Cust1/api/", "HTTP://sod.superoffice.com/Cust1/api/"} {
		_, err := tenant.New(tenant.Config{BaseURL: base, Credentials: creds})
		if err == nil || !strings.Contains(err.Error(), "https") {
			t.Errorf("%s with credentials: New = %v, want a refusal", base, err)
		}
		if _, err := tenant.New(tenant.Config{BaseURL: base}); err != nil {
			t.Errorf("%s without credentials: %v", base, err)
		}
	}
	for _, base := range []string{"https://crm.example.com/Cust1/api/", "http://localhost:8080/Cust1/api/", "http://127.0.0.1:8080/x/", "http://[::1]:8080/x/"} {
		if _, err := tenant.New(tenant.Config{BaseURL: base, Credentials: creds}); err != nil {
			t.Errorf("%s with credentials: %v", base, err)
		}
	}
}

// fixedTicket is a TicketSource that always hands out one ticket.
type fixedTicket string

func (f fixedTicket) Ticket(context.Context) (*systemuser.Ticket, error) {
	return &systemuser.Ticket{Value: string(f)}, nil
}

func (fixedTicket) Invalidate() {}

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
	c, err := tenant.New(tenant.Config{BaseURL: srv.URL + "/Cust12345/api/", Environment: superid.Environment(srv.URL),
		Credentials: tenant.SystemUser(fixedTicket("TICKET"), "APP")})
	must(t, err)
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
		if !errors.Is(err, tenant.ErrForeignHost) || strings.Contains(err.Error(), "TICKET") {
			t.Errorf("%s: %v, want ErrForeignHost", p, err)
		}
	}
	mu.Lock()
	if len(got) != 0 {
		t.Fatalf("requests reached the server: %q", got)
	}
	mu.Unlock()
	for p, want := range map[string]string{
		"v1/Contact/../Person/1": "/Cust12345/api/v1/Person/1",
		"./v1/Contact/1":         "/Cust12345/api/v1/Contact/1",
		"":                       "/Cust12345/api/",
		"v1/List/a%2Fb/Items":    "/Cust12345/api/v1/List/a%2Fb/Items",
	} {
		mu.Lock()
		got = nil
		mu.Unlock()
		must(t, c.Do(ctx, http.MethodGet, p, nil, &map[string]any{}))
		mu.Lock()
		if len(got) != 1 || got[0] != want {
			t.Errorf("%s: requested %q, want %s", p, got, want)
		}
		mu.Unlock()
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
	must(t, err)
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
		if n := calls.Load(); n != tc.want {
			t.Errorf("%s (idempotent %v): %d requests, want %d (%v)", tc.method, tc.idempotent, n, tc.want, err)
		}
	}
}

// Nil and zero values of the exported types give errors, not panics
// (a zero Resolver's panic would even be in a goroutine of its own).
func TestNilAndZeroValuesErrInsteadOfPanicking(t *testing.T) {
	ctx := context.Background()
	var nilCtx context.Context
	c, err := tenant.New(tenant.Config{BaseURL: "http://127.0.0.1:1/Cust1/api/"})
	must(t, err)
	var (
		zr  tenant.Resolver
		nr  *tenant.Resolver
		nst *tenant.State
	)
	link := &tenant.Page[contactRow]{NextLink: "v1/Contact?$skip=5"}
	errs := map[string]func() error{
		"Next(nil)":             func() error { _, err := tenant.Next[contactRow](ctx, c, nil); return err },
		"Next with nil ctx":     func() error { _, err := tenant.Next(nilCtx, c, link); return err },
		"zero Client's List":    func() error { _, err := tenant.List[contactRow](ctx, &tenant.Client{}, "v1/Contact", nil); return err },
		"zero Client's Next":    func() error { _, err := tenant.Next(ctx, &tenant.Client{}, link); return err },
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
		"AccessToken Authorize(nil)": func() error { return tenant.AccessToken(errTokenSource{}).Authorize(ctx, nil) },
	}
	for name, f := range errs {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s panicked: %v", name, r)
				}
			}()
			if err := f(); err == nil || !strings.HasPrefix(err.Error(), "tenant: ") {
				t.Errorf("%s: %v, want a tenant: error", name, err)
			}
		}()
	}
	nr.Forget("Cust1")
	if nr.Environment() != "" || nst.Running() {
		t.Error("nil Resolver or State answered")
	}
}

// A DELETE whose first attempt got a 5xx (the server may have carried it
// out) and whose retry finds nothing has done what was asked; a 404 with
// no such attempt before it, or after a 429 (not carried out), is still
// ErrNotFound.
func TestDeleteRetriedAfterAFailureFindsItsWorkDone(t *testing.T) {
	var answers []int // the statuses still to give, one per request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
	must(t, err)
	for _, tc := range []struct {
		answers  []int
		notFound bool
	}{
		{[]int{http.StatusGatewayTimeout, http.StatusNotFound}, false},
		{[]int{http.StatusNotFound}, true},
		{[]int{http.StatusTooManyRequests, http.StatusNotFound}, true},
		{[]int{http.StatusNoContent}, false},
	} {
		answers = tc.answers
		err := c.Do(context.Background(), http.MethodDelete, "v1/Sale/7", nil, nil)
		if errors.Is(err, tenant.ErrNotFound) != tc.notFound || (!tc.notFound && err != nil) {
			t.Errorf("Do, answers %v: %v", tc.answers, err)
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
		must(t, err)
		type contact struct {
			ContactID int `json:"ContactId"`
			Name      string
		}
		var got contact
		err = c.Do(context.Background(), tc.method, "v1/Contact/5", nil, &got)
		want := contact{}
		if tc.body != "" {
			want = contact{ContactID: 5, Name: "Stub AS"}
		}
		if err != nil || got.ContactID != want.ContactID || got.Name != want.Name {
			t.Errorf("%s: ContactId %d, Name %q, %v; want %d, %q", tc.name, got.ContactID, got.Name, err, want.ContactID, want.Name)
		}
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
		"*struct": (*struct{ Name string })(nil), "struct": struct{ Name string }{},
	} {
		f.em.ResetRequests()
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s: panic %v", name, r)
				}
			}()
			err := c.Do(context.Background(), http.MethodPost, "v1/Contact", map[string]string{"Name": "Twice?"}, out)
			if err == nil || !strings.HasPrefix(err.Error(), "tenant: ") {
				t.Errorf("%s: %v, want a tenant: error", name, err)
			}
		}()
		if n := f.em.Count(superidtest.EndpointTenantAPI); n != 0 {
			t.Errorf("%s: %d requests sent", name, n)
		}
	}
}
