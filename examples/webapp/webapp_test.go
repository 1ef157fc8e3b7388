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

	"github.com/go-superoffice/superoffice/examples/internal/config"
	"github.com/go-superoffice/superoffice/examples/internal/local"
	"github.com/go-superoffice/superoffice/examples/internal/store"
	"github.com/go-superoffice/superoffice/superid/superidtest"
)

func TestHomeSignedOutOffersSignIn(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	p := h.browser().get("/")
	if p.status != http.StatusOK {
		t.Fatalf("status %d", p.status)
	}
	for _, want := range []string{`href="/login"`, "Sign in with SuperOffice", admin.Username, admin.Password, user.Username, local.DemoContextID} {
		if !strings.Contains(p.body, want) {
			t.Errorf("sign-in page lacks %q", want)
		}
	}
	if strings.Contains(p.body, `name="csrf"`) {
		t.Error("a visitor got a form with a CSRF token")
	}
	if got := p.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control %q", got)
	}
	for _, hdr := range []string{"Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options"} {
		if p.header.Get(hdr) == "" {
			t.Errorf("no %s header", hdr)
		}
	}
}

func TestAdministratorSignInStoresTenant(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	b := h.browser()
	p := b.signIn(admin.Username)
	if p.status != http.StatusOK || p.url != h.appURL+"/" {
		t.Fatalf("landed on %s with %d:\n%s", p.url, p.status, p.body)
	}
	for _, want := range []string{
		admin.FullName, admin.Username, "administrator",
		local.DemoContextID, local.DemoCompanyName, "Running",
		"yes, ", "by " + admin.Username,
		"Create company with login user", "Create company with system user",
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("home page lacks %q", want)
		}
	}
	if strings.Contains(p.body, `id="create-system-user" disabled`) {
		t.Error("system user action disabled after approval")
	}
	if got := p.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control %q on an authenticated page", got)
	}

	tok, err := h.em.Approve(local.DemoContextID, h.cfg.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := h.st.Tenant(context.Background(), local.DemoContextID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.SystemUserToken != tok || stored.ApprovedBy != admin.Username || stored.Serial != local.DemoSerial ||
		stored.CompanyName != local.DemoCompanyName || !strings.HasSuffix(stored.WebAPIURL, "/"+local.DemoContextID+"/api/") {
		t.Errorf("stored %v approved by %q serial %q company %q api %q", stored, stored.ApprovedBy, stored.Serial, stored.CompanyName, stored.WebAPIURL)
	}
	if strings.Contains(p.body, tok) {
		t.Error("the home page shows the system user token")
	}

	// Signing in again brings the same token: not a new approval.
	b.signIn(admin.Username)
	if again, _ := h.st.Tenant(context.Background(), local.DemoContextID); again.Approvals != 1 {
		t.Errorf("approvals = %d after a second sign-in, want 1", again.Approvals)
	}
}

func TestOrdinaryUserBeforeApprovalIsRefused(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	p := h.browser().signIn(user.Username)
	if p.status != http.StatusForbidden {
		t.Fatalf("status %d:\n%s", p.status, p.body)
	}
	if !strings.Contains(p.body, "Access was denied") || !strings.Contains(p.body, "access_denied") {
		t.Errorf("error page:\n%s", p.body)
	}
	if list, _ := h.st.ListTenants(context.Background()); len(list) != 0 {
		t.Errorf("tenants stored: %v", list)
	}
}

func TestOrdinaryUserAfterApproval(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	h.browser().signIn(admin.Username)
	p := h.browser().signIn(user.Username)
	if p.status != http.StatusOK || !strings.Contains(p.body, user.FullName) || !strings.Contains(p.body, `id="user-role">user<`) {
		t.Fatalf("status %d:\n%s", p.status, p.body)
	}
	if !strings.Contains(p.body, "by "+admin.Username) {
		t.Error("the approval is no longer the administrator's")
	}
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
	if err != nil {
		t.Fatal(err)
	}

	p := h.browser().signIn(user.Username)
	if p.status != http.StatusOK || !strings.Contains(p.body, `id="user-role">user<`) {
		t.Fatalf("status %d:\n%s", p.status, p.body)
	}
	after, err := h.st.Tenant(ctx, local.DemoContextID)
	if err != nil {
		t.Fatal(err)
	}
	if after.Status != store.StatusInactive || after.ApprovedBy != admin.Username ||
		after.Approvals != before.Approvals || !after.ApprovedAt.Equal(before.ApprovedAt) {
		t.Errorf("after an ordinary user's sign-in: status %s, approved by %q at %v, %d approvals; want inactive, by %q at %v, %d",
			after.Status, after.ApprovedBy, after.ApprovedAt, after.Approvals, admin.Username, before.ApprovedAt, before.Approvals)
	}

	h.browser().signIn(admin.Username)
	if again, err := h.st.Tenant(ctx, local.DemoContextID); err != nil || again.Status != store.StatusActive || again.Approvals != before.Approvals+1 {
		t.Errorf("an administrator's sign-in did not approve again: %+v, %v", again, err)
	}
}

// TestApprovedElsewhereStoredAtAnyoneSignIn: a tenant that approved the app
// elsewhere (the App Store, say) is stored at its first sign-in, even an
// ordinary user's, without naming that user as the approver.
func TestApprovedElsewhereStoredAtAnyoneSignIn(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	if _, err := h.em.Approve(local.DemoContextID, h.cfg.ClientID); err != nil {
		t.Fatal(err)
	}
	h.browser().signIn(user.Username)
	tn, err := h.st.Tenant(context.Background(), local.DemoContextID)
	if err != nil || tn.Status != store.StatusActive || tn.ApprovedBy != "" || tn.SystemUserToken == "" {
		t.Fatalf("after an ordinary user's sign-in: %+v, %v; want the tenant stored, approver unnamed", tn, err)
	}
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
	if err != nil || before.ApprovedBy != admin.Username {
		t.Fatalf("administrator's approval: %+v, %v", before, err)
	}
	h.em.RevokeApproval(local.DemoContextID, h.cfg.ClientID)
	if _, err := h.em.Approve(local.DemoContextID, h.cfg.ClientID); err != nil {
		t.Fatal(err)
	}
	h.browser().signIn(user.Username)
	after, err := h.st.Tenant(ctx, local.DemoContextID)
	if err != nil {
		t.Fatal(err)
	}
	if after.SystemUserToken == before.SystemUserToken || after.Approvals != before.Approvals+1 {
		t.Fatalf("the new token was not stored: %d approvals, token changed %v", after.Approvals, after.SystemUserToken != before.SystemUserToken)
	}
	if after.ApprovedBy != "" {
		t.Errorf("the approval of %v is said to be %q's, who approved at %v", after.ApprovedAt, after.ApprovedBy, before.ApprovedAt)
	}
}

// callbackError starts a sign-in and comes back with SuperID's error
// response for its state, as SuperID would redirect.
func (b *browser) callbackError(code, description string) page {
	b.h.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.h.appURL+"/login", nil)
	start := b.do(req, false)
	loc, err := url.Parse(start.header.Get("Location"))
	if err != nil || loc.Query().Get("state") == "" {
		b.h.t.Fatalf("no sign-in started: %d %q", start.status, start.header.Get("Location"))
	}
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
		if p.status != want.status || !strings.Contains(p.body, want.text) {
			t.Errorf("%s: status %d:\n%s", code, p.status, p.body)
		}
		for _, part := range []string{"Xyzzy", "script", "555", "forged"} {
			if strings.Contains(p.body, part) {
				t.Errorf("%s: the page shows the description (%q)", code, part)
			}
		}
		known := !strings.Contains(code, "made_up")
		if shown := strings.Contains(p.body, `id="error-detail">`+code+"<"); shown != known {
			t.Errorf("%s: code shown %v, want %v", code, shown, known)
		}
		if strings.Contains(p.body, "made_up") {
			t.Errorf("an unknown code is on the page")
		}
	}
	log := h.log.String()
	if !strings.Contains(log, `level=INFO msg="SuperID refused the sign-in"`) || !strings.Contains(log, `Xyzzy: call +47 555`) {
		t.Errorf("the description is not logged at info:\n%s", log)
	}
	if strings.Contains(log, "\nlevel=ERROR msg=forged") {
		t.Error("the description forged a log line")
	}
}

