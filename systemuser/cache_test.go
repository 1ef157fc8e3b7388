package systemuser_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/superid/superidtest"
	"github.com/go-superoffice/superoffice/systemuser"
)

// askAll asks n goroutines at once for a ticket and returns what they got.
func askAll(t *testing.T, src systemuser.TicketSource, n int) map[*systemuser.Ticket]int {
	t.Helper()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		got   = map[*systemuser.Ticket]int{}
		start = make(chan struct{})
		errs  = make(chan error, n)
	)
	for range n {
		wg.Go(func() {
			<-start
			tk, err := src.Ticket(context.Background())
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			got[tk]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	return got
}

func TestTicketSourceOneExchange(t *testing.T) {
	f := setup(t, nil)
	src := f.client.TicketSource(testCtx, f.token)

	got := askAll(t, src, 1000)
	require.Equal(t, 1, f.srv.Exchanges(testCtx), "exchanges by 1000 goroutines on a cold cache")
	require.Equal(t, 1, f.srv.Count(superidtest.EndpointSystemUser), "requests")
	require.Len(t, got, 1, "different tickets handed out")

	src.Invalidate()
	got2 := askAll(t, src, 1000)
	require.Equal(t, 2, f.srv.Exchanges(testCtx), "Invalidate led to more than one exchange")
	require.Len(t, got2, 1, "different tickets after Invalidate")
	for tk := range got2 {
		assert.NotContains(t, got, tk, "the invalidated ticket was handed out again")
	}

	// The same tenant's source is shared across callers.
	assert.Same(t, src, f.client.TicketSource(strings.ToLower(testCtx), f.token), "a second TicketSource for the tenant does not share the cache")
	assert.NotSame(t, src, f.client.TicketSource(testCtx, "another token"), "a new system user token kept the old source")
}

func TestTicketSourceSliding(t *testing.T) {
	f := setup(t, func(c *systemuser.Config) { c.RenewBefore = 10 * time.Minute })
	src := f.client.TicketSource(testCtx, f.token)
	ctx := context.Background()
	first, err := src.Ticket(ctx)
	require.NoError(t, err)

	// Used every 5 hours 49 minutes: never idle long enough to lapse.
	for range 4 {
		f.clock.Add(5*time.Hour + 49*time.Minute)
		tk, err := src.Ticket(ctx)
		require.NoError(t, err)
		require.Same(t, first, tk, "a ticket in use was replaced")
	}
	require.Equal(t, 1, f.srv.Exchanges(testCtx))

	// Idle for 5h50m: within RenewBefore of lapsing, so renewed.
	f.clock.Add(5*time.Hour + 50*time.Minute)
	tk, err := src.Ticket(ctx)
	require.NoError(t, err)
	assert.NotSame(t, first, tk, "an idle ticket about to lapse was handed out")
	assert.Equal(t, 2, f.srv.Exchanges(testCtx))
}

func TestTicketSourceInvalidateTicket(t *testing.T) {
	f := setup(t, nil)
	src := f.client.TicketSource(testCtx, f.token)
	ctx := context.Background()
	old, err := src.Ticket(ctx)
	require.NoError(t, err)
	inv := src.(interface{ InvalidateTicket(*systemuser.Ticket) })
	inv.InvalidateTicket(old)
	fresh, err := src.Ticket(ctx)
	require.NoError(t, err)
	assert.NotSame(t, old, fresh)
	// A late 401 on the old ticket must not throw away the new one.
	inv.InvalidateTicket(old)
	again, err := src.Ticket(ctx)
	require.NoError(t, err)
	assert.Same(t, fresh, again)
	assert.Equal(t, 2, f.srv.Exchanges(testCtx))
}

// TestTicketSourceWaiterLeaves: the caller that started the exchange
// leaves while it is held at the gate; it returns with its ctx's error
// before the exchange can end, and the exchange goes on for the other
// waiter and the cache.
func TestTicketSourceWaiterLeaves(t *testing.T) {
	g := newGate()
	f := setup(t, func(c *systemuser.Config) { c.HTTPClient = &http.Client{Transport: g} })
	src := f.client.TicketSource(testCtx, f.token)

	type result struct {
		t   *systemuser.Ticket
		err error
	}
	ask := func(ctx context.Context) chan result {
		ch := make(chan result, 1)
		go func() {
			t, err := src.Ticket(ctx)
			ch <- result{t, err}
		}()
		return ch
	}
	ctxA, cancelA := context.WithCancel(context.Background())
	a := ask(ctxA)
	<-g.arrived // A's exchange is at the gate
	b := ask(context.Background())
	cancelA()
	ra := <-a // the gate is still shut: A did not wait for the exchange
	assert.ErrorIs(t, ra.err, context.Canceled)
	assert.Nil(t, ra.t)

	close(g.release)
	rb := <-b
	require.NoError(t, rb.err, "the other waiter was harmed")
	// The exchange A started went on without it, and its ticket is cached.
	tk, err := src.Ticket(context.Background())
	require.NoError(t, err)
	assert.Same(t, rb.t, tk)
	assert.Equal(t, 1, f.srv.Exchanges(testCtx))
	assert.EqualValues(t, 1, g.requests.Load())
}

func TestTicketSourceErrorsNotCached(t *testing.T) {
	f := setup(t, nil)
	src := f.client.TicketSource(testCtx, f.token)
	f.srv.Fail(superidtest.EndpointSystemUser, superidtest.Fault{Status: 400, Body: `{"IsSuccessful":false,"ErrorMessage":"no"}`, Times: 1})
	_, err := src.Ticket(context.Background())
	require.ErrorIs(t, err, systemuser.ErrRejected)
	_, err = src.Ticket(context.Background())
	assert.NoError(t, err, "after a failure")
}

func TestTicketSourceTenantAPI(t *testing.T) {
	// The emulator's tenant API accepts what the cache hands out, and an
	// expired ticket comes back renewed after Invalidate.
	f := setup(t, nil)
	src := f.client.TicketSource(testCtx, f.token)
	tk, err := src.Ticket(context.Background())
	require.NoError(t, err)
	f.srv.ExpireTickets(testCtx)
	require.Zero(t, f.srv.LiveTickets(testCtx), "live tickets after ExpireTickets")
	src.Invalidate()
	tk2, err := src.Ticket(context.Background())
	require.NoError(t, err)
	assert.NotEqual(t, tk.Value, tk2.Value)
	assert.Equal(t, 1, f.srv.LiveTickets(testCtx), "no new live ticket after Invalidate")
}

func TestReuseWindow(t *testing.T) {
	f := setup(t, nil)
	assert.Equal(t, systemuser.DefaultTicketLifetime-systemuser.DefaultRenewBefore, f.client.ReuseWindow(), "default")
	g := setup(t, func(c *systemuser.Config) { c.TicketLifetime, c.RenewBefore = time.Hour, 10*time.Minute })
	assert.Equal(t, 50*time.Minute, g.client.ReuseWindow(), "configured")
	// The cache hands a ticket out exactly within the window.
	src := g.client.TicketSource(testCtx, g.token)
	first, err := src.Ticket(context.Background())
	require.NoError(t, err)
	g.clock.Add(50*time.Minute - time.Second)
	tk, err := src.Ticket(context.Background())
	require.NoError(t, err)
	assert.Same(t, first, tk, "renewed inside the window")
	g.clock.Add(50 * time.Minute)
	tk, err = src.Ticket(context.Background())
	require.NoError(t, err)
	assert.NotSame(t, first, tk, "handed out after the window")
}

func BenchmarkTicketCached(b *testing.B) {
	f := setup(b, func(c *systemuser.Config) { c.Now = nil }) // time.Now, as in production
	src := f.client.TicketSource(testCtx, f.token)
	ctx := context.Background()
	_, err := src.Ticket(ctx)
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := src.Ticket(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTicketCachedParallel(b *testing.B) {
	f := setup(b, func(c *systemuser.Config) { c.Now = nil }) // time.Now, as in production
	src := f.client.TicketSource(testCtx, f.token)
	ctx := context.Background()
	_, err := src.Ticket(ctx)
	require.NoError(b, err)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := src.Ticket(ctx); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func TestTicketSourceRefusesBadInputWithoutQuotingIt(t *testing.T) {
	const token = "SuperOffice DevNet Node OIDC-8k8Q7DmBgoSECRET"
	f := setup(t, nil)
	var zero systemuser.Client
	for name, src := range map[string]systemuser.TicketSource{
		"swapped arguments": f.client.TicketSource(token, testCtx),
		"zero Client":       zero.TicketSource(testCtx, token),
		"nil Client":        (*systemuser.Client)(nil).TicketSource(testCtx, token),
		"empty token":       f.client.TicketSource(testCtx, ""),
	} {
		_, err := src.Ticket(context.Background())
		if assert.ErrorIs(t, err, systemuser.ErrInvalidArgument, name) {
			assert.NotContains(t, err.Error(), "SECRET", name)
			assert.NotContains(t, err.Error(), "8k8Q", name)
		}
		assert.NotPanics(t, src.Invalidate, name)
	}
}

func TestTicketSourceIgnoresNilOption(t *testing.T) {
	f := setup(t, nil)
	_, err := f.client.TicketSource(testCtx, f.token, nil).Ticket(context.Background())
	assert.NoError(t, err)
}

// TestTicketSourceExchangeTimeoutIsUnavailable: when SuperID does not
// answer within ExchangeTimeout, the caller's own ctx is still live, so the
// error must say SuperID is unavailable (worth trying later), not only
// carry a deadline the caller never set.
func TestTicketSourceExchangeTimeoutIsUnavailable(t *testing.T) {
	g := newGate() // never opened
	f := setup(t, func(c *systemuser.Config) {
		c.HTTPClient = &http.Client{Transport: g}
		c.ExchangeTimeout = 50 * time.Millisecond
		c.Retry.MaxRetries = -1
	})
	_, err := f.client.TicketSource(testCtx, f.token).Ticket(context.Background())
	assert.Equal(t, []error{systemuser.ErrUnavailable}, kinds(err), "%v", err)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "the error lost its cause")
	f.assertNoSecrets(t, err)
}
