package tenant_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/go-superoffice/superoffice/superid/superidtest"
	"github.com/go-superoffice/superoffice/tenant"
)

// getBench is one in-process emulator with one company, a full client and
// a bare net/http client sharing one transport, and a bare Get.
type getBench struct {
	client *tenant.Client
	hc     *http.Client
	url    string
	ticket string
	id     int
}

func newGetBench(t testing.TB) *getBench {
	f := setup(t, superidtest.WithRequestLogLimit(0))
	c, err := f.em.AddContact(testCtx, superidtest.Contact{Name: "Bench AS", Department: "Sales", Emails: []string{"a@b.example"}})
	must(t, err)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	t.Cleanup(hc.CloseIdleConnections)
	// Unpaced: these measure the client's own cost, not SuperOffice's
	// 10 calls per second.
	client := f.client(t, func(cfg *tenant.Config) { cfg.HTTPClient, cfg.Pacer = hc, unpaced })
	tk, err := f.tickets.Ticket(context.Background())
	must(t, err)
	return &getBench{client: client, hc: hc, url: f.em.WebAPIURL(testCtx) + "v1/Contact/" + strconv.Itoa(c.ContactID), ticket: tk.Value, id: c.ContactID}
}

// bare is what a hand-written call does: same headers, same handler,
// same target type, no retries, no checks.
func (g *getBench) bare(ctx context.Context) (*tenant.Contact, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "SOTicket "+g.ticket)
	req.Header.Set("SO-AppToken", testSecret)
	req.Header.Set("Accept", "application/json")
	resp, err := g.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var c tenant.Contact
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return &c, nil
}

// BenchmarkContactsGet compares Contacts.Get through the full client
// (cached ticket, retry wrapper, checks, JSON decode) with a bare
// net/http + encoding/json call to the same in-process handler.
func BenchmarkContactsGet(b *testing.B) {
	g := newGetBench(b)
	ctx := context.Background()
	b.Run("client", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := g.client.Contacts.Get(ctx, g.id); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bare", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := g.bare(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkContactsGetInterleaved alternates the two calls in one loop and
// times each, so that load on a shared machine hits both alike; it
// reports their time ratio.
func BenchmarkContactsGetInterleaved(b *testing.B) {
	g := newGetBench(b)
	ctx := context.Background()
	interleave(b, "client", func() error { _, err := g.client.Contacts.Get(ctx, g.id); return err },
		"bare", func() error { _, err := g.bare(ctx); return err })
}

// BenchmarkContactsGetDecodes compares Contacts.Get with the same call
// decoded as before the one-pass decoder (the raw body through the
// client, then json.Unmarshal and the reflective decode), interleaved.
func BenchmarkContactsGetDecodes(b *testing.B) {
	g := newGetBench(b)
	ctx := context.Background()
	path := "v1/Contact/" + strconv.Itoa(g.id)
	interleave(b, "onepass", func() error { _, err := g.client.Contacts.Get(ctx, g.id); return err },
		"reflective", func() error {
			var raw []byte
			if err := g.client.Do(ctx, http.MethodGet, path, nil, &raw); err != nil {
				return err
			}
			var c tenant.Contact
			return tenant.UnmarshalContactReflective(raw, &c)
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

// BenchmarkContactUnmarshal compares Client.decode's one-pass decode of a
// Contact with the reflective one it replaced (json.Unmarshal, then
// decodeEntity: encoding/json's validation, a reflective decode and a scan
// for Extra) on the body the emulator returns for GET v1/Contact/default:
// one sub-benchmark each for allocations, and one loop alternating the two
// for their time ratio.
func BenchmarkContactUnmarshal(b *testing.B) {
	f := setup(b)
	var body json.RawMessage
	must(b, f.client(b).Do(context.Background(), http.MethodGet, "v1/Contact/default", nil, &body))
	decode := func(c *tenant.Contact) error { return tenant.DecodeContact(body, c) }
	reflective := func(c *tenant.Contact) error { return tenant.UnmarshalContactReflective(body, c) }
	var c1, c2 tenant.Contact
	err1, err2 := decode(&c1), reflective(&c2)
	if err1 != nil || err2 != nil || !reflect.DeepEqual(c1, c2) || len(c1.Extra) == 0 {
		b.Fatalf("the two decode %s differently: %+v (%v), %+v (%v)", body, c1, err1, c2, err2)
	}
	for _, bm := range []struct {
		name string
		f    func(*tenant.Contact) error
	}{{"onepass", decode}, {"reflective", reflective}} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				var c tenant.Contact
				if err := bm.f(&c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("interleaved", func(b *testing.B) {
		var c tenant.Contact
		interleave(b, "onepass", func() error { return decode(&c) }, "reflective", func() error { return reflective(&c) })
	})
}

// BenchmarkContactMarshal compares the request body Client.Do makes of a
// Contact (its own encoding, sent as is) with json.Marshal's, which
// compacts and checks that encoding once more, on the emulator's default
// Contact; as BenchmarkContactUnmarshal, with an interleaved loop.
func BenchmarkContactMarshal(b *testing.B) {
	f := setup(b)
	var c tenant.Contact
	must(b, f.client(b).Do(context.Background(), http.MethodGet, "v1/Contact/default", nil, &c))
	c.Name = "Bench & Co <AS>"
	own := func() ([]byte, error) { return tenant.EncodeContact(&c) }
	marshal := func() ([]byte, error) { return json.Marshal(&c) }
	b1, err1 := own()
	b2, err2 := marshal()
	if err1 != nil || err2 != nil || string(b1) != string(b2) || len(c.Extra) == 0 {
		b.Fatalf("the two encode differently: %s (%v), %s (%v)", b1, err1, b2, err2)
	}
	for _, bm := range []struct {
		name string
		f    func() ([]byte, error)
	}{{"own", own}, {"json.Marshal", marshal}} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bm.f(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("interleaved", func(b *testing.B) {
		interleave(b, "own", func() error { _, err := own(); return err }, "json.Marshal", func() error { _, err := marshal(); return err })
	})
}

// TestClientAllocationsNearBare keeps the client's per-call allocations
// (server side included, as in the benchmark) within 1.5x of a bare call.
func TestClientAllocationsNearBare(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation comparison")
	}
	g := newGetBench(t)
	ctx := context.Background()
	client := testing.AllocsPerRun(200, func() {
		if _, err := g.client.Contacts.Get(ctx, g.id); err != nil {
			t.Fatal(err)
		}
	})
	bare := testing.AllocsPerRun(200, func() {
		if _, err := g.bare(ctx); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("allocs per Get: client %.0f, bare %.0f, ratio %.2f", client, bare, client/bare)
	if client > 1.5*bare {
		t.Fatalf("client allocates %.0f per Get, more than 1.5x bare (%.0f)", client, bare)
	}
}