func TestCallbackWithoutSignInInProgress(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	p := h.browser().get("/callback?code=abc&state=def")
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "Please start again") {
		t.Errorf("status %d:\n%s", p.status, p.body)
	}
}

func TestCreateCompanyWithLoginUser(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	b := h.browser()
	home := b.signIn(admin.Username)

	redirect := b.post("/actions/login-user", url.Values{"csrf": {csrfOf(t, home)}, "name": {"Acme & Sons <AS>"}}, false)
	if redirect.status != http.StatusSeeOther || !strings.HasPrefix(redirect.header.Get("Location"), flashPath) {
		t.Fatalf("status %d location %q", redirect.status, redirect.header.Get("Location"))
	}
	p := b.get(redirect.header.Get("Location"))
	contacts := h.em.Contacts(local.DemoContextID)
	if len(contacts) == 0 {
		t.Fatal("no company created")
	}
	c := contacts[len(contacts)-1]
	if c.Name != "Acme & Sons <AS>" {
		t.Errorf("created %q", c.Name)
	}
	for _, want := range []string{
		"Create company with login user: done",
		`id="created-id">` + strconv.Itoa(c.ContactID) + "<",
		"Acme &amp; Sons &lt;AS&gt;",
		`id="created-by">` + admin.FullName,
		`id="latest"`,
		"Bearer",
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Created as the user, with the user's token.
	var bearer bool
	for _, r := range h.em.Requests(superidtest.EndpointTenantAPI) {
		if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			bearer = true
		}
	}
	if !bearer {
		t.Error("no Bearer POST reached the tenant")
	}
	// The result shows once.
	if again := b.get(redirect.header.Get("Location")); strings.Contains(again.body, `id="result"`) {
		t.Error("the result shows again after a reload")
	}
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
		if !strings.Contains(p.body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	contacts := h.em.Contacts(local.DemoContextID)
	if len(contacts) == 0 || contacts[len(contacts)-1].CreatedBy != superidtest.SystemUserAssociateID {
		t.Fatalf("not created by the system user: %+v", contacts)
	}

	// The second time the cached ticket serves: no new exchange.
	p = b.post("/actions/system-user", url.Values{"csrf": {csrf}, "name": {"Second"}}, true)
	if !strings.Contains(p.body, "Reused the cached system user ticket") || !strings.Contains(p.body, `id="created-name">Second<`) {
		t.Errorf("second call:\n%s", p.body)
	}
	if n := h.em.Exchanges(local.DemoContextID); n != 1 {
		t.Errorf("%d exchanges, want 1", n)
	}

	// After a re-approval with a new token, a new ticket source serves it.
	h.em.RevokeApproval(local.DemoContextID, h.cfg.ClientID)
	h.em.ExpireTickets(local.DemoContextID)
	b.signIn(admin.Username) // approves again: a new token
	home = b.get("/")
	if p := b.post("/actions/system-user", url.Values{"csrf": {csrfOf(t, home)}, "name": {"Third"}}, true); !strings.Contains(p.body, `id="created-name">Third<`) {
		t.Errorf("after re-approval:\n%s", p.body)
	}
	if n := h.em.Exchanges(local.DemoContextID); n != 2 {
		t.Errorf("%d exchanges after re-approval, want 2", n)
	}
}

// deactivate makes the tenant inactive as the console does when SuperID
// refuses its system user token.
func (h *harness) deactivate(contextID, reason string) {
	h.t.Helper()
	ctx := context.Background()
	claims, err := h.st.ClaimDue(ctx, "test-console", time.Now().Add(time.Hour), time.Minute, 100)
	if err != nil {
		h.t.Fatal(err)
	}
	done := false
	for _, c := range claims {
		r := store.Result{NextRun: time.Now().Add(time.Hour)}
		if strings.EqualFold(c.ContextIdentifier, contextID) {
			r, done = store.Result{Deactivate: true, Reason: reason}, true
		}
		if err := h.st.Complete(ctx, c, r); err != nil {
			h.t.Fatal(err)
		}
	}
	if !done {
		h.t.Fatalf("tenant %s was not due", contextID)
	}
}

// TestInactiveTenantIsNotApproved: once the console deactivated the
// tenant, its stored token is not used again, the cached ticket goes,
// and Home says why.
func TestInactiveTenantIsNotApproved(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	b := h.browser()
	csrf := csrfOf(t, b.signIn(admin.Username))
	if p := b.post("/actions/system-user", url.Values{"csrf": {csrf}}, true); !strings.Contains(p.body, "Create company with system user: done") {
		t.Fatalf("before deactivation:\n%s", p.body)
	}
	const reason = "SuperID refused the system user token (revoked)"
	h.deactivate(local.DemoContextID, reason)

	home := b.get("/")
	approved := regexp.MustCompile(`id="tenant-approved">([^<]*)<`).FindStringSubmatch(home.body)
	if approved == nil || strings.HasPrefix(approved[1], "yes") || !strings.Contains(approved[1], "revoked") {
		t.Errorf("Home shows the inactive tenant as %q", approved)
	}
	if !regexp.MustCompile(`id="create-system-user"\s+disabled`).MatchString(home.body) {
		t.Error("the system user action is offered for an inactive tenant")
	}

	contacts, exchanges := len(h.em.Contacts(local.DemoContextID)), h.em.Exchanges(local.DemoContextID)
	p := b.post("/actions/system-user", url.Values{"csrf": {csrf}}, true)
	if !strings.Contains(p.body, "Create company with system user: failed") || !strings.Contains(p.body, "revoked") {
		t.Errorf("action on an inactive tenant:\n%s", p.body)
	}
	if len(h.em.Contacts(local.DemoContextID)) != contacts || h.em.Exchanges(local.DemoContextID) != exchanges {
		t.Error("the inactive tenant's token or ticket was used")
	}
	err := h.app.systemUserAction(context.Background(), local.DemoContextID, "", &actionResult{})
	if !errors.Is(err, errNotApproved) || !strings.Contains(err.Error(), reason) {
		t.Errorf("err = %v", err)
	}
	h.app.sysMu.Lock()
	cached := h.app.sys[strings.ToLower(local.DemoContextID)]
	h.app.sysMu.Unlock()
	if cached != nil {
		t.Error("the inactive tenant's ticket source is still cached")
	}
}

func TestSystemUserFailureIsShown(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	b := h.browser()
	home := b.signIn(admin.Username)
	h.em.Fail(superidtest.EndpointSystemUser, superidtest.Fault{Status: http.StatusBadRequest,
		Body: `{"IsSuccessful":false,"ErrorMessage":"<b>token revoked</b>"}`})
	p := b.post("/actions/system-user", url.Values{"csrf": {csrfOf(t, home)}}, true)
	if !strings.Contains(p.body, "Create company with system user: failed") || strings.Contains(p.body, "<b>token") {
		t.Errorf("page:\n%s", p.body)
	}
}

func TestSystemUserActionNeedsApproval(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	res := &actionResult{Action: "system user"}
	err := h.app.systemUserAction(context.Background(), "Cust424242", "", res)
	if !errors.Is(err, errNotApproved) {
		t.Fatalf("err = %v", err)
	}
	if msg := h.app.describe(err); !strings.Contains(msg, "administrator must sign in") {
		t.Errorf("message %q", msg)
	}
}

func TestLoginUserTokenIsRefreshed(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	b := h.browser()
	home := b.signIn(admin.Username)
	ctx := context.Background()
	sess, err := h.st.Session(ctx, b.sessionID())
	if err != nil {
		t.Fatal(err)
	}
	old := sess.Data.AccessToken
	// The app believes the access token expired: the next call refreshes.
	sess.Data.TokenExpiry = time.Now().Add(-time.Minute)
	if err := h.st.UpdateSession(ctx, sess.ID, sess.Data, time.Hour); err != nil {
		t.Fatal(err)
	}
	tokens := h.em.Count(superidtest.EndpointToken)
	if p := b.post("/actions/login-user", url.Values{"csrf": {csrfOf(t, home)}}, true); !strings.Contains(p.body, "Create company with login user: done") {
		t.Fatalf("page:\n%s", p.body)
	}
	if h.em.Count(superidtest.EndpointToken) != tokens+1 {
		t.Error("no refresh request")
	}
	sess, err = h.st.Session(ctx, b.sessionID())
	if err != nil {
		t.Fatal(err)
	}
	if sess.Data.AccessToken == old || !sess.Data.TokenExpiry.After(time.Now()) {
		t.Error("the refreshed token was not kept")
	}
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
			if p.status != http.StatusForbidden || !strings.Contains(p.body, "did not come from this app") {
				t.Errorf("%s %s: status %d", path, name, p.status)
			}
		}
	}
	// A visitor without a session has no token to send.
	if p := h.browser().post("/actions/login-user", url.Values{"csrf": {""}}, false); p.status != http.StatusForbidden {
		t.Errorf("visitor: status %d", p.status)
	}
	// A cross-site POST with the right token is refused as well.
	req, _ := http.NewRequest(http.MethodPost, h.appURL+"/actions/login-user",
		strings.NewReader(url.Values{"csrf": {csrfOf(t, home)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if p := b.do(req, false); p.status != http.StatusForbidden {
		t.Errorf("cross-site POST: status %d", p.status)
	}
	if after := len(h.em.Contacts(local.DemoContextID)); after != before {
		t.Errorf("%d companies created by refused forms", after-before)
	}
	if b.get("/").status != http.StatusOK || !strings.Contains(b.get("/").body, `id="signout"`) {
		t.Error("a refused sign-out signed out")
	}
}

func TestSessionRotatedAtSignIn(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	b := h.browser()
	b.signIn(admin.Username)
	first := b.sessionID()
	if len(first) < 40 {
		t.Fatalf("session id %q", first)
	}
	b.signIn(admin.Username)
	second := b.sessionID()
	if second == "" || second == first {
		t.Fatal("the session id did not change at sign-in")
	}
	if _, err := h.st.Session(context.Background(), first); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("old session still stored: %v", err)
	}
	// A browser holding the old id (a planted or stolen cookie) is signed out.
	stale := h.browser()
	u, _ := url.Parse(h.appURL)
	stale.jar.SetCookies(u, []*http.Cookie{{Name: "session", Value: first, Path: "/"}})
	if p := stale.get("/"); !strings.Contains(p.body, "Sign in with SuperOffice") {
		t.Error("the old session id still works")
	}

	// An id planted before sign-in does not survive it.
	planted := h.browser()
	planted.jar.SetCookies(u, []*http.Cookie{{Name: "session", Value: store.NewSessionID(), Path: "/"}})
	was := planted.sessionID()
	planted.signIn(user.Username)
	if planted.sessionID() == was {
		t.Error("a planted session id was kept")
	}
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
	if p.status != http.StatusSeeOther {
		t.Fatalf("callback status %d", p.status)
	}
	var found bool
	for _, line := range p.header.Values("Set-Cookie") {
		if strings.HasPrefix(line, "session=") {
			found = true
			for _, attr := range []string{"HttpOnly", "SameSite=Lax", "Path=/"} {
				if !strings.Contains(line, attr) {
					t.Errorf("session cookie lacks %s: %s", attr, line)
				}
			}
			if strings.Contains(line, "Secure") {
				t.Error("Secure cookie over plain http: the browser would drop it")
			}
		}
	}
	if !found {
		t.Error("no session cookie set")
	}

}

// TestCookiesOverHTTPS: with an https redirect URL, the login cookie and
// the session cookie are Secure, __Host- (this host only, path /, no
// Domain), HttpOnly and SameSite=Lax, and a whole sign-in works with them.
func TestCookiesOverHTTPS(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true, tls: true})
	rec := &setCookieRecorder{next: h.transport}
	b := h.browser()
	b.client.Transport = rec
	p := b.signIn(admin.Username)
	if p.status != http.StatusOK || p.url != h.appURL+"/" || !strings.Contains(p.body, `id="tenant-ctx"`) {
		t.Fatalf("landed on %s with %d:\n%s", p.url, p.status, p.body)
	}
	set := map[string]string{} // name: the first Set-Cookie line setting a value
	for _, line := range rec.lines() {
		name, rest, _ := strings.Cut(line, "=")
		if _, seen := set[name]; !seen && !strings.HasPrefix(rest, ";") {
			set[name] = line
		}
	}
	for _, name := range []string{"__Host-superid_login", "__Host-session"} {
		line, ok := set[name]
		if !ok {
			t.Errorf("no %s cookie set; cookies: %q", name, rec.lines())
			continue
		}
		for _, attr := range []string{"; Secure", "; HttpOnly", "; SameSite=Lax", "; Path=/"} {
			if !strings.Contains(line, attr) {
				t.Errorf("%s lacks %s: %s", name, attr, line)
			}
		}
		if strings.Contains(strings.ToLower(line), "domain=") {
			t.Errorf("%s names a domain: %s", name, line)
		}
	}
	for name := range set {
		if !strings.HasPrefix(name, "__Host-") {
			t.Errorf("cookie %s over https is not __Host-", name)
		}
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
	if p.status != http.StatusOK || !strings.Contains(p.body, "You are signed out") {
		t.Fatalf("status %d:\n%s", p.status, p.body)
	}
	if b.sessionID() != "" {
		t.Error("session cookie kept")
	}
	if _, err := h.st.Session(context.Background(), id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("session still stored: %v", err)
	}
	// The tenant's approval outlives the user's session.
	if _, err := h.st.Tenant(context.Background(), local.DemoContextID); err != nil {
		t.Error(err)
	}
}

func TestTenantsPage(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	b := h.browser()
	// Visitors are sent to sign in.
	if p := b.get("/tenants"); !strings.Contains(p.body, "Sign in with SuperOffice") {
		t.Errorf("visitor saw:\n%s", p.body)
	}
	b.signIn(admin.Username)
	p := b.get("/tenants")
	if p.status != http.StatusOK || p.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("status %d, Cache-Control %q", p.status, p.header.Get("Cache-Control"))
	}
	for _, want := range []string{local.DemoContextID, local.DemoCompanyName, admin.Username, "active", "never", "none yet"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("tenants page lacks %q", want)
		}
	}
	tok, _ := h.em.Approve(local.DemoContextID, h.cfg.ClientID)
	if strings.Contains(p.body, tok) {
		t.Error("the tenants page shows the system user token")
	}
}

