package superidtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	require.NoError(t, err)
	e.apps[apiApp] = &App{ClientID: apiApp, ClientSecret: apiSecret, Name: apiApp}
	require.NoError(t, e.AddTenant(Tenant{ContextIdentifier: apiCtx}))
	require.NoError(t, e.AddUser(User{Username: "u@example.com", Password: "pw", ContextIdentifier: apiCtx, FullName: "Una User"}))
	tk, err := e.TicketFor(apiCtx, apiApp)
	require.NoError(t, err)
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
	require.NoError(t, f.e.AddTenant(Tenant{ContextIdentifier: "Cust888"}))
	other, _ := f.e.TicketFor("Cust888", apiApp)
	userTok, err := f.e.AccessTokenFor("u@example.com")
	require.NoError(t, err)
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
		code, body := f.call("GET", path, "", auth...)
		assert.Equal(t, 401, code, name)
		assert.Equal(t, "SoCredentialsException", body["ErrorType"], name)
		assert.NotEmpty(t, body["ErrorMessage"], name)
	}
	code, me := f.call("GET", path, "", "soticket "+f.ticket, apiSecret) // scheme is case-insensitive
	require.Equal(t, 200, code, "system user principal: %v", me)
	assert.Equal(t, "SystemAssociate", me["UserType"])
	assert.Equal(t, float64(SystemUserAssociateID), me["AssociateId"])
	code, me = f.call("GET", path, "", "Bearer "+userTok)
	require.Equal(t, 200, code, "user principal: %v", me)
	assert.Equal(t, "Una User", me["FullName"])
	assert.Equal(t, "u@example.com", me["UserName"])
	code, _ = f.call("GET", "/Cust888/api/v1/User/currentPrincipal", "", "Bearer "+userTok)
	assert.Equal(t, 401, code, "a user's token must not work on another tenant")
	require.NoError(t, f.e.SetTenantState(apiCtx, "Suspended"))
	code, _ = f.call("GET", path, "")
	assert.Equal(t, 503, code, "suspended tenant")
	_, err = f.e.TicketFor("Cust1", apiApp)
	assert.Error(t, err, "TicketFor an unknown tenant")
	_, err = f.e.AccessTokenFor("nobody")
	assert.Error(t, err, "AccessTokenFor an unknown user")
}

func TestTenantAPIContactsAndPersons(t *testing.T) {
	f := newAPIFixture(t)
	base := "/" + apiCtx + "/api/v1/"
	code, def := f.call("GET", base+"Contact/default", "")
	require.Equal(t, 200, code, "default: %v", def)
	require.Equal(t, float64(0), def["ContactId"])
	def["Name"] = "Acme"
	def["Category"] = map[string]any{"Id": 2}
	b, _ := json.Marshal(def)
	code, created := f.call("POST", base+"Contact", string(b))
	require.Equal(t, 200, code, "create: %v", created)
	assert.Equal(t, float64(1), created["ContactId"])
	assert.Equal(t, "Prospect", created["Category"].(map[string]any)["Value"])
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
		code, body := f.call(tc.method, base+tc.path, tc.body)
		assert.Equal(t, tc.want, code, name)
		assert.NotEmpty(t, body["ErrorMessage"], name)
	}
	code, upd := f.call("PUT", base+"Contact/1", `{"Name":"Acme 2","Department":"R&D"}`)
	require.Equal(t, 200, code, "update: %v", upd)
	assert.Equal(t, "Acme 2", upd["Name"])
	assert.Equal(t, float64(SystemUserAssociateID), upd["UpdatedBy"].(map[string]any)["AssociateId"])
	code, p := f.call("POST", base+"Person", `{"Firstname":"Una","Lastname":"Person","Contact":{"ContactId":1}}`, "Bearer "+mustToken(t, f.e))
	require.Equal(t, 200, code, "person: %v", p)
	assert.Equal(t, "Acme 2", p["Contact"].(map[string]any)["Name"])
	persons := f.e.Persons(apiCtx)
	require.Len(t, persons, 1)
	assert.Equal(t, f.e.users["u@example.com"].AssociateID, persons[0].CreatedBy, "created by the user's associate")
	contacts := f.e.Contacts(apiCtx)
	require.Len(t, contacts, 1)
	assert.Equal(t, SystemUserAssociateID, contacts[0].CreatedBy)
	assert.Equal(t, "R&D", contacts[0].Department)
	assert.Equal(t, 2, contacts[0].CategoryID)
	code, _ = f.call("DELETE", base+"Person/1", "")
	assert.Equal(t, 204, code, "delete person")
	code, _ = f.call("DELETE", base+"Contact/1", "")
	assert.Equal(t, 204, code, "delete contact")
	assert.Empty(t, f.e.Contacts(apiCtx))
}

func mustToken(t testing.TB, e *Emulator) string {
	tok, err := e.AccessTokenFor("u@example.com")
	require.NoError(t, err)
	return tok
}

