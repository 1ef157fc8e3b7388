package main

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var flowRE = regexp.MustCompile(`name="flow" value="([^"]+)"`)

// TestEmulatorPagesListDemoUsers: the local emulator's sign-in and approve
// pages look like the app (its colours, cards, font) and list the demo
// users with their passwords, so that nobody has to look them up.
func TestEmulatorPagesListDemoUsers(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	b := h.browser()
	signIn := b.get("/login")
	require.Equal(t, http.StatusOK, signIn.status, signIn.body)
	require.True(t, strings.HasPrefix(signIn.url, string(h.cfg.Environment)), "landed on %s", signIn.url)

	usersListed := func(name string, p page) {
		t.Helper()
		for _, u := range []struct{ name, password string }{{admin.Username, admin.Password}, {user.Username, user.Password}} {
			assert.Contains(t, p.body, "<code>"+u.name+"</code>", name)
			assert.Contains(t, p.body, "<code>"+u.password+"</code>", name)
		}
		assert.Contains(t, p.body, `id="users"`, name)
		assert.Contains(t, p.body, "approves apps", name)
		// The app's look: its palette, header colour and cards.
		for _, style := range []string{"#16324f", "--accent: #0b6e4f", `class="card"`, "system-ui"} {
			assert.Contains(t, p.body, style, name)
		}
	}
	usersListed("sign-in page", signIn)

	m := flowRE.FindStringSubmatch(signIn.body)
	require.NotNil(t, m, "no flow on the sign-in page")
	form := url.Values{"flow": {m[1]}, "action": {"signin"}, "username": {admin.Username}, "password": {admin.Password}}
	req, err := http.NewRequest(http.MethodPost, signIn.url, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	approve := b.do(req, false)
	require.Equal(t, http.StatusOK, approve.status, approve.body)
	require.Contains(t, approve.body, `id="approve"`)
	usersListed("approve page", approve)
}