func TestTenantsPageShowsUsersOnlyTheirTenant(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	if err := h.st.UpsertTenant(context.Background(), store.Approval{ContextIdentifier: "Cust77777", SystemUserToken: "other-token", CompanyName: "Other Customer AS"}); err != nil {
		t.Fatal(err)
	}
	b := h.browser()
	b.signIn(admin.Username)
	if p := b.get("/tenants"); !strings.Contains(p.body, "Cust77777") || !strings.Contains(p.body, local.DemoContextID) {
		t.Errorf("operators' view lacks a tenant:\n%s", p.body)
	}
	h.app.all = false // SuperOffice Online: users see their own tenant only
	p := b.get("/tenants")
	if strings.Contains(p.body, "Cust77777") || strings.Contains(p.body, "Other Customer") || !strings.Contains(p.body, local.DemoContextID) {
		t.Errorf("a user saw another customer:\n%s", p.body)
	}
}

func TestTenantsPageEmpty(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	b := h.browser()
	b.signIn(admin.Username)
	// The approval is gone from the database (another instance's database,
	// or an operator cleaned up): the page says there is none.
	if _, err := h.st.DB().ExecContext(context.Background(), `DELETE FROM tenants`); err != nil {
		t.Fatal(err)
	}
	p := b.get("/tenants")
	if p.status != http.StatusOK || !strings.Contains(p.body, `id="no-tenants"`) || strings.Contains(p.body, `id="tenants"`) {
		t.Errorf("status %d:\n%s", p.status, p.body)
	}
}

