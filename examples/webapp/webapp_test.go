package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/examples/internal/config"
	"github.com/go-superoffice/superoffice/examples/internal/local"
	"github.com/go-superoffice/superoffice/examples/internal/store"
	"github.com/go-superoffice/superoffice/superid/superidtest"
)

func TestHomeSignedOutOffersSignIn(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	p := h.browser().get("/")
	require.Equal(t, http.StatusOK, p.status)
	for _, want := range []string{`href="/login"`, "Sign in with SuperOffice", admin.Username, admin.Password, user.Username, local.DemoContextID} {
		assert.Contains(t, p.body, want, "sign-in page")
	}
	assert.NotContains(t, p.body, `name="csrf"`, "a visitor got a form with a CSRF token")
	assert.Equal(t, "no-store", p.header.Get("Cache-Control"))
	for _, hdr := range []string{"Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options"} {
		assert.NotEmpty(t, p.header.Get(hdr), hdr)
	}
}

func TestAdministratorSignInStoresTenant(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	b := h.browser()
	p := b.signIn(admin.Username)
	require.Equal(t, http.StatusOK, p.status, p.body)
	require.Equal(t, h.appURL+"/", p.url, p.body)
	for _, want := range []string{
		admin.FullName, admin.Username, "administrator",
		local.DemoContextID, local.DemoCompanyName, "Running",
		"yes, ", "by " + admin.Username,
		"Create company with login user", "Create company with system user",
	} {
		assert.Contains(t, p.body, want, "home page")
	}
	assert.NotContains(t, p.body, `id="create-system-user" disabled`, "system user action disabled after approval")
	assert.Equal(t, "no-store", p.header.Get("Cache-Control"), "Cache-Control on an authenticated page")

	tok, err := h.em.Approve(local.DemoContextID, h.cfg.ClientID)
	require.NoError(t, err)
	stored, err := h.st.Tenant(context.Background(), local.DemoContextID)
	require.NoError(t, err)
	assert.Equal(t, tok, stored.SystemUserToken)
	assert.Equal(t, admin.Username, stored.ApprovedBy)
	assert.Equal(t, local.DemoSerial, stored.Serial)
	assert.Equal(t, local.DemoCompanyName, stored.CompanyName)
	assert.True(t, strings.HasSuffix(stored.WebAPIURL, "/"+local.DemoContextID+"/api/"), "web API URL %q", stored.WebAPIURL)
	assert.NotContains(t, p.body, tok, "the home page shows the system user token")

	// Signing in again brings the same token: not a new approval.
	b.signIn(admin.Username)
	again, err := h.st.Tenant(context.Background(), local.DemoContextID)
	require.NoError(t, err)
	assert.Equal(t, int64(1), again.Approvals, "approvals after a second sign-in")
}

func TestOrdinaryUserBeforeApprovalIsRefused(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	p := h.browser().signIn(user.Username)
	require.Equal(t, http.StatusForbidden, p.status, p.body)
	assert.Contains(t, p.body, "Access was denied")
	assert.Contains(t, p.body, "access_denied")
	list, err := h.st.ListTenants(context.Background())
	require.NoError(t, err)
	assert.Empty(t, list, "tenants stored")
}

func TestOrdinaryUserAfterApproval(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	h.browser().signIn(admin.Username)
	p := h.browser().signIn(user.Username)
	require.Equal(t, http.StatusOK, p.status, p.body)
	require.Contains(t, p.body, user.FullName)
	require.Contains(t, p.body, `id="user-role">user<`)
	assert.Contains(t, p.body, "by "+admin.Username, "the approval is no longer the administrator's")
}

// TestOrdinaryUserDoesNotReapprove: an ordinary user's sign-in carries the
// system user token too, but does not bring back a tenant the console
// deactivated, nor count as an approval; an administrator's does.
func TestOrdinaryUserDoesNotReapprove(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	ctx := context.Background()
	h.browser().signIn(admin.Username)
	h.deactivate(local.DemoContextID, "SuperID refused the system user token")
	before, err := h.st.Tenant(ctx, local.DemoContextID)
	require.NoError(t, err)

	p := h.browser().signIn(user.Username)
	require.Equal(t, http.StatusOK, p.status, p.body)
	require.Contains(t, p.body, `id="user-role">user<`)
	after, err := h.st.Tenant(ctx, local.DemoContextID)
	require.NoError(t, err)
	assert.Equal(t, store.StatusInactive, after.Status, "after an ordinary user's sign-in")
	assert.Equal(t, admin.Username, after.ApprovedBy)
	assert.Equal(t, before.Approvals, after.Approvals)
	assert.True(t, after.ApprovedAt.Equal(before.ApprovedAt), "approved at %v, want %v", after.ApprovedAt, before.ApprovedAt)

	h.browser().signIn(admin.Username)
	again, err := h.st.Tenant(ctx, local.DemoContextID)
	require.NoError(t, err)
	assert.Equal(t, store.StatusActive, again.Status, "an administrator's sign-in did not approve again")
	assert.Equal(t, before.Approvals+1, again.Approvals)
}

// TestApprovedElsewhereStoredAtAnyoneSignIn: a tenant that approved the app
// elsewhere (the App Store, say) is stored at its first sign-in, even an
// ordinary user's, without naming that user as the approver.
func TestApprovedElsewhereStoredAtAnyoneSignIn(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	_, err := h.em.Approve(local.DemoContextID, h.cfg.ClientID)
	require.NoError(t, err)
	h.browser().signIn(user.Username)
	tn, err := h.st.Tenant(context.Background(), local.DemoContextID)
	require.NoError(t, err, "the tenant is not stored after an ordinary user's sign-in")
	assert.Equal(t, store.StatusActive, tn.Status)
	assert.Empty(t, tn.ApprovedBy, "the approver is named")
	assert.NotEmpty(t, tn.SystemUserToken)
}

