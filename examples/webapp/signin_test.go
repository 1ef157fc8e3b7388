package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/examples/internal/local"
	"github.com/go-superoffice/superoffice/examples/internal/store"
	"github.com/go-superoffice/superoffice/superid/superidtest"
)

// startSignIn starts a sign-in in b and returns SuperID's answer: the
// callback URL, with its code and state, that the browser would follow.
func (b *browser) startSignIn(user string) *url.URL {
	t := b.h.t
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.h.appURL+"/login?login_hint="+url.QueryEscape(user), nil)
	require.NoError(t, err)
	start := b.do(req, false)
	require.Equal(t, http.StatusFound, start.status, "the app's /login")
	req, err = http.NewRequest(http.MethodGet, start.header.Get("Location"), nil)
	require.NoError(t, err)
	authorize := b.do(req, false)
	require.Equal(t, http.StatusFound, authorize.status, "SuperID's authorize")
	cb, err := url.Parse(authorize.header.Get("Location"))
	require.NoError(t, err)
	require.NotEmpty(t, cb.Query().Get("code"), "SuperID sent no code: %s", cb)
	return cb
}

// follow sends b to u and follows every redirect.
func (b *browser) follow(u *url.URL) page {
	b.h.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u.String(), nil)
	require.NoError(b.h.t, err)
	return b.do(req, true)
}

// instance is another web app on the harness's configuration and database
// (a restarted process, or a second one behind the same load balancer).
func (h *harness) instance(dsn string) *Server {
	h.t.Helper()
	st, err := store.OpenConfig(context.Background(), store.Config{DSN: dsn, SealKey: h.cfg.SealKey})
	require.NoError(h.t, err)
	h.t.Cleanup(func() { st.Close() })
	app, err := NewServer(Options{Config: h.cfg, Store: st, HTTPClient: &http.Client{Transport: h.seen}, AllTenants: true})
	require.NoError(h.t, err)
	return app
}

// TestReplayedCallbackIsRefused: a callback that finished a sign-in,
// replayed with the very cookie it came with, is refused by the app that
// saw it, by a restarted one and by another instance on the same database,
// before any of them asks SuperID's token endpoint.
func TestReplayedCallbackIsRefused(t *testing.T) {
	for name, dsn := range map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "webapp.db") },
		"postgres": postgresDSN,
	} {
		t.Run(name, func(t *testing.T) {
			dsn := dsn(t)
			h := newHarness(t, harnessOptions{headless: true, dsn: dsn})
			b := h.browser()
			cb := b.startSignIn(admin.Username)
			app, err := url.Parse(h.appURL)
			require.NoError(t, err)
			cookies := b.jar.Cookies(app) // the login cookie, as an attacker might copy it

			p := b.follow(cb)
			require.Equal(t, http.StatusOK, p.status, p.body)
			require.Equal(t, h.appURL+"/", p.url)
			require.Equal(t, 1, h.em.Count(superidtest.EndpointToken))

			replay := func(srv http.Handler) *httptest.ResponseRecorder {
				req := httptest.NewRequest(http.MethodGet, cb.String(), nil)
				for _, c := range cookies {
					req.AddCookie(c)
				}
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, req)
				return rec
			}
			for who, srv := range map[string]http.Handler{
				"the same app":     h.app,
				"a restarted app":  h.instance(dsn),
				"another instance": h.instance(dsn),
			} {
				rec := replay(srv)
				assert.Equal(t, http.StatusBadRequest, rec.Code, who)
				assert.Contains(t, rec.Body.String(), "already finished", who)
				assert.Empty(t, rec.Header().Values("Location"), who)
			}
			assert.Equal(t, 1, h.em.Count(superidtest.EndpointToken), "token requests: a replay reached SuperID")
		})
	}
}

