package main

import (
	"context"
	"time"

	"github.com/go-superoffice/superoffice/tenant"
)

// statePath is where SuperOffice POSTs tenant status notifications: the
// app's state change URL is the app's origin followed by this path. In
// local mode main registers it with the emulator; with SuperOffice Online
// the partner registers it for the app in the developer portal.
const statePath = "/superoffice/state"

// notRunningTTL is how long a Suspend or Delete notification holds in the
// store before the console asks the state API again.
const notRunningTTL = 5 * time.Minute

// newStateHandler verifies notifications with SuperID's key set (the one
// the sign-in uses, fetched once), updates the app's own resolver, and
// stores the change for the console (stateChanged).
func (s *Server) newStateHandler() (*tenant.StateChangeHandler, error) {
	return tenant.NewStateChangeHandler(tenant.StateChangeConfig{
		Environment: s.cfg.Environment,
		KeySet:      s.sid.KeySet(),
		Resolver:    s.resolver,
		OnChange:    s.stateChanged,
		Logger:      s.log,
		Now:         s.now,
	})
}

// stateChanged writes a verified change to the store, where the console's
// runs read the tenant's state: a move, upgrade, resume or restore clears
// it (the next run asks the state API, and after a move goes straight to
// the new host), a suspension or deletion stores it for notRunningTTL (the
// next run waits without a request).
func (s *Server) stateChanged(ctx context.Context, c *tenant.StateChange) error {
	s.log.Info("tenant state changed", "context_id", c.ContextIdentifier, "change", c.Type.String())
	return s.store.ApplyStateChange(ctx, c, notRunningTTL)
}
