package superidtest

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTenantStateAPI(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	f := newAPIFixture(t, WithTenantStateValidity(time.Minute), WithClock(func() time.Time { return now }))
	cases := map[string]bool{"Running": true, "OnlineMaintenance": true, "OfflineMaintenance": false, "Suspended": false, "Deleted": false, "MigrationPending": false}
	for state, running := range cases {
		require.NoError(t, f.e.SetTenantState(apiCtx, state))
		code, st := f.call("GET", "/api/state/"+apiCtx, "", "")
		require.Equal(t, 200, code, "%s: %v", state, st)
		assert.Equal(t, state, st["State"])
		assert.Equal(t, running, st["IsRunning"], state)
		assert.Equal(t, apiCtx, st["ContextIdentifier"], state)
		assert.Equal(t, "http://127.0.0.1:8081/"+apiCtx, st["Endpoint"], state)
		assert.Equal(t, "http://127.0.0.1:8081/"+apiCtx+"/api", st["Api"], state)
		vu, _ := st["ValidUntil"].(string)
		assert.Regexp(t, regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$`), vu, "ValidUntil is 7-digit UTC")
		at, err := time.Parse(time.RFC3339Nano, vu)
		require.NoError(t, err)
		assert.Equal(t, now.Add(time.Minute), at, "ValidUntil is the validity ahead of now")
	}
	code, _ := f.call("GET", "/api/state/Cust1", "", "")
	assert.Equal(t, 404, code, "unknown tenant")
}

func TestTenantMoveAnswers421OnTheOldHost(t *testing.T) {
	f := newAPIFixture(t)
	require.NoError(t, f.e.MoveTenant(apiCtx))
	assert.Equal(t, "http://localhost:8081/"+apiCtx+"/api/", f.e.WebAPIURL(apiCtx), "moved WebAPIURL")
	_, st := f.call("GET", "/api/state/"+apiCtx, "", "")
	assert.Equal(t, "http://localhost:8081/"+apiCtx+"/api", st["Api"], "state after move")
	code, body := f.call("GET", "/"+apiCtx+"/api/v1/User/currentPrincipal", "")
	assert.Equal(t, 421, code, "old host")
	assert.NotEmpty(t, body["ErrorMessage"], "old host")
	f.host = "localhost:8081"
	code, _ = f.call("GET", "/"+apiCtx+"/api/v1/User/currentPrincipal", "")
	assert.Equal(t, 200, code, "new host")
	require.NoError(t, f.e.MoveTenant(apiCtx)) // and back
	code, _ = f.call("GET", "/"+apiCtx+"/api/v1/User/currentPrincipal", "")
	assert.Equal(t, 421, code, "after moving back, localhost")
	assert.Error(t, f.e.MoveTenant("Cust1"), "moved an unknown tenant")
	remote, err := New("https://sod.superoffice.com", WithKeySize(1024))
	require.NoError(t, err)
	require.NoError(t, remote.AddTenant(Tenant{ContextIdentifier: apiCtx}))
	assert.Error(t, remote.MoveTenant(apiCtx), "moved a tenant of a non-loopback root")
}

// GET {Api} answers the version document without credentials
// (PROTOCOL 6.3, DOCS status-page.md).
func TestVersionEndpoint(t *testing.T) {
	f := newAPIFixture(t)
	for _, path := range []string{"/" + apiCtx + "/api", "/" + strings.ToLower(apiCtx) + "/api/"} {
		code, body := f.call("GET", path, "", "")
		require.Equal(t, http.StatusOK, code, "%s: %v", path, body)
		assert.Equal(t, "http://127.0.0.1:8081/"+apiCtx+"/api/v1/", body["v1"], path)
		assert.Equal(t, "v1", body["Version"], path)
		assert.Regexp(t, `^\d+\.\d+\.\d+\.\d+$`, body["NetServerVersion"], path)
	}
	code, body := f.call("GET", "/Cust1/api", "", "")
	assert.Equal(t, http.StatusNotFound, code, "unknown tenant")
	assert.Equal(t, true, body["Error"])
	assert.Equal(t, "SoNotFoundException", body["ErrorType"])
}
