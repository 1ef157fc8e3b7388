package superidtest

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type sysFixture struct {
	srv   *Server
	clock *testClock
	key   *rsa.PrivateKey
	token string
}

var partnerKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		panic(err)
	}
	return k
})

func newSysFixture(t *testing.T) *sysFixture {
	t.Helper()
	clock := &testClock{t: time.Date(2025, 3, 1, 12, 0, 30, 0, time.UTC)}
	srv := NewServer(WithClock(clock.Now), WithKeySize(1024))
	t.Cleanup(srv.Close)
	key := partnerKey()
	require.NoError(t, srv.RegisterApp(App{ClientID: "app1", ClientSecret: "secret1", SystemUser: true, PublicKey: &key.PublicKey}))
	require.NoError(t, srv.RegisterApp(App{ClientID: "app2", ClientSecret: "secret2", SystemUser: false}))
	require.NoError(t, srv.AddTenant(Tenant{ContextIdentifier: "Cust100", Serial: "1801550193"}))
	require.NoError(t, srv.AddTenant(Tenant{ContextIdentifier: "Cust200"}))
	tok, err := srv.Approve("Cust100", "app1")
	require.NoError(t, err)
	return &sysFixture{srv: srv, clock: clock, key: key, token: tok}
}

func signToken(t *testing.T, k *rsa.PrivateKey, token string, at time.Time) string {
	t.Helper()
	s := token + "." + at.UTC().Format("200601021504")
	sum := sha256.Sum256([]byte(s))
	sig, err := rsa.SignPKCS1v15(nil, k, crypto.SHA256, sum[:])
	require.NoError(t, err)
	return s + "." + base64.StdEncoding.EncodeToString(sig)
}

func (f *sysFixture) exchange(t *testing.T, body any) (int, systemUserResponse, http.Header) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(f.srv.Environment().SystemUserURL(), "application/json", bytes.NewReader(b))
	require.NoError(t, err)
	defer resp.Body.Close()
	var out systemUserResponse
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return resp.StatusCode, out, resp.Header
}

func (f *sysFixture) request(t *testing.T) map[string]string {
	return map[string]string{
		"SignedSystemToken": signToken(t, f.key, f.token, f.clock.Now()),
		"ApplicationToken":  "secret1",
		"ContextIdentifier": "Cust100",
		"ReturnTokenType":   "JWT",
	}
}

func TestSystemUserExchange(t *testing.T) {
	f := newSysFixture(t)
	status, out, hdr := f.exchange(t, f.request(t))
	require.Equal(t, 200, status, "exchange: %+v", out)
	require.True(t, out.IsSuccessful, "exchange: %+v", out)
	require.NotNil(t, out.Token)
	assert.Nil(t, out.ErrorMessage)
	assert.Equal(t, f.clock.Now().Format(http.TimeFormat), hdr.Get("Date"), "the Date header follows the emulator's clock")
	parts := strings.Split(*out.Token, ".")
	require.Len(t, parts, 3, "the token's parts")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var claims map[string]any
	require.NoError(t, json.Unmarshal(payload, &claims))
	now := f.clock.Now()
	want := map[string]any{
		"iss":                      "SuperOffice AS",
		"aud":                      "spn:1801550193",
		"iat":                      "1740830430",
		"nbf":                      float64(now.Add(-time.Minute).Unix()),
		"exp":                      float64(now.Add(5 * time.Minute).Unix()),
		claimPrefix + "ctx":        "Cust100",
		claimPrefix + "serial":     "1801550193",
		claimPrefix + "webapi_url": f.srv.URL + "/Cust100/api/",
	}
	for k, v := range want {
		assert.Equal(t, v, claims[k], "claim %s", k)
	}
	ticket, _ := claims[claimPrefix+"ticket"].(string)
	require.True(t, strings.HasPrefix(ticket, "7T:"), "ticket %q lacks the 7T: prefix", ticket)
	raw, err := base64.StdEncoding.DecodeString(ticket[3:])
	require.NoError(t, err)
	u := make([]uint16, len(raw)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(raw[2*i:])
	}
	assert.Regexp(t, regexp.MustCompile(`^[0-9a-f]{32};1;Cust100$`), string(utf16.Decode(u)), "the ticket's content")
	f.srv.mu.Lock()
	ctx, app, ok := f.srv.ticketLocked(ticket)
	f.srv.mu.Unlock()
	assert.True(t, ok, "ticketLocked")
	assert.Equal(t, "Cust100", ctx)
	assert.Equal(t, "app1", app)
	assert.Equal(t, 1, f.srv.Exchanges("cust100"))
	// SuperOffice samples spell it /login as well as /Login.
	b, _ := json.Marshal(f.request(t))
	resp, err := http.Post(f.srv.URL+"/login/api/PartnerSystemUser/Authenticate", "application/json", bytes.NewReader(b))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode, "/login path")
	assert.Equal(t, 2, f.srv.Exchanges("Cust100"), "/login path")
}

