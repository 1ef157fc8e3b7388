package tenant_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-superoffice/superoffice/superid/superidtest"
	"github.com/go-superoffice/superoffice/systemuser"
	"github.com/go-superoffice/superoffice/tenant"
)

// TestEndToEndWithSystemUserClient runs the whole system-user path on the
// emulator: the real exchange and ticket cache, the state API, the tenant
// API; then a ticket that expires under many concurrent requests.
func TestEndToEndWithSystemUserClient(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	sut, err := f.em.Approve(testCtx, testClient)
	must(t, err)
	su, err := systemuser.New(systemuser.Config{Environment: f.env, ClientSecret: testSecret, PrivateKey: appKey(t)})
	must(t, err)
	r, err := tenant.NewResolver(tenant.ResolverConfig{Environment: f.env})
	must(t, err)
	creds := tenant.SystemUser(su.TicketSource(testCtx, sut), testSecret)
	var clock testClock // ages tickets for the credentials without sleeping
	tenant.SetSystemUserClock(creds, clock.Now)
	c, err := tenant.New(tenant.Config{
		Resolver: r, ContextIdentifier: testCtx,
		Credentials: creds,
		Retry:       fastRetry,
	})
	must(t, err)

	company, err := createCompany(ctx, c, "End To End AS")
	must(t, err)
	me, err := currentPrincipal(ctx, c)
	must(t, err)
	if me.UserType != "SystemAssociate" || company.CreatedBy == nil || company.CreatedBy.AssociateID != me.AssociateID {
		t.Fatalf("principal %+v, company created by %+v", me, company.CreatedBy)
	}
	if n := f.em.Exchanges(testCtx); n != 1 {
		t.Fatalf("%d exchanges for three calls, want 1", n)
	}
	for _, req := range f.em.Requests(superidtest.EndpointTenantAPI) {
		if !strings.HasPrefix(req.Header.Get("Authorization"), "SOTicket ") || req.Header.Get("SO-AppToken") != testSecret {
			t.Fatalf("request without SOTicket and SO-AppToken: %v", req.Header)
		}
	}

	// The ticket lapses while 8 requests are in flight: each gets a 401,
	// and together they make one new exchange, not eight.
	clock.Advance(2 * time.Minute)
	f.em.ExpireTickets(testCtx)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			if _, err := getContact(ctx, c, int(company.ContactID)); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := f.em.Exchanges(testCtx); n != 2 {
		t.Fatalf("%d exchanges after the ticket expired under load, want 2", n)
	}

	// Consent withdrawn: the re-exchange fails, and its error surfaces.
	f.em.RevokeApproval(testCtx, testClient)
	f.em.ExpireTickets(testCtx)
	clock.Advance(2 * time.Minute)
	_, err = getContact(ctx, c, int(company.ContactID))
	if err == nil || !strings.Contains(fmt.Sprint(err), "system user ticket") {
		t.Fatalf("after revocation: %v", err)
	}
}

// The ticket exchange that a call makes on its way is the exchange's own:
// its resend after a 5xx is not the call's, and a DELETE answered 404 on
// its one attempt did not find its own work done.
func TestExchangeResendIsNotTheCallers(t *testing.T) {
	f := setup(t)
	sut, err := f.em.Approve(testCtx, testClient)
	must(t, err)
	su, err := systemuser.New(systemuser.Config{Environment: f.env, ClientSecret: testSecret, PrivateKey: appKey(t),
		Retry: systemuser.RetryPolicy{MaxRetries: 2, MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond}})
	must(t, err)
	c, err := tenant.New(tenant.Config{BaseURL: f.em.WebAPIURL(testCtx), Environment: f.env,
		Credentials: tenant.SystemUser(su.TicketSource(testCtx, sut), testSecret), Retry: fastRetry})
	must(t, err)
	f.em.Fail(superidtest.EndpointSystemUser, superidtest.Fault{Status: 503, Times: 1})
	if err := deleteContact(context.Background(), c, 987654); !errors.Is(err, tenant.ErrNotFound) {
		t.Fatalf("DELETE of a contact that never was, after an exchange resent: %v, want ErrNotFound", err)
	}
	if n := len(f.em.Requests(superidtest.EndpointSystemUser)); n != 2 {
		t.Fatalf("%d exchanges, want 2 (a 503, then the ticket)", n)
	}
}