// TestApprovalElsewhereDoesNotNameTheEarlierApprover: after an
// administrator's approval, the tenant withdraws and approves the app
// again elsewhere; an ordinary user's sign-in stores the new token. The
// approval recorded is that new one, at its time, by nobody named: not the
// earlier administrator, who did not make it.
func TestApprovalElsewhereDoesNotNameTheEarlierApprover(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	ctx := context.Background()
	h.browser().signIn(admin.Username)
	before, err := h.st.Tenant(ctx, local.DemoContextID)
	require.NoError(t, err)
	require.Equal(t, admin.Username, before.ApprovedBy, "administrator's approval")
	h.em.RevokeApproval(local.DemoContextID, h.cfg.ClientID)
	_, err = h.em.Approve(local.DemoContextID, h.cfg.ClientID)
	require.NoError(t, err)
	h.browser().signIn(user.Username)
	after, err := h.st.Tenant(ctx, local.DemoContextID)
	require.NoError(t, err)
	require.NotEqual(t, before.SystemUserToken, after.SystemUserToken, "the new token was not stored")
	require.Equal(t, before.Approvals+1, after.Approvals, "the new token was not stored")
	assert.Empty(t, after.ApprovedBy, "the approval of %v is said to be the earlier approver's, who approved at %v", after.ApprovedAt, before.ApprovedAt)
}

// callbackError starts a sign-in and comes back with SuperID's error
// response for its state, as SuperID would redirect.
func (b *browser) callbackError(code, description string) page {
	b.h.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.h.appURL+"/login", nil)
	require.NoError(b.h.t, err)
	start := b.do(req, false)
	loc, err := url.Parse(start.header.Get("Location"))
	require.NoError(b.h.t, err, "no sign-in started: %d", start.status)
	require.NotEmpty(b.h.t, loc.Query().Get("state"), "no sign-in started: %d %q", start.status, start.header.Get("Location"))
	q := url.Values{"state": {loc.Query().Get("state")}, "error": {code}, "error_description": {description}}
	return b.get("/callback?" + q.Encode())
}

// TestSignInErrorShowsFixedMessage: SuperID's error codes get fixed
// sentences; error_description, which anyone can put in a link, never
// reaches the page (not even escaped) and is logged quoted.
func TestSignInErrorShowsFixedMessage(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	const crafted = "<script>alert(1)</script> Xyzzy: call +47 555 and give your password\nlevel=ERROR msg=forged"
	for code, want := range map[string]struct {
		status int
		text   string
	}{
		"access_denied":           {http.StatusForbidden, "Access was denied"},
		"consent_required":        {http.StatusForbidden, "needs your consent"},
		"login_required":          {http.StatusUnauthorized, "sign in again"},
		"invalid_request":         {http.StatusBadRequest, "could not accept the app&#39;s sign-in request"},
		"server_error":            {http.StatusBadGateway, "had a problem signing you in"},
		"temporarily_unavailable": {http.StatusServiceUnavailable, "temporarily unavailable"},
		"<b>made_up</b>":          {http.StatusBadRequest, "SuperOffice could not sign you in"},
	} {
		p := h.browser().callbackError(code, crafted)
		assert.Equal(t, want.status, p.status, code)
		assert.Contains(t, p.body, want.text, code)
		for _, part := range []string{"Xyzzy", "script", "555", "forged"} {
			assert.NotContains(t, p.body, part, "%s: the page shows the description", code)
		}
		known := !strings.Contains(code, "made_up")
		assert.Equal(t, known, strings.Contains(p.body, `id="error-detail">`+code+"<"), "%s: code shown", code)
		assert.NotContains(t, p.body, "made_up", "an unknown code is on the page")
	}
	log := h.log.String()
	assert.Contains(t, log, `level=INFO msg="SuperID refused the sign-in"`, "the refusal is not logged at info")
	assert.Contains(t, log, `Xyzzy: call +47 555`, "the description is not logged")
	assert.NotContains(t, log, "\nlevel=ERROR msg=forged", "the description forged a log line")
}

func TestCallbackWithoutSignInInProgress(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	p := h.browser().get("/callback?code=abc&state=def")
	assert.Equal(t, http.StatusBadRequest, p.status)
	assert.Contains(t, p.body, "Please start again")
}

func TestCreateCompanyWithLoginUser(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	b := h.browser()
	home := b.signIn(admin.Username)

	redirect := b.post("/actions/login-user", url.Values{"csrf": {csrfOf(t, home)}, "name": {"Acme & Sons <AS>"}}, false)
	require.Equal(t, http.StatusSeeOther, redirect.status)
	require.True(t, strings.HasPrefix(redirect.header.Get("Location"), flashPath), "location %q", redirect.header.Get("Location"))
	p := b.get(redirect.header.Get("Location"))
	contacts := h.em.Contacts(local.DemoContextID)
	require.NotEmpty(t, contacts, "no company created")
	c := contacts[len(contacts)-1]
	assert.Equal(t, "Acme & Sons <AS>", c.Name)
	for _, want := range []string{
		"Create company with login user: done",
		`id="created-id">` + strconv.Itoa(c.ContactID) + "<",
		"Acme &amp; Sons &lt;AS&gt;",
		`id="created-by">` + admin.FullName,
		`id="latest"`,
		"Bearer",
	} {
		assert.Contains(t, p.body, want)
	}
	// Created as the user, with the user's token.
	var bearer bool
	for _, r := range h.em.Requests(superidtest.EndpointTenantAPI) {
		if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			bearer = true
		}
	}
	assert.True(t, bearer, "no Bearer POST reached the tenant")
	// The result shows once.
	again := b.get(redirect.header.Get("Location"))
	assert.NotContains(t, again.body, `id="result"`, "the result shows again after a reload")
}

