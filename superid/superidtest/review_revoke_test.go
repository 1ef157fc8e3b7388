package superidtest

import "testing"

// A tenant that withdraws its approval ends the app's tickets: approving
// the app again must issue new ones, not bring the old ones back.
func TestRevokedApprovalEndsTicketsForGood(t *testing.T) {
	f := newAPIFixture(t)
	path := "/" + apiCtx + "/api/v1/User/currentPrincipal"
	if code, _ := f.call("GET", path, ""); code != 200 {
		t.Fatalf("before the revocation: %d", code)
	}
	f.e.RevokeApproval(apiCtx, apiApp)
	if _, err := f.e.TicketFor(apiCtx, apiApp); err != nil { // approves again
		t.Fatal(err)
	}
	if code, _ := f.call("GET", path, ""); code != 401 {
		t.Fatalf("a ticket from before the revocation answered %d after a new approval, want 401", code)
	}
	if n := f.e.LiveTickets(apiCtx); n != 1 {
		t.Fatalf("LiveTickets = %d, want 1 (the new one)", n)
	}
}
