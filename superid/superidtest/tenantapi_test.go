package superidtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// apiFixture is an emulator served through ServeHTTP directly, with one
// tenant, one app and one user.
type apiFixture struct {
	e      *Emulator
	host   string
	ticket string
}

const (
	apiCtx    = "Cust777"
	apiApp    = "app"
	apiSecret = "s3cret"
)

func newAPIFixture(t testing.TB, opts ...Option) *apiFixture {
	t.Helper()
	e, err := New("http://127.0.0.1:8081", append([]Option{WithKeySize(1024)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	e.apps[apiApp] = &App{ClientID: apiApp, ClientSecret: apiSecret, Name: apiApp}
	if err := e.AddTenant(Tenant{ContextIdentifier: apiCtx}); err != nil {
		t.Fatal(err)
	}
	if err := e.AddUser(User{Username: "u@example.com", Password: "pw", ContextIdentifier: apiCtx, FullName: "Una User"}); err != nil {
		t.Fatal(err)
	}
	tk, err := e.TicketFor(apiCtx, apiApp)
	if err != nil {
		t.Fatal(err)
	}
	return &apiFixture{e: e, host: "127.0.0.1:8081", ticket: tk}
}

// call sends a request as the system user (set auth to override).
func (f *apiFixture) call(method, path, body string, auth ...string) (int, map[string]any) {
	req := httptest.NewRequest(method, "http://"+f.host+path, strings.NewReader(body))
	req.Host = f.host
	if len(auth) > 0 {
		if auth[0] != "" {
			req.Header.Set("Authorization", auth[0])
		}
		if len(auth) > 1 && auth[1] != "" {
			req.Header.Set("SO-AppToken", auth[1])
		}
	} else {
		req.Header.Set("Authorization", "SOTicket "+f.ticket)
		req.Header.Set("SO-AppToken", apiSecret)
	}
	rec := httptest.NewRecorder()
	f.e.ServeHTTP(rec, req)
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out
}

func TestTenantAPIChecksCredentials(t *testing.T) {
	f := newAPIFixture(t)
	if err := f.e.AddTenant(Tenant{ContextIdentifier: "Cust888"}); err != nil {
		t.Fatal(err)
	}
	other, _ := f.e.TicketFor("Cust888", apiApp)
	userTok, err := f.e.AccessTokenFor("u@example.com")
	if err != nil {
		t.Fatal(err)
	}
	path := "/" + apiCtx + "/api/v1/User/currentPrincipal"
	for name, auth := range map[string][]string{
		"none":             {"", ""},
		"no app token":     {"SOTicket " + f.ticket, ""},
		"wrong app token":  {"SOTicket " + f.ticket, "nope"},
		"unknown ticket":   {"SOTicket 7T:forged", apiSecret},
		"other tenant":     {"SOTicket " + other, apiSecret},
		"unknown bearer":   {"Bearer 8A:forged", ""},
		"basic":            {"Basic dTpw", ""},
		"ticket as bearer": {"Bearer " + f.ticket, ""},
	} {
		if code, body := f.call("GET", path, "", auth...); code != 401 || body["ErrorMessage"] == "" {
			t.Errorf("%s: %d %v, want 401 with a message", name, code, body)
		}
	}
	code, me := f.call("GET", path, "", "soticket "+f.ticket, apiSecret) // scheme is case-insensitive
	if code != 200 || me["UserType"] != "SystemAssociate" || me["AssociateId"] != float64(SystemUserAssociateID) {
		t.Fatalf("system user principal: %d %v", code, me)
	}
	code, me = f.call("GET", path, "", "Bearer "+userTok)
	if code != 200 || me["FullName"] != "Una User" || me["UserName"] != "u@example.com" {
		t.Fatalf("user principal: %d %v", code, me)
	}
	if code, _ := f.call("GET", "/Cust888/api/v1/User/currentPrincipal", "", "Bearer "+userTok); code != 401 {
		t.Fatalf("a user's token worked on another tenant: %d", code)
	}
	if err := f.e.SetTenantState(apiCtx, "Suspended"); err != nil {
		t.Fatal(err)
	}
	if code, _ := f.call("GET", path, ""); code != 503 {
		t.Fatalf("suspended tenant answered %d", code)
	}
	if _, err := f.e.TicketFor("Cust1", apiApp); err == nil {
		t.Fatal("TicketFor an unknown tenant")
	}
	if _, err := f.e.AccessTokenFor("nobody"); err == nil {
		t.Fatal("AccessTokenFor an unknown user")
	}
}

func TestTenantAPIContactsAndPersons(t *testing.T) {
	f := newAPIFixture(t)
	base := "/" + apiCtx + "/api/v1/"
	code, def := f.call("GET", base+"Contact/default", "")
	if code != 200 || def["ContactId"] != float64(0) {
		t.Fatalf("default: %d %v", code, def)
	}
	def["Name"] = "Acme"
	def["Category"] = map[string]any{"Id": 2}
	b, _ := json.Marshal(def)
	code, created := f.call("POST", base+"Contact", string(b))
	if code != 200 || created["ContactId"] != float64(1) || created["Category"].(map[string]any)["Value"] != "Prospect" {
		t.Fatalf("create: %d %v", code, created)
	}
	for name, tc := range map[string]struct {
		method, path, body string
		want               int
	}{
		"no name":       {"POST", "Contact", `{"Name":" "}`, 400},
		"bad json":      {"POST", "Contact", `{`, 400},
		"id on create":  {"POST", "Contact", `{"ContactId":9,"Name":"x"}`, 400},
		"get missing":   {"GET", "Contact/99", "", 404},
		"get bad id":    {"GET", "Contact/abc", "", 404},
		"put missing":   {"PUT", "Contact/99", `{"Name":"x"}`, 404},
		"put mismatch":  {"PUT", "Contact/1", `{"ContactId":2,"Name":"x"}`, 400},
		"delete gone":   {"DELETE", "Contact/99", "", 404},
		"person noname": {"POST", "Person", `{"Firstname":""}`, 400},
		"person bad co": {"POST", "Person", `{"Firstname":"A","Contact":{"ContactId":55}}`, 400},
	} {
		if code, body := f.call(tc.method, base+tc.path, tc.body); code != tc.want || body["ErrorMessage"] == "" {
			t.Errorf("%s: %d %v, want %d with a message", name, code, body, tc.want)
		}
	}
	code, upd := f.call("PUT", base+"Contact/1", `{"Name":"Acme 2","Department":"R&D"}`)
	if code != 200 || upd["Name"] != "Acme 2" || upd["UpdatedBy"] == nil {
		t.Fatalf("update: %d %v", code, upd)
	}
	code, p := f.call("POST", base+"Person", `{"Firstname":"Una","Lastname":"Person","Contact":{"ContactId":1}}`, "Bearer "+mustToken(t, f.e))
	if code != 200 || p["Contact"].(map[string]any)["Name"] != "Acme 2" {
		t.Fatalf("person: %d %v", code, p)
	}
	persons := f.e.Persons(apiCtx)
	if len(persons) != 1 || persons[0].CreatedBy != f.e.users["u@example.com"].AssociateID {
		t.Fatalf("persons %+v: want created by the user's associate", persons)
	}
	contacts := f.e.Contacts(apiCtx)
	if len(contacts) != 1 || contacts[0].CreatedBy != SystemUserAssociateID || contacts[0].Department != "R&D" || contacts[0].CategoryID != 2 {
		t.Fatalf("contacts %+v", contacts)
	}
	if code, _ := f.call("DELETE", base+"Person/1", ""); code != 204 {
		t.Fatalf("delete person: %d", code)
	}
	if code, _ := f.call("DELETE", base+"Contact/1", ""); code != 204 || len(f.e.Contacts(apiCtx)) != 0 {
		t.Fatalf("delete contact: %d", code)
	}
}

func mustToken(t testing.TB, e *Emulator) string {
	tok, err := e.AccessTokenFor("u@example.com")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestTenantAPIFaultsAndRecords(t *testing.T) {
	f := newAPIFixture(t)
	f.e.Fail(EndpointTenantAPI, Fault{Status: 503, Times: 1, ContextIdentifier: apiCtx})
	if code, _ := f.call("GET", "/"+apiCtx+"/api/v1/Contact/default", ""); code != 503 {
		t.Fatalf("fault: %d", code)
	}
	if code, _ := f.call("GET", "/"+apiCtx+"/api/v1/Contact/default", ""); code != 200 {
		t.Fatalf("after the fault: %d", code)
	}
	reqs := f.e.Requests(EndpointTenantAPI)
	if len(reqs) != 2 || reqs[0].ContextIdentifier != apiCtx {
		t.Fatalf("records %+v", reqs)
	}
	if _, err := f.e.AddContact("Cust1", Contact{Name: "x"}); err == nil {
		t.Fatal("AddContact to an unknown tenant")
	}
	c, _ := f.e.AddContact(apiCtx, Contact{ContactID: 40, Name: "x"})
	if _, err := f.e.AddContact(apiCtx, Contact{ContactID: 40, Name: "y"}); err == nil || c.ContactID != 40 {
		t.Fatal("AddContact reused an id")
	}
	if code, created := f.call("POST", "/"+apiCtx+"/api/v1/Contact", `{"Name":"next"}`); code != 200 || created["ContactId"] != float64(41) {
		t.Fatalf("id after a seeded 40: %v", created)
	}
}

// BenchmarkCreateCompany is the console's load: default entity, then save.
func BenchmarkCreateCompany(b *testing.B) {
	f := newAPIFixture(b, WithRequestLogLimit(0))
	base := "/" + apiCtx + "/api/v1/"
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		code, def := f.call("GET", base+"Contact/default", "")
		if code != http.StatusOK {
			b.Fatal(code)
		}
		i++
		def["Name"] = fmt.Sprintf("Company %d", i)
		body, _ := json.Marshal(def)
		if code, _ := f.call("POST", base+"Contact", string(body)); code != http.StatusOK {
			b.Fatal(code)
		}
	}
}

// The request log keeps the newest entries, in order, however long the
// run (the console creates 10,000 companies through one emulator).
func TestRequestLogKeepsTheNewest(t *testing.T) {
	f := newAPIFixture(t, WithRequestLogLimit(3))
	for i := 1; i <= 8; i++ {
		f.call("GET", fmt.Sprintf("/%s/api/v1/Contact/%d", apiCtx, i), "")
		reqs := f.e.Requests(EndpointTenantAPI)
		if want := min(i, 3); len(reqs) != want || reqs[len(reqs)-1].Path != fmt.Sprintf("/%s/api/v1/Contact/%d", apiCtx, i) {
			t.Fatalf("after %d requests: %d kept, last %q", i, len(reqs), reqs[len(reqs)-1].Path)
		}
		if i >= 3 && reqs[0].Path != fmt.Sprintf("/%s/api/v1/Contact/%d", apiCtx, i-2) {
			t.Fatalf("after %d requests the oldest kept is %q", i, reqs[0].Path)
		}
		if len(f.e.log) > 3 {
			t.Fatalf("after %d requests the log holds %d entries", i, len(f.e.log))
		}
	}
	if n := f.e.Count(EndpointTenantAPI); n != 8 {
		t.Fatalf("count %d, want 8", n)
	}
}

// A client whose request body stalls holds up only its own request: the
// emulator must not read a body while it holds the lock every endpoint
// takes (the request log, off here, would otherwise read it first).
func TestStalledBodyBlocksOnlyItsRequest(t *testing.T) {
	srv := NewServer(WithKeySize(1024), WithRequestLogLimit(0))
	if err := srv.RegisterApp(App{ClientID: apiApp, ClientSecret: apiSecret}); err != nil {
		t.Fatal(err)
	}
	if err := srv.AddTenant(Tenant{ContextIdentifier: apiCtx}); err != nil {
		t.Fatal(err)
	}
	tk, err := srv.TicketFor(apiCtx, apiApp)
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	t.Cleanup(func() {
		pw.CloseWithError(errors.New("test over")) // ends the stalled request, so that Close returns
		srv.Close()
	})
	req, _ := http.NewRequest("POST", srv.URL+"/"+apiCtx+"/api/v1/Contact", pr)
	req.Header.Set("Authorization", "SOTicket "+tk)
	req.Header.Set("SO-AppToken", apiSecret)
	go func() {
		if resp, err := srv.Client().Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	if _, err := pw.Write([]byte(`{"Name":`)); err != nil {
		t.Fatal(err)
	}
	// Before the fix even Count blocks, so the checks run aside and the
	// test gives up on them after a while.
	done := make(chan error, 1)
	go func() {
		for srv.Count(EndpointTenantAPI) == 0 {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond) // let the handler reach the body
		for _, path := range []string{"/login/.well-known/jwks", "/api/state/" + apiCtx} {
			resp, err := http.Get(srv.URL + path)
			if err != nil {
				done <- err
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				done <- fmt.Errorf("%s: %d", path, resp.StatusCode)
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the emulator does not answer while a request body stalls")
	}
}

// A negative log limit is no log, not a panic in Requests.
func TestNegativeRequestLogLimit(t *testing.T) {
	f := newAPIFixture(t, WithRequestLogLimit(-1))
	f.call("GET", "/"+apiCtx+"/api/v1/Contact/default", "")
	if reqs := f.e.Requests(""); len(reqs) != 0 {
		t.Fatalf("kept %d requests", len(reqs))
	}
	if n := f.e.Count(EndpointTenantAPI); n != 1 {
		t.Fatalf("count %d, want 1", n)
	}
}

// The request log keeps a prefix of a large body, not the whole of it.
func TestRequestLogKeepsABodyPrefix(t *testing.T) {
	f := newAPIFixture(t)
	name := strings.Repeat("x", 100<<10)
	body := `{"Name":"` + name + `"}`
	f.call("POST", "/"+apiCtx+"/api/v1/Contact", body)
	f.call("POST", "/"+apiCtx+"/api/v1/Contact", `{"Name":"small"}`)
	reqs := f.e.Requests(EndpointTenantAPI)
	if len(reqs) != 2 {
		t.Fatalf("%d requests logged", len(reqs))
	}
	if got := reqs[0].Body; len(got) != 64<<10 || cap(got) >= 2*64<<10 || string(got) != body[:64<<10] {
		t.Fatalf("large body logged as %d bytes (cap %d)", len(got), cap(got))
	}
	if string(reqs[1].Body) != `{"Name":"small"}` {
		t.Fatalf("small body logged as %q", reqs[1].Body)
	}
}

// Dates go without an offset unless the request asks for one with
// SO-TimeZone's includeTZOffset (webapi README caveat 6).
func TestDatesHaveAnOffsetOnlyOnRequest(t *testing.T) {
	f := newAPIFixture(t)
	if _, err := f.e.AddContact(apiCtx, Contact{Name: "Acme", Created: time.Date(2002, 8, 7, 14, 52, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	get := func(path, tz string) map[string]any {
		req := httptest.NewRequest("GET", "http://"+f.host+path, nil)
		req.Header.Set("Authorization", "SOTicket "+f.ticket)
		req.Header.Set("SO-AppToken", apiSecret)
		if tz != "" {
			req.Header.Set("SO-TimeZone", tz)
		}
		rec := httptest.NewRecorder()
		f.e.ServeHTTP(rec, req)
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code != 200 {
			t.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
		}
		return out
	}
	row := func(m map[string]any) map[string]any { return m["value"].([]any)[0].(map[string]any) }
	base := "/" + apiCtx + "/api/v1/Contact"
	for _, tc := range []struct{ tz, want string }{
		{"", "2002-08-07T14:52:00"},
		{"CET", "2002-08-07T14:52:00"},
		{"CET, includeTZOffset", "2002-08-07T14:52:00Z"},
	} {
		entity := get(base+"/1", tc.tz)
		if entity["CreatedDate"] != tc.want || entity["UpdatedDate"] != "0001-01-01T00:00:00" {
			t.Errorf("SO-TimeZone %q: entity dates %v, %v; want %s", tc.tz, entity["CreatedDate"], entity["UpdatedDate"], tc.want)
		}
		if got := row(get(base+"?$select=createdDate", tc.tz))["createdDate"]; got != tc.want {
			t.Errorf("SO-TimeZone %q: OData createdDate %v, want %s", tc.tz, got, tc.want)
		}
	}
}

// Answers carry their length, so that a client can size its read and a
// long one (a system user JWT with its claims) is not chunked.
func TestAnswersCarryTheirLength(t *testing.T) {
	f := newAPIFixture(t)
	req := httptest.NewRequest("GET", "http://"+f.host+"/"+apiCtx+"/api/v1/Contact/default", nil)
	req.Host = f.host
	req.Header.Set("Authorization", "SOTicket "+f.ticket)
	req.Header.Set("SO-AppToken", apiSecret)
	rec := httptest.NewRecorder()
	f.e.ServeHTTP(rec, req)
	if n, err := strconv.Atoi(rec.Header().Get("Content-Length")); rec.Code != http.StatusOK || err != nil || n != rec.Body.Len() {
		t.Fatalf("HTTP %d, Content-Length %q for a body of %d bytes", rec.Code, rec.Header().Get("Content-Length"), rec.Body.Len())
	}
}

// An associate id names a user of the tenant whose data is read: another
// tenant's user with the same id must not show up.
func TestAssociateNamesStayInTheirTenant(t *testing.T) {
	f := newAPIFixture(t)
	must(t, f.e.AddTenant(Tenant{ContextIdentifier: "Cust888"}))
	must(t, f.e.AddUser(User{Username: "bob@other.example", Password: "pw", ContextIdentifier: "Cust888",
		AssociateID: 42, FullName: "Bob Other"}))
	c, err := f.e.AddContact(apiCtx, Contact{Name: "Mine", AssociateID: 42})
	must(t, err)
	code, body := f.call("GET", "/"+apiCtx+"/api/v1/Contact/"+strconv.Itoa(c.ContactID), "")
	assoc, _ := body["Associate"].(map[string]any)
	if code != 200 || assoc == nil {
		t.Fatalf("GET: %d %v", code, body)
	}
	if assoc["FullName"] == "Bob Other" {
		t.Fatalf("Cust777's contact shows Cust888's user as its owner: %v", assoc)
	}
}

// What AddContact and AddPerson store is the emulator's own: changing the
// caller's slices afterwards (or the returned value's) does not change
// the tenant's data.
func TestSeededDataDoesNotAliasTheCaller(t *testing.T) {
	f := newAPIFixture(t)
	emails := []string{"a@example.com"}
	c, err := f.e.AddContact(apiCtx, Contact{Name: "n", Emails: emails})
	must(t, err)
	emails[0] = "changed by the caller"
	c.Emails[0] = "changed through the result"
	if got := f.e.Contacts(apiCtx)[0].Emails[0]; got != "a@example.com" {
		t.Errorf("stored contact email = %q", got)
	}
	phones := []string{"+47 1"}
	p, err := f.e.AddPerson(apiCtx, Person{Firstname: "P", Phones: phones, Emails: []string{"p@example.com"}})
	must(t, err)
	phones[0] = "changed by the caller"
	p.Emails[0] = "changed through the result"
	got := f.e.Persons(apiCtx)[0]
	if got.Phones[0] != "+47 1" || got.Emails[0] != "p@example.com" {
		t.Errorf("stored person = %v %v", got.Phones, got.Emails)
	}
}
