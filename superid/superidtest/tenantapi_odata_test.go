package superidtest

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

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
		if code, body := f.call("GET", "/"+apiCtx+"/api/v1/Contact?"+bad, ""); code != 400 || body["ErrorMessage"] == "" {
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
			if code, body := f.call("GET", "/"+apiCtx+"/api/v1/"+list+"?"+q, ""); code != 400 || body["ErrorMessage"] == "" {
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
		if msg, _ := body["ErrorMessage"].(string); code != 400 || !strings.Contains(msg, "not emulated") {
			t.Errorf("%s: %d %v, want 400 naming the operator as not emulated", filter, code, body)
		}
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
