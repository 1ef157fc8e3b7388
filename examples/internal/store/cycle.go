package store

import (
	"context"
	"database/sql"
	"log/slog"
	"sort"
	"strings"
	"time"
)

// ClaimDueBy is ClaimDue for one cycle of work: it claims only tenants that were due by
// dueBy (the cycle's start), while leases are judged, and granted, at now. A tenant that
// the cycle rescheduled (a transient error, a backoff of a second) is then not claimed
// again in the same cycle, however long the cycle runs, so that a cycle ends.
//
// deactivated counts the due tenants it made inactive instead of returning, as their
// stored token did not open (see ClaimDue): the cycle did end their run, and should say so.
func (s *Store) ClaimDueBy(ctx context.Context, owner string, now, dueBy time.Time, lease time.Duration, limit int) (claims []Claim, deactivated int, err error) {
	const op = "claim"
	switch {
	case owner == "":
		return nil, 0, invalid(op, "empty owner")
	case lease <= 0:
		return nil, 0, invalid(op, "lease must be positive")
	case limit <= 0:
		return nil, 0, invalid(op, "limit must be positive")
	}
	if limit > maxClaim {
		limit = maxClaim
	}
	if now.IsZero() {
		now = s.now()
	}
	if dueBy.IsZero() || dueBy.After(now) {
		dueBy = now
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, 0, wrap(op, err)
	}
	defer tx.Rollback()
	rows, err := tx.StmtContext(ctx, s.claim).QueryContext(ctx, owner, micros(now.Add(lease)), micros(now), limit, micros(dueBy))
	if err != nil {
		return nil, 0, wrap(op, err)
	}
	claims, deactivated, err = s.scanClaims(ctx, tx, rows, owner, now, limit)
	if err != nil {
		return nil, 0, wrap(op, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, 0, wrap(op, err)
	}
	// RETURNING has no order; keep the documented one.
	sort.Slice(claims, func(i, j int) bool {
		return strings.ToLower(claims[i].ContextIdentifier) < strings.ToLower(claims[j].ContextIdentifier)
	})
	return claims, deactivated, nil
}

// scanClaims reads the rows a claim statement returned (claimReturning) into claims for
// owner, opening each token, ticket and state. A tenant whose token does not open is not
// returned but counted in deactivated: within tx it is made inactive with that reason
// (its ticket dropped), so that it is not claimed in a loop; a re-approval brings it
// back. It closes rows.
func (s *Store) scanClaims(ctx context.Context, tx *sql.Tx, rows *sql.Rows, owner string, now time.Time, limit int) ([]Claim, int, error) {
	claims := make([]Claim, 0, min(limit, maxClaim))
	var broken []string
	for rows.Next() {
		var c Claim
		var key string
		var sealed, ticket []byte
		var state string
		var lastSync, leaseUntil, ticketIssued, ticketUsed, stateUntil int64
		if err := rows.Scan(&key, &c.ContextIdentifier, &sealed, &c.Serial, &c.WebAPIURL, &c.CompanyName,
			&c.Attempts, &lastSync, &c.Fence, &leaseUntil, &c.Approvals, &ticket, &ticketIssued, &ticketUsed,
			&state, &stateUntil); err != nil {
			rows.Close()
			return nil, 0, err
		}
		tok, err := s.seal.open(sealed, tenantsTable, tokenColumn, key)
		if err != nil {
			broken = append(broken, key)
			s.log.LogAttrs(ctx, slog.LevelWarn, "store: system user token does not open; tenant deactivated until re-approved",
				slog.String("context_id", c.ContextIdentifier))
			continue
		}
		c.SystemUserToken = string(tok)
		c.Ticket = s.openTicket(ctx, key, c.ContextIdentifier, ticket, ticketIssued, ticketUsed)
		c.State, c.StateUntil = s.openState(ctx, c.ContextIdentifier, state, stateUntil)
		c.LastSync, c.LeaseUntil, c.Owner = fromMicros(lastSync), fromMicros(leaseUntil), owner
		claims = append(claims, c)
	}
	if err := rows.Close(); err != nil {
		return nil, 0, err
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	for _, key := range broken {
		if _, err := tx.ExecContext(ctx, `UPDATE tenants SET status = 'inactive', status_reason = $2,
			last_outcome = 'failed', last_error = $2, last_run = $3, lease_owner = '', lease_until = 0,
			ticket = NULL, ticket_issued_at = 0, ticket_used_at = 0
			WHERE context_key = $1`, key, "stored system user token does not open (seal key changed?); re-approve the app", micros(now)); err != nil {
			return nil, 0, err
		}
	}
	return claims, len(broken), nil
}