func TestNotFound(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	p := h.browser().get("/nothing-here")
	if p.status != http.StatusNotFound || !strings.Contains(p.body, "There is no page here") {
		t.Errorf("status %d", p.status)
	}
	if p := h.browser().get("/static/style.css"); p.status != http.StatusOK || !strings.Contains(p.body, "font") {
		t.Errorf("stylesheet: status %d", p.status)
	}
}

func TestCompanyName(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	if got := companyName("  ", "system user", now); got != "Created by system user 2025-01-02 03:04:05" {
		t.Errorf("default name %q", got)
	}
	if got := companyName(strings.Repeat("ø", 150), "x", now); len([]rune(got)) != 100 {
		t.Errorf("long name kept %d runes", len([]rune(got)))
	}
}

// TestActionHasOneDeadline: an action that SuperOffice does not answer
// ends at the action's deadline with a readable failure, for both paths.
func TestActionHasOneDeadline(t *testing.T) {
	const timeout = 500 * time.Millisecond
	h := newHarness(t, harnessOptions{headless: true, actionTimeout: timeout})
	b := h.browser()
	csrf := csrfOf(t, b.signIn(admin.Username))
	h.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Delay: time.Minute})
	for _, path := range []string{"/actions/login-user", "/actions/system-user"} {
		start := time.Now()
		p := b.post(path, url.Values{"csrf": {csrf}}, true)
		if d := time.Since(start); d > 10*timeout {
			t.Errorf("%s took %v with a %v deadline", path, d, timeout)
		}
		if !strings.Contains(p.body, ": failed") || !strings.Contains(p.body, "did not answer within "+timeout.String()) {
			t.Errorf("%s:\n%s", path, p.body)
		}
	}
}

