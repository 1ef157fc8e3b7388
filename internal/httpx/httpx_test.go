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
	"testing/synctest"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
		got, ok := retryAfter(tc.in, now)
		assert.Equal(t, tc.want, got, "retryAfter(%q)", tc.in)
		assert.Equal(t, tc.ok, ok, "retryAfter(%q) ok", tc.in)
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
		got, ok := ServerWait(resp, now)
		assert.Equal(t, tc.want, got, "Retry-After %q, Date %q", tc.retryAfter, tc.date)
		assert.Equal(t, tc.retryAfter != "" && tc.retryAfter != "later", ok, "Retry-After %q, Date %q: ok", tc.retryAfter, tc.date)
	}
}

func TestBackoffCapsRetryAfterAndJitters(t *testing.T) {
	for _, ra := range []string{"3600", "9999999999"} {
		resp := &http.Response{Header: http.Header{"Retry-After": {ra}}}
		assert.Equal(t, 2*time.Second, backoff(time.Millisecond, 2*time.Second, 0, resp), "Retry-After %s capped", ra)
	}
	for attempt := range 30 {
		d := backoff(100*time.Millisecond, time.Second, attempt, nil)
		assert.GreaterOrEqual(t, d, 50*time.Millisecond, "attempt %d", attempt)
		assert.LessOrEqual(t, d, time.Second, "attempt %d", attempt)
	}
}

func newRequest(t *testing.T, ctx context.Context, url string) *retryablehttp.Request {
	t.Helper()
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
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
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, int32(3), n.Load(), "tries")

	// A client made with MaxRetries -1 sends once: the one a caller picks
	// for a request that must not be repeated.
	n.Store(0)
	once := NewClient(srv.Client(), nil, RetryPolicy{MaxRetries: -1})
	resp, err = once.Do(newRequest(t, context.Background(), srv.URL))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, int32(1), n.Load(), "tries with MaxRetries -1")
}

// The client stops waiting for a Retry-After as soon as the request's ctx
// ends.
func TestClientStopsOnContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var n atomic.Int32
		rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			n.Add(1)
			return &http.Response{StatusCode: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"30"}},
				Body: http.NoBody, Request: r}, nil
		})
		c := NewClient(&http.Client{Transport: rt}, nil, RetryPolicy{MaxRetries: 5, MaxWait: time.Minute})
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.Do(newRequest(t, ctx, "http://127.0.0.1:1/"))
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 50*time.Millisecond, time.Since(start), "returned when the ctx ended, not after the 30s Retry-After")
		assert.Equal(t, int32(1), n.Load(), "tries")
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestClientNeverFollowsRedirects(t *testing.T) {
	var hit atomic.Bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit.Store(true) }))
	defer other.Close()
	srv := httptest.NewServer(http.RedirectHandler(other.URL, http.StatusFound))
	defer srv.Close()
	resp, err := NewClient(nil, nil, RetryPolicy{}).Do(newRequest(t, context.Background(), srv.URL))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusFound, resp.StatusCode)
	assert.False(t, hit.Load(), "the redirect target was called")
}

func TestRedactURL(t *testing.T) {
	u, _ := url.Parse("https://user:pw@sod.superoffice.com/Cust1/api/v1/Contact?$filter=name%20eq%20x&token=secret#frag")
	got := RedactURL(u)
	for _, bad := range []string{"pw", "secret", "user", "frag", "name"} {
		assert.NotContains(t, got, bad)
	}
	assert.True(t, strings.HasPrefix(got, "https://sod.superoffice.com/Cust1/api/v1/Contact?"), "RedactURL lost the path: %s", got)
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
	require.NoError(t, err)
	resp.Body.Close()
	srv.Close()
	// A connection error: retryablehttp logs the *url.Error.
	_, err = c.Do(newRequest(t, context.Background(), srv.URL+"/api?ticket="+secret))
	require.Error(t, err, "a closed server")
	out := buf.String()
	for _, want := range []string{"retrying request", "request failed", "REDACTED", "/api?"} {
		assert.Contains(t, out, want)
	}
	assert.NotContains(t, out, secret, "the log holds the query value")

	// A URL whose quoted form differs from its raw form, nested errors,
	// and a description with a status.
	raw := `http://h/p?ticket=` + secret + `&q="x"`
	nested := fmt.Errorf("wrapped: %w", &url.Error{Op: "Get", URL: raw, Err: &url.Error{Op: "Get", URL: raw + "&more", Err: errors.New("boom")}})
	kv := redactKV([]any{"error", nested, "request", "GET " + raw + " (status: 503)", "url", raw, "other", secret})
	for i := 0; i < 6; i += 2 {
		s := fmt.Sprint(kv[i+1])
		assert.NotContains(t, s, secret, kv[i])
		assert.Contains(t, s, "REDACTED", kv[i])
	}
	assert.Regexp(t, `^GET http://h/p\?.* \(status: 503\)$`, fmt.Sprint(kv[3]), "request")
	assert.Regexp(t, `^wrapped: Get .*boom`, fmt.Sprint(kv[1]), "error")
}

