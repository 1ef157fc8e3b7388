package store

import (
	"context"
	"log/slog"
	"strconv"
	"time"
)

// ticketColumn names the sealed ticket in the additional data of its seal, so that a
// sealed ticket does not open as a token, nor a token as a ticket.
const ticketColumn = "ticket"

// Ticket is a tenant's current system user ticket as the store keeps it: sealed at rest
// and bound to its row, so that every console instance that claims the tenant reuses it
// for its sliding six-hour life instead of exchanging the token again. A re-approval and
// a deactivation drop it.
type Ticket struct {
	// Value is the ticket, a credential: left out of JSON, String and LogValue.
	Value string `json:"-"`
	// IssuedAt is when the exchange returned it.
	IssuedAt time.Time
	// LastUsed is when a run last used it: SuperOffice's six-hour life slides from each
	// use, so a ticket idle for less than that (less a margin) is still good.
	LastUsed time.Time
}

// String describes the ticket without its value.
func (t Ticket) String() string {
	return "ticket issued " + t.IssuedAt.UTC().Format(time.RFC3339) + ", last used " + t.LastUsed.UTC().Format(time.RFC3339)
}

// GoString is String, so that %#v cannot print the value either.
func (t Ticket) GoString() string { return t.String() }

// LogValue logs the ticket's times only.
func (t Ticket) LogValue() slog.Value {
	return slog.GroupValue(slog.Time("issued_at", t.IssuedAt), slog.Time("last_used", t.LastUsed))
}

// openTicket opens a stored ticket; nil when there is none. A ticket that does not open
// (another seal key, a value copied from another row) is as good as none: the worker
// exchanges for a new one, and its write replaces the broken value. It is logged, without
// the value, since it means the table was tampered with or the key changed.
func (s *Store) openTicket(ctx context.Context, key, contextID string, sealed []byte, issued, used int64) *Ticket {
	if len(sealed) == 0 {
		return nil
	}
	v, err := s.seal.open(sealed, tenantsTable, ticketColumn, key)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "store: stored ticket does not open; a new one will be exchanged",
			slog.String("context_id", contextID))
		return nil
	}
	return &Ticket{Value: string(v), IssuedAt: fromMicros(issued), LastUsed: fromMicros(used)}
}

// ticketSet is the part of a fenced write's SET clause that stores the claim's ticket,
// with its parameters numbered from n: the claim's approval count, the sealed ticket (NULL
// for none), its issue time and its last use. A tenant re-approved since the claim keeps
// what the approval left (no ticket): a ticket of the old token must not outlive it.
func ticketSet(n int) string {
	a, v, i, u := "$"+strconv.Itoa(n), "$"+strconv.Itoa(n+1), "$"+strconv.Itoa(n+2), "$"+strconv.Itoa(n+3)
	return `, ticket = CASE WHEN approvals = ` + a + ` THEN ` + v + ` ELSE ticket END,
		ticket_issued_at = CASE WHEN approvals = ` + a + ` THEN ` + i + ` ELSE ticket_issued_at END,
		ticket_used_at   = CASE WHEN approvals = ` + a + ` THEN ` + u + ` ELSE ticket_used_at END`
}

// ticketArgs are the parameters of ticketSet for claim c, whose tenant key is key; t is
// the ticket to store (nil drops it).
func (s *Store) ticketArgs(key string, c Claim, t *Ticket) []any {
	if t == nil || t.Value == "" {
		return []any{c.Approvals, nil, int64(0), int64(0)}
	}
	return []any{c.Approvals, s.seal.seal([]byte(t.Value), tenantsTable, ticketColumn, key), micros(t.IssuedAt), micros(t.LastUsed)}
}