func TestSystemUserRefusals(t *testing.T) {
	f := newSysFixture(t)
	otherKey, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	tests := []struct {
		name   string
		edit   func(map[string]string)
		setup  func()
		status int
		msg    string
	}{
		{"not json", nil, nil, 400, msgBadRequest},
		{"no context", func(m map[string]string) { delete(m, "ContextIdentifier") }, nil, 400, msgBadRequest},
		{"wrong app token", func(m map[string]string) { m["ApplicationToken"] = "nope" }, nil, 401, msgBadAppToken},
		{"app without system user", func(m map[string]string) { m["ApplicationToken"] = "secret2" }, nil, 200, msgNoSystemUser},
		{"unknown tenant", func(m map[string]string) { m["ContextIdentifier"] = "Cust999" }, nil, 200, msgUnknownTenant},
		{"other tenant", func(m map[string]string) { m["ContextIdentifier"] = "Cust200" }, nil, 200, msgUnknownToken},
		{"unknown token", func(m map[string]string) {
			m["SignedSystemToken"] = signToken(t, f.key, "app1-someoneelse", f.clock.Now())
		}, nil, 200, msgUnknownToken},
		{"wrong key", func(m map[string]string) {
			m["SignedSystemToken"] = signToken(t, otherKey, f.token, f.clock.Now())
		}, nil, 200, msgBadSignature},
		{"tampered", func(m map[string]string) {
			s := m["SignedSystemToken"]
			m["SignedSystemToken"] = strings.Replace(s, ".2025", ".2024", 1)
		}, nil, 200, msgBadSignature},
		{"malformed", func(m map[string]string) { m["SignedSystemToken"] = f.token }, nil, 200, msgMalformedSigned},
		{"old timestamp", func(m map[string]string) {
			m["SignedSystemToken"] = signToken(t, f.key, f.token, f.clock.Now().Add(-7*time.Minute))
		}, nil, 200, msgTimestamp},
		{"future timestamp", func(m map[string]string) {
			m["SignedSystemToken"] = signToken(t, f.key, f.token, f.clock.Now().Add(6*time.Minute))
		}, nil, 200, msgTimestamp},
		{"saml", func(m map[string]string) { m["ReturnTokenType"] = "Saml" }, nil, 200, msgTokenType},
		{"suspended", nil, func() { require.NoError(t, f.srv.SetTenantState("Cust100", "Suspended")) }, 200, msgTenantNotActive},
		{"deleted", nil, func() { require.NoError(t, f.srv.SetTenantState("Cust100", "Deleted")) }, 200, msgTenantNotActive},
		{"revoked", nil, func() { f.srv.RevokeApproval("Cust100", "app1") }, 200, msgUnknownToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, f.srv.SetTenantState("Cust100", "Running"))
			tok, err := f.srv.Approve("Cust100", "app1")
			require.NoError(t, err)
			f.token = tok
			if tt.setup != nil {
				tt.setup()
			}
			var body any = "just a string"
			if tt.name != "not json" {
				m := f.request(t)
				if tt.edit != nil {
					tt.edit(m)
				}
				body = m
			}
			status, out, _ := f.exchange(t, body)
			assert.Equal(t, tt.status, status)
			assert.False(t, out.IsSuccessful)
			assert.Nil(t, out.Token)
			if assert.NotNil(t, out.ErrorMessage) {
				assert.Equal(t, tt.msg, *out.ErrorMessage)
			}
		})
	}
	assert.Zero(t, f.srv.Exchanges("Cust100"), "tickets issued for refused requests")
}

