package superidtest

import (
	"strconv"
	"testing"
)

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