func TestCreateCompanyWithSystemUserReusesTicket(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	b := h.browser()
	home := b.signIn(admin.Username)
	csrf := csrfOf(t, home)

	p := b.post("/actions/system-user", url.Values{"csrf": {csrf}}, true)
	for _, want := range []string{
		"Create company with system user: done",
		"Signed the tenant&#39;s system user token",
		"audience spn:" + local.DemoSerial,
		`id="created-by">`,
		"(associate " + strconv.Itoa(superidtest.SystemUserAssociateID) + ")",
	} {
		assert.Contains(t, p.body, want)
	}
	contacts := h.em.Contacts(local.DemoContextID)
	require.NotEmpty(t, contacts, "no company created")
	require.Equal(t, superidtest.SystemUserAssociateID, contacts[len(contacts)-1].CreatedBy, "not created by the system user: %+v", contacts)

	// The second time the cached ticket serves: no new exchange.
	p = b.post("/actions/system-user", url.Values{"csrf": {csrf}, "name": {"Second"}}, true)
	assert.Contains(t, p.body, "Reused the cached system user ticket", "second call")
	assert.Contains(t, p.body, `id="created-name">Second<`, "second call")
	assert.Equal(t, 1, h.em.Exchanges(local.DemoContextID), "exchanges")

	// After a re-approval with a new token, a new ticket source serves it.
	h.em.RevokeApproval(local.DemoContextID, h.cfg.ClientID)
	h.em.ExpireTickets(local.DemoContextID)
	b.signIn(admin.Username) // approves again: a new token
	home = b.get("/")
	p = b.post("/actions/system-user", url.Values{"csrf": {csrfOf(t, home)}, "name": {"Third"}}, true)
	assert.Contains(t, p.body, `id="created-name">Third<`, "after re-approval")
	assert.Equal(t, 2, h.em.Exchanges(local.DemoContextID), "exchanges after re-approval")
}

// deactivate makes the tenant inactive as the console does when SuperID
// refuses its system user token.
func (h *harness) deactivate(contextID, reason string) {
	h.t.Helper()
	ctx := context.Background()
	claims, err := h.st.ClaimDue(ctx, "test-console", time.Now().Add(time.Hour), time.Minute, 100)
	require.NoError(h.t, err)
	done := false
	for _, c := range claims {
		r := store.Result{NextRun: time.Now().Add(time.Hour)}
		if strings.EqualFold(c.ContextIdentifier, contextID) {
			r, done = store.Result{Deactivate: true, Reason: reason}, true
		}
		require.NoError(h.t, h.st.Complete(ctx, c, r))
	}
	require.True(h.t, done, "tenant %s was not due", contextID)
}

// TestInactiveTenantIsNotApproved: once the console deactivated the
// tenant, its stored token is not used again, the cached ticket goes,
// and Home says why.
func TestInactiveTenantIsNotApproved(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	b := h.browser()
	csrf := csrfOf(t, b.signIn(admin.Username))
	p := b.post("/actions/system-user", url.Values{"csrf": {csrf}}, true)
	require.Contains(t, p.body, "Create company with system user: done", "before deactivation")
	const reason = "SuperID refused the system user token (revoked)"
	h.deactivate(local.DemoContextID, reason)

	home := b.get("/")
	approved := regexp.MustCompile(`id="tenant-approved">([^<]*)<`).FindStringSubmatch(home.body)
	if assert.NotNil(t, approved, "Home shows no approval") {
		assert.False(t, strings.HasPrefix(approved[1], "yes"), "Home shows the inactive tenant as %q", approved[1])
		assert.Contains(t, approved[1], "revoked")
	}
	assert.Regexp(t, `id="create-system-user"\s+disabled`, home.body, "the system user action is offered for an inactive tenant")

	contacts, exchanges := len(h.em.Contacts(local.DemoContextID)), h.em.Exchanges(local.DemoContextID)
	p = b.post("/actions/system-user", url.Values{"csrf": {csrf}}, true)
	assert.Contains(t, p.body, "Create company with system user: failed", "action on an inactive tenant")
	assert.Contains(t, p.body, "revoked", "action on an inactive tenant")
	assert.Len(t, h.em.Contacts(local.DemoContextID), contacts, "the inactive tenant's token was used")
	assert.Equal(t, exchanges, h.em.Exchanges(local.DemoContextID), "the inactive tenant's token was exchanged")
	err := h.app.systemUserAction(context.Background(), local.DemoContextID, "", &actionResult{})
	require.ErrorIs(t, err, errNotApproved)
	assert.Contains(t, err.Error(), reason)
	h.app.sysMu.Lock()
	cached := h.app.sys[strings.ToLower(local.DemoContextID)]
	h.app.sysMu.Unlock()
	assert.Nil(t, cached, "the inactive tenant's ticket source is still cached")
}

