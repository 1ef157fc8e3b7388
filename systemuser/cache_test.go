package systemuser

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-superoffice/superoffice/superid/superidtest"
)

// askAll asks n goroutines at once for a ticket and returns what they got.
func askAll(t *testing.T, src TicketSource, n int) map[*Ticket]int {
	t.Helper()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		got   = map[*Ticket]int{}
		start = make(chan struct{})
		errs  = make(chan error, n)
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			tk, err := src.Ticket(context.Background())
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			got[tk]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return got
}

func TestTicketSourceOneExchange(t *testing.T) {
	f := setup(t, nil)
	src := f.client.TicketSource(testCtx, f.token)

	got := askAll(t, src, 1000)
	if n := f.srv.Exchanges(testCtx); n != 1 {
		t.Fatalf("1000 goroutines on a cold cache made %d exchanges", n)
	}
	if n := f.srv.Count(superidtest.EndpointSystemUser); n != 1 {
		t.Fatalf("%d requests", n)
	}
	if len(got) != 1 {
		t.Fatalf("%d different tickets handed out", len(got))
	}

	src.Invalidate()
	got2 := askAll(t, src, 1000)
	if n := f.srv.Exchanges(testCtx); n != 2 {
		t.Fatalf("Invalidate led to %d more exchanges, want 1", n-1)
	}
	if len(got2) != 1 {
		t.Fatalf("%d different tickets after Invalidate", len(got2))
	}
	for tk := range got2 {
		if _, old := got[tk]; old {
			t.Fatal("the invalidated ticket was handed out again")
		}
	}

	// The same tenant's source is shared across callers.
	if f.client.TicketSource(strings.ToLower(testCtx), f.token) != src {
		t.Error("a second TicketSource for the tenant does not share the cache")
	}
	if f.client.TicketSource(testCtx, "another token") == src {
		t.Error("a new system user token kept the old source")
	}
}

func TestTicketSourceSliding(t *testing.T) {
	f := setup(t, func(c *Config) { c.RenewBefore = 10 * time.Minute })
	src := f.client.TicketSource(testCtx, f.token)
	ctx := context.Background()
	first, err := src.Ticket(ctx)
	check(t, err)

	// Used every 5 hours 49 minutes: never idle long enough to lapse.
	for range 4 {
		f.clock.Add(5*time.Hour + 49*time.Minute)
		tk, err := src.Ticket(ctx)
		check(t, err)
		if tk != first {
			t.Fatal("a ticket in use was replaced")
		}
	}
	if n := f.srv.Exchanges(testCtx); n != 1 {
		t.Fatalf("%d exchanges", n)
	}

	// Idle for 5h50m: within RenewBefore of lapsing, so renewed.
	f.clock.Add(5*time.Hour + 50*time.Minute)
	tk, err := src.Ticket(ctx)
	check(t, err)
	if tk == first || f.srv.Exchanges(testCtx) != 2 {
		t.Fatal("an idle ticket about to lapse was handed out")
	}
}

func TestTicketSourceInvalidateTicket(t *testing.T) {
	f := setup(t, nil)
	src := f.client.TicketSource(testCtx, f.token)
	ctx := context.Background()
	old, err := src.Ticket(ctx)
	check(t, err)
	inv := src.(interface{ InvalidateTicket(*Ticket) })
	inv.InvalidateTicket(old)
	fresh, err := src.Ticket(ctx)
	check(t, err)
	// A late 401 on the old ticket must not throw away the new one.
	inv.InvalidateTicket(old)
	again, err := src.Ticket(ctx)
	check(t, err)
	if fresh == old || again != fresh || f.srv.Exchanges(testCtx) != 2 {
		t.Fatalf("exchanges %d", f.srv.Exchanges(testCtx))
	}
}

func TestTicketSourceWaiterLeaves(t *testing.T) {
	f := setup(t, nil)
	src := f.client.TicketSource(testCtx, f.token)
	f.srv.Fail(superidtest.EndpointSystemUser, superidtest.Fault{Delay: 300 * time.Millisecond, Times: 1})

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := src.Ticket(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Errorf("the waiter stayed %v", d)
	}
	// The exchange went on without it, and its ticket is cached.
	tk, err := src.Ticket(context.Background())
	check(t, err)
	if tk == nil || f.srv.Exchanges(testCtx) != 1 || f.srv.Count(superidtest.EndpointSystemUser) != 1 {
		t.Fatalf("%d exchanges, %d requests", f.srv.Exchanges(testCtx), f.srv.Count(superidtest.EndpointSystemUser))
	}
}

func TestTicketSourceErrorsNotCached(t *testing.T) {
	f := setup(t, nil)
	src := f.client.TicketSource(testCtx, f.token)
	f.srv.Fail(superidtest.EndpointSystemUser, superidtest.Fault{Status: 400, Body: `{"IsSuccessful":false,"ErrorMessage":"no"}`, Times: 1})
	if _, err := src.Ticket(context.Background()); !errors.Is(err, ErrRejected) {
		t.Fatalf("err = %v", err)
	}
	if _, err := src.Ticket(context.Background()); err != nil {
		t.Fatalf("after a failure: %v", err)
	}
}

