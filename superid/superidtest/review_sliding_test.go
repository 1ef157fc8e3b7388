package superidtest

import (
	"testing"
	"time"
)

// A refused request is not a use of the ticket: it must not renew the
// six-hour sliding expiry.
func TestRefusedRequestDoesNotRenewTicket(t *testing.T) {
	clock := &testClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	f := newAPIFixture(t, WithClock(clock.Now))
	must(t, f.e.AddTenant(Tenant{ContextIdentifier: "Cust888"}))
	path := "/" + apiCtx + "/api/v1/User/currentPrincipal"
	clock.Add(6*time.Hour - time.Minute)
	if code, _ := f.call("GET", path, "", "SOTicket "+f.ticket, "wrong"); code != 401 {
		t.Fatalf("wrong SO-AppToken: %d", code)
	}
	if code, _ := f.call("GET", "/Cust888/api/v1/User/currentPrincipal", ""); code != 401 {
		t.Fatalf("another tenant's ticket: %d", code)
	}
	clock.Add(2 * time.Minute)
	if code, _ := f.call("GET", path, ""); code != 401 {
		t.Fatalf("a ticket idle for 6h01m (but for refused requests) answered %d, want 401", code)
	}
}
