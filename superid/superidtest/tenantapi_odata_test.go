package superidtest

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestODataList(t *testing.T) {
	f := newAPIFixture(t, WithODataPageSize(3))
	for i, n := range []string{"Alpha", "beta", "Gamma", "O'Brien AS", "alphabet", "Delta"} {
		_, err := f.e.AddContact(apiCtx, Contact{Name: n, CategoryID: 1 + i%2})
		require.NoError(t, err)
	}
	list := func(q string) (int, []string, string) {
		code, body := f.call("GET", "/"+apiCtx+"/api/v1/Contact?"+q, "")
		var names []string
		rows, _ := body["value"].([]any)
		for _, r := range rows {
			m := r.(map[string]any)
			assert.Equal(t, "contact", m["EntityName"], "row %v", m)
			assert.NotNil(t, m["PrimaryKey"], "row %v", m)
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
		assert.Equal(t, 200, code, tc.query)
		assert.Equal(t, tc.want, fmt.Sprint(names), tc.query)
	}
	// Paging: 6 rows at 3 per page, with an absolute next link.
	code, names, next := list(q("$select", "name,contactId"))
	require.Equal(t, 200, code, "page 1")
	require.Len(t, names, 3, "page 1")
	require.True(t, strings.HasPrefix(next, "http://127.0.0.1:8081/"+apiCtx+"/api/v1/Contact?"), "page 1's absolute next link: %q", next)
	u, _ := url.Parse(next)
	code, names2, next2 := list(u.RawQuery)
	require.Equal(t, 200, code, "page 2")
	require.Len(t, names2, 3, "page 2")
	assert.Empty(t, next2, "page 2 is the last")
	assert.Equal(t, "O'Brien AS", names2[0])
	// $top smaller than the total but larger than a page.
	_, names, next = list(q("$top", "4"))
	u, _ = url.Parse(next)
	assert.Len(t, names, 3, "top 4")
	assert.Equal(t, "1", u.Query().Get("$top"), "top 4: %q", next)
	assert.Equal(t, "3", u.Query().Get("$skip"), "top 4: %q", next)
	for _, bad := range []string{
		q("$select", "nope"), q("$filter", "name"), q("$filter", "name eq 'x' or name eq 'y'"),
		q("$filter", "name eq 'open"), q("$filter", "name like 'x'"), q("$orderby", "name sideways"),
		q("$top", "-1"), q("$skip", "x"),
	} {
		code, body := f.call("GET", "/"+apiCtx+"/api/v1/Contact?"+bad, "")
		assert.Equal(t, 400, code, bad)
		assert.NotEmpty(t, body["ErrorMessage"], bad)
	}
	// Persons list.
	_, err := f.e.AddPerson(apiCtx, Person{Firstname: "Ann", Lastname: "Smith", ContactID: 1})
	require.NoError(t, err)
	code, body := f.call("GET", "/"+apiCtx+"/api/v1/Person?"+q("$filter", "contactName eq 'alpha'"), "")
	rows, _ := body["value"].([]any)
	require.Equal(t, 200, code, "persons: %v", body)
	require.Len(t, rows, 1, "persons")
	assert.Equal(t, "Ann Smith", rows[0].(map[string]any)["fullName"])
}

// TestODataSelectListItemID: $select takes list/id paths for the contact's
// list-item columns (the documented example is category/id) and answers
// each under its path, next to plain columns; list/value and paths on
// other columns stay refused.
func TestODataSelectListItemID(t *testing.T) {
	f := newAPIFixture(t)
	_, err := f.e.AddContact(apiCtx, Contact{Name: "Acme", CategoryID: 2, BusinessID: 3, CountryID: 578})
	require.NoError(t, err)
	sel := url.Values{"$select": {"name,category/id,Business/ID,country/id"}}.Encode()
	code, body := f.call("GET", "/"+apiCtx+"/api/v1/Contact?"+sel, "")
	rows, _ := body["value"].([]any)
	require.Equal(t, 200, code, "%v", body)
	require.Len(t, rows, 1)
	got := rows[0].(map[string]any)
	want := map[string]any{"PrimaryKey": 1.0, "EntityName": "contact", "name": "Acme",
		"category/id": 2.0, "business/id": 3.0, "country/id": 578.0}
	assert.Equal(t, want, got)
	for _, bad := range []string{"category/value", "category/", "name/id", "category/id/id", "contactName/id"} {
		for _, list := range []string{"Contact", "Person"} {
			q := url.Values{"$select": {bad}}.Encode()
			code, body := f.call("GET", "/"+apiCtx+"/api/v1/"+list+"?"+q, "")
			assert.Equal(t, 400, code, "%s %s", list, bad)
			assert.NotEmpty(t, body["ErrorMessage"], "%s %s", list, bad)
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
		assert.Equal(t, 400, code, filter)
		assert.Contains(t, body["ErrorMessage"], "not emulated", "%s: the operator is named as not emulated", filter)
	}
}

// A number in $filter near the ends of int must compare as a number, not
// wrap around in a subtraction.
func TestODataFilterExtremeNumbers(t *testing.T) {
	f := newAPIFixture(t)
	_, err := f.e.AddContact(apiCtx, Contact{Name: "one"})
	require.NoError(t, err)
	for filter, want := range map[string]int{
		"contactId lt -9223372036854775807": 0,
		"contactId gt -9223372036854775808": 1,
		"contactId gt 9223372036854775807":  0,
		"contactId lt 9223372036854775807":  1,
	} {
		code, body := f.call("GET", "/"+apiCtx+"/api/v1/Contact?$filter="+url.QueryEscape(filter), "")
		rows, _ := body["value"].([]any)
		assert.Equal(t, 200, code, filter)
		assert.Len(t, rows, want, filter)
	}
}
