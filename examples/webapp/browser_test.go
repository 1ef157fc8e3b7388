package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

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
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium not found at %s but CI=true: apt-get install chromium", path)
		}
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
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return tab
}

// screenshotDir is where the browser test saves its screenshots:
// WEBAPP_SCREENSHOTS, or the test's temporary directory.
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("WEBAPP_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

func screenshot(t *testing.T, tab context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// TestBrowser drives chromium through the whole scenario: a refused
// sign-in, sign-in at the emulator's page, approval, both actions, the
// tenants page and sign-out.
func TestBrowser(t *testing.T) {
	h := newHarness(t, harnessOptions{}) // the emulator's real sign-in page
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tab := newChrome(t, ctx)
	dir := screenshotDir(t)

	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(tab, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			screenshot(t, tab, dir, "failed")
			html, _ := chromedp.Run(tab, chromedp.OuterHTML(chromedp.CSS("body")))
			t.Fatalf("%s: %v\n%s", step, err, html)
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
	if got := text("#error"); !strings.Contains(got, "Access was denied") {
		t.Errorf("error page says %q", got)
	}
	if got := text("#error-detail"); got != "access_denied" {
		t.Errorf("error code %q", got)
	}
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
	if got := text("#tenant-ctx"); got != local.DemoContextID {
		t.Errorf("tenant %q", got)
	}
	if got := text("#user-role"); got != "administrator" {
		t.Errorf("role %q", got)
	}
	if got := text("#tenant-state"); got != "Running" {
		t.Errorf("state %q", got)
	}
	if got := text("#tenant-approved"); !strings.Contains(got, "by "+admin.Username) {
		t.Errorf("approved %q", got)
	}

	do("create with login user",
		chromedp.SendKeys(chromedp.CSS(`form[action="/actions/login-user"] input[name=name]`), "Browser Login AS"),
		chromedp.Click(chromedp.ID("create-login-user")),
		chromedp.WaitVisible(chromedp.CSS(`#result[data-kind="login user"]`)),
	)
	if got := text("#created-name"); got != "Browser Login AS" {
		t.Errorf("created %q", got)
	}
	if got := text("#created-by"); !strings.Contains(got, admin.FullName) {
		t.Errorf("created by %q", got)
	}

	do("create with system user",
		chromedp.Click(chromedp.ID("create-system-user")),
		chromedp.WaitVisible(chromedp.CSS(`#result[data-kind="system user"]`)),
	)
	if got := text("#created-by"); !strings.Contains(got, "(associate "+strconv.Itoa(superidtest.SystemUserAssociateID)+")") {
		t.Errorf("created by %q", got)
	}
	if got := text("#latest"); !strings.Contains(got, "Browser Login AS") {
		t.Errorf("latest companies:\n%s", got)
	}
	screenshot(t, tab, dir, "2-home")

	do("tenants page", chromedp.Click(chromedp.CSS(`nav a[href="/tenants"]`)), chromedp.WaitVisible(chromedp.ID("tenants")))
	if got := text("#tenants"); !strings.Contains(got, local.DemoContextID) || !strings.Contains(got, admin.Username) {
		t.Errorf("tenants:\n%s", got)
	}
	screenshot(t, tab, dir, "3-tenants")

	do("sign out", chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.ID("signed-out")))
	if h.em.Exchanges(local.DemoContextID) != 1 || len(h.em.Contacts(local.DemoContextID)) < 2 {
		t.Errorf("%d exchanges, %d companies", h.em.Exchanges(local.DemoContextID), len(h.em.Contacts(local.DemoContextID)))
	}
}
