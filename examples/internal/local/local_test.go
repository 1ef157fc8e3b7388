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
)

// setup loads a local-mode configuration in a fresh data directory, points
// it at a loopback server and opens the store beside it.
func setup(t *testing.T) (*config.Config, *store.Store, *httptest.Server) {
	t.Helper()
	cfg, err := config.Load(func(string) string { return "" }, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(nil)
	t.Cleanup(hs.Close)
	cfg.Environment = superid.Environment("http://" + hs.Listener.Addr().String())
	st, err := store.Open(context.Background(), cfg.DatabaseURL, cfg.SealKey)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return cfg, st, hs
}

func TestNewEmulatorRegistersAppTenantAndUsers(t *testing.T) {
	cfg, _, hs := setup(t)
	em, err := local.NewEmulator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs.Config.Handler = em
	hs.Start()

	// The app has system-user rights, so the demo tenant can approve it.
	tok, err := em.Approve(local.DemoContextID, cfg.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	// The app's registered key is the public half of cfg.PrivateKey: the
	// exchange accepts a token signed with it.
	su, err := systemuser.New(systemuser.Config{Environment: cfg.Environment, ClientSecret: cfg.ClientSecret, PrivateKey: cfg.PrivateKey})
	if err != nil {
		t.Fatal(err)
	}
	ticket, err := su.Exchange(context.Background(), local.DemoContextID, tok)
	if err != nil {
		t.Fatal(err)
	}
	if ticket.Serial != local.DemoSerial || !strings.HasSuffix(ticket.WebAPIURL, "/"+local.DemoContextID+"/api/") {
		t.Errorf("ticket for serial %q at %q", ticket.Serial, ticket.WebAPIURL)
	}
	for _, u := range local.DemoUsers {
		if _, err := em.AccessTokenFor(u.Username); err != nil {
			t.Errorf("demo user %s: %v", u.Username, err)
		}
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
		if _, err := local.NewEmulator(&c); err == nil || !strings.HasPrefix(err.Error(), "local: ") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if _, err := local.NewEmulator(nil); err == nil {
		t.Error("nil config accepted")
	}
}

func TestRestoreApprovalsSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	cfg, st, _ := setup(t)
	first, err := local.NewEmulator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := first.Approve(local.DemoContextID, cfg.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.UpsertTenant(ctx, store.Approval{ContextIdentifier: local.DemoContextID, SystemUserToken: tok}); err != nil {
		t.Fatal(err)
	}
	// A tenant the emulator does not know is skipped and named; the token
	// never appears in the error.
	if err := st.UpsertTenant(ctx, store.Approval{ContextIdentifier: "Cust999", SystemUserToken: "secret-token-999"}); err != nil {
		t.Fatal(err)
	}

	second, err := local.NewEmulator(cfg, superidtest.WithKeySize(1024))
	if err != nil {
		t.Fatal(err)
	}
	n, err := local.RestoreApprovals(ctx, second, st, cfg.ClientID)
	if n != 1 {
		t.Errorf("restored %d, want 1", n)
	}
	if err == nil || !strings.Contains(err.Error(), "Cust999") || strings.Contains(err.Error(), "secret-token") {
		t.Errorf("err = %v", err)
	}
	again, err := second.Approve(local.DemoContextID, cfg.ClientID)
	if err != nil || again != tok {
		t.Errorf("restarted emulator issued another token (err %v)", err)
	}
}
