package local_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-superoffice/superoffice/examples/internal/config"
	"github.com/go-superoffice/superoffice/examples/internal/local"
	"github.com/go-superoffice/superoffice/examples/internal/store"
	"github.com/go-superoffice/superoffice/superid"
	"github.com/go-superoffice/superoffice/superid/superidtest"
	"github.com/go-superoffice/superoffice/systemuser"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// setup loads a local-mode configuration in a fresh data directory, points
// it at a loopback server and opens the store beside it.
func setup(t *testing.T) (*config.Config, *store.Store, *httptest.Server) {
	t.Helper()
	cfg, err := config.Load(func(string) string { return "" }, t.TempDir())
	require.NoError(t, err)
	hs := httptest.NewUnstartedServer(nil)
	t.Cleanup(hs.Close)
	cfg.Environment = superid.Environment("http://" + hs.Listener.Addr().String())
	st, err := store.Open(context.Background(), cfg.DatabaseURL, cfg.SealKey)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return cfg, st, hs
}

func TestNewEmulatorRegistersAppTenantAndUsers(t *testing.T) {
	cfg, _, hs := setup(t)
	em, err := local.NewEmulator(cfg)
	require.NoError(t, err)
	hs.Config.Handler = em
	hs.Start()

	// The app has system-user rights, so the demo tenant can approve it.
	tok, err := em.Approve(local.DemoContextID, cfg.ClientID)
	require.NoError(t, err)
	// The app's registered key is the public half of cfg.PrivateKey: the
	// exchange accepts a token signed with it.
	su, err := systemuser.New(systemuser.Config{Environment: cfg.Environment, ClientSecret: cfg.ClientSecret, PrivateKey: cfg.PrivateKey})
	require.NoError(t, err)
	ticket, err := su.Exchange(context.Background(), local.DemoContextID, tok)
	require.NoError(t, err)
	assert.Equal(t, local.DemoSerial, ticket.Serial, "the ticket's serial")
	assert.True(t, strings.HasSuffix(ticket.WebAPIURL, "/"+local.DemoContextID+"/api/"), "the ticket's Web API URL %q", ticket.WebAPIURL)
	for _, u := range local.DemoUsers {
		_, err := em.AccessTokenFor(u.Username)
		assert.NoError(t, err, "demo user %s", u.Username)
	}
}

func TestNewEmulatorNeedsAppSettings(t *testing.T) {
	cfg, _, _ := setup(t)
	for name, mutate := range map[string]func(c *config.Config){
		"nil key":      func(c *config.Config) { c.PrivateKey = nil },
		"no client id": func(c *config.Config) { c.ClientID = "" },
		"no secret":    func(c *config.Config) { c.ClientSecret = "" },
		"no redirect":  func(c *config.Config) { c.RedirectURL = "" },
		"bad redirect": func(c *config.Config) { c.RedirectURL = "/callback" },
		"bad root URL": func(c *config.Config) { c.Environment = "::" },
	} {
		c := *cfg
		mutate(&c)
		_, err := local.NewEmulator(&c)
		if assert.Error(t, err, name) {
			assert.True(t, strings.HasPrefix(err.Error(), "local: "), "%s: the error %q does not start with the package", name, err)
		}
	}
	_, err := local.NewEmulator(nil)
	assert.Error(t, err, "nil config accepted")
}

func TestRestoreApprovalsSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	cfg, st, _ := setup(t)
	first, err := local.NewEmulator(cfg)
	require.NoError(t, err)
	tok, err := first.Approve(local.DemoContextID, cfg.ClientID)
	require.NoError(t, err)
	require.NoError(t, st.UpsertTenant(ctx, store.Approval{ContextIdentifier: local.DemoContextID, SystemUserToken: tok}))
	// A tenant the emulator does not know is skipped and named; the token
	// never appears in the error.
	require.NoError(t, st.UpsertTenant(ctx, store.Approval{ContextIdentifier: "Cust999", SystemUserToken: "secret-token-999"}))

	second, err := local.NewEmulator(cfg, superidtest.WithKeySize(1024))
	require.NoError(t, err)
	n, err := local.RestoreApprovals(ctx, second, st, cfg.ClientID)
	assert.Equal(t, 1, n, "approvals restored")
	if assert.ErrorContains(t, err, "Cust999", "the unknown tenant is not named") {
		assert.NotContains(t, err.Error(), "secret-token", "the error shows the token")
	}
	again, err := second.Approve(local.DemoContextID, cfg.ClientID)
	require.NoError(t, err)
	assert.Equal(t, tok, again, "restarted emulator issued another token")
}
