package tenant_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
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

func TestPaginationOverThousandContacts(t *testing.T) {
	f := setup(t)
	for i := range 1000 {
		_, err := f.em.AddContact(testCtx, superidtest.Contact{Name: fmt.Sprintf("Company %04d", i), CategoryID: 1 + i%4})
		must(t, err)
	}
	c := f.client(t)
	ctx := context.Background()

	f.em.ResetRequests()
	seen := map[int]bool{}
	last := 0
	for row, err := range c.Contacts.All(ctx, nil) {
		must(t, err)
		if seen[row.ContactID] || row.ContactID <= last {
			t.Fatalf("row %d repeated or out of order", row.ContactID)
		}
		seen[row.ContactID], last = true, row.ContactID
		if row.Name != fmt.Sprintf("Company %04d", row.ContactID-1) {
			t.Fatalf("row %d named %q", row.ContactID, row.Name)
		}
	}
	if len(seen) != 1000 {
		t.Fatalf("All yielded %d contacts, want 1000", len(seen))
	}
	if n := f.em.Count(superidtest.EndpointTenantAPI); n != 5 {
		t.Fatalf("%d page requests, want 5 (server pages of 200)", n)
	}
	for _, r := range f.em.Requests(superidtest.EndpointTenantAPI)[1:] {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "SOTicket ") {
			t.Fatal("a next-page request went without the ticket")
		}
	}

	// Breaking off early fetches no more pages.
	f.em.ResetRequests()
	n := 0
	for _, err := range c.Contacts.All(ctx, nil) {
		must(t, err)
		if n++; n == 250 {
			break
		}
	}
	if got := f.em.Count(superidtest.EndpointTenantAPI); got != 2 {
		t.Fatalf("breaking after 250 rows made %d requests, want 2", got)
	}

	// $top/$skip across pages, a filter, ordering and a selection.
	var names []string
	for row, err := range c.Contacts.All(ctx, &tenant.ListOptions{
		Select: []string{"contactId", "name", "category"}, Filter: "name begins 'company 09' and category eq 'Customer'",
		OrderBy: "name desc", Skip: 1, Top: 3,
	}) {
		must(t, err)
		names = append(names, row.Name)
		if row.String("category") != "Customer" || row.Columns["department"] != nil {
			t.Fatalf("row columns = %v", row.Columns)
		}
	}
	if want := []string{"Company 0992", "Company 0988", "Company 0984"}; fmt.Sprint(names) != fmt.Sprint(want) {
		t.Fatalf("filtered rows = %v, want %v", names, want)
	}

	// PageSize pages with $top/$skip itself, bounded by Top.
	f.em.ResetRequests()
	n = 0
	for _, err := range c.Contacts.All(ctx, &tenant.ListOptions{PageSize: 100, Top: 450}) {
		must(t, err)
		n++
	}
	if n != 450 {
		t.Fatalf("PageSize/Top yielded %d rows, want 450", n)
	}

	// List and Next walk pages by hand.
	p, err := c.Contacts.List(ctx, &tenant.ListOptions{Filter: "contactId gt 900"})
	must(t, err)
	total := 0
	for p != nil {
		total += len(p.Value)
		p, err = c.Contacts.Next(ctx, p)
		must(t, err)
	}
	if total != 100 {
		t.Fatalf("List/Next over contactId > 900: %d rows", total)
	}

	// A server that answers the second page with an error: All yields it.
	f.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Status: 200, Times: 1,
		Body: `{"odata.nextLink":"v1/Contact?$skip=1","value":[{"PrimaryKey":7}]}`})
	f.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Status: 404, Times: 1})
	var rows []int
	for row, err := range c.Contacts.All(ctx, nil) {
		if err != nil {
			if !errors.Is(err, tenant.ErrNotFound) {
				t.Fatalf("second page error %v", err)
			}
			break
		}
		rows = append(rows, row.ContactID)
	}
	if fmt.Sprint(rows) != "[7]" {
		t.Fatalf("rows before the error: %v", rows)
	}
}

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

