package superidtest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/superid/superidtest"
	"github.com/go-superoffice/superoffice/tenant/webapi"
)

// These tests hold the emulator to the shapes PROTOCOL.md documents, over
// HTTP with net/http and encoding/json into maps: not through the SDK's own
// client, which would hide a mistake the two share.

// wireFixture is a served emulator with one tenant and a system user ticket.
type wireFixture struct {
	srv    *superidtest.Server
	api    string // the tenant's v1 base URL, ending in /
	ticket string
}

func newWireFixture(t *testing.T) *wireFixture {
	t.Helper()
	srv := superidtest.NewServer(superidtest.WithKeySize(1024))
	t.Cleanup(srv.Close)
	require.NoError(t, srv.RegisterApp(superidtest.App{ClientID: "app", ClientSecret: "secret"}))
	require.NoError(t, srv.AddTenant(superidtest.Tenant{ContextIdentifier: "Cust9"}))
	tk, err := srv.TicketFor("Cust9", "app")
	require.NoError(t, err)
	return &wireFixture{srv: srv, api: srv.TenantEndpoint("Cust9") + "/api/v1/", ticket: tk}
}

// call sends a request as the system user, or with no credentials when
// anonymous, and decodes the answer into a map.
func (f *wireFixture) call(t *testing.T, method, path string, body any, anonymous bool) (int, map[string]any) {
	t.Helper()
	var rd io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, f.api+path, rd)
	require.NoError(t, err)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	if !anonymous {
		req.Header.Set("Authorization", "SOTicket "+f.ticket)
		req.Header.Set("SO-AppToken", "secret")
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	var out map[string]any
	if len(bytes.TrimSpace(raw)) > 0 {
		require.NoError(t, json.Unmarshal(raw, &out), "%s", raw)
	}
	return res.StatusCode, out
}

// An error body is {"Error":true,"ErrorType":...,"ErrorMessage":...,
// "ErrorSource":...} (PROTOCOL.md section 12), with no Message member.
func TestErrorBodiesHaveSuperOfficeShape(t *testing.T) {
	f := newWireFixture(t)
	for _, tc := range []struct {
		name   string
		status int
		typ    string
		fault  bool // answered by an injected fault without a body
		method string
		path   string
		body   any
		anon   bool
	}{
		{name: "400", status: 400, typ: "SoValidationException", method: "POST", path: "Contact", body: map[string]any{"Name": ""}},
		{name: "401", status: 401, typ: "SoCredentialsException", method: "GET", path: "Contact/default", anon: true},
		{name: "403", status: 403, typ: "SoAccessDeniedException", fault: true, method: "GET", path: "Contact/default"},
		{name: "404", status: 404, typ: "SoNotFoundException", method: "GET", path: "Contact/99"},
		{name: "409", status: 409, typ: "SoConcurrencyException", fault: true, method: "PUT", path: "Contact/1", body: map[string]any{"Name": "x"}},
		{name: "500", status: 500, typ: "SoServerException", fault: true, method: "GET", path: "Contact/default"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.fault {
				f.srv.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Status: tc.status, Times: 1})
			}
			status, body := f.call(t, tc.method, tc.path, tc.body, tc.anon)
			require.Equal(t, tc.status, status, "%v", body)
			assert.ElementsMatch(t, []string{"Error", "ErrorType", "ErrorMessage", "ErrorSource"}, keys(body))
			assert.Equal(t, true, body["Error"])
			assert.Equal(t, tc.typ, body["ErrorType"])
			assert.NotEmpty(t, body["ErrorMessage"])
			assert.Equal(t, "SuperOffice.Services.Implementation", body["ErrorSource"])
		})
	}
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// members lists the JSON member names of a generated carrier, the
// embedded Carrier's included.
func members(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous {
			out = append(out, members(f.Type)...)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		out = append(out, name)
	}
	return out
}

