package store

import (
	"context"
	"time"
)

// completeSQL is CompleteSuccesses' statement, prepared by Open.
var completeSQL = `UPDATE tenants SET last_run = $4, last_sync = $4, last_outcome = 'ok',
	last_result = $5, last_error = '', attempts = 0, next_run = $6, lease_owner = '', lease_until = 0` +
	ticketSet(7) + stateSet(11) + fenceWhere

// Success is one successful run, for CompleteSuccesses.
type Success struct {
	Claim   Claim
	At      time.Time // when the run ended; zero means the store's clock
	NextRun time.Time // required
	Summary string
}

// CompleteSuccesses records many successful runs in one transaction, each exactly as
// Complete with a Result without Err would, fenced by its own claim, storing its
// claim's Ticket and State and deleting its run intents. A busy console
// spends most of its database time committing one small write per tenant; this makes
// that one commit per batch. It returns one error per item,
// nil or ErrLeaseLost (that item wrote nothing, the others are written), or a non-nil
// second value when the transaction as a whole failed: then nothing was written.
func (s *Store) CompleteSuccesses(ctx context.Context, items []Success) ([]error, error) {
	const op = "complete"
	errs := make([]error, len(items))
	keys := make([]string, len(items))
	for i, it := range items {
		key, err := tenantKey(op, it.Claim.ContextIdentifier)
		if err != nil {
			return nil, err
		}
		switch {
		case it.Claim.Owner == "":
			return nil, invalid(op+" "+it.Claim.ContextIdentifier, "claim has no owner")
		case it.NextRun.IsZero():
			return nil, invalid(op+" "+it.Claim.ContextIdentifier, "result has no next run")
		}
		keys[i] = key
	}
	if len(items) == 0 {
		return errs, nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer tx.Rollback()
	stmt := tx.StmtContext(ctx, s.complete)
	for i, it := range items {
		at := it.At
		if at.IsZero() {
			at = s.now()
		}
		args := append([]any{keys[i], it.Claim.Owner, it.Claim.Fence, micros(at), text(it.Summary), micros(it.NextRun)},
			s.ticketArgs(keys[i], it.Claim, it.Claim.Ticket)...)
		args = append(args, stateArgs(it.Claim)...)
		res, err := stmt.ExecContext(ctx, args...)
		if err != nil {
			return nil, wrap(op+" "+it.Claim.ContextIdentifier, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, wrap(op+" "+it.Claim.ContextIdentifier, err)
		}
		if n == 0 {
			errs[i] = wrap(op+" "+it.Claim.ContextIdentifier, ErrLeaseLost)
			continue
		}
		// The run's intents end with its recorded success, in this transaction
		// (see RecordIntent).
		if _, err := tx.StmtContext(ctx, s.clearIntents).ExecContext(ctx, keys[i]); err != nil {
			return nil, wrap(op+" "+it.Claim.ContextIdentifier, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, wrap(op, err)
	}
	return errs, nil
}