func TestTenantAPIFaultsAndRecords(t *testing.T) {
	f := newAPIFixture(t)
	f.e.Fail(EndpointTenantAPI, Fault{Status: 503, Times: 1, ContextIdentifier: apiCtx})
	code, body := f.call("GET", "/"+apiCtx+"/api/v1/Contact/default", "")
	assert.Equal(t, 503, code, "fault")
	assert.Equal(t, "SoTenantNotRunningException", body["ErrorType"], "a fault without a body answers SuperOffice's error body")
	code, _ = f.call("GET", "/"+apiCtx+"/api/v1/Contact/default", "")
	assert.Equal(t, 200, code, "after the fault")
	reqs := f.e.Requests(EndpointTenantAPI)
	require.Len(t, reqs, 2)
	assert.Equal(t, apiCtx, reqs[0].ContextIdentifier)
	_, err := f.e.AddContact("Cust1", Contact{Name: "x"})
	assert.Error(t, err, "AddContact to an unknown tenant")
	c, err := f.e.AddContact(apiCtx, Contact{ContactID: 40, Name: "x"})
	require.NoError(t, err)
	assert.Equal(t, 40, c.ContactID)
	_, err = f.e.AddContact(apiCtx, Contact{ContactID: 40, Name: "y"})
	assert.Error(t, err, "AddContact reused an id")
	code, created := f.call("POST", "/"+apiCtx+"/api/v1/Contact", `{"Name":"next"}`)
	require.Equal(t, 200, code)
	assert.Equal(t, float64(41), created["ContactId"], "the id after a seeded 40")
}

// BenchmarkCreateCompany is the console's load: default entity, then save.
func BenchmarkCreateCompany(b *testing.B) {
	f := newAPIFixture(b, WithRequestLogLimit(0))
	base := "/" + apiCtx + "/api/v1/"
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		code, def := f.call("GET", base+"Contact/default", "")
		require.Equal(b, http.StatusOK, code)
		i++
		def["Name"] = fmt.Sprintf("Company %d", i)
		body, _ := json.Marshal(def)
		code, _ = f.call("POST", base+"Contact", string(body))
		require.Equal(b, http.StatusOK, code)
	}
}

// The request log keeps the newest entries, in order, however long the
// run (the console creates 10,000 companies through one emulator).
func TestRequestLogKeepsTheNewest(t *testing.T) {
	f := newAPIFixture(t, WithRequestLogLimit(3))
	for i := 1; i <= 8; i++ {
		f.call("GET", fmt.Sprintf("/%s/api/v1/Contact/%d", apiCtx, i), "")
		reqs := f.e.Requests(EndpointTenantAPI)
		require.Len(t, reqs, min(i, 3), "after %d requests", i)
		assert.Equal(t, fmt.Sprintf("/%s/api/v1/Contact/%d", apiCtx, i), reqs[len(reqs)-1].Path, "the newest after %d requests", i)
		if i >= 3 {
			assert.Equal(t, fmt.Sprintf("/%s/api/v1/Contact/%d", apiCtx, i-2), reqs[0].Path, "the oldest kept after %d requests", i)
		}
		assert.LessOrEqual(t, len(f.e.log), 3, "the log's entries after %d requests", i)
	}
	assert.Equal(t, 8, f.e.Count(EndpointTenantAPI))
}

// A client whose request body stalls holds up only its own request: the
// emulator must not read a body while it holds the lock every endpoint
// takes (the request log, off here, would otherwise read it first).
func TestStalledBodyBlocksOnlyItsRequest(t *testing.T) {
	f := newAPIFixture(t, WithRequestLogLimit(0))
	body := &stallingBody{head: []byte(`{"Name":`), reached: make(chan struct{}), release: make(chan struct{})}
	req := httptest.NewRequest("POST", "http://"+f.host+"/"+apiCtx+"/api/v1/Contact", body)
	req.Header.Set("Authorization", "SOTicket "+f.ticket)
	req.Header.Set("SO-AppToken", apiSecret)
	served := make(chan int)
	go func() {
		rec := httptest.NewRecorder()
		f.e.ServeHTTP(rec, req)
		served <- rec.Code
	}()
	<-body.reached // the handler is reading the body, which stalls now
	// With the bug, these block for good on the lock the stalled request
	// holds (and go test's timeout reports it).
	for _, path := range []string{"/login/.well-known/jwks", "/api/state/" + apiCtx} {
		rec := httptest.NewRecorder()
		f.e.ServeHTTP(rec, httptest.NewRequest("GET", "http://"+f.host+path, nil))
		assert.Equal(t, http.StatusOK, rec.Code, path)
	}
	close(body.release)
	assert.Equal(t, http.StatusBadRequest, <-served, "a body that breaks off is a bad request")
}

// stallingBody yields head, then blocks its next read, signalling reached,
// until release is closed, and then fails.
type stallingBody struct {
	head             []byte
	reached, release chan struct{}
	once             sync.Once
}

