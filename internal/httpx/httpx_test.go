package httpx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"7", 7 * time.Second, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		// Too many seconds for a Duration: the longest wait, not an
		// overflow to a negative (no wait at all).
		{"9999999999", math.MaxInt64, true},
		{"99999999999999999999", math.MaxInt64, true},
		{"-99999999999999999999", 0, false},
	} {
		got, ok := RetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("RetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestServerWait(t *testing.T) {
	now := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	at := func(d time.Duration) string { return now.Add(d).Format(http.TimeFormat) }
	for _, tc := range []struct {
		retryAfter, date string
		want             time.Duration
	}{
		{"120", "", 2 * time.Minute},
		{at(time.Minute), "", time.Minute},                         // against now
		{at(time.Minute), at(-time.Hour), time.Hour + time.Minute}, // against the server's Date
		{at(-time.Minute), "", 0},
		{"", at(0), 0},
		{"later", "", 0},
	} {
		resp := &http.Response{Header: http.Header{}}
		if tc.retryAfter != "" {
			resp.Header.Set("Retry-After", tc.retryAfter)
		}
		if tc.date != "" {
			resp.Header.Set("Date", tc.date)
		}
		if got, ok := ServerWait(resp, now); got != tc.want || ok != (tc.retryAfter != "" && tc.retryAfter != "later") {
			t.Errorf("Retry-After %q, Date %q: %v, want %v", tc.retryAfter, tc.date, got, tc.want)
		}
	}
}

func TestBackoffCapsRetryAfterAndJitters(t *testing.T) {
	for _, ra := range []string{"3600", "9999999999"} {
		resp := &http.Response{Header: http.Header{"Retry-After": {ra}}}
		if d := backoff(time.Millisecond, 2*time.Second, 0, resp); d != 2*time.Second {
			t.Fatalf("Retry-After %s not capped: %v", ra, d)
		}
	}
	for attempt := 0; attempt < 30; attempt++ {
		d := backoff(100*time.Millisecond, time.Second, attempt, nil)
		if d < 50*time.Millisecond || d > time.Second {
			t.Fatalf("attempt %d: wait %v out of bounds", attempt, d)
		}
	}
}

func newRequest(t *testing.T, ctx context.Context, url string) *retryablehttp.Request {
	t.Helper()
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestClientRetriesThenPassesLastResponse(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Retry-After", "0")
		http.Error(w, "busy", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	c := NewClient(srv.Client(), nil, RetryPolicy{MaxRetries: 2, MinWait: time.Millisecond, MaxWait: time.Millisecond})
	resp, err := c.Do(newRequest(t, context.Background(), srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || n.Load() != 3 {
		t.Fatalf("status %d after %d tries; want 503 after 3", resp.StatusCode, n.Load())
	}

	n.Store(0)
	resp, err = c.Do(newRequest(t, WithoutRetry(context.Background()), srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if n.Load() != 1 {
		t.Fatalf("WithoutRetry: %d tries", n.Load())
	}
}

func TestClientStopsOnContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	c := NewClient(srv.Client(), nil, RetryPolicy{MaxRetries: 5, MaxWait: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Do(newRequest(t, ctx, srv.URL))
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("err=%v after %v; want a ctx error well before the 30s Retry-After", err, time.Since(start))
	}
}

func TestClientNeverFollowsRedirects(t *testing.T) {
	var hit atomic.Bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit.Store(true) }))
	defer other.Close()
	srv := httptest.NewServer(http.RedirectHandler(other.URL, http.StatusFound))
	defer srv.Close()
	resp, err := NewClient(nil, nil, RetryPolicy{}).Do(newRequest(t, context.Background(), srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || hit.Load() {
		t.Fatalf("status %d, other host hit %v", resp.StatusCode, hit.Load())
	}
}

func TestRedactURL(t *testing.T) {
	u, _ := url.Parse("https://user:pw@sod.superoffice.com/Cust1/api/v1/Contact?$filter=name%20eq%20x&token=secret#frag")
	got := RedactURL(u)
	for _, bad := range []string{"pw", "secret", "user", "frag", "name"} {
		if strings.Contains(got, bad) {
			t.Errorf("RedactURL kept %q: %s", bad, got)
		}
	}
	if !strings.HasPrefix(got, "https://sod.superoffice.com/Cust1/api/v1/Contact?") {
		t.Errorf("RedactURL lost the path: %s", got)
	}
}

// go-retryablehttp logs the URL in "url", "request" (a description) and
// "error" (a *url.Error); none of them may carry a query value.
func TestLoggerRedactsURLs(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
		}
	}))
	c := NewClient(srv.Client(), logger, RetryPolicy{MaxRetries: 1, MinWait: time.Millisecond, MaxWait: time.Millisecond})
	const secret = "S3CRET-query-value"
	resp, err := c.Do(newRequest(t, context.Background(), srv.URL+"/api?ticket="+secret+"&x=%22q%22"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	srv.Close()
	// A connection error: retryablehttp logs the *url.Error.
	if _, err := c.Do(newRequest(t, context.Background(), srv.URL+"/api?ticket="+secret)); err == nil {
		t.Fatal("no error from a closed server")
	}
	out := buf.String()
	for _, want := range []string{"retrying request", "request failed", "REDACTED", "/api?"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, secret) {
		t.Errorf("log holds the query value:\n%s", out)
	}

	// A URL whose quoted form differs from its raw form, nested errors,
	// and a description with a status.
	raw := `http://h/p?ticket=` + secret + `&q="x"`
	nested := fmt.Errorf("wrapped: %w", &url.Error{Op: "Get", URL: raw, Err: &url.Error{Op: "Get", URL: raw + "&more", Err: errors.New("boom")}})
	kv := redactKV([]any{"error", nested, "request", "GET " + raw + " (status: 503)", "url", raw, "other", secret})
	for i := 0; i < 6; i += 2 {
		if s := fmt.Sprint(kv[i+1]); strings.Contains(s, secret) || !strings.Contains(s, "REDACTED") {
			t.Errorf("%v = %s", kv[i], s)
		}
	}
	if s := fmt.Sprint(kv[3]); !strings.HasPrefix(s, "GET http://h/p?") || !strings.HasSuffix(s, " (status: 503)") {
		t.Errorf("request = %s", s)
	}
	if s := fmt.Sprint(kv[1]); !strings.Contains(s, "boom") || !strings.HasPrefix(s, "wrapped: Get ") {
		t.Errorf("error = %s", s)
	}
}

// ReadBody reads a body of known length into a buffer of that size (and
// one byte), any other body up to the limit, and a body whose declared
// length is wrong (a HEAD answer, a hand-built Response) whole.
func TestReadBody(t *testing.T) {
	resp := func(method, body string, length int64) *http.Response {
		return &http.Response{Body: io.NopCloser(strings.NewReader(body)), ContentLength: length,
			Request: &http.Request{Method: method}}
	}
	for _, tc := range []struct {
		name   string
		method string
		body   string
		length int64
		limit  int64
		want   string
		sized  bool // read into one buffer of length+1
	}{
		{name: "known length", body: `{"a":1}`, length: 7, limit: 100, want: `{"a":1}`, sized: true},
		{name: "unknown length", body: `{"a":1}`, length: -1, limit: 100, want: `{"a":1}`},
		{name: "empty", body: "", length: 0, limit: 100, want: "", sized: true},
		{name: "over the limit, known length", body: "0123456789", length: 10, limit: 4, want: "0123"},
		{name: "over the limit, unknown length", body: "0123456789", length: -1, limit: 4, want: "0123"},
		{name: "declared 0, has a body", body: `{"a":1}`, length: 0, limit: 100, want: `{"a":1}`},
		{name: "declared shorter than its body", body: "0123456789", length: 3, limit: 100, want: "0123456789"},
		{name: "HEAD, declared but empty", method: http.MethodHead, body: "", length: 7, limit: 100, want: ""},
	} {
		b, err := ReadBody(resp(tc.method, tc.body, tc.length), tc.limit)
		if err != nil || string(b) != tc.want {
			t.Errorf("%s: %q, %v; want %q", tc.name, b, err, tc.want)
		}
		if tc.sized && cap(b) != int(tc.length)+1 {
			t.Errorf("%s: a buffer of %d bytes for a body of %d", tc.name, cap(b), tc.length)
		}
	}
	// A read error is passed on, with what came before it.
	r := &http.Response{Body: io.NopCloser(io.MultiReader(strings.NewReader("01"), iotest.ErrReader(errors.New("reset")))), ContentLength: 10}
	if b, err := ReadBody(r, 100); err == nil || string(b) != "01" {
		t.Errorf("a broken body: %q, %v", b, err)
	}
	// A claimed length beyond 1 MiB gets no buffer of that size up front
	// (net/http's own body reader reports the short body).
	b, err := ReadBody(resp("", "tiny", 1<<40), 1<<41)
	if err != nil || string(b) != "tiny" || cap(b) > 1<<20 {
		t.Errorf("a 4-byte body claiming 1 TiB: %d bytes in %d, %v", len(b), cap(b), err)
	}
}

// TestBackoffLongWaitsDoNotOverflow: with waits of hours and many retries,
// MinWait shifted by the attempt overflows; the wait must still lie within
// [MinWait/2, MaxWait], not panic in rand.N with a negative bound.
func TestBackoffLongWaitsDoNotOverflow(t *testing.T) {
	lo, hi := time.Duration(1<<44+1), 1000*time.Hour // ~4.9h, every bit past 63 dropped at attempt 20
	for attempt := range 64 {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("attempt %d: panic %v", attempt, r)
				}
			}()
			if d := backoff(lo, hi, attempt, nil); d < lo/2 || d > hi {
				t.Fatalf("attempt %d: wait %s outside [%s, %s]", attempt, d, lo/2, hi)
			}
		}()
	}
}