// TestOtherHostNameIsRedirected: the app reached as localhost when the
// redirect URL says 127.0.0.1 (or the reverse) would lose the login cookie
// on the way back; pages move to the canonical host, forms are refused.
func TestOtherHostNameIsRedirected(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	u, _ := url.Parse(h.appURL)
	other := "localhost:" + u.Port()
	b := h.browser()
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		req, _ := http.NewRequest(method, h.appURL+"/tenants?x=1", nil)
		req.Host = other
		p := b.do(req, false)
		if p.status != http.StatusTemporaryRedirect || p.header.Get("Location") != h.appURL+"/tenants?x=1" {
			t.Errorf("%s: status %d location %q", method, p.status, p.header.Get("Location"))
		}
	}
	req, _ := http.NewRequest(http.MethodPost, h.appURL+"/logout", strings.NewReader("csrf=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Host = other
	if p := b.do(req, false); p.status != http.StatusBadRequest || !strings.Contains(p.body, "served at "+h.appURL+"/") {
		t.Errorf("POST: status %d:\n%s", p.status, p.body)
	}
	if p := b.get("/"); p.status != http.StatusOK {
		t.Errorf("canonical host: status %d", p.status)
	}
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
		if got := rec.Code == http.StatusNoContent; got != tc.same {
			t.Errorf("redirect URL %s, Host %q: status %d location %q", tc.redirect, tc.host, rec.Code, rec.Header().Get("Location"))
		}
	}
}

