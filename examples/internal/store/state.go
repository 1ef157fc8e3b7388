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
