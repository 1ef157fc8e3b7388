package superidtest

import "testing"

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
