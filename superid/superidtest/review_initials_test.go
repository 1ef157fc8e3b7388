package superidtest

import "testing"

// Initials are whole letters, also for names that start with a letter
// outside ASCII.
func TestInitialsOfNonASCIINames(t *testing.T) {
	f := newAPIFixture(t)
	must(t, f.e.AddUser(User{Username: "oyvind@example.no", Password: "pw", ContextIdentifier: apiCtx, FullName: "øyvind Åsen"}))
	if got := f.e.users["oyvind@example.no"].Initials; got != "ØÅ" {
		t.Fatalf("Initials = %q, want %q", got, "ØÅ")
	}
}