func TestSystemUserFailureIsShown(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	b := h.browser()
	home := b.signIn(admin.Username)
	h.em.Fail(superidtest.EndpointSystemUser, superidtest.Fault{Status: http.StatusBadRequest,
		Body: `{"IsSuccessful":false,"ErrorMessage":"<b>token revoked</b>"}`})
	p := b.post("/actions/system-user", url.Values{"csrf": {csrfOf(t, home)}}, true)
	assert.Contains(t, p.body, "Create company with system user: failed")
	assert.NotContains(t, p.body, "<b>token")
}

func TestSystemUserActionNeedsApproval(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	res := &actionResult{Action: "system user"}
	err := h.app.systemUserAction(context.Background(), "Cust424242", "", res)
	require.ErrorIs(t, err, errNotApproved)
	assert.Contains(t, h.app.describe(err), "administrator must sign in")
}

func TestLoginUserTokenIsRefreshed(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	b := h.browser()
	home := b.signIn(admin.Username)
	ctx := context.Background()
	sess, err := h.st.Session(ctx, b.sessionID())
	require.NoError(t, err)
	old := sess.Data.AccessToken
	// The app believes the access token expired: the next call refreshes.
	sess.Data.TokenExpiry = time.Now().Add(-time.Minute)
	require.NoError(t, h.st.UpdateSession(ctx, sess.ID, sess.Data, time.Hour))
	tokens := h.em.Count(superidtest.EndpointToken)
	p := b.post("/actions/login-user", url.Values{"csrf": {csrfOf(t, home)}}, true)
	require.Contains(t, p.body, "Create company with login user: done")
	assert.Equal(t, tokens+1, h.em.Count(superidtest.EndpointToken), "refresh requests")
	sess, err = h.st.Session(ctx, b.sessionID())
	require.NoError(t, err)
	assert.NotEqual(t, old, sess.Data.AccessToken, "the refreshed token was not kept")
	assert.True(t, sess.Data.TokenExpiry.After(time.Now()), "the refreshed token's expiry was not kept")
}

func TestCSRFRejected(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	b := h.browser()
	home := b.signIn(admin.Username)
	other := h.browser()
	otherCSRF := csrfOf(t, other.signIn(admin.Username))
	before := len(h.em.Contacts(local.DemoContextID))

	for _, path := range []string{"/actions/login-user", "/actions/system-user", "/logout"} {
		for name, form := range map[string]url.Values{
			"no token":              {},
			"wrong token":           {"csrf": {wrongToken(csrfOf(t, home))}},
			"another session's one": {"csrf": {otherCSRF}},
		} {
			p := b.post(path, form, false)
			assert.Equal(t, http.StatusForbidden, p.status, "%s %s", path, name)
			assert.Contains(t, p.body, "did not come from this app", "%s %s", path, name)
		}
	}
	// A visitor without a session has no token to send.
	assert.Equal(t, http.StatusForbidden, h.browser().post("/actions/login-user", url.Values{"csrf": {""}}, false).status, "visitor")
	// A cross-site POST with the right token is refused as well.
	req, err := http.NewRequest(http.MethodPost, h.appURL+"/actions/login-user",
		strings.NewReader(url.Values{"csrf": {csrfOf(t, home)}}.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	assert.Equal(t, http.StatusForbidden, b.do(req, false).status, "cross-site POST")
	assert.Len(t, h.em.Contacts(local.DemoContextID), before, "companies created by refused forms")
	p := b.get("/")
	assert.Equal(t, http.StatusOK, p.status)
	assert.Contains(t, p.body, `id="signout"`, "a refused sign-out signed out")
}

func TestSessionRotatedAtSignIn(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	b := h.browser()
	b.signIn(admin.Username)
	first := b.sessionID()
	require.GreaterOrEqual(t, len(first), 40, "session id %q", first)
	b.signIn(admin.Username)
	second := b.sessionID()
	require.NotEmpty(t, second)
	require.NotEqual(t, first, second, "the session id did not change at sign-in")
	_, err := h.st.Session(context.Background(), first)
	assert.ErrorIs(t, err, store.ErrNotFound, "old session still stored")
	// A browser holding the old id (a planted or stolen cookie) is signed out.
	stale := h.browser()
	u, err := url.Parse(h.appURL)
	require.NoError(t, err)
	stale.jar.SetCookies(u, []*http.Cookie{{Name: "session", Value: first, Path: "/"}})
	assert.Contains(t, stale.get("/").body, "Sign in with SuperOffice", "the old session id still works")

	// An id planted before sign-in does not survive it.
	planted := h.browser()
	planted.jar.SetCookies(u, []*http.Cookie{{Name: "session", Value: store.NewSessionID(), Path: "/"}})
	was := planted.sessionID()
	planted.signIn(user.Username)
	assert.NotEqual(t, was, planted.sessionID(), "a planted session id was kept")
}

func TestSessionCookieAttributes(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	b := h.browser()
	b.client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Path == "/" && strings.HasSuffix(via[len(via)-1].URL.Path, "/callback") {
			return http.ErrUseLastResponse
		}
		return nil
	}
	p := b.get("/login?login_hint=" + url.QueryEscape(admin.Username))
	require.Equal(t, http.StatusSeeOther, p.status, "callback status")
	var found bool
	for _, line := range p.header.Values("Set-Cookie") {
		if strings.HasPrefix(line, "session=") {
			found = true
			for _, attr := range []string{"HttpOnly", "SameSite=Lax", "Path=/"} {
				assert.Contains(t, line, attr, "session cookie")
			}
			assert.NotContains(t, line, "Secure", "Secure cookie over plain http: the browser would drop it")
		}
	}
	assert.True(t, found, "no session cookie set")
}

// TestCookiesOverHTTPS: with an https redirect URL, the login cookie (one
// per sign-in, named after its state) and the session cookie are Secure,
// __Host- (this host only, path /, no Domain), HttpOnly and SameSite=Lax,
// and a whole sign-in works with them.
func TestCookiesOverHTTPS(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true, tls: true})
	rec := &setCookieRecorder{next: h.transport}
	b := h.browser()
	b.client.Transport = rec
	p := b.signIn(admin.Username)
	require.Equal(t, http.StatusOK, p.status, p.body)
	require.Equal(t, h.appURL+"/", p.url, p.body)
	require.Contains(t, p.body, `id="tenant-ctx"`)
	set := map[string]string{} // name: the first Set-Cookie line setting a value
	for _, line := range rec.lines() {
		name, rest, _ := strings.Cut(line, "=")
		if _, seen := set[name]; !seen && !strings.HasPrefix(rest, ";") {
			set[name] = line
		}
	}
	login := ""
	for name := range set {
		if strings.HasPrefix(name, "__Host-superid_login-") {
			login = name
		}
	}
	for _, name := range []string{login, "__Host-session"} {
		line, ok := set[name]
		if !assert.True(t, ok, "no %q cookie set; cookies: %q", name, rec.lines()) {
			continue
		}
		for _, attr := range []string{"; Secure", "; HttpOnly", "; SameSite=Lax", "; Path=/"} {
			assert.Contains(t, line, attr, name)
		}
		assert.NotContains(t, strings.ToLower(line), "domain=", "%s names a domain", name)
	}
	for name := range set {
		assert.True(t, strings.HasPrefix(name, "__Host-"), "cookie %s over https is not __Host-", name)
	}
}

