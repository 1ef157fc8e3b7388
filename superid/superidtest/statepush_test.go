package superidtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/superid/superidtest"
)

// received is one notification as the app's endpoint got it.
type received struct {
	ChangeType        int
	ContextIdentifier string
	VersionName       string
	FileVersion       string
	Token             string
	PublicEndpoint    string
}

// pushSetup is an emulator with one tenant and one app whose state change
// URL records what it receives.
func pushSetup(t *testing.T) (*superidtest.Server, func() []received) {
	t.Helper()
	srv := superidtest.NewServer(superidtest.WithKeySize(1024))
	t.Cleanup(srv.Close)
	require.NoError(t, srv.RegisterApp(superidtest.App{ClientID: "app", ClientSecret: "secret"}))
	require.NoError(t, srv.AddTenant(superidtest.Tenant{ContextIdentifier: "Cust100"}))
	var mu sync.Mutex
	var got []received
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, http.MethodPost, r.Method)
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		b, err := io.ReadAll(r.Body)
		assert.NoError(t, err)
		var n received
		assert.NoError(t, json.Unmarshal(b, &n))
		mu.Lock()
		got = append(got, n)
		mu.Unlock()
	}))
	t.Cleanup(app.Close)
	require.NoError(t, srv.SetStateChangeURL("app", app.URL+"/state", nil))
	return srv, func() []received {
		mu.Lock()
		defer mu.Unlock()
		return append([]received(nil), got...)
	}
}

func TestStateChangesArePushed(t *testing.T) {
	srv, got := pushSetup(t)
	require.NoError(t, srv.MoveTenant("Cust100"))
	require.NoError(t, srv.SetTenantState("Cust100", "OnlineMaintenance")) // no notification
	require.NoError(t, srv.SetTenantState("Cust100", "Running"))
	require.NoError(t, srv.SetTenantState("Cust100", "Suspended"))
	require.NoError(t, srv.SetTenantState("Cust100", "Running"))
	require.NoError(t, srv.SetTenantState("Cust100", "Deleted"))
	require.NoError(t, srv.NotifyStateChange("Cust100", superidtest.StateChangeUpgrade))

	ns := got()
	require.Len(t, ns, 5)
	var types []int
	for _, n := range ns {
		types = append(types, n.ChangeType)
		assert.Equal(t, "Cust100", n.ContextIdentifier)
	}
	assert.Equal(t, []int{5, 2, 3, 4, 0}, types)
	moved, err := url.Parse(srv.TenantEndpoint("Cust100"))
	require.NoError(t, err)
	assert.Equal(t, moved.Host, ns[0].PublicEndpoint, "Move names the new host")
	assert.Empty(t, ns[1].PublicEndpoint)

	// Signed like SuperID's tokens: RS256 by the JWKS key, the
	// environment's issuer, an expiry, the tenant's context claim.
	tok, err := jwt.Parse(ns[0].Token, func(*jwt.Token) (any, error) { return srv.PublicKey(), nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(srv.Environment().Issuer()), jwt.WithExpirationRequired())
	require.NoError(t, err)
	claims := tok.Claims.(jwt.MapClaims)
	assert.Equal(t, "Cust100", claims["http://schemes.superoffice.net/identity/ctx"])
	assert.NotEmpty(t, tok.Header["x5t"])

	rec := srv.Notifications()
	require.Len(t, rec, 5)
	assert.Equal(t, superidtest.Notification{URL: rec[0].URL, ClientID: "app", ContextIdentifier: "Cust100",
		Change: superidtest.StateChangeMove, PublicEndpoint: moved.Host, Status: http.StatusOK}, rec[0])
}

func TestStateChangeURLErrors(t *testing.T) {
	srv, got := pushSetup(t)
	assert.ErrorContains(t, srv.SetStateChangeURL("nobody", "http://127.0.0.1:1/", nil), "unknown app")
	assert.ErrorContains(t, srv.SetStateChangeURL("app", "/relative", nil), "not an absolute")
	assert.ErrorContains(t, srv.NotifyStateChange("Cust999", superidtest.StateChangeUpgrade), "unknown tenant")

	// A failed delivery is recorded, and the change happens all the same.
	require.NoError(t, srv.SetStateChangeURL("app", "http://127.0.0.1:1/state", nil))
	require.NoError(t, srv.SetTenantState("Cust100", "Suspended"))
	rec := srv.Notifications()
	require.Len(t, rec, 1)
	assert.Zero(t, rec[0].Status)
	assert.NotEmpty(t, rec[0].Err)

	// No URL, no notification.
	require.NoError(t, srv.SetStateChangeURL("app", "", nil))
	require.NoError(t, srv.MoveTenant("Cust100"))
	assert.Len(t, srv.Notifications(), 1)
	assert.Empty(t, got())
}