// TestReplayUnderSuperIDsCookieNameIsRefused: a sign-in's login cookie,
// copied under the name superid gives it, does not get past the app's
// record of used sign-ins.
func TestReplayUnderSuperIDsCookieNameIsRefused(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	b := h.browser()
	cb := b.startSignIn(admin.Username)
	app, err := url.Parse(h.appURL)
	require.NoError(t, err)
	var login *http.Cookie
	for _, c := range b.jar.Cookies(app) {
		if strings.HasPrefix(c.Name, loginCookieName(h.cfg.RedirectURL)+"-") {
			login = c
		}
	}
	require.NotNil(t, login, "no login cookie of the sign-in")
	require.Equal(t, http.StatusOK, b.follow(cb).status)

	req := httptest.NewRequest(http.MethodGet, cb.String(), nil)
	req.AddCookie(&http.Cookie{Name: loginCookieName(h.cfg.RedirectURL), Value: login.Value})
	rec := httptest.NewRecorder()
	h.instance(filepath.Join(t.TempDir(), "fresh.db")).ServeHTTP(rec, req)
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Equal(t, 1, h.em.Count(superidtest.EndpointToken), "token requests")
}

// TestTwoTabsSignInAtOnce: two sign-ins started in one browser before
// either came back both finish, in either order.
func TestTwoTabsSignInAtOnce(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	b := h.browser()
	first := b.startSignIn(admin.Username)
	second := b.startSignIn(admin.Username)
	for name, cb := range map[string]*url.URL{"first": first, "second": second} {
		p := b.follow(cb)
		assert.Equal(t, http.StatusOK, p.status, "%s tab:\n%s", name, p.body)
		assert.Equal(t, h.appURL+"/", p.url, "%s tab", name)
		assert.Contains(t, p.body, `id="tenant-ctx"`, "%s tab is not signed in", name)
	}
	app, err := url.Parse(h.appURL)
	require.NoError(t, err)
	for _, c := range b.jar.Cookies(app) {
		assert.False(t, strings.HasPrefix(c.Name, loginCookieName(h.cfg.RedirectURL)), "login cookie %s left behind", c.Name)
	}
}

// TestHSTS: Strict-Transport-Security on every answer when the app is
// served over https, by its configuration or the request's TLS, and never
// over plain http.
func TestHSTS(t *testing.T) {
	t.Run("https", func(t *testing.T) {
		h := newHarness(t, harnessOptions{headless: true, tls: true})
		b := h.browser()
		for _, path := range []string{"/", "/tenants", "/nothing-here", "/static/style.css"} {
			assert.Equal(t, "max-age=31536000", b.get(path).header.Get("Strict-Transport-Security"), path)
		}
	})
	t.Run("http", func(t *testing.T) {
		h := newHarness(t, harnessOptions{headless: true})
		b := h.browser()
		for _, path := range []string{"/", "/tenants", "/nothing-here"} {
			assert.Empty(t, b.get(path).header.Values("Strict-Transport-Security"), path)
		}
		// A request that came over TLS (a listener of its own) gets it.
		rec := httptest.NewRecorder()
		h.app.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://"+strings.TrimPrefix(h.appURL, "http://")+"/", nil))
		assert.Equal(t, "max-age=31536000", rec.Header().Get("Strict-Transport-Security"))
	})
}

// TestOrdinaryUserIsToldAnAdministratorMustApprove: before any
// administrator approved the app, an ordinary user's sign-in says what to
// do about it.
func TestOrdinaryUserIsToldAnAdministratorMustApprove(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	p := h.browser().signIn(user.Username)
	assert.Equal(t, http.StatusForbidden, p.status)
	assert.Contains(t, p.body, "an administrator must approve the app first")
	assert.Contains(t, p.body, local.DemoUsers[0].Username, "the page names the demo administrator")

	// Once approved, a refusal (declined, say) no longer blames the approval.
	h.browser().signIn(admin.Username)
	p = h.browser().callbackError("access_denied", "")
	assert.Equal(t, http.StatusForbidden, p.status)
	assert.NotContains(t, p.body, "must approve the app first")
}
