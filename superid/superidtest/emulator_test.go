package superidtest

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// "A fault with neither Status nor Delay does nothing": it must not stand
// in front of the faults added after it.
func TestNoOpFaultDoesNothing(t *testing.T) {
	f := newAPIFixture(t)
	f.e.Fail(EndpointTenantState, Fault{})
	f.e.Fail(EndpointTenantState, Fault{Status: 503})
	code, _ := f.call("GET", "/api/state/"+apiCtx, "", "")
	assert.Equal(t, 503, code, "the state API answers the 503 fault")
}
