package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-superoffice/superoffice/examples/internal/local"
	"github.com/go-superoffice/superoffice/examples/internal/store"
	"github.com/go-superoffice/superoffice/superid/superidtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cookieRecorder is a browser's transport that keeps every cookie value
// the app sets and every body it answers with, to look for secrets in
// them.
type cookieRecorder struct {
	mu     sync.Mutex
	values []string
	pages  []string // "METHOD path -> status\nbody" of each answer of the app
	app    string   // the app's host; the emulator's pages are not the app's
	next   http.RoundTripper
}

func (c *cookieRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ck := range resp.Cookies() {
		if len(ck.Value) >= 8 {
			c.values = append(c.values, ck.Value)
		}
	}
	if req.URL.Host == c.app {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		c.pages = append(c.pages, fmt.Sprintf("%s %s -> %d\n%s", req.Method, req.URL.Path, resp.StatusCode, body))
	}
	return resp, nil
}

func (c *cookieRecorder) recorded() (values, pages []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.values...), append([]string(nil), c.pages...)
}

// TestNoSecretsInDebugLog runs a whole session, with every package logging
// at debug level, and looks for each credential that went by in the log
// and in every page the app answered (the CSRF token excepted there: the
// forms carry it).
func TestNoSecretsInDebugLog(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { wholeSessionLeaksNothing(t, "") })
	t.Run("postgres", func(t *testing.T) { wholeSessionLeaksNothing(t, postgresDSN(t)) })
}

func wholeSessionLeaksNothing(t *testing.T, dsn string) {
	h := newHarness(t, harnessOptions{headless: true, dsn: dsn})
	ctx := context.Background()
	appURL, _ := url.Parse(h.appURL)
	cookies := &cookieRecorder{next: h.transport, app: appURL.Host}
	b := h.browser()
	b.client.Transport = cookies
	var sessionIDs []string

	b.get("/")
	home := b.signIn(admin.Username)
	sessionIDs = append(sessionIDs, b.sessionID())
	csrf := csrfOf(t, home)
	for i := 0; i < 2; i++ {
		b.post("/actions/login-user", url.Values{"csrf": {csrf}}, true)
		b.post("/actions/system-user", url.Values{"csrf": {csrf}}, true)
	}
	// A refresh of the user's token.
	sess, err := h.st.Session(ctx, b.sessionID())
	require.NoError(t, err)
	sess.Data.TokenExpiry = time.Now().Add(-time.Minute)
	require.NoError(t, h.st.UpdateSession(ctx, sess.ID, sess.Data, time.Hour))
	require.Contains(t, b.post("/actions/login-user", url.Values{"csrf": {csrf}}, true).body, "login user: done", "the refreshing action failed")
	sess, err = h.st.Session(ctx, b.sessionID())
	require.NoError(t, err)
	b.get("/tenants")
	b.get("/nothing-here")
	b.post("/actions/login-user", url.Values{"csrf": {"forged"}}, true)
	b.get("/callback?error=access_denied&error_description=declined")
	b.get("/callback?code=abc&state=def")
	b.callbackError("access_denied", "declined")
	// A failing action and its page.
	h.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Status: http.StatusBadRequest, Times: 1,
		Body: `{"Error":true,"ErrorType":"Validation","Message":"refused by the test"}`})
	assert.Contains(t, b.post("/actions/system-user", url.Values{"csrf": {csrf}}, true).body, "system user: failed", "the failing action did not fail")

	other := h.browser()
	other.client.Transport = cookies
	other.signIn(user.Username)
	sessionIDs = append(sessionIDs, other.sessionID())
	b.post("/logout", url.Values{"csrf": {csrf}}, true)

	tenant, err := h.st.Tenant(ctx, local.DemoContextID)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(h.cfg.PrivateKey)
	require.NoError(t, err)
	secrets := map[string][]string{
		"system user token": {tenant.SystemUserToken},
		"client secret":     {h.cfg.ClientSecret},
		"seal key":          {store.EncodeSealKey(h.cfg.SealKey), base64.StdEncoding.EncodeToString(h.cfg.SealKey)},
		"private key":       {base64.StdEncoding.EncodeToString(der)[100:140]},
		"session tokens":    {sess.Data.AccessToken, sess.Data.RefreshToken, sess.Data.CSRFToken, csrf},
		"session ids":       sessionIDs,
		"seen on the wire":  h.seen.all(),
	}
	values, _ := cookies.recorded()
	require.GreaterOrEqual(t, len(h.seen.all()), 8, "the session saw too few credentials on the wire to prove anything")
	require.GreaterOrEqual(t, len(values), 3, "the session saw too few cookies to prove anything")
	var tickets int
	for _, r := range h.em.Requests("") {
		if a := r.Header.Get("Authorization"); strings.HasPrefix(a, "SOTicket ") {
			secrets["tickets"] = append(secrets["tickets"], strings.TrimPrefix(a, "SOTicket "))
			tickets++
		}
	}
	require.NotZero(t, tickets, "no ticket was used")

	cookieValues, pages := cookies.recorded()
	secrets["cookies"] = cookieValues

	log := h.log.String()
	require.Contains(t, log, "level=DEBUG", "the log does not show the session at debug level")
	require.Contains(t, log, "company created with system user", "the log does not show the session")
	require.GreaterOrEqual(t, len(pages), 20, "pages recorded")
	// csrfOnPages: the forms carry the CSRF token; nowhere else may it be.
	csrfOnPages := map[string]bool{sess.Data.CSRFToken: true, csrf: true}
	for kind, values := range secrets {
		for _, v := range values {
			if !assert.NotEmpty(t, v, "%s: an empty value, the test lost track of it", kind) {
				continue
			}
			assert.False(t, leaks(log, v), "the log holds (part of) a %s", kind)
			if csrfOnPages[v] {
				continue
			}
			for _, p := range pages {
				assert.False(t, leaks(p, v), "a page holds (part of) a %s: %s", kind, strings.SplitN(p, "\n", 2)[0])
			}
		}
	}
	if t.Failed() {
		t.Logf("log:\n%s", log)
	}
}

// leaks reports whether text holds v or the random tail of a long v (in
// case a prefix was cut off).
func leaks(text, v string) bool {
	return strings.Contains(text, v) || (len(v) > 24 && strings.Contains(text, v[len(v)-16:]))
}
