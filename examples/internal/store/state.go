package store

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/go-superoffice/superoffice/tenant"
)

// stateSet is the part of a fenced write's SET clause that stores the claim's tenant
// state, with its parameters numbered from n: the state as JSON (empty for none) and until
// when it holds. Unlike the ticket it is kept across a re-approval (where a tenant lives
// does not depend on its token), but not across a deactivation.
func stateSet(n int) string {
	return `, state_json = $` + strconv.Itoa(n) + `, state_until = $` + strconv.Itoa(n+1)
}

// stateArgs are the parameters of stateSet for claim c.
func stateArgs(c Claim) []any {
	if c.State == nil || c.StateUntil.IsZero() {
		return []any{"", int64(0)}
	}
	b, err := json.Marshal(c.State)
	if err != nil { // a State is plain strings, bools and a time: cannot happen
		return []any{"", int64(0)}
	}
	return []any{string(b), micros(c.StateUntil)}
}

// openState reads a stored state; nil when there is none, or it does not decode or is
// another tenant's (it is then looked up again, and the run's write replaces it).
func (s *Store) openState(ctx context.Context, contextID, js string, until int64) (*tenant.State, time.Time) {
	if js == "" || until == 0 {
		return nil, time.Time{}
	}
	var st tenant.State
	if err := json.Unmarshal([]byte(js), &st); err != nil || !strings.EqualFold(st.ContextIdentifier, contextID) {
		s.log.LogAttrs(ctx, slog.LevelWarn, "store: stored tenant state does not decode or is another tenant's; it will be looked up",
			slog.String("context_id", contextID))
		return nil, time.Time{}
	}
	return &st, fromMicros(until)
}

// ApplyStateChange stores what a verified tenant status notification
// (tenant.StateChangeHandler's OnChange) says about the tenant, so that
// the console's next run, by any instance, acts on it:
//
//   - Move, BackupRestored, Upgrade and Resume clear the stored state: the
//     next run asks the state API where the tenant is (after a Move it
//     goes straight to the new host, with no 421 from the old one);
//   - Suspend and Delete store the tenant as Suspended or Deleted until
//     ttl from now, so that a run within that time waits without a
//     request; after it, the state API is asked again. ttl <= 0 means 5
//     minutes. A notification is no proof (its token can be replayed
//     until it expires), so the state API keeps the last word.
//
// A run in flight when the notification arrives stores the state it ends
// with, which replaces this one. An unknown tenant is no error: there is
// nothing to update.
func (s *Store) ApplyStateChange(ctx context.Context, c *tenant.StateChange, ttl time.Duration) error {
	op := "apply state change"
	if c == nil {
		return invalid(op, "no change")
	}
	key, err := tenantKey(op, c.ContextIdentifier)
	if err != nil {
		return err
	}
	op += " " + c.ContextIdentifier
	if ttl <= 0 {
		ttl = 5 * time.Minute
	}
	var name tenant.StateName
	switch c.Type {
	case tenant.ChangeSuspend:
		name = tenant.StateSuspended
	case tenant.ChangeDelete:
		name = tenant.StateDeleted
	case tenant.ChangeMove, tenant.ChangeBackupRestored, tenant.ChangeUpgrade, tenant.ChangeResume:
		_, err := s.db.ExecContext(ctx, `UPDATE tenants SET state_json = '', state_until = 0 WHERE context_key = $1`, key)
		return wrap(op, err)
	default:
		return invalid(op, "unknown change %s", c.Type)
	}
	until := s.now().Add(ttl)
	b, err := json.Marshal(tenant.State{ContextIdentifier: c.ContextIdentifier, State: name, ValidUntil: until})
	if err != nil { // plain strings and a time: cannot happen
		return wrap(op, err)
	}
	_, err = s.db.ExecContext(ctx, `UPDATE tenants SET state_json = $2, state_until = $3 WHERE context_key = $1`,
		key, string(b), micros(until))
	return wrap(op, err)
}
