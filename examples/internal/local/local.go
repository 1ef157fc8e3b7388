// Package local sets up the emulator that the examples run against in local
// mode (no SuperOffice settings): SuperOffice Online in-process, with the
// partner app registered as the configuration describes it, a demo tenant
// and two demo users.
//
// The web app serves the emulator at config.LocalEmulatorAddr; the console
// finds it there. Both build it the same way, so that a restart of either
// program sees the same app, tenant and users:
//
//	em, err := local.NewEmulator(cfg)
//	n, err := local.RestoreApprovals(ctx, em, st, cfg.ClientID)
//
// The emulator keeps its state in memory. RestoreApprovals replays the system
// user tokens the store holds, so that tenants approved before a restart keep
// working without a new sign-in.
package local

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-superoffice/superoffice/examples/internal/config"
	"github.com/go-superoffice/superoffice/examples/internal/store"
	"github.com/go-superoffice/superoffice/superid/superidtest"
)

// The demo tenant. Its serial is fixed so that the system-user JWTs of a
// restarted emulator have the audience (spn:<serial>) the store recorded.
const (
	DemoContextID   = "Cust10000"
	DemoCompanyName = "Demo Tenant AS"
	DemoSerial      = "1000010000"
)

// DemoUser is a sign-in the local emulator accepts. The passwords are
// public on purpose: they exist only on the loopback emulator.
type DemoUser struct {
	Username      string
	Password      string
	FullName      string
	Administrator bool // may approve the app for the demo tenant
}

// DemoUsers are the demo tenant's users: an administrator, whose sign-in
// approves the app and hands it the tenant's system user token, and an
// ordinary user, who can sign in but not approve.
var DemoUsers = []DemoUser{
	{Username: "admin@demo.example", Password: "admin-demo", FullName: "Ada Admin", Administrator: true},
	{Username: "user@demo.example", Password: "user-demo", FullName: "Ulf User"},
}

// NewEmulator returns the local-mode emulator at cfg.Environment, with the
// app of cfg registered (client id and secret, system-user rights, the
// public half of cfg.PrivateKey, redirect URL cfg.RedirectURL), the demo
// tenant and DemoUsers. It does no I/O; serve it with an http.Server.
func NewEmulator(cfg *config.Config, opts ...superidtest.Option) (*superidtest.Emulator, error) {
	if cfg == nil || cfg.PrivateKey == nil || cfg.ClientID == "" || cfg.ClientSecret == "" || cfg.RedirectURL == "" {
		return nil, errors.New("local: the configuration needs a client id, client secret, private key and redirect URL")
	}
	em, err := superidtest.New(cfg.Environment.String(), opts...)
	if err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	if err := em.RegisterApp(superidtest.App{
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		Name:         "LocalPartnerApp",
		RedirectURLs: []string{cfg.RedirectURL},
		SystemUser:   true,
		PublicKey:    &cfg.PrivateKey.PublicKey,
	}); err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	if err := em.AddTenant(superidtest.Tenant{
		ContextIdentifier: DemoContextID,
		CompanyName:       DemoCompanyName,
		Serial:            DemoSerial,
	}); err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	for _, u := range DemoUsers {
		if err := em.AddUser(superidtest.User{
			Username:          u.Username,
			Password:          u.Password,
			ContextIdentifier: DemoContextID,
			Administrator:     u.Administrator,
			FullName:          u.FullName,
		}); err != nil {
			return nil, fmt.Errorf("local: %w", err)
		}
	}
	return em, nil
}

// RestoreApprovals tells em about every approval st holds for clientID's
// tenants, so that their stored system user tokens work again after a
// restart. It returns how many it restored; tenants the emulator does not
// know (left over from another setup) are skipped and named in the error,
// which never holds a token.
func RestoreApprovals(ctx context.Context, em *superidtest.Emulator, st *store.Store, clientID string) (int, error) {
	list, err := st.ListTenants(ctx)
	if err != nil {
		return 0, fmt.Errorf("local: restore approvals: %w", err)
	}
	n := 0
	var errs []error
	for _, s := range list {
		t, err := st.Tenant(ctx, s.ContextIdentifier)
		if err != nil {
			errs = append(errs, fmt.Errorf("local: restore approval of %s: %w", s.ContextIdentifier, err))
			continue
		}
		if err := em.RestoreApproval(t.ContextIdentifier, clientID, t.SystemUserToken); err != nil {
			errs = append(errs, fmt.Errorf("local: restore approval of %s: %w", s.ContextIdentifier, err))
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}
