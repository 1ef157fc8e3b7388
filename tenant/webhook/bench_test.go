package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// benchDeliveries returns n signed payloads of about 1 KB with distinct
// EventIds: a contact.changed with encoded field values, as NetServer 11
// sends.
func benchDeliveries(b *testing.B, secret []byte, n int) (bodies [][]byte, sigs []string) {
	fields := `"contact_id":"[I:6]","name":"Example Manufacturing AS","department":"Sales","orgnr":"NO 987 654 321",` +
		`"number1":"10042","number2":"","associate_id":"[I:12]","business_idx":"[I:2]","category_idx":"[I:4]",` +
		`"country_id":"[I:578]","deleted":"[I:0]","registered":"[DT:02/16/2020 17:50:17.0000000]",` +
		`"registered_associate_id":"[I:5]","updated":"[DT:09/16/2025 14:22:14.0000000]","updated_associate_id":"[I:5]",` +
		`"source":"[I:0]","userdef_id":"[I:22]","userdef2_id":"[I:0]","activeInterests":"[I:0]","soundEx":"EKSM","xstop":"[I:0]","nomailing":"[I:0]","text_id":"[I:0]","supportAssociateId":"[I:0]","activeErpLinks":"[I:0]"`
	for i := range n {
		body := fmt.Appendf(nil, `{"EventId":"%08x-edce-4c1a-8ded-ade8e2f72434","Timestamp":"2025-09-16T14:22:14.8912039Z",`+
			`"Changes":["contact_id","updated_associate_id","soundEx","updated","name"],"Event":"contact.changed",`+
			`"PrimaryKey":6,"Entity":"contact","ContextIdentifier":"Cust54321","ChangedByAssociateId":5,`+
			`"WebhookName":"example app contact events","FieldValues":{%s}}`, i, fields)
		bodies = append(bodies, body)
		sigs = append(sigs, Sign(secret, body))
	}
	if l := len(bodies[0]); l < 900 || l > 1200 {
		b.Fatalf("payload is %d bytes, want about 1 KB", l)
	}
	return bodies, sigs
}

// BenchmarkDelivery compares the Handler's work per delivery (verify,
// parse, dedupe, call a no-op app) with the least a receiver can do: a
// bare HMAC check and json.Unmarshal of the body into the same Event.
// Each delivery has a fresh EventId (the dedupe forgets the oldest
// before the ids come round again), so none is dropped as a duplicate.
func BenchmarkDelivery(b *testing.B) {
	secret := []byte("N2dGLe0H2n0dB3o0Xq5y0Jb1c9k8w7u6t5s4r3q2p1o")
	const n = 4096
	bodies, sigs := benchDeliveries(b, secret, n)
	ctx := context.Background()

	b.Run("handler", func(b *testing.B) {
		h, err := New(Config{
			Secret: func(*http.Request) ([]byte, error) { return secret, nil },
			Handle: func(context.Context, *Event) error { return nil },
			Dedupe: NewMemoryDedupe(n / 4),
		})
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(bodies[0])))
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if status, msg, err := h.deliver(ctx, secret, bodies[i%n], sigs[i%n], ""); status != http.StatusOK {
				b.Fatal(status, msg, err)
			}
			i++
		}
	})
	b.Run("bare", func(b *testing.B) {
		b.SetBytes(int64(len(bodies[0])))
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			bareDeliver(b, secret, bodies[i%n], sigs[i%n])
			i++
		}
	})
	// The two interleaved in one loop, so that the machine's load, which
	// moves by tens of percent between runs here, falls on both alike.
	b.Run("ratio", func(b *testing.B) {
		h, err := New(Config{
			Secret: func(*http.Request) ([]byte, error) { return secret, nil },
			Handle: func(context.Context, *Event) error { return nil },
			Dedupe: NewMemoryDedupe(n / 4),
		})
		if err != nil {
			b.Fatal(err)
		}
		var th, tb time.Duration
		i := 0
		for b.Loop() {
			t0 := time.Now()
			if status, msg, err := h.deliver(ctx, secret, bodies[i%n], sigs[i%n], ""); status != http.StatusOK {
				b.Fatal(status, msg, err)
			}
			t1 := time.Now()
			bareDeliver(b, secret, bodies[i%n], sigs[i%n])
			t2 := time.Now()
			th, tb = th+t1.Sub(t0), tb+t2.Sub(t1)
			i++
		}
		b.ReportMetric(float64(th)/float64(tb), "handler/bare")
		b.ReportMetric(float64(th.Nanoseconds())/float64(i), "handler-ns/op")
		b.ReportMetric(float64(tb.Nanoseconds())/float64(i), "bare-ns/op")
	})
}

// bareDeliver is the least a receiver does: check the HMAC and decode the
// body into the same struct.
func bareDeliver(b *testing.B, secret, body []byte, sig string) {
	got, err := base64.StdEncoding.DecodeString(sig)
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	if err != nil || !hmac.Equal(mac.Sum(nil), got) {
		b.Fatal("bad signature")
	}
	var ev Event
	if err := json.Unmarshal(body, &ev); err != nil || !strings.Contains(ev.Event, ".") {
		b.Fatal(err)
	}
}