// TestSignOutWithoutSession: a sign-out whose session expired or was
// removed clears the cookie and goes home; it is not a "form expired".
func TestSignOutWithoutSession(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	b := h.browser()
	csrf := csrfOf(t, b.signIn(admin.Username))
	if err := h.st.DeleteSession(context.Background(), b.sessionID()); err != nil {
		t.Fatal(err)
	}
	p := b.post("/logout", url.Values{"csrf": {csrf}}, false)
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/?signed_out=1" {
		t.Fatalf("status %d location %q:\n%s", p.status, p.header.Get("Location"), p.body)
	}
	if b.sessionID() != "" {
		t.Error("the stale session cookie was kept")
	}
	// A cookie the store never issued, and no token at all.
	stranger := h.browser()
	u, _ := url.Parse(h.appURL)
	stranger.jar.SetCookies(u, []*http.Cookie{{Name: "session", Value: store.NewSessionID(), Path: "/"}})
	if p := stranger.post("/logout", nil, true); p.status != http.StatusOK || !strings.Contains(p.body, "You are signed out") {
		t.Errorf("status %d:\n%s", p.status, p.body)
	}
}

// NewServer refuses a redirect URL without a path of its own, as
// config.Load does: the callback would be the home page, which ignores
// SuperID's answer, and no sign-in would finish.
func TestNewServerRefusesRedirectURLWithoutPath(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	for _, redirect := range []string{"http://localhost:8080", "http://localhost:8080/"} {
		cfg := *h.cfg
		cfg.RedirectURL = redirect
		if _, err := NewServer(Options{Config: &cfg, Store: h.st}); err == nil {
			t.Errorf("NewServer accepted the redirect URL %q", redirect)
		}
	}
}

