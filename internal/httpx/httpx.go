// Package httpx is the HTTP plumbing that systemuser and tenant share: a
// bounded, ctx-aware retrying client that never follows redirects, and
// URL redaction for logs and errors.
package httpx

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// RetryPolicy bounds retries. Zero values pick the defaults.
type RetryPolicy struct {
	// MaxRetries is how many times a request is sent again after the
	// first try; 0 means 3, a negative value means never.
	MaxRetries int
	// MinWait is the first backoff; 0 means 250ms.
	MinWait time.Duration
	// MaxWait caps every single wait, Retry-After included; 0 means 30s.
	MaxWait time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	switch {
	case p.MaxRetries == 0:
		p.MaxRetries = 3
	case p.MaxRetries < 0:
		p.MaxRetries = 0
	}
	if p.MinWait <= 0 {
		p.MinWait = 250 * time.Millisecond
	}
	if p.MaxWait <= 0 {
		p.MaxWait = 30 * time.Second
	}
	if p.MinWait > p.MaxWait {
		p.MinWait = p.MaxWait
	}
	return p
}

// NewClient returns a retrying client over a copy of base (nil: a client
// with a 30s timeout). It retries connection errors, 429 and 5xx (but 501),
// honours Retry-After up to MaxWait, and stops as soon as the request's
// ctx is done. When retries run out it returns the last response, so the
// caller can keep its status and body. Redirects are never followed: the
// 3xx comes back as it is, so credentials never travel to another host.
// A caller with requests that must be sent only once makes a second
// client with MaxRetries -1 and picks one per request.
func NewClient(base *http.Client, logger *slog.Logger, p RetryPolicy) *retryablehttp.Client {
	p = p.withDefaults()
	hc := &http.Client{Timeout: 30 * time.Second}
	if base != nil {
		c := *base
		hc = &c
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	// Not retryablehttp.NewClient: it builds a transport of its own, which
	// hc replaces, and a console makes a client per tenant run.
	rc := &retryablehttp.Client{
		HTTPClient:   hc,
		RetryMax:     p.MaxRetries,
		RetryWaitMin: p.MinWait,
		RetryWaitMax: p.MaxWait,
		CheckRetry:   checkRetry,
		Backoff:      backoff,
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	if logger != nil {
		rc.Logger = slogAdapter{logger}
	}
	return rc
}

func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		// The default policy knows which transport errors are final
		// (bad scheme, too many redirects, bad certificates).
		return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
	}
	return retryable(resp.StatusCode), nil
}

// retryable reports whether a response status is worth another try: 429,
// the 5xx but 501, and the two 4xx that ask for one (408 Request Timeout,
// 425 Too Early).
func retryable(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusRequestTimeout, http.StatusTooEarly:
		return true
	}
	return status >= 500 && status != http.StatusNotImplemented
}

// backoff honours Retry-After (capped at max) and otherwise waits a
// jittered exponential time, so that many clients do not retry in step.
func backoff(lo, hi time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if d, ok := ServerWait(resp, time.Now()); ok {
			return clamp(d, 0, hi)
		}
	}
	// lo << attempt only when it fits below hi: a shift that overflows
	// can wrap to a small positive value, under lo/2, and rand.N panics.
	ceil := hi
	if k := min(attempt, 20); lo <= hi>>k {
		ceil = lo << k
	}
	return clamp(lo/2+rand.N(ceil-lo/2+1), lo/2, hi)
}

func clamp(d, lo, hi time.Duration) time.Duration {
	return max(lo, min(d, hi))
}

// ServerWait is how long resp asks its client to wait before another
// request, and whether it says: its Retry-After, in seconds or as a date,
// which is set against the response's own Date when it has one (so that
// the clocks' skew does not count), else against now.
func ServerWait(resp *http.Response, now time.Time) (time.Duration, bool) {
	if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		now = d
	}
	return retryAfter(resp.Header.Get("Retry-After"), now)
}

// retryAfter parses a Retry-After value, in seconds or as an HTTP date.
// Seconds beyond what a Duration holds read as the longest Duration.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		switch {
		case s < 0:
			return 0, false
		case s > int64(math.MaxInt64/time.Second):
			return math.MaxInt64, true
		}
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// RedactURLError returns err's *url.Error with its URL redacted as
// RedactURL does, keeping its cause for errors.Is and errors.As; err
// itself when it holds none. Whatever wrapped the *url.Error is dropped,
// as it may quote the URL whole too (retryablehttp's "giving up" does).
func RedactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			return &url.Error{Op: ue.Op, URL: RedactURL(u), Err: ue.Err}
		}
	}
	return err
}