func TestContactJSONKeepsUnknownFields(t *testing.T) {
	in := `{"ContactId":5,"Name":"Acme","Address":{"Postal":{"Address1":"Street 1"}},"Interests":[],"CreatedDate":"2021-01-08T11:24:53.0780792+01:00","UpdatedDate":"0001-01-01T00:00:00","Category":{"Id":2,"Value":"Prospect","Tooltip":""}}`
	var c tenant.Contact
	must(t, json.Unmarshal([]byte(in), &c))
	if c.ContactID != 5 || c.Category.ID != 2 || c.CreatedDate.Year() != 2021 || !c.UpdatedDate.IsZero() {
		t.Fatalf("decoded %+v", c)
	}
	if len(c.Extra) != 2 || c.Extra["Address"] == nil || c.Extra["Interests"] == nil {
		t.Fatalf("extra = %v", c.Extra)
	}
	c.Name = "Acme 2"
	out, err := json.Marshal(c)
	must(t, err)
	var back map[string]json.RawMessage
	must(t, json.Unmarshal(out, &back))
	if string(back["Address"]) != `{"Postal":{"Address1":"Street 1"}}` || string(back["Name"]) != `"Acme 2"` ||
		string(back["UpdatedDate"]) != `"0001-01-01T00:00:00"` {
		t.Fatalf("re-encoded %s", out)
	}
	c.Extra["Name"] = json.RawMessage(`"shadow"`) // a known field in Extra never wins
	c.Extra["Bad"] = json.RawMessage(`{`)
	if _, err := json.Marshal(c); err == nil {
		t.Fatal("invalid JSON in Extra was written")
	}
	delete(c.Extra, "Bad")
	out, err = json.Marshal(&c)
	must(t, err)
	if bytes.Count(out, []byte(`"Name"`)) != 1 {
		t.Fatalf("Name written twice: %s", out)
	}
	var p tenant.Person
	must(t, json.Unmarshal([]byte(`{"PersonId":3,"Firstname":"A","Position":{"Id":1}}`), &p))
	if p.PersonID != 3 || p.Extra["Position"] == nil {
		t.Fatalf("person %+v", p)
	}
	var tm tenant.Time
	if err := json.Unmarshal([]byte(`"yesterday"`), &tm); err == nil {
		t.Fatal("a malformed time was accepted")
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
		zc  tenant.Client
		ns  *tenant.ContactsService
		zr  tenant.Resolver
		nr  *tenant.Resolver
		nst *tenant.State
	)
	link := &tenant.Page[tenant.ContactRow]{NextLink: "v1/Contact?$skip=5"}
	errs := map[string]func() error{
		"Contacts.Next(nil)": func() error { _, err := c.Contacts.Next(ctx, nil); return err },
		"Persons.Next(nil)":  func() error { _, err := c.Persons.Next(ctx, nil); return err },
		"Next with nil ctx":  func() error { _, err := c.Contacts.Next(nilCtx, link); return err },
		"zero Client's Contacts.Get": func() error {
			_, err := zc.Contacts.Get(ctx, 1)
			return err
		},
		"zero Client's Persons.Next": func() error {
			_, err := zc.Persons.Next(ctx, &tenant.Page[tenant.PersonRow]{NextLink: "x"})
			return err
		},
		"zero Client's User": func() error { _, err := zc.User.CurrentPrincipal(ctx); return err },
		"nil service All": func() error {
			for _, err := range ns.All(ctx, nil) {
				return err
			}
			return nil
		},
		"zero service Next":     func() error { _, err := (&tenant.ContactsService{}).Next(ctx, link); return err },
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

// Time reads the web API's dates with and without an offset, escaped or
// not, and null or "" as the zero time.
func TestTimeUnmarshal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{`"2025-03-14T09:26:53"`, time.Date(2025, 3, 14, 9, 26, 53, 0, tenant.Unspecified), false},
		{`"2025-03-14T09:26:53.1234567"`, time.Date(2025, 3, 14, 9, 26, 53, 123456700, tenant.Unspecified), false},
		{`"0001-01-01T00:00:00"`, time.Time{}, false},
		{`"2025-03-14T09:26:53Z"`, time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC), false},
		{`"2025-03-14T10:26:53+01:00"`, time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC), false},
		{`"2025-03-14T09:26:53\u005a"`, time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC), false},
		{`null`, time.Time{}, false},
		{`""`, time.Time{}, false},
		{`"yesterday"`, time.Time{}, true},
		{`20250314`, time.Time{}, true},
	} {
		var tm tenant.Time
		err := json.Unmarshal([]byte(tc.in), &tm)
		if (err != nil) != tc.bad || !tm.Equal(tc.want) || (tc.want.Location() == tenant.Unspecified) != (tm.Location() == tenant.Unspecified) {
			t.Errorf("%s: %v, %v; want %v (error: %v)", tc.in, tm.Time, err, tc.want, tc.bad)
		}
	}

	// Written back as read: a wall-clock time without an offset stays
	// one, rather than becoming that time in UTC.
	for _, in := range []string{`"2025-03-14T09:26:53"`, `"2025-03-14T09:26:53.1234567"`, `"2025-03-14T10:26:53+01:00"`,
		`"2025-03-14T09:26:53Z"`, `"0001-01-01T00:00:00"`} {
		var tm tenant.Time
		must(t, json.Unmarshal([]byte(in), &tm))
		out, err := json.Marshal(tm)
		if err != nil || string(out) != in {
			t.Errorf("%s written back as %s, %v", in, out, err)
		}
	}
}

