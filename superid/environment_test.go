package superid_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/go-superoffice/superoffice/superid"
)

func TestParseEnvironment(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"sod", "https://sod.superoffice.com"},
		{" Stage ", "https://qaonline.superoffice.com"},
		{"ONLINE", "https://online.superoffice.com"},
		{"https://sod.superoffice.com", "https://sod.superoffice.com"},
		{"https://sod.superoffice.com/", "https://sod.superoffice.com"},
		{"https://SOD.SuperOffice.com:443", "https://sod.superoffice.com"},
		{"HTTPS://sod.superoffice.com:443/", "https://sod.superoffice.com"},
		// The "authority" of the .NET libraries, pasted as it is.
		{"https://sod.superoffice.com/login", "https://sod.superoffice.com"},
		{"https://online.superoffice.com/Login/", "https://online.superoffice.com"},
		{"https://idp.example:8443", "https://idp.example:8443"},
		// The emulator: http on loopback only; a path prefix is a mount.
		{"http://127.0.0.1:8081", "http://127.0.0.1:8081"},
		{"http://localhost:8081/", "http://localhost:8081"},
		{"http://LOCALHOST:80", "http://localhost"},
		{"http://[::1]:8081", "http://[::1]:8081"},
		{"http://127.0.0.1:8081/so", "http://127.0.0.1:8081/so"},
		{"http://127.0.0.1:8081/so/login/", "http://127.0.0.1:8081/so"},
	} {
		got, err := superid.ParseEnvironment(tc.in)
		if assert.NoError(t, err, tc.in) {
			assert.Equal(t, tc.want, string(got), tc.in)
		}
	}
	for _, tc := range []struct{ in, says string }{
		{"", "empty"},
		{"nowhere", "not sod, stage, online"},
		{"ftp://sod.superoffice.com", "not sod, stage, online"},
		{"//sod.superoffice.com", "not sod, stage, online"},
		{"http://sod.superoffice.com", "use https"},
		{"http://online.superoffice.com/", "use https"},
		{"http://10.0.0.5:8081", "use https"},
		{"http://127.0.0.1.evil.com:8081", "use https"},
		{"https://sod.superoffice.com/Cust12345", "without a path"},
		{"https://sod.superoffice.com/login/common", "without a path"},
		{"https://sod.superoffice.com/api/", "without a path"},
		{"https://user:pw@sod.superoffice.com", "user info"},
		{"https://sod.superoffice.com?x=1", "query"},
		{"https://sod.superoffice.com/#x", "fragment"},
		{"https://sod.superoffice.com.", "host name"},
		{"https://sod.superoffice.com:99999", "invalid port"},
	} {
		_, err := superid.ParseEnvironment(tc.in)
		if assert.Error(t, err, tc.in) {
			assert.Contains(t, err.Error(), tc.says, tc.in)
			assert.Regexp(t, "^superid: ", err.Error(), tc.in)
			assert.NotContains(t, err.Error(), "pw@", "error shows the password")
		}
	}
	// New reports a bad environment as a config error.
	_, err := superid.New(superid.Config{Environment: "http://sod.superoffice.com", ClientID: "i", ClientSecret: "s"})
	assert.ErrorIs(t, err, superid.ErrConfig, "New with an http environment")
}

