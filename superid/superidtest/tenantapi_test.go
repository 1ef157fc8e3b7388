package superidtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
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

func TestTenantStateAPI(t *testing.T) {
	f := newAPIFixture(t, WithTenantStateValidity(time.Minute))
	cases := map[string]bool{"Running": true, "OnlineMaintenance": true, "OfflineMaintenance": false, "Suspended": false, "Deleted": false, "MigrationPending": false}
	for state, running := range cases {
		if err := f.e.SetTenantState(apiCtx, state); err != nil {
			t.Fatal(err)
		}
		code, st := f.call("GET", "/api/state/"+apiCtx, "", "")
		if code != 200 || st["State"] != state || st["IsRunning"] != running || st["ContextIdentifier"] != apiCtx {
			t.Fatalf("%s: %d %v", state, code, st)
		}
		if st["Endpoint"] != "http://127.0.0.1:8081/"+apiCtx || st["Api"] != "http://127.0.0.1:8081/"+apiCtx+"/api" {
			t.Fatalf("%s: endpoints %v", state, st)
		}
		vu, _ := st["ValidUntil"].(string)
		if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$`).MatchString(vu) {
			t.Fatalf("ValidUntil %q is not 7-digit UTC", vu)
		}
		if at, err := time.Parse(time.RFC3339Nano, vu); err != nil || time.Until(at) < 50*time.Second || time.Until(at) > 70*time.Second {
			t.Fatalf("ValidUntil %q not about a minute ahead", vu)
		}
	}
	if code, _ := f.call("GET", "/api/state/Cust1", "", ""); code != 404 {
		t.Fatalf("unknown tenant: %d", code)
	}
}

func TestTenantMoveAnswers421OnTheOldHost(t *testing.T) {
	f := newAPIFixture(t)
	if err := f.e.MoveTenant(apiCtx); err != nil {
		t.Fatal(err)
	}
	if got := f.e.WebAPIURL(apiCtx); got != "http://localhost:8081/"+apiCtx+"/api/" {
		t.Fatalf("moved WebAPIURL %q", got)
	}
	_, st := f.call("GET", "/api/state/"+apiCtx, "", "")
	if st["Api"] != "http://localhost:8081/"+apiCtx+"/api" {
		t.Fatalf("state after move: %v", st)
	}
	if code, body := f.call("GET", "/"+apiCtx+"/api/v1/User/currentPrincipal", ""); code != 421 || body["Message"] == nil {
		t.Fatalf("old host: %d %v", code, body)
	}
	f.host = "localhost:8081"
	if code, _ := f.call("GET", "/"+apiCtx+"/api/v1/User/currentPrincipal", ""); code != 200 {
		t.Fatalf("new host: %d", code)
	}
	if err := f.e.MoveTenant(apiCtx); err != nil { // and back
		t.Fatal(err)
	}
	if code, _ := f.call("GET", "/"+apiCtx+"/api/v1/User/currentPrincipal", ""); code != 421 {
		t.Fatalf("after moving back, localhost answered %d", code)
	}
	if err := f.e.MoveTenant("Cust1"); err == nil {
		t.Fatal("moved an unknown tenant")
	}
	remote, _ := New("https://sod.superoffice.com", WithKeySize(1024))
	_ = remote.AddTenant(Tenant{ContextIdentifier: apiCtx})
	if err := remote.MoveTenant(apiCtx); err == nil {
		t.Fatal("moved a tenant of a non-loopback root")
	}
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
		if code, body := f.call("GET", path, "", auth...); code != 401 || body["Message"] == "" {
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
		if code, body := f.call(tc.method, base+tc.path, tc.body); code != tc.want || body["Message"] == "" {
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

func TestODataList(t *testing.T) {
	f := newAPIFixture(t, WithODataPageSize(3))
	for i, n := range []string{"Alpha", "beta", "Gamma", "O'Brien AS", "alphabet", "Delta"} {
		if _, err := f.e.AddContact(apiCtx, Contact{Name: n, CategoryID: 1 + i%2}); err != nil {
			t.Fatal(err)
		}
	}
	list := func(q string) (int, []string, string) {
		code, body := f.call("GET", "/"+apiCtx+"/api/v1/Contact?"+q, "")
		var names []string
		rows, _ := body["value"].([]any)
		for _, r := range rows {
			m := r.(map[string]any)
			if m["EntityName"] != "contact" || m["PrimaryKey"] == nil {
				t.Fatalf("row %v lacks PrimaryKey/EntityName", m)
			}
			names = append(names, fmt.Sprint(m["name"]))
		}
		next, _ := body["odata.nextLink"].(string)
		return code, names, next
	}
	q := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	for _, tc := range []struct {
		query string
		want  string
	}{
		{q("$filter", "name begins 'alp'"), "[Alpha alphabet]"},
		{q("$filter", "name contains 'TA'"), "[beta Delta]"},
		{q("$filter", "name eq 'o''brien as'"), "[O'Brien AS]"},
		{q("$filter", "name notBegins 'a' and category eq 'Customer'"), "[Gamma]"},
		{q("$filter", "contactId ge 5"), "[alphabet Delta]"},
		{q("$filter", "name ne 'beta' and contactId lt 4"), "[Alpha Gamma]"},
		{q("$orderby", "name desc", "$top", "2"), "[O'Brien AS Gamma]"},
		{q("$orderBy", "category,name", "$skip", "1", "$top", "2"), "[alphabet Gamma]"},
		{q("$filter", "name eq 'nobody'"), "[]"},
	} {
		code, names, _ := list(tc.query)
		if code != 200 || fmt.Sprint(names) != tc.want {
			t.Errorf("%s: %d %v, want %s", tc.query, code, names, tc.want)
		}
	}
	// Paging: 6 rows at 3 per page, with an absolute next link.
	code, names, next := list(q("$select", "name,contactId"))
	if code != 200 || len(names) != 3 || !strings.HasPrefix(next, "http://127.0.0.1:8081/"+apiCtx+"/api/v1/Contact?") {
		t.Fatalf("page 1: %d %v %q", code, names, next)
	}
	u, _ := url.Parse(next)
	code, names2, next2 := list(u.RawQuery)
	if code != 200 || len(names2) != 3 || next2 != "" || names2[0] != "O'Brien AS" {
		t.Fatalf("page 2: %d %v %q", code, names2, next2)
	}
	// $top smaller than the total but larger than a page.
	_, names, next = list(q("$top", "4"))
	u, _ = url.Parse(next)
	if len(names) != 3 || u.Query().Get("$top") != "1" || u.Query().Get("$skip") != "3" {
		t.Fatalf("top 4: %v %q", names, next)
	}
	for _, bad := range []string{
		q("$select", "nope"), q("$filter", "name"), q("$filter", "name eq 'x' or name eq 'y'"),
		q("$filter", "name eq 'open"), q("$filter", "name like 'x'"), q("$orderby", "name sideways"),
		q("$top", "-1"), q("$skip", "x"),
	} {
		if code, body := f.call("GET", "/"+apiCtx+"/api/v1/Contact?"+bad, ""); code != 400 || body["Message"] == "" {
			t.Errorf("%s: %d %v, want 400", bad, code, body)
		}
	}
	// Persons list.
	if _, err := f.e.AddPerson(apiCtx, Person{Firstname: "Ann", Lastname: "Smith", ContactID: 1}); err != nil {
		t.Fatal(err)
	}
	code, body := f.call("GET", "/"+apiCtx+"/api/v1/Person?"+q("$filter", "contactName eq 'alpha'"), "")
	rows, _ := body["value"].([]any)
	if code != 200 || len(rows) != 1 || rows[0].(map[string]any)["fullName"] != "Ann Smith" {
		t.Fatalf("persons: %d %v", code, body)
	}
}

// TestODataSelectListItemID: $select takes list/id paths for the contact's
// list-item columns (the documented example is category/id) and answers
// each under its path, next to plain columns; list/value and paths on
// other columns stay refused.
func TestODataSelectListItemID(t *testing.T) {
	f := newAPIFixture(t)
	if _, err := f.e.AddContact(apiCtx, Contact{Name: "Acme", CategoryID: 2, BusinessID: 3, CountryID: 578}); err != nil {
		t.Fatal(err)
	}
	sel := url.Values{"$select": {"name,category/id,Business/ID,country/id"}}.Encode()
	code, body := f.call("GET", "/"+apiCtx+"/api/v1/Contact?"+sel, "")
	rows, _ := body["value"].([]any)
	if code != 200 || len(rows) != 1 {
		t.Fatalf("%d %v", code, body)
	}
	got := rows[0].(map[string]any)
	want := map[string]any{"PrimaryKey": 1.0, "EntityName": "contact", "name": "Acme",
		"category/id": 2.0, "business/id": 3.0, "country/id": 578.0}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("row %v, want %v", got, want)
	}
	for _, bad := range []string{"category/value", "category/", "name/id", "category/id/id", "contactName/id"} {
		for _, list := range []string{"Contact", "Person"} {
			q := url.Values{"$select": {bad}}.Encode()
			if code, body := f.call("GET", "/"+apiCtx+"/api/v1/"+list+"?"+q, ""); code != 400 || body["Message"] == "" {
				t.Errorf("%s %s: %d %v, want 400", list, bad, code, body)
			}
		}
	}
}

// TestODataDateOperatorsRefused: the documented date operators are refused
// by name, so a partner can tell them from a misspelt operator.
func TestODataDateOperatorsRefused(t *testing.T) {
	f := newAPIFixture(t)
	for _, filter := range []string{
		"createdDate before '2026-01-01'", "updatedDate after '2026-01-01'",
		"createdDate date '2026-01-01'", "createdDate dateBetween '2026-01-01','2026-02-01'",
	} {
		q := url.Values{"$filter": {filter}}.Encode()
		code, body := f.call("GET", "/"+apiCtx+"/api/v1/Contact?"+q, "")
		if msg, _ := body["Message"].(string); code != 400 || !strings.Contains(msg, "not emulated") {
			t.Errorf("%s: %d %v, want 400 naming the operator as not emulated", filter, code, body)
		}
	}
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

// GET {Api} answers the version document without credentials
// (PROTOCOL 6.3, DOCS status-page.md).
func TestVersionEndpoint(t *testing.T) {
	f := newAPIFixture(t)
	for _, path := range []string{"/" + apiCtx + "/api", "/" + strings.ToLower(apiCtx) + "/api/"} {
		code, body := f.call("GET", path, "", "")
		if code != http.StatusOK || body["v1"] != "http://127.0.0.1:8081/"+apiCtx+"/api/v1/" || body["Version"] != "v1" {
			t.Fatalf("%s: %d %v", path, code, body)
		}
		if v, _ := body["NetServerVersion"].(string); !regexp.MustCompile(`^\d+\.\d+\.\d+\.\d+$`).MatchString(v) {
			t.Fatalf("%s: NetServerVersion %q", path, v)
		}
	}
	if code, body := f.call("GET", "/Cust1/api", "", ""); code != http.StatusNotFound || body["Error"] != true {
		t.Fatalf("unknown tenant: %d %v", code, body)
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
		{"", "2002-08-07T14:52:00.0000000"},
		{"CET", "2002-08-07T14:52:00.0000000"},
		{"CET, includeTZOffset", "2002-08-07T14:52:00.0000000Z"},
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

// A number in $filter near the ends of int must compare as a number, not
// wrap around in a subtraction.
func TestODataFilterExtremeNumbers(t *testing.T) {
	f := newAPIFixture(t)
	if _, err := f.e.AddContact(apiCtx, Contact{Name: "one"}); err != nil {
		t.Fatal(err)
	}
	for filter, want := range map[string]int{
		"contactId lt -9223372036854775807": 0,
		"contactId gt -9223372036854775808": 1,
		"contactId gt 9223372036854775807":  0,
		"contactId lt 9223372036854775807":  1,
	} {
		code, body := f.call("GET", "/"+apiCtx+"/api/v1/Contact?$filter="+url.QueryEscape(filter), "")
		rows, _ := body["value"].([]any)
		if code != 200 || len(rows) != want {
			t.Errorf("%s: %d, %d rows, want %d", filter, code, len(rows), want)
		}
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
