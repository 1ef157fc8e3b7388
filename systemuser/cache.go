package systemuser

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-superoffice/superoffice/internal/flight"
	"github.com/go-superoffice/superoffice/superid"
)

// TicketSource returns the TicketSource of one tenant: it exchanges the
// tenant's system user token only when it holds no live ticket, and shares
// that one exchange among every goroutine that asks meanwhile. A ticket is
// handed out until it has been idle (not asked for) for the ticket
// lifetime less Config.RenewBefore; SuperOffice slides its six-hour life on
// every use, so a busy ticket lives on. After a 401 from the tenant API,
// call Invalidate (or InvalidateTicket with the ticket that failed) to get
// a new one.
//
// Calls with the same context identifier and token (and options) return
// the same source, so that tenant clients created at different places
// still share one ticket. A new token for the tenant (after a new
// approval) replaces its source.
//
// Ticket fails as Exchange does; for input that cannot be right (a
// context identifier that is not CustNNNNN, an empty token) every call
// returns ErrInvalidArgument, and nothing is sent. The *Ticket that Ticket
// returns is shared; do not modify it.
func (c *Client) TicketSource(contextID, systemUserToken string, opts ...ExchangeOption) TicketSource {
	switch {
	case c == nil || c.sources == nil:
		return errSource{errNotNew}
	case !superid.ValidContextIdentifier(contextID):
		// Checked here, so that no error of the source ever quotes a
		// value that may be a swapped system user token.
		return errSource{errContextID}
	case systemUserToken == "":
		return errSource{errEmptyToken}
	}
	var o exchangeOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	key := strings.ToLower(contextID)
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.sources[key]; s != nil && strings.EqualFold(s.contextID, contextID) && s.token == systemUserToken && s.opts == o {
		return s
	}
	s := &cachedSource{c: c, contextID: contextID, token: systemUserToken, opts: o}
	c.sources[key] = s
	return s
}

// errSource is the TicketSource of a request that cannot succeed: every
// Ticket call returns its error, and nothing is exchanged.
type errSource struct{ err error }

func (s errSource) Ticket(context.Context) (*Ticket, error) { return nil, s.err }
func (s errSource) Invalidate()                             {}

// cachedSource is the TicketSource of one tenant. Its hot path is one
// atomic load, one clock read and (at most once a second) one atomic
// store, so that a cached hit neither locks nor allocates.
type cachedSource struct {
	c         *Client
	contextID string
	token     string
	opts      exchangeOptions

	cur    atomic.Pointer[cachedTicket]
	flight flight.Group[*Ticket] // the exchange every caller without a live ticket waits for
}

type cachedTicket struct {
	t       *Ticket
	lastUse atomic.Int64 // Client.elapsed at the last hand-out
}

var _ TicketSource = (*cachedSource)(nil)

// lastUseGranularity is how stale lastUse may get: writing it on every hit
// would make every core fight over one cache line for nothing.
const lastUseGranularity = int64(1e9)

// Ticket returns the tenant's ticket, exchanging for one when there is
// none or it has idled too long. The exchange is shared by every caller
// that asks meanwhile, under internal/flight's rule: a caller whose ctx
// ends returns at once with its ctx's error; the exchange goes on,
// bounded by Config.ExchangeTimeout, for the others and the cache.
func (s *cachedSource) Ticket(ctx context.Context) (*Ticket, error) {
	if ctx == nil {
		return nil, errNilContext
	}
	if t := s.live(); t != nil {
		return t, nil
	}
	t, err := s.flight.Do(ctx, "", s.exchange)
	if err != nil && err == ctx.Err() {
		return nil, fmt.Errorf("systemuser: waiting for a ticket for %s: %w", s.contextID, err)
	}
	return t, err
}

// live returns the current ticket, recording the hand-out, while it has
// idled less than the reuse window, and nil otherwise.
func (s *cachedSource) live() *Ticket {
	e := s.cur.Load()
	if e == nil {
		return nil
	}
	now := s.c.elapsed()
	last := e.lastUse.Load()
	if now-last >= int64(s.c.reuseFor) {
		return nil
	}
	if now-last > lastUseGranularity {
		e.lastUse.CompareAndSwap(last, now)
	}
	return e.t
}

// exchange is the flight's fetch: ctx is detached from the callers', so
// ExchangeTimeout bounds it. The ticket it gets is cached before the
// flight ends, so that a caller who comes after the flight finds it.
func (s *cachedSource) exchange(ctx context.Context) (*Ticket, error) {
	// A flight that ended between a caller's look at the cache and its
	// Do may have left a fresh ticket; exchanging again would waste one.
	if t := s.live(); t != nil {
		return t, nil
	}
	xctx, cancel := context.WithTimeout(ctx, s.c.xchTimeout)
	defer cancel()
	t, err := s.c.exchange(xctx, s.contextID, s.token, s.opts)
	if err != nil {
		var e *Error
		if xctx.Err() != nil && errors.As(err, &e) && e.kind == nil {
			// ctx cannot end (it is detached): ExchangeTimeout ran out, so
			// SuperID did not answer in time. Exchange leaves that
			// kind-less, as its caller's deadline; here the waiters' ctx
			// are live.
			e.kind = ErrUnavailable
		}
		return nil, err
	}
	e := &cachedTicket{t: t}
	e.lastUse.Store(s.c.elapsed())
	s.cur.Store(e)
	return t, nil
}

// Invalidate drops the current ticket, so that the next Ticket call
// exchanges for a new one. When many requests may fail with the same
// ticket at once, InvalidateTicket is better: it cannot drop the new ticket
// that another goroutine has already fetched.
func (s *cachedSource) Invalidate() { s.cur.Store(nil) }

// InvalidateTicket drops t if it is still the current ticket, and does
// nothing otherwise (a newer ticket has replaced it already).
func (s *cachedSource) InvalidateTicket(t *Ticket) {
	if e := s.cur.Load(); e != nil && e.t == t {
		s.cur.CompareAndSwap(e, nil)
	}
}

// ReuseWindow is how long a ticket may go unused and still be handed out:
// Config.TicketLifetime less Config.RenewBefore, as the TicketSource of
// this package judges its tickets. It is for a partner whose service runs
// on several processes and keeps each tenant's ticket where they all see
// it (a database, as the example console does), since a ticket cached in
// one process is of no use to the others: that TicketSource reuses a
// stored ticket while it has idled less than ReuseWindow, and exchanges
// otherwise, by the same rule and Config as this one. It is 0 for a
// Client not made by New.
func (c *Client) ReuseWindow() time.Duration {
	if c == nil {
		return 0
	}
	return c.reuseFor
}