func TestTicketSourceTenantAPI(t *testing.T) {
	// The emulator's tenant API accepts what the cache hands out, and an
	// expired ticket comes back renewed after Invalidate.
	f := setup(t, nil)
	src := f.client.TicketSource(testCtx, f.token)
	tk, err := src.Ticket(context.Background())
	check(t, err)
	f.srv.ExpireTickets(testCtx)
	if n := f.srv.LiveTickets(testCtx); n != 0 {
		t.Fatalf("%d live tickets after ExpireTickets", n)
	}
	src.Invalidate()
	tk2, err := src.Ticket(context.Background())
	check(t, err)
	if tk2.Value == tk.Value || f.srv.LiveTickets(testCtx) != 1 {
		t.Fatal("no new live ticket after Invalidate")
	}
}

// After its exchange a source keeps its ticket and nothing else: no
// record of the flight (singleflight kept a map per source).
func TestTicketSourceKeepsNoFlight(t *testing.T) {
	f := setup(t, nil)
	src := f.client.TicketSource(testCtx, f.token).(*cachedSource)
	askAll(t, src, 50)
	src.mu.Lock()
	left := src.flight
	src.mu.Unlock()
	if left != nil {
		t.Fatal("the finished exchange is still recorded")
	}
	if src.cur.Load() == nil || f.srv.Exchanges(testCtx) != 1 {
		t.Fatal("no ticket cached")
	}
}

func TestReuseWindow(t *testing.T) {
	f := setup(t, nil)
	if got := f.client.ReuseWindow(); got != DefaultTicketLifetime-DefaultRenewBefore {
		t.Errorf("default: %s", got)
	}
	g := setup(t, func(c *Config) { c.TicketLifetime, c.RenewBefore = time.Hour, 10*time.Minute })
	if got := g.client.ReuseWindow(); got != 50*time.Minute {
		t.Errorf("configured: %s", got)
	}
	// The cache hands a ticket out exactly within the window.
	src := g.client.TicketSource(testCtx, g.token)
	first, err := src.Ticket(context.Background())
	check(t, err)
	g.clock.Add(50*time.Minute - time.Second)
	if tk, _ := src.Ticket(context.Background()); tk != first {
		t.Fatal("renewed inside the window")
	}
	g.clock.Add(50 * time.Minute)
	if tk, _ := src.Ticket(context.Background()); tk == first {
		t.Fatal("handed out after the window")
	}
}

func BenchmarkTicketCached(b *testing.B) {
	f := setup(b, func(c *Config) { c.Now = nil }) // time.Now, as in production
	src := f.client.TicketSource(testCtx, f.token)
	ctx := context.Background()
	if _, err := src.Ticket(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := src.Ticket(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTicketCachedParallel(b *testing.B) {
	f := setup(b, func(c *Config) { c.Now = nil }) // time.Now, as in production
	src := f.client.TicketSource(testCtx, f.token)
	ctx := context.Background()
	if _, err := src.Ticket(ctx); err != nil {
		b.Fatal(err)
	}
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
	var zero Client
	for name, src := range map[string]TicketSource{
		"swapped arguments": f.client.TicketSource(token, testCtx),
		"zero Client":       zero.TicketSource(testCtx, token),
		"nil Client":        (*Client)(nil).TicketSource(testCtx, token),
		"empty token":       f.client.TicketSource(testCtx, ""),
	} {
		_, err := src.Ticket(context.Background())
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "8k8Q") {
			t.Errorf("%s: error quotes the token: %v", name, err)
		}
		src.Invalidate() // must not panic
	}
}

func TestTicketSourceIgnoresNilOption(t *testing.T) {
	f := setup(t, nil)
	if _, err := f.client.TicketSource(testCtx, f.token, nil).Ticket(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestTicketSourceExchangeTimeoutIsUnavailable: when SuperID does not
// answer within ExchangeTimeout, the caller's own ctx is still live, so the
// error must say SuperID is unavailable (worth trying later), not only
// carry a deadline the caller never set.
func TestTicketSourceExchangeTimeoutIsUnavailable(t *testing.T) {
	f := setup(t, func(c *Config) {
		c.ExchangeTimeout = 50 * time.Millisecond
		c.Retry.MaxRetries = -1
	})
	f.srv.Fail(superidtest.EndpointSystemUser, superidtest.Fault{Delay: time.Minute})
	_, err := f.client.TicketSource(testCtx, f.token).Ticket(context.Background())
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("error %v does not match ErrUnavailable", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v lost its cause", err)
	}
	f.assertNoSecrets(t, err)
}