// All follows a server's paging to its end: a next link that spells out
// the default port is the same host, and a link back to a page already
// read, or on and on from empty pages, ends the list with an error
// rather than repeating rows or looping.
func TestAllPagingEdges(t *testing.T) {
	var pages map[string]string // query -> body
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := pages[r.URL.RawQuery]
		if !ok {
			// Empty pages, each linking to the next, for ever.
			n, _ := strconv.Atoi(r.URL.Query().Get("$skip"))
			body = fmt.Sprintf(`{"odata.nextLink":"http://tenant.test/Cust12345/api/v1/Contact?$skip=%d","value":[]}`, n+1)
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
	}))
	defer srv.Close()
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
	}
	c, err := tenant.New(tenant.Config{BaseURL: "http://tenant.test/Cust12345/api/",
		HTTPClient: &http.Client{Transport: &http.Transport{DialContext: dial}}})
	must(t, err)
	rows := func() (ids []int, err error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for row, err := range c.Contacts.All(ctx, nil) {
			if err != nil {
				return ids, err
			}
			ids = append(ids, row.ContactID)
		}
		return ids, nil
	}

	pages = map[string]string{
		"":          `{"odata.nextLink":"http://tenant.test:80/Cust12345/api/v1/Contact?$skip=2","value":[{"PrimaryKey":1},{"PrimaryKey":2}]}`,
		"$skip=2":   `{"value":[{"PrimaryKey":3}]}`,
		"%24skip=2": `{"value":[{"PrimaryKey":3}]}`,
	}
	if ids, err := rows(); err != nil || fmt.Sprint(ids) != "[1 2 3]" {
		t.Errorf("link with the default port: %v, %v; want [1 2 3]", ids, err)
	}

	pages = map[string]string{
		"": `{"odata.nextLink":"http://tenant.test/Cust12345/api/v1/Contact","value":[{"PrimaryKey":1},{"PrimaryKey":2}]}`,
	}
	if ids, err := rows(); err == nil || fmt.Sprint(ids) != "[1 2]" {
		t.Errorf("link back to the first page: %v, %v; want [1 2] and an error", ids, err)
	}

	pages = map[string]string{
		"": `{"odata.nextLink":"v1/Contact?$skip=1","value":[{"PrimaryKey":1}]}`,
	}
	if ids, err := rows(); err == nil || errors.Is(err, context.DeadlineExceeded) || fmt.Sprint(ids) != "[1]" {
		t.Errorf("empty pages linking on: %v, %v; want [1] and an error of its own", ids, err)
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
		err := c.Contacts.Delete(context.Background(), 7)
		if errors.Is(err, tenant.ErrNotFound) != tc.notFound || (!tc.notFound && err != nil) {
			t.Errorf("answers %v: %v", tc.answers, err)
		}
		// The same through Do, for any entity.
		answers = tc.answers
		err = c.Do(context.Background(), http.MethodDelete, "v1/Sale/7", nil, nil)
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
		var got tenant.Contact
		err = c.Do(context.Background(), tc.method, "v1/Contact/5", nil, &got)
		want := tenant.Contact{}
		if tc.body != "" {
			want = tenant.Contact{ContactID: 5, Name: "Stub AS"}
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
		"*Contact": (*tenant.Contact)(nil), "Contact": tenant.Contact{},
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

// TestDoCodesEntitiesAsEncodingJSON checks that Do, which decodes and
// encodes this package's entities without encoding/json's own passes,
// reads and writes what encoding/json would: the same entity or the same
// error, and the same request body.
func TestDoCodesEntitiesAsEncodingJSON(t *testing.T) {
	f := setup(t)
	c := f.client(t)
	ctx := context.Background()
	deep := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	for _, body := range []string{
		`{"ContactId":3,"Name":"A","Emails":[],"Associate":{"AssociateId":1},"Address":{"Line" : "x <y>"}}`,
		" {\"Name\":\"a\xffb\"} \n",
		`null`,
		`{"ContactId":3} x`,
		`{"Name":"a"}{}`,
		`{"ContactId":"3"}`,
		`{"a":` + deep + `}`,
		`[]`,
	} {
		want := tenant.Contact{Name: "before"}
		wantErr := json.Unmarshal([]byte(body), &want)
		f.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Status: 200, Times: 1, Body: body})
		got := tenant.Contact{Name: "before"}
		err := c.Do(ctx, http.MethodGet, "v1/Contact/3", nil, &got)
		if (err != nil) != (wantErr != nil) || !reflect.DeepEqual(got, want) {
			t.Fatalf("%.80q: Do %+v, %v; json.Unmarshal %+v, %v", body, got, err, want, wantErr)
		}
		if err != nil && !strings.HasSuffix(err.Error(), wantErr.Error()) {
			t.Errorf("%.80q: Do says %q, json.Unmarshal %q", body, err, wantErr)
		}
	}

	in := &tenant.Contact{Name: "<A & B>", Extra: tenant.Extra{"Address": json.RawMessage(`{ "Line" : "x <y>" }`)}}
	want, err := json.Marshal(in)
	must(t, err)
	_ = c.Do(ctx, http.MethodPost, "v1/Contact", in, nil)
	reqs := f.em.Requests(superidtest.EndpointTenantAPI)
	if got := reqs[len(reqs)-1].Body; !bytes.Equal(got, want) {
		t.Errorf("POST body %s, json.Marshal %s", got, want)
	}
	in.Extra["Bad"] = json.RawMessage(`{`)
	if err := c.Do(ctx, http.MethodPost, "v1/Contact", in, nil); err == nil || !strings.Contains(err.Error(), "json: error calling MarshalJSON for type *tenant.Contact") {
		t.Errorf("invalid Extra: %v", err)
	}
}