func (b *stallingBody) Read(p []byte) (int, error) {
	if len(b.head) > 0 {
		n := copy(p, b.head)
		b.head = b.head[n:]
		return n, nil
	}
	b.once.Do(func() { close(b.reached) })
	<-b.release
	return 0, io.ErrUnexpectedEOF
}

// A negative log limit is no log, not a panic in Requests.
func TestNegativeRequestLogLimit(t *testing.T) {
	f := newAPIFixture(t, WithRequestLogLimit(-1))
	f.call("GET", "/"+apiCtx+"/api/v1/Contact/default", "")
	assert.Empty(t, f.e.Requests(""))
	assert.Equal(t, 1, f.e.Count(EndpointTenantAPI))
}

// The request log keeps a prefix of a large body, not the whole of it.
func TestRequestLogKeepsABodyPrefix(t *testing.T) {
	f := newAPIFixture(t)
	name := strings.Repeat("x", 100<<10)
	body := `{"Name":"` + name + `"}`
	f.call("POST", "/"+apiCtx+"/api/v1/Contact", body)
	f.call("POST", "/"+apiCtx+"/api/v1/Contact", `{"Name":"small"}`)
	reqs := f.e.Requests(EndpointTenantAPI)
	require.Len(t, reqs, 2)
	got := reqs[0].Body
	assert.Len(t, got, 64<<10, "the large body's prefix")
	assert.Less(t, cap(got), 2*64<<10, "the prefix must not pin the whole body")
	assert.Equal(t, body[:64<<10], string(got))
	assert.Equal(t, `{"Name":"small"}`, string(reqs[1].Body))
}

// Dates go without an offset unless the request asks for one with
// SO-TimeZone's includeTZOffset (webapi README caveat 6).
func TestDatesHaveAnOffsetOnlyOnRequest(t *testing.T) {
	f := newAPIFixture(t)
	_, err := f.e.AddContact(apiCtx, Contact{Name: "Acme", Created: time.Date(2002, 8, 7, 14, 52, 0, 0, time.UTC)})
	require.NoError(t, err)
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
		require.Equal(t, 200, rec.Code, "%s: %s", path, rec.Body)
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out), path)
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
		assert.Equal(t, tc.want, entity["CreatedDate"], "SO-TimeZone %q: entity", tc.tz)
		assert.Equal(t, "0001-01-01T00:00:00", entity["UpdatedDate"], "SO-TimeZone %q: entity", tc.tz)
		assert.Equal(t, tc.want, row(get(base+"?$select=createdDate", tc.tz))["createdDate"], "SO-TimeZone %q: OData", tc.tz)
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
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, strconv.Itoa(rec.Body.Len()), rec.Header().Get("Content-Length"))
}

// An associate id names a user of the tenant whose data is read: another
// tenant's user with the same id must not show up.
func TestAssociateNamesStayInTheirTenant(t *testing.T) {
	f := newAPIFixture(t)
	require.NoError(t, f.e.AddTenant(Tenant{ContextIdentifier: "Cust888"}))
	require.NoError(t, f.e.AddUser(User{Username: "bob@other.example", Password: "pw", ContextIdentifier: "Cust888",
		AssociateID: 42, FullName: "Bob Other"}))
	c, err := f.e.AddContact(apiCtx, Contact{Name: "Mine", AssociateID: 42})
	require.NoError(t, err)
	code, body := f.call("GET", "/"+apiCtx+"/api/v1/Contact/"+strconv.Itoa(c.ContactID), "")
	assoc, _ := body["Associate"].(map[string]any)
	require.Equal(t, 200, code, "GET: %v", body)
	require.NotNil(t, assoc)
	assert.NotEqual(t, "Bob Other", assoc["FullName"], "Cust777's contact must not show Cust888's user as its owner")
}

// What AddContact and AddPerson store is the emulator's own: changing the
// caller's slices afterwards (or the returned value's) does not change
// the tenant's data.
func TestSeededDataDoesNotAliasTheCaller(t *testing.T) {
	f := newAPIFixture(t)
	emails := []string{"a@example.com"}
	c, err := f.e.AddContact(apiCtx, Contact{Name: "n", Emails: emails})
	require.NoError(t, err)
	emails[0] = "changed by the caller"
	c.Emails[0] = "changed through the result"
	assert.Equal(t, "a@example.com", f.e.Contacts(apiCtx)[0].Emails[0], "the stored contact's email")
	phones := []string{"+47 1"}
	p, err := f.e.AddPerson(apiCtx, Person{Firstname: "P", Phones: phones, Emails: []string{"p@example.com"}})
	require.NoError(t, err)
	phones[0] = "changed by the caller"
	p.Emails[0] = "changed through the result"
	got := f.e.Persons(apiCtx)[0]
	assert.Equal(t, "+47 1", got.Phones[0], "the stored person's phone")
	assert.Equal(t, "p@example.com", got.Emails[0], "the stored person's email")
}
