package superidtest

import "testing"

// Assigned associate ids are unique in a tenant, whatever ids were given
// or users replaced before.
func TestAddUserAssignsUniqueAssociateIDs(t *testing.T) {
	f := newAPIFixture(t) // u@example.com gets 5
	must(t, f.e.AddUser(User{Username: "a@example.com", Password: "pw", ContextIdentifier: apiCtx, AssociateID: 7}))
	must(t, f.e.AddUser(User{Username: "u@example.com", Password: "pw", ContextIdentifier: apiCtx})) // replaced
	must(t, f.e.AddUser(User{Username: "b@example.com", Password: "pw", ContextIdentifier: apiCtx}))
	must(t, f.e.AddUser(User{Username: "c@example.com", Password: "pw", ContextIdentifier: apiCtx}))
	seen := map[int]string{}
	for name, u := range f.e.users {
		if other, dup := seen[u.AssociateID]; dup {
			t.Errorf("%s and %s both have associate id %d", name, other, u.AssociateID)
		}
		seen[u.AssociateID] = name
		if u.AssociateID == SystemUserAssociateID {
			t.Errorf("%s has the system user's associate id", name)
		}
	}
}

// Initials are whole letters, also for names that start with a letter
// outside ASCII.
func TestInitialsOfNonASCIINames(t *testing.T) {
	f := newAPIFixture(t)
	must(t, f.e.AddUser(User{Username: "oyvind@example.no", Password: "pw", ContextIdentifier: apiCtx, FullName: "øyvind Åsen"}))
	if got := f.e.users["oyvind@example.no"].Initials; got != "ØÅ" {
		t.Fatalf("Initials = %q, want %q", got, "ØÅ")
	}
}