// TestNewServerRedirectPaths: the callback is served at the redirect URL's
// path whatever its spelling, and a path the app cannot serve the callback
// at (unclean, or one of its own pages) is an error, never a panic.
func TestNewServerRedirectPaths(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	newServer := func(redirect string) (s *Server, err error) {
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("NewServer panicked for the redirect URL %q: %v", redirect, r)
				err = errors.New("panic")
			}
		}()
		cfg := *h.cfg
		cfg.RedirectURL = redirect
		return NewServer(Options{Config: &cfg, Store: h.st})
	}
	for _, path := range []string{"/sign%20in", "/cb%7Bx%7D", "/cb{x}", "/auth/callback/"} {
		s, err := newServer("http://localhost:8080" + path)
		if err != nil {
			t.Errorf("redirect path %q: %v", path, err)
			continue
		}
		// No login cookie: the callback's own refusal, not the 404 page.
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "http://localhost:8080"+path+"?code=c&state=s", nil))
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "Sign-in failed") {
			t.Errorf("redirect path %q: the callback is not served there: %d\n%s", path, w.Code, w.Body.String())
		}
	}
	for _, path := range []string{"/a/../callback", "/a//callback", "/login", "/tenants", "/static/callback", "/favicon.ico"} {
		if _, err := newServer("http://localhost:8080" + path); err == nil {
			t.Errorf("NewServer accepted the redirect path %q, where the callback cannot be served", path)
		}
	}
}

// TestLoginCookieKeyIsNotTheSealKey: the login cookie is sealed with a key
// derived from the seal key, the same on every instance, never the seal
// key itself.
func TestLoginCookieKeyIsNotTheSealKey(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	key := h.app.cookieKey
	if len(key) != 32 || bytes.Equal(key, h.cfg.SealKey) {
		t.Fatalf("login cookie key is the seal key or not 32 bytes (%d)", len(key))
	}
	// Another instance with the same configuration derives the same key,
	// so a sign-in may finish there; another seal key, another key.
	again, err := NewServer(Options{Config: h.cfg, Store: h.st})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.cookieKey, key) {
		t.Error("two instances disagree on the login cookie key")
	}
	cfg := *h.cfg
	cfg.SealKey = store.GenerateSealKey()
	other, err := NewServer(Options{Config: &cfg, Store: h.st})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(other.cookieKey, key) {
		t.Error("another seal key gave the same login cookie key")
	}
	// The sign-in works with it.
	if p := h.browser().signIn(admin.Username); !strings.Contains(p.body, `id="tenant-ctx"`) {
		t.Errorf("sign-in failed:\n%s", p.body)
	}
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
	if err != nil {
		t.Fatal(err)
	}
	var last page
	for _, path := range []string{"/actions/login-user", "/actions/system-user"} {
		redirect := b.post(path, url.Values{"csrf": {csrf}}, false)
		last = b.get(redirect.header.Get("Location"))
		if !strings.Contains(last.body, ": done") {
			t.Fatalf("%s:\n%s", path, last.body)
		}
		// Another browser with the same link sees nothing.
		if p := h.browser().get(redirect.header.Get("Location")); strings.Contains(p.body, `id="result"`) {
			t.Errorf("%s: another browser saw the outcome", path)
		}
	}
	after, err := h.st.Session(ctx, b.sessionID())
	if err != nil {
		t.Fatal(err)
	}
	if !after.UpdatedAt.Equal(before.UpdatedAt) || !after.ExpiresAt.Equal(before.ExpiresAt) {
		t.Errorf("the session was rewritten: updated %v -> %v", before.UpdatedAt, after.UpdatedAt)
	}
	if len(after.Data.Values) != len(before.Data.Values) {
		t.Errorf("session values %d -> %d", len(before.Data.Values), len(after.Data.Values))
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
	if err != nil {
		t.Fatal(err)
	}
	sess.Data.TokenExpiry = time.Now().Add(-time.Minute) // this tab refreshes
	if err := h.st.UpdateSession(ctx, sess.ID, sess.Data, 0); err != nil {
		t.Fatal(err)
	}
	// The tab's call to the tenant, after its refresh, is slow.
	calls := h.em.Count(superidtest.EndpointTenantAPI)
	h.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Delay: 300 * time.Millisecond, Times: 1})
	done := make(chan page, 1)
	go func() { done <- b.post("/actions/login-user", url.Values{"csrf": {csrf}}, true) }()
	for deadline := time.Now().Add(10 * time.Second); h.em.Count(superidtest.EndpointTenantAPI) == calls; {
		if time.Now().After(deadline) {
			t.Fatal("the action never reached the tenant")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Meanwhile the other tab refreshed and stored its tokens.
	other := sess.Data
	other.AccessToken, other.RefreshToken, other.TokenExpiry = "other-tab-access-token", "other-tab-refresh-token", time.Now().Add(time.Hour)
	if err := h.st.UpdateSession(ctx, sess.ID, other, 0); err != nil {
		t.Fatal(err)
	}
	if p := <-done; !strings.Contains(p.body, "login user: done") {
		t.Fatalf("action:\n%s", p.body)
	}
	got, err := h.st.Session(ctx, sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Data.AccessToken != other.AccessToken || got.Data.RefreshToken != other.RefreshToken {
		t.Error("the slower tab overwrote the tokens the other tab stored")
	}
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
				if err != nil {
					t.Fatal(err)
				}
				sess.Data.TokenExpiry = time.Now().Add(-time.Minute)
				if err := h.st.UpdateSession(ctx, id, sess.Data, 0); err != nil {
					t.Fatal(err)
				}
			}
			h.restartEmulator()
			before := h.em.Count(superidtest.EndpointToken)

			redirect := b.post("/actions/login-user", url.Values{"csrf": {csrf}}, false)
			if redirect.status != http.StatusSeeOther || redirect.header.Get("Location") != "/?signin_expired=1" {
				t.Fatalf("status %d location %q:\n%s", redirect.status, redirect.header.Get("Location"), redirect.body)
			}
			if refreshed := h.em.Count(superidtest.EndpointToken) > before; refreshed != expire {
				t.Errorf("refresh tried %v, want %v", refreshed, expire)
			}
			if _, err := h.st.Session(ctx, id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("the session is still stored: %v", err)
			}
			if b.sessionID() != "" {
				t.Error("the session cookie was kept")
			}
			p := b.get(redirect.header.Get("Location"))
			if !strings.Contains(p.body, `id="signin-expired"`) || !strings.Contains(p.body, "emulator restarted") {
				t.Errorf("sign-in page:\n%s", p.body)
			}

			// Signing in again brings everything back.
			csrf = csrfOf(t, b.signIn(admin.Username))
			for _, path := range []string{"/actions/login-user", "/actions/system-user"} {
				if p := b.post(path, url.Values{"csrf": {csrf}}, true); !strings.Contains(p.body, ": done") {
					t.Errorf("%s after signing in again:\n%s", path, p.body)
				}
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
	if err != nil {
		t.Fatal(err)
	}
	// The tenant refuses this request's token, slowly; meanwhile another
	// tab stores new tokens.
	calls := h.em.Count(superidtest.EndpointTenantAPI)
	h.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Status: http.StatusUnauthorized, Delay: 300 * time.Millisecond, Times: 1})
	done := make(chan page, 1)
	go func() { done <- b.post("/actions/login-user", url.Values{"csrf": {csrf}}, true) }()
	for deadline := time.Now().Add(10 * time.Second); h.em.Count(superidtest.EndpointTenantAPI) == calls; {
		if time.Now().After(deadline) {
			t.Fatal("the action never reached the tenant")
		}
		time.Sleep(5 * time.Millisecond)
	}
	newer := sess.Data
	newer.AccessToken = "newer-access-token-from-another-tab"
	if err := h.st.UpdateSession(ctx, sess.ID, newer, 0); err != nil {
		t.Fatal(err)
	}
	p := <-done
	if !strings.Contains(p.body, "renewed in another tab") {
		t.Errorf("page:\n%s", p.body)
	}
	if _, err := h.st.Session(ctx, sess.ID); err != nil {
		t.Errorf("the session ended: %v", err)
	}
}

