package systemuser

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"

	"golang.org/x/sync/singleflight"
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
// The *Ticket that Ticket returns is shared; do not modify it.
func (c *Client) TicketSource(contextID, systemUserToken string, opts ...ExchangeOption) TicketSource {
	var o exchangeOptions
	for _, opt := range opts {
		opt(&o)
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

// cachedSource is the TicketSource of one tenant. Its hot path is one
// atomic load, one clock read and (at most once a second) one atomic
// store, so that a cached hit neither locks nor allocates.
type cachedSource struct {
	c         *Client
	contextID string
	token     string
	opts      exchangeOptions

	cur    atomic.Pointer[cachedTicket]
	flight singleflight.Group
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
// none or it has idled too long. Waiting for an exchange ends with ctx; the
// exchange itself goes on for the other waiters and the cache.
func (s *cachedSource) Ticket(ctx context.Context) (*Ticket, error) {
	if e := s.cur.Load(); e != nil {
		now := s.c.elapsed()
		last := e.lastUse.Load()
		if now-last < int64(s.c.reuseFor) {
			if now-last > lastUseGranularity {
				e.lastUse.CompareAndSwap(last, now)
			}
			return e.t, nil
		}
	}
	return s.refresh(ctx)
}

func (s *cachedSource) refresh(ctx context.Context) (*Ticket, error) {
	ch := s.flight.DoChan("", func() (any, error) {
		now := s.c.elapsed()
		// A flight that ended between our Load and DoChan may have left a
		// fresh ticket; exchanging again would waste a ticket.
		if e := s.cur.Load(); e != nil && now-e.lastUse.Load() < int64(s.c.reuseFor) {
			return e.t, nil
		}
		xctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.c.xchTimeout)
		defer cancel()
		t, err := s.c.exchange(xctx, s.contextID, s.token, s.opts)
		if err != nil {
			return nil, err
		}
		e := &cachedTicket{t: t}
		e.lastUse.Store(s.c.elapsed())
		s.cur.Store(e)
		return t, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*Ticket), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("systemuser: waiting for a ticket for %s: %w", s.contextID, ctx.Err())
	}
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
