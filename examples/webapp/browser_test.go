package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/examples/internal/local"
	"github.com/go-superoffice/superoffice/superid/superidtest"
)

// chromium finds Debian's chromium (CHROMIUM overrides the path). Without
// it the test skips, except under CI=true, where it fails: the browser
// path must not go untested unnoticed.
func chromium(t *testing.T) string {
	t.Helper()
	path := os.Getenv("CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(path); err != nil {
		require.NotEqual(t, "true", os.Getenv("CI"), "chromium not found at %s but CI=true: apt-get install chromium", path)
		t.Skipf("chromium not found at %s; apt-get install chromium to run the browser test", path)
	}
	return path
}

// newChrome starts a headless chromium with a fresh profile and returns a
// tab's context, which ctx's deadline bounds.
func newChrome(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 900),
	)
	t.Cleanup(cancelAlloc)
	tab, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(cancelTab)
	// The first run starts the browser, for the tab's whole life: it must
	// not carry a step's timeout.
	require.NoError(t, chromedp.Do(tab), "start chromium")
	return tab
}

// screenshotDir is where the browser test saves its screenshots:
// WEBAPP_SCREENSHOTS, or the test's temporary directory.
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("WEBAPP_SCREENSHOTS"); d != "" {
		require.NoError(t, os.MkdirAll(d, 0o755))
		return d
	}
	return t.TempDir()
}

func screenshot(t *testing.T, tab context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	require.NoError(t, err, "screenshot %s", name)
	path := filepath.Join(dir, name+".png")
	require.NoError(t, os.WriteFile(path, png, 0o644))
	t.Logf("screenshot: %s", path)
}

// TestBrowser drives chromium through the whole scenario: a refused
// sign-in, sign-in at the emulator's page, approval (which subscribes the
// tenant's webhook), both actions, the created company's contact.created
// in the "Recent events" panel, the tenants page and sign-out.
func TestBrowser(t *testing.T) {
	h := newHarness(t, harnessOptions{}) // the emulator's real sign-in page
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tab := newChrome(t, ctx)
	dir := screenshotDir(t)

	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS(sel)))
		require.NoError(t, err, "text of %s", sel)
		return s
	}
	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(tab, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			screenshot(t, tab, dir, "failed")
			html, _ := chromedp.Run(tab, chromedp.OuterHTML(chromedp.CSS("body")))
			require.NoError(t, err, "%s\n%s", step, html)
		}
	}

	do("open the app", chromedp.Navigate(h.appURL+"/"), chromedp.WaitVisible(chromedp.ID("signin")))
	screenshot(t, tab, dir, "1-signin")

	// An ordinary user cannot approve the app: SuperID answers
	// access_denied, which the app shows as a page of its own.
	do("ordinary user before approval",
		chromedp.Click(chromedp.ID("signin")), chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), user.Username),
		chromedp.SendKeys(chromedp.ID("password"), user.Password),
		chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.ID("error")),
	)
	assert.Contains(t, text("#error"), "Access was denied", "the error page")
	assert.Equal(t, "access_denied", text("#error-detail"), "the error code")
	screenshot(t, tab, dir, "0-error")
	do("back to the start", chromedp.Click(chromedp.CSS(`main a[href="/"]`)), chromedp.WaitVisible(chromedp.ID("signin")))
	do("go to SuperID", chromedp.Click(chromedp.ID("signin")), chromedp.WaitVisible(chromedp.ID("username")))
	do("sign in",
		chromedp.SendKeys(chromedp.ID("username"), admin.Username),
		chromedp.SendKeys(chromedp.ID("password"), admin.Password),
		chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.ID("approve")),
	)
	do("approve", chromedp.Click(chromedp.ID("approve")), chromedp.WaitVisible(chromedp.ID("tenant-ctx")))
	assert.Equal(t, local.DemoContextID, text("#tenant-ctx"), "tenant")
	assert.Equal(t, "administrator", text("#user-role"), "role")
	assert.Equal(t, "Running", text("#tenant-state"), "state")
	assert.Contains(t, text("#tenant-approved"), "by "+admin.Username, "approved")
	// The approval subscribed the tenant's webhook at the app's receiver.
	assert.Contains(t, text("#webhook-ok"), h.appURL+"/webhooks/"+local.DemoContextID, "webhook")
	assert.Contains(t, text("#events-none"), "No events", "events before any change")

	do("create with login user",
		chromedp.SendKeys(chromedp.CSS(`form[action="/actions/login-user"] input[name=name]`), "Browser Login AS"),
		chromedp.Click(chromedp.ID("create-login-user")),
		chromedp.WaitVisible(chromedp.CSS(`#result[data-kind="login user"]`)),
	)
	assert.Equal(t, "Browser Login AS", text("#created-name"), "created")
	assert.Contains(t, text("#created-by"), admin.FullName, "created by")
	createdID := text("#created-id")

	// SuperOffice sends contact.created to the app in the background; once
	// the emulator has delivered it, the page shows it.
	h.em.WaitWebhooks()
	do("see the event", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("events")))
	assert.Contains(t, text("#events tbody tr:first-child"), "contact.created\tcontact\t"+createdID, "newest event")
	screenshot(t, tab, dir, "2-events")

	do("create with system user",
		chromedp.Click(chromedp.ID("create-system-user")),
		chromedp.WaitVisible(chromedp.CSS(`#result[data-kind="system user"]`)),
	)
	assert.Contains(t, text("#created-by"), "(associate "+strconv.Itoa(superidtest.SystemUserAssociateID)+")", "created by")
	assert.Contains(t, text("#latest"), "Browser Login AS", "latest companies")
	screenshot(t, tab, dir, "2-home")

	do("tenants page", chromedp.Click(chromedp.CSS(`nav a[href="/tenants"]`)), chromedp.WaitVisible(chromedp.ID("tenants")))
	tenants := text("#tenants")
	assert.Contains(t, tenants, local.DemoContextID, "tenants")
	assert.Contains(t, tenants, admin.Username, "tenants")
	screenshot(t, tab, dir, "3-tenants")

	do("sign out", chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.ID("signed-out")))
	assert.Equal(t, 1, h.em.Exchanges(local.DemoContextID), "exchanges")
	assert.GreaterOrEqual(t, len(h.em.Contacts(local.DemoContextID)), 2, "companies")
}