func TestOwnsHost(t *testing.T) {
	emu := superid.Environment("http://127.0.0.1:8081")
	for _, tc := range []struct {
		env  superid.Environment
		url  string
		want bool
	}{
		{superid.SOD, "https://sod.superoffice.com/Cust1/api/", true},
		{superid.SOD, "https://sod2.superoffice.com/Cust1/api/", true},
		{superid.SOD, "https://sod10.superoffice.com/Cust1/api/", true},
		{superid.SOD, "https://SOD2.SUPEROFFICE.COM/Cust1/api/", true},
		{superid.SOD, "https://sod2.superoffice.com:443/Cust1/api/", true},
		{superid.Stage, "https://qaonline2.superoffice.com/Cust1/api/", true},
		{superid.Online, "https://online3.superoffice.com/Cust1/api/", true},
		{superid.Online, "https://online.superoffice.com/Cust1/api/", true},
		// Other sub-domains and environments: production is not trusted
		// from development, nor the other way round.
		{superid.SOD, "https://online.superoffice.com/Cust1/api/", false},
		{superid.SOD, "https://online3.superoffice.com/Cust1/api/", false},
		{superid.SOD, "https://qaonline.superoffice.com/Cust1/api/", false},
		{superid.Online, "https://sod2.superoffice.com/Cust1/api/", false},
		{superid.Stage, "https://online.superoffice.com/Cust1/api/", false},
		{superid.SOD, "https://superoffice.com/", false},
		{superid.SOD, "https://docs.superoffice.com/", false},
		{superid.SOD, "https://sodx.superoffice.com/", false},
		{superid.SOD, "https://sod-2.superoffice.com/", false},
		{superid.SOD, "https://2sod.superoffice.com/", false},
		{superid.SOD, "https://a.sod.superoffice.com/", false},
		// Crafted look-alikes.
		{superid.SOD, `https://evil.com\.superoffice.com/x`, false},
		{superid.SOD, "https://sod.superoffice.com.evil.com/", false},
		{superid.SOD, "https://sod2.superoffice.com.evil.com/Cust1/api/", false},
		{superid.SOD, "https://evil.com#.sod.superoffice.com", false},
		{superid.SOD, "https://evil.com?.sod.superoffice.com", false},
		{superid.SOD, "https://evil.com/.sod.superoffice.com", false},
		{superid.SOD, "https://evil.com%2esod.superoffice.com/", false},
		{superid.SOD, "https://user@sod2.superoffice.com/", false},
		{superid.SOD, "https://sod2.superoffice.com@evil.com/", false},
		{superid.SOD, "https://sod2.superoffice.com./Cust1/api/", false},
		{superid.SOD, "https://xn--sod-superoffice.com/", false},
		{superid.SOD, "https://xn--sod2-xx.superoffice.com/", false},
		{superid.SOD, "https://söd2.superoffice.com/", false},
		{superid.SOD, "https://sod2.superoffice.com:8443/Cust1/api/", false},
		{superid.SOD, "https://sod2.superoffice.com:80/Cust1/api/", false},
		{superid.SOD, "http://sod2.superoffice.com/Cust1/api/", false},
		{superid.SOD, "//sod2.superoffice.com/x", false},
		{superid.SOD, "sod2.superoffice.com", false},
		{superid.SOD, "https:sod2.superoffice.com", false},
		{superid.SOD, "", false},
		// The emulator: same scheme and port, any loopback name.
		{emu, "http://127.0.0.1:8081/Cust1/api/", true},
		{emu, "http://localhost:8081/Cust1/api/", true},
		{emu, "http://[::1]:8081/Cust1/api/", true},
		{emu, "http://localhost:9999/x", false},
		{emu, "http://127.0.0.1/x", false},
		{emu, "http://127.0.0.2:80/", false},
		{emu, "https://127.0.0.1:8081/", false},
		{emu, "http://10.0.0.5:8081/", false},
		{emu, "http://user@127.0.0.1:8081/", false},
		{superid.Environment("https://idp.example"), "https://idp.example:443/x", true},
		{superid.Environment("https://idp.example"), "https://IDP.example/x", true},
		{superid.Environment("https://idp.example"), "https://idp.example:8443/x", false},
		{superid.Environment("https://idp.example"), "https://api.idp.example/x", false},
		{"", "https://sod.superoffice.com/", false},
	} {
		assert.Equal(t, tc.want, tc.env.OwnsHost(tc.url), "%s.OwnsHost(%q)", tc.env, tc.url)
	}
}
