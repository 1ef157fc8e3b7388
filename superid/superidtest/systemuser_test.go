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
	must(t, srv.RegisterApp(App{ClientID: "app1", ClientSecret: "secret1", SystemUser: true, PublicKey: &key.PublicKey}))
	must(t, srv.RegisterApp(App{ClientID: "app2", ClientSecret: "secret2", SystemUser: false}))
	must(t, srv.AddTenant(Tenant{ContextIdentifier: "Cust100", Serial: "1801550193"}))
	must(t, srv.AddTenant(Tenant{ContextIdentifier: "Cust200"}))
	tok, err := srv.Approve("Cust100", "app1")
	must(t, err)
	return &sysFixture{srv: srv, clock: clock, key: key, token: tok}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func signToken(t *testing.T, k *rsa.PrivateKey, token string, at time.Time) string {
	t.Helper()
	s := token + "." + at.UTC().Format("200601021504")
	sum := sha256.Sum256([]byte(s))
	sig, err := rsa.SignPKCS1v15(nil, k, crypto.SHA256, sum[:])
	must(t, err)
	return s + "." + base64.StdEncoding.EncodeToString(sig)
}

func (f *sysFixture) exchange(t *testing.T, body any) (int, systemUserResponse, http.Header) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(f.srv.Environment().SystemUserURL(), "application/json", bytes.NewReader(b))
	must(t, err)
	defer resp.Body.Close()
	var out systemUserResponse
	must(t, json.NewDecoder(resp.Body).Decode(&out))
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
	if status != 200 || !out.IsSuccessful || out.Token == nil || out.ErrorMessage != nil {
		t.Fatalf("exchange: %d %+v", status, out)
	}
	if got, want := hdr.Get("Date"), f.clock.Now().Format(http.TimeFormat); got != want {
		t.Errorf("Date = %q, want the emulator clock's %q", got, want)
	}
	parts := strings.Split(*out.Token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	must(t, err)
	var claims map[string]any
	must(t, json.Unmarshal(payload, &claims))
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
		if claims[k] != v {
			t.Errorf("claim %s = %#v, want %#v", k, claims[k], v)
		}
	}
	ticket, _ := claims[claimPrefix+"ticket"].(string)
	if !strings.HasPrefix(ticket, "7T:") {
		t.Fatalf("ticket %q lacks the 7T: prefix", ticket)
	}
	raw, err := base64.StdEncoding.DecodeString(ticket[3:])
	must(t, err)
	u := make([]uint16, len(raw)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(raw[2*i:])
	}
	if s := string(utf16.Decode(u)); !regexp.MustCompile(`^[0-9a-f]{32};1;Cust100$`).MatchString(s) {
		t.Errorf("ticket decodes to %q", s)
	}
	f.srv.mu.Lock()
	ctx, app, ok := f.srv.ticketLocked(ticket)
	f.srv.mu.Unlock()
	if !ok || ctx != "Cust100" || app != "app1" {
		t.Errorf("ticketLocked = %q %q %v", ctx, app, ok)
	}
	if n := f.srv.Exchanges("cust100"); n != 1 {
		t.Errorf("Exchanges = %d, want 1", n)
	}
	// SuperOffice samples spell it /login as well as /Login.
	b, _ := json.Marshal(f.request(t))
	resp, err := http.Post(f.srv.URL+"/login/api/PartnerSystemUser/Authenticate", "application/json", bytes.NewReader(b))
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != 200 || f.srv.Exchanges("Cust100") != 2 {
		t.Errorf("/login path: %d, %d exchanges", resp.StatusCode, f.srv.Exchanges("Cust100"))
	}
}

