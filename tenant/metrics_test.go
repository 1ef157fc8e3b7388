package tenant_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/superid/superidtest"
	"github.com/go-superoffice/superoffice/tenant"
)

func TestMeterCountsPerTenant(t *testing.T) {
	f := setup(t)
	require.NoError(t, f.em.AddTenant(superidtest.Tenant{ContextIdentifier: "Cust777"}))
	meter := tenant.NewMeter()
	r, err := tenant.NewResolver(tenant.ResolverConfig{Environment: f.env, Retry: fastRetry, Meter: meter})
	require.NoError(t, err)
	c, err := tenant.New(tenant.Config{Resolver: r, ContextIdentifier: testCtx,
		Credentials: tenant.SystemUser(f.tickets, testSecret), Retry: fastRetry, Meter: meter})
	require.NoError(t, err)
	ctx := t.Context()

	// Two calls: one state lookup, one ticket.
	for range 2 {
		_, err = whoAmI(ctx, c)
		require.NoError(t, err)
	}
	assert.Equal(t, tenant.Counters{Calls: 2, Exchanges: 1, StateLookups: 1}, meter.Tenant(testCtx))

	// A 429, retried.
	f.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Status: 429, Times: 1, Header: http.Header{"Retry-After": {"0"}}})
	_, err = whoAmI(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, tenant.Counters{Calls: 4, Retries: 1, RateLimited: 1, Exchanges: 1, StateLookups: 1}, meter.Tenant(testCtx))

	// A 401: a new ticket (an exchange) and the request sent again.
	f.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Status: 401, Times: 1})
	_, err = whoAmI(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, tenant.Counters{Calls: 6, Retries: 2, RateLimited: 1, Exchanges: 2, StateLookups: 1}, meter.Tenant(strings.ToUpper(testCtx)))

	// A move without notification: a 421, a new lookup, the call again.
	require.NoError(t, f.em.MoveTenant(testCtx))
	_, err = whoAmI(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, tenant.Counters{Calls: 8, Retries: 3, RateLimited: 1, Exchanges: 2, StateLookups: 2}, meter.Tenant(testCtx))

	// Another tenant counts apart; a fixed BaseURL counts under the
	// context identifier its path starts with.
	other := &fakeTickets{em: f.em, ctxID: "Cust777", clientID: testClient}
	oc, err := tenant.New(tenant.Config{BaseURL: f.em.WebAPIURL("Cust777"), Environment: f.env,
		Credentials: tenant.SystemUser(other, testSecret), Meter: meter})
	require.NoError(t, err)
	_, err = whoAmI(ctx, oc)
	require.NoError(t, err)
	assert.Equal(t, tenant.Counters{Calls: 1, Exchanges: 1}, meter.Tenant("cust777"))
	assert.Equal(t, tenant.Counters{Calls: 9, Retries: 3, RateLimited: 1, Exchanges: 3, StateLookups: 2}, meter.Total())

	var names []string
	for name := range meter.All() {
		names = append(names, name)
	}
	assert.Equal(t, []string{testCtx, "Cust777"}, names)

	// As an expvar.Var: JSON by tenant, with no URL or credential in it.
	var vars map[string]tenant.Counters
	require.NoError(t, json.Unmarshal([]byte(meter.String()), &vars))
	assert.Equal(t, meter.Tenant(testCtx), vars[testCtx])
	tk, err := f.tickets.Ticket(ctx)
	require.NoError(t, err)
	for _, secret := range []string{tk.Value, testSecret, "http", "/so/"} {
		assert.NotContains(t, meter.String(), secret)
	}
}

func TestMeterNilAndUnknown(t *testing.T) {
	var m *tenant.Meter
	assert.Zero(t, m.Tenant(testCtx))
	assert.Zero(t, m.Total())
	assert.Equal(t, "{}", m.String())
	assert.Zero(t, tenant.NewMeter().Tenant("Cust1"))
}
