package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/examples/internal/local"
	"github.com/go-superoffice/superoffice/examples/internal/store"
	"github.com/go-superoffice/superoffice/superid/superidtest"
	"github.com/go-superoffice/superoffice/tenant"
)

// stateHarness is the harness with the demo tenant approved, a state
// stored for it (as a console run leaves one) and the app's state change
// URL registered with the emulator, as local mode does.
func stateHarness(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t, harnessOptions{})
	ctx := context.Background()
	require.NoError(t, h.st.UpsertTenant(ctx, store.Approval{ContextIdentifier: local.DemoContextID, SystemUserToken: "token"}))
	require.NoError(t, h.em.SetStateChangeURL(h.cfg.ClientID, stateChangeURL(h.cfg.RedirectURL), nil))
	assert.Equal(t, h.appURL+statePath, stateChangeURL(h.cfg.RedirectURL))
	// The state a run stored: running at the tenant's host until an hour
	// from now.
	until := time.Now().Add(time.Hour)
	_, err := h.st.DB().ExecContext(ctx, `UPDATE tenants SET state_json = $1, state_until = $2`,
		`{"ContextIdentifier":"`+local.DemoContextID+`","State":"Running","IsRunning":true,"Api":"`+h.cfg.Environment.String()+`/`+local.DemoContextID+`/api"}`,
		until.UnixMicro())
	require.NoError(t, err)
	st, _ := storedState(t, h)
	require.NotNil(t, st, "the seeded state")
	return h
}

// storedState is the demo tenant's state as the console's next claim gets it.
func storedState(t *testing.T, h *harness) (*tenant.State, time.Time) {
	t.Helper()
	ctx := context.Background()
	claims, err := h.st.ClaimDue(ctx, "test", time.Now(), time.Minute, 10)
	require.NoError(t, err)
	require.Len(t, claims, 1)
	require.NoError(t, h.st.Release(ctx, claims[0]))
	return claims[0].State, claims[0].StateUntil
}

// lastNotification is the emulator's last notification, which must have
// been answered 200.
func lastNotification(t *testing.T, h *harness) superidtest.Notification {
	t.Helper()
	ns := h.em.Notifications()
	require.NotEmpty(t, ns)
	n := ns[len(ns)-1]
	require.Equal(t, http.StatusOK, n.Status, n.Err)
	return n
}

// A Move clears the stored state, so that the console's next run asks the
// state API where the tenant now is instead of meeting a 421 at the old
// host; so do Upgrade, BackupRestored and Resume.
func TestStateChangeMoveClearsStoredState(t *testing.T) {
	h := stateHarness(t)
	require.NoError(t, h.em.MoveTenant(local.DemoContextID))
	n := lastNotification(t, h)
	assert.Equal(t, superidtest.StateChangeMove, n.Change)
	assert.Equal(t, h.appURL+statePath, n.URL)
	st, until := storedState(t, h)
	assert.Nil(t, st, "the stored state was not cleared")
	assert.True(t, until.IsZero())
	assert.Contains(t, h.log.String(), "change=Move")

	for _, c := range []superidtest.StateChange{superidtest.StateChangeUpgrade, superidtest.StateChangeBackupRestored, superidtest.StateChangeResume} {
		require.NoError(t, h.em.NotifyStateChange(local.DemoContextID, superidtest.StateChangeSuspend))
		st, _ := storedState(t, h)
		require.NotNil(t, st)
		require.NoError(t, h.em.NotifyStateChange(local.DemoContextID, c))
		lastNotification(t, h)
		st, _ = storedState(t, h)
		assert.Nil(t, st, "%d did not clear the stored state", c)
	}
}

// A Suspend stores the tenant as Suspended for a few minutes, so that the
// console's next run waits without a request; a Delete stores Deleted.
func TestStateChangeSuspendStoresState(t *testing.T) {
	h := stateHarness(t)
	before := time.Now()
	require.NoError(t, h.em.SetTenantState(local.DemoContextID, "Suspended"))
	assert.Equal(t, superidtest.StateChangeSuspend, lastNotification(t, h).Change)
	st, until := storedState(t, h)
	require.NotNil(t, st)
	assert.Equal(t, tenant.StateSuspended, st.State)
	assert.False(t, st.Running())
	assert.True(t, strings.EqualFold(local.DemoContextID, st.ContextIdentifier))
	assert.WithinRange(t, until, before.Add(notRunningTTL), time.Now().Add(notRunningTTL))
	assert.Equal(t, until, st.ValidUntil.Truncate(time.Microsecond))

	require.NoError(t, h.em.SetTenantState(local.DemoContextID, "Deleted"))
	assert.Equal(t, superidtest.StateChangeDelete, lastNotification(t, h).Change)
	st, _ = storedState(t, h)
	require.NotNil(t, st)
	assert.Equal(t, tenant.StateDeleted, st.State)
}

// A notification whose token SuperID did not sign changes nothing.
func TestStateChangeRefusesUnsigned(t *testing.T) {
	h := stateHarness(t)
	body := `{"ChangeType":5,"ContextIdentifier":"` + local.DemoContextID + `","Token":"not.a.token"}`
	resp, err := http.Post(h.appURL+statePath, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	st, _ := storedState(t, h)
	assert.NotNil(t, st, "an unsigned notification cleared the state")
}
