package worker

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/go-superoffice/superoffice/examples/internal/store"
	"github.com/go-superoffice/superoffice/systemuser"
)

// runTickets is the TicketSource of one run: the ticket the claim brought
// from the store while it is fresh, else one exchange, shared by every
// request of the run. What it ends with (Stored) goes back to the store
// with the run's result, so that whichever instance claims the tenant next
// reuses the ticket, and nothing of it stays in this process.
type runTickets struct {
	su        *systemuser.Client
	contextID string
	token     string
	now       func() time.Time
	reuse     time.Duration // systemuser.Client.ReuseWindow
	timeout   time.Duration // bounds an exchange: the run's JobTimeout

	mu     sync.Mutex
	cur    *systemuser.Ticket // nil: none, or refused (Invalidate)
	issued time.Time          // cur's exchange
	used   time.Time          // cur's last hand-out
	flight *runFlight         // the exchange under way; nil when none
}

// runFlight is one exchange and its waiters: done is closed once t and err
// are set. It runs on the goroutine of the caller that starts it (one
// started for it would grow a fresh stack through RSA and net/http, for
// every tenant); gone: that caller gave up first, so those waiting ask
// again rather than fail with its cancellation.
type runFlight struct {
	done chan struct{}
	t    *systemuser.Ticket
	err  error
	gone bool
}

var _ systemuser.TicketSource = (*runTickets)(nil)

// testHookWait, set only by tests before any run starts, is called by a
// caller of Ticket that is about to wait for another caller's exchange.
var testHookWait func()

func (w *Worker) tickets(cl store.Claim) *runTickets {
	r := &runTickets{su: w.cfg.SystemUser, contextID: cl.ContextIdentifier, token: cl.SystemUserToken,
		now: w.clock, reuse: w.cfg.SystemUser.ReuseWindow(), timeout: w.cfg.JobTimeout}
	if t := cl.Ticket; t != nil && t.Value != "" {
		r.cur = &systemuser.Ticket{Value: t.Value, ContextIdentifier: cl.ContextIdentifier, IssuedAt: t.IssuedAt}
		r.issued, r.used = t.IssuedAt, t.LastUsed
	}
	return r
}

// Ticket returns the stored ticket while it has been idle for less than
// the system user client's ReuseWindow, else exchanges the token for a new
// one. Waiting for an exchange ends with ctx.
func (r *runTickets) Ticket(ctx context.Context) (*systemuser.Ticket, error) {
	r.mu.Lock()
	now := r.now()
	if r.cur != nil && now.Sub(r.used) < r.reuse {
		if now.After(r.used) {
			r.used = now
		}
		t := r.cur
		r.mu.Unlock()
		return t, nil
	}
	r.cur = nil // idled out: whatever happens next, it is not to be stored again
	if f := r.flight; f != nil {
		r.mu.Unlock()
		if testHookWait != nil {
			testHookWait()
		}
		select {
		case <-f.done:
			if f.gone {
				return r.Ticket(ctx)
			}
			return f.t, f.err
		case <-ctx.Done():
			return nil, fmt.Errorf("worker: waiting for a ticket for %s: %w", r.contextID, ctx.Err())
		}
	}
	f := &runFlight{done: make(chan struct{})}
	r.flight = f
	r.mu.Unlock()
	r.exchange(ctx, f)
	return f.t, f.err
}

// exchange runs flight f, bounded by JobTimeout as a run is.
func (r *runTickets) exchange(ctx context.Context, f *runFlight) {
	xctx, cancel := context.WithTimeout(ctx, r.timeout)
	f.t, f.err = r.su.Exchange(xctx, r.contextID, r.token)
	cancel()
	f.gone = f.err != nil && ctx.Err() != nil
	r.mu.Lock()
	if f.err == nil {
		now := r.now()
		r.cur, r.issued, r.used = f.t, now, now
	}
	r.flight = nil
	r.mu.Unlock()
	close(f.done)
}

// Invalidate drops the ticket after the tenant refused it (401): the next
// Ticket exchanges, and if none does, the stored one is dropped too.
func (r *runTickets) Invalidate() {
	r.mu.Lock()
	r.cur = nil
	r.mu.Unlock()
}

// InvalidateTicket drops t if it is still the current ticket, so that a
// late 401 on it cannot throw away its replacement.
func (r *runTickets) InvalidateTicket(t *systemuser.Ticket) {
	r.mu.Lock()
	if r.cur == t {
		r.cur = nil
	}
	r.mu.Unlock()
}

// stored is the ticket to store with the run's end: the live one with its
// last use, or nil when there is none (never exchanged, refused, or the
// exchange failed). An exchange still in flight (the run was cut short) is
// not waited for.
func (r *runTickets) stored() *store.Ticket {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur == nil {
		return nil
	}
	return &store.Ticket{Value: r.cur.Value, IssuedAt: r.issued, LastUsed: r.used}
}