// setCookieRecorder keeps every Set-Cookie line the app sends.
type setCookieRecorder struct {
	mu   sync.Mutex
	all  []string
	next http.RoundTripper
}

func (c *setCookieRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err == nil {
		c.mu.Lock()
		c.all = append(c.all, resp.Header.Values("Set-Cookie")...)
		c.mu.Unlock()
	}
	return resp, err
}

func (c *setCookieRecorder) lines() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.all...)
}

func TestSignOut(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	b := h.browser()
	home := b.signIn(admin.Username)
	id := b.sessionID()
	p := b.post("/logout", url.Values{"csrf": {csrfOf(t, home)}}, true)
	require.Equal(t, http.StatusOK, p.status, p.body)
	require.Contains(t, p.body, "You are signed out")
	assert.Empty(t, b.sessionID(), "session cookie kept")
	_, err := h.st.Session(context.Background(), id)
	assert.ErrorIs(t, err, store.ErrNotFound, "session still stored")
	// The tenant's approval outlives the user's session.
	_, err = h.st.Tenant(context.Background(), local.DemoContextID)
	assert.NoError(t, err)
}

func TestTenantsPage(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	b := h.browser()
	// Visitors are sent to sign in.
	assert.Contains(t, b.get("/tenants").body, "Sign in with SuperOffice", "visitor")
	b.signIn(admin.Username)
	p := b.get("/tenants")
	require.Equal(t, http.StatusOK, p.status)
	require.Equal(t, "no-store", p.header.Get("Cache-Control"))
	for _, want := range []string{local.DemoContextID, local.DemoCompanyName, admin.Username, "active", "never", "none yet"} {
		assert.Contains(t, p.body, want, "tenants page")
	}
	tok, err := h.em.Approve(local.DemoContextID, h.cfg.ClientID)
	require.NoError(t, err)
	assert.NotContains(t, p.body, tok, "the tenants page shows the system user token")
}

func TestTenantsPageShowsUsersOnlyTheirTenant(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	require.NoError(t, h.st.UpsertTenant(context.Background(), store.Approval{ContextIdentifier: "Cust77777", SystemUserToken: "other-token", CompanyName: "Other Customer AS"}))
	b := h.browser()
	b.signIn(admin.Username)
	p := b.get("/tenants")
	assert.Contains(t, p.body, "Cust77777", "operators' view lacks a tenant")
	assert.Contains(t, p.body, local.DemoContextID, "operators' view lacks a tenant")
	h.app.all = false // SuperOffice Online: users see their own tenant only
	p = b.get("/tenants")
	assert.NotContains(t, p.body, "Cust77777", "a user saw another customer")
	assert.NotContains(t, p.body, "Other Customer", "a user saw another customer")
	assert.Contains(t, p.body, local.DemoContextID)
}

func TestTenantsPageEmpty(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	b := h.browser()
	b.signIn(admin.Username)
	// The approval is gone from the database (another instance's database,
	// or an operator cleaned up): the page says there is none.
	_, err := h.st.DB().ExecContext(context.Background(), `DELETE FROM tenants`)
	require.NoError(t, err)
	p := b.get("/tenants")
	assert.Equal(t, http.StatusOK, p.status)
	assert.Contains(t, p.body, `id="no-tenants"`)
	assert.NotContains(t, p.body, `id="tenants"`)
}

func TestNotFound(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	p := h.browser().get("/nothing-here")
	assert.Equal(t, http.StatusNotFound, p.status)
	assert.Contains(t, p.body, "There is no page here")
	css := h.browser().get("/static/style.css")
	assert.Equal(t, http.StatusOK, css.status, "stylesheet")
	assert.Contains(t, css.body, "font", "stylesheet")
}