// The default entities carry every member of their carrier, as
// SuperOffice's default contact does, and full rights as "FULL".
func TestDefaultEntitiesCarryEveryMember(t *testing.T) {
	f := newWireFixture(t)
	for path, typ := range map[string]reflect.Type{
		"Contact/default": reflect.TypeFor[webapi.ContactEntity](),
		"Person/default":  reflect.TypeFor[webapi.PersonEntity](),
	} {
		status, body := f.call(t, "GET", path, nil, false)
		require.Equal(t, http.StatusOK, status, path)
		assert.ElementsMatch(t, members(typ), keys(body), path)
		assert.Equal(t, map[string]any{"Mask": "FULL", "Reason": ""}, body["TableRight"], path)
		assert.Equal(t, "0001-01-01T00:00:00", body["CreatedDate"], path)
	}
}

// A POSTed Address, fax, user-defined field or any other member the
// emulator does not interpret comes back on GET, and a PUT replaces it.
func TestWholeEntitiesRoundTrip(t *testing.T) {
	f := newWireFixture(t)
	address := map[string]any{
		"Postal": map[string]any{"Address1": "Box 1", "City": "Oslo", "Zipcode": "0101"},
		"Street": map[string]any{"Address1": "Gate 2", "City": "Oslo", "Zipcode": "0102"},
	}
	in := map[string]any{
		"Name":              "Acme",
		"Address":           address,
		"Faxes":             []any{map[string]any{"Value": "+47 22 00 00 00", "StrippedValue": "+4722000000", "Description": "fax"}},
		"UserDefinedFields": map[string]any{"SuperOffice:1": "one"},
		"Kananame":          "akme",
	}
	status, created := f.call(t, "POST", "Contact", in, false)
	require.Equal(t, http.StatusOK, status, "%v", created)
	id := created["ContactId"]
	require.NotZero(t, id)

	status, got := f.call(t, "GET", "Contact/1", nil, false)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "Acme", got["Name"])
	assert.Equal(t, "akme", got["Kananame"])
	assert.Equal(t, map[string]any{"SuperOffice:1": "one"}, got["UserDefinedFields"])
	faxes, _ := got["Faxes"].([]any)
	require.Len(t, faxes, 1)
	assert.Equal(t, "+47 22 00 00 00", faxes[0].(map[string]any)["Value"])
	addr, _ := got["Address"].(map[string]any)
	require.NotNil(t, addr)
	assert.Equal(t, "Box 1", addr["Postal"].(map[string]any)["Address1"])
	assert.Equal(t, "Gate 2", addr["Street"].(map[string]any)["Address1"])
	assert.ElementsMatch(t, members(reflect.TypeFor[webapi.ContactEntity]()), keys(got))
	assert.Equal(t, "FULL", got["TableRight"].(map[string]any)["Mask"])

	// What a client sends back is what it read, changed.
	got["Kananame"] = "acme"
	got["Faxes"] = []any{}
	status, changed := f.call(t, "PUT", "Contact/1", got, false)
	require.Equal(t, http.StatusOK, status, "%v", changed)
	status, again := f.call(t, "GET", "Contact/1", nil, false)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "acme", again["Kananame"])
	assert.Equal(t, []any{}, again["Faxes"])
	assert.Equal(t, "Box 1", again["Address"].(map[string]any)["Postal"].(map[string]any)["Address1"])

	// A person's members come back the same way, and its company lists it.
	status, person := f.call(t, "POST", "Person", map[string]any{
		"Firstname": "Una", "Contact": map[string]any{"ContactId": id},
		"MobilePhones":      []any{map[string]any{"Value": "+47 900 00 000"}},
		"UserDefinedFields": map[string]any{"SuperOffice:2": "two"},
	}, false)
	require.Equal(t, http.StatusOK, status, "%v", person)
	status, gotPerson := f.call(t, "GET", "Person/1", nil, false)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, map[string]any{"SuperOffice:2": "two"}, gotPerson["UserDefinedFields"])
	mobiles, _ := gotPerson["MobilePhones"].([]any)
	require.Len(t, mobiles, 1)
	assert.Equal(t, "Acme", gotPerson["Contact"].(map[string]any)["Name"])
	_, company := f.call(t, "GET", "Contact/1", nil, false)
	persons, _ := company["Persons"].([]any)
	require.Len(t, persons, 1)
	assert.Equal(t, "Una", persons[0].(map[string]any)["Firstname"])
}
