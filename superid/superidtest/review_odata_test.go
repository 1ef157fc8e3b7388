package superidtest

import (
	"net/url"
	"testing"
)

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