func TestSystemUserRefusals(t *testing.T) {
	f := newSysFixture(t)
	otherKey, err := rsa.GenerateKey(rand.Reader, 1024)
	must(t, err)
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
		{"suspended", nil, func() { must(t, f.srv.SetTenantState("Cust100", "Suspended")) }, 200, msgTenantNotActive},
		{"deleted", nil, func() { must(t, f.srv.SetTenantState("Cust100", "Deleted")) }, 200, msgTenantNotActive},
		{"revoked", nil, func() { f.srv.RevokeApproval("Cust100", "app1") }, 200, msgUnknownToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			must(t, f.srv.SetTenantState("Cust100", "Running"))
			tok, err := f.srv.Approve("Cust100", "app1")
			must(t, err)
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
			if status != tt.status || out.IsSuccessful || out.Token != nil || out.ErrorMessage == nil || *out.ErrorMessage != tt.msg {
				t.Errorf("got %d %+v, want %d %q", status, out, tt.status, tt.msg)
			}
		})
	}
	if n := f.srv.Exchanges("Cust100"); n != 0 {
		t.Errorf("%d tickets issued for refused requests", n)
	}
}

func TestSystemUserTicketLife(t *testing.T) {
	f := newSysFixture(t)
	issue := func() string {
		t.Helper()
		_, out, _ := f.exchange(t, f.request(t))
		if !out.IsSuccessful {
			t.Fatalf("exchange refused: %v", *out.ErrorMessage)
		}
		payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(*out.Token, ".")[1])
		var c map[string]any
		must(t, json.Unmarshal(payload, &c))
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
	if !live(tk) {
		t.Fatal("dead after 5 idle hours")
	}
	f.clock.Add(5 * time.Hour) // 10 hours old, but used 5 hours ago
	if !live(tk) {
		t.Fatal("sliding expiry not renewed by use")
	}
	f.clock.Add(6 * time.Hour)
	if live(tk) {
		t.Fatal("alive after 6 idle hours")
	}

	tk = issue()
	tk2 := issue()
	if tk == tk2 {
		t.Fatal("two exchanges gave the same ticket")
	}
	if n := f.srv.LiveTickets("Cust100"); n != 2 {
		t.Errorf("LiveTickets = %d, want 2", n)
	}
	f.srv.ExpireTickets("CUST100")
	if live(tk) || live(tk2) {
		t.Fatal("alive after ExpireTickets")
	}

	tk = issue()
	f.srv.RevokeApproval("Cust100", "app1")
	if live(tk) {
		t.Fatal("alive after the approval was revoked")
	}
	if live("7T:bogus") {
		t.Fatal("an unknown ticket is live")
	}
}

// A tenant that withdraws its approval ends the app's tickets: approving
// the app again must issue new ones, not bring the old ones back.
func TestRevokedApprovalEndsTicketsForGood(t *testing.T) {
	f := newAPIFixture(t)
	path := "/" + apiCtx + "/api/v1/User/currentPrincipal"
	if code, _ := f.call("GET", path, ""); code != 200 {
		t.Fatalf("before the revocation: %d", code)
	}
	f.e.RevokeApproval(apiCtx, apiApp)
	if _, err := f.e.TicketFor(apiCtx, apiApp); err != nil { // approves again
		t.Fatal(err)
	}
	if code, _ := f.call("GET", path, ""); code != 401 {
		t.Fatalf("a ticket from before the revocation answered %d after a new approval, want 401", code)
	}
	if n := f.e.LiveTickets(apiCtx); n != 1 {
		t.Fatalf("LiveTickets = %d, want 1 (the new one)", n)
	}
}

// A refused request is not a use of the ticket: it must not renew the
// six-hour sliding expiry.
func TestRefusedRequestDoesNotRenewTicket(t *testing.T) {
	clock := &testClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	f := newAPIFixture(t, WithClock(clock.Now))
	must(t, f.e.AddTenant(Tenant{ContextIdentifier: "Cust888"}))
	path := "/" + apiCtx + "/api/v1/User/currentPrincipal"
	clock.Add(6*time.Hour - time.Minute)
	if code, _ := f.call("GET", path, "", "SOTicket "+f.ticket, "wrong"); code != 401 {
		t.Fatalf("wrong SO-AppToken: %d", code)
	}
	if code, _ := f.call("GET", "/Cust888/api/v1/User/currentPrincipal", ""); code != 401 {
		t.Fatalf("another tenant's ticket: %d", code)
	}
	clock.Add(2 * time.Minute)
	if code, _ := f.call("GET", path, ""); code != 401 {
		t.Fatalf("a ticket idle for 6h01m (but for refused requests) answered %d, want 401", code)
	}
}