func TestCompanyName(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	assert.Equal(t, "Created by system user 2025-01-02 03:04:05", companyName("  ", "system user", now), "default name")
	assert.Len(t, []rune(companyName(strings.Repeat("ø", 150), "x", now)), 100, "long name")
}

// TestActionHasOneDeadline: an action that SuperOffice does not answer
// ends at the action's deadline with a readable failure, for both paths.
// The tenant's delay is a minute: the page saying the deadline passed is
// the deadline at work.
func TestActionHasOneDeadline(t *testing.T) {
	const timeout = 500 * time.Millisecond
	h := newHarness(t, harnessOptions{headless: true, actionTimeout: timeout})
	b := h.browser()
	csrf := csrfOf(t, b.signIn(admin.Username))
	h.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Delay: time.Minute})
	for _, path := range []string{"/actions/login-user", "/actions/system-user"} {
		p := b.post(path, url.Values{"csrf": {csrf}}, true)
		assert.Contains(t, p.body, ": failed", path)
		assert.Contains(t, p.body, "did not answer within "+timeout.String(), path)
	}
}

// TestOtherHostNameIsRedirected: the app reached as localhost when the
// redirect URL says 127.0.0.1 (or the reverse) would lose the login cookie
// on the way back; pages move to the canonical host, forms are refused.
func TestOtherHostNameIsRedirected(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	u, err := url.Parse(h.appURL)
	require.NoError(t, err)
	other := "localhost:" + u.Port()
	b := h.browser()
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		req, err := http.NewRequest(method, h.appURL+"/tenants?x=1", nil)
		require.NoError(t, err)
		req.Host = other
		p := b.do(req, false)
		assert.Equal(t, http.StatusTemporaryRedirect, p.status, method)
		assert.Equal(t, h.appURL+"/tenants?x=1", p.header.Get("Location"), method)
	}
	req, err := http.NewRequest(http.MethodPost, h.appURL+"/logout", strings.NewReader("csrf=x"))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Host = other
	p := b.do(req, false)
	assert.Equal(t, http.StatusBadRequest, p.status, "POST")
	assert.Contains(t, p.body, "served at "+h.appURL+"/", "POST")
	assert.Equal(t, http.StatusOK, b.get("/").status, "canonical host")
}

// TestCanonicalHostDefaultPort: a browser leaves the scheme's default
// port out of Host, so -addr :80 must not redirect localhost to
// localhost:80, which the browser again sends as localhost.
func TestCanonicalHostDefaultPort(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	for _, tc := range []struct {
		redirect, host string
		same           bool
	}{
		{"http://localhost:80/callback", "localhost", true},
		{"http://localhost:80/callback", "localhost:80", true},
		{"http://localhost:80/callback", "LocalHost", true},
		{"http://localhost/callback", "localhost:80", true},
		{"http://[::1]:80/callback", "[::1]", true},
		{"https://localhost:443/callback", "localhost", true},
		{"http://localhost:80/callback", "127.0.0.1", false},
		{"http://localhost:80/callback", "localhost:8080", false},
		{"http://localhost:443/callback", "localhost", false},
		{"https://localhost:80/callback", "localhost", false},
		{"http://localhost:8080/callback", "localhost", false},
	} {
		s := &Server{cfg: &config.Config{Local: true, RedirectURL: tc.redirect}, log: slog.New(slog.DiscardHandler)}
		req := httptest.NewRequest(http.MethodGet, "/tenants", nil)
		req.Host = tc.host
		rec := httptest.NewRecorder()
		s.canonicalHost(ok).ServeHTTP(rec, req)
		assert.Equal(t, tc.same, rec.Code == http.StatusNoContent,
			"redirect URL %s, Host %q: status %d location %q", tc.redirect, tc.host, rec.Code, rec.Header().Get("Location"))
	}
}

// TestSignOutWithoutSession: a sign-out whose session expired or was
// removed clears the cookie and goes home; it is not a "form expired".
func TestSignOutWithoutSession(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	b := h.browser()
	csrf := csrfOf(t, b.signIn(admin.Username))
	require.NoError(t, h.st.DeleteSession(context.Background(), b.sessionID()))
	p := b.post("/logout", url.Values{"csrf": {csrf}}, false)
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	require.Equal(t, "/?signed_out=1", p.header.Get("Location"))
	assert.Empty(t, b.sessionID(), "the stale session cookie was kept")
	// A cookie the store never issued, and no token at all.
	stranger := h.browser()
	u, err := url.Parse(h.appURL)
	require.NoError(t, err)
	stranger.jar.SetCookies(u, []*http.Cookie{{Name: "session", Value: store.NewSessionID(), Path: "/"}})
	p = stranger.post("/logout", nil, true)
	assert.Equal(t, http.StatusOK, p.status, p.body)
	assert.Contains(t, p.body, "You are signed out")
}

// NewServer refuses a redirect URL without a path of its own, as
// config.Load does: the callback would be the home page, which ignores
// SuperID's answer, and no sign-in would finish.
func TestNewServerRefusesRedirectURLWithoutPath(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	for _, redirect := range []string{"http://localhost:8080", "http://localhost:8080/"} {
		cfg := *h.cfg
		cfg.RedirectURL = redirect
		_, err := NewServer(Options{Config: &cfg, Store: h.st})
		assert.Error(t, err, "NewServer accepted the redirect URL %q", redirect)
	}
}

