package tenant_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/superid/superidtest"
	"github.com/go-superoffice/superoffice/systemuser"
	"github.com/go-superoffice/superoffice/tenant"
	"github.com/go-superoffice/superoffice/tenant/webapi"
)

// TestEndToEndWithSystemUserClient runs the whole system-user path on the
// emulator: the real exchange and ticket cache, the state API, the tenant
// API; then a ticket that expires under many concurrent requests.
func TestEndToEndWithSystemUserClient(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	sut, err := f.em.Approve(testCtx, testClient)
	require.NoError(t, err)
	su, err := systemuser.New(systemuser.Config{Environment: f.env, ClientSecret: testSecret, PrivateKey: appKey(t)})
	require.NoError(t, err)
	r, err := tenant.NewResolver(tenant.ResolverConfig{Environment: f.env})
	require.NoError(t, err)
	creds := tenant.SystemUser(su.TicketSource(testCtx, sut), testSecret)
	var clock testClock // ages tickets for the credentials without sleeping
	tenant.SetSystemUserClock(creds, clock.Now)
	c, err := tenant.New(tenant.Config{
		Resolver: r, ContextIdentifier: testCtx,
		Credentials: creds,
		Retry:       fastRetry,
	})
	require.NoError(t, err)

	company, err := createCompany(ctx, c, "End To End AS")
	require.NoError(t, err)
	me, err := currentPrincipal(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, webapi.UserType("SystemAssociate"), me.UserType)
	require.NotNil(t, company.CreatedBy)
	assert.Equal(t, me.AssociateID, company.CreatedBy.AssociateID)
	assert.Equal(t, 1, f.em.Exchanges(testCtx), "exchanges for three calls")
	for _, req := range f.em.Requests(superidtest.EndpointTenantAPI) {
		assert.Regexp(t, "^SOTicket ", req.Header.Get("Authorization"))
		assert.Equal(t, testSecret, req.Header.Get("SO-AppToken"))
	}

	// The ticket lapses while 8 requests are in flight: each gets a 401,
	// and together they make one new exchange, not eight.
	clock.Advance(2 * time.Minute)
	f.em.ExpireTickets(testCtx)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := getContact(ctx, c, int(company.ContactID))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	assert.Equal(t, 2, f.em.Exchanges(testCtx), "exchanges after the ticket expired under load")

	// Consent withdrawn: the re-exchange fails, and its error surfaces.
	f.em.RevokeApproval(testCtx, testClient)
	f.em.ExpireTickets(testCtx)
	clock.Advance(2 * time.Minute)
	_, err = getContact(ctx, c, int(company.ContactID))
	require.ErrorContains(t, err, "system user ticket")
}

// The ticket exchange that a call makes on its way is the exchange's own:
// its resend after a 5xx is not the call's, and a DELETE answered 404 on
// its one attempt did not find its own work done.
func TestExchangeResendIsNotTheCallers(t *testing.T) {
	f := setup(t)
	sut, err := f.em.Approve(testCtx, testClient)
	require.NoError(t, err)
	su, err := systemuser.New(systemuser.Config{Environment: f.env, ClientSecret: testSecret, PrivateKey: appKey(t),
		Retry: systemuser.RetryPolicy{MaxRetries: 2, MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond}})
	require.NoError(t, err)
	c, err := tenant.New(tenant.Config{BaseURL: f.em.WebAPIURL(testCtx), Environment: f.env,
		Credentials: tenant.SystemUser(su.TicketSource(testCtx, sut), testSecret), Retry: fastRetry})
	require.NoError(t, err)
	f.em.Fail(superidtest.EndpointSystemUser, superidtest.Fault{Status: 503, Times: 1})
	err = deleteContact(context.Background(), c, 987654)
	require.ErrorIs(t, err, tenant.ErrNotFound, "DELETE of a contact that never was, after an exchange resent")
	assert.Len(t, f.em.Requests(superidtest.EndpointSystemUser), 2, "exchanges: a 503, then the ticket")
}
