package tenant_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/go-superoffice/superoffice/tenant"
)

// BenchmarkPacingManyTenants is a console's cycle at the tenant level:
// PACE_BENCH_TENANTS tenants (default 10,000), a new Client for each
// (as a console makes one per tenant run), 2 calls each, 8 workers,
// against an httptest server; once with a fresh Pacer at the defaults
// (10 calls per second and 10 under way per tenant) and once unpaced, in
// turn, so that both see the same machine. Metrics: the time per cycle of
// each, and paced/unpaced, their ratio (1.0: pacing costs nothing, as no
// tenant makes more calls than its burst).
//
//	go test -run '^$' -bench PacingManyTenants -benchtime 3x ./tenant/
func BenchmarkPacingManyTenants(b *testing.B) {
	n := 10000
	if s := os.Getenv("PACE_BENCH_TENANTS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"UserType":"SystemUser"}`))
	}))
	defer srv.Close()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	defer hc.CloseIdleConnections()

	cycle := func(p *tenant.Pacer) time.Duration {
		start := time.Now()
		jobs := make(chan int)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for i := range jobs {
					c, err := tenant.New(tenant.Config{BaseURL: fmt.Sprintf("%s/Cust%d/api/", srv.URL, 10000+i), HTTPClient: hc, Pacer: p})
					if err != nil {
						b.Error(err)
						return
					}
					for range 2 {
						if _, err := whoAmI(b.Context(), c); err != nil {
							b.Error(err)
							return
						}
					}
				}
			})
		}
		for i := range n {
			jobs <- i
		}
		close(jobs)
		wg.Wait()
		return time.Since(start)
	}
	cycle(unpaced) // warm the connections up
	var paced, bare time.Duration
	for b.Loop() {
		bare += cycle(unpaced)
		paced += cycle(tenant.NewPacer(tenant.PacerConfig{}))
	}
	b.ReportMetric(float64(paced.Milliseconds())/float64(b.N), "paced_ms/cycle")
	b.ReportMetric(float64(bare.Milliseconds())/float64(b.N), "unpaced_ms/cycle")
	b.ReportMetric(float64(paced)/float64(bare), "paced/unpaced")
}

// BenchmarkPacingOverhead isolates what pacing adds to a call: Do through
// an in-memory transport (no network to hide it), for a new tenant every
// 2 calls, paced at the defaults and unpaced.
func BenchmarkPacingOverhead(b *testing.B) {
	for _, tc := range []struct {
		name  string
		pacer func() *tenant.Pacer
	}{
		{"unpaced", func() *tenant.Pacer { return unpaced }},
		{"paced", func() *tenant.Pacer { return tenant.NewPacer(tenant.PacerConfig{}) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			p, rt := tc.pacer(), &memTransport{}
			var c *tenant.Client
			i := 0
			for b.Loop() {
				if i%2 == 0 {
					var err error
					c, err = tenant.New(tenant.Config{BaseURL: fmt.Sprintf("http://tenant.test/Cust%d/api/", 10000+i/2), HTTPClient: &http.Client{Transport: rt}, Pacer: p})
					if err != nil {
						b.Fatal(err)
					}
				}
				i++
				if err := c.Do(b.Context(), http.MethodGet, "v1/User/currentPrincipal", nil, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
