package main

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-superoffice/superoffice/examples/internal/local"
	"github.com/go-superoffice/superoffice/examples/internal/store"
)

// cookieJarRecorder keeps every cookie value the app sets, to look for
// them in the log.
type cookieRecorder struct {
	mu     sync.Mutex
	values []string
	next   http.RoundTripper
}

func (c *cookieRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err == nil {
		c.mu.Lock()
		for _, ck := range resp.Cookies() {
			if len(ck.Value) >= 8 {
				c.values = append(c.values, ck.Value)
			}
		}
		c.mu.Unlock()
	}
	return resp, err
}

// TestNoSecretsInDebugLog runs a whole session, with every package logging
// at debug level, and looks for each credential that went by in the log.
func TestNoSecretsInDebugLog(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { wholeSessionLeaksNothing(t, "") })
	t.Run("postgres", func(t *testing.T) { wholeSessionLeaksNothing(t, postgresDSN(t)) })
}

func wholeSessionLeaksNothing(t *testing.T, dsn string) {
	h := newHarness(t, harnessOptions{headless: true, dsn: dsn})
	ctx := context.Background()
	cookies := &cookieRecorder{next: http.DefaultTransport}
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
	if err != nil {
		t.Fatal(err)
	}
	sess.Data.TokenExpiry = time.Now().Add(-time.Minute)
	if err := h.st.UpdateSession(ctx, sess.ID, sess.Data, time.Hour); err != nil {
		t.Fatal(err)
	}
	if p := b.post("/actions/login-user", url.Values{"csrf": {csrf}}, true); !strings.Contains(p.body, "login user: done") {
		t.Fatalf("refreshing action failed:\n%s", p.body)
	}
	sess, err = h.st.Session(ctx, b.sessionID())
	if err != nil {
		t.Fatal(err)
	}
	b.get("/tenants")
	b.post("/actions/login-user", url.Values{"csrf": {"forged"}}, true)
	b.get("/callback?error=access_denied&error_description=declined")

	other := h.browser()
	other.client.Transport = cookies
	other.signIn(user.Username)
	sessionIDs = append(sessionIDs, other.sessionID())
	b.post("/logout", url.Values{"csrf": {csrf}}, true)

	tenant, err := h.st.Tenant(ctx, local.DemoContextID)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(h.cfg.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string][]string{
		"system user token": {tenant.SystemUserToken},
		"client secret":     {h.cfg.ClientSecret},
		"seal key":          {store.EncodeSealKey(h.cfg.SealKey), base64.StdEncoding.EncodeToString(h.cfg.SealKey)},
		"private key":       {base64.StdEncoding.EncodeToString(der)[100:140]},
		"session tokens":    {sess.Data.AccessToken, sess.Data.RefreshToken, sess.Data.CSRFToken, csrf},
		"session ids":       sessionIDs,
		"cookies":           cookies.values,
		"seen on the wire":  h.seen.all(),
	}
	if len(h.seen.all()) < 8 || len(cookies.values) < 3 {
		t.Fatalf("the session saw too few credentials to prove anything: %d on the wire, %d cookies", len(h.seen.all()), len(cookies.values))
	}
	var tickets int
	for _, r := range h.em.Requests("") {
		if a := r.Header.Get("Authorization"); strings.HasPrefix(a, "SOTicket ") {
			secrets["tickets"] = append(secrets["tickets"], strings.TrimPrefix(a, "SOTicket "))
			tickets++
		}
	}
	if tickets == 0 {
		t.Fatal("no ticket was used")
	}

	log := h.log.String()
	if !strings.Contains(log, "level=DEBUG") || !strings.Contains(log, "company created with system user") {
		t.Fatalf("the log does not show the session at debug level:\n%s", log)
	}
	for kind, values := range secrets {
		for _, v := range values {
			if v == "" {
				t.Errorf("%s: an empty value, the test lost track of it", kind)
				continue
			}
			if strings.Contains(log, v) {
				t.Errorf("the log holds a %s", kind)
			}
			// The random tail of a long value, in case a prefix was cut.
			if len(v) > 24 && strings.Contains(log, v[len(v)-16:]) {
				t.Errorf("the log holds part of a %s", kind)
			}
		}
	}
	if t.Failed() {
		t.Logf("log:\n%s", log)
	}
}