// TestNewServerRedirectPaths: the callback is served at the redirect URL's
// path whatever its spelling, and a path the app cannot serve the callback
// at (unclean, or one of its own pages) is an error, never a panic.
func TestNewServerRedirectPaths(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	newServer := func(redirect string) (s *Server, err error) {
		assert.NotPanics(t, func() {
			cfg := *h.cfg
			cfg.RedirectURL = redirect
			s, err = NewServer(Options{Config: &cfg, Store: h.st})
		}, "NewServer for the redirect URL %q", redirect)
		if s == nil && err == nil {
			err = errors.New("panic")
		}
		return s, err
	}
	for _, path := range []string{"/sign%20in", "/cb%7Bx%7D", "/cb{x}", "/auth/callback/"} {
		s, err := newServer("http://localhost:8080" + path)
		if !assert.NoError(t, err, "redirect path %q", path) {
			continue
		}
		// No login cookie: the callback's own refusal, not the 404 page.
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "http://localhost:8080"+path+"?code=c&state=s", nil))
		assert.Equal(t, http.StatusBadRequest, w.Code, "redirect path %q: the callback is not served there", path)
		assert.Contains(t, w.Body.String(), "Sign-in failed", "redirect path %q", path)
	}
	for _, path := range []string{"/a/../callback", "/a//callback", "/login", "/tenants", "/static/callback", "/favicon.ico"} {
		_, err := newServer("http://localhost:8080" + path)
		assert.Error(t, err, "NewServer accepted the redirect path %q, where the callback cannot be served", path)
	}
}

// TestLoginCookieKeyIsNotTheSealKey: the login cookie is sealed with a key
// derived from the seal key, the same on every instance, never the seal
// key itself.
func TestLoginCookieKeyIsNotTheSealKey(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	key := h.app.cookieKey
	require.Len(t, key, 32)
	require.False(t, bytes.Equal(key, h.cfg.SealKey), "login cookie key is the seal key")
	// Another instance with the same configuration derives the same key,
	// so a sign-in may finish there; another seal key, another key.
	again, err := NewServer(Options{Config: h.cfg, Store: h.st})
	require.NoError(t, err)
	assert.Equal(t, key, again.cookieKey, "two instances disagree on the login cookie key")
	cfg := *h.cfg
	cfg.SealKey = store.GenerateSealKey()
	other, err := NewServer(Options{Config: &cfg, Store: h.st})
	require.NoError(t, err)
	assert.NotEqual(t, key, other.cookieKey, "another seal key gave the same login cookie key")
	// The sign-in works with it.
	assert.Contains(t, h.browser().signIn(admin.Username).body, `id="tenant-ctx"`, "sign-in failed")
}

// TestActionsLeaveTheSessionAlone: an action's outcome is no part of the
// session, so actions that refresh no token write no session, and the
// outcome shows once, only to the session that made it.
func TestActionsLeaveTheSessionAlone(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	ctx := context.Background()
	b := h.browser()
	csrf := csrfOf(t, b.signIn(admin.Username))
	before, err := h.st.Session(ctx, b.sessionID())
	require.NoError(t, err)
	for _, path := range []string{"/actions/login-user", "/actions/system-user"} {
		redirect := b.post(path, url.Values{"csrf": {csrf}}, false)
		last := b.get(redirect.header.Get("Location"))
		require.Contains(t, last.body, ": done", path)
		// Another browser with the same link sees nothing.
		assert.NotContains(t, h.browser().get(redirect.header.Get("Location")).body, `id="result"`, "%s: another browser saw the outcome", path)
	}
	after, err := h.st.Session(ctx, b.sessionID())
	require.NoError(t, err)
	assert.True(t, after.UpdatedAt.Equal(before.UpdatedAt), "the session was rewritten: updated %v -> %v", before.UpdatedAt, after.UpdatedAt)
	assert.True(t, after.ExpiresAt.Equal(before.ExpiresAt), "the session's expiry moved: %v -> %v", before.ExpiresAt, after.ExpiresAt)
	assert.Len(t, after.Data.Values, len(before.Data.Values), "session values")
}

// waitFor waits for a signal, or fails the test after a generous while.
func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		require.FailNow(t, what)
	}
}

// TestRefreshDoesNotPutBackOlderTokens: two tabs refresh the same
// session. The one that stores last must not overwrite the tokens the
// other stored with the older ones it started from.
func TestRefreshDoesNotPutBackOlderTokens(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	ctx := context.Background()
	b := h.browser()
	csrf := csrfOf(t, b.signIn(admin.Username))
	sess, err := h.st.Session(ctx, b.sessionID())
	require.NoError(t, err)
	sess.Data.TokenExpiry = time.Now().Add(-time.Minute) // this tab refreshes
	require.NoError(t, h.st.UpdateSession(ctx, sess.ID, sess.Data, 0))
	// The tab's call to the tenant, after its refresh, is slow.
	sent := h.watchTenantCalls()
	h.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Delay: 300 * time.Millisecond, Times: 1})
	done := make(chan page, 1)
	go func() { done <- b.post("/actions/login-user", url.Values{"csrf": {csrf}}, true) }()
	waitFor(t, sent, "the action never reached the tenant")
	// Meanwhile the other tab refreshed and stored its tokens.
	other := sess.Data
	other.AccessToken, other.RefreshToken, other.TokenExpiry = "other-tab-access-token", "other-tab-refresh-token", time.Now().Add(time.Hour)
	require.NoError(t, h.st.UpdateSession(ctx, sess.ID, other, 0))
	p := <-done
	require.Contains(t, p.body, "login user: done", "action")
	got, err := h.st.Session(ctx, sess.ID)
	require.NoError(t, err)
	assert.Equal(t, other.AccessToken, got.Data.AccessToken, "the slower tab overwrote the tokens the other tab stored")
	assert.Equal(t, other.RefreshToken, got.Data.RefreshToken, "the slower tab overwrote the tokens the other tab stored")
}

