package tenant_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/superid"
	"github.com/go-superoffice/superoffice/tenant"
	"github.com/go-superoffice/superoffice/tenant/webapi"
)

const benchTicket = "7T:bench-ticket"

// getBench is a loopback server that answers GET v1/Contact/42 with a
// realistic ContactEntity (testdata/contact_entity.json, 6.5 KB: address,
// persons, interests, custom fields and field properties, as a real
// tenant sends), a client with system-user credentials, and a bare
// net/http client on the same transport.
type getBench struct {
	api  *webapi.API
	hc   *http.Client
	url  string
	size int
}

func newGetBench(t testing.TB) *getBench {
	body, err := os.ReadFile("testdata/contact_entity.json")
	require.NoError(t, err)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "SOTicket "+benchTicket || r.Header.Get("SO-AppToken") != testSecret {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	t.Cleanup(hc.CloseIdleConnections)
	c, err := tenant.New(tenant.Config{
		BaseURL:     srv.URL + "/Cust12345/api/",
		Environment: superid.Environment(srv.URL),
		Credentials: tenant.SystemUser(fixedTicket(benchTicket), testSecret),
		HTTPClient:  hc,
		// Unpaced: this measures the client's own cost, not SuperOffice's
		// 10 calls per second.
		Pacer: unpaced,
	})
	require.NoError(t, err)
	return &getBench{api: webapi.New(c), hc: hc, url: srv.URL + "/Cust12345/api/v1/Contact/42", size: len(body)}
}

// client is the call through the client: api.Contact.GetByID.
func (g *getBench) client(ctx context.Context) (*webapi.ContactEntity, error) {
	return g.api.Contact.GetByID(ctx, 42)
}

// bare is what a hand-written call does: the same headers, the same
// server, the same target type, no retries, no checks.
func (g *getBench) bare(ctx context.Context) (*webapi.ContactEntity, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "SOTicket "+benchTicket)
	req.Header.Set("SO-AppToken", testSecret)
	req.Header.Set("Accept", "application/json")
	resp, err := g.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var c webapi.ContactEntity
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return &c, nil
}

// BenchmarkContactGet compares a single-entity GET through the client
// (cached ticket, retry wrapper, host and path checks, encoding/json into
// webapi.ContactEntity) with a bare net/http GET decoded by encoding/json
// into the same type, from the same loopback server: one sub-benchmark
// each, and one loop that alternates them for their time ratio.
func BenchmarkContactGet(b *testing.B) {
	g := newGetBench(b)
	ctx := context.Background()
	b.Logf("body %d bytes", g.size)
	for _, bm := range []struct {
		name string
		get  func(context.Context) (*webapi.ContactEntity, error)
	}{{"client", g.client}, {"bare", g.bare}} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(g.size))
			for b.Loop() {
				if _, err := bm.get(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("interleaved", func(b *testing.B) {
		interleave(b, "client", func() error { _, err := g.client(ctx); return err },
			"bare", func() error { _, err := g.bare(ctx); return err })
	})
}

// interleave runs fa and fb in turn in every iteration, each timed, and
// reports each one's time per op and their ratio (a over b), so that load
// from other processes on a shared machine hits both alike. Which goes
// first alternates, so that neither always inherits the other's warm (or
// cold) state.
func interleave(b *testing.B, a string, fa func() error, bn string, fb func() error) {
	var ta, tb time.Duration
	timed := func(f func() error) time.Duration {
		t0 := time.Now()
		if err := f(); err != nil {
			b.Fatal(err)
		}
		return time.Since(t0)
	}
	i := 0
	for b.Loop() {
		if i++; i%2 == 0 {
			ta += timed(fa)
			tb += timed(fb)
		} else {
			tb += timed(fb)
			ta += timed(fa)
		}
	}
	b.ReportMetric(float64(ta.Nanoseconds())/float64(b.N), a+"-ns/op")
	b.ReportMetric(float64(tb.Nanoseconds())/float64(b.N), bn+"-ns/op")
	b.ReportMetric(float64(ta)/float64(tb), "time-ratio")
}

// The client and the bare call that BenchmarkContactGet compares read
// the same entity.
func TestClientGetReadsWhatBareReads(t *testing.T) {
	g := newGetBench(t)
	ctx := context.Background()
	viaClient, err := g.client(ctx)
	require.NoError(t, err)
	bare, err := g.bare(ctx)
	require.NoError(t, err)
	require.Equal(t, bare, viaClient)
	assert.Equal(t, "Nordlys Teknikk AS", viaClient.Name)
	assert.Len(t, viaClient.Persons, 2)
}
