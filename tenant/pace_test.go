package tenant_test

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/tenant"
)

// unpaced turns pacing off, for tests and benchmarks that measure the
// client itself.
var unpaced = tenant.NewPacer(tenant.PacerConfig{Rate: tenant.Unlimited, MaxConcurrent: -1})

// memTransport answers every request in memory, so that the pacing tests
// run in a synctest bubble (no network goroutine keeps its fake clock
// from moving): 200 with "{}", or what answer returns.
type memTransport struct {
	answer func(req *http.Request) *http.Response // nil: 200
	calls  atomic.Int64
}

func (m *memTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	m.calls.Add(1)
	if req.Body != nil {
		_ = req.Body.Close()
	}
	if m.answer != nil {
		if resp := m.answer(req); resp != nil {
			return resp, nil
		}
	}
	return response(http.StatusOK, nil), nil
}

func response(status int, h http.Header) *http.Response {
	if h == nil {
		h = http.Header{}
	}
	h.Set("Content-Type", "application/json")
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader("{}"))}
}

// pacedClient is a client of tenant ctxID on a fake host, paced by p (nil:
// the process-wide pacer).
func pacedClient(t *testing.T, rt http.RoundTripper, p *tenant.Pacer, host, ctxID string) *tenant.Client {
	t.Helper()
	c, err := tenant.New(tenant.Config{
		BaseURL:    "http://" + host + "/" + ctxID + "/api/",
		HTTPClient: &http.Client{Transport: rt},
		Pacer:      p,
		Retry:      tenant.RetryPolicy{MaxRetries: 2, MinWait: 10 * time.Millisecond, MaxWait: 5 * time.Second},
	})
	require.NoError(t, err)
	return c
}

// calls makes n GETs through c, one after the other, and returns the
// (fake) time they took.
func calls(t *testing.T, c *tenant.Client, n int) time.Duration {
	t.Helper()
	start := time.Now()
	for range n {
		require.NoError(t, c.Do(t.Context(), http.MethodGet, "v1/User/currentPrincipal", nil, nil))
	}
	return time.Since(start)
}

func TestPacerFiftyCallsTakeFourSeconds(t *testing.T) {
	for _, burst := range []int{0, 1, 5, 10, 1000} {
		t.Run("burst "+strconv.Itoa(burst), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := tenant.NewPacer(tenant.PacerConfig{Burst: burst})
				c := pacedClient(t, &memTransport{}, p, "tenant.test", "Cust1")
				assert.GreaterOrEqual(t, calls(t, c, 50), 4*time.Second, "50 calls, one after the other")

				// 50 at once are paced as well.
				c2 := pacedClient(t, &memTransport{}, p, "tenant.test", "Cust2")
				start := time.Now()
				var wg sync.WaitGroup
				for range 50 {
					wg.Go(func() { assert.NoError(t, c2.Do(t.Context(), http.MethodGet, "v1/x", nil, nil)) })
				}
				wg.Wait()
				assert.GreaterOrEqual(t, time.Since(start), 4*time.Second, "50 calls at once")
			})
		})
	}
}

func TestPacerSharedByClientsOfOneTenant(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// A console makes a client per tenant run; the process-wide pacer
		// (Config.Pacer nil) keeps the tenant's pace across them.
		rt := &memTransport{}
		start := time.Now()
		for range 50 {
			calls(t, pacedClient(t, rt, nil, "shared.test", "Cust7"), 1)
		}
		assert.GreaterOrEqual(t, time.Since(start), 4*time.Second)
	})
}

func TestPacerOtherTenantNotSlowed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := tenant.NewPacer(tenant.PacerConfig{})
		rt := &memTransport{}
		busy, quiet := pacedClient(t, rt, p, "tenant.test", "Cust1"), pacedClient(t, rt, p, "tenant.test", "Cust2")
		done := make(chan time.Duration)
		go func() { done <- calls(t, busy, 100) }()
		synctest.Wait() // the busy tenant has used its burst and waits
		assert.Zero(t, calls(t, quiet, 10), "another tenant's 10 calls wait for nothing")
		assert.GreaterOrEqual(t, <-done, 9*time.Second)
	})
}

func TestPacerWaitEndsWithCtx(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := pacedClient(t, &memTransport{}, tenant.NewPacer(tenant.PacerConfig{}), "tenant.test", "Cust1")
		calls(t, c, 10) // the burst
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := c.Do(ctx, http.MethodGet, "v1/x", nil, nil)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 50*time.Millisecond, time.Since(start), "left when its ctx ended")
		// The turn it gave up is not lost: the next call goes 100ms after
		// the burst, not 200ms.
		assert.Equal(t, 50*time.Millisecond, calls(t, c, 1))
	})
}

func TestPacerCapsConcurrentCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var now, most atomic.Int64
		rt := &memTransport{answer: func(*http.Request) *http.Response {
			n := now.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			<-release
			now.Add(-1)
			return nil
		}}
		p := tenant.NewPacer(tenant.PacerConfig{Rate: tenant.Unlimited, MaxConcurrent: 3})
		c := pacedClient(t, rt, p, "tenant.test", "Cust1")
		other := pacedClient(t, rt, p, "tenant.test", "Cust2")
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() { assert.NoError(t, c.Do(t.Context(), http.MethodGet, "v1/x", nil, nil)) })
		}
		wg.Go(func() { assert.NoError(t, other.Do(t.Context(), http.MethodGet, "v1/x", nil, nil)) })
		synctest.Wait()
		assert.EqualValues(t, 4, now.Load(), "3 calls of the busy tenant under way, and the other tenant's")
		close(release)
		wg.Wait()
		assert.EqualValues(t, 4, most.Load())
		assert.EqualValues(t, 11, rt.calls.Load())
	})
}

func TestPacerRateLimitedSlowsThatTenantOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var refused atomic.Bool
		rt := &memTransport{answer: func(req *http.Request) *http.Response {
			if strings.Contains(req.URL.Path, "/Cust1/") && refused.CompareAndSwap(false, true) {
				return response(http.StatusTooManyRequests, http.Header{"Retry-After": {"1"}})
			}
			return nil
		}}
		p := tenant.NewPacer(tenant.PacerConfig{})
		slowed, other := pacedClient(t, rt, p, "tenant.test", "Cust1"), pacedClient(t, rt, p, "tenant.test", "Cust2")
		calls(t, slowed, 1) // 429, retried after its Retry-After
		require.True(t, refused.Load())
		// Half the rate, one at a time: 21 calls take at least 4 s.
		assert.GreaterOrEqual(t, calls(t, slowed, 21), 4*time.Second, "the throttled tenant")
		// 20 calls at the full rate with its burst of 10: 1 s.
		assert.Equal(t, time.Second, calls(t, other, 20), "another tenant")

		// A minute without a 429 gives the full pace back (synctest's fake
		// clock: the sleep advances it at once, nothing waits).
		time.Sleep(time.Minute)
		assert.Equal(t, time.Second, calls(t, slowed, 20), "after a quiet minute")
	})
}

func TestPacerMaxPauseHoldsTheTenant(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var refused atomic.Bool
		rt := &memTransport{answer: func(req *http.Request) *http.Response {
			if strings.Contains(req.URL.Path, "/Cust1/") && refused.CompareAndSwap(false, true) {
				return response(http.StatusServiceUnavailable, http.Header{"Retry-After": {"30"}})
			}
			return nil
		}}
		p := tenant.NewPacer(tenant.PacerConfig{MaxPause: 3 * time.Second})
		c, err := tenant.New(tenant.Config{BaseURL: "http://tenant.test/Cust1/api/", HTTPClient: &http.Client{Transport: rt},
			Pacer: p, Retry: tenant.RetryPolicy{MaxRetries: -1}})
		require.NoError(t, err)
		require.ErrorIs(t, c.Do(t.Context(), http.MethodGet, "v1/x", nil, nil), tenant.ErrServer)
		// The next call waits out the Retry-After, as far as MaxPause.
		assert.Equal(t, 3*time.Second, calls(t, c, 1))
		assert.Zero(t, calls(t, pacedClient(t, rt, p, "tenant.test", "Cust2"), 1), "another tenant")
	})
}

func TestPacerOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := pacedClient(t, &memTransport{}, unpaced, "tenant.test", "Cust1")
		assert.Zero(t, calls(t, c, 500))
	})
}

func TestPacerMustComeFromNewPacer(t *testing.T) {
	_, err := tenant.New(tenant.Config{BaseURL: "http://tenant.test/Cust1/api/", Pacer: &tenant.Pacer{}})
	assert.ErrorContains(t, err, "NewPacer")
}

func TestPacerForgetsTenantsAFreshStateServesAlike(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var refused atomic.Bool
		rt := &memTransport{answer: func(req *http.Request) *http.Response {
			if strings.Contains(req.URL.Path, "/Slow/") && refused.CompareAndSwap(false, true) {
				return response(http.StatusTooManyRequests, nil)
			}
			return nil
		}}
		p := tenant.NewPacer(tenant.PacerConfig{})
		calls(t, pacedClient(t, rt, p, "tenant.test", "Slow"), 1) // 429, retried: slowed for a minute
		require.True(t, refused.Load())
		// A service that calls 10,000 tenants in turn, one call each, a
		// second apart in batches of 1,000.
		for i := range 10 {
			for j := range 1000 {
				calls(t, pacedClient(t, rt, p, "tenant.test", "Cust"+strconv.Itoa(i*1000+j)), 1)
			}
			time.Sleep(time.Second)
		}
		assert.LessOrEqual(t, tenant.PacerTenants(p), 2048, "tenants kept")

		// The throttled tenant kept its slower pace: 3 calls one at a
		// time at half the rate.
		assert.GreaterOrEqual(t, calls(t, pacedClient(t, rt, p, "tenant.test", "Slow"), 3), 200*time.Millisecond)
	})
}