// TestRestartedEmulatorEndsTheSession: after a local-mode restart the
// emulator has forgotten every sign-in, so a stored session's tokens are
// refused. The session ends and the user is asked to sign in again; the
// stored approval still serves the system user.
func TestRestartedEmulatorEndsTheSession(t *testing.T) {
	for name, expire := range map[string]bool{
		"access token refused": false,
		"refresh refused":      true,
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, harnessOptions{headless: true})
			ctx := context.Background()
			b := h.browser()
			csrf := csrfOf(t, b.signIn(admin.Username))
			id := b.sessionID()
			if expire {
				sess, err := h.st.Session(ctx, id)
				require.NoError(t, err)
				sess.Data.TokenExpiry = time.Now().Add(-time.Minute)
				require.NoError(t, h.st.UpdateSession(ctx, id, sess.Data, 0))
			}
			h.restartEmulator()
			before := h.em.Count(superidtest.EndpointToken)

			redirect := b.post("/actions/login-user", url.Values{"csrf": {csrf}}, false)
			require.Equal(t, http.StatusSeeOther, redirect.status, redirect.body)
			require.Equal(t, "/?signin_expired=1", redirect.header.Get("Location"))
			assert.Equal(t, expire, h.em.Count(superidtest.EndpointToken) > before, "refresh tried")
			_, err := h.st.Session(ctx, id)
			assert.ErrorIs(t, err, store.ErrNotFound, "the session is still stored")
			assert.Empty(t, b.sessionID(), "the session cookie was kept")
			p := b.get(redirect.header.Get("Location"))
			assert.Contains(t, p.body, `id="signin-expired"`, "sign-in page")
			assert.Contains(t, p.body, "emulator restarted", "sign-in page")

			// Signing in again brings everything back.
			csrf = csrfOf(t, b.signIn(admin.Username))
			for _, path := range []string{"/actions/login-user", "/actions/system-user"} {
				assert.Contains(t, b.post(path, url.Values{"csrf": {csrf}}, true).body, ": done", "%s after signing in again", path)
			}
		})
	}
}

// TestRefusedTokensOfAnOlderRequestKeepTheSession: a refusal of tokens
// that another tab has replaced meanwhile does not end the session.
func TestRefusedTokensOfAnOlderRequestKeepTheSession(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	ctx := context.Background()
	b := h.browser()
	csrf := csrfOf(t, b.signIn(admin.Username))
	sess, err := h.st.Session(ctx, b.sessionID())
	require.NoError(t, err)
	// The tenant refuses this request's token, slowly; meanwhile another
	// tab stores new tokens.
	sent := h.watchTenantCalls()
	h.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Status: http.StatusUnauthorized, Delay: 300 * time.Millisecond, Times: 1})
	done := make(chan page, 1)
	go func() { done <- b.post("/actions/login-user", url.Values{"csrf": {csrf}}, true) }()
	waitFor(t, sent, "the action never reached the tenant")
	newer := sess.Data
	newer.AccessToken = "newer-access-token-from-another-tab"
	require.NoError(t, h.st.UpdateSession(ctx, sess.ID, newer, 0))
	p := <-done
	assert.Contains(t, p.body, "renewed in another tab")
	_, err = h.st.Session(ctx, sess.ID)
	assert.NoError(t, err, "the session ended")
}

// TestApprovalNotStoredShowsErrorAndStoresNothing: when the approval
// cannot be stored, the administrator sees an error page, gets no session
// and the store holds neither half; a later sign-in stores it.
func TestApprovalNotStoredShowsErrorAndStoresNothing(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	ctx := context.Background()
	db := h.st.DB()
	_, err := db.ExecContext(ctx, `CREATE TRIGGER refuse_tenants BEFORE INSERT ON tenants
		BEGIN SELECT RAISE(ABORT, 'tenants refused by the test'); END`)
	require.NoError(t, err)
	b := h.browser()
	p := b.signIn(admin.Username)
	require.Equal(t, http.StatusInternalServerError, p.status, p.body)
	require.Contains(t, p.body, "could not store the approval")
	assert.NotContains(t, p.body, "refused by the test", "the page shows the store's error")
	assert.NotContains(t, p.body, `id="signout"`, "the page shows a session")
	assert.Empty(t, b.sessionID(), "a session cookie was set")
	var sessions, tenants int
	require.NoError(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions`).Scan(&sessions))
	require.NoError(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM tenants`).Scan(&tenants))
	assert.Zero(t, sessions, "sessions stored")
	assert.Zero(t, tenants, "tenants stored")

	_, err = db.ExecContext(ctx, `DROP TRIGGER refuse_tenants`)
	require.NoError(t, err)
	assert.Contains(t, b.signIn(admin.Username).body, "by "+admin.Username, "signing in again did not store the approval")
}

// wrongToken returns tok with its first character changed, so it is never
// the right token (a fixed replacement would be right when tok starts with it).
func wrongToken(tok string) string {
	if tok == "" {
		return "x"
	}
	c := byte('x')
	if tok[0] == 'x' {
		c = 'y'
	}
	return string(c) + tok[1:]
}
