package superidtest

import "testing"

// "A fault with neither Status nor Delay does nothing": it must not stand
// in front of the faults added after it.
func TestNoOpFaultDoesNothing(t *testing.T) {
	f := newAPIFixture(t)
	f.e.Fail(EndpointTenantState, Fault{})
	f.e.Fail(EndpointTenantState, Fault{Status: 503})
	if code, _ := f.call("GET", "/api/state/"+apiCtx, "", ""); code != 503 {
		t.Fatalf("state API answered %d, want the 503 fault", code)
	}
}