// RedactURL returns u without user info and with every query value
// replaced, so that it can go into a log line or an error.
func RedactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User = nil
	c.Fragment = ""
	if c.RawQuery != "" {
		q := c.Query()
		for k := range q {
			q[k] = []string{"REDACTED"}
		}
		c.RawQuery = q.Encode()
	}
	return c.String()
}

// ReadBody reads at most limit bytes of resp's body (see ReadAll) and
// drains (a little of) the rest so the connection can be reused.
func ReadBody(resp *http.Response, limit int64) ([]byte, error) {
	b, err := ReadAll(resp.Body, resp.ContentLength, limit)
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	return b, err
}

// ReadAll reads at most limit bytes of r, whose declared length is
// declared (negative: unknown). The declared length only sizes the
// buffer, up to 4 MiB, so that a body is read into one allocation rather
// than a doubling series of them: it never limits the read, as a HEAD
// answer, or a hand-built Response, may declare another length than its
// body has.
func ReadAll(r io.Reader, declared, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	if declared > 0 && declared <= min(limit, 4<<20) {
		buf.Grow(int(declared) + bytes.MinRead) // ReadFrom wants MinRead free to see the end
	}
	_, err := buf.ReadFrom(io.LimitReader(r, limit))
	return buf.Bytes(), err
}

// slogAdapter lets go-retryablehttp log through slog, at debug level for
// its chatter, with URLs redacted.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Error(msg string, kv ...any) { a.l.Warn(msg, redactKV(kv)...) }
func (a slogAdapter) Warn(msg string, kv ...any)  { a.l.Warn(msg, redactKV(kv)...) }
func (a slogAdapter) Info(msg string, kv ...any)  { a.l.Debug(msg, redactKV(kv)...) }
func (a slogAdapter) Debug(msg string, kv ...any) { a.l.Debug(msg, redactKV(kv)...) }

// redactKV redacts what go-retryablehttp logs: "url" (a string),
// "request" ("GET <url> (status: 503)"), "error" (a *url.Error, whose
// message holds the whole URL) and any *url.URL or *http.Request.
func redactKV(kv []any) []any {
	out := make([]any, len(kv))
	copy(out, kv)
	for i := 0; i+1 < len(out); i += 2 {
		k, _ := out[i].(string)
		switch v := out[i+1].(type) {
		case *url.URL:
			out[i+1] = RedactURL(v)
		case string:
			switch k {
			case "url":
				out[i+1] = RedactRawURL(v)
			case "request":
				out[i+1] = redactRequestLine(v)
			}
		case *http.Request:
			out[i+1] = v.Method + " " + RedactURL(v.URL)
		case error:
			out[i+1] = redactError(v)
		}
	}
	return out
}

// RedactRawURL is RedactURL of a URL not yet parsed.
func RedactRawURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return RedactURL(u)
}

// redactRequestLine redacts the URL of go-retryablehttp's request
// description, "<method> <url>" with an optional " (status: N)".
func redactRequestLine(s string) string {
	method, rest, ok := strings.Cut(s, " ")
	if !ok {
		return "(request)"
	}
	tail := ""
	if i := strings.LastIndex(rest, " (status: "); i >= 0 && strings.HasSuffix(rest, ")") {
		rest, tail = rest[:i], rest[i:]
	}
	return method + " " + RedactRawURL(rest) + tail
}

// redactError returns err's message with the URL of any *url.Error in it
// redacted, as a new error: a *url.Error prints its whole URL, query
// included, and a logger may print anything it can reach through Unwrap.
func redactError(err error) error {
	msg, found := err.Error(), false
	for e := err; e != nil; e = errors.Unwrap(e) {
		ue, ok := e.(*url.Error)
		if !ok || ue.URL == "" {
			continue
		}
		red := RedactRawURL(ue.URL)
		msg = strings.ReplaceAll(msg, strconv.Quote(ue.URL), strconv.Quote(red))
		msg = strings.ReplaceAll(msg, ue.URL, red)
		found = true
	}
	if !found {
		return err
	}
	return errors.New(msg)
}