// ReadBody reads a body up to the limit, whatever length it declares (a
// HEAD answer, a hand-built Response), and passes a read error on.
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
	}{
		{name: "known length", body: `{"a":1}`, length: 7, limit: 100, want: `{"a":1}`},
		{name: "unknown length", body: `{"a":1}`, length: -1, limit: 100, want: `{"a":1}`},
		{name: "empty", body: "", length: 0, limit: 100, want: ""},
		{name: "over the limit, known length", body: "0123456789", length: 10, limit: 4, want: "0123"},
		{name: "over the limit, unknown length", body: "0123456789", length: -1, limit: 4, want: "0123"},
		{name: "declared 0, has a body", body: `{"a":1}`, length: 0, limit: 100, want: `{"a":1}`},
		{name: "declared shorter than its body", body: "0123456789", length: 3, limit: 100, want: "0123456789"},
		{name: "HEAD, declared but empty", method: http.MethodHead, body: "", length: 7, limit: 100, want: ""},
		{name: "claims 1 TiB", body: "tiny", length: 1 << 40, limit: 1 << 41, want: "tiny"},
	} {
		b, err := ReadBody(resp(tc.method, tc.body, tc.length), tc.limit)
		assert.NoError(t, err, tc.name)
		assert.Equal(t, tc.want, string(b), tc.name)
	}
	// A read error is passed on, with what came before it.
	r := &http.Response{Body: io.NopCloser(io.MultiReader(strings.NewReader("01"), iotest.ErrReader(errors.New("reset")))), ContentLength: 10}
	b, err := ReadBody(r, 100)
	assert.Error(t, err, "a broken body")
	assert.Equal(t, "01", string(b), "a broken body")
}

// TestBackoffLongWaitsDoNotOverflow: with waits of hours and many retries,
// MinWait shifted by the attempt overflows; the wait must still lie within
// [MinWait/2, MaxWait], not panic in rand.N with a negative bound.
func TestBackoffLongWaitsDoNotOverflow(t *testing.T) {
	lo, hi := time.Duration(1<<44+1), 1000*time.Hour // ~4.9h, every bit past 63 dropped at attempt 20
	for attempt := range 64 {
		var d time.Duration
		require.NotPanics(t, func() { d = backoff(lo, hi, attempt, nil) }, "attempt %d", attempt)
		assert.GreaterOrEqual(t, d, lo/2, "attempt %d", attempt)
		assert.LessOrEqual(t, d, hi, "attempt %d", attempt)
	}
}

// A body of a declared length is read into one buffer of that size, not a
// doubling series of them (four more allocations for a 6.5 KB entity).
func TestReadBodySizesItsBufferByTheDeclaredLength(t *testing.T) {
	body := strings.Repeat("x", 6500)
	read := func(length int64) float64 {
		return testing.AllocsPerRun(100, func() {
			b, err := ReadBody(&http.Response{Body: io.NopCloser(strings.NewReader(body)), ContentLength: length}, 1<<20)
			require.NoError(t, err)
			require.Len(t, b, len(body))
		})
	}
	unsized, sized := read(-1), read(int64(len(body)))
	assert.LessOrEqual(t, sized, unsized-4, "allocations, sized against unsized")
}