// TestApprovalNotStoredShowsErrorAndStoresNothing: when the approval
// cannot be stored, the administrator sees an error page, gets no session
// and the store holds neither half; a later sign-in stores it.
func TestApprovalNotStoredShowsErrorAndStoresNothing(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	ctx := context.Background()
	db := h.st.DB()
	if _, err := db.ExecContext(ctx, `CREATE TRIGGER refuse_tenants BEFORE INSERT ON tenants
		BEGIN SELECT RAISE(ABORT, 'tenants refused by the test'); END`); err != nil {
		t.Fatal(err)
	}
	b := h.browser()
	p := b.signIn(admin.Username)
	if p.status != http.StatusInternalServerError || !strings.Contains(p.body, "could not store the approval") {
		t.Fatalf("status %d:\n%s", p.status, p.body)
	}
	if strings.Contains(p.body, "refused by the test") || strings.Contains(p.body, `id="signout"`) {
		t.Errorf("the page shows the store's error or a session:\n%s", p.body)
	}
	if b.sessionID() != "" {
		t.Error("a session cookie was set")
	}
	var sessions, tenants int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions`).Scan(&sessions); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM tenants`).Scan(&tenants); err != nil {
		t.Fatal(err)
	}
	if sessions != 0 || tenants != 0 {
		t.Errorf("%d sessions and %d tenants stored", sessions, tenants)
	}

	if _, err := db.ExecContext(ctx, `DROP TRIGGER refuse_tenants`); err != nil {
		t.Fatal(err)
	}
	if p := b.signIn(admin.Username); !strings.Contains(p.body, "by "+admin.Username) {
		t.Errorf("signing in again did not store the approval:\n%s", p.body)
	}
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