func TestSystemUserTicketLife(t *testing.T) {
	f := newSysFixture(t)
	issue := func() string {
		t.Helper()
		_, out, _ := f.exchange(t, f.request(t))
		require.True(t, out.IsSuccessful, "exchange refused: %+v", out)
		payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(*out.Token, ".")[1])
		var c map[string]any
		require.NoError(t, json.Unmarshal(payload, &c))
		return c[claimPrefix+"ticket"].(string)
	}
	live := func(ticket string) bool {
		f.srv.mu.Lock()
		defer f.srv.mu.Unlock()
		_, _, ok := f.srv.ticketLocked(ticket)
		return ok
	}
	tk := issue()
	f.clock.Add(5 * time.Hour)
	require.True(t, live(tk), "dead after 5 idle hours")
	f.clock.Add(5 * time.Hour) // 10 hours old, but used 5 hours ago
	require.True(t, live(tk), "sliding expiry not renewed by use")
	f.clock.Add(6 * time.Hour)
	require.False(t, live(tk), "alive after 6 idle hours")

	tk = issue()
	tk2 := issue()
	require.NotEqual(t, tk, tk2, "two exchanges gave the same ticket")
	assert.Equal(t, 2, f.srv.LiveTickets("Cust100"))
	f.srv.ExpireTickets("CUST100")
	require.False(t, live(tk), "alive after ExpireTickets")
	require.False(t, live(tk2), "alive after ExpireTickets")

	tk = issue()
	f.srv.RevokeApproval("Cust100", "app1")
	assert.False(t, live(tk), "alive after the approval was revoked")
	assert.False(t, live("7T:bogus"), "an unknown ticket is live")
}

// A tenant that withdraws its approval ends the app's tickets: approving
// the app again must issue new ones, not bring the old ones back.
func TestRevokedApprovalEndsTicketsForGood(t *testing.T) {
	f := newAPIFixture(t)
	path := "/" + apiCtx + "/api/v1/User/currentPrincipal"
	code, _ := f.call("GET", path, "")
	require.Equal(t, 200, code, "before the revocation")
	f.e.RevokeApproval(apiCtx, apiApp)
	_, err := f.e.TicketFor(apiCtx, apiApp) // approves again
	require.NoError(t, err)
	code, _ = f.call("GET", path, "")
	assert.Equal(t, 401, code, "a ticket from before the revocation, after a new approval")
	assert.Equal(t, 1, f.e.LiveTickets(apiCtx), "live tickets: the new one")
}

// A refused request is not a use of the ticket: it must not renew the
// six-hour sliding expiry.
func TestRefusedRequestDoesNotRenewTicket(t *testing.T) {
	clock := &testClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	f := newAPIFixture(t, WithClock(clock.Now))
	require.NoError(t, f.e.AddTenant(Tenant{ContextIdentifier: "Cust888"}))
	path := "/" + apiCtx + "/api/v1/User/currentPrincipal"
	clock.Add(6*time.Hour - time.Minute)
	code, _ := f.call("GET", path, "", "SOTicket "+f.ticket, "wrong")
	require.Equal(t, 401, code, "wrong SO-AppToken")
	code, _ = f.call("GET", "/Cust888/api/v1/User/currentPrincipal", "")
	require.Equal(t, 401, code, "another tenant's ticket")
	clock.Add(2 * time.Minute)
	code, _ = f.call("GET", path, "")
	assert.Equal(t, 401, code, "a ticket idle for 6h01m (but for refused requests)")
}
