package superidtest

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestTenantStateAPI(t *testing.T) {
	f := newAPIFixture(t, WithTenantStateValidity(time.Minute))
	cases := map[string]bool{"Running": true, "OnlineMaintenance": true, "OfflineMaintenance": false, "Suspended": false, "Deleted": false, "MigrationPending": false}
	for state, running := range cases {
		if err := f.e.SetTenantState(apiCtx, state); err != nil {
			t.Fatal(err)
		}
		code, st := f.call("GET", "/api/state/"+apiCtx, "", "")
		if code != 200 || st["State"] != state || st["IsRunning"] != running || st["ContextIdentifier"] != apiCtx {
			t.Fatalf("%s: %d %v", state, code, st)
		}
		if st["Endpoint"] != "http://127.0.0.1:8081/"+apiCtx || st["Api"] != "http://127.0.0.1:8081/"+apiCtx+"/api" {
			t.Fatalf("%s: endpoints %v", state, st)
		}
		vu, _ := st["ValidUntil"].(string)
		if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$`).MatchString(vu) {
			t.Fatalf("ValidUntil %q is not 7-digit UTC", vu)
		}
		if at, err := time.Parse(time.RFC3339Nano, vu); err != nil || time.Until(at) < 50*time.Second || time.Until(at) > 70*time.Second {
			t.Fatalf("ValidUntil %q not about a minute ahead", vu)
		}
	}
	if code, _ := f.call("GET", "/api/state/Cust1", "", ""); code != 404 {
		t.Fatalf("unknown tenant: %d", code)
	}
}

func TestTenantMoveAnswers421OnTheOldHost(t *testing.T) {
	f := newAPIFixture(t)
	if err := f.e.MoveTenant(apiCtx); err != nil {
		t.Fatal(err)
	}
	if got := f.e.WebAPIURL(apiCtx); got != "http://localhost:8081/"+apiCtx+"/api/" {
		t.Fatalf("moved WebAPIURL %q", got)
	}
	_, st := f.call("GET", "/api/state/"+apiCtx, "", "")
	if st["Api"] != "http://localhost:8081/"+apiCtx+"/api" {
		t.Fatalf("state after move: %v", st)
	}
	if code, body := f.call("GET", "/"+apiCtx+"/api/v1/User/currentPrincipal", ""); code != 421 || body["ErrorMessage"] == nil {
		t.Fatalf("old host: %d %v", code, body)
	}
	f.host = "localhost:8081"
	if code, _ := f.call("GET", "/"+apiCtx+"/api/v1/User/currentPrincipal", ""); code != 200 {
		t.Fatalf("new host: %d", code)
	}
	if err := f.e.MoveTenant(apiCtx); err != nil { // and back
		t.Fatal(err)
	}
	if code, _ := f.call("GET", "/"+apiCtx+"/api/v1/User/currentPrincipal", ""); code != 421 {
		t.Fatalf("after moving back, localhost answered %d", code)
	}
	if err := f.e.MoveTenant("Cust1"); err == nil {
		t.Fatal("moved an unknown tenant")
	}
	remote, _ := New("https://sod.superoffice.com", WithKeySize(1024))
	_ = remote.AddTenant(Tenant{ContextIdentifier: apiCtx})
	if err := remote.MoveTenant(apiCtx); err == nil {
		t.Fatal("moved a tenant of a non-loopback root")
	}
}

// GET {Api} answers the version document without credentials
// (PROTOCOL 6.3, DOCS status-page.md).
func TestVersionEndpoint(t *testing.T) {
	f := newAPIFixture(t)
	for _, path := range []string{"/" + apiCtx + "/api", "/" + strings.ToLower(apiCtx) + "/api/"} {
		code, body := f.call("GET", path, "", "")
		if code != http.StatusOK || body["v1"] != "http://127.0.0.1:8081/"+apiCtx+"/api/v1/" || body["Version"] != "v1" {
			t.Fatalf("%s: %d %v", path, code, body)
		}
		if v, _ := body["NetServerVersion"].(string); !regexp.MustCompile(`^\d+\.\d+\.\d+\.\d+$`).MatchString(v) {
			t.Fatalf("%s: NetServerVersion %q", path, v)
		}
	}
	if code, body := f.call("GET", "/Cust1/api", "", ""); code != http.StatusNotFound || body["Error"] != true {
		t.Fatalf("unknown tenant: %d %v", code, body)
	}
}
